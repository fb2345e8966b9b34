import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

/// The tenant's own user fields (`user_fields:`) on the profile: shown with their labels and help in the tenant's
/// language, saved canonical by the page and the API, refused next to the field when invalid or immutable, and
/// never another user's.
@Suite("User custom fields on the profile")
struct UserFieldsProfileTests {
    static let employeeNumber = FieldDefinition(
        label: LocalizedText(translations: ["it": "Matricola", "en": "Employee number"]), type: .text,
        help: LocalizedText(translations: ["it": "Sei cifre, come sul badge.", "en": "Six digits, as on the badge."]),
        normalize: [.removeSpaces], validators: [FieldValidator(pattern: "[0-9]{6}")], examples: ["004217"])
    static let department = FieldDefinition(
        label: LocalizedText(translations: ["it": "Reparto", "en": "Department"]), type: .enumeration,
        options: OrderedMap([("sales", LocalizedText(translations: ["it": "Vendite", "en": "Sales"])),
                             ("support", LocalizedText(translations: ["it": "Assistenza", "en": "Support"]))]))
    static let badgeCode = FieldDefinition(
        label: LocalizedText(translations: ["it": "Codice badge", "en": "Badge code"]), type: .text,
        normalize: [.uppercase], validators: [FieldValidator(pattern: "B-[0-9]{4}")], examples: ["B-0001"])

    /// Tunda with three user fields of its own, the badge code immutable.
    static func definition() throws -> TenantDefinition {
        var definition = try provider("tunda")
        definition.userFields = OrderedMap([("employee_number", employeeNumber), ("department", department), ("badge_code", badgeCode)])
        var policies = try #require(definition.fieldPolicies)
        policies.immutable = (policies.immutable ?? []) + ["badge_code"]
        definition.fieldPolicies = policies
        return definition
    }

    /// A main account of a customer of its own, with `values` stored for its user fields.
    static func user(_ portal: PortalHarness, _ email: String, code: String, values: [String: String]) async throws -> (user: Int64, customer: Int64) {
        let created = try await portal.profileFixture(role: "main_account", username: email, email: email,
                                                      customer: ProfileCustomers.tundaPrivate(code: code))
        try await portal.database.write(tenant: portal.definition.id) { try await $0.setCustomFieldValues(values, of: .user(created.user)) }
        return created
    }

    static func stored(_ portal: PortalHarness, _ user: Int64) async throws -> [String: String] {
        try await portal.database.read(tenant: portal.definition.id) { try await $0.customFieldValues(of: .user(user)) }
    }

    /// The own-data form as the page sends it, with `changes` on top.
    static func ownForm(_ changes: [String: String]) -> [String: String] {
        ["user_first_name": "Mario", "user_last_name": "Rossi", "user_email": "utente.campi@example.it",
         "user_employee_number": "004217", "user_department": "sales"].merging(changes) { _, new in new }
    }

    static func userFields(_ json: [String: Any]) -> [String: [String: Any]] {
        let fields = ((json["user"] as? [String: Any])?["fields"] as? [[String: Any]]) ?? []
        return Dictionary(fields.compactMap { field in (field["name"] as? String).map { ($0, field) } }, uniquingKeysWith: { first, _ in first })
    }

