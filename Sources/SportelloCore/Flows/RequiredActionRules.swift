import Foundation

/// The user as the required-action rules see them: role and customer type (who must), and what the user record
/// says about the password and the e-mail address.
public struct RequiredActionSubject: Sendable, Equatable {
    public var role: String
    public var customerType: String
    /// The password is a temporary one (`UserStatus.mustChangePassword`).
    public var mustChangePassword: Bool
    /// When the password was last set (nil for accounts older than the marker: their creation counts).
    public var passwordChangedAt: Int64?
    public var createdAt: Int64
    /// The user has an e-mail address whose control they have not proved.
    public var hasUnverifiedEmail: Bool
    /// The user has enrolled an authenticator app.
    public var hasTOTP: Bool

    public init(role: String, customerType: String, mustChangePassword: Bool = false, passwordChangedAt: Int64? = nil,
                createdAt: Int64 = 0, hasUnverifiedEmail: Bool = false, hasTOTP: Bool = false) {
        self.role = role; self.customerType = customerType; self.mustChangePassword = mustChangePassword
        self.passwordChangedAt = passwordChangedAt; self.createdAt = createdAt; self.hasUnverifiedEmail = hasUnverifiedEmail
        self.hasTOTP = hasTOTP
    }

    public init(user: UserRecord, customerType: String) {
        self.init(role: user.role, customerType: customerType, mustChangePassword: user.status == .mustChangePassword,
                  passwordChangedAt: user.passwordChangedAt, createdAt: user.createdAt, hasUnverifiedEmail: user.hasUnverifiedEmail,
                  hasTOTP: !(user.totpSecret ?? "").isEmpty)
    }
}

/// An action the user must complete now, and why.
public struct PendingRequiredAction: Sendable, Equatable {
    public enum Reason: String, Sendable {
        /// Never completed by this user.
        case notCompleted = "not_completed"
        /// Completed longer ago than its `every:`.
        case expired
        /// accept_terms: the user accepted another version than the one published now.
        case newVersion = "new_version"
        /// The password is a temporary one.
        case temporaryPassword = "temporary_password"
        /// The user's e-mail address is not verified.
        case emailNotVerified = "email_not_verified"
    }

    /// The action's id in `required_actions:` (`RequiredActionRules.forcedPasswordChangeId` for a forced password
    /// change no applicable action lists).
    public var id: String
    public var type: RequiredActionType
    public var reason: Reason
    /// Since when it is due, when the rules know (an `every:` that ran out, a password set at that time); nil
    /// when it has never been completed or a new version was published.
    public var since: Int64?
    /// The last completion, when there was one (the version then accepted, and when).
    public var lastCompletedAt: Int64?
    public var lastVersion: String?

    public init(id: String, type: RequiredActionType, reason: Reason, since: Int64? = nil, lastCompletedAt: Int64? = nil,
                lastVersion: String? = nil) {
        self.id = id; self.type = type; self.reason = reason; self.since = since
        self.lastCompletedAt = lastCompletedAt; self.lastVersion = lastVersion
    }
}

/// Which required actions (`required_actions:`) a user must complete now, given the tenant's definition, the user's
/// role and customer type, their completions and the time: pure, so the gate in front of every page, the action
/// pages, the JSON API and the staff listing all answer the same.
///
/// - A forced password change (a temporary password) is always pending and always first, whether or not the YAML
///   lists a `change_password` action; listed (for the user's role and customer type) it takes that action's id.
/// - `change_password` with `every:` is also pending once the password is older than that.
/// - `accept_terms` is pending until the published `version` is accepted, and again `every:` after that.
/// - `confirm_customer_data` is pending until confirmed, and again `every:` after that.
/// - `verify_email` is pending while the user's e-mail address is not verified (a user without one has nothing to verify).
/// - `enrol_totp` is pending until an authenticator app is enrolled (login then asks for its code).
/// The others follow in the order the YAML lists them.
public enum RequiredActionRules {
    /// The id of the forced password change when no applicable `change_password` action is listed.
    public static let forcedPasswordChangeId = "change_password"

