import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloApplication
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

private let password = "Vecchia2026!"

/// A TIM company with one user per role, a mobile contract with a SIM (assigned to the Utilizzatore)
/// and two fixed lines, and the tenant's offers and support channels in the catalogue.
private struct Company {
    var customerId: Int64
    var contractId: Int64
    var usernames: [String: String]
    var sim: Int64
    var fixed: Int64
    var suspendedFixed: Int64

    func user(_ role: String) -> String { usernames[role]! }
}

private let roles = ["rappresentante_legale", "amministratore_full", "amministratore_light", "utilizzatore"]

private func makeCompany(_ portal: PortalHarness, seedCatalogue: Bool = true) async throws -> Company {
    let tag = UUID().uuidString.prefix(6).lowercased()
    let serial = Int.random(in: 100_000...999_999)
    let hash = try await portal.services.passwords.hash(password)
    let now = Int64(portal.clock.now().timeIntervalSince1970)
    if seedCatalogue {
        let generator = DemoDataGenerator(tenant: portal.definition, now: now, hasher: portal.services.passwords)
        try await portal.database.write(tenant: portal.definition.id, now: now) { transaction in
            if try await transaction.catalogItem(kind: "offer", code: "TIM-BIZ-GIGA-200") == nil { try await generator.seedTelcoSupport(in: transaction) }
        }
    }
    return try await portal.database.write(tenant: portal.definition.id, now: now) { transaction in
        let customerId = try await transaction.insertCustomer(CustomerRecord(
            customerType: "business", customerCode: "TIM-\(tag)", companyName: "Officine \(tag) Srl", vatNumber: "0123456789\(tag.count)",
            email: "amministrazione.\(tag)@example.it", createdAt: 0))
        var usernames: [String: String] = [:]
        var ids: [String: Int64] = [:]
        for role in roles {
            let username = "\(role.replacingOccurrences(of: "_", with: "-")).\(tag)"
            ids[role] = try await transaction.insertUser(UserRecord(customerId: customerId, username: username, usernameKey: username,
                                                                    email: "\(role).\(tag)@example.it", firstName: "Anna", lastName: "Neri",
                                                                    passwordHash: hash, role: role, toggles: [], createdAt: 0))
            usernames[role] = username
        }
        let contract = try await transaction.insertContract(ContractRecord(customerId: customerId, code: "K-\(tag)", offer: "TIM Business",
                                                                           kind: "mobile", status: .active, startsOn: "2024-01-01"))
        let sim = try await transaction.insertLine(LineRecord(customerId: customerId, contractId: contract, kind: "sim", identifier: "333\(serial)0",
                                                              description: "SIM voce e dati", assignedUserId: ids["utilizzatore"]))
        let fixed = try await transaction.insertLine(LineRecord(customerId: customerId, contractId: contract, kind: "fixed_line",
                                                                identifier: "06\(serial)1", description: "Linea fissa FTTH"))
        let suspended = try await transaction.insertLine(LineRecord(customerId: customerId, contractId: contract, kind: "fixed_line",
                                                                    identifier: "02\(serial)2", status: .suspended))
        return Company(customerId: customerId, contractId: contract, usernames: usernames, sim: sim, fixed: fixed, suspendedFixed: suspended)
    }
}

private func at(_ year: Int, _ month: Int, _ day: Int, hour: Int = 10) -> Int64 {
    CalendarDay(year: year, month: month, day: day).startInstant + Int64(hour * 3600)
}

private func bearer(_ client: some TestClientProtocol, _ username: String) async throws -> String {
    let login = try await JSONCall.send(client, .post, "/api/v1/session", body: ["identifier": username, "password": password])
    return try #require(login.json["token"] as? String)
}

