import Foundation
import Testing
@testable import SportelloCore

private let day: Int64 = 86_400
private let now: Int64 = 1_790_000_000

@Suite("Required action rules")
struct RequiredActionRulesTests {
    let definition: TenantDefinition

    init() throws { definition = try fleetTenant("rules", yaml: requiredActionsYAML) }

    func subject(role: String = "admin", type: String = "privato", mustChange: Bool = false, passwordAt: Int64? = nil,
                 unverified: Bool = false) -> RequiredActionSubject {
        RequiredActionSubject(role: role, customerType: type, mustChangePassword: mustChange, passwordChangedAt: passwordAt,
                              createdAt: now - 400 * day, hasUnverifiedEmail: unverified)
    }

    @Test("roles and customer_types restrict who is asked; the others are asked in YAML order")
    func restrictions() {
        let admin = RequiredActionRules.pending(in: definition, subject: subject(), completions: [], now: now)
        #expect(admin.map(\.id) == ["privacy", "dati"])
        #expect(admin.map(\.reason) == [.notCompleted, .notCompleted])
        let member = RequiredActionRules.pending(in: definition, subject: subject(role: "member"), completions: [], now: now)
        #expect(member.map(\.id) == ["privacy"], "confirm_customer_data is for admins only")
        let business = RequiredActionRules.pending(in: definition, subject: subject(role: "member", type: "azienda", unverified: true),
                                                   completions: [], now: now)
        #expect(business.map(\.id) == ["privacy", "posta"])
        let verified = RequiredActionRules.pending(in: definition, subject: subject(role: "member", type: "azienda", unverified: false),
                                                   completions: [], now: now)
        #expect(verified.map(\.id) == ["privacy"], "a verified address is not asked again")
        let privateUnverified = RequiredActionRules.pending(in: definition, subject: subject(role: "member", unverified: true),
                                                            completions: [], now: now)
        #expect(!privateUnverified.contains { $0.type == .verifyEmail }, "verify_email is for businesses only")
    }

    @Test("a completion of the published version is done; another version asks again; every: asks again once it ran out")
    func versionsAndEvery() {
        let accepted = RequiredActionCompletion(userId: 1, actionId: "privacy", version: "2026-01", completedAt: now - 10 * day)
        let confirmed = RequiredActionCompletion(userId: 1, actionId: "dati", completedAt: now - 30 * day)
        #expect(RequiredActionRules.pending(in: definition, subject: subject(), completions: [accepted, confirmed], now: now).isEmpty)

        let old = RequiredActionCompletion(userId: 1, actionId: "privacy", version: "2025-06", completedAt: now - 10 * day)
        let again = RequiredActionRules.pending(in: definition, subject: subject(), completions: [old, confirmed], now: now)
        #expect(again.map(\.id) == ["privacy"])
        #expect(again.first?.reason == .newVersion && again.first?.lastVersion == "2025-06")

        // Twelve months (360 days) after the confirmation it is asked again, not a day before.
        let stale = RequiredActionCompletion(userId: 1, actionId: "dati", completedAt: now - 360 * day)
        let expired = RequiredActionRules.pending(in: definition, subject: subject(), completions: [accepted, stale], now: now)
        #expect(expired.map(\.id) == ["dati"] && expired.first?.reason == .expired && expired.first?.since == now)
        #expect(RequiredActionRules.pending(in: definition, subject: subject(), completions: [accepted, stale], now: now - 1).isEmpty)
        // The latest completion counts, whatever the order the rows come in.
        #expect(RequiredActionRules.pending(in: definition, subject: subject(), completions: [accepted, confirmed, stale], now: now).isEmpty)
    }

    @Test("a temporary password is always pending and first; listed, change_password also asks once the password is older than every")
    func passwordChange() throws {
        let done = [RequiredActionCompletion(userId: 1, actionId: "privacy", version: "2026-01", completedAt: now),
                    RequiredActionCompletion(userId: 1, actionId: "dati", completedAt: now)]
        let forced = RequiredActionRules.pending(in: definition, subject: subject(mustChange: true), completions: done, now: now)
        #expect(forced.map(\.id) == [RequiredActionRules.forcedPasswordChangeId])
        #expect(forced.first?.reason == .temporaryPassword)
        #expect(RequiredActionRules.pending(in: definition, subject: subject(mustChange: true), completions: [], now: now).map(\.id)
                == ["change_password", "privacy", "dati"])

