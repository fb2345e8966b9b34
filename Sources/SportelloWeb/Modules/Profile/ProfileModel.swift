import Foundation
import SportelloCore
import SportelloStore

/// What the feature ids of the five tenants mean on the profile, billing and notification pages.
///
/// - `profile.edit` (Unidata, Unogas, Tunda, TIM): the user's own data. Where a tenant has no feature of its own
///   for the customer record (Tunda), it also edits the customer record: seed 002 — "È possibile modificare in
///   qualsiasi momento tutte le informazioni inserite tranne …".
/// - `customer_data.view` / `company.view`: see the customer record; `customer_data.edit`: change it (Unidata);
///   `company.communications_email` and `company.registered_office`: change only those parts (TIM).
/// - `billing.delivery_payment` (Unidata): invoice delivery and payment method; `invoices.paperless`,
///   `invoices.direct_debit`, `invoices.shipping_address` (TIM): NoCarta, direct debit, shipping address.
enum ProfileFeatures {
    static let ownData = "profile.edit"
    static let customerView = "customer_data.view"
    static let companyView = "company.view"
    static let customerEdit = "customer_data.edit"
    static let communicationsEmail = "company.communications_email"
    static let registeredOffice = "company.registered_office"
    /// A tenant defining any of these governs its customer record with them instead of `profile.edit`.
    static let customerGoverning = [customerView, companyView, customerEdit, communicationsEmail, registeredOffice]
    static let customerEditing = [customerEdit, communicationsEmail, registeredOffice]

    static let deliveryAndPayment = "billing.delivery_payment"
    static let paperless = "invoices.paperless"
    static let directDebit = "invoices.direct_debit"
    static let shippingAddress = "invoices.shipping_address"

    /// Features that, when a user holds them only through a per-user switch, let that user *ask* for the change
    /// rather than make it: seed 000 (Unidata) — the Referente Semplice "Può/NON può … Richiedere Modifiche
    /// Anagrafiche e alle modalità di invio e Pagamento delle fatture", while the Referente Amministratore
    /// "Modificare i dati anagrafici … Modificare le modalità di invio e pagamento".
    static let requestWhenOnlySwitched: Set<String> = [customerEdit, deliveryAndPayment]
}

/// How a user changes a group of data: directly, by recording a request for the provider, or not at all.
enum ChangeMode: String, Encodable {
    case direct
    case request
    case readOnly = "read_only"

    /// The mode the user's grants give for a change governed by `features`.
    static func of(_ features: [String], context: UserContext) -> ChangeMode {
        let granted = features.filter { context.may($0) }
        guard !granted.isEmpty else { return .readOnly }
        let direct = granted.contains { feature in
            !ProfileFeatures.requestWhenOnlySwitched.contains(feature) || grantedWithoutSwitches(feature, context: context)
        }
        return direct ? .direct : .request
    }

    /// Whether the role itself (not a per-user switch) grants `feature`.
    static func grantedWithoutSwitches(_ feature: String, context: UserContext) -> Bool {
        let authorization = context.tenant.authorization
        guard let bare = try? authorization.principal(role: context.user.role, toggles: [],
                                                      customerType: context.customer.customerType) else { return false }
        return authorization.isAllowed(bare, feature)
    }
}

/// One field of the customer record as the profile page shows it.
struct CustomerFieldState {
    var input: FormInput
    var value: String?
    var editable: Bool
    var immutable: Bool
}

/// The customer record on the profile page: which fields it shows, which the user may change and how.
struct CustomerDataPolicy {
    let definition: TenantDefinition
    let customer: CustomerRecord
    let visible: Bool
    let mode: ChangeMode
    let inputs: [FormInput]
    let editable: Set<String>
    let immutable: Set<String>
    /// The customer's values of the tenant's own fields (`customer_fields:`), canonical, by field id.
    let customValues: [String: String]
    let locale: String
    let today: CalendarDay