@Suite("TIM exclusive offers and their activation")
struct TelcoOffersTests {
    @Test("The Legal Representative sees today's offers, activates one on a SIM, and cannot open a second activation of it",
          arguments: TestEngine.available)
    func activate(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let company = try await makeCompany(portal)
            let simNumber = try await portal.database.read(tenant: portal.definition.id) { try await $0.line(id: company.sim, customerId: company.customerId)!.identifier }
            try await portal.test { browser in
                try await browser.logIn(company.user("rappresentante_legale"), password)
                let list = try await browser.get("/offers")
                #expect(list.status == .ok)
                #expect(list.body.contains("TIM Business Giga 200") && list.body.contains("14,99 € al mese"))
                #expect(!list.body.contains("Promo Estate Business"), "an expired offer is not shown")
                #expect(!list.body.contains("Centralino Cloud TIM"), "an offer not yet valid is not shown")
                let form = try await browser.get("/offers/TIM-BIZ-GIGA-200")
                #expect(form.body.contains("name=\"lines\"") && form.body.contains(simNumber))
                #expect(!form.body.contains("value=\"06"), "only SIMs are offered for a SIM offer")

                let noLine = try await browser.post("/offers/TIM-BIZ-GIGA-200/activate", ["referent_name": "", "referent_email": "non-valida"])
                #expect(noLine.status == .unprocessableContent)
                #expect(noLine.body.contains("id=\"lines-error\"") && noLine.body.contains("id=\"referent_name-error\"")
                        && noLine.body.contains("id=\"referent_email-error\""), "every problem next to its field")
                let noCSRF = try await browser.post("/offers/TIM-BIZ-GIGA-200/activate", ["_csrf": "x", "lines": simNumber, "referent_name": "Anna Neri"])
                #expect(noCSRF.status == .forbidden)

                let done = try await browser.post("/offers/TIM-BIZ-GIGA-200/activate",
                                                  ["lines": simNumber, "referent_name": "Anna Neri", "referent_email": "anna@example.it", "notes": "Urgente"])
                let location = try #require(done.location)
                #expect(location.hasPrefix("/requests/") && location.hasSuffix("?created=1"))
                let request = try await browser.follow(done)
                #expect(request.body.contains("TIM Business Giga 200") && request.body.contains(simNumber))

                let again = try await browser.post("/offers/TIM-BIZ-GIGA-200/activate", ["lines": simNumber, "referent_name": "Anna Neri"])
                #expect(again.status == .conflict)
                #expect(again.body.contains("già una richiesta di attivazione aperta"))
                let listed = try await browser.get("/offers")
                #expect(listed.body.contains("Segui la richiesta"), "the open activation is shown on the offer")

                let unknown = try await browser.post("/offers/TIM-BIZ-ESTATE/activate", ["referent_name": "Anna Neri"])
                #expect(unknown.status == .notFound, "an expired offer cannot be activated")
            }
            let (requests, audit) = try await portal.database.read(tenant: portal.definition.id) { transaction in
                (try await transaction.requests(customerId: company.customerId), try await transaction.auditLog())
            }
            let activations = requests.filter { $0.form == "offer_activation" }
            #expect(activations.count == 1)
            #expect(activations.first?.status == "open")
            #expect(audit.contains { $0.action == "offer.activation_requested" && $0.detail?.contains("TIM-BIZ-GIGA-200") == true })
        }
    }

    @Test("Light administrators see offers but may not activate; Utilizzatori have no offers page", arguments: TestEngine.available)
    func roleLimits(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let company = try await makeCompany(portal)
            try await portal.test { browser in
                try await browser.logIn(company.user("amministratore_light"), password)
                let list = try await browser.get("/offers")
                #expect(list.status == .ok && list.body.contains("TIM Business Giga 200"))
                #expect(!list.body.contains("class=\"button\" href=\"/offers/"), "no activation button")
                #expect(list.body.contains("riservata al Rappresentante Legale"))
                #expect(try await browser.post("/offers/TIM-BIZ-CLOUD-BACKUP/activate", ["referent_name": "Anna"]).status == .forbidden)
            }
            try await portal.test { browser in
                try await browser.logIn(company.user("utilizzatore"), password)
                #expect(try await browser.get("/offers").status == .forbidden)
            }
        }
    }

    @Test("API: list offers, activate a company-wide offer with a bearer token, 409 on a duplicate, CSRF needed with a cookie",
          arguments: TestEngine.available)
    func api(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let company = try await makeCompany(portal)
            let app = buildApplication(services: portal.services)
            try await app.test(.router) { client in
                let token = try await bearer(client, company.user("rappresentante_legale"))
                let list = try await JSONCall.send(client, .get, "/api/v1/offers", token: token)
                let offers = try #require(list.json["offers"] as? [[String: Any]])
                #expect(offers.map { $0["code"] as? String }.contains("TIM-BIZ-CLOUD-BACKUP"))
                #expect(offers.allSatisfy { $0["can_activate"] as? Bool == true })
                let bad = try await JSONCall.send(client, .post, "/api/v1/offers/TIM-BIZ-CLOUD-BACKUP/activations", token: token,
                                                  body: ["referent": ["name": "", "email": "x"]])
                #expect(bad.status == .unprocessableContent && bad.errorCode == "invalid")
                let made = try await JSONCall.send(client, .post, "/api/v1/offers/TIM-BIZ-CLOUD-BACKUP/activations", token: token,
                                                   body: ["referent": ["name": "Anna Neri", "phone": "+39 333 1234567"]])
                #expect(made.status == .created)
                #expect(made.json["status"] as? String == "open" && (made.json["request_id"] as? Int ?? 0) > 0)
                let twice = try await JSONCall.send(client, .post, "/api/v1/offers/TIM-BIZ-CLOUD-BACKUP/activations", token: token,
                                                    body: ["referent": ["name": "Anna Neri"]])
                #expect(twice.status == .conflict && twice.errorCode == "duplicate_activation")
                let after = try await JSONCall.send(client, .get, "/api/v1/offers", token: token)
                let backup = try #require((after.json["offers"] as? [[String: Any]])?.first { $0["code"] as? String == "TIM-BIZ-CLOUD-BACKUP" })
                #expect(backup["can_activate"] as? Bool == false && backup["open_request_id"] as? Int == made.json["request_id"] as? Int)
            }
            try await portal.test { browser in
                try await browser.logIn(company.user("rappresentante_legale"), password)
                let cookie = browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
                let forged = try await JSONCall.send(browser.client, .post, "/api/v1/offers/TIM-BIZ-GIGA-200/activations", cookie: cookie,
                                                     body: ["referent": ["name": "Anna Neri"]])
                #expect(forged.status == .forbidden && forged.errorCode == "csrf_rejected")
            }
        }
    }
}

