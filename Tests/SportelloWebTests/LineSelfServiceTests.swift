import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloCore
import SportelloMail
@testable import SportelloStore
@testable import SportelloWeb

// MARK: - Fixtures

/// A portal user created by `userForRole`, with their ids.
private struct SelfServiceAccount {
    var username: String
    var userId: Int64
    var customerId: Int64
    var email: String
}

private let selfServicePassword = "Vecchia2026!"

extension PortalHarness {
    fileprivate func selfServiceAccount(_ role: String) async throws -> SelfServiceAccount {
        let username = try await userForRole(role)
        let key = UsernameRules.key(for: username, caseSensitive: definition.login.caseSensitive)
        let user = try #require(try await database.read(tenant: definition.id) { try await $0.user(usernameKey: key) })
        return SelfServiceAccount(username: username, userId: try #require(user.id), customerId: user.customerId, email: user.email ?? "")
    }

    /// Another user of the same customer, named `first last`.
    fileprivate func colleague(of account: SelfServiceAccount, role: String, first: String, last: String) async throws -> SelfServiceAccount {
        let local = "c.\(UUID().uuidString.prefix(6).lowercased())"
        let email = "\(local)@example.it"
        let hash = try await services.passwords.hash(selfServicePassword)
        let id = try await database.write(tenant: definition.id) { transaction in
            try await transaction.insertUser(UserRecord(customerId: account.customerId, username: local,
                                                        usernameKey: UsernameRules.key(for: local, caseSensitive: definition.login.caseSensitive),
                                                        email: email, firstName: first, lastName: last, passwordHash: hash, role: role, createdAt: 0))
        }
        return SelfServiceAccount(username: local, userId: id, customerId: account.customerId, email: email)
    }

    /// A line of `kind` on a new contract of the customer.
    fileprivate func selfServiceLine(_ customerId: Int64, kind: String = "sim", number: String, status: LineStatus = .active,
                                     assignedTo userId: Int64? = nil) async throws -> Int64 {
        try await database.write(tenant: definition.id) { transaction in
            let contract = try await transaction.insertContract(ContractRecord(customerId: customerId, code: "K-\(number)", offer: "Business",
                                                                               kind: kind == "sim" ? "mobile" : "fixed", startsOn: "2025-01-01"))
            return try await transaction.insertLine(LineRecord(customerId: customerId, contractId: contract, kind: kind, identifier: number,
                                                               status: status, assignedUserId: userId))
        }
    }

    fileprivate var selfServiceNow: Int64 { Int64(clock.now().timeIntervalSince1970) }

    fileprivate func selfServiceAudit() async throws -> [AuditRecord] {
        try await database.read(tenant: definition.id) { try await $0.auditLog(limit: 500) }
    }
}

extension JSONCall {
    fileprivate static func token(_ client: some TestClientProtocol, _ username: String) async throws -> String {
        let login = try await send(client, .post, "/api/v1/session", body: ["identifier": username, "password": selfServicePassword])
        #expect(login.status == .created, "API login as \(username)")
        return try #require(login.json["token"] as? String)
    }
}

// MARK: - Line activation

@Suite("WINDTRE line activation: progress page, \"Tienimi Aggiornato\", progress e-mails")
struct LineActivationTests {
    private func activation(_ portal: PortalHarness, customerId: Int64, identifier: String?, offer: String, stage: LineActivationStage,
                            progress: Int64, status: LineActivationStatus = .inProgress, requested: String = "2026-11-02",
                            expected: String? = "2026-11-30") async throws -> Int64 {
        try await portal.database.write(tenant: portal.definition.id) { transaction in
            try await transaction.insertLineActivation(LineActivationRecord(
                customerId: customerId, kind: "fixed_line", identifier: identifier, offer: offer, site: "Via Roma 1, 00184 Roma (RM)",
                requestedOn: requested, expectedOn: expected, progress: progress, stage: stage.rawValue, status: status,
                updatedAt: portal.selfServiceNow - 3_600))
        }
    }

    @Test("the page lists the customer's activations in progress with dates, stage and percentage; finished and other customers' are not shown",
          arguments: TestEngine.available)
    func pageShowsActivationsInProgress(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let admin = try await portal.selfServiceAccount("user_admin")
            let stranger = try await portal.selfServiceAccount("user_admin")
            _ = try await activation(portal, customerId: admin.customerId, identifier: "0612345678", offer: "Fibra 2.5 Giga Pro",
                                     stage: .appointment, progress: 52)
            _ = try await activation(portal, customerId: admin.customerId, identifier: "0698765432", offer: "Fibra 1 Giga Business",
                                     stage: .completed, progress: 100, status: .completed)
            _ = try await activation(portal, customerId: stranger.customerId, identifier: "0255555555", offer: "Fibra altrui",
                                     stage: .testing, progress: 90)
            try await portal.test { browser in
                try await browser.logIn(admin.username)
                let page = try await browser.get("/self-service/activations")
                #expect(page.status == .ok)
                #expect(page.body.contains("0612345678") && page.body.contains("Fibra 2.5 Giga Pro"))
                #expect(page.body.contains("02/11/2026") && page.body.contains("30/11/2026"), "request and expected dates")
                #expect(page.body.contains("value=\"52\"") && page.body.contains("Appuntamento con il tecnico"))
                #expect(!page.body.contains("0698765432"), "a completed activation leaves the page")
                #expect(!page.body.contains("0255555555"), "another customer's activation is never shown")
                #expect(page.body.contains("id=\"keep-email\""), "the keep-me-updated switch")
            }
            let manager = try await portal.colleague(of: admin, role: "telco_manager", first: "Luca", last: "Bianchi")
            try await portal.test { browser in
                try await browser.logIn(manager.username)
                #expect(try await browser.get("/self-service/activations").body.contains("0612345678"), "the Telco Manager sees them too")
            }
        }
    }

