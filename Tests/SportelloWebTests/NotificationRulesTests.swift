import Foundation
import Testing
import SportelloApplication
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

/// Notification rules end to end: usage arrives (an import), crosses a Giga Share level, the event is recorded and
/// dispatched, the rules queue an SMS and an e-mail, and the workers hand them to the real SMS sink and SMTP sink.
@Suite("Notification rules end to end (SMS sink, SMTP sink)", .serialized, .enabled(if: SMSSink.isAvailable))
struct NotificationRulesEndToEndTests {
    /// A number of our own in the shared sink.
    static func phone() -> String { "333" + String(format: "%07d", Int.random(in: 0..<10_000_000)) }

    /// WINDTRE with the Giga Share rule also e-mailing the customer's users (the repository's rule only sends the SMS).
    static func windtreWithEmail() throws -> TenantDefinition {
        var definition = try provider("windtre")
        var rules = try #require(definition.notifications)
        var giga = try #require(rules["giga_share_threshold"])
        giga.channels = [.portal, .sms, .email]
        giga.recipients = ["package_referent", "users"]
        rules["giga_share_threshold"] = giga
        definition.notifications = rules
        return definition
    }

    struct Fixture {
        var customerId: Int64
        var adminEmail: String
        var managerEmail: String
        var referent: String
    }

    /// A customer with a Giga Share package of 1 Giga (two SIMs), its User Admin and a Telco Manager (with `managerChoices`).
    static func fixture(_ portal: PortalHarness, managerEmailOn: Bool = true, smsOn: Bool = true) async throws -> Fixture {
        let account = try await portal.eventAccount(role: "user_admin")
        let referent = phone()
        let managerEmail = uniqueEmail("tm")
        let adminEmail = try await portal.database.write(tenant: portal.definition.id, now: portal.eventNow) { transaction in
            let contract = try await transaction.insertContract(ContractRecord(customerId: account.customerId, code: "NR-K", offer: "Giga Share",
                                                                               kind: "mobile", startsOn: "2025-01-01"))
            let plan = try await transaction.insertSharePlan(SharePlanRecord(
                customerId: account.customerId, contractId: contract, code: "GSS-NR", packageCode: "GSS-1", packageTitle: "Giga Share 1",
                gigaAllowance: 1, referentPhone: referent, activatedOn: "2025-01-01", updatedAt: 0))
            for (external, number) in [("NR-L1", phone()), ("NR-L2", phone())] {
                let line = try await transaction.insertLine(LineRecord(externalId: external, customerId: account.customerId, contractId: contract,
                                                                       kind: "sim", identifier: number))
                try await transaction.setSharePlan(lineId: line, customerId: account.customerId, sharePlanId: plan)
            }
            let manager = try await transaction.insertUser(UserRecord(customerId: account.customerId, username: "tm.\(UUID().uuidString.prefix(6))",
                                                                      usernameKey: "tm.\(UUID().uuidString.prefix(6))", email: managerEmail,
                                                                      passwordHash: nil, role: "telco_manager", createdAt: 0))
            if !managerEmailOn {
                try await transaction.setNotificationPreference(NotificationPreferenceRecord(userId: manager, rule: "giga_share_threshold",
                                                                                             channel: "email", enabled: false, threshold: nil))
            }
            if !smsOn {
                for user in [account.userId, manager] {
                    try await transaction.setNotificationPreference(NotificationPreferenceRecord(userId: user, rule: "giga_share_threshold",
                                                                                                 channel: "sms", enabled: false, threshold: nil))
                }
            }
            return try #require(try await transaction.user(id: account.userId, customerId: account.customerId)?.email)
        }
        return Fixture(customerId: account.customerId, adminEmail: adminEmail, managerEmail: managerEmail, referent: referent)
    }

    /// 850 MB of the package's 1 Giga this month: past 80 %, not 100 %.
    static func importUsage(_ portal: PortalHarness, prefix: String = "NR") async throws {
        let rows = [("\(prefix)-U1", "NR-L1", 500_000_000), ("\(prefix)-U2", "NR-L2", 350_000_000)].map { id, line, bytes in
            "{\"type\":\"usage\",\"external_id\":\"\(id)\",\"line\":\"\(line)\",\"started_at\":\"2026-11-15 10:00:00\",\"kind\":\"data\",\"volume_bytes\":\(bytes)}"
        }
        let importer = Importer(database: portal.database, tenant: portal.definition)
        _ = try await importer.importData(Data(rows.joined(separator: "\n").utf8), format: .jsonLines, kind: nil, now: portal.eventNow)
    }