    init(context: UserContext, customer: CustomerRecord? = nil, customValues: [String: String] = [:], now: Int64? = nil) {
        let definition = context.tenant.definition
        let customer = customer ?? context.customer
        self.definition = definition
        self.customer = customer
        self.customValues = customValues
        locale = context.locale
        today = CalendarDay(instant: now ?? Int64(Date().timeIntervalSince1970))
        let governed = ProfileFeatures.customerGoverning.contains { definition.feature($0) != nil }
        visible = governed ? ProfileFeatures.customerGoverning.contains { context.may($0) } : context.may(ProfileFeatures.ownData)
        inputs = Self.inputs(for: customer, in: definition)
        immutable = Self.expand(definition.fieldPolicies?.immutable ?? [])
        let names = Set(inputs.map(\.name))
        var editable: Set<String> = []
        if governed {
            if context.may(ProfileFeatures.customerEdit) { editable = names }
            if context.may(ProfileFeatures.communicationsEmail) { editable.formUnion(["email", "communications_email"]) }
            if context.may(ProfileFeatures.registeredOffice) { editable.formUnion(Self.addressFields) }
            mode = ChangeMode.of(ProfileFeatures.customerEditing, context: context)
        } else {
            if context.may(ProfileFeatures.ownData) { editable = names }
            mode = ChangeMode.of([ProfileFeatures.ownData], context: context)
        }
        self.editable = editable.intersection(names).subtracting(immutable)
    }

    static let addressFields: Set<String> = ["street", "postal_code", "city", "province"]

    /// Catalogue names of the field policy as the input names they stand for.
    static func expand(_ fields: [String]) -> Set<String> {
        var names: Set<String> = []
        for field in fields {
            switch field {
            case "names": names.formUnion(["first_name", "last_name", "company_name"])
            case "tax_id": names.formUnion(["tax_code", "vat_number"])
            case "address", "registered_office": names.formUnion(addressFields)
            case "billing_address": names.formUnion(["billing_street", "billing_postal_code", "billing_city", "billing_province"])
            case "communications_email": names.insert("communications_email")
            default: names.insert(field)
            }
        }
        return names
    }

    /// The inputs of the customer's type (its `required_fields` and `optional_fields`), without those kept
    /// elsewhere: the customer code (shown as a fact), the IBAN (billing page) and the billing address (no column).
    /// The tenant's own fields come with their label, help and input type; a field no customer type names applies
    /// to every customer (optional unless the field says it is required).
    static func inputs(for customer: CustomerRecord, in definition: TenantDefinition) -> [FormInput] {
        guard let type = definition.customerTypes[customer.customerType] else { return [] }
        var all = CustomerDetailsForm.inputs(fields: [], optionalFields: [], type: type)
        let names = Set(all.map(\.name))
        let custom = definition.customerFields ?? OrderedMap()
        all = all.map { input in custom[input.name].map { $0.formInput(name: input.name, required: input.required) } ?? input }
        let named = Set(definition.customerTypes.values.flatMap { $0.requiredFields + ($0.optionalFields ?? []) })
        for (id, field) in custom where !named.contains(id) && !names.contains(id) {
            all.append(field.formInput(name: id, required: false))
        }
        return all.filter { input in
            !input.name.hasPrefix("billing_") && input.name != "iban" && input.name != "customer_code"
                && !(input.name == "communications_email" && names.contains("email"))
        }
    }

    /// The stored value of an input: a column of the customer record, or a value of one of the tenant's own fields.
    func current(_ name: String) -> String? {
        definition.customerFields?[name] != nil ? customValues[name] : Self.value(name, of: customer)
    }

    /// Whether `name` is one of the tenant's own customer fields.
    func isCustom(_ name: String) -> Bool { definition.customerFields?[name] != nil }

    var fields: [CustomerFieldState] {
        inputs.map { input in
            CustomerFieldState(input: input, value: current(input.name), editable: editable.contains(input.name),
                               immutable: immutable.contains(input.name))
        }
    }

    var hasEditable: Bool { mode != .readOnly && !editable.isEmpty }

    // MARK: Values