@Suite("TIM reports of the services already billed")
struct TelcoBilledReportsTests {
    /// An October invoice on the company's contract, usage inside and outside its period, and two services.
    private func billing(_ portal: PortalHarness, _ company: Company) async throws -> Int64 {
        try await portal.database.write(tenant: portal.definition.id) { transaction in
            let invoice = try await transaction.insertInvoice(InvoiceRecord(
                customerId: company.customerId, contractId: company.contractId, number: "2026/TIM/\(company.customerId)", issuedOn: "2026-11-05",
                dueOn: "2026-11-30", periodFrom: "2026-10-01", periodTo: "2026-10-31", netCents: 1_175, taxCents: 259, totalCents: 1_434, status: .unpaid))
            try await transaction.insertUsage([
                UsageRecord(customerId: company.customerId, lineId: company.sim, startedAt: at(2026, 10, 15), kind: "call", durationSeconds: 120, costCents: 150),
                UsageRecord(customerId: company.customerId, lineId: company.sim, startedAt: at(2026, 10, 20), kind: "option", costCents: 500),
                UsageRecord(customerId: company.customerId, lineId: company.sim, startedAt: at(2026, 10, 21), kind: "data", volumeBytes: 2_000_000_000),
                UsageRecord(customerId: company.customerId, lineId: company.sim, startedAt: at(2026, 9, 30, hour: 23), kind: "call", costCents: 9_999),
                UsageRecord(customerId: company.customerId, lineId: company.sim, startedAt: at(2026, 11, 1, hour: 0), kind: "call", costCents: 8_888),
                UsageRecord(customerId: company.customerId, lineId: company.fixed, startedAt: at(2026, 10, 31, hour: 23), kind: "call", costCents: 25),
            ])
            _ = try await transaction.insertService(ServiceRecord(contractId: company.contractId, lineId: company.sim, name: "Giga Extra 50", monthlyFeeCents: 500))
            _ = try await transaction.insertService(ServiceRecord(contractId: company.contractId, lineId: company.sim, name: "Vecchia opzione",
                                                                  status: .inactive, monthlyFeeCents: 777, expiresOn: "2026-09-15"))
            return invoice
        }
    }

    @Test("Per line: usage of the period by kind and the fees of the services that ran; CSV with BOM and ';'", arguments: TestEngine.available)
    func report(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let company = try await makeCompany(portal, seedCatalogue: false)
            let invoice = try await billing(portal, company)
            let other = try await makeCompany(portal, seedCatalogue: false)
            let foreign = try await billing(portal, other)
            try await portal.test { browser in
                try await browser.logIn(company.user("amministratore_light"), password)
                let list = try await browser.get("/usage/billed-reports")
                #expect(list.status == .ok && list.body.contains("/usage/billed-reports/\(invoice)") && list.body.contains("dal 01/10/2026 al 31/10/2026"))
                #expect(!list.body.contains("/usage/billed-reports/\(foreign)\""))
                let page = try await browser.get("/usage/billed-reports/\(invoice)")
                #expect(page.status == .ok)
                #expect(page.body.contains("1,50 €") && page.body.contains("5,00 €") && page.body.contains("0,25 €"))
                #expect(page.body.contains("11,75 €"), "grand total: 1,50 + 5,00 usage + 5,00 fee on the SIM, 0,25 on the fixed line")
                #expect(!page.body.contains("99,99") && !page.body.contains("88,88"), "usage outside the period is not in the report")
                #expect(!page.body.contains("Vecchia opzione"), "a service that ended before the period is not charged")
                let csv = try await browser.get("/usage/billed-reports/\(invoice)/export?format=csv")
                #expect(csv.status == .ok)
                #expect(csv.body.hasPrefix("\u{FEFF}Fattura;Dal;Al;Linea"))
                #expect(csv.body.contains(";Chiamate;") && csv.body.contains(";1,50\r\n") && csv.body.contains("Canone Giga Extra 50 (1 mesi)"))
                #expect(try await browser.get("/usage/billed-reports/\(invoice)/export?format=pdf").status == .unprocessableContent)
                #expect(try await browser.get("/usage/billed-reports/\(foreign)").status == .notFound, "another customer's invoice")
            }
            try await portal.test { browser in
                try await browser.logIn(company.user("utilizzatore"), password)
                #expect(try await browser.get("/usage/billed-reports").status == .forbidden)
            }
            let app = buildApplication(services: portal.services)
            try await app.test(.router) { client in
                let token = try await bearer(client, company.user("rappresentante_legale"))
                let report = try await JSONCall.send(client, .get, "/api/v1/billed-reports/\(invoice)", token: token)
                #expect(report.status == .ok)
                #expect((report.json["total"] as? [String: Any])?["cents"] as? Int == 1_175)
                #expect((report.json["services_total"] as? [String: Any])?["cents"] as? Int == 500)
                let lines = try #require(report.json["lines"] as? [[String: Any]])
                let sim = try #require(lines.first { $0["line_id"] as? Int == Int(company.sim) })
                let usage = try #require(sim["usage"] as? [[String: Any]])
                #expect(usage.first { $0["category"] as? String == "data" }?["volume_bytes"] as? Int == 2_000_000_000)
                let list = try await JSONCall.send(client, .get, "/api/v1/billed-reports", token: token)
                #expect((list.json["reports"] as? [[String: Any]])?.count == 1)
                #expect(try await JSONCall.send(client, .get, "/api/v1/billed-reports/\(foreign)", token: token).status == .notFound)
            }
        }
    }
}