    @Test("a tenant without line activation has no such page", arguments: TestEngine.available)
    func otherTenantsHaveNoPage(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let admin = try await portal.userForRole("amministratore_full")
            try await portal.test { browser in
                try await browser.logIn(admin)
                for path in ["/self-service/activations", "/self-service/sims", "/self-service/promotions", "/self-service/automatic-recharges"] {
                    #expect(try await browser.get(path).status == .notFound, "\(path)")
                }
            }
        }
    }

    @Test("\"Tienimi Aggiornato\" is stored as the user's notification choice, needs the CSRF token and is audited",
          arguments: TestEngine.available)
    func keepUpdatedSwitch(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let admin = try await portal.selfServiceAccount("user_admin")
            try await portal.test { browser in
                try await browser.logIn(admin.username)
                let before = try await browser.get("/self-service/activations")
                #expect(!before.body.contains("value=\"1\" checked") && before.body.contains("Al momento non ricevi messaggi"), "off until chosen")
                let forged = try await browser.post("/self-service/activations/keep-updated", ["_csrf": "forged", "channel.email": "1"])
                #expect(forged.status == .forbidden)
                let saved = try await browser.post("/self-service/activations/keep-updated", ["channel.email": "1"])
                #expect(saved.location == "/self-service/activations?done=saved")
                let page = try await browser.follow(saved)
                #expect(page.body.contains("id=\"keep-email\" name=\"channel.email\" value=\"1\" checked"))
                #expect(!page.body.contains("id=\"keep-sms\" name=\"channel.sms\" value=\"1\" checked"))
                #expect(page.body.contains("Riceverai un messaggio a ogni avanzamento."))
                #expect(try await browser.get("/notifications").status == .ok)
            }
            let preferences = try await portal.database.read(tenant: portal.definition.id) { try await $0.notificationPreferences(userId: admin.userId) }
            #expect(preferences.first { $0.rule == "fixed_line_activation" && $0.channel == "email" }?.enabled == true)
            #expect(preferences.first { $0.rule == "fixed_line_activation" && $0.channel == "sms" }?.enabled == false)
            #expect(try await portal.selfServiceAudit().contains { $0.action == "notifications.updated" && $0.actorUserId == admin.userId })
        }
    }

    @Test("reported progress updates the activation and e-mails only the subscribed users of that customer", arguments: TestEngine.available)
    func progressMailsSubscribers(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let admin = try await portal.selfServiceAccount("user_admin")
            let manager = try await portal.colleague(of: admin, role: "telco_manager", first: "Luca", last: "Bianchi")
            let stranger = try await portal.selfServiceAccount("user_admin")
            let id = try await activation(portal, customerId: admin.customerId, identifier: "0611112222", offer: "Fibra 2.5 Giga Pro",
                                          stage: .feasibility, progress: 25)
            try await portal.database.write(tenant: portal.definition.id) { transaction in
                for user in [admin.userId, stranger.userId] {
                    try await transaction.setNotificationPreference(NotificationPreferenceRecord(userId: user, rule: "fixed_line_activation",
                                                                                                 channel: "email", enabled: true))
                }
                try await transaction.setNotificationPreference(NotificationPreferenceRecord(userId: manager.userId, rule: "fixed_line_activation",
                                                                                             channel: "email", enabled: false))
            }
            let change = try await LineActivationProgress.advance(id: id, stage: .installation, expectedOn: "2026-12-05",
                                                                   tenant: portal.tenant, services: portal.services)
            #expect(change.after.progress == 75 && change.after.stage == "installation" && change.after.expectedOn == "2026-12-05")
            #expect(change.notifiedUserIds == [admin.userId], "subscribed, same customer; not the manager who opted out, not the stranger")
            var outbox = try await portal.database.read(tenant: portal.definition.id) { try await $0.outbox(limit: 50) }
            #expect(outbox.count == 1)
            let mail = try #require(outbox.first)
            #expect(mail.recipient == admin.email && mail.kind == "line_activation_progress")
            #expect(mail.subject.contains("Lavori di installazione") && mail.subject.contains("75%"))
            #expect(mail.bodyText.contains("0611112222") && mail.bodyText.contains("05/12/2026") && mail.bodyText.contains("/self-service/activations"))

            let unchanged = try await LineActivationProgress.advance(id: id, stage: .installation, tenant: portal.tenant, services: portal.services)
            #expect(unchanged.notifiedUserIds.isEmpty, "no news, no e-mail")
            await #expect(throws: StoreError.self) {
                try await LineActivationProgress.advance(id: id, stage: .testing, progress: 150, tenant: portal.tenant, services: portal.services)
            }
            await #expect(throws: StoreError.self) {
                try await LineActivationProgress.advance(id: id, stage: .testing, expectedOn: "31/12/2026", tenant: portal.tenant, services: portal.services)
            }
            let done = try await LineActivationProgress.advance(id: id, stage: .completed, tenant: portal.tenant, services: portal.services)
            #expect(done.after.status == .completed && done.after.progress == 100 && done.notifiedUserIds == [admin.userId])
            outbox = try await portal.database.read(tenant: portal.definition.id) { try await $0.outbox(limit: 50) }
            #expect(outbox.count == 2 && outbox.contains { $0.subject.contains("Linea attivata") })
            await #expect(throws: StoreError.self) {
                try await LineActivationProgress.advance(id: id, stage: .testing, tenant: portal.tenant, services: portal.services)
            }
            #expect(try await portal.selfServiceAudit().filter { $0.action == "line_activation.progress" }.count == 2)
            try await portal.test { browser in
                try await browser.logIn(admin.username)
                #expect(!(try await browser.get("/self-service/activations").body.contains("0611112222")), "completed: off the page")
            }
            if MailSink.isAvailable {
                let delivered = try await portal.mail(to: admin.email)
                #expect(delivered.subject?.contains("WINDTRE") == true)
            }
        }
    }

    @Test("API: activations and the keep-updated switch, with every channel problem reported", arguments: TestEngine.available)
    func activationsAPI(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let admin = try await portal.selfServiceAccount("user_admin")
            _ = try await activation(portal, customerId: admin.customerId, identifier: nil, offer: "Centralino Smart Office",
                                     stage: .received, progress: 10, expected: nil)
            let app = buildApplication(services: portal.services)
            try await app.test(.router) { client in
                let token = try await JSONCall.token(client, admin.username)
                let list = try await JSONCall.send(client, .get, "/api/v1/self-service/activations", token: token)
                #expect(list.status == .ok)
                let activations = try #require(list.json["activations"] as? [[String: Any]])
                #expect(activations.count == 1)
                #expect(activations.first?["offer"] as? String == "Centralino Smart Office")
                #expect(activations.first?["progress"] as? Int == 10 && activations.first?["stage"] as? String == "received")
                #expect(activations.first?["stage_label"] as? String == "Richiesta ricevuta")
                #expect((list.json["keep_updated"] as? [String: Any])?["rule"] as? String == "fixed_line_activation")
                let wrong = try await JSONCall.send(client, .put, "/api/v1/self-service/activations/keep-updated", token: token,
                                                    body: ["channels": ["sms": true, "fax": true]])
                #expect(wrong.status == .unprocessableContent && wrong.fieldCodes["channels.fax"] == "unknown_channel")
                let saved = try await JSONCall.send(client, .put, "/api/v1/self-service/activations/keep-updated", token: token,
                                                    body: ["channels": ["sms": true]])
                #expect(saved.status == .ok)
                let channels = try #require(saved.json["channels"] as? [[String: Any]])
                #expect(channels.first { $0["channel"] as? String == "sms" }?["enabled"] as? Bool == true)
                #expect(channels.first { $0["channel"] as? String == "email" }?["enabled"] as? Bool == false)
            }
        }
    }
}