    static func consumer(_ portal: PortalHarness, sms: SMSGateways) -> NotificationRulesConsumer {
        NotificationRulesConsumer(database: portal.database, tenants: portal.services.tenants, mail: portal.services.mail, sms: sms,
                                  clock: portal.clock)
    }

    static func dispatcher(_ portal: PortalHarness, consumer: NotificationRulesConsumer) -> EventDispatcher {
        let tenant = portal.definition.id
        return EventDispatcher(database: portal.database, consumers: [consumer], tenants: { [tenant] }, clock: portal.clock)
    }

    static func smsWorker(_ portal: PortalHarness, sms: SMSGateways) -> SMSDeliveryWorker {
        let tenant = portal.definition.id
        return SMSDeliveryWorker(database: portal.database, gateways: sms, tenants: { [tenant] }, clock: portal.clock)
    }

    @Test("usage crosses 80 %: an SMS to the package referent in the sink and an e-mail to the users who keep it on, in Italian; a redelivered event sends nothing more",
          arguments: TestEngine.available)
    func crossingSendsSMSAndMail(engine: TestEngine) async throws {
        let sms = try SMSSink.gateways()
        let portal = try await PortalHarness(engine: engine, tenant: "windtre", definition: try Self.windtreWithEmail())
        defer { Task { await portal.close() } }
        let fixture = try await Self.fixture(portal, managerEmailOn: false)
        try await Self.importUsage(portal)
        let consumer = Self.consumer(portal, sms: sms)
        let report = await Self.dispatcher(portal, consumer: consumer).deliverDue()
        #expect(report.delivered.count == 1 && report.dead.isEmpty && report.deferred.isEmpty, "\(report)")

        let queued = try await portal.database.read(tenant: portal.definition.id) { try await $0.smsOutbox() }
        #expect(queued.count == 1 && queued.first?.status == .pending && queued.first?.sandbox == true && queued.first?.plugin == "sms_sink")
        let sent = await Self.smsWorker(portal, sms: sms).deliverDue()
        #expect(sent.sent.count == 1 && sent.deferred.isEmpty, "\(sent)")
        let received = try await SMSSink.messages(to: fixture.referent)
        #expect(received.count == 1 && received.first?.sandbox == true)
        #expect(received.first?.text == "WINDTRE: il pacchetto Giga Share GSS-NR ha raggiunto il 80% dei Giga del mese.")
        let stored = try #require(try await portal.database.read(tenant: portal.definition.id) { try await $0.smsOutbox() }.first)
        #expect(stored.status == .sent && stored.recipient == SMSRecord.removed && stored.body == SMSRecord.removed, "number and text removed once sent")
        #expect(stored.recipientHint == "…" + String(fixture.referent.suffix(3)) && stored.gatewayId?.hasPrefix("sandbox-sms-") == true)

        let mail = try await portal.mail(to: fixture.adminEmail)
        #expect(mail.subject?.contains("Soglia consumo dati Giga Share") == true, "the label, in the tenant's language: \(mail.subject ?? "")")
        #expect(mail.text?.contains("ha raggiunto il 80% dei Giga del mese") == true)
        #expect(try MailSink.messages(to: fixture.managerEmail).isEmpty, "the Telco Manager switched the e-mail off")

        // The dispatcher may hand the same event over again (killed before recording the delivery): nothing is queued twice.
        let event = try #require(try await portal.recordedEvents(.usageThresholdCrossed).first)
        try await consumer.deliver(event)
        let outbox = try await portal.database.read(tenant: portal.definition.id) { try await $0.outbox() }
        #expect(try await portal.database.read(tenant: portal.definition.id) { try await $0.smsOutbox() }.count == 1)
        #expect(outbox.filter { $0.recipient == fixture.adminEmail }.count == 1)
        _ = await Self.smsWorker(portal, sms: sms).deliverDue()
        #expect(try await SMSSink.messages(to: fixture.referent).count == 1)
    }