@Suite("TIM chat with the operators")
struct TelcoChatTests {
    @Test("Messages are posted with CSRF, validated, limited, shown newest at the bottom, and each user sees only their own",
          arguments: TestEngine.available)
    func conversation(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let company = try await makeCompany(portal)
            try await portal.test { browser in
                try await browser.logIn(company.user("utilizzatore"), password)
                let empty = try await browser.get("/support/chat")
                #expect(empty.status == .ok && empty.body.contains("Gli operatori sono disponibili ora."), "Saturday 12:00 is within Sat 09:00–13:00")
                #expect(empty.body.contains("Lun–Ven 09:00–19:00"))
                let blank = try await browser.post("/support/chat", ["message": "   "])
                #expect(blank.status == .unprocessableContent && blank.body.contains("id=\"message-error\""))
                let long = try await browser.post("/support/chat", ["message": String(repeating: "a", count: 1001)])
                #expect(long.status == .unprocessableContent && long.body.contains("ne hai scritti 1001"))
                #expect(try await browser.post("/support/chat", ["_csrf": "forged", "message": "Ciao"]).status == .forbidden)
                let sent = try await browser.post("/support/chat", ["message": "La fibra è lenta <b>da ieri</b>"])
                #expect(sent.location == "/support/chat?done=sent#latest")
            }
            let userId = try await portal.database.read(tenant: portal.definition.id) { try await $0.user(usernameKey: company.user("utilizzatore"))!.id! }
            portal.clock.advance(by: 60)
            // The operators' desk (`sportello chat`): the conversation waits for a reply, then gets one.
            let (tenant, services) = (portal.tenant.served, portal.services.application)
            let reply = ReplyInChat(services: services)
            let waiting = try await SupportChat.waiting(tenant: tenant, services: services)
            #expect(waiting.map(\.username) == [company.user("utilizzatore")] && waiting.first?.lastMessage.contains("La fibra è lenta") == true)
            let empty = await #expect(throws: UseCaseRefusal.self) {
                try await reply(tenant: tenant, acting: .staff, .fromOperator(username: company.user("utilizzatore"), operatorName: "Giulia", body: "  "))
            }
            #expect(empty?.code == "empty")
            let stranger = await #expect(throws: UseCaseRefusal.self) {
                try await reply(tenant: tenant, acting: .staff, .fromOperator(username: "nessuno", operatorName: "Giulia", body: "Ciao"))
            }
            #expect(stranger?.code == "unknown_user")
            try await reply(tenant: tenant, acting: .staff, .fromOperator(username: company.user("utilizzatore"), operatorName: "Giulia",
                                                                          body: "Verifico subito la linea."))
            #expect(try await SupportChat.waiting(tenant: tenant, services: services).isEmpty, "answered")
            try await portal.test { browser in
                try await browser.logIn(company.user("utilizzatore"), password)
                let page = try await browser.get("/support/chat")
                let mine = try #require(page.body.range(of: "La fibra è lenta &lt;b&gt;da ieri&lt;/b&gt;"), "the message is shown as text")
                let reply = try #require(page.body.range(of: "Verifico subito la linea."))
                #expect(mine.lowerBound < reply.lowerBound, "newest at the bottom")
                #expect(page.body.contains("Operatore Giulia"))
                for number in 1...9 { _ = try await browser.post("/support/chat", ["message": "Messaggio \(number)"]) }
                let flood = try await browser.post("/support/chat", ["message": "Ancora uno"])
                #expect(flood.status == .unprocessableContent && flood.body.contains("attendi la risposta"))
            }
            try await portal.test { browser in
                try await browser.logIn(company.user("amministratore_full"), password)
                let other = try await browser.get("/support/chat")
                #expect(other.status == .ok && !other.body.contains("La fibra è lenta"), "another user's conversation stays theirs")
            }
            let unread = try await portal.database.read(tenant: portal.definition.id) { transaction in
                try await transaction.chatMessages(customerId: company.customerId, userId: userId).filter { $0.author == "operator" && $0.readAt == nil }
            }
            #expect(unread.isEmpty, "opening the chat marks the replies read")
        }
    }

    @Test("Outside the operators' hours a message gets one automatic notice with the next opening; the API posts too",
          arguments: TestEngine.available)
    func away(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let company = try await makeCompany(portal)
            portal.clock.advance(by: 3 * 3600)   // Saturday 15:00
            let app = buildApplication(services: portal.services)
            try await app.test(.router) { client in
                let token = try await bearer(client, company.user("amministratore_light"))
                let first = try await JSONCall.send(client, .post, "/api/v1/support/chat/messages", token: token, body: ["body": "Buongiorno"])
                #expect(first.status == .created)
                #expect(first.json["operators_available"] as? Bool == false)
                let second = try await JSONCall.send(client, .post, "/api/v1/support/chat/messages", token: token, body: ["body": "Ci siete?"])
                let messages = try #require(second.json["messages"] as? [[String: Any]])
                #expect(messages.map { $0["author"] as? String } == ["customer", "system", "customer"], "one notice per absence")
                #expect((messages[1]["body"] as? String)?.contains("lunedì alle 09:00") == true)
                let empty = try await JSONCall.send(client, .post, "/api/v1/support/chat/messages", token: token, body: ["body": ""])
                #expect(empty.status == .unprocessableContent && empty.errorCode == "invalid")
            }
        }
    }
}