// MARK: - SIM association

@Suite("WINDTRE SIM association: current employee and history")
struct SIMAssociationTests {
    @Test("associating and dissociating records the history; the page and the API show it, fenced to the customer",
          arguments: TestEngine.available)
    func associationHistory(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let admin = try await portal.selfServiceAccount("user_admin")
            let manager = try await portal.colleague(of: admin, role: "telco_manager", first: "Luca", last: "Bianchi")
            let stranger = try await portal.selfServiceAccount("user_admin")
            let sim = try await portal.selfServiceLine(admin.customerId, number: "3331234567")
            let spare = try await portal.selfServiceLine(admin.customerId, number: "3337654321")
            let fixed = try await portal.selfServiceLine(admin.customerId, kind: "fixed_line", number: "0612340000")
            let foreign = try await portal.selfServiceLine(stranger.customerId, number: "3339990000")
            let tenant = portal.definition.id
            let results: [Bool] = try await portal.database.write(tenant: tenant) { transaction in
                [try await transaction.assignSIM(lineId: sim, customerId: admin.customerId, to: manager.userId, actorUserId: admin.userId),
                 try await transaction.assignSIM(lineId: sim, customerId: admin.customerId, to: admin.userId, actorUserId: admin.userId,
                                                 note: "Cambio mansione"),
                 try await transaction.assignSIM(lineId: sim, customerId: admin.customerId, to: admin.userId)]
            }
            #expect(results == [true, true, false], "the third changes nothing and records no history")
            await #expect(throws: StoreError.self) {
                try await portal.database.write(tenant: tenant) { try await $0.assignSIM(lineId: foreign, customerId: admin.customerId, to: admin.userId) }
            }
            await #expect(throws: StoreError.self) {
                try await portal.database.write(tenant: tenant) { try await $0.assignSIM(lineId: sim, customerId: admin.customerId, to: stranger.userId) }
            }
            await #expect(throws: StoreError.self) {
                try await portal.database.write(tenant: tenant) { try await $0.assignSIM(lineId: fixed, customerId: admin.customerId, to: admin.userId) }
            }
            let (line, history) = try await portal.database.read(tenant: tenant) { transaction in
                (try await transaction.line(id: sim, customerId: admin.customerId), try await transaction.simAssignments(customerId: admin.customerId))
            }
            #expect(line?.assignedUserId == admin.userId)
            #expect(history.map(\.action) == ["associated", "dissociated", "associated"], "newest first")
            #expect(history.map(\.userName) == ["Maria Verdi", "Luca Bianchi", "Luca Bianchi"])
            #expect(try await portal.selfServiceAudit().filter { $0.action == "sim.associated" }.count == 2)

            try await portal.test { browser in
                try await browser.logIn(admin.username)
                let page = try await browser.get("/self-service/sims")
                #expect(page.status == .ok)
                #expect(page.body.contains("3331234567") && page.body.contains("Maria Verdi") && page.body.contains("Luca Bianchi"))
                #expect(page.body.contains("Disassociata") && page.body.contains("Cambio mansione"))
                #expect(page.body.contains("3337654321") && page.body.contains("Non associata"))
                #expect(!page.body.contains("0612340000"), "only SIMs")
                #expect(!page.body.contains("3339990000"), "another customer's SIM is never shown")
                let filtered = try await browser.get("/self-service/sims?line=\(spare)")
                #expect(filtered.status == .ok && filtered.body.contains("Nessuna associazione") && !filtered.body.contains("Cambio mansione"))
                #expect(try await browser.get("/self-service/sims?line=\(foreign)").status == .notFound)
                #expect(try await browser.get("/self-service/sims?line=abc").status == .notFound)
            }
            let app = buildApplication(services: portal.services)
            try await app.test(.router) { client in
                let token = try await JSONCall.token(client, manager.username)
                let answer = try await JSONCall.send(client, .get, "/api/v1/self-service/sims?line=\(sim)", token: token)
                #expect(answer.status == .ok)
                let sims = try #require(answer.json["sims"] as? [[String: Any]])
                #expect(sims.count == 2)
                let current = try #require(sims.first { $0["line_id"] as? Int == Int(sim) })
                #expect((current["employee"] as? [String: Any])?["name"] as? String == "Maria Verdi")
                #expect(current["associated_since"] as? Int == Int(history[0].at))
                let events = try #require(answer.json["history"] as? [[String: Any]])
                #expect(events.count == 3 && events.first?["action"] as? String == "associated" && events.first?["identifier"] as? String == "3331234567")
            }
        }
    }
}

