import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloApplication
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

/// Required actions over HTTP (`required_actions:` of `requiredActionsYAML`): the gate in front of every page and
/// operation, each action's page and API operation, their storage and audit, on both engines.
@Suite("Required actions")
struct RequiredActionsTests {
    static let password = "Vecchia2026!"

    /// A customer of `type` with a user of `role` who logs in with `password`; the e-mail verified or not, pending
    /// terms already accepted when `accepted`.
    @discardableResult
    static func seed(_ portal: PortalHarness, role: String = "admin", type: String = "privato", username: String, email: String,
                     verified: Bool = true, accepted: Bool = false, status: UserStatus = .active) async throws -> (customer: Int64, user: Int64) {
        let hash = try await portal.services.passwords.hash(password)
        return try await portal.database.write(tenant: portal.definition.id, now: Self.now(portal)) { transaction in
            let customer = type == "azienda"
                ? CustomerRecord(customerType: type, customerCode: "C-\(username)", companyName: "Rossi Impianti S.r.l.",
                                 taxCode: "07643520567", vatNumber: "07643520567", email: "info@rossi.example", createdAt: 0)
                : CustomerRecord(customerType: type, customerCode: "C-\(username)", firstName: "Mario", lastName: "Rossi",
                                 taxCode: "RSSMRA80A01H501U", email: "mario.rossi@example.it", phone: "0612345678", createdAt: 0)
            let customerId = try await transaction.insertCustomer(customer)
            var user = UserRecord(customerId: customerId, username: username, usernameKey: username.lowercased(), email: email,
                                  passwordHash: hash, role: role, status: status, createdAt: 0, passwordChangedAt: transaction.now)
            if verified { user.markEmailVerified(at: 0) }
            let userId = try await transaction.insertUser(user)
            if status == .mustChangePassword {
                try await transaction.insertToken(OneTimeTokenRecord(userId: userId, purpose: "temporary_password", tokenHash: Secrets.hash(hash),
                                                                     createdAt: transaction.now, expiresAt: transaction.now + 86_400))
            }
            if accepted { try await transaction.recordRequiredActionCompletion(userId: userId, actionId: "privacy", version: "2026-01") }
            return (customerId, userId)
        }
    }

    static func now(_ portal: PortalHarness) -> Int64 { Int64(portal.clock.now().timeIntervalSince1970) }

    static func withPortal(_ engine: TestEngine, yaml: String = requiredActionsYAML, _ body: (PortalHarness) async throws -> Void) async throws {
        try await PortalHarness.with(engine: engine, tenant: "example", definition: try fleetTenant("actions", yaml: yaml), body)
    }

    /// The `Cookie` header of the browser's session, for JSON calls next to its pages.
    static func cookieHeader(_ browser: Browser) -> String {
        browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
    }

    static func auditDetails(_ portal: PortalHarness, action: String = "required_action.completed") async throws -> [String] {
        try await portal.database.read(tenant: portal.definition.id) { try await $0.auditLog(limit: 200) }
            .filter { $0.action == action }.map { $0.detail ?? "" }
    }

    static func completions(_ portal: PortalHarness, user: Int64) async throws -> [RequiredActionCompletion] {
        try await portal.database.read(tenant: portal.definition.id) { try await $0.requiredActionCompletions(userId: user) }
    }

    /// The text of the field error shown for input `id` (`<p class="field-error" id="<id>-error">…</p>`).
    static func fieldError(_ id: String, in body: String) -> String? {
        guard let start = body.range(of: "id=\"\(id)-error\">"), let end = body.range(of: "</p>", range: start.upperBound..<body.endIndex) else { return nil }
        return String(body[start.upperBound..<end.lowerBound])
    }