@Suite("TIM contact channels")
struct TelcoContactTests {
    @Test("Channels, numbers and hours from the catalogue, open or closed now; the YAML's customer care when there are none",
          arguments: TestEngine.available)
    func contacts(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let bare = try await makeCompany(portal, seedCatalogue: false)
            try await portal.test { browser in
                try await browser.logIn(bare.user("amministratore_full"), password)
                let page = try await browser.get("/support/contact")
                #expect(page.status == .ok && page.body.contains("href=\"tel:191\"") && page.body.contains("Dal lunedì al sabato"))
            }
            let company = try await makeCompany(portal)
            try await portal.test { browser in
                try await browser.logIn(company.user("amministratore_full"), password)
                let page = try await browser.get("/support/contact")
                #expect(page.body.contains("Servizio Clienti Business 191") && page.body.contains("Lun–Sab 08:00–20:00"))
                #expect(page.body.contains("Tutti i giorni, 24 ore su 24") && page.body.contains("Aperto ora"))
                #expect(page.body.contains("href=\"/support/chat\""), "the chat is linked for a role that has it")
                #expect(!page.body.contains("8597") && !page.body.contains("pec.example.it"),
                        "no number or PEC the tenant's file does not give is shown as TIM's")
            }
            try await portal.test { browser in
                try await browser.logIn(company.user("amministratore_light"), password)
                #expect(try await browser.get("/support/contact").status == .forbidden, "contacting operators is not a Light feature at TIM")
            }
            let app = buildApplication(services: portal.services)
            try await app.test(.router) { client in
                let token = try await bearer(client, company.user("rappresentante_legale"))
                let list = try await JSONCall.send(client, .get, "/api/v1/support/contacts", token: token)
                let channels = try #require(list.json["channels"] as? [[String: Any]])
                #expect(channels.first { $0["code"] as? String == "phone" }?["phone"] as? String == "191")
                #expect(channels.first { $0["code"] as? String == "pec" }?["open_now"] == nil)
                #expect(channels.allSatisfy { ($0["phone"] as? String).map { $0 == "191" } ?? true }, "only the YAML's number 191")
                #expect(!channels.contains { $0["email"] is String }, "TIM's file gives no e-mail or PEC")
            }
        }
    }
}