// MARK: - Promotions

@Suite("WINDTRE promotions: on offer today to the customer's type, by phone")
struct PromotionsTests {
    @Test("only current promotions for the customer's type are listed, with the lines they apply to and the 1928 number",
          arguments: TestEngine.available)
    func promotionsOnOffer(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let admin = try await portal.selfServiceAccount("user_admin")
            _ = try await portal.selfServiceLine(admin.customerId, number: "3351111111")
            _ = try await portal.selfServiceLine(admin.customerId, number: "3352222222", status: .suspended)
            _ = try await portal.selfServiceLine(admin.customerId, kind: "fixed_line", number: "0613333333")
            try await portal.database.write(tenant: portal.definition.id) { transaction in
                let sims = #"{"activation_phone":"800123456","line_kinds":["sim"],"conditions":"Solo SIM ricaricabili"}"#
                _ = try await transaction.insertCatalogItem(CatalogItemRecord(kind: "promotion", code: "P-SIM", title: "Giga Extra Prova",
                                                                              customerType: "business", priceCents: 300, billingPeriod: "month",
                                                                              validFrom: "2026-11-01", validTo: "2026-12-31", position: 1, data: sims))
                _ = try await transaction.insertCatalogItem(CatalogItemRecord(kind: "promotion", code: "P-ALL", title: "Centralino Prova",
                                                                              position: 2))
                _ = try await transaction.insertCatalogItem(CatalogItemRecord(kind: "promotion", code: "P-OLD", title: "Promo Scaduta",
                                                                              validTo: "2026-10-31", position: 3))
                _ = try await transaction.insertCatalogItem(CatalogItemRecord(kind: "promotion", code: "P-PRIV", title: "Promo Privati",
                                                                              customerType: "private", position: 4))
                _ = try await transaction.insertCatalogItem(CatalogItemRecord(kind: "offer", code: "P-OFFER", title: "Offerta Altra Sezione",
                                                                              position: 5))
                _ = try await transaction.insertCatalogItem(CatalogItemRecord(kind: "promotion", code: "P-OFF", title: "Promo Spenta",
                                                                              position: 6, active: false))
            }
            try await portal.test { browser in
                try await browser.logIn(admin.username)
                let page = try await browser.get("/self-service/promotions")
                #expect(page.status == .ok)
                #expect(page.body.contains("Giga Extra Prova") && page.body.contains("Centralino Prova"))
                for hidden in ["Promo Scaduta", "Promo Privati", "Offerta Altra Sezione", "Promo Spenta"] {
                    #expect(!page.body.contains(hidden), "\(hidden)")
                }
                #expect(page.body.contains("href=\"tel:1928\""), "the tenant's customer care number wins over the item's")
                #expect(page.body.contains("3,00 € al mese") && page.body.contains("31/12/2026") && page.body.contains("Solo SIM ricaricabili"))
            }
            let app = buildApplication(services: portal.services)
            try await app.test(.router) { client in
                let token = try await JSONCall.token(client, admin.username)
                let answer = try await JSONCall.send(client, .get, "/api/v1/self-service/promotions", token: token)
                #expect(answer.status == .ok)
                let promotions = try #require(answer.json["promotions"] as? [[String: Any]])
                #expect(promotions.map { $0["code"] as? String } == ["P-SIM", "P-ALL"])
                let simOnly = try #require(promotions.first)
                #expect((simOnly["activation"] as? [String: Any])?["phone"] as? String == "1928")
                #expect((simOnly["activation"] as? [String: Any])?["online"] as? Bool == false)
                let eligible = (simOnly["eligible_lines"] as? [[String: Any]])?.compactMap { $0["identifier"] as? String }
                #expect(eligible == ["3351111111"], "active SIMs only")
                let everyKind = (promotions.last?["eligible_lines"] as? [[String: Any]])?.compactMap { $0["identifier"] as? String }
                #expect(everyKind == ["3351111111", "0613333333"])
            }
        }
    }
}

