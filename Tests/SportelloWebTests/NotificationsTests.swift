import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

@Suite("Notification preferences")
struct NotificationsTests {
    /// The attributes of the `<input>` whose id is `id`.
    static func input(_ html: String, _ id: String) -> String? {
        guard let start = html.range(of: "id=\"\(id)\"") else { return nil }
        let tagStart = html[..<start.lowerBound].range(of: "<input", options: .backwards)?.lowerBound ?? start.lowerBound
        let rest = html[tagStart...]
        guard let end = rest.range(of: ">") else { return nil }
        return String(rest[..<end.upperBound])
    }

    @Test("WINDTRE: YAML defaults until saved, choices stored per user, thresholds validated with units, reset to defaults",
          arguments: TestEngine.available)
    func windtrePreferences(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let admin = try await portal.profileFixture(role: "user_admin", username: "admin.wind", email: "admin@wind.example",
                                                        customer: ProfileCustomers.business(code: "W-1"))
            let manager = try await portal.profileFixture(role: "telco_manager", username: "manager.wind", email: "manager@wind.example",
                                                          customer: ProfileCustomers.business(code: "x"), existingCustomer: admin.customer)
            try await portal.test { browser in
                try await browser.logIn("admin.wind", profilePassword)
                let page = try await browser.get("/notifications")
                #expect(page.status == .ok)
                #expect(page.body.contains("Soglia dati all'estero") || page.body.contains("Soglia dati all&#39;estero"))
                #expect(page.body.contains("Attivazione linee fisse"))
                #expect(Self.input(page.body, "n-invoice_overdue-email")?.contains("checked") == true, "default: true in the YAML")
                #expect(Self.input(page.body, "n-promotions-email")?.contains("checked") == false, "no default: off")
                let threshold = try #require(Self.input(page.body, "n-roaming_data_threshold-threshold"))
                #expect(threshold.contains("value=\"80\"") && threshold.contains("min=\"10\"") && threshold.contains("max=\"99\""))
                #expect(page.body.contains("class=\"unit\""))
                #expect(page.body.contains("100 %"), "the fixed 100 % level is explained")

                var fields: [String: String] = ["rule.invoice_overdue.portal": "1", "rule.invoice_overdue.email": "1",
                                                "rule.roaming_data_threshold.sms": "1", "rule.roaming_data_threshold.threshold": "150",
                                                "rule.giga_share_threshold.threshold": "abc", "rule.promotions.email": "1"]
                let invalid = try await browser.post("/notifications", fields)
                #expect(invalid.status == .unprocessableContent)
                #expect(invalid.body.contains("id=\"n-roaming_data_threshold-threshold-error\""))
                #expect(invalid.body.contains("tra 10 e 99"))
                #expect(invalid.body.contains("id=\"n-giga_share_threshold-threshold-error\""))
                #expect(Self.input(invalid.body, "n-roaming_data_threshold-threshold")?.contains("value=\"150\"") == true, "typed value kept")
                #expect(Self.input(invalid.body, "n-promotions-email")?.contains("checked") == true, "ticked boxes kept")
                #expect(try await portal.database.read(tenant: portal.definition.id) { try await $0.notificationPreferences(userId: admin.user) }.isEmpty)

                fields["rule.roaming_data_threshold.threshold"] = "90 %"
                fields["rule.giga_share_threshold.threshold"] = "75"
                let saved = try await browser.post("/notifications", fields)
                #expect(saved.location == "/notifications?done=saved")
                let after = try await browser.follow(saved)
                #expect(after.body.contains("Preferenze di notifica salvate"))
                #expect(Self.input(after.body, "n-roaming_data_threshold-threshold")?.contains("value=\"90\"") == true)
                #expect(Self.input(after.body, "n-promotions-email")?.contains("checked") == true)
                #expect(Self.input(after.body, "n-invalid_payment_method-email")?.contains("checked") == false, "unticked: switched off")
            }
            let stored = try await portal.database.read(tenant: portal.definition.id) { try await $0.notificationPreferences(userId: admin.user) }
            #expect(stored.first { $0.rule == "roaming_data_threshold" && $0.channel == "sms" }?.threshold == 90)
            #expect(stored.first { $0.rule == "promotions" && $0.channel == "email" }?.enabled == true)
            #expect(stored.first { $0.rule == "invalid_payment_method" && $0.channel == "portal" }?.enabled == false)
            #expect(try await portal.auditActions().contains("notifications.updated"))
            try await portal.test { browser in
                try await browser.logIn("manager.wind", profilePassword)
                let page = try await browser.get("/notifications")
                #expect(Self.input(page.body, "n-promotions-email")?.contains("checked") == false, "another user still has the defaults")
                let api = try await browser.profileAPI(.get, "/api/v1/notifications")
                let rules = try #require(api.json["rules"] as? [[String: Any]])
                #expect(rules.allSatisfy { $0["customized"] as? Bool == false })
            }
            #expect(manager.user != admin.user)
            try await portal.test { browser in
                try await browser.logIn("admin.wind", profilePassword)
                let reset = try await browser.post("/notifications", ["reset": "1"])
                #expect(reset.location == "/notifications?done=reset")
                let page = try await browser.follow(reset)
                #expect(Self.input(page.body, "n-promotions-email")?.contains("checked") == false)
                #expect(Self.input(page.body, "n-roaming_data_threshold-threshold")?.contains("value=\"80\"") == true)
            }
        }
    }

    @Test("Tunda: each rule only when the role grants its feature; a sub-account without notification switches gets 403; Unidata and TIM have no page",
          arguments: TestEngine.available)
    func tundaRulesByFeature(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            let main = try await portal.profileFixture(role: "main_account", username: "mario.rossi@example.it", email: "mario.rossi@example.it",
                                                       customer: ProfileCustomers.tundaPrivate(code: "T-1"))
            _ = try await portal.profileFixture(role: "sub_account", username: "amministrazione@example.it", email: "amministrazione@example.it",
                                                toggles: ["invoices", "invoice_notifications"], customer: ProfileCustomers.tundaPrivate(code: "x"),
                                                existingCustomer: main.customer)
            _ = try await portal.profileFixture(role: "sub_account", username: "tecnico@example.it", email: "tecnico@example.it",
                                                customer: ProfileCustomers.tundaPrivate(code: "x"), existingCustomer: main.customer)
            try await portal.test { browser in
                try await browser.logIn("mario.rossi@example.it", profilePassword)
                let page = try await browser.get("/notifications")
                #expect(page.status == .ok)
                for label in ["Comunicazioni e promemoria sui servizi", "Fatture emesse", "Richieste di pagamento", "Risposte ai ticket"] {
                    #expect(page.body.contains(label), "\(label)")
                }
                #expect(!page.body.contains("type=\"number\""), "Tunda's rules have no thresholds")
            }
            try await portal.test { browser in
                try await browser.logIn("amministrazione@example.it", profilePassword)
                let page = try await browser.get("/notifications")
                #expect(page.status == .ok)
                #expect(page.body.contains("Fatture emesse"))
                #expect(!page.body.contains("Richieste di pagamento") && !page.body.contains("Risposte ai ticket"))
                let hidden = try await browser.profileAPI(.put, "/api/v1/notifications", ["rules": [["id": "payment_requests", "channels": ["email": false]]]])
                #expect(hidden.status == .unprocessableContent)
                #expect(profileProblems(hidden.json)["rules.payment_requests"] == "unknown_rule")
                let ok = try await browser.profileAPI(.put, "/api/v1/notifications", ["rules": [["id": "invoices", "channels": ["email": false]]]])
                #expect(ok.status == .ok)
                let rules = try #require(ok.json["rules"] as? [[String: Any]])
                #expect(rules.map { $0["id"] as? String } == ["invoices"])
                let channel = try #require((rules.first?["channels"] as? [[String: Any]])?.first)
                #expect(channel["channel"] as? String == "email" && channel["enabled"] as? Bool == false && channel["default"] as? Bool == true)
            }
            try await portal.test { browser in
                try await browser.logIn("tecnico@example.it", profilePassword)
                #expect(try await browser.get("/notifications").status == .forbidden)
                #expect(try await browser.profileAPI(.get, "/api/v1/notifications").status == .forbidden)
            }
        }
        for tenant in ["unidata", "tim"] {
            try await PortalHarness.with(engine: engine, tenant: tenant) { portal in
                let role = tenant == "unidata" ? "referente_amministratore" : "rappresentante_legale"
                _ = try await portal.profileFixture(role: role, username: "admin.\(tenant)", email: "admin@\(tenant).example",
                                                    customer: ProfileCustomers.business(code: "C-1"))
                try await portal.test { browser in
                    try await browser.logIn("admin.\(tenant)", profilePassword)
                    #expect(try await browser.get("/notifications").status == .notFound, "\(tenant) has no notification rules")
                }
            }
        }
    }

    @Test("Notifications API: the JSON with thresholds and units, every problem at once, CSRF, reset by DELETE", arguments: TestEngine.available)
    func notificationsAPI(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let admin = try await portal.profileFixture(role: "user_admin", username: "admin.wind", email: "admin@wind.example",
                                                        customer: ProfileCustomers.business(code: "W-1"))
            try await portal.test { browser in
                try await browser.logIn("admin.wind", profilePassword)
                let get = try await browser.profileAPI(.get, "/api/v1/notifications")
                #expect(get.status == .ok)
                let rules = try #require(get.json["rules"] as? [[String: Any]])
                #expect(rules.compactMap { $0["id"] as? String } == ["invoice_overdue", "invalid_payment_method", "promotions",
                                                                     "roaming_data_threshold", "fixed_line_activation", "giga_share_threshold"])
                let roaming = try #require(rules.first { $0["id"] as? String == "roaming_data_threshold" })
                let threshold = try #require(roaming["threshold"] as? [String: Any])
                #expect(threshold["value"] as? Int == 80 && threshold["unit"] as? String == "percent")
                #expect(threshold["min"] as? Int == 10 && threshold["max"] as? Int == 99 && threshold["levels"] as? [Int] == [80, 100])
                #expect(roaming["recipients"] as? [String] == ["referent", "line"])
                #expect((rules.first { $0["id"] as? String == "promotions" }?["threshold"]) is NSNull)

                let noCSRF = try await browser.profileAPI(.put, "/api/v1/notifications", ["rules": []], csrf: false)
                #expect(noCSRF.status == .forbidden)

                let bad = try await browser.profileAPI(.put, "/api/v1/notifications", ["rules": [
                    ["id": "roaming_data_threshold", "threshold": 5, "channels": ["email": true, "sms": "yes"]],
                    ["id": "promotions", "threshold": 50],
                    ["id": "nope"],
                    ["id": "giga_share_threshold", "threshold": true],
                ], "extra": 1])
                #expect(bad.status == .unprocessableContent)
                let problems = profileProblems(bad.json)
                #expect(problems["rules.roaming_data_threshold.threshold"] == "out_of_range")
                #expect(problems["rules.roaming_data_threshold.channels.email"] == "unknown_channel")
                #expect(problems["rules.roaming_data_threshold.channels.sms"] == "invalid_type")
                #expect(problems["rules.promotions.threshold"] == "not_adjustable")
                #expect(problems["rules.nope"] == "unknown_rule")
                #expect(problems["rules.giga_share_threshold.threshold"] == "invalid_type")
                #expect(problems["extra"] == "unknown_field")
                #expect(try await portal.database.read(tenant: portal.definition.id) { try await $0.notificationPreferences(userId: admin.user) }.isEmpty)

                let ok = try await browser.profileAPI(.put, "/api/v1/notifications", ["rules": [
                    ["id": "roaming_data_threshold", "threshold": 95, "channels": ["sms": false]],
                ]])
                #expect(ok.status == .ok)
                let saved = try #require((ok.json["rules"] as? [[String: Any]])?.first { $0["id"] as? String == "roaming_data_threshold" })
                #expect((saved["threshold"] as? [String: Any])?["value"] as? Int == 95)
                #expect(saved["customized"] as? Bool == true)
                #expect((saved["channels"] as? [[String: Any]])?.first?["enabled"] as? Bool == false)

                let reset = try await browser.profileAPI(.delete, "/api/v1/notifications")
                #expect(reset.status == .ok)
                let back = try #require((reset.json["rules"] as? [[String: Any]])?.first { $0["id"] as? String == "roaming_data_threshold" })
                #expect((back["threshold"] as? [String: Any])?["value"] as? Int == 80 && back["customized"] as? Bool == false)
            }
        }
    }

    @Test("a language switch while logged in is remembered: a new browser shows the user's language, and the rules e-mail them in it",
          .enabled(if: MailSink.isAvailable), arguments: TestEngine.available)
    func languageRemembered(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            let tenant = portal.definition.id
            let email = uniqueEmail("lingua")
            let main = try await portal.profileFixture(role: "main_account", username: email, email: email,
                                                       customer: ProfileCustomers.tundaPrivate(code: "T-LANG"))
            func stored() async throws -> String? {
                try await portal.database.read(tenant: tenant) { try await $0.user(id: main.user)?.locale }
            }
            #expect(try await stored() == nil)
            try await portal.test { browser in
                try await browser.logIn(email, profilePassword)
                #expect(try await browser.get("/profile").body.contains("Dati del cliente"))
                let english = try await browser.get("/profile?lang=en")
                #expect(english.status == .ok && english.body.contains("Customer details"))
            }
            #expect(try await stored() == "en", "the switch is stored on the user")
            try await portal.test { browser in
                // Another device: no language cookie, so the user's own language once logged in.
                try await browser.logIn(email, profilePassword)
                let page = try await browser.get("/profile")
                #expect(page.body.contains("Customer details"), "English without ?lang= or cookie")
                let italian = try await browser.get("/profile?lang=it")
                #expect(italian.body.contains("Dati del cliente"))
            }
            #expect(try await stored() == "it")
            try await portal.database.write(tenant: tenant) { try await $0.setUserLocale("en", userId: main.user) }

            // A pro-forma is a payment request: Tunda's rule e-mails the main account, in English now.
            _ = try await portal.database.write(tenant: tenant, now: Int64(portal.clock.now().timeIntervalSince1970)) { transaction in
                try await transaction.recordEvent(EventDraft(.invoiceIssued, customerId: main.customer, subject: "invoice", id: 77, facts: [
                    "invoice_id": .integer(77), "number": "PF-2026-000077", "total_cents": .integer(12_200), "due_on": "2026-12-01",
                    "issued_on": "2026-11-21", "source": "order", "status": "unpaid",
                ]))
            }
            let consumer = NotificationRulesConsumer(database: portal.database, tenants: portal.services.tenants, mail: portal.services.mail,
                                                     sms: .none, clock: portal.clock)
            let report = await EventDispatcher(database: portal.database, consumers: [consumer], tenants: { [tenant] }, clock: portal.clock).deliverDue()
            #expect(report.delivered.count == 1, "\(report)")
            let mail = try await portal.mail(to: email)
            #expect(mail.subject?.hasPrefix("Payment request: pro-forma PF-2026-000077") == true, "\(mail.subject ?? "")")
            #expect(mail.text?.contains("Pro-forma PF-2026-000077 for EUR 122,00 was issued; pay it by 01/12/2026") == true)
        }
    }
}