    @Test("while an action is pending pages lead to it and the API answers 403 required_action naming it; its page, logout and assets stay open",
          arguments: TestEngine.available)
    func gate(engine: TestEngine) async throws {
        try await Self.withPortal(engine) { portal in
            try await Self.seed(portal, username: "gate.admin", email: uniqueEmail("gate"))
            try await portal.test { browser in
                try await browser.logIn("gate.admin", Self.password)
                #expect(try await browser.get("/").location == "/required-actions/privacy")
                #expect(try await browser.get("/records/vehicles").location == "/required-actions/privacy?next=%2Frecords%2Fvehicles")
                #expect(try await browser.get("/profile").location?.hasPrefix("/required-actions/privacy") == true)
                #expect(try await browser.get("/static/portal.css").status == .ok)
                let page = try await browser.get("/required-actions/privacy")
                #expect(page.status == .ok)
                #expect(page.body.contains("Informativa privacy") && page.body.contains("trattamento dei dati personali"))
                #expect(page.body.contains("href=\"/static/privacy.pdf\"") && page.body.contains("name=\"accept\""))
                #expect(try await browser.get("/required-actions/dati").status == .ok, "any pending action's page opens")
                #expect(try await browser.get("/required-actions/nessuna").status == .notFound)

                let me = try await JSONCall.send(browser.client, .get, "/api/v1/me", cookie: Self.cookieHeader(browser))
                #expect(me.status == .forbidden)
                #expect(me.errorCode == "required_action")
                let action = try #require((me.json["error"] as? [String: Any])?["action"] as? [String: Any])
                #expect(action["id"] as? String == "privacy" && action["type"] as? String == "accept_terms")
                #expect(action["page"] as? String == "/required-actions/privacy" && action["api"] as? String == "/api/v1/required-actions/privacy")
                #expect(me.headers[HTTPField.Name("Link")!] == "</api/v1/required-actions/privacy>; rel=\"required-action\"")
                let list = try await JSONCall.send(browser.client, .get, "/api/v1/required-actions", cookie: Self.cookieHeader(browser))
                #expect(list.status == .ok)
                #expect((list.json["actions"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["privacy", "dati"])

                let out = try await browser.post("/logout", [:])
                #expect(out.location == "/login")
                #expect(try await browser.get("/").location?.hasPrefix("/login") == true)
            }
        }
    }

    @Test("accept_terms is recorded with its version and audited; publishing a new version asks again at the next request",
          arguments: TestEngine.available)
    func acceptTerms(engine: TestEngine) async throws {
        try await Self.withPortal(engine) { portal in
            let (_, userId) = try await Self.seed(portal, role: "member", username: "terms.member", email: uniqueEmail("terms"))
            try await portal.test { browser in
                try await browser.logIn("terms.member", Self.password)
                let refused = try await browser.post("/required-actions/privacy", ["version": "2026-01"])
                #expect(refused.status == .unprocessableContent)
                #expect(Self.fieldError("accept", in: refused.body)?.contains("spunta la casella") == true)
                let stale = try await browser.post("/required-actions/privacy", ["version": "2025-01", "accept": "1"])
                #expect(stale.status == .conflict, "a text other than the published one cannot be accepted")
                #expect(try await Self.completions(portal, user: userId).isEmpty)
                let accepted = try await browser.post("/required-actions/privacy", ["version": "2026-01", "accept": "1"])
                #expect(accepted.location == "/")
                #expect(try await browser.get("/").status == .ok)
            }
            let stored = try await Self.completions(portal, user: userId)
            #expect(stored.map(\.actionId) == ["privacy"] && stored.first?.version == "2026-01")
            #expect(stored.first?.completedAt == Self.now(portal))
            #expect(try await Self.auditDetails(portal) == ["privacy (accept_terms), version 2026-01"])

            // The provider publishes a new text: the same session is asked again at its next request.
            var published = try fleetTenant("actions", yaml: requiredActionsYAML(replacing: "version: \"2026-01\"", with: "version: \"2026-02\""))
            published.id = portal.definition.id
            published.hosts = portal.definition.hosts
            let changed = published
            try await portal.test { browser in
                try await browser.logIn("terms.member", Self.password)
                #expect(try await browser.get("/").status == .ok)
                portal.services.tenants.replaceAll([PortalTenant(definition: changed, theme: portal.tenant.theme)])
                #expect(try await browser.get("/").location == "/required-actions/privacy")
                let page = try await browser.get("/required-actions/privacy")
                #expect(page.body.contains("Il testo è stato aggiornato"))
                #expect(try await browser.post("/required-actions/privacy", ["version": "2026-02", "accept": "1"]).location == "/")
                #expect(try await browser.get("/").status == .ok)
            }
            #expect(try await Self.completions(portal, user: userId).map(\.version) == ["2026-02"])
            #expect(try await Self.auditDetails(portal).count == 2)
        }
    }

