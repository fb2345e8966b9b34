import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

let profilePassword = "Vecchia2026!"

/// A valid codice fiscale for a name (born 1 January 1980 in Rome).
func profileTaxCode(first: String, last: String) -> String {
    ItalianIdentifiers.makeCodiceFiscale(lastName: last, firstName: first, birthDate: (1980, 1, 1), female: false, placeCode: "H501")
}

extension PortalHarness {
    /// A customer with `customer`'s data and one user of `role` (password `Vecchia2026!`); returns both ids.
    func profileFixture(role: String, username: String, email: String, toggles: [String] = [], customer: CustomerRecord,
                        existingCustomer: Int64? = nil, firstName: String? = "Mario", lastName: String? = "Rossi") async throws -> (user: Int64, customer: Int64) {
        let hash = try await services.passwords.hash(profilePassword)
        let key = UsernameRules.key(for: username, caseSensitive: definition.login.caseSensitive)
        return try await database.write(tenant: definition.id, now: Int64(clock.now().timeIntervalSince1970)) { transaction in
            let customerId: Int64
            if let existingCustomer { customerId = existingCustomer } else { customerId = try await transaction.insertCustomer(customer) }
            let userId = try await transaction.insertUser(UserRecord(customerId: customerId, username: username, usernameKey: key, email: email,
                                                                     firstName: firstName, lastName: lastName, passwordHash: hash, role: role,
                                                                     toggles: toggles, createdAt: 0))
            return (userId, customerId)
        }
    }

    func storedCustomer(_ id: Int64) async throws -> CustomerRecord {
        try #require(try await database.read(tenant: definition.id) { try await $0.customer(id: id) })
    }

    func storedUser(_ id: Int64) async throws -> UserRecord {
        try #require(try await database.read(tenant: definition.id) { try await $0.user(id: id) })
    }

    func auditActions() async throws -> [String] {
        try await database.read(tenant: definition.id) { try await $0.auditLog() }.map(\.action)
    }
}

/// Customer records of every shape the tests need, with valid Italian identifiers.
enum ProfileCustomers {
    static func tundaPrivate(code: String) -> CustomerRecord {
        CustomerRecord(customerType: "private", customerCode: code, firstName: "Mario", lastName: "Rossi",
                       taxCode: profileTaxCode(first: "Mario", last: "Rossi"), email: "mario.rossi@example.it", phone: "0212345678",
                       street: "Via Roma 1", postalCode: "20121", city: "Milano", province: "MI", createdAt: 0)
    }

    static func business(type: String = "business", code: String) -> CustomerRecord {
        CustomerRecord(customerType: type, customerCode: code, companyName: "Rossi Impianti S.r.l.",
                       taxCode: "00488410010", vatNumber: "00488410010", email: "amministrazione@rossi.example", phone: "0212345678",
                       pec: "rossi@pec.example.it", street: "Via Torino 5", postalCode: "10121", city: "Torino", province: "TO",
                       legalRepFirstName: "Anna", legalRepLastName: "Bianchi", legalRepTaxCode: profileTaxCode(first: "Anna", last: "Bianchi"),
                       invoiceDelivery: "paper", paymentMethod: "bank_transfer", createdAt: 0)
    }
}

extension Browser {
    /// A JSON call to the API with the session cookie (and, unless told otherwise, the CSRF header).
    func profileAPI(_ method: HTTPRequest.Method, _ path: String, _ body: Any? = nil, csrf: Bool = true) async throws -> (status: HTTPResponse.Status, json: [String: Any]) {
        var headers = HTTPFields()
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        headers[.contentType] = "application/json"
        if csrf, let token = cookies["sportello_csrf"] { headers.append(.init(name: .init("X-CSRF-Token")!, value: token)) }
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let response = try await client.execute(uri: path, method: method, headers: headers, body: data.map { ByteBuffer(bytes: $0) })
        let text = String(buffer: response.body)
        let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        return (response.status, json)
    }
}