@Suite("TIM fixed-line diagnosis")
struct TelcoDiagnosisTests {
    @Test("Checks from the store, saved with history and audit; a failing line offers a fault report, an open one is followed instead",
          arguments: TestEngine.available)
    func diagnose(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let company = try await makeCompany(portal, seedCatalogue: false)
            let other = try await makeCompany(portal, seedCatalogue: false)
            let now = Int64(portal.clock.now().timeIntervalSince1970)
            try await portal.database.write(tenant: portal.definition.id) { transaction in
                try await transaction.insertUsage([UsageRecord(customerId: company.customerId, lineId: company.fixed, startedAt: now - 86_400,
                                                               kind: "call", durationSeconds: 60)])
            }
            let (fixed, suspended) = try await portal.database.read(tenant: portal.definition.id) { transaction in
                (try await transaction.line(id: company.fixed, customerId: company.customerId)!.identifier,
                 try await transaction.line(id: company.suspendedFixed, customerId: company.customerId)!.identifier)
            }
            try await portal.test { browser in
                try await browser.logIn(company.user("utilizzatore"), password)
                let list = try await browser.get("/support/diagnosis")
                #expect(list.status == .ok && list.body.contains(fixed) && list.body.contains(suspended))
                let ok = try await browser.follow(try await browser.post("/support/diagnosis/lines/\(company.fixed)", [:]))
                #expect(ok.status == .ok && ok.body.contains("Nessun problema") && ok.body.contains("1 eventi di traffico"))
                #expect(!ok.body.contains("/fault-report\""))
                let run = try await browser.post("/support/diagnosis/lines/\(company.suspendedFixed)", [:])
                let result = try #require(run.location)
                let fault = try await browser.follow(run)
                #expect(fault.body.contains("Problema rilevato") && fault.body.contains("bloccata o sospesa"))
                #expect(fault.body.contains("Nessun traffico registrato negli ultimi 7 giorni"))
                #expect(fault.body.contains("href=\"\(result)/fault-report\""), "a failing line offers the fault report")
                #expect(try await browser.post("/support/diagnosis/lines/\(company.sim)", [:]).status == .notFound, "a SIM is not a fixed line")
                #expect(try await browser.post("/support/diagnosis/lines/\(other.fixed)", [:]).status == .notFound, "another customer's line")
                #expect(try await browser.post("/support/diagnosis/lines/\(company.fixed)", ["_csrf": "forged"]).status == .forbidden)

                let form = try await browser.get("\(result)/fault-report")
                #expect(form.status == .ok && form.body.contains(suspended) && form.body.contains("name=\"fault_type\""))
                let incomplete = try await browser.post("\(result)/fault-report", ["fault_type": "Linea assente", "since": "31/02/2026"])
                #expect(incomplete.status == .unprocessableContent)
                #expect(incomplete.body.contains("id=\"description-error\"") && incomplete.body.contains("id=\"since-error\""))
                let report = try await browser.post("\(result)/fault-report", [
                    "line": fixed, "fault_type": "Linea assente", "since": "2026-11-20", "description": "Nessun segnale da ieri.",
                    "referent_name": "Anna Neri", "referent_email": "anna@example.it", "notify": "email"])
                let requestPath = try #require(report.location)
                #expect(requestPath.hasPrefix("/requests/"), "the fault report is filed")
                let filed = try await browser.follow(report)
                #expect(filed.body.contains(suspended) && !filed.body.contains(fixed), "the report names the diagnosed line, whatever was sent")
                #expect(try await browser.get("\(result)/fault-report").status == .conflict, "one report per diagnosis")
                #expect(try await browser.get(result).body.contains("è stata aperta la segnalazione di guasto"))
                portal.clock.advance(by: 120)
                let followed = try await browser.follow(try await browser.post("/support/diagnosis/lines/\(company.suspendedFixed)", [:]))
                #expect(followed.body.contains("già una segnalazione di guasto aperta"))
                #expect(!followed.body.contains("/fault-report\""), "no second report while one is open")
                #expect(followed.body.contains("Diagnosi precedenti di questa linea"))
            }
            let (history, audit) = try await portal.database.read(tenant: portal.definition.id) { transaction in
                (try await transaction.lineDiagnoses(customerId: company.customerId), try await transaction.auditLog())
            }
            #expect(history.map(\.outcome) == ["fault", "fault", "ok"])
            #expect(audit.filter { $0.action == "line.diagnosed" }.count == 3)
            let otherHistory = try await portal.database.read(tenant: portal.definition.id) { try await $0.lineDiagnoses(customerId: other.customerId) }
            #expect(otherHistory.isEmpty)
            let foreignId = try #require(history.first?.id)
            try await portal.test { browser in
                try await browser.logIn(other.user("rappresentante_legale"), password)
                #expect(try await browser.get("/support/diagnosis/\(foreignId)").status == .notFound, "another customer's diagnosis")
            }
        }
    }

    @Test("Invoices overdue for more than 30 days flag the risk of suspension; the API runs and reads diagnoses", arguments: TestEngine.available)
    func billingAndAPI(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let company = try await makeCompany(portal, seedCatalogue: false)
            try await portal.database.write(tenant: portal.definition.id) { transaction in
                _ = try await transaction.insertInvoice(InvoiceRecord(customerId: company.customerId, number: "2026/OLD/\(company.customerId)",
                                                                      issuedOn: "2026-08-05", dueOn: "2026-09-05", netCents: 1000, taxCents: 220,
                                                                      totalCents: 1220, status: .overdue))
            }
            let app = buildApplication(services: portal.services)
            try await app.test(.router) { client in
                let token = try await bearer(client, company.user("amministratore_full"))
                let missing = try await JSONCall.send(client, .post, "/api/v1/support/diagnoses", token: token, body: [:])
                #expect(missing.status == .unprocessableContent)
                let run = try await JSONCall.send(client, .post, "/api/v1/support/diagnoses", token: token, body: ["line_id": company.fixed])
                #expect(run.status == .created && run.json["outcome"] as? String == "fault")
                let checks = try #require(run.json["checks"] as? [[String: Any]])
                let billing = try #require(checks.first { $0["id"] as? String == "billing" })
                #expect(billing["outcome"] as? String == "fault" && (billing["message"] as? String)?.contains("sospensione") == true)
                let id = try #require(run.json["id"] as? Int)
                let read = try await JSONCall.send(client, .get, "/api/v1/support/diagnoses/\(id)", token: token)
                #expect(read.status == .ok && read.json["line_id"] as? Int == Int(company.fixed))
                #expect(run.json["simulated"] as? Bool == true && (run.json["simulated_label"] as? String)?.contains("non è collegato") == true,
                        "no line-test plugin connected: the diagnosis reads stored rows only and says so")
                #expect(run.json["network"] as? String == "not_connected" && run.json["sandbox"] as? Bool == false)
                let stored = try await portal.database.read(tenant: portal.definition.id) { try await $0.lineDiagnosis(id: Int64(id), customerId: company.customerId) }
                #expect(stored?.simulated == true)
                #expect(run.json["fault_report_suggested"] as? Bool == true, "no traffic on the line")
                let filed = try await JSONCall.send(client, .post, "/api/v1/support/diagnoses/\(id)/fault-reports", token: token,
                                                    body: ["fields": ["fault_type": "Internet lento o assente", "since": "2026-11-19",
                                                                      "description": "Connessione assente", "referent": ["name": "Anna Neri", "phone": "3331234567"]],
                                                           "notify": "sms"])
                #expect(filed.status == .created && (filed.json["request_id"] as? Int ?? 0) > 0)
                let again = try await JSONCall.send(client, .post, "/api/v1/support/diagnoses/\(id)/fault-reports", token: token,
                                                    body: ["fields": ["fault_type": "Altro", "since": "2026-11-19", "description": "x",
                                                                      "referent": ["name": "Anna Neri"]]])
                #expect(again.status == .conflict)
                let overview = try await JSONCall.send(client, .get, "/api/v1/support/diagnoses", token: token)
                let lines = try #require(overview.json["lines"] as? [[String: Any]])
                #expect(lines.count == 2 && lines.contains { ($0["latest"] as? [String: Any])?["id"] as? Int == id })

                // The Utilizzatore may not see invoices: the same risk, told without them.
                let userToken = try await bearer(client, company.user("utilizzatore"))
                let restricted = try await JSONCall.send(client, .post, "/api/v1/support/diagnoses", token: userToken, body: ["line_id": company.fixed])
                let userChecks = try #require(restricted.json["checks"] as? [[String: Any]])
                let userBilling = try #require(userChecks.first { $0["id"] as? String == "billing" })
                let message = userBilling["message"] as? String ?? ""
                #expect(userBilling["outcome"] as? String == "fault" && message.contains("motivi amministrativi"))
                #expect(!message.contains("fattur") && !message.contains("1"), "no invoices and no count: \(message)")
            }
        }
    }

    @Test("The pure checks: worst outcome wins and a fault report is suggested only for a line problem with none open")
    func pureChecks() {
        let today = CalendarDay(year: 2026, month: 11, day: 21)
        let healthy = LineDiagnosis.run(LineDiagnosisInput(lineStatus: .active, openFaultReports: [], recentTrafficCount: 3, lastTrafficAt: 1,
                                                          overdueDueDays: [], today: today))
        #expect(LineDiagnosis.outcome(of: healthy) == .ok && !LineDiagnosis.suggestsFaultReport(healthy))
        let silent = LineDiagnosis.run(LineDiagnosisInput(lineStatus: .active, openFaultReports: [], recentTrafficCount: 0, lastTrafficAt: nil,
                                                         overdueDueDays: ["2026-11-10"], today: today))
        #expect(LineDiagnosis.outcome(of: silent) == .warning && LineDiagnosis.suggestsFaultReport(silent))
        let ceased = LineDiagnosis.run(LineDiagnosisInput(lineStatus: .terminated, openFaultReports: [(7, "open")], recentTrafficCount: 0,
                                                         lastTrafficAt: nil, overdueDueDays: [], today: today))
        #expect(LineDiagnosis.outcome(of: ceased) == .fault && !LineDiagnosis.suggestsFaultReport(ceased))
        let hours = OperatorHours(slots: [.init(days: [1, 2, 3, 4, 5], from: "09:00", to: "19:00")])
        let saturdayNoon = today.startInstant + 12 * 3600
        #expect(!hours.isOpen(at: saturdayNoon))
        #expect(hours.nextOpening(after: saturdayNoon).map { "\($0.weekday) \($0.time)" } == "1 09:00")
        #expect(hours.isOpen(at: CalendarDay(year: 2026, month: 11, day: 23).startInstant + 9 * 3600))
    }
}