    @Test("the completions the gate reuses from one request to the next are read again once a write changes them",
          arguments: TestEngine.available)
    func gateSeesCompletionChanges(engine: TestEngine) async throws {
        try await Self.withPortal(engine) { portal in
            let (_, userId) = try await Self.seed(portal, role: "member", username: "reuse.member", email: uniqueEmail("reuse"), accepted: true)
            try await portal.test { browser in
                try await browser.logIn("reuse.member", Self.password)
                #expect(try await browser.get("/").status == .ok)
                #expect(try await browser.get("/").status == .ok, "the completions read for the first page serve the second")
                try await portal.database.write(tenant: portal.definition.id) { try await $0.forgetRequiredActionCompletions(ofUser: userId) }
                #expect(try await browser.get("/").location == "/required-actions/privacy")
                try await portal.database.write(tenant: portal.definition.id) {
                    try await $0.recordRequiredActionCompletion(userId: userId, actionId: "privacy", version: "2026-01")
                }
                #expect(try await browser.get("/").status == .ok)
            }
        }
    }

    @Test("confirm_customer_data: an invalid value is refused in Italian next to its field; confirming stores the values on the customer",
          arguments: TestEngine.available)
    func confirmCustomerData(engine: TestEngine) async throws {
        try await Self.withPortal(engine) { portal in
            let (customerId, userId) = try await Self.seed(portal, username: "data.admin", email: uniqueEmail("data"), accepted: true)
            try await portal.test { browser in
                try await browser.logIn("data.admin", Self.password)
                #expect(try await browser.get("/").location == "/required-actions/dati")
                let form = try await browser.get("/required-actions/dati")
                #expect(form.body.contains("Controlla che i dati siano aggiornati."))
                #expect(form.body.contains("name=\"email\" type=\"email\" value=\"mario.rossi@example.it\""), "prefilled with the current value")
                #expect(form.body.contains("id=\"field-tax_code\" type=\"text\" value=\"RSSMRA80A01H501U\" readonly"), "immutable: read-only")
                #expect(!form.body.contains("name=\"tax_code\""))
                let invalid = try await browser.post("/required-actions/dati", ["email": "mario.rossi@", "phone": "06 1234 5678", "fleet_code": "XX12"])
                #expect(invalid.status == .unprocessableContent)
                #expect(Self.fieldError("field-email", in: invalid.body)?.hasPrefix("L&#39;indirizzo e-mail non sembra valido") == true
                        || Self.fieldError("field-email", in: invalid.body)?.hasPrefix("L&#x27;indirizzo e-mail non sembra valido") == true,
                        "\(Self.fieldError("field-email", in: invalid.body) ?? "no error next to the e-mail")")
                #expect(Self.fieldError("field-fleet_code", in: invalid.body) != nil)
                #expect(Self.fieldError("field-phone", in: invalid.body) == nil)
                #expect(invalid.body.contains("value=\"mario.rossi@\""), "what was typed is shown again")
                let immutable = try await browser.post("/required-actions/dati", ["email": "mario.rossi@example.it", "tax_code": "BNCGVN80A01H501X"])
                #expect(immutable.status == .unprocessableContent, "an immutable field posted directly is refused")
                let saved = try await browser.post("/required-actions/dati", [
                    "email": " Mario.Verdi@Example.IT ", "phone": "+39 06 9876 5432", "fleet_code": "fl1234"])
                #expect(saved.location == "/")
                #expect(try await browser.get("/").status == .ok)
            }
            let (customer, own) = try await portal.database.read(tenant: portal.definition.id) { transaction in
                (try await transaction.customer(id: customerId), try await transaction.customFieldValues(of: .customer(customerId)))
            }
            #expect(customer?.email == "mario.verdi@example.it" && customer?.phone == "0698765432")
            #expect(customer?.taxCode == "RSSMRA80A01H501U")
            #expect(own["fleet_code"] == "FL1234")
            #expect(try await Self.completions(portal, user: userId).map(\.actionId).sorted() == ["dati", "privacy"])
            #expect(try await Self.auditDetails(portal) == ["dati (confirm_customer_data)"])
            #expect(try await Self.auditDetails(portal, action: "customer_data.updated") == ["fields: email, phone, fleet_code"])

            // Twelve months later it is asked again; confirming unchanged values is enough.
            portal.clock.advance(by: 361 * 86_400)
            try await portal.test { browser in
                try await browser.logIn("data.admin", Self.password)
                #expect(try await browser.get("/").location == "/required-actions/dati")
                #expect(try await browser.post("/required-actions/dati", ["email": "mario.verdi@example.it", "phone": "0698765432",
                                                                            "fleet_code": "FL1234"]).location == "/")
            }
            #expect(try await Self.auditDetails(portal, action: "customer_data.updated").count == 1, "nothing changed the second time")
            #expect(try await Self.auditDetails(portal).count == 2)
        }
    }

    @Test("roles and customer types: members confirm no data, businesses verify their e-mail, private customers do not",
          arguments: TestEngine.available)
    func restrictions(engine: TestEngine) async throws {
        try await Self.withPortal(engine) { portal in
            try await Self.seed(portal, role: "member", username: "private.member", email: uniqueEmail("private"), verified: false)
            try await Self.seed(portal, role: "member", type: "azienda", username: "business.member", email: uniqueEmail("business"), verified: false)
            try await Self.seed(portal, role: "admin", type: "azienda", username: "business.admin", email: uniqueEmail("badmin"), verified: true)
            for (username, expected) in [("private.member", ["privacy"]), ("business.member", ["privacy", "posta"]),
                                         ("business.admin", ["privacy", "dati"])] {
                try await portal.test { browser in
                    try await browser.logIn(username, Self.password)
                    let list = try await JSONCall.send(browser.client, .get, "/api/v1/required-actions", cookie: Self.cookieHeader(browser))
                    #expect((list.json["actions"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == expected, "\(username)")
                }
            }
            let listed = try await RequiredActions(services: portal.services.application, tenant: portal.tenant.served).usersWithPending()
            #expect(listed.map(\.username) == ["business.admin", "business.member", "private.member"])
            #expect(listed.map { $0.pending.map(\.id) } == [["privacy", "dati"], ["privacy", "posta"], ["privacy"]])
        }
    }

    @Test("the forced password change after a temporary password is one of the actions: first, then the others",
          arguments: TestEngine.available)
    func forcedPasswordChange(engine: TestEngine) async throws {
        try await Self.withPortal(engine) { portal in
            let (_, userId) = try await Self.seed(portal, role: "member", username: "temp.member", email: uniqueEmail("temp"), status: .mustChangePassword)
            try await portal.test { browser in
                let login = try await browser.post("/login", ["identifier": "temp.member", "password": Self.password])
                #expect(login.location == "/password/change")
                #expect(try await browser.get("/").location == "/password/change")
                #expect(try await browser.get("/required-actions/privacy").status == .ok, "an action's page opens")
                let me = try await JSONCall.send(browser.client, .get, "/api/v1/me", cookie: Self.cookieHeader(browser))
                #expect(me.status == .forbidden && me.errorCode == "required_action")
                let action = (me.json["error"] as? [String: Any])?["action"] as? [String: Any]
                #expect(action?["type"] as? String == "change_password" && action?["page"] as? String == "/password/change")
                let changed = try await browser.post("/password/change", ["current_password": Self.password, "password": "Nuova2026Password",
                                                                           "password_confirmation": "Nuova2026Password"])
                #expect(changed.location == "/")
                #expect(try await browser.get("/").location == "/required-actions/privacy", "then the tenant's actions")
            }
            let user = try await portal.database.read(tenant: portal.definition.id) { try await $0.user(id: userId) }
            #expect(user?.status == .active)
            #expect(try await Self.auditDetails(portal) == ["change_password (change_password)"])
        }
    }

    @Test("every action completes through the API: 403 with a Link, the action's details, 422, 409 and 200 with what is left",
          arguments: TestEngine.available)
    func api(engine: TestEngine) async throws {
        try await Self.withPortal(engine) { portal in
            let (customerId, _) = try await Self.seed(portal, username: "api.admin", email: uniqueEmail("api"))
            try await portal.test { browser in
                let client = browser.client
                let session = try await JSONCall.send(client, .post, "/api/v1/session", body: ["identifier": "api.admin", "password": Self.password])
                #expect(session.status == .created)
                let token = try #require(session.json["token"] as? String)
                let me = try await JSONCall.send(client, .get, "/api/v1/me", token: token)
                #expect(me.status == .forbidden && me.headers[HTTPField.Name("Link")!] == "</api/v1/required-actions/privacy>; rel=\"required-action\"")
                let terms = try await JSONCall.send(client, .get, "/api/v1/required-actions/privacy", token: token)
                #expect(terms.json["version"] as? String == "2026-01" && (terms.json["text"] as? String)?.contains("informativa") == true)
                #expect(try await JSONCall.send(client, .post, "/api/v1/required-actions/privacy", token: token, body: ["accept": false]).status
                        == .unprocessableContent)
                #expect(try await JSONCall.send(client, .post, "/api/v1/required-actions/privacy", token: token,
                                                body: ["accept": true, "version": "2025-01"]).status == .conflict)
                let accepted = try await JSONCall.send(client, .post, "/api/v1/required-actions/privacy", token: token,
                                                       body: ["accept": true, "version": "2026-01"])
                #expect(accepted.status == .ok)
                #expect((accepted.json["actions"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["dati"])
                let data = try await JSONCall.send(client, .get, "/api/v1/required-actions/dati", token: token)
                let fields = try #require(data.json["fields"] as? [[String: Any]])
                #expect(fields.compactMap { $0["name"] as? String } == ["email", "phone", "tax_code", "fleet_code"])
                #expect(fields.first { $0["name"] as? String == "tax_code" }?["read_only"] as? Bool == true)
                let invalid = try await JSONCall.send(client, .post, "/api/v1/required-actions/dati", token: token,
                                                      body: ["values": ["email": "non-valida"]])
                #expect(invalid.status == .unprocessableContent && invalid.fieldCodes == ["email": "invalid_email"])
                let done = try await JSONCall.send(client, .post, "/api/v1/required-actions/dati", token: token,
                                                   body: ["values": ["phone": "333 123 4567"]])
                #expect(done.status == .ok && (done.json["actions"] as? [Any])?.isEmpty == true)
                #expect(try await JSONCall.send(client, .get, "/api/v1/me", token: token).status == .ok)
                #expect(try await JSONCall.send(client, .get, "/api/v1/required-actions/dati", token: token).status == .notFound,
                        "a completed action is no longer pending")
            }
            let customer = try await portal.database.read(tenant: portal.definition.id) { try await $0.customer(id: customerId) }
            #expect(customer?.phone == "3331234567" && customer?.email == "mario.rossi@example.it", "only what was sent changes")
        }
    }
}