        let listed = try fleetTenant("rotation", yaml: requiredActionsYAML(replacing: "required_actions:\n", with: """
            required_actions:
              rotazione: {type: change_password, label: {it: Nuova password, en: New password}, every: 90d}

            """))
        #expect(RequiredActionRules.pending(in: listed, subject: subject(mustChange: true, passwordAt: now), completions: done, now: now)
                    .map(\.id) == ["rotazione"], "the forced change takes the listed action's id")
        #expect(RequiredActionRules.pending(in: listed, subject: subject(passwordAt: now - 89 * day), completions: done, now: now).isEmpty)
        let old = RequiredActionRules.pending(in: listed, subject: subject(passwordAt: now - 90 * day), completions: done, now: now)
        #expect(old.map(\.id) == ["rotazione"] && old.first?.reason == .expired)
        // Never changed: the account's creation counts.
        #expect(RequiredActionRules.pending(in: listed, subject: subject(), completions: done, now: now).map(\.id) == ["rotazione"])
    }

    @Test("enrol_totp is pending until the user has an authenticator, read off the user record (no completion needed)")
    func authenticator() throws {
        let listed = try fleetTenant("totp", yaml: fleetTenantYAML + """
            required_actions:
              app: {type: enrol_totp, label: App di autenticazione}

            """)
        #expect(RequiredActionRules.pending(in: listed, subject: subject(), completions: [], now: now).map(\.id) == ["app"])
        var enrolled = subject()
        enrolled.hasTOTP = true
        #expect(RequiredActionRules.pending(in: listed, subject: enrolled, completions: [], now: now).isEmpty)
        #expect(!RequiredActionRules.needsCompletions(in: listed, role: "admin", customerType: "privato"))
        var user = UserRecord(customerId: 1, username: "u", usernameKey: "u", role: "admin", createdAt: 0)
        #expect(!RequiredActionSubject(user: user, customerType: "privato").hasTOTP)
        user.totpSecret = "sealed:v1:abc"
        #expect(RequiredActionSubject(user: user, customerType: "privato").hasTOTP)
    }

    @Test("the gate reads completions only for users the tenant asks something recorded of")
    func needsCompletions() throws {
        #expect(RequiredActionRules.needsCompletions(in: definition, role: "member", customerType: "privato"))
        let withoutRecorded = try fleetTenant("cheap", yaml: fleetTenantYAML + """
            required_actions:
              posta: {type: verify_email, label: Verifica e-mail}

            """)
        #expect(!RequiredActionRules.needsCompletions(in: withoutRecorded, role: "admin", customerType: "privato"))
        #expect(!RequiredActionRules.needsCompletions(in: try fleetTenant("none"), role: "admin", customerType: "privato"))
        #expect(RequiredActionRules.pending(in: try fleetTenant("none"), subject: subject(unverified: true), completions: [], now: now).isEmpty)
    }

    @Test("confirm_customer_data: inputs expanded per customer type, read-only immutable ones, Italian messages, normalised values")
    func confirmation() throws {
        let action = try #require(definition.requiredActions?["dati"])
        let person = RequiredActionRules.confirmationInputs(action, customerType: "privato", in: definition)
        #expect(person.map(\.name) == ["email", "phone", "tax_code", "fleet_code"])
        #expect(person.first { $0.name == "tax_code" }?.required == true, "the type requires it")
        #expect(person.first { $0.name == "phone" }?.required == false)
        let business = RequiredActionRules.confirmationInputs(action, customerType: "azienda", in: definition)
        #expect(business.map(\.name) == ["email", "phone", "vat_number", "tax_code", "fleet_code"])

        let readOnly = RequiredActionRules.readOnlyInputs(in: definition)
        #expect(readOnly == ["tax_code", "vat_number"])
        let current = ["email": "mario@example.it", "tax_code": "RSSMRA80A01H501U"]
        let context = FieldContext(locale: "it", tenant: definition, today: CalendarDay(instant: now))
        func validate(_ submitted: [String: String]) -> Result<[String: String], FieldProblems> {
            RequiredActionRules.validateConfirmation(submitted, inputs: person, current: current, readOnly: readOnly, customerKind: .person,
                                                     typeId: "privato", definition: definition, context: context)
        }
        guard case .failure(let problems) = validate(["email": "mario@", "phone": "12", "tax_code": "RSSMRA80A01H501U", "fleet_code": "XX1"]) else {
            Issue.record("invalid values were accepted")
            return
        }
        #expect(problems.fields == ["email", "phone", "fleet_code"])
        #expect(problems.problems[0].message.resolve("it").hasPrefix("L'indirizzo e-mail non sembra valido"))
        guard case .failure(let immutable) = validate(["tax_code": "BNCGVN80A01H501X"]) else {
            Issue.record("a change to an immutable field was accepted")
            return
        }
        #expect(immutable.codes(for: "tax_code") == ["immutable"])
        guard case .success(let values) = validate(["email": " Mario@Example.IT ", "phone": "+39 02 1234 5678", "fleet_code": "fl1234"]) else {
            Issue.record("valid values were refused")
            return
        }
        #expect(values == ["email": "mario@example.it", "phone": "0212345678", "fleet_code": "FL1234"])
        guard case .success(let kept) = validate([:]) else {
            Issue.record("confirming the stored values unchanged was refused")
            return
        }
        #expect(kept["email"] == "mario@example.it" && kept["tax_code"] == nil, "missing keys keep the stored value; read-only ones are not returned")
    }
}