@Suite("TIM request forms for lines and assistance")
struct TelcoRequestFormsTests {
    @Test("Relocation for the Legal Representative only, SIM change for administrators Full, expert requests; the section links each form",
          arguments: TestEngine.available)
    func forms(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let company = try await makeCompany(portal, seedCatalogue: false)
            let fixed = try await portal.database.read(tenant: portal.definition.id) { try await $0.line(id: company.fixed, customerId: company.customerId)!.identifier }
            try await portal.test { browser in
                try await browser.logIn(company.user("rappresentante_legale"), password)
                let section = try await browser.get("/sections/lines")
                #expect(section.body.contains("href=\"/requests/new/line_relocation\"") && section.body.contains("href=\"/requests/new/sim_change\""))
                let support = try await browser.get("/sections/support")
                #expect(support.body.contains("href=\"/support/chat\"") && support.body.contains("href=\"/support/diagnosis\"")
                        && support.body.contains("href=\"/requests/new/expert_request\"") && support.body.contains("href=\"/support/contact\""))
                let bad = try await browser.post("/requests/new/line_relocation", ["line": fixed, "preferred_date": "31/02/2027",
                                                                                   "referent_name": "Anna Neri", "notify": "email"])
                #expect(bad.status == .unprocessableContent, "a new address and a real date are required")
                let good = try await browser.post("/requests/new/line_relocation", [
                    "line": fixed, "new_address": "Via Roma 10, 00184 Roma", "preferred_date": "15/12/2026",
                    "referent_name": "Anna Neri", "referent_email": "anna@example.it", "notify": "email"])
                #expect(good.location?.hasPrefix("/requests/") == true)
                let second = try await browser.post("/requests/new/line_relocation", [
                    "line": fixed, "new_address": "Via Milano 1, 20121 Milano", "preferred_date": "16/12/2026",
                    "referent_name": "Anna Neri", "referent_email": "anna@example.it", "notify": "email"])
                #expect(second.status == .conflict, "one relocation at a time")
            }
            try await portal.test { browser in
                try await browser.logIn(company.user("amministratore_full"), password)
                #expect(try await browser.get("/requests/new/sim_change").status == .ok)
                #expect(try await browser.get("/requests/new/line_relocation").status == .forbidden, "relocation is the Legal Representative's")
            }
            try await portal.test { browser in
                try await browser.logIn(company.user("amministratore_light"), password)
                #expect(try await browser.get("/requests/new/sim_change").status == .forbidden)
                #expect(try await browser.get("/requests/new/fault_report").status == .ok)
            }
        }
    }
}