extension RequiredActionsTests {
    @Test("enrol_totp: the page shows the otpauth URI and the key, the app's code confirms it (kept sealed); login then asks for the code",
          arguments: TestEngine.available)
    func enrolAuthenticator(engine: TestEngine) async throws {
        let yaml = requiredActionsYAML(replacing: "required_actions:\n", with: """
            required_actions:
              app: {type: enrol_totp, label: {it: App di autenticazione, en: Authenticator app}, roles: [member]}

            """)
        try await Self.withPortal(engine, yaml: yaml) { portal in
            let (_, userId) = try await Self.seed(portal, role: "member", username: "otp.member", email: uniqueEmail("otp"), accepted: true)
            let now = Self.now(portal)
            try await portal.test { browser in
                try await browser.logIn("otp.member", Self.password)
                #expect(try await browser.get("/").location == "/required-actions/app")
                let page = try await browser.get("/required-actions/app")
                #expect(page.body.contains("otpauth://totp/") && page.body.contains("name=\"code\""))
                let staged = try await portal.database.read(tenant: portal.definition.id, now: now) { try await $0.stagedTOTPSecret(userId: userId) }
                let secret = try #require(staged)
                #expect(try await browser.get("/required-actions/app").body.contains(TOTPCodes.typedSecret(TOTPCodes.uri(
                    secret: secret, account: "otp.member", issuer: portal.definition.name))), "the same key until it is confirmed")
                let right = TOTPCodes.code(secret: secret, at: now)
                let wrong = try await browser.post("/required-actions/app", ["code": right == "000000" ? "111111" : "000000"])
                #expect(wrong.status == .unprocessableContent)
                #expect(Self.fieldError("code", in: wrong.body)?.contains("Il codice non è corretto") == true)
                #expect(try await browser.post("/required-actions/app", ["code": right]).location == "/")
                #expect(try await browser.get("/").status == .ok)
            }
            let (user, opened) = try await portal.database.read(tenant: portal.definition.id) { transaction in
                let user = try await transaction.user(id: userId)
                return (user, try user.flatMap { try transaction.totpSecret(of: $0) })
            }
            let stored = try #require(user?.totpSecret)
            #expect(stored.hasPrefix("sealed:") && opened != nil && !stored.contains(opened ?? "-"), "kept sealed")
            #expect(try await Self.auditDetails(portal) == ["app (enrol_totp)"])
            let code = TOTPCodes.code(secret: try #require(opened), at: now)

            try await portal.test { browser in
                let login = try await browser.post("/login", ["identifier": "otp.member", "password": Self.password, "next": "/records/vehicles"])
                #expect(login.location == "/login/code?next=%2Frecords%2Fvehicles", "the password alone does not log in")
                #expect(try await browser.get("/").location?.hasPrefix("/login") == true)
                #expect(try await browser.get("/login/code?next=%2Frecords%2Fvehicles").status == .ok)
                let wrong = try await browser.post("/login/code", ["code": code == "000000" ? "111111" : "000000", "next": "/records/vehicles"])
                #expect(wrong.status == .unprocessableContent)
                #expect(try await browser.post("/login/code", ["code": code, "next": "/records/vehicles"]).location == "/records/vehicles")
                #expect(try await browser.get("/").status == .ok, "logged in")
            }
            try await portal.test { browser in
                let client = browser.client
                let bare = try await JSONCall.send(client, .post, "/api/v1/session", body: ["identifier": "otp.member", "password": Self.password])
                #expect(bare.status == .unauthorized && bare.errorCode == "totp_required")
                let wrong = try await JSONCall.send(client, .post, "/api/v1/session",
                                                    body: ["identifier": "otp.member", "password": Self.password, "code": "12"])
                #expect(wrong.status == .unauthorized && wrong.errorCode == "invalid_credentials")
                let session = try await JSONCall.send(client, .post, "/api/v1/session",
                                                      body: ["identifier": "otp.member", "password": Self.password, "code": code])
                #expect(session.status == .created)
            }
        }
    }
}