    static func value(_ name: String, of customer: CustomerRecord) -> String? {
        switch name {
        case "first_name": customer.firstName
        case "last_name": customer.lastName
        case "company_name": customer.companyName
        case "tax_code": customer.taxCode
        case "vat_number": customer.vatNumber
        case "birth_date": customer.birthDate
        case "birth_place": customer.birthPlace
        case "email", "communications_email": customer.email
        case "phone": customer.phone
        case "mobile": customer.mobile
        case "pec": customer.pec
        case "recipient_code": customer.recipientCode
        case "iban": customer.iban
        case "street": customer.street
        case "postal_code": customer.postalCode
        case "city": customer.city
        case "province": customer.province
        case "legal_rep_first_name": customer.legalRepFirstName
        case "legal_rep_last_name": customer.legalRepLastName
        case "legal_rep_birth_date": customer.legalRepBirthDate
        case "legal_rep_tax_code": customer.legalRepTaxCode
        case "legal_rep_email": customer.legalRepEmail
        case "legal_rep_mobile": customer.legalRepMobile
        case "customer_code": customer.customerCode
        default: nil
        }
    }

    static func set(_ name: String, _ value: String?, on customer: inout CustomerRecord) {
        switch name {
        case "first_name": customer.firstName = value
        case "last_name": customer.lastName = value
        case "company_name": customer.companyName = value
        case "tax_code": customer.taxCode = value
        case "vat_number": customer.vatNumber = value
        case "birth_date": customer.birthDate = value
        case "birth_place": customer.birthPlace = value
        case "email", "communications_email": customer.email = value
        case "phone": customer.phone = value
        case "mobile": customer.mobile = value
        case "pec": customer.pec = value
        case "recipient_code": customer.recipientCode = value
        case "iban": customer.iban = value
        case "street": customer.street = value
        case "postal_code": customer.postalCode = value
        case "city": customer.city = value
        case "province": customer.province = value
        case "legal_rep_first_name": customer.legalRepFirstName = value
        case "legal_rep_last_name": customer.legalRepLastName = value
        case "legal_rep_birth_date": customer.legalRepBirthDate = value
        case "legal_rep_tax_code": customer.legalRepTaxCode = value
        case "legal_rep_email": customer.legalRepEmail = value
        case "legal_rep_mobile": customer.legalRepMobile = value
        default: break
        }
    }

    /// Two spellings of the same value (spaces, case, an `IT` prefix) compare equal.
    static func sameValue(_ a: String?, _ b: String?) -> Bool {
        func key(_ text: String?) -> String {
            var key = (text ?? "").uppercased().filter { !$0.isWhitespace && $0 != "." && $0 != "-" && $0 != "/" }
            if key.hasPrefix("+39") { key.removeFirst(3) }
            return key
        }
        return key(a) == key(b)
    }

    // MARK: Validation

    /// One change to one field.
    struct Change: Equatable {
        var field: String
        var old: String?
        var new: String?
    }