// MARK: - Automatic recharges

@Suite("WINDTRE automatic recharge: create, change, suspend, cancel")
struct AutomaticRechargeTests {
    @Test("the form reports every problem next to its field; a valid one is created, changed, suspended, resumed and cancelled, all audited",
          arguments: TestEngine.available)
    func formLifecycle(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let admin = try await portal.selfServiceAccount("user_admin")
            let stranger = try await portal.selfServiceAccount("user_admin")
            let sim = try await portal.selfServiceLine(admin.customerId, number: "3471234567")
            let fixed = try await portal.selfServiceLine(admin.customerId, kind: "fixed_line", number: "0614445555")
            let foreign = try await portal.selfServiceLine(stranger.customerId, number: "3479999999")
            try await portal.test { browser in
                try await browser.logIn(admin.username)
                #expect(try await browser.get("/self-service/automatic-recharges").body.contains("Nessuna ricarica automatica impostata"))
                let form = try await browser.get("/self-service/automatic-recharges/new")
                #expect(form.status == .ok && !form.body.contains("card_number") && !form.body.contains("value=\"card\""),
                        "charged on the bill only: no card choice, no card field")

                let empty = try await browser.post("/self-service/automatic-recharges", ["line_id": "\(sim)"])
                #expect(empty.status == .unprocessableContent)
                for field in ["mode", "amount_euro", "payment_method"] { #expect(empty.body.contains("id=\"\(field)-error\""), "\(field)") }
                let fields = ["line_id": "\(sim)", "mode": "threshold", "amount_euro": "5", "threshold_euro": "10", "payment_method": "card",
                              "card_number": "4111111111111111"]
                let bad = try await browser.post("/self-service/automatic-recharges", fields)
                #expect(bad.status == .unprocessableContent)
                #expect(bad.body.contains("id=\"threshold_euro-error\""))
                #expect(bad.body.contains("id=\"payment_method-error\""), "the card is refused: no card number is taken by the portal")
                let day29 = try await browser.post("/self-service/automatic-recharges",
                                                   ["line_id": "\(sim)", "mode": "monthly", "amount_euro": "10", "day_of_month": "29", "payment_method": "invoice"])
                #expect(day29.status == .unprocessableContent && day29.body.contains("id=\"day_of_month-error\""))
                let onFixed = try await browser.post("/self-service/automatic-recharges",
                                                     ["line_id": "\(fixed)", "mode": "monthly", "amount_euro": "10", "day_of_month": "3", "payment_method": "invoice"])
                #expect(onFixed.status == .unprocessableContent && onFixed.body.contains("id=\"line_id-error\""))
                #expect(try await browser.post("/self-service/automatic-recharges",
                                               ["line_id": "\(foreign)", "mode": "monthly", "amount_euro": "10", "day_of_month": "3",
                                                "payment_method": "invoice"]).status == .notFound)

