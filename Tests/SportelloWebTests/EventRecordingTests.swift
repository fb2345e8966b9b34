import Foundation
import Testing
import SportelloApplication
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

private struct Rollback: Error {}

extension PortalHarness {
    /// The tenant's recorded events of `type` (all types when nil), oldest first.
    func recordedEvents(_ type: EventType? = nil) async throws -> [RecordedEvent] {
        try await database.read(tenant: definition.id) { try await $0.events(after: 0, limit: 100_000) }
            .filter { event in type.map { event.type == $0 } ?? true }
    }

    var eventNow: Int64 { Int64(clock.now().timeIntervalSince1970) }

    /// A customer of the tenant's first business type (or first type) and one user of `role` (password `Vecchia2026!`).
    func eventAccount(role: String, username: String? = nil) async throws -> (customerId: Int64, userId: Int64, username: String) {
        let name = username ?? (definition.login.identifiers == [.email] ? uniqueEmail("ev") : "ev.\(UUID().uuidString.prefix(8).lowercased())")
        let hash = try await services.passwords.hash("Vecchia2026!")
        let key = UsernameRules.key(for: name, caseSensitive: definition.login.caseSensitive)
        let type = definition.customerTypes.first { $0.value.kind == .business }?.key ?? definition.customerTypes.keys.first ?? ""
        let code = "EV-\(UUID().uuidString.prefix(8))"
        return try await database.write(tenant: definition.id, now: eventNow) { transaction in
            let customerId = try await transaction.insertCustomer(CustomerRecord(externalId: code, customerType: type, customerCode: code,
                                                                                 companyName: "Cliente \(code)", createdAt: 0))
            let userId = try await transaction.insertUser(UserRecord(customerId: customerId, username: name, usernameKey: key,
                                                                     email: uniqueEmail("ev"), passwordHash: hash, role: role, createdAt: 0))
            return (customerId, userId, name)
        }
    }
}