/// The field problems of an API error body, as `field → code`.
func profileProblems(_ json: [String: Any]) -> [String: String] {
    let fields = ((json["error"] as? [String: Any])?["fields"] as? [[String: Any]]) ?? []
    var found: [String: String] = [:]
    for field in fields { if let name = field["field"] as? String, let code = field["code"] as? String { found[name] = code } }
    return found
}

/// The message shown next to a field (`<p class="field-error" id="f-NAME-error">`), if any.
func fieldError(_ html: String, _ id: String) -> String? {
    guard let start = html.range(of: "id=\"f-\(id)-error\">") else { return nil }
    let rest = html[start.upperBound...]
    guard let end = rest.range(of: "</p>") else { return nil }
    return String(rest[..<end.lowerBound])
}

@Suite("Profile and customer data")
struct ProfileTests {
    @Test("Tunda: the main account sees its data with the immutable fields read-only and the change hint; a sub-account without the switch gets 403",
          arguments: TestEngine.available)
    func tundaPageAccess(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            let main = try await portal.profileFixture(role: "main_account", username: "mario.rossi@example.it", email: "mario.rossi@example.it",
                                                       customer: ProfileCustomers.tundaPrivate(code: "T-1"))
            _ = try await portal.profileFixture(role: "sub_account", username: "collab@example.it", email: "collab@example.it",
                                                customer: ProfileCustomers.tundaPrivate(code: "unused"), existingCustomer: main.customer)
            try await portal.test { browser in
                try await browser.logIn("mario.rossi@example.it", profilePassword)
                let page = try await browser.get("/profile")
                #expect(page.status == .ok)
                #expect(page.body.contains("nuova scheda anagrafica"), "the YAML change_hint is shown")
                #expect(page.body.contains("non modificabile"))
                #expect(!page.body.contains("name=\"first_name\""), "an immutable field is not an input")
                #expect(!page.body.contains("name=\"tax_code\""))
                #expect(page.body.contains("name=\"phone\""), "other fields are editable")
                #expect(page.body.contains("href=\"/password/change\""))
                #expect(page.body.contains(profileTaxCode(first: "Mario", last: "Rossi")))
                let english = try await browser.get("/profile?lang=en")
                #expect(english.body.contains("a new customer record is needed"))
                #expect(english.body.contains("Customer details"))
            }
            try await portal.test { browser in
                try await browser.logIn("collab@example.it", profilePassword)
                let denied = try await browser.get("/profile")
                #expect(denied.status == .forbidden)
                #expect(denied.body.contains("Accesso non consentito"))
                #expect(try await browser.profileAPI(.get, "/api/v1/profile").status == .forbidden)
            }
        }
    }

    @Test("Tunda: immutable fields are refused even when posted directly, by form and by API; the other fields are saved and audited",
          arguments: TestEngine.available)
    func tundaImmutable(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            let main = try await portal.profileFixture(role: "main_account", username: "mario.rossi@example.it", email: "mario.rossi@example.it",
                                                       customer: ProfileCustomers.tundaPrivate(code: "T-1"))
            let before = try await portal.storedCustomer(main.customer)
            try await portal.test { browser in
                try await browser.logIn("mario.rossi@example.it", profilePassword)
                let refused = try await browser.post("/profile/customer", ["first_name": "Luigi", "phone": "02 9876 5432"])
                #expect(refused.status == .unprocessableContent)
                let message = try #require(fieldError(refused.body, "first_name"), "the refusal is shown next to the read-only field")
                #expect(message.contains("non si può modificare"))
                #expect(refused.body.contains("value=\"02 9876 5432\""), "what was typed is shown again")
                #expect(try await portal.storedCustomer(main.customer) == before, "nothing is written when any field is refused")

                let saved = try await browser.post("/profile/customer", ["first_name": "Mario", "phone": "02 9876 5432", "city": "Torino",
                                                                         "postal_code": "10121", "province": "to", "street": "Via Po 3"])
                #expect(saved.location == "/profile?done=customer")
                let after = try await portal.storedCustomer(main.customer)
                #expect(after.phone == "0298765432")
                #expect(after.city == "Torino" && after.province == "TO" && after.postalCode == "10121")
                #expect(after.firstName == "Mario" && after.taxCode == before.taxCode)
                #expect(try await portal.auditActions().contains("customer_data.updated"))

                let api = try await browser.profileAPI(.patch, "/api/v1/profile", ["customer": ["tax_code": "RSSLGU80A01H501X", "last_name": "Verdi",
                                                                                              "phone": "abc", "bogus": "x"]])
                #expect(api.status == .unprocessableContent)
                #expect((api.json["error"] as? [String: Any])?["code"] as? String == "invalid")
                let problems = profileProblems(api.json)
                #expect(problems["customer.tax_code"] == "immutable")
                #expect(problems["customer.last_name"] == "immutable")
                #expect(problems["customer.phone"] == "invalid_phone")
                #expect(problems["customer.bogus"] == "unknown_field")
                #expect(try await portal.storedCustomer(main.customer).lastName == "Rossi")

                let sameValue = try await browser.profileAPI(.patch, "/api/v1/profile", ["customer": ["last_name": "Rossi", "mobile": "333 1234567"]])
                #expect(sameValue.status == .ok, "sending an immutable field back unchanged is fine")
                #expect(try await portal.storedCustomer(main.customer).mobile == "3331234567")
            }
        }
    }

    @Test("Tunda: changing the e-mail that is the username needs the password, keeps login working with the new address and notifies the old one",
          arguments: TestEngine.available)
    func tundaEmailChange(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            let main = try await portal.profileFixture(role: "main_account", username: "mario.rossi@example.it", email: "mario.rossi@example.it",
                                                       customer: ProfileCustomers.tundaPrivate(code: "T-1"))
            try await portal.test { browser in
                try await browser.logIn("mario.rossi@example.it", profilePassword)
                let page = try await browser.get("/profile")
                #expect(page.body.contains("anche il tuo nome utente"))
                let fields = ["user_first_name": "Mario", "user_last_name": "Rossi", "user_email": "Mario.Nuovo@Example.it"]
                let noPassword = try await browser.post("/profile/account", fields)
                #expect(noPassword.status == .unprocessableContent)
                #expect(fieldError(noPassword.body, "current_password")?.contains("password attuale") == true)
                #expect(noPassword.body.contains("value=\"Mario.Nuovo@Example.it\""))
                var wrong = fields; wrong["current_password"] = "Sbagliata1!"
                let wrongPassword = try await browser.post("/profile/account", wrong)
                #expect(wrongPassword.status == .unprocessableContent)
                #expect(fieldError(wrongPassword.body, "current_password") != nil)
                var right = fields; right["current_password"] = profilePassword
                let done = try await browser.post("/profile/account", right)
                #expect(done.location == "/profile?done=email")
            }
            let user = try await portal.storedUser(main.user)
            #expect(user.email == "mario.nuovo@example.it")
            #expect(user.username == "mario.nuovo@example.it" && user.usernameKey == "mario.nuovo@example.it")
            let outbox = try await portal.database.read(tenant: portal.definition.id) { try await $0.outbox() }
            let toOld = try #require(outbox.first { $0.recipient == "mario.rossi@example.it" && $0.kind == "profile_email_changed" })
            #expect(toOld.bodyText.contains("m***o@example.it"), "the old address learns a masked new address")
            #expect(!toOld.bodyText.contains("mario.nuovo@example.it"))
            #expect(outbox.contains { $0.recipient == "mario.nuovo@example.it" && $0.kind == "profile_email_added" })
            #expect(try await portal.auditActions().contains("profile.email_changed"))
            try await portal.test { browser in
                let old = try await browser.post("/login", ["identifier": "mario.rossi@example.it", "password": profilePassword])
                #expect(old.status == .unauthorized, "the old address no longer logs in")
                try await browser.logIn("mario.nuovo@example.it", profilePassword)
                #expect(try await browser.get("/profile").status == .ok)
            }
        }
    }

    @Test("Tunda: an e-mail already used by another main account is refused next to the field", arguments: TestEngine.available)
    func tundaEmailTaken(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            _ = try await portal.profileFixture(role: "main_account", username: "mario.rossi@example.it", email: "mario.rossi@example.it",
                                                customer: ProfileCustomers.tundaPrivate(code: "T-1"))
            _ = try await portal.profileFixture(role: "main_account", username: "altro@example.it", email: "altro@example.it",
                                                customer: ProfileCustomers.tundaPrivate(code: "T-2"))
            try await portal.test { browser in
                try await browser.logIn("mario.rossi@example.it", profilePassword)
                let taken = try await browser.profileAPI(.patch, "/api/v1/profile", ["user": ["email": "ALTRO@example.it", "current_password": profilePassword]])
                #expect(taken.status == .unprocessableContent)
                #expect(profileProblems(taken.json)["user.email"] == "email_taken")
            }
        }
    }

    @Test("Unidata: the administrator changes the master data directly; a Referente Semplice with the switch records a request; without it, read-only",
          arguments: TestEngine.available)
    func unidataRequests(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let admin = try await portal.profileFixture(role: "referente_amministratore", username: "admin.uni", email: "admin@rossi.example",
                                                        customer: ProfileCustomers.business(code: "U-1"))
            _ = try await portal.profileFixture(role: "referente_semplice", username: "semplice.uni", email: "semplice@rossi.example",
                                                toggles: ["master_data"], customer: ProfileCustomers.business(code: "x"), existingCustomer: admin.customer)
            _ = try await portal.profileFixture(role: "referente_semplice", username: "vista.uni", email: "vista@rossi.example",
                                                customer: ProfileCustomers.business(code: "x"), existingCustomer: admin.customer)
            try await portal.test { browser in
                try await browser.logIn("admin.uni", profilePassword)
                let saved = try await browser.post("/profile/customer", ["pec": "nuova@pec.example.it"])
                #expect(saved.location == "/profile?done=customer")
                #expect(try await portal.storedCustomer(admin.customer).pec == "nuova@pec.example.it")
                let badVAT = try await browser.post("/profile/customer", ["vat_number": "00488410011"])
                #expect(badVAT.status == .unprocessableContent)
                #expect(fieldError(badVAT.body, "vat_number")?.contains("partita IVA") == true)
            }
            try await portal.test { browser in
                try await browser.logIn("semplice.uni", profilePassword)
                let page = try await browser.get("/profile")
                #expect(page.body.contains("Invia la richiesta"))
                let requested = try await browser.post("/profile/customer", ["phone": "06 1234567"])
                #expect(requested.location == "/profile?done=requested")
                #expect(try await portal.storedCustomer(admin.customer).phone == "0212345678", "a request does not change the record")
                let requests = try await portal.database.read(tenant: portal.definition.id) { try await $0.requests(customerId: admin.customer) }
                let request = try #require(requests.first)
                #expect(request.form == "customer_data_change" && request.status == "open")
                #expect(request.subject.contains("Telefono"))
                #expect(request.payload.contains("061234567"))
                let after = try await browser.follow(requested)
                #expect(after.body.contains("Richiesta di modifica registrata"))
                #expect(after.body.contains(request.subject))
                let api = try await browser.profileAPI(.get, "/api/v1/profile")
                let customer = try #require(api.json["customer"] as? [String: Any])
                #expect(customer["change_mode"] as? String == "request")
                #expect((customer["pending_requests"] as? [Any])?.count == 1)
            }
            try await portal.test { browser in
                try await browser.logIn("vista.uni", profilePassword)
                let page = try await browser.get("/profile")
                #expect(page.status == .ok, "customer_data.view opens the page")
                #expect(!page.body.contains("action=\"/profile/customer\""))
                let refused = try await browser.post("/profile/customer", ["phone": "06 1234567"])
                #expect(refused.status == .unprocessableContent)
                #expect(try await portal.auditActions().filter { $0 == "customer_data.change_requested" }.count == 1)
            }
        }
    }

    @Test("TIM: the Utilizzatore sees company data read-only; the Amministratore Full changes only the communications e-mail; the legal representative the registered office",
          arguments: TestEngine.available)
    func timCompanyData(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let legal = try await portal.profileFixture(role: "rappresentante_legale", username: "rl.tim", email: "rl@rossi.example",
                                                        customer: ProfileCustomers.business(code: "TIM-1"))
            _ = try await portal.profileFixture(role: "amministratore_full", username: "full.tim", email: "full@rossi.example",
                                                customer: ProfileCustomers.business(code: "x"), existingCustomer: legal.customer)
            _ = try await portal.profileFixture(role: "utilizzatore", username: "user.tim", email: "user@rossi.example",
                                                customer: ProfileCustomers.business(code: "x"), existingCustomer: legal.customer)
            try await portal.test { browser in
                try await browser.logIn("user.tim", profilePassword)
                let page = try await browser.get("/profile")
                #expect(page.status == .ok)
                #expect(page.body.contains("Rossi Impianti S.r.l."))
                #expect(!page.body.contains("action=\"/profile/customer\""))
                #expect(page.body.contains("chiama il Servizio Clienti al 191"))
                #expect(page.body.contains("action=\"/profile/account\""), "profile.edit: own personal data")
                #expect(try await browser.post("/profile/customer", ["communications_email": "x@rossi.example"]).status == .unprocessableContent)
                #expect(try await browser.get("/profile/billing").status == .forbidden)
            }
            try await portal.test { browser in
                try await browser.logIn("full.tim", profilePassword)
                let saved = try await browser.post("/profile/customer", ["communications_email": "Comunicazioni@Rossi.example"])
                #expect(saved.location == "/profile?done=customer")
                #expect(try await portal.storedCustomer(legal.customer).email == "comunicazioni@rossi.example")
                let office = try await browser.profileAPI(.patch, "/api/v1/profile", ["customer": ["street": "Via Nuova 1"]])
                #expect(profileProblems(office.json)["customer.street"] == "read_only", "the registered office is the legal representative's")
            }
            try await portal.test { browser in
                try await browser.logIn("rl.tim", profilePassword)
                let badCAP = try await browser.post("/profile/customer", ["street": "Via Nuova 1", "postal_code": "123", "city": "Roma", "province": "RM"])
                #expect(badCAP.status == .unprocessableContent)
                #expect(fieldError(badCAP.body, "postal_code")?.contains("CAP") == true)
                #expect(badCAP.body.contains("value=\"Via Nuova 1\""))
                let partial = try await browser.post("/profile/customer", ["street": "Via Nuova 1", "postal_code": "", "city": "Roma", "province": "RM"])
                #expect(fieldError(partial.body, "postal_code") != nil)
                let saved = try await browser.post("/profile/customer", ["street": "Via Nuova 1", "postal_code": "00184", "city": "Roma", "province": "rm"])
                #expect(saved.location == "/profile?done=customer")
                let customer = try await portal.storedCustomer(legal.customer)
                #expect(customer.street == "Via Nuova 1" && customer.postalCode == "00184" && customer.province == "RM")
                let legalRep = try await browser.profileAPI(.patch, "/api/v1/profile", ["customer": ["legal_rep_last_name": "Verdi"]])
                #expect(profileProblems(legalRep.json)["customer.legal_rep_last_name"] == "read_only", "TIM: call 191 to change the legal representative")
            }
        }
    }

    @Test("WINDTRE has no profile page (404) and Unogas customers only view their customer data", arguments: TestEngine.available)
    func windtreAndUnogas(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            _ = try await portal.profileFixture(role: "user_admin", username: "admin.wind", email: "admin@wind.example",
                                                customer: ProfileCustomers.business(code: "W-1"))
            try await portal.test { browser in
                try await browser.logIn("admin.wind", profilePassword)
                #expect(try await browser.get("/profile").status == .notFound)
                #expect(try await browser.get("/profile/billing").status == .notFound)
                #expect(try await browser.profileAPI(.get, "/api/v1/profile").status == .notFound)
            }
        }
        try await PortalHarness.with(engine: engine, tenant: "unogas") { portal in
            var customer = ProfileCustomers.tundaPrivate(code: "G-1")
            customer.customerType = "person"
            _ = try await portal.profileFixture(role: "cliente", username: "cliente@example.it", email: "cliente@example.it", customer: customer)
            try await portal.test { browser in
                try await browser.logIn("cliente@example.it", profilePassword)
                let page = try await browser.get("/profile")
                #expect(page.status == .ok)
                #expect(page.body.contains("G-1"))
                #expect(!page.body.contains("action=\"/profile/customer\""))
                #expect(page.body.contains("action=\"/profile/account\""))
                #expect(try await browser.get("/profile/billing").status == .notFound)
            }
        }
    }

    @Test("Profile API: the JSON shape, every problem of user and customer at once, CSRF, and no other customer or tenant touched",
          arguments: TestEngine.available)
    func profileAPIAndIsolation(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            let mine = try await portal.profileFixture(role: "main_account", username: "mario.rossi@example.it", email: "mario.rossi@example.it",
                                                       customer: ProfileCustomers.tundaPrivate(code: "T-1"))
            let other = try await portal.profileFixture(role: "main_account", username: "altro@example.it", email: "altro@example.it",
                                                        customer: ProfileCustomers.tundaPrivate(code: "T-2"))
            let otherTenant = portal.definition.id + "-other"
            let foreignId = try await portal.database.write(tenant: otherTenant) { try await $0.insertCustomer(ProfileCustomers.tundaPrivate(code: "T-1")) }
            let otherBefore = try await portal.storedCustomer(other.customer)
            try await portal.test { browser in
                try await browser.logIn("mario.rossi@example.it", profilePassword)
                let get = try await browser.profileAPI(.get, "/api/v1/profile")
                #expect(get.status == .ok)
                let user = try #require(get.json["user"] as? [String: Any])
                #expect(user["username"] as? String == "mario.rossi@example.it")
                #expect(user["email_is_username"] as? Bool == true)
                let customer = try #require(get.json["customer"] as? [String: Any])
                #expect(customer["code"] as? String == "T-1")
                #expect(customer["change_mode"] as? String == "direct")
                let fields = try #require(customer["fields"] as? [[String: Any]])
                let firstName = try #require(fields.first { $0["name"] as? String == "first_name" })
                #expect(firstName["immutable"] as? Bool == true && firstName["editable"] as? Bool == false)
                let phone = try #require(fields.first { $0["name"] as? String == "phone" })
                #expect(phone["editable"] as? Bool == true && phone["value"] as? String == "0212345678")
                #expect((get.json["links"] as? [String: Any])?["password_change"] as? String == "/password/change")

                let noCSRF = try await browser.profileAPI(.patch, "/api/v1/profile", ["customer": ["phone": "0299999999"]], csrf: false)
                #expect(noCSRF.status == .forbidden)
                #expect((noCSRF.json["error"] as? [String: Any])?["code"] as? String == "csrf_rejected")

                let both = try await browser.profileAPI(.patch, "/api/v1/profile", [
                    "user": ["first_name": "", "email": "non-valida", "username": "nuovo"],
                    "customer": ["postal_code": "999", "province": "Milano", "email": 12],
                ])
                #expect(both.status == .unprocessableContent)
                let problems = profileProblems(both.json)
                #expect(problems["user.first_name"] == "required")
                #expect(problems["user.email"] == "invalid_email")
                #expect(problems["user.username"] == "read_only")
                #expect(problems["customer.postal_code"] == "invalid_postal_code")
                #expect(problems["customer.province"] == "invalid_province")
                #expect(problems["customer.email"] == "invalid_type")

                let ok = try await browser.profileAPI(.patch, "/api/v1/profile", ["customer": ["phone": "0299999999", "mobile": ""]])
                #expect(ok.status == .ok)
                let fieldsAfter = try #require((ok.json["customer"] as? [String: Any])?["fields"] as? [[String: Any]])
                #expect(fieldsAfter.first { $0["name"] as? String == "phone" }?["value"] as? String == "0299999999")
            }
            #expect(try await portal.storedCustomer(mine.customer).phone == "0299999999")
            #expect(try await portal.storedCustomer(other.customer) == otherBefore, "another customer of the tenant is untouched")
            let foreign = try await portal.database.read(tenant: otherTenant) { try await $0.customer(id: foreignId) }
            #expect(foreign?.phone == "0212345678", "the same customer code in another tenant is untouched")
        }
    }
}