    @Test("the page shows the fields with their labels and help in the tenant's language: inputs, a select of the options, the immutable one locked",
          arguments: TestEngine.available)
    func shown(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda", definition: try Self.definition()) { portal in
            _ = try await Self.user(portal, "utente.campi@example.it", code: "T-U1",
                                    values: ["employee_number": "004217", "department": "support", "badge_code": "B-0042"])
            try await portal.test { browser in
                try await browser.logIn("utente.campi@example.it", profilePassword)
                let page = try await browser.get("/profile")
                #expect(page.status == .ok)
                #expect(page.body.contains("<label for=\"f-user_employee_number\">Matricola"))
                #expect(page.body.contains("name=\"user_employee_number\" type=\"text\" value=\"004217\""))
                #expect(page.body.contains("Sei cifre, come sul badge."))
                #expect(page.body.contains("<select id=\"f-user_department\" name=\"user_department\""))
                #expect(page.body.contains("<option value=\"support\" selected>Assistenza</option>"))
                #expect(!page.body.contains("name=\"user_badge_code\""), "an immutable field is not an input")
                let badge = try #require(page.body.range(of: "id=\"f-user_badge_code\""))
                #expect(page.body[badge.upperBound...].prefix(200).contains("B-0042"))
                #expect(page.body[badge.upperBound...].prefix(200).contains("non modificabile"))
                #expect(page.body.contains("nuova scheda anagrafica"), "the tenant's change hint is shown")
                let english = try await browser.get("/profile?lang=en")
                #expect(english.body.contains("Employee number") && english.body.contains("Six digits, as on the badge."))
                #expect(english.body.contains(">Support</option>") && !english.body.contains("Matricola"))
            }
        }
    }

    @Test("a valid value is saved in its canonical form and audited by name; the page then shows it", arguments: TestEngine.available)
    func saved(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda", definition: try Self.definition()) { portal in
            let created = try await Self.user(portal, "utente.campi@example.it", code: "T-U2",
                                              values: ["employee_number": "004217", "department": "sales", "badge_code": "B-0042"])
            try await portal.test { browser in
                try await browser.logIn("utente.campi@example.it", profilePassword)
                let saved = try await browser.post("/profile/account", Self.ownForm(["user_employee_number": " 12 34 56 ", "user_department": "support"]))
                #expect(saved.location == "/profile?done=account")
                #expect(try await Self.stored(portal, created.user) == ["employee_number": "123456", "department": "support", "badge_code": "B-0042"])
                let page = try await browser.get("/profile?done=account")
                #expect(page.body.contains("value=\"123456\"") && page.body.contains("<option value=\"support\" selected>"))
                let cleared = try await browser.post("/profile/account", Self.ownForm(["user_employee_number": "123456", "user_department": ""]))
                #expect(cleared.location == "/profile?done=account")
                #expect(try await Self.stored(portal, created.user)["department"] == nil, "an optional field emptied is removed")
                let unchanged = try await browser.post("/profile/account", Self.ownForm(["user_employee_number": "123456", "user_department": ""]))
                #expect(unchanged.location == "/profile?done=unchanged")
            }
            let audit = try await portal.database.read(tenant: portal.definition.id) { try await $0.auditLog() }
            let updates = audit.filter { $0.action == "profile.updated" }
            #expect(updates.count == 2)
            #expect(updates.contains { ($0.detail ?? "").contains("employee_number") && !($0.detail ?? "").contains("123456") },
                    "the audit names the field, never its value")
        }
    }

    @Test("an invalid value answers 422 with the Italian message next to the field, and nothing of the form is saved",
          arguments: TestEngine.available)
    func invalidRefused(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda", definition: try Self.definition()) { portal in
            let created = try await Self.user(portal, "utente.campi@example.it", code: "T-U3",
                                              values: ["employee_number": "004217", "department": "sales"])
            try await portal.test { browser in
                try await browser.logIn("utente.campi@example.it", profilePassword)
                let refused = try await browser.post("/profile/account", Self.ownForm([
                    "user_first_name": "Luigi", "user_employee_number": "12AB", "user_department": "marketing"]))
                #expect(refused.status == .unprocessableContent)
                let message = try #require(fieldError(refused.body, "user_employee_number"), "the problem is shown next to the field")
                #expect(message.contains("Matricola") && message.contains("non è nel formato richiesto"))
                #expect(fieldError(refused.body, "user_department") != nil)
                #expect(refused.body.contains("href=\"#f-user_employee_number\""), "the summary links to the field")
                #expect(refused.body.contains("value=\"12AB\""), "what was typed is shown again")
                #expect(try await Self.stored(portal, created.user) == ["employee_number": "004217", "department": "sales"])
                #expect(try await portal.storedUser(created.user).firstName == "Mario", "the valid part of the form is not saved either")

                let api = try await browser.profileAPI(.patch, "/api/v1/profile", ["user": ["employee_number": "1"]])
                #expect(api.status == .unprocessableContent)
                #expect(profileProblems(api.json)["user.employee_number"] == "pattern_mismatch")
                #expect(try await Self.stored(portal, created.user)["employee_number"] == "004217")
            }
        }
    }

    @Test("an immutable field is refused when changed, by form and by API, with the change hint; sent unchanged it passes",
          arguments: TestEngine.available)
    func immutableRefused(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda", definition: try Self.definition()) { portal in
            let created = try await Self.user(portal, "utente.campi@example.it", code: "T-U4",
                                              values: ["employee_number": "004217", "badge_code": "B-0042"])
            try await portal.test { browser in
                try await browser.logIn("utente.campi@example.it", profilePassword)
                let refused = try await browser.post("/profile/account", Self.ownForm(["user_badge_code": "B-9999"]))
                #expect(refused.status == .unprocessableContent)
                let message = try #require(fieldError(refused.body, "user_badge_code"))
                #expect(message.contains("non si può modificare") && message.contains("nuova scheda anagrafica"))
                let api = try await browser.profileAPI(.patch, "/api/v1/profile", ["user": ["badge_code": "B-0001", "employee_number": "111111"]])
                #expect(api.status == .unprocessableContent)
                #expect(profileProblems(api.json)["user.badge_code"] == "immutable")
                #expect(try await Self.stored(portal, created.user) == ["employee_number": "004217", "badge_code": "B-0042"])
                let cleared = try await browser.profileAPI(.patch, "/api/v1/profile", ["user": ["badge_code": NSNull()]])
                #expect(cleared.status == .unprocessableContent, "clearing is a change too")
                let same = try await browser.profileAPI(.patch, "/api/v1/profile", ["user": ["badge_code": "b-0042", "employee_number": "111111"]])
                #expect(same.status == .ok, "the stored value, in another spelling, is no change")
                #expect(try await Self.stored(portal, created.user) == ["employee_number": "111111", "badge_code": "B-0042"])
                let field = try #require(Self.userFields(same.json)["badge_code"])
                #expect(field["immutable"] as? Bool == true && field["editable"] as? Bool == false)
            }
        }
    }

    @Test("the API shows the fields under user.fields, saves what PATCH sends (null clears), rejects unknown keys; OpenAPI documents them for this tenant",
          arguments: TestEngine.available)
    func apiRoundTrip(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda", definition: try Self.definition()) { portal in
            let created = try await Self.user(portal, "utente.campi@example.it", code: "T-U5", values: [:])
            try await portal.test { browser in
                try await browser.logIn("utente.campi@example.it", profilePassword)
                let before = try await browser.profileAPI(.get, "/api/v1/profile")
                #expect(before.status == .ok)
                let empty = Self.userFields(before.json)
                #expect(Set(empty.keys) == ["employee_number", "department", "badge_code"])
                #expect(empty["employee_number"]?["label"] as? String == "Matricola")
                #expect(empty["employee_number"]?["value"] is NSNull && empty["employee_number"]?["editable"] as? Bool == true)

                let patched = try await browser.profileAPI(.patch, "/api/v1/profile", ["user": ["employee_number": "654 321", "department": "support"]])
                #expect(patched.status == .ok)
                #expect(Self.userFields(patched.json)["employee_number"]?["value"] as? String == "654321")
                let read = try await browser.profileAPI(.get, "/api/v1/profile")
                #expect(Self.userFields(read.json)["department"]?["value"] as? String == "support")
                #expect(try await Self.stored(portal, created.user) == ["employee_number": "654321", "department": "support"])
                #expect(try await portal.storedUser(created.user).firstName == "Mario", "the name was not sent and stays")

                let nulled = try await browser.profileAPI(.patch, "/api/v1/profile", ["user": ["department": NSNull()]])
                #expect(nulled.status == .ok)
                #expect(try await Self.stored(portal, created.user) == ["employee_number": "654321"])
                let unknown = try await browser.profileAPI(.patch, "/api/v1/profile", ["user": ["shoe_size": "42"]])
                #expect(profileProblems(unknown.json)["user.shoe_size"] == "unknown_field")
                let wrongType = try await browser.profileAPI(.patch, "/api/v1/profile", ["user": ["employee_number": 654321]])
                #expect(profileProblems(wrongType.json)["user.employee_number"] == "invalid_type")

                let document = try await browser.profileAPI(.get, "/api/v1/openapi.json", nil, csrf: false)
                let schemas = try #require((document.json["components"] as? [String: Any])?["schemas"] as? [String: Any])
                let update = try #require(schemas["ProfileUpdate"] as? [String: Any])
                let userProperties = ((update["properties"] as? [String: Any])?["user"] as? [String: Any])?["properties"] as? [String: Any] ?? [:]
                #expect(Set(userProperties.keys).isSuperset(of: ["first_name", "employee_number", "department", "badge_code"]))
                let profileUser = try #require(schemas["ProfileUser"] as? [String: Any])
                #expect((profileUser["required"] as? [String])?.contains("fields") == true)
            }
        }
        // A tenant without user fields documents none.
        try await PortalHarness.with(engine: .sqlite, tenant: "tunda") { portal in
            try await portal.test { browser in
                let document = try await browser.profileAPI(.get, "/api/v1/openapi.json", nil, csrf: false)
                let schemas = (document.json["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
                let update = schemas["ProfileUpdate"] as? [String: Any] ?? [:]
                let user = ((update["properties"] as? [String: Any])?["user"] as? [String: Any])?["properties"] as? [String: Any] ?? [:]
                #expect(user["first_name"] != nil && user["employee_number"] == nil)
            }
        }
    }

    @Test("a user sees and changes only their own values, never another user's", arguments: TestEngine.available)
    func otherUsersValuesNotVisible(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda", definition: try Self.definition()) { portal in
            let anna = try await Self.user(portal, "anna.campi@example.it", code: "T-A", values: ["employee_number": "111111", "badge_code": "B-1111"])
            let bruno = try await Self.user(portal, "bruno.campi@example.it", code: "T-B", values: ["employee_number": "222222"])
            try await portal.test { browser in
                try await browser.logIn("bruno.campi@example.it", profilePassword)
                let page = try await browser.get("/profile")
                #expect(page.body.contains("value=\"222222\""))
                #expect(!page.body.contains("111111") && !page.body.contains("B-1111"))
                let api = try await browser.profileAPI(.get, "/api/v1/profile")
                #expect(Self.userFields(api.json)["employee_number"]?["value"] as? String == "222222")
                #expect(Self.userFields(api.json)["badge_code"]?["value"] is NSNull)
                let patched = try await browser.profileAPI(.patch, "/api/v1/profile", ["user": ["employee_number": "333333"]])
                #expect(patched.status == .ok)
            }
            #expect(try await Self.stored(portal, anna.user) == ["employee_number": "111111", "badge_code": "B-1111"])
            #expect(try await Self.stored(portal, bruno.user) == ["employee_number": "333333"])
        }
    }

    @Test("demo users get values that pass the fields' validators, and the profile shows them", arguments: [TestEngine.sqlite])
    func demoValues(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda", definition: try Self.definition()) { portal in
            let generator = DemoDataGenerator(tenant: portal.definition, now: Int64(portal.clock.now().timeIntervalSince1970),
                                              hasher: portal.services.passwords)
            let summary = try await generator.generate(into: portal.database)
            let login = try #require(summary.logins.first { $0.role == "main_account" })
            let key = UsernameRules.key(for: login.username, caseSensitive: portal.definition.login.caseSensitive)
            let user = try #require(try await portal.database.read(tenant: portal.definition.id) { try await $0.user(usernameKey: key) })
            let values = try await Self.stored(portal, try #require(user.id))
            let context = FieldContext(locale: "it", tenant: portal.definition, today: CalendarDay(instant: Int64(portal.clock.now().timeIntervalSince1970)))
            #expect(Set(values.keys).isSuperset(of: ["employee_number", "badge_code"]))
            for (id, field) in try #require(portal.definition.userFields) {
                guard let value = values[id] else { continue }
                #expect((try? field.validate(value, field: id, in: context).get())??.canonical == value, "\(id) = \(value) passes")
            }
            try await portal.test { browser in
                let signIn = try await browser.post("/login", ["identifier": login.username, "password": login.password])
                #expect(signIn.location == "/")
                let page = try await browser.get("/profile")
                #expect(page.body.contains("value=\"\(values["employee_number"] ?? "-")\""))
            }
        }
    }
}