    /// Whether `action` applies to a user of `role` whose customer is of `customerType` (no list: everyone).
    public static func applies(_ action: RequiredAction, role: String, customerType: String) -> Bool {
        (action.roles.map { $0.contains(role) } ?? true) && (action.customerTypes.map { $0.contains(customerType) } ?? true)
    }

    /// The actions of `definition` a user of `role` and `customerType` must complete at some point, in YAML order.
    public static func applicable(in definition: TenantDefinition, role: String, customerType: String) -> [(id: String, action: RequiredAction)] {
        guard let actions = definition.requiredActions, !actions.isEmpty else { return [] }
        return actions.filter { applies($0.value, role: role, customerType: customerType) }.map { (id: $0.key, action: $0.value) }
    }

    /// Whether working out the user's pending actions needs their stored completions: false when nothing the
    /// tenant lists for them is recorded, so the gate costs no query for tenants and users without such actions.
    public static func needsCompletions(in definition: TenantDefinition, role: String, customerType: String) -> Bool {
        guard let actions = definition.requiredActions, !actions.isEmpty else { return false }
        return actions.values.contains { $0.type.isRecorded && applies($0, role: role, customerType: customerType) }
    }

    /// The actions `subject` must complete at `now`, in the order they are asked.
    public static func pending(in definition: TenantDefinition, subject: RequiredActionSubject,
                               completions: [RequiredActionCompletion], now: Int64) -> [PendingRequiredAction] {
        let actions = applicable(in: definition, role: subject.role, customerType: subject.customerType)
        var result: [PendingRequiredAction] = []
        var forcedId: String?
        if subject.mustChangePassword {
            let id = actions.first { $0.action.type == .changePassword }?.id ?? forcedPasswordChangeId
            forcedId = id
            result.append(PendingRequiredAction(id: id, type: .changePassword, reason: .temporaryPassword, since: subject.passwordChangedAt))
        }
        guard !actions.isEmpty else { return result }
        var latest: [String: RequiredActionCompletion] = [:]
        for completion in completions where (latest[completion.actionId]?.completedAt ?? .min) <= completion.completedAt {
            latest[completion.actionId] = completion
        }
        for (id, action) in actions where id != forcedId {
            let every = action.type.repeats ? action.every.map { Int64($0.seconds) } : nil
            switch action.type {
            case .changePassword:
                guard let every else { continue }
                let setAt = subject.passwordChangedAt ?? subject.createdAt
                if now >= setAt + every {
                    result.append(PendingRequiredAction(id: id, type: .changePassword, reason: .expired, since: setAt + every,
                                                        lastCompletedAt: setAt))
                }
            case .verifyEmail:
                if subject.hasUnverifiedEmail {
                    result.append(PendingRequiredAction(id: id, type: .verifyEmail, reason: .emailNotVerified))
                }
            case .enrolTOTP:
                if !subject.hasTOTP {
                    result.append(PendingRequiredAction(id: id, type: .enrolTOTP, reason: .notCompleted))
                }
            case .acceptTerms, .confirmCustomerData:
                guard let last = latest[id] else {
                    result.append(PendingRequiredAction(id: id, type: action.type, reason: .notCompleted))
                    continue
                }
                if action.type == .acceptTerms, last.version != action.version {
                    result.append(PendingRequiredAction(id: id, type: action.type, reason: .newVersion,
                                                        lastCompletedAt: last.completedAt, lastVersion: last.version))
                } else if let every, now >= last.completedAt + every {
                    result.append(PendingRequiredAction(id: id, type: action.type, reason: .expired, since: last.completedAt + every,
                                                        lastCompletedAt: last.completedAt, lastVersion: last.version))
                }
            }
        }
        return result
    }

    // MARK: confirm_customer_data

    /// Catalogue fields a `confirm_customer_data` action cannot show: the customer code (the provider's key), the
    /// IBAN (the billing page keeps it, sealed), the billing address (no column of the record) and the account's
    /// own credentials.
    public static let unconfirmableFields: Set<String> = ["customer_code", "iban", "billing_address", "username", "security_answer"]