                let good = ["line_id": "\(sim)", "mode": "threshold", "amount_euro": "20", "threshold_euro": "5", "payment_method": "invoice"]
                #expect(try await browser.post("/self-service/automatic-recharges", good).location == "/self-service/automatic-recharges?done=created")
                let list = try await browser.get("/self-service/automatic-recharges")
                #expect(list.body.contains("20,00 € quando il credito scende sotto 5,00 €") && list.body.contains("Addebito diretto in fattura"))
                let twice = try await browser.post("/self-service/automatic-recharges", good)
                #expect(twice.status == .unprocessableContent && twice.body.contains("id=\"line_id-error\""), "one automatic recharge per SIM")
            }
            let created = try #require(try await portal.database.read(tenant: portal.definition.id) {
                try await $0.liveAutomaticRecharge(lineId: sim, customerId: admin.customerId)
            })
            let id = try #require(created.id)
            #expect(created.cardLastFour == nil && created.paymentMethod == "invoice" && created.amountCents == 2_000 && created.thresholdCents == 500)

            try await portal.test { browser in
                try await browser.logIn(admin.username)
                let changed = try await browser.post("/self-service/automatic-recharges/\(id)",
                                                     ["mode": "monthly", "amount_euro": "15", "day_of_month": "15", "payment_method": "invoice"])
                #expect(changed.location == "/self-service/automatic-recharges?done=changed")
                let list = try await browser.get("/self-service/automatic-recharges")
                #expect(list.body.contains("15,00 € ogni mese, il giorno 15") && list.body.contains("15/12/2026"), "next run after 21/11/2026")
                let noCard = try await browser.post("/self-service/automatic-recharges/\(id)",
                                                    ["mode": "monthly", "amount_euro": "15", "day_of_month": "15", "payment_method": "card"])
                #expect(noCard.status == .unprocessableContent && noCard.body.contains("id=\"payment_method-error\""), "the card is not offered")
                #expect(try await browser.post("/self-service/automatic-recharges/\(id)/suspend", ["_csrf": "forged"]).status == .forbidden)
                #expect(try await browser.post("/self-service/automatic-recharges/\(id)/suspend", [:]).location
                        == "/self-service/automatic-recharges?done=suspended")
                #expect(try await browser.get("/self-service/automatic-recharges").body.contains("Sospesa"))
                #expect(try await browser.post("/self-service/automatic-recharges/\(id)/suspend", [:]).status == .conflict)
                #expect(try await browser.post("/self-service/automatic-recharges/\(id)/resume", [:]).location
                        == "/self-service/automatic-recharges?done=resumed")
                #expect(try await browser.post("/self-service/automatic-recharges/\(id)/cancel", [:]).location
                        == "/self-service/automatic-recharges?done=cancelled")
                #expect(try await browser.get("/self-service/automatic-recharges").body.contains("Nessuna ricarica automatica impostata"))
                #expect(try await browser.post("/self-service/automatic-recharges/\(id)",
                                               ["mode": "monthly", "amount_euro": "15", "day_of_month": "15", "payment_method": "invoice"]).status == .conflict)
            }
            try await portal.test { browser in
                try await browser.logIn(stranger.username)
                #expect(try await browser.get("/self-service/automatic-recharges/\(id)").status == .notFound)
                #expect(try await browser.post("/self-service/automatic-recharges/\(id)/cancel", [:]).status == .notFound)
            }
            let audit = try await portal.selfServiceAudit()
            for action in ["created", "changed", "suspended", "resumed", "cancelled"] {
                #expect(audit.contains { $0.action == "automatic_recharge.\(action)" && $0.actorUserId == admin.userId }, "\(action)")
            }
            #expect(!audit.contains { $0.detail?.contains("4111111111111111") == true }, "the card number is never kept")
        }
    }

    @Test("API: create, change, suspend and cancel with field codes; cookie calls need the CSRF header", arguments: TestEngine.available)
    func automaticRechargesAPI(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let admin = try await portal.selfServiceAccount("user_admin")
            let manager = try await portal.colleague(of: admin, role: "telco_manager", first: "Luca", last: "Bianchi")
            let stranger = try await portal.selfServiceAccount("user_admin")
            let sim = try await portal.selfServiceLine(admin.customerId, number: "3401112222")
            let app = buildApplication(services: portal.services)
            try await app.test(.router) { client in
                let token = try await JSONCall.token(client, manager.username)
                let options = try await JSONCall.send(client, .get, "/api/v1/self-service/automatic-recharges", token: token)
                #expect(options.status == .ok)
                #expect((options.json["lines"] as? [[String: Any]])?.first?["identifier"] as? String == "3401112222")
                #expect((options.json["amounts_euro"] as? [Int])?.contains(20) == true)
                let invalid = try await JSONCall.send(client, .post, "/api/v1/self-service/automatic-recharges", token: token,
                                                      body: ["line_id": Int(sim), "mode": "threshold", "amount_euro": 7, "threshold_euro": 10, "payment_method": "card"])
                #expect(invalid.status == .unprocessableContent && invalid.errorCode == "invalid")
                #expect(invalid.fieldCodes["amount_euro"] == "invalid" && invalid.fieldCodes["payment_method"] == "invalid")
                let created = try await JSONCall.send(client, .post, "/api/v1/self-service/automatic-recharges", token: token,
                                                      body: ["line_id": Int(sim), "mode": "monthly", "amount_euro": 10, "day_of_month": 3, "payment_method": "invoice"])
                #expect(created.status == .created)
                #expect(created.json["status"] as? String == "active" && created.json["next_run_on"] as? String == "2026-12-03")
                #expect((created.json["amount"] as? [String: Any])?["cents"] as? Int == 1_000)
                let id = try #require(created.json["id"] as? Int)
                let tooHigh = try await JSONCall.send(client, .put, "/api/v1/self-service/automatic-recharges/\(id)", token: token,
                                                      body: ["mode": "threshold", "amount_euro": 10, "threshold_euro": 15, "payment_method": "invoice"])
                #expect(tooHigh.status == .unprocessableContent && tooHigh.fieldCodes["threshold_euro"] == "not_below_amount")
                let byCard = try await JSONCall.send(client, .put, "/api/v1/self-service/automatic-recharges/\(id)", token: token,
                                                     body: ["mode": "threshold", "amount_euro": 25, "threshold_euro": 5, "payment_method": "card"])
                #expect(byCard.status == .unprocessableContent && byCard.fieldCodes["payment_method"] == "invalid", "no card: charged on the bill only")
                let byBill = try await JSONCall.send(client, .put, "/api/v1/self-service/automatic-recharges/\(id)", token: token,
                                                     body: ["mode": "threshold", "amount_euro": 25, "threshold_euro": 5, "payment_method": "invoice"])
                #expect(byBill.status == .ok && byBill.json["card_last_four"] == nil && byBill.json["next_run_on"] == nil)
                let suspended = try await JSONCall.send(client, .post, "/api/v1/self-service/automatic-recharges/\(id)/suspend", token: token)
                #expect(suspended.status == .ok && suspended.json["status"] as? String == "suspended")
                let otherToken = try await JSONCall.token(client, stranger.username)
                #expect(try await JSONCall.send(client, .delete, "/api/v1/self-service/automatic-recharges/\(id)", token: otherToken).status == .notFound)
                let cancelled = try await JSONCall.send(client, .delete, "/api/v1/self-service/automatic-recharges/\(id)", token: token)
                #expect(cancelled.status == .ok && cancelled.json["status"] as? String == "cancelled")
                let after = try await JSONCall.send(client, .get, "/api/v1/self-service/automatic-recharges", token: token)
                #expect((after.json["recharges"] as? [[String: Any]])?.isEmpty == true)
            }
            try await portal.test { browser in
                try await browser.logIn(admin.username)
                let cookie = browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
                let forged = try await JSONCall.send(browser.client, .post, "/api/v1/self-service/automatic-recharges", cookie: cookie,
                                                     body: ["line_id": Int(sim), "mode": "monthly", "amount_euro": 10, "day_of_month": 3, "payment_method": "invoice"])
                #expect(forged.status == .forbidden && forged.errorCode == "csrf_rejected")
                let real = try await JSONCall.send(browser.client, .post, "/api/v1/self-service/automatic-recharges", cookie: cookie,
                                                   csrf: browser.cookies["sportello_csrf"],
                                                   body: ["line_id": Int(sim), "mode": "monthly", "amount_euro": 10, "day_of_month": 3, "payment_method": "invoice"])
                #expect(real.status == .created, "a new one may be set up once the old one is cancelled")
            }
        }
    }
}