@Suite("TIM assistance pages with the demo data")
struct TelcoSupportDemoDataTests {
    @Test("Every TIM demo login opens exactly the pages its role grants; the demo offers, chat, reports and diagnoses show",
          arguments: TestEngine.available)
    func demoLogins(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let generator = DemoDataGenerator(tenant: portal.definition, now: Int64(portal.clock.now().timeIntervalSince1970),
                                              hasher: portal.services.passwords)
            let summary = try await generator.generate(into: portal.database)
            let counts = Dictionary(uniqueKeysWithValues: summary.counts)
            #expect((counts[.chatMessages] ?? 0) > 0 && (counts[.lineDiagnoses] ?? 0) > 0)
            var seen: Set<String> = []
            for login in summary.logins where seen.insert(login.role).inserted {
                let key = UsernameRules.key(for: login.username, caseSensitive: portal.definition.login.caseSensitive)
                let user = try #require(try await portal.database.read(tenant: portal.definition.id) { try await $0.user(usernameKey: key) })
                let principal = try portal.tenant.authorization.principal(role: user.role, toggles: Set(user.toggleList), customerType: login.customerType)
                try await portal.test { browser in
                    #expect(try await browser.post("/login", ["identifier": login.username, "password": login.password]).location == "/")
                    for page in TelcoSupportController.pages {
                        let granted = page.definedFeatures(in: portal.definition).contains { portal.tenant.authorization.isAllowed(principal, $0) }
                        let shown = try await browser.get(page.path)
                        #expect(shown.status == (granted ? .ok : .forbidden), "\(login.role): \(page.path)")
                        guard granted else { continue }
                        switch page.path {
                        case "/offers":
                            #expect(shown.body.contains("TIM Business Giga 200"))
                        case "/usage/billed-reports":
                            let id = try #require(shown.body.range(of: #"/usage/billed-reports/(\d+)""#, options: .regularExpression)
                                .map { String(shown.body[$0].dropFirst("/usage/billed-reports/".count).dropLast()) })
                            let report = try await browser.get("/usage/billed-reports/\(id)")
                            #expect(report.status == .ok && report.body.contains("<tfoot>"), "\(login.role): the newest report has lines")
                        case "/support/chat":
                            #expect(shown.body.contains("chat-form"))
                        case "/support/diagnosis":
                            if let line = shown.body.range(of: #"/support/diagnosis/lines/(\d+)""#, options: .regularExpression) {
                                let path = String(shown.body[line].dropLast())
                                let result = try await browser.follow(try await browser.post(path, [:]))
                                #expect(result.status == .ok && result.body.contains("diagnosis-"), "\(login.role): a demo line is diagnosed")
                            }
                        default:
                            break
                        }
                    }
                }
            }
        }
    }
}