    @Test("roaming data abroad: 80 % and 100 % of the line's threshold and of each of the two unlocks, six SMS each to the referent and to the line, no more; home data and lines without a threshold count for nothing",
          arguments: TestEngine.available)
    func roamingThresholdSendsSixSMS(engine: TestEngine) async throws {
        let sms = try SMSSink.gateways()
        let portal = try await PortalHarness(engine: engine, tenant: "windtre")
        defer { Task { await portal.close() } }
        let referent = Self.phone(), line = Self.phone(), other = Self.phone()
        let code = "RM-\(UUID().uuidString.prefix(6))"
        // The customer's mobile on record is its referent; its User Admin keeps the rule on (the default).
        _ = try await portal.database.write(tenant: portal.definition.id, now: portal.eventNow) { transaction in
            let customer = try await transaction.insertCustomer(CustomerRecord(externalId: code, customerType: "business", customerCode: code,
                                                                               companyName: "Roaming \(code)", mobile: referent, createdAt: 0))
            let name = uniqueEmail("rm")
            return try await transaction.insertUser(UserRecord(customerId: customer, username: name, usernameKey: name, email: name,
                                                               passwordHash: nil, role: "user_admin", createdAt: 0))
        }
        let megabyte = 1_048_576
        func usage(_ id: String, _ lineRef: String, megabytes: Int, roaming: Bool) -> String {
            "{\"type\":\"usage\",\"external_id\":\"\(code)-\(id)\",\"line\":\"\(lineRef)\",\"started_at\":\"2026-11-15 10:00:00\",\"kind\":\"data\","
                + "\"volume_bytes\":\(megabytes * megabyte),\"roaming\":\(roaming)}"
        }
        func importRows(_ rows: [String]) async throws {
            let importer = Importer(database: portal.database, tenant: portal.definition)
            let report = try await importer.importData(Data(rows.joined(separator: "\n").utf8), format: .jsonLines, kind: nil, now: portal.eventNow)
            #expect(report.total == rows.count)
        }
        // The provider's system gives the SIM a threshold of 100 MB abroad; the other SIM has none.
        try await importRows([
            "{\"type\":\"contract\",\"external_id\":\"\(code)-K\",\"customer\":\"\(code)\",\"code\":\"\(code)-K\",\"offer\":\"Business\",\"kind\":\"mobile\",\"starts_on\":\"2025-01-01\"}",
            "{\"type\":\"line\",\"external_id\":\"\(code)-L1\",\"contract\":\"\(code)-K\",\"kind\":\"sim\",\"identifier\":\"\(line)\",\"roaming_data_threshold_mb\":100}",
            "{\"type\":\"line\",\"external_id\":\"\(code)-L2\",\"contract\":\"\(code)-K\",\"kind\":\"sim\",\"identifier\":\"\(other)\"}",
        ])
        try await importRows([usage("U1", "\(code)-L1", megabytes: 85, roaming: true), usage("U2", "\(code)-L1", megabytes: 900, roaming: false),
                              usage("U3", "\(code)-L2", megabytes: 900, roaming: true)])
        #expect(try await portal.recordedEvents(.usageThresholdCrossed).count == 1, "85 MB of 100: 80 % of the threshold only")
        try await importRows([usage("U4", "\(code)-L1", megabytes: 20, roaming: true)])
        try await importRows([usage("U5", "\(code)-L1", megabytes: 200, roaming: true)])
        try await importRows([usage("U6", "\(code)-L1", megabytes: 500, roaming: true)])
        let events = try await portal.recordedEvents(.usageThresholdCrossed)
        let crossed = events.map { "\($0.facts["unlock"].map { "\($0)" } ?? "?")/\($0.facts["level"].map { "\($0)" } ?? "?")" }
        #expect(events.count == 6, "\(crossed)")
        #expect(events.allSatisfy { $0.facts["line_phone"] == .string(line) && $0.facts["referent_phone"] == .string(referent) })

        let report = await Self.dispatcher(portal, consumer: Self.consumer(portal, sms: sms)).deliverDue()
        #expect(report.delivered.count == 6 && report.dead.isEmpty, "\(report)")
        let sent = await Self.smsWorker(portal, sms: sms).deliverDue()
        #expect(sent.sent.count == 12 && sent.deferred.isEmpty, "\(sent)")
        let toLine = try await SMSSink.messages(to: line), toReferent = try await SMSSink.messages(to: referent)
        #expect(toLine.count == 6 && toReferent.count == 6)
        #expect(try await SMSSink.messages(to: other).isEmpty)
        #expect(Set(toLine.compactMap(\.text)) == Set(["0", "1", "2"].flatMap { unlock in ["80", "100"].map { level in
            "WINDTRE: la linea \(line) ha raggiunto il \(level)% della soglia dati all'estero (sblocco \(unlock) di 2)." } }))
    }

    @Test("an import says the payment method no longer works: payment_method.invalid once, the User Admin e-mailed in Italian with the reason; the same again sends nothing, a new reason again",
          arguments: TestEngine.available)
    func invalidPaymentMethodFromImport(engine: TestEngine) async throws {
        let sms = try SMSSink.gateways()
        let portal = try await PortalHarness(engine: engine, tenant: "windtre")
        defer { Task { await portal.close() } }
        let code = "PM-\(UUID().uuidString.prefix(6))"
        let adminEmail = uniqueEmail("pm")
        func customer(problem: String?) -> String {
            var fields = [
                "\"type\":\"customer\"", "\"external_id\":\"\(code)\"", "\"customer_type\":\"business\"", "\"customer_code\":\"\(code)\"",
                "\"company_name\":\"Rossi Impianti S.r.l.\"", "\"vat_number\":\"07643520567\"", "\"legal_rep_email\":\"\(uniqueEmail("lr"))\"",
                "\"legal_rep_mobile\":\"3331234567\"", "\"legal_rep_first_name\":\"Mario\"", "\"legal_rep_last_name\":\"Rossi\"",
                "\"legal_rep_birth_date\":\"1980-01-01\"", "\"legal_rep_tax_code\":\"RSSMRA80A01H501U\"", "\"recipient_code\":\"ABC1234\"",
                "\"payment_method\":\"sepa\"",
            ]
            if let problem { fields.append("\"payment_method_problem\":\"\(problem)\"") }
            return "{" + fields.joined(separator: ",") + "}"
        }
        func importCustomer(problem: String?) async throws {
            let importer = Importer(database: portal.database, tenant: portal.definition)
            _ = try await importer.importData(Data(customer(problem: problem).utf8), format: .jsonLines, kind: nil, now: portal.eventNow)
        }
        try await importCustomer(problem: nil)
        let customerId = try #require(try await portal.database.read(tenant: portal.definition.id) { try await $0.customers(limit: 10_000) }
            .first { $0.externalId == code }?.id)
        _ = try await portal.database.write(tenant: portal.definition.id, now: portal.eventNow) { transaction in
            try await transaction.insertUser(UserRecord(customerId: customerId, username: adminEmail, usernameKey: adminEmail, email: adminEmail,
                                                        passwordHash: nil, role: "user_admin", createdAt: 0))
        }
        #expect(try await portal.recordedEvents(EventType("payment_method.invalid")).isEmpty, "a working method records nothing")
        try await importCustomer(problem: "mandato SDD revocato dalla banca")
        try await importCustomer(problem: "mandato SDD revocato dalla banca")
        let events = try await portal.recordedEvents(EventType("payment_method.invalid"))
        #expect(events.count == 1 && events.first?.facts["reason"] == .string("mandato SDD revocato dalla banca")
                && events.first?.facts["method"] == .string("sepa") && events.first?.customerId == customerId)

        let report = await Self.dispatcher(portal, consumer: Self.consumer(portal, sms: sms)).deliverDue()
        #expect(report.delivered.count == 1 && report.dead.isEmpty, "\(report)")
        let mail = try await portal.mail(to: adminEmail)
        #expect(mail.subject?.hasPrefix("Metodo di pagamento non valido") == true, "\(mail.subject ?? "")")
        #expect(mail.text?.contains("Il metodo di pagamento registrato non è più valido (mandato SDD revocato dalla banca)") == true, "\(mail.text ?? "")")

        try await importCustomer(problem: "carta scaduta")
        #expect(try await portal.recordedEvents(EventType("payment_method.invalid")).count == 2, "another reason is news")
        try await importCustomer(problem: nil)
        #expect(try await portal.recordedEvents(EventType("payment_method.invalid")).count == 2, "fixed: nothing to tell")
    }

    @Test("every user of the customer switched the SMS off: the referent gets nothing", arguments: TestEngine.available)
    func preferenceOff(engine: TestEngine) async throws {
        let sms = try SMSSink.gateways()
        let portal = try await PortalHarness(engine: engine, tenant: "windtre")
        defer { Task { await portal.close() } }
        let fixture = try await Self.fixture(portal, smsOn: false)
        try await Self.importUsage(portal, prefix: "OFF")
        let report = await Self.dispatcher(portal, consumer: Self.consumer(portal, sms: sms)).deliverDue()
        #expect(report.delivered.count == 1, "\(report)")
        #expect(try await portal.database.read(tenant: portal.definition.id) { try await $0.smsOutbox() }.isEmpty)
        _ = await Self.smsWorker(portal, sms: sms).deliverDue()
        #expect(try await SMSSink.messages(to: fixture.referent).isEmpty)
    }

    @Test("the sink is down: the SMS stays queued, is retried with back-off, and is delivered once when it comes back",
          arguments: TestEngine.available)
    func outage(engine: TestEngine) async throws {
        let sms = try SMSSink.gateways()
        let portal = try await PortalHarness(engine: engine, tenant: "windtre")
        defer { Task { await portal.close() } }
        let fixture = try await Self.fixture(portal)
        try await Self.importUsage(portal, prefix: "DOWN")
        _ = await Self.dispatcher(portal, consumer: Self.consumer(portal, sms: sms)).deliverDue()
        let worker = Self.smsWorker(portal, sms: sms)
        try await SMSSink.setDown(true)
        do {
            let first = await worker.deliverDue()
            #expect(first.deferred.count == 1 && first.sent.isEmpty && first.failed.isEmpty, "\(first)")
            let waiting = try #require(try await portal.database.read(tenant: portal.definition.id) { try await $0.smsOutbox() }.first)
            #expect(waiting.status == .pending && waiting.attempts == 1 && waiting.lastError?.hasPrefix("http_503") == true)
            let now = portal.eventNow
            #expect(waiting.nextAttemptAt >= now + 30 && waiting.nextAttemptAt <= now + 33, "30 s back-off plus jitter")
            #expect(waiting.recipient == fixture.referent, "still there to be sent")
            #expect(await worker.deliverDue().isEmpty, "not due before the back-off")
            let second = await worker.deliverDue(now: Date(timeIntervalSince1970: TimeInterval(waiting.nextAttemptAt)))
            #expect(second.deferred.count == 1)
            let again = try #require(try await portal.database.read(tenant: portal.definition.id) { try await $0.smsOutbox() }.first)
            #expect(again.attempts == 2 && again.nextAttemptAt - waiting.nextAttemptAt >= 60, "the delay doubles")
            try await SMSSink.setDown(false)
            let third = await worker.deliverDue(now: Date(timeIntervalSince1970: TimeInterval(again.nextAttemptAt)))
            #expect(third.sent.count == 1, "\(third)")
        } catch {
            try? await SMSSink.setDown(false)
            throw error
        }
        #expect(try await SMSSink.messages(to: fixture.referent).count == 1)
        let done = try #require(try await portal.database.read(tenant: portal.definition.id) { try await $0.smsOutbox() }.first)
        #expect(done.status == .sent && done.attempts == 3 && done.lastError == nil)
    }

    @Test("the sms plugin's retry: (backoff 10s, max_attempts 2): deferred 10 s, then dead with number and text kept; requeued, it is delivered once",
          arguments: TestEngine.available)
    func manifestRetryGivesUpThenRequeued(engine: TestEngine) async throws {
        let sms = try SMSSink.gateways { $0.retry = PluginRetry(maxAttempts: 2, backoff: DurationSpec(10, .seconds)) }
        let portal = try await PortalHarness(engine: engine, tenant: "windtre")
        defer { Task { await portal.close() } }
        let fixture = try await Self.fixture(portal)
        try await Self.importUsage(portal, prefix: "DEAD")
        _ = await Self.dispatcher(portal, consumer: Self.consumer(portal, sms: sms)).deliverDue()
        let worker = Self.smsWorker(portal, sms: sms)
        let tenant = portal.definition.id
        try await SMSSink.setDown(true)
        do {
            let first = await worker.deliverDue()
            #expect(first.deferred.count == 1, "\(first)")
            let waiting = try #require(try await portal.database.read(tenant: tenant) { try await $0.smsOutbox() }.first)
            let now = portal.eventNow
            #expect(waiting.nextAttemptAt >= now + 10 && waiting.nextAttemptAt <= now + 11, "the manifest's 10 s, not the worker's 30 s")
            let second = await worker.deliverDue(now: Date(timeIntervalSince1970: TimeInterval(waiting.nextAttemptAt)))
            #expect(second.failed.count == 1 && second.deferred.isEmpty, "given up after 2 attempts: \(second)")
            let dead = try #require(try await portal.database.read(tenant: tenant) { try await $0.smsOutbox() }.first)
            #expect(dead.status == .dead && dead.attempts == 2 && dead.lastError?.hasPrefix("given up after 2 attempts") == true, "\(dead)")
            #expect(dead.recipient == fixture.referent && dead.body.contains("Giga Share GSS-NR"), "kept, to be sent once requeued")
            #expect(await worker.deliverDue(now: Date(timeIntervalSince1970: TimeInterval(now + 86_400))).isEmpty, "a dead SMS is not retried by itself")
            try await SMSSink.setDown(false)
        } catch {
            try? await SMSSink.setDown(false)
            throw error
        }
        let requeued = try await portal.database.write(tenant: tenant, now: portal.eventNow + 86_400) { try await $0.requeueDeadSMS() }
        #expect(requeued == 1)
        let sent = await worker.deliverDue(now: Date(timeIntervalSince1970: TimeInterval(portal.eventNow + 86_400)))
        #expect(sent.sent.count == 1, "\(sent)")
        #expect(try await SMSSink.messages(to: fixture.referent).count == 1)
        let done = try #require(try await portal.database.read(tenant: tenant) { try await $0.smsOutbox() }.first)
        #expect(done.status == .sent && done.recipient == SMSRecord.removed)
    }
}