// MARK: - Demo data

@Suite("WINDTRE self-service demo data")
struct LineSelfServiceDemoDataTests {
    @Test("the demo fills the four pages for WINDTRE logins, and nothing for tenants without the features")
    func demoData() async throws {
        try await PortalHarness.with(engine: .sqlite, tenant: "windtre") { portal in
            let generator = DemoDataGenerator(tenant: portal.definition, now: portal.selfServiceNow, hasher: portal.services.passwords)
            let summary = try await generator.generate(into: portal.database)
            let counts = Dictionary(uniqueKeysWithValues: summary.counts.map { ($0.0, $0.1) })
            for table in [StoredTable.lineActivations, .simAssignments, .automaticRecharges] { #expect((counts[table] ?? 0) > 0, "\(table)") }
            let login = try #require(summary.logins.first { $0.role == "user_admin" })
            try await portal.test { browser in
                try await browser.logIn(login.username, login.password)
                let activations = try await browser.get("/self-service/activations")
                #expect(activations.status == .ok && activations.body.contains("<progress"))
                let sims = try await browser.get("/self-service/sims")
                #expect(sims.status == .ok && sims.body.contains("Disassociata"))
                let promotions = try await browser.get("/self-service/promotions")
                #expect(promotions.status == .ok && promotions.body.contains("Giga Extra 100") && !promotions.body.contains("Estate Giga Illimitati"))
                let recharges = try await browser.get("/self-service/automatic-recharges")
                #expect(recharges.status == .ok && recharges.body.contains("Carta che termina con"))
            }
        }
        try await PortalHarness.with(engine: .sqlite, tenant: "tim") { portal in
            let generator = DemoDataGenerator(tenant: portal.definition, now: portal.selfServiceNow, hasher: portal.services.passwords)
            let counts = Dictionary(uniqueKeysWithValues: try await generator.generate(into: portal.database).counts.map { ($0.0, $0.1) })
            for table in [StoredTable.lineActivations, .simAssignments, .automaticRecharges] { #expect(counts[table] == 0, "\(table)") }
        }
    }
}

// MARK: - Own-line scope

@Suite("Self-service features narrowed to the user's own line")
struct LineSelfServiceOwnLineTests {
    /// WINDTRE as written, except that its Telco Managers see the self-service features on their own SIM only.
    private static func ownLineWindtre() throws -> TenantDefinition {
        var definition = try #require(providerTenants["windtre"])
        definition.id = "windtre-own-\(UUID().uuidString.prefix(8).lowercased())"
        definition.hosts = ["localhost"]
        let narrowed = [LineSelfServiceController.Feature.automaticRecharges, LineSelfServiceController.Feature.sims,
                        LineSelfServiceController.Feature.promotions]
        for feature in narrowed { definition.features[feature]?.scopes = [.ownLine, .allLines] }
        var scopes = definition.roles["telco_manager"]?.scopes ?? OrderedMap()
        for feature in narrowed { scopes[feature] = .ownLine }
        definition.roles["telco_manager"]?.scopes = scopes
        return definition
    }

    @Test("a Telco Manager limited to their own line sees and sets up automatic recharges, SIMs and promotions only on their SIM",
          arguments: TestEngine.available)
    func ownLineOnly(engine: TestEngine) async throws {
        let templates = repositoryRoot.appendingPathComponent("templates")
        let definition = try Self.ownLineWindtre()
        let tenant = PortalTenant(definition: definition, theme: try PortalTheme.load(root: templates, tenantId: "windtre"))
        let database = try await openTestDatabase(try engine.location())
        _ = try await database.migrate()
        let services = PortalServices(configuration: WebConfiguration(templatesDirectory: templates), database: database,
                                      tenants: TenantRegistry([tenant]), clock: ManualWallClock(PortalHarness.start),
                                      passwords: BcryptPasswordHasher(cost: 4), mail: try MailTemplates(root: templates))
        let hash = try await services.passwords.hash(selfServicePassword)
        let (own, other, customerId) = try await database.write(tenant: definition.id) { transaction in
            let customer = try await transaction.insertCustomer(CustomerRecord(customerType: "business", customerCode: "C-OWN", companyName: "Own Srl",
                                                                               vatNumber: "01234567897", createdAt: 0))
            var ids: [Int64] = []
            for (name, role) in [("own.admin", "user_admin"), ("own.manager", "telco_manager")] {
                ids.append(try await transaction.insertUser(UserRecord(customerId: customer, username: name, usernameKey: name, email: "\(name)@example.it",
                                                                       firstName: "Anna", lastName: role, passwordHash: hash, role: role, createdAt: 0)))
            }
            let contract = try await transaction.insertContract(ContractRecord(customerId: customer, code: "K-OWN", offer: "Business", kind: "mobile",
                                                                               startsOn: "2025-01-01"))
            let own = try await transaction.insertLine(LineRecord(customerId: customer, contractId: contract, kind: "sim", identifier: "3491110000",
                                                                  assignedUserId: ids[1]))
            let other = try await transaction.insertLine(LineRecord(customerId: customer, contractId: contract, kind: "sim", identifier: "3492220000"))
            _ = try await transaction.insertCatalogItem(CatalogItemRecord(kind: "promotion", code: "P-OWN", title: "Promo SIM", position: 1,
                                                                          data: #"{"line_kinds":["sim"]}"#))
            return (own, other, customer)
        }
        let app = buildApplication(services: services)
        do {
            try await app.test(.router) { client in
                let admin = Browser(client: client)
                try await admin.logIn("own.admin")
                let onOther = try await admin.post("/self-service/automatic-recharges",
                                                   ["line_id": "\(other)", "mode": "monthly", "amount_euro": "10", "day_of_month": "5", "payment_method": "invoice"])
                #expect(onOther.location == "/self-service/automatic-recharges?done=created", "the User Admin acts on every SIM")

                let manager = Browser(client: client)
                try await manager.logIn("own.manager")
                let form = try await manager.get("/self-service/automatic-recharges/new")
                #expect(form.body.contains("3491110000") && !form.body.contains("3492220000"))
                let list = try await manager.get("/self-service/automatic-recharges")
                #expect(!list.body.contains("3492220000"), "the other SIM's recharge is not listed")
                let forbidden = try await manager.post("/self-service/automatic-recharges",
                                                       ["line_id": "\(other)", "mode": "monthly", "amount_euro": "10", "day_of_month": "5",
                                                        "payment_method": "invoice"])
                #expect(forbidden.status == .forbidden)
                let otherRecharge = try #require(try await database.read(tenant: definition.id) {
                    try await $0.liveAutomaticRecharge(lineId: other, customerId: customerId)
                })
                #expect(try await manager.get("/self-service/automatic-recharges/\(otherRecharge.id ?? 0)").status == .forbidden)
                #expect(try await manager.post("/self-service/automatic-recharges/\(otherRecharge.id ?? 0)/cancel", [:]).status == .forbidden)
                let mine = try await manager.post("/self-service/automatic-recharges",
                                                  ["line_id": "\(own)", "mode": "monthly", "amount_euro": "10", "day_of_month": "5", "payment_method": "invoice"])
                #expect(mine.location == "/self-service/automatic-recharges?done=created")

                let sims = try await manager.get("/self-service/sims")
                #expect(sims.body.contains("3491110000") && !sims.body.contains("3492220000"))
                #expect(try await manager.get("/self-service/sims?line=\(other)").status == .notFound)
                let promotions = try await manager.get("/self-service/promotions")
                #expect(promotions.body.contains("Promo SIM") && promotions.body.contains("3491110000") && !promotions.body.contains("3492220000"))
            }
        } catch {
            await database.close()
            throw error
        }
        await database.close()
    }
}