/// `verify_email` with real mail: the link from the SMTP sink proves the address, in the session's browser or another one.
@Suite("Required actions: e-mail verification with real e-mail", .enabled(if: MailSink.isAvailable))
struct RequiredActionsEmailTests {
    @Test("verify_email: the page sends a link, following it verifies the address (once) and the session goes on",
          arguments: TestEngine.available)
    func verifyEmail(engine: TestEngine) async throws {
        try await RequiredActionsTests.withPortal(engine) { portal in
            let email = uniqueEmail("verifica")
            let (_, userId) = try await RequiredActionsTests.seed(portal, role: "member", type: "azienda", username: "mail.member", email: email,
                                                                  verified: false, accepted: true)
            try await portal.test { browser in
                try await browser.logIn("mail.member", RequiredActionsTests.password)
                #expect(try await browser.get("/").location == "/required-actions/posta")
                let page = try await browser.get("/required-actions/posta")
                #expect(page.body.contains(RequiredActions.mask(email)) && !page.body.contains(email))
                let sent = try await browser.post("/required-actions/posta", [:])
                #expect(sent.location == "/required-actions/posta")
                #expect(try await browser.get("/required-actions/posta").body.contains("Ti abbiamo inviato"))
                #expect(try await browser.get("/").location == "/required-actions/posta", "still pending until the link is followed")
            }
            let mail = try await portal.mail(to: email)
            #expect(mail.subject?.contains("Conferma il tuo indirizzo e-mail") == true)
            let link = try Browser.link(in: mail.text)
            #expect(link.hasPrefix("/email/verify?t="))
            try await portal.test { other in
                // Another browser, not signed in: the link alone proves the address.
                let confirmed = try await other.get(link)
                #expect(confirmed.status == .ok && confirmed.body.contains("Indirizzo e-mail confermato"))
                let again = try await other.get(link)
                #expect(again.status == .badRequest && again.body.contains("già stato usato"))
            }
            let user = try await portal.database.read(tenant: portal.definition.id) { try await $0.user(id: userId) }
            #expect(user?.verifiedEmail == email && user?.emailVerifiedAt == RequiredActionsTests.now(portal))
            try await portal.test { browser in
                try await browser.logIn("mail.member", RequiredActionsTests.password)
                #expect(try await browser.get("/").status == .ok)
            }
            #expect(try await RequiredActionsTests.auditDetails(portal) == ["posta (verify_email)"])
            #expect(try await RequiredActionsTests.auditDetails(portal, action: "required_action.email_sent") == ["posta"])

            // A new address is not verified: the action asks again, and the link goes to the new address.
            let changed = uniqueEmail("nuova")
            try await portal.database.write(tenant: portal.definition.id) { transaction in
                var user = try #require(try await transaction.user(id: userId))
                user.email = changed
                try await transaction.updateUser(user)
            }
            try await portal.test { browser in
                try await browser.logIn("mail.member", RequiredActionsTests.password)
                #expect(try await browser.get("/").location == "/required-actions/posta")
                _ = try await browser.post("/required-actions/posta", [:])
                let link = try Browser.link(in: try await portal.mail(to: changed).text)
                #expect(try await browser.get(link).location == "/", "the signed-in browser goes on")
                #expect(try await browser.get("/").status == .ok)
            }
        }
    }
}