    /// The inputs a `confirm_customer_data` action shows to a customer of type `typeId`: its catalogue fields
    /// expanded as a `customer_details` step expands them (`names`, `tax_id`, `address`…), the tenant's own fields
    /// with their label, help and input type. An input is required when the customer type requires it (or the
    /// tenant's field says so).
    public static func confirmationInputs(_ action: RequiredAction, customerType typeId: String, in definition: TenantDefinition) -> [FormInput] {
        guard let type = definition.customerTypes[typeId] else { return [] }
        let custom = definition.customerFields ?? OrderedMap()
        let typeRequired = Set(type.requiredFields.flatMap { CustomerDetailsForm.expand($0, kind: type.kind, required: true).map(\.name) })
        var inputs: [FormInput] = []
        for field in action.fields ?? [] where !unconfirmableFields.contains(field) {
            if let own = custom[field] {
                if !inputs.contains(where: { $0.name == field }) { inputs.append(own.formInput(name: field, required: typeRequired.contains(field))) }
                continue
            }
            guard CustomerField(rawValue: field) != nil else { continue }
            for var input in CustomerDetailsForm.expand(field, kind: type.kind, required: false) where !inputs.contains(where: { $0.name == input.name }) {
                input.required = typeRequired.contains(input.name)
                if input.required, input.name == "tax_code" { input.hint = nil }
                inputs.append(input)
            }
        }
        return inputs
    }

    /// The address inputs, validated as a group (a partly filled address is incomplete).
    static let addressInputs: Set<String> = ["street", "postal_code", "city", "province"]

    /// Checks a `confirm_customer_data` submission. `current` holds the stored values by input name (catalogue
    /// columns and the tenant's own fields, canonical); an input missing from `submitted` keeps its stored value, so
    /// an API client may send only what changes. Inputs in `readOnly` (`field_policies.immutable`) are refused when
    /// what was sent differs from what is stored. Catalogue fields are checked and normalised by
    /// `CustomerDetailsForm`, the tenant's own by their definitions, messages in the customer's language; returns
    /// every problem, or the normalised value of every editable input (empty: cleared).
    public static func validateConfirmation(_ submitted: [String: String], inputs: [FormInput], current: [String: String],
                                            readOnly: Set<String>, customerKind: CustomerKind, typeId: String,
                                            definition: TenantDefinition, context: FieldContext) -> Result<[String: String], FieldProblems> {
        var problems = FieldProblems()
        var entered: [String: String] = [:]
        for input in inputs {
            let raw = submitted[input.name]
            if readOnly.contains(input.name) {
                if let raw, !sameValue(raw, current[input.name]) {
                    var problem = FieldProblem(field: input.name, code: "immutable",
                                               it: "Il campo «\(input.label.resolve("it"))» non si può modificare da qui.",
                                               en: "“\(input.label.resolve("en"))” cannot be changed here.")
                    if let hint = definition.fieldPolicies?.changeHint {
                        problem.message = LocalizedText(translations: ["it": problem.message.resolve("it") + " " + hint.resolve("it"),
                                                                       "en": problem.message.resolve("en") + " " + hint.resolve("en")])
                    }
                    problems.append(problem)
                }
                continue
            }
            entered[input.name] = raw ?? current[input.name] ?? ""
        }
        var normalised: [String: String] = [:]
        let custom = definition.customerFields ?? OrderedMap()
        for input in inputs where entered[input.name] != nil {
            guard var field = custom[input.name] else { continue }
            let raw = entered.removeValue(forKey: input.name) ?? ""
            if input.required { field.required = true }
            switch field.validate(raw, field: input.name, in: context) {
            case .success(let value): normalised[input.name] = value?.canonical ?? ""
            case .failure(let found): problems.append(contentsOf: found.problems)
            }
        }
        let checked = inputs.filter { entered[$0.name] != nil }
        if !checked.isEmpty {
            switch CustomerDetailsForm.validate(entered, fields: checked.filter(\.required).map(\.name),
                                                optionalFields: checked.filter { !$0.required }.map(\.name),
                                                type: bareType(kind: customerKind), typeId: typeId) {
            case .success(let draft):
                for input in checked { normalised[input.name] = draft.values[input.name] ?? "" }
            case .failure(let found):
                problems.append(contentsOf: found.problems)
            }
            let address = checked.filter { addressInputs.contains($0.name) }
            let filled = address.filter { !(entered[$0.name] ?? "").trimmingCharacters(in: .whitespaces).isEmpty }
            if !filled.isEmpty, filled.count < address.count {
                for input in address where !filled.contains(input) && !problems.fields.contains(input.name) {
                    problems.append(FieldProblem(field: input.name, code: "required",
                                                 it: "Completa l'indirizzo: compila il campo «\(input.label.resolve("it"))».",
                                                 en: "Please complete the address: fill in “\(input.label.resolve("en"))”."))
                }
            }
        }
        // In the order the form shows the fields.
        let order = Dictionary(uniqueKeysWithValues: inputs.enumerated().map { ($0.element.name, $0.offset) })
        problems.problems = problems.problems.enumerated()
            .sorted { (order[$0.element.field] ?? .max, $0.offset) < (order[$1.element.field] ?? .max, $1.offset) }.map(\.element)
        return problems.isEmpty ? .success(normalised) : .failure(problems)
    }