@Suite("Required actions validation")
struct RequiredActionsValidationTests {
    /// The line of the first occurrence of `text` in `yaml` (1-based).
    func line(of text: String, in yaml: String) throws -> Int {
        let lines = yaml.components(separatedBy: "\n")
        return try #require(lines.firstIndex { $0.contains(text) }) + 1
    }

    @Test("the test tenant's required actions are valid")
    func valid() {
        let result = TenantLoader(capabilities: .portal).load(sources: [(file: "example.yaml", text: requiredActionsYAML)])
        #expect(result.diagnostics.map(\.description) == [])
    }

    @Test("unknown roles, customer types and fields (with did-you-mean), missing keys and misplaced options, each at its place")
    func mistakes() throws {
        let yaml = fleetTenantYAML + """
            required_actions:
              privacy:
                type: accept_terms
                label: Privacy
                roles: [amdin]
                fields: [email]
              dati:
                type: confirm_customer_data
                label: Dati
                customer_types: [privto]
                every: 12mo
              altri:
                type: confirm_customer_data
                label: Altri dati
                fields: [emial, iban]
              posta:
                type: verify_email
                label: Posta
                every: 6mo
              change_password:
                type: accept_terms
                label: Falso
                version: "1"
                text: Testo

            """
        let result = TenantLoader(capabilities: .portal).load(sources: [(file: "example.yaml", text: yaml)])
        let found = result.diagnostics.map { "\($0.location.line) \($0.severity) \($0.code) \($0.message)" + ($0.hint.map { " (\($0))" } ?? "") }
        let expected = [
            "\(try line(of: "privacy:", in: yaml) + 1) error missing-key required action 'privacy' (accept_terms) needs 'text' (write the text accepted, in every language of the tenant)",
            "\(try line(of: "privacy:", in: yaml) + 1) error missing-key required action 'privacy' (accept_terms) needs 'version' (for example version: \"2026-01\" (publishing a new version asks everyone again))",
            "\(try line(of: "roles: [amdin]", in: yaml)) error unknown-role role 'amdin' is not a known role (did you mean 'admin'?)",
            "\(try line(of: "fields: [email]", in: yaml)) error invalid-option 'fields' applies only to confirm_customer_data, not to accept_terms (remove it)",
            "\(try line(of: "  dati:", in: yaml) + 1) error missing-key required action 'dati' (confirm_customer_data) needs 'fields' (for example fields: [email, phone, address])",
            "\(try line(of: "customer_types: [privto]", in: yaml)) error unknown-customer-type customer type 'privto' is not a known customer type (did you mean 'privato'?)",
            "\(try line(of: "fields: [emial, iban]", in: yaml)) error unknown-field field 'emial' is not a known field (did you mean 'email'?)",
            "\(try line(of: "fields: [emial, iban]", in: yaml)) error unsupported-field field 'iban' cannot be confirmed by a required action (the IBAN is changed on the billing page)",
            "\(try line(of: "every: 6mo", in: yaml)) error invalid-option 'every' applies to confirm_customer_data, accept_terms and change_password, not to verify_email (remove every: 6mo)",
            "\(try line(of: "  change_password:", in: yaml)) error reserved-id 'change_password' names the forced password change: an action of type accept_terms cannot take it (give the action another id)",
        ]
        // In file order (one line's diagnostics by message).
        #expect(found == expected)
        #expect(result.hasErrors)
        // The locations are those of the offending values (columns too, not only lines).
        let unknownRole = try #require(result.diagnostics.first { $0.code == "unknown-role" })
        #expect(unknownRole.location.file == "example.yaml" && unknownRole.location.column > 1)
    }
}