/// WINDTRE's "Fattura scaduta": the scheduled check marks an unpaid invoice past its due day overdue and records
/// `invoice.overdue` once; the rule e-mails the users who keep it on.
@Suite("Overdue invoice check and its notification", .enabled(if: MailSink.isAvailable))
struct OverdueInvoiceNotificationTests {
    @Test("an unpaid invoice past due becomes overdue once, and the User Admin is e-mailed in Italian", arguments: TestEngine.available)
    func overdue(engine: TestEngine) async throws {
        let portal = try await PortalHarness(engine: engine, tenant: "windtre")
        defer { Task { await portal.close() } }
        let account = try await portal.eventAccount(role: "user_admin")
        let (invoiceId, email) = try await portal.database.write(tenant: portal.definition.id, now: portal.eventNow) { transaction in
            let id = try await transaction.insertInvoice(InvoiceRecord(customerId: account.customerId, number: "W-2026-0777", issuedOn: "2026-10-01",
                                                                       dueOn: "2026-11-01", netCents: 10_000, taxCents: 2_200, totalCents: 12_200,
                                                                       status: .unpaid))
            _ = try await transaction.insertInvoice(InvoiceRecord(customerId: account.customerId, number: "W-2026-0778", issuedOn: "2026-11-01",
                                                                  dueOn: "2026-12-01", netCents: 100, taxCents: 22, totalCents: 122, status: .unpaid))
            return (id, try #require(try await transaction.user(id: account.userId, customerId: account.customerId)?.email))
        }
        let job = OverdueInvoicesJob(database: portal.database, tenants: TenantDirectory { [portal.definition] }, clock: portal.clock)
        #expect(await job.check() == [portal.definition.id: [invoiceId]], "only the invoice whose due day has passed")
        #expect(await job.check().isEmpty, "marked once")
        let events = try await portal.recordedEvents(EventType("invoice.overdue"))
        #expect(events.count == 1 && events.first?.facts["days_overdue"] == .integer(20) && events.first?.subjectId == invoiceId)
        let windows = portal.tenant.windows
        let status = try await portal.database.read(tenant: portal.definition.id) {
            try await $0.invoice(id: invoiceId, customerId: account.customerId, windows: windows)
        }?.status
        #expect(status == .overdue)

        let tenant = portal.definition.id
        let consumer = NotificationRulesConsumer(database: portal.database, tenants: portal.services.tenants, mail: portal.services.mail,
                                                 sms: .none, clock: portal.clock)
        let report = await EventDispatcher(database: portal.database, consumers: [consumer], tenants: { [tenant] }, clock: portal.clock).deliverDue()
        #expect(report.delivered.count == 1, "\(report)")
        let mail = try await portal.mail(to: email)
        #expect(mail.subject == "Fattura W-2026-0777 scaduta – WINDTRE Business")
        #expect(mail.text?.contains("La fattura W-2026-0777 di 122,00 euro è scaduta il 01/11/2026.") == true)
    }
}