/// Every meaningful change records its domain event in the change's own transaction: the event exists if and only if
/// the change committed, with the facts a notification or a webhook needs.
@Suite("Domain events are recorded with the change, in its transaction")
struct EventRecordingTests {
    @Test("import: invoice.issued once per new invoice, invoice.paid when an import marks one paid; a repeat or a rolled-back import records nothing",
          arguments: TestEngine.available)
    func importedInvoices(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let file = """
            {"type":"customer","external_id":"EV-C1","customer_type":"business","customer_code":"EVC1","company_name":"Rossi Impianti S.r.l.","vat_number":"07643520567"}
            {"type":"invoice","external_id":"EV-I1","customer":"EV-C1","number":"2026/0101","issued_on":"2026-11-05","due_on":"2026-11-30","net_cents":10000,"tax_cents":2200,"total_cents":12200,"status":"unpaid"}
            {"type":"invoice","external_id":"EV-I2","customer":"EV-C1","number":"2026/0102","issued_on":"2026-11-06","due_on":"2026-12-06","net_cents":5000,"tax_cents":1100,"total_cents":6100,"status":"unpaid"}
            """
            let importer = Importer(database: portal.database, tenant: portal.definition)
            _ = try await importer.importData(Data(file.utf8), format: .jsonLines, kind: nil, now: portal.eventNow)
            let issued = try await portal.recordedEvents(.invoiceIssued)
            #expect(issued.map { $0.facts["number"]?.string } == ["2026/0101", "2026/0102"])
            let customer = try await portal.database.read(tenant: portal.definition.id) { try await $0.customer(code: "EVC1") }
            #expect(issued.allSatisfy { $0.customerId == customer?.id && $0.subjectKind == "invoice" && $0.subjectId != nil })
            #expect(issued.first?.facts["total_cents"] == .integer(12200) && issued.first?.facts["source"] == "import")
            #expect(issued.first?.occurredAt == portal.eventNow && issued.first?.tenant == portal.definition.id)

            _ = try await importer.importData(Data(file.utf8), format: .jsonLines, kind: nil, now: portal.eventNow)
            #expect(try await portal.recordedEvents().count == 2, "importing the same file again records nothing")

            let paid = file.replacingOccurrences(of: "\"total_cents\":12200,\"status\":\"unpaid\"",
                                                 with: "\"total_cents\":12200,\"status\":\"paid\",\"paid_on\":\"2026-11-20\"")
            _ = try await importer.importData(Data(paid.utf8), format: .jsonLines, kind: nil, now: portal.eventNow)
            let confirmed = try await portal.recordedEvents(.invoicePaid)
            #expect(confirmed.count == 1)
            #expect(confirmed.first?.facts["number"] == "2026/0101" && confirmed.first?.facts["paid_on"] == "2026-11-20")
            #expect(confirmed.first?.subjectId == issued.first?.subjectId)

            // A new invoice and an unresolved reference: the transaction rolls back, and the new invoice's event with it.
            let broken = paid + """

            {"type":"invoice","external_id":"EV-I3","customer":"EV-C1","number":"2026/0103","issued_on":"2026-11-07","due_on":"2026-12-07","net_cents":100,"tax_cents":22,"total_cents":122,"status":"unpaid"}
            {"type":"invoice","external_id":"EV-I4","customer":"EV-C9","number":"2026/0104","issued_on":"2026-11-07","due_on":"2026-12-07","net_cents":100,"tax_cents":22,"total_cents":122,"status":"unpaid"}
            """
            await #expect(throws: ImportRejected.self) {
                _ = try await importer.importData(Data(broken.utf8), format: .jsonLines, kind: nil, now: portal.eventNow)
            }
            #expect(try await portal.recordedEvents().count == 3, "the rolled-back import recorded nothing")
        }
    }

    @Test("a portal payment records invoice.paid with the payment's facts; a pro-forma for an order records invoice.issued; a failed transaction neither",
          arguments: TestEngine.available)
    func paymentsAndProformas(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            let account = try await portal.eventAccount(role: "main_account")
            let windows = portal.tenant.served.windows
            let invoiceId = try await portal.database.write(tenant: portal.definition.id, now: portal.eventNow) { transaction in
                try await transaction.insertInvoice(InvoiceRecord(customerId: account.customerId, number: "EV-PAY-1", issuedOn: "2026-11-01",
                                                                  dueOn: "2026-11-30", netCents: 1000, taxCents: 220, totalCents: 1220, status: .unpaid))
            }
            await #expect(throws: Rollback.self) {
                try await portal.database.write(tenant: portal.definition.id, now: portal.eventNow) { transaction in
                    _ = try await transaction.payInvoice(id: invoiceId, customerId: account.customerId, windows: windows, method: "card",
                                                         reference: "VISA **** 4242", description: "Pagamento", actorUserId: account.userId)
                    throw Rollback()
                }
            }
            #expect(try await portal.recordedEvents().isEmpty, "the payment rolled back, and its event with it")
            let outcome = try await portal.database.write(tenant: portal.definition.id, now: portal.eventNow) { transaction in
                try await transaction.payInvoice(id: invoiceId, customerId: account.customerId, windows: windows, method: "card",
                                                 reference: "VISA **** 4242", description: "Pagamento", actorUserId: account.userId,
                                                 simulated: true)
            }
            guard case .paid(let payment) = outcome else { Issue.record("not paid: \(outcome)"); return }
            let paid = try await portal.recordedEvents(.invoicePaid)
            #expect(paid.count == 1)
            #expect(paid.first?.customerId == account.customerId && paid.first?.actorUserId == account.userId)
            #expect(paid.first?.facts["amount_cents"] == .integer(1220) && paid.first?.facts["payment_id"] == .optional(payment.id))
            #expect(paid.first?.facts["simulated"] == .bool(true) && paid.first?.facts["method"] == "card")
            #expect(DomainEvent.invoicePaid(invoiceId: invoiceId, customerId: account.customerId).name == paid.first?.type.rawValue,
                    "the in-process event and the durable one go by one name")

            let order = try await portal.database.write(tenant: portal.definition.id, now: portal.eventNow) { transaction in
                try await transaction.placeOrder(OrderRecord(customerId: account.customerId, userId: account.userId, number: "", kind: "product",
                                                             itemCode: "EV-ITEM", title: "Prodotto", quantity: 1, netCents: 500, taxCents: 110,
                                                             totalCents: 610, status: .awaitingPayment, createdAt: portal.eventNow),
                                                 issuedOn: CalendarDay(instant: portal.eventNow), proformaDays: 10)
            }
            let issued = try await portal.recordedEvents(.invoiceIssued)
            #expect(issued.count == 1 && issued.first?.subjectId == order.invoiceId && issued.first?.facts["source"] == "order")
            #expect(issued.first?.facts["number"]?.string?.hasPrefix("PF-") == true)
        }
    }

    @Test("requests: request.created wherever a request is stored, request.status_changed by staff with from, to and note; refusals and rollbacks record nothing",
          arguments: TestEngine.available)
    func requests(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let account = try await portal.eventAccount(role: "rappresentante_legale")
            let form = try #require(portal.definition.requests?.keys.first)
            let record = RequestRecord(customerId: account.customerId, userId: account.userId, form: form, subject: "Cambio indirizzo",
                                       createdAt: portal.eventNow)
            await #expect(throws: Rollback.self) {
                try await portal.database.write(tenant: portal.definition.id, now: portal.eventNow) { transaction in
                    _ = try await transaction.insertNumberedRequest(record)
                    throw Rollback()
                }
            }
            #expect(try await portal.recordedEvents().isEmpty)
            let (id, number) = try await portal.database.write(tenant: portal.definition.id, now: portal.eventNow) {
                try await $0.insertNumberedRequest(record)
            }
            let created = try await portal.recordedEvents(.requestCreated)
            #expect(created.count == 1 && created.first?.subjectId == id && created.first?.facts["number"] == .integer(number))
            #expect(created.first?.facts["form"] == .string(form) && created.first?.actorUserId == account.userId)

            let move = MoveRequest(services: portal.services.application)
            await #expect(throws: UseCaseRefusal.self) {
                try await move(tenant: portal.tenant.served, acting: .staff, requestId: id, status: "nonexistent", note: nil)
            }
            try await move(tenant: portal.tenant.served, acting: .staff, requestId: id, status: "closed", note: "Fatto.")
            let moved = try await portal.recordedEvents(.requestStatusChanged)
            #expect(moved.count == 1)
            #expect(moved.first?.facts["from"] == "open" && moved.first?.facts["to"] == "closed" && moved.first?.facts["note"] == "Fatto.")
            #expect(moved.first?.customerId == account.customerId)
        }
    }

    @Test("chat.replied when an operator answers; user.invited, then registration.completed when the invitee completes the flow (in English, kept on the user)",
          arguments: TestEngine.available)
    func chatInvitationRegistration(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            let main = try await portal.eventAccount(role: "main_account")
            let reply = ReplyInChat(services: portal.services.application)
            let messageId = try await reply(tenant: portal.tenant.served, acting: .staff,
                                            .fromOperator(username: main.username, operatorName: "Operatore 7", body: "Buongiorno!"))
            let chat = try await portal.recordedEvents(.chatReplied)
            #expect(chat.count == 1 && chat.first?.subjectId == messageId && chat.first?.facts["user_id"] == .integer(main.userId))
            #expect(chat.first?.customerId == main.customerId)

            let invited = uniqueEmail("sub")
            let issued = try await Invitations(services: portal.services.application, tenant: portal.tenant.served)
                .issue(customerId: main.customerId, email: invited, username: nil, role: "sub_account", createdBy: main.userId)
            let invitations = try await portal.recordedEvents(.userInvited)
            #expect(invitations.count == 1 && invitations.first?.subjectId == issued.invitationId)
            #expect(invitations.first?.facts["role"] == "sub_account" && invitations.first?.actorUserId == main.userId)

            let link = try #require(URLComponents(string: issued.link))
            let path = link.path + (link.query.map { "?\($0)" } ?? "")
            try await portal.test { browser in
                // In English: the new user keeps the language they registered in (their messages follow it).
                _ = try await browser.follow(try await browser.get(path + "&lang=en"))
                _ = try await browser.follow(try await browser.post("/access/sub_account_invitation",
                                                                    ["step": "0", "email": invited, "first_name": "Giulia", "last_name": "Conti"]))
                _ = try await browser.post("/access/sub_account_invitation", ["step": "1", "email": invited])
                let done = try await browser.follow(try await browser.post("/access/sub_account_invitation", [
                    "step": "2", "password": "Sportello#2026x", "password_confirmation": "Sportello#2026x"]))
                #expect(done.body.contains("Registration complete"))
            }
            let registered = try await portal.recordedEvents(.registrationCompleted)
            let newUser = try await portal.database.read(tenant: portal.definition.id) { transaction in
                try await transaction.user(id: try #require(registered.first?.subjectId))
            }
            #expect(newUser?.locale == "en", "the flow's language is stored on the user")
            #expect(registered.count == 1)
            #expect(registered.first?.customerId == main.customerId && registered.first?.facts["role"] == "sub_account")
            #expect(registered.first?.facts["new_customer"] == .bool(false) && registered.first?.facts["invitation_id"] == .integer(issued.invitationId))
            #expect(registered.first?.facts["flow"] == "sub_account_invitation")
        }
    }

    @Test("users: user.role_changed, user.blocked and user.unblocked; a change refused later in the same request records nothing",
          arguments: TestEngine.available)
    func users(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let legal = try await portal.eventAccount(role: "rappresentante_legale")
            let customer = try #require(try await portal.database.read(tenant: portal.definition.id) { try await $0.customer(id: legal.customerId) })
            let employeeId = try await portal.database.write(tenant: portal.definition.id, now: portal.eventNow) { transaction in
                try await transaction.insertUser(UserRecord(customerId: legal.customerId, username: "ev.employee", usernameKey: "ev.employee",
                                                            email: uniqueEmail("emp"), role: "utilizzatore", creatorUserId: legal.userId, createdAt: 0))
            }
            let principal = try portal.tenant.authorization.principal(role: "rappresentante_legale", toggles: [], customerType: customer.customerType)
            let management = UserManagement(services: portal.services.application, tenant: portal.tenant.served,
                                            manager: .init(principal: principal, userId: legal.userId, customer: customer, locale: "it"))
            await #expect(throws: UserManagement.Refusal.self) {
                try await management.apply([.role("amministratore_light"), .edit(firstName: String(repeating: "x", count: 150), lastName: nil, email: nil)],
                                           to: employeeId)
            }
            #expect(try await portal.recordedEvents().isEmpty, "the role change was rolled back with the refused edit")
            try await management.apply([.role("amministratore_light")], to: employeeId)
            let changed = try await portal.recordedEvents(.userRoleChanged)
            #expect(changed.count == 1 && changed.first?.subjectId == employeeId && changed.first?.actorUserId == legal.userId)
            #expect(changed.first?.facts["from"] == "utilizzatore" && changed.first?.facts["to"] == "amministratore_light")
        }
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            let main = try await portal.eventAccount(role: "main_account")
            let customer = try #require(try await portal.database.read(tenant: portal.definition.id) { try await $0.customer(id: main.customerId) })
            let subId = try await portal.database.write(tenant: portal.definition.id, now: portal.eventNow) { transaction in
                try await transaction.insertUser(UserRecord(customerId: main.customerId, username: uniqueEmail("sub"), usernameKey: uniqueEmail("subkey"),
                                                            email: uniqueEmail("sub"), role: "sub_account", creatorUserId: main.userId, createdAt: 0))
            }
            let principal = try portal.tenant.authorization.principal(role: "main_account", toggles: [], customerType: customer.customerType)
            let management = UserManagement(services: portal.services.application, tenant: portal.tenant.served,
                                            manager: .init(principal: principal, userId: main.userId, customer: customer, locale: "it"))
            try await management.apply([.blocked(true)], to: subId)
            try await management.apply([.blocked(true)], to: subId)
            try await management.apply([.blocked(false)], to: subId)
            #expect(try await portal.recordedEvents().map(\.type) == [.userBlocked, .userUnblocked], "blocking a blocked user changes nothing")
            #expect(try await portal.recordedEvents(.userBlocked).first?.facts["user_id"] == .integer(subId))
        }
    }

    @Test("line_activation.stage_reached when the stage or percentage moves, not when nothing changes; never in a rolled-back transaction",
          arguments: TestEngine.available)
    func lineActivation(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let account = try await portal.eventAccount(role: "user_admin")
            let id = try await portal.database.write(tenant: portal.definition.id, now: portal.eventNow) { transaction in
                try await transaction.insertLineActivation(LineActivationRecord(
                    customerId: account.customerId, kind: "fixed_line", identifier: "0612345678", offer: "Fibra 2.5 Giga Pro",
                    requestedOn: "2026-11-02", expectedOn: "2026-11-30", progress: 50, stage: LineActivationStage.appointment.rawValue,
                    status: .inProgress, updatedAt: 0))
            }
            await #expect(throws: Rollback.self) {
                try await portal.database.write(tenant: portal.definition.id, now: portal.eventNow) { transaction in
                    _ = try await transaction.advanceLineActivation(id: id, stage: .installation, subscription: nil)
                    throw Rollback()
                }
            }
            #expect(try await portal.recordedEvents().isEmpty)
            for stage in [LineActivationStage.installation, .installation, .completed] {
                _ = try await portal.database.write(tenant: portal.definition.id, now: portal.eventNow) { transaction in
                    try await transaction.advanceLineActivation(id: id, stage: stage, subscription: nil)
                }
            }
            let reached = try await portal.recordedEvents(.lineActivationStageReached)
            #expect(reached.map { $0.facts["stage"]?.string } == ["installation", "completed"])
            #expect(reached.first?.facts["previous_stage"] == "appointment" && reached.first?.facts["progress"] == .integer(75))
            #expect(reached.last?.facts["status"] == "completed" && reached.last?.subjectId == id)
        }
    }

    @Test("usage.threshold_crossed when imported data usage takes a Giga Share package past a level: the rule's and a user's own, once each",
          arguments: TestEngine.available)
    func usageThresholds(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let rule = try #require(UsageThresholdWatch.packageRule(in: portal.definition))
            #expect(rule.id == "giga_share_threshold" && rule.thresholds == [80, 100])
            let account = try await portal.eventAccount(role: "user_admin")
            let planId = try await portal.database.write(tenant: portal.definition.id, now: portal.eventNow) { transaction in
                let contract = try await transaction.insertContract(ContractRecord(customerId: account.customerId, code: "EV-K", offer: "Giga Share",
                                                                                   kind: "mobile", startsOn: "2025-01-01"))
                let plan = try await transaction.insertSharePlan(SharePlanRecord(
                    customerId: account.customerId, contractId: contract, code: "GSS-EV1", packageCode: "GSS-1", packageTitle: "Giga Share 1",
                    gigaAllowance: 1, referentPhone: "3331234567", activatedOn: "2025-01-01", updatedAt: 0))
                for (external, number) in [("EV-L1", "3330000001"), ("EV-L2", "3330000002")] {
                    let line = try await transaction.insertLine(LineRecord(externalId: external, customerId: account.customerId, contractId: contract,
                                                                           kind: "sim", identifier: number))
                    try await transaction.setSharePlan(lineId: line, customerId: account.customerId, sharePlanId: plan)
                }
                try await transaction.setNotificationPreference(NotificationPreferenceRecord(userId: account.userId, rule: rule.id, channel: "portal",
                                                                                             enabled: true, threshold: 50))
                return plan
            }
            let importer = Importer(database: portal.database, tenant: portal.definition)
            func usage(_ rows: [(String, String, String, Int64)]) -> Data {
                Data(rows.map { id, line, at, bytes in
                    "{\"type\":\"usage\",\"external_id\":\"\(id)\",\"line\":\"\(line)\",\"started_at\":\"\(at)\",\"kind\":\"data\",\"volume_bytes\":\(bytes)}"
                }.joined(separator: "\n").utf8)
            }
            // 550 MB this month (the 900 MB of October do not count): past the user's 50 %, not the rule's 80 %.
            let first = usage([("U1", "EV-L1", "2026-11-10 10:00:00", 300_000_000), ("U2", "EV-L2", "2026-11-11 10:00:00", 250_000_000),
                               ("U0", "EV-L1", "2026-10-10 10:00:00", 900_000_000)])
            _ = try await importer.importData(first, format: .jsonLines, kind: nil, now: portal.eventNow)
            var crossed = try await portal.recordedEvents(.usageThresholdCrossed)
            #expect(crossed.map { $0.facts["level"] } == [.integer(50)])
            #expect(crossed.first?.facts["rule_level"] == .bool(false) && crossed.first?.facts["user_ids"] == .integers([account.userId]))
            #expect(crossed.first?.subjectId == planId && crossed.first?.facts["used_bytes"] == .integer(550_000_000))
            #expect(crossed.first?.facts["allowance_bytes"] == .integer(1_000_000_000) && crossed.first?.facts["month"] == "2026-11")
            _ = try await importer.importData(first, format: .jsonLines, kind: nil, now: portal.eventNow)
            #expect(try await portal.recordedEvents(.usageThresholdCrossed).count == 1, "the same usage again crosses nothing")

            _ = try await importer.importData(usage([("U3", "EV-L2", "2026-11-15 10:00:00", 300_000_000)]), format: .jsonLines, kind: nil,
                                              now: portal.eventNow)
            _ = try await importer.importData(usage([("U4", "EV-L1", "2026-11-20 10:00:00", 200_000_000)]), format: .jsonLines, kind: nil,
                                              now: portal.eventNow)
            crossed = try await portal.recordedEvents(.usageThresholdCrossed)
            #expect(crossed.map { $0.facts["level"] } == [.integer(50), .integer(80), .integer(100)])
            #expect(crossed.dropFirst().allSatisfy { $0.facts["rule_level"] == .bool(true) && $0.customerId == account.customerId })
        }
    }

    @Test("records of the tenant's own kinds: record.created on import, nothing when an import changes nothing, record.changed naming what changed",
          arguments: TestEngine.available)
    func tenantRecords(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "vela") { portal in
            let file = try String(contentsOf: repositoryRoot.appendingPathComponent("examples/import/vela.jsonl"), encoding: .utf8)
            let importer = Importer(database: portal.database, tenant: portal.definition)
            _ = try await importer.importData(Data(file.utf8), format: .jsonLines, kind: nil, now: portal.eventNow)
            let created = try await portal.recordedEvents(.recordCreated)
            let stored = try await portal.database.read(tenant: portal.definition.id) { try await $0.rowCounts() }
                .first { $0.0 == .records }?.1
            #expect(created.count == stored && created.count == 19)
            let premium = try #require(created.first { $0.facts["external_id"] == "Q000200303" })
            #expect(premium.facts["kind"] == "premiums" && premium.facts["value.status"] == "to_pay")

            _ = try await importer.importData(Data(file.utf8), format: .jsonLines, kind: nil, now: portal.eventNow)
            #expect(try await portal.recordedEvents().count == 19, "an import that changes nothing records nothing")

            let changed = file.replacingOccurrences(of: "\"receipt_number\":\"Q000200303\",\"due_date\":\"2026-12-01\",\"amount\":\"1198.33\",\"status\":\"to_pay\"",
                                                    with: "\"receipt_number\":\"Q000200303\",\"due_date\":\"2026-12-01\",\"amount\":\"1198.33\",\"status\":\"paid\"")
            #expect(changed != file)
            _ = try await importer.importData(Data(changed.utf8), format: .jsonLines, kind: nil, now: portal.eventNow)
            let updates = try await portal.recordedEvents(.recordChanged)
            #expect(updates.count == 1)
            #expect(updates.first?.subjectId == premium.subjectId && updates.first?.facts["changed"] == .strings(["status"]))
            #expect(updates.first?.facts["value.status"] == "paid" && updates.first?.customerId == premium.customerId)
        }
    }

    @Test("demo data records no events: its history is made up", arguments: TestEngine.available)
    func demoRecordsNothing(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = renamed(try provider("windtre"), to: uniqueTenant("windtre"))
            _ = try await DemoDataGenerator(tenant: tenant, now: Int64(PortalHarness.start.timeIntervalSince1970),
                                            hasher: BcryptPasswordHasher(cost: 4)).generate(into: database)
            let (events, requests) = try await database.read(tenant: tenant.id) { transaction in
                (try await transaction.events().count, try await transaction.rowCounts().first { $0.0 == .requests }?.1 ?? 0)
            }
            #expect(requests > 0, "the demo opened requests")
            #expect(events == 0)
        }
    }
}