    /// Checks what was submitted (only the keys present), field by field, with the Core validators; a field
    /// the user may not change is refused when its value differs from the stored one. Returns every problem,
    /// or the normalised changes.
    func validate(_ submitted: [String: String], locale: String, theme: PortalTheme, rejectUnknown: Bool) -> Result<[Change], FieldProblems> {
        var problems = FieldProblems()
        let byName = Dictionary(uniqueKeysWithValues: inputs.map { ($0.name, $0) })
        for (name, raw) in submitted.sorted(by: { $0.key < $1.key }) {
            guard byName[name] != nil else {
                if rejectUnknown {
                    problems.append(Self.problem(name, "unknown_field", "profile.error.unknown_field", theme: theme))
                }
                continue
            }
            if editable.contains(name) && mode != .readOnly { continue }
            let stored = current(name)
            let collapsed = raw.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            if Self.sameValue(collapsed, stored) { continue }
            if immutable.contains(name) {
                problems.append(Self.immutableProblem(name, definition: definition, theme: theme))
            } else {
                problems.append(Self.problem(name, "read_only", "profile.error.read_only", theme: theme))
            }
        }
        let changeable = inputs.filter { editable.contains($0.name) && mode != .readOnly && submitted[$0.name] != nil }
        var normalised: [String: String] = [:]
        if !changeable.isEmpty {
            var entered: [String: String] = [:]
            for input in changeable { entered[input.name] = submitted[input.name] }
            // The group of address fields is validated whole: a partial change still needs the others.
            if changeable.contains(where: { Self.addressFields.contains($0.name) }) {
                for input in inputs where Self.addressFields.contains(input.name) && editable.contains(input.name) && entered[input.name] == nil {
                    entered[input.name] = current(input.name) ?? ""
                }
            }
            // The tenant's own fields are checked by their definitions; the catalogue's by the Core validators.
            let context = FieldContext(locale: locale, tenant: definition, today: today)
            for input in inputs where isCustom(input.name) {
                guard let raw = entered.removeValue(forKey: input.name), var field = definition.customerFields?[input.name] else { continue }
                if input.required { field.required = true }
                switch field.validate(raw, field: input.name, in: context) {
                case .success(let value): normalised[input.name] = value?.canonical ?? ""
                case .failure(let found): problems.append(contentsOf: found.problems)
                }
            }
            let checked = inputs.filter { entered[$0.name] != nil }
            let required = checked.filter(\.required).map(\.name)
            let optional = checked.filter { !$0.required }.map(\.name)
            let kind = definition.customerTypes[customer.customerType]?.kind ?? .person
            switch CustomerDetailsForm.validate(entered, fields: required, optionalFields: optional, type: Self.bareType(kind: kind),
                                                typeId: customer.customerType) {
            case .success(let draft):
                for input in checked { normalised[input.name] = draft.values[input.name] ?? "" }
            case .failure(let found):
                problems.append(contentsOf: found.problems)
            }
            // A partly filled address is incomplete.
            let address = checked.filter { Self.addressFields.contains($0.name) }
            let filled = address.filter { !(entered[$0.name] ?? "").trimmingCharacters(in: .whitespaces).isEmpty }
            if !filled.isEmpty, filled.count < address.count {
                for input in address where !filled.contains(input) && !problems.fields.contains(input.name) {
                    problems.append(FieldProblem(field: input.name, code: "required",
                                                 it: "Completa l'indirizzo: compila il campo «\(input.label.resolve("it"))».",
                                                 en: "Please complete the address: fill in “\(input.label.resolve("en"))”."))
                }
            }
        }
        guard problems.isEmpty else { return .failure(problems) }
        var changes: [Change] = []
        for input in inputs where normalised[input.name] != nil {
            let new = normalised[input.name].flatMap { $0.isEmpty ? nil : $0 }
            let old = current(input.name)
            if new != old { changes.append(Change(field: input.name, old: old, new: new)) }
        }
        return .success(changes)
    }