    /// Two spellings of one value (spaces, case, dots and dashes, a `+39` prefix) compare equal.
    static func sameValue(_ a: String?, _ b: String?) -> Bool {
        func key(_ text: String?) -> String {
            var key = (text ?? "").uppercased().filter { !$0.isWhitespace && $0 != "." && $0 != "-" && $0 != "/" }
            if key.hasPrefix("+39") { key.removeFirst(3) }
            return key
        }
        return key(a) == key(b)
    }

    /// A customer type that asks for exactly the inputs given to the validator (the real one would add its other
    /// required fields, which the action may not show).
    static func bareType(kind: CustomerKind) -> CustomerType {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let json = #"{"label": "-", "kind": "\#(kind.rawValue)", "required_fields": [], "optional_fields": []}"#
        // Every kind's raw value decodes; the fallback only keeps the compiler honest.
        return (try? decoder.decode(CustomerType.self, from: Data(json.utf8)))
            ?? (try! decoder.decode(CustomerType.self, from: Data(#"{"label":"-","kind":"person","required_fields":[]}"#.utf8)))
    }

    /// The value of catalogue input `name` on `customer` (`email` and `communications_email` are one column).
    public static func value(_ name: String, of customer: CustomerRecord) -> String? {
        column(name).flatMap { customer[keyPath: $0] }
    }

    /// `customer` with catalogue input `name` set to `value` (nil or empty clears it).
    public static func setting(_ name: String, to value: String?, on customer: CustomerRecord) -> CustomerRecord {
        guard let keyPath = column(name) else { return customer }
        var record = customer
        record[keyPath: keyPath] = (value?.isEmpty ?? true) ? nil : value
        return record
    }

    /// The record's column for catalogue input `name`.
    static func column(_ name: String) -> WritableKeyPath<CustomerRecord, String?>? {
        switch name {
        case "first_name": \.firstName
        case "last_name": \.lastName
        case "company_name": \.companyName
        case "tax_code": \.taxCode
        case "vat_number": \.vatNumber
        case "birth_date": \.birthDate
        case "birth_place": \.birthPlace
        case "email", "communications_email": \.email
        case "phone": \.phone
        case "mobile": \.mobile
        case "pec": \.pec
        case "recipient_code": \.recipientCode
        case "street": \.street
        case "postal_code": \.postalCode
        case "city": \.city
        case "province": \.province
        case "legal_rep_first_name": \.legalRepFirstName
        case "legal_rep_last_name": \.legalRepLastName
        case "legal_rep_birth_date": \.legalRepBirthDate
        case "legal_rep_tax_code": \.legalRepTaxCode
        case "legal_rep_email": \.legalRepEmail
        case "legal_rep_mobile": \.legalRepMobile
        default: nil
        }
    }

    /// The inputs `field_policies.immutable` makes read-only (its composite names expanded to inputs).
    public static func readOnlyInputs(in definition: TenantDefinition) -> Set<String> {
        var names: Set<String> = []
        for field in definition.fieldPolicies?.immutable ?? [] {
            switch field {
            case "names": names.formUnion(["first_name", "last_name", "company_name"])
            case "tax_id": names.formUnion(["tax_code", "vat_number"])
            case "address", "registered_office": names.formUnion(addressInputs)
            default: names.insert(field)
            }
        }
        return names
    }
}