    /// A customer type that asks for exactly the fields given to the validator (the real type would add its
    /// other required fields, which the user may not be changing).
    static func bareType(kind: CustomerKind) -> CustomerType {
        let json = #"{"label": "-", "kind": "\#(kind.rawValue)", "required_fields": [], "optional_fields": []}"#
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        // The literal above always decodes; the fallback only keeps the compiler honest.
        return (try? decoder.decode(CustomerType.self, from: Data(json.utf8)))
            ?? (try! decoder.decode(CustomerType.self, from: Data(#"{"label":"-","kind":"person","required_fields":[]}"#.utf8)))
    }

    /// The refusal of a change to a field `field_policies.immutable` names, with the tenant's `change_hint`.
    static func immutableProblem(_ field: String, definition: TenantDefinition, theme: PortalTheme) -> FieldProblem {
        var problem = problem(field, "immutable", "profile.error.immutable", theme: theme)
        if let hint = definition.fieldPolicies?.changeHint {
            problem.message = LocalizedText(translations: ["it": problem.message.resolve("it") + " " + hint.resolve("it"),
                                                           "en": problem.message.resolve("en") + " " + hint.resolve("en")])
        }
        return problem
    }

    static func problem(_ field: String, _ code: String, _ key: String, theme: PortalTheme, _ values: [String: String] = [:]) -> FieldProblem {
        FieldProblem(field: field, code: code, message: LocalizedText(translations: [
            "it": theme.text(key, locale: "it", values), "en": theme.text(key, locale: "en", values)]))
    }
}

/// One of the tenant's own user fields (`user_fields:`) as the profile shows it.
struct UserFieldState {
    var id: String
    var field: FieldDefinition
    var input: FormInput
    /// The stored value, canonical.
    var value: String?
    var editable: Bool
    var immutable: Bool
}

/// The tenant's own fields of the user (`user_fields:`) on the profile: shown with the user's own data, changed
/// with the same permission as the name and e-mail (`profile.edit`), never when `field_policies.immutable` names them.
/// Values are checked by the fields' definitions and stored canonical (`user_field_values`).
struct UserFieldsPolicy {
    let definition: TenantDefinition
    /// The user's stored values by field id.
    let values: [String: String]
    /// Whether the user may change their own data at all.
    let mayEdit: Bool
    let immutable: Set<String>
    let today: CalendarDay

    init(context: UserContext, values: [String: String], now: Int64) {
        definition = context.tenant.definition
        self.values = values
        mayEdit = context.may(ProfileFeatures.ownData)
        let ids = Set(definition.userFields?.keys ?? [])
        immutable = CustomerDataPolicy.expand(definition.fieldPolicies?.immutable ?? []).intersection(ids)
        today = CalendarDay(instant: now)
    }

    /// Whether `name` is one of the tenant's own user fields.
    func isField(_ name: String) -> Bool { definition.userFields?[name] != nil }

    var fields: [UserFieldState] {
        (definition.userFields ?? OrderedMap()).map { id, field in
            UserFieldState(id: id, field: field, input: field.formInput(name: id, required: false), value: values[id],
                           editable: mayEdit && !immutable.contains(id), immutable: immutable.contains(id))
        }
    }

    /// A stored value as a page shows it in `locale` (dates `dd/mm/yyyy`, options by their label).
    static func display(_ state: UserFieldState, locale: String) -> String {
        guard let stored = state.value, !stored.isEmpty else { return "" }
        return state.field.value(fromCanonical: stored).map { state.field.display($0, locale: locale) } ?? stored
    }

    /// Checks the submitted values (only the keys present that name a user field), each by its definition: every
    /// problem, named by field id, or the changes to store. A field the user may not change is refused when what
    /// was sent differs from the stored value once normalised.
    func validate(_ submitted: [String: String], locale: String, theme: PortalTheme) -> Result<[CustomerDataPolicy.Change], FieldProblems> {
        let context = FieldContext(locale: locale, tenant: definition, today: today)
        var problems = FieldProblems()
        var changes: [CustomerDataPolicy.Change] = []
        for (name, raw) in submitted.sorted(by: { $0.key < $1.key }) {
            guard let field = definition.userFields?[name] else { continue }
            let stored = values[name]
            let result = field.validate(raw, field: name, in: context)
            if !mayEdit || immutable.contains(name) {
                if case .success(let value) = result, value?.canonical == stored { continue }
                problems.append(immutable.contains(name) ? CustomerDataPolicy.immutableProblem(name, definition: definition, theme: theme)
                                                         : CustomerDataPolicy.problem(name, "read_only", "profile.error.read_only", theme: theme))
                continue
            }
            switch result {
            case .success(let value):
                let new = value?.canonical
                if new != stored { changes.append(.init(field: name, old: stored, new: new)) }
            case .failure(let found):
                problems.append(contentsOf: found.problems)
            }
        }
        return problems.isEmpty ? .success(changes) : .failure(problems)
    }
}

/// The choices of a field with a closed set of values (`enum`, `boolean`), for a `<select>`; nil for other types.
/// An empty choice comes first unless the field is required and already holds a value.
enum FieldChoices {
    struct Option: Encodable { var value, label: String; var selected: Bool }

    static func options(_ field: FieldDefinition?, value: String?, required: Bool, locale: String) -> [Option]? {
        guard let field else { return nil }
        var choices: [(String, String)]
        switch field.type {
        case .enumeration: choices = (field.options ?? OrderedMap()).map { ($0.key, $0.value.resolve(locale)) }
        case .boolean: choices = [true, false].map { ($0 ? "true" : "false", field.display(.boolean($0), locale: locale)) }
        default: return nil
        }
        let current = value ?? ""
        if !required || current.isEmpty { choices.insert(("", "—"), at: 0) }
        return choices.map { Option(value: $0.0, label: $0.1, selected: $0.0 == current) }
    }
}

/// The user's own data (name and e-mail) and the rule for an e-mail that is also the username.
struct OwnDataPolicy {
    let definition: TenantDefinition
    let user: UserRecord
    let editable: Bool

    init(context: UserContext, user: UserRecord? = nil) {
        definition = context.tenant.definition
        self.user = user ?? context.user
        editable = context.may(ProfileFeatures.ownData)
    }

    /// The e-mail is the login name (Tunda, Unogas: `login.identifiers: [email]`, username = e-mail).
    var emailIsUsername: Bool {
        if let email = user.email, email.caseInsensitiveCompare(user.username) == .orderedSame { return true }
        return definition.login.identifiers == [.email]
    }

    struct Update {
        var firstName: String?
        var lastName: String?
        var email: String?
        var currentPassword: String?
    }

    struct Validated {
        var firstName: String
        var lastName: String
        var email: String
        var emailChanged: Bool
    }

    /// Problems with the submitted own data (fields `first_name`, `last_name`, `email`, `current_password`);
    /// the password is checked by the caller when the e-mail changes.
    func validate(_ update: Update, theme: PortalTheme) -> Result<Validated, FieldProblems> {
        var problems = FieldProblems()
        guard editable else {
            for (field, value) in [("first_name", update.firstName), ("last_name", update.lastName), ("email", update.email)] {
                guard let value else { continue }
                let current = field == "first_name" ? user.firstName : field == "last_name" ? user.lastName : user.email
                if !CustomerDataPolicy.sameValue(value, current) {
                    problems.append(CustomerDataPolicy.problem(field, "read_only", "profile.error.read_only", theme: theme))
                }
            }
            return problems.isEmpty
                ? .success(Validated(firstName: user.firstName ?? "", lastName: user.lastName ?? "", email: user.email ?? "", emailChanged: false))
                : .failure(problems)
        }
        func name(_ field: String, _ value: String?, current: String?, it: String, en: String) -> String {
            let text = (value ?? current ?? "").split(whereSeparator: \.isWhitespace).joined(separator: " ")
            if text.isEmpty {
                problems.append(FieldProblem(field: field, code: "required", it: "Compila il campo «\(it)».", en: "Please fill in “\(en)”."))
            } else if text.count > 100 {
                problems.append(FieldProblem(field: field, code: "too_long", it: "Il campo «\(it)» può contenere al massimo 100 caratteri.",
                                             en: "“\(en)” can hold at most 100 characters."))
            } else if let problem = NameText.problem(field: field, value: text) {
                problems.append(problem)
            } else if !text.contains(where: \.isLetter) {
                problems.append(FieldProblem(field: field, code: "invalid_name", it: "Questo campo deve contenere delle lettere.",
                                             en: "This field must contain letters."))
            }
            return text
        }
        let first = name("first_name", update.firstName, current: user.firstName, it: "Nome", en: "First name")
        let last = name("last_name", update.lastName, current: user.lastName, it: "Cognome", en: "Last name")
        let email = (update.email ?? user.email ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        problems.append(contentsOf: UsernameRules.validateEmail(email, field: "email"))
        let changed = email.lowercased() != (user.email ?? "").lowercased()
        if changed, (update.currentPassword ?? "").isEmpty {
            problems.append(CustomerDataPolicy.problem("current_password", "required", "profile.error.password_for_email", theme: theme))
        }
        guard problems.isEmpty else { return .failure(problems) }
        return .success(Validated(firstName: first, lastName: last, email: emailIsUsername ? email.lowercased() : email, emailChanged: changed))
    }

    /// The login key for a new e-mail that is also the username; keeps the per-customer suffix Tunda's
    /// sub-accounts have (they may share an e-mail across customers).
    func usernameKey(for email: String) -> String {
        let base = UsernameRules.key(for: email, caseSensitive: definition.login.caseSensitive)
        guard let hash = user.usernameKey.firstIndex(of: "#") else { return base }
        return base + user.usernameKey[hash...]
    }
}

/// IBANs as shown once stored: the country, check digits and last four characters.
enum IBANMask {
    static func mask(_ iban: String?) -> String? {
        guard let iban, iban.count > 8 else { return iban.map { _ in "****" } }
        let characters = Array(iban.uppercased().filter { !$0.isWhitespace })
        let masked = characters.enumerated().map { offset, character in
            offset < 4 || offset >= characters.count - 4 ? character : "*"
        }
        return stride(from: 0, to: masked.count, by: 4).map { String(masked[$0..<min($0 + 4, masked.count)]) }.joined(separator: " ")
    }
}
