import Foundation

/// The `verify_customer` step: which inputs to show for a step's `match:` list, which entered value finds the
/// customer record, and whether the entered data match that record (data as printed on a bill or contract).
///
/// Comparison is forgiving about form, strict about content: names ignore case, accents, spacing and punctuation;
/// codici fiscali and partite IVA ignore case and spaces (and an `IT` prefix); phones ignore separators and
/// `+39`/`0039`; dates accept `dd/mm/yyyy`, `d/m/yyyy`, `dd-mm-yyyy` and `yyyy-mm-dd`; e-mails ignore case.
public enum CustomerMatcher {

    /// The only thing said when the data do not match, whichever field was wrong (no hint for guessing).
    public static let neutralMismatchMessage = FlowText.text(
        "I dati inseriti non corrispondono a un cliente. Controlla e riprova.",
        "The details you entered do not match a customer. Please check them and try again.")

    /// The note shown with the name inputs while the kind of customer is not yet known.
    public static let namesHint = FlowText.text(
        "Persone fisiche: nome e cognome come in bolletta. Aziende ed enti: solo la ragione sociale.",
        "Individuals: first and last name as on the bill. Companies and public bodies: company name only.")

    // MARK: Inputs

    /// The inputs to show for a step's `match:` list (then its `optional_fields:`, not required).
    /// `names` becomes first and last name for persons, the company name for businesses and public bodies, and all
    /// three (none required, with `namesHint`) while `kind` is unknown; `tax_id` is one input, "Codice fiscale o
    /// partita IVA".
    /// The tenant's own fields (`custom`) show their label, help and input type; a record field (`policies.policy_number`,
    /// resolved in `records`) shows the kind's and the field's labels, the field's help, input type and length.
    public static func formFields(for match: [String], optionalFields: [String] = [], kind: CustomerKind?,
                                  custom: OrderedMap<FieldDefinition>? = nil,
                                  records: OrderedMap<RecordKindDefinition>? = nil) -> [FormInput] {
        var inputs: [FormInput] = []
        var seen = Set<String>()
        func add(_ input: FormInput) {
            if seen.insert(input.name).inserted { inputs.append(input) }
        }
        for field in match {
            if let definition = custom?[field] { add(definition.formInput(name: field, required: true)); continue }
            if let record = RecordMatchField.resolve(field, in: records) { add(record.formInput(name: field)); continue }
            for input in expand(field, kind: kind, required: true) { add(input) }
        }
        for field in optionalFields {
            if let definition = custom?[field] { add(definition.formInput(name: field, required: false)); continue }
            for input in expand(field, kind: kind, required: false) { add(input) }
        }
        return inputs
    }

    private static func expand(_ field: String, kind: CustomerKind?, required: Bool) -> [FormInput] {
        switch field {
        case "names":
            switch kind {
            case .person?:
                return [input("first_name", required: required), input("last_name", required: required)]
            case .business?, .publicBody?:
                return [input("company_name", required: required)]
            case nil:
                var company = input("company_name", required: false)
                company.hint = namesHint
                return [input("first_name", required: false), input("last_name", required: false), company]
            }
        default:
            return [input(field, required: required)]
        }
    }

    private static func input(_ name: String, required: Bool) -> FormInput {
        let (it, en, type, autocomplete, maxLength): (String, String, String, String?, Int?) = switch name {
        case "customer_code": ("Codice cliente (come in bolletta)", "Customer code (as on the bill)", "text", nil, 40)
        case "first_name": ("Nome", "First name", "text", "given-name", 100)
        case "last_name": ("Cognome", "Last name", "text", "family-name", 100)
        case "company_name": ("Ragione sociale o denominazione", "Company or body name", "text", "organization", 200)
        case "tax_id": ("Codice fiscale o partita IVA", "Tax code or VAT number", "text", nil, 20)
        case "tax_code": ("Codice fiscale", "Tax code (codice fiscale)", "text", nil, 20)
        case "vat_number": ("Partita IVA", "VAT number (partita IVA)", "text", nil, 16)
        case "email": ("E-mail", "E-mail", "email", "email", 254)
        case "phone": ("Telefono", "Phone", "tel", "tel", 20)
        case "mobile": ("Cellulare", "Mobile phone", "tel", "tel", 20)
        case "birth_date": ("Data di nascita", "Date of birth", "date", "bday", 10)
        case "legal_rep_first_name": ("Nome del legale rappresentante", "Legal representative's first name", "text", nil, 100)
        case "legal_rep_last_name": ("Cognome del legale rappresentante", "Legal representative's last name", "text", nil, 100)
        case "legal_rep_birth_date": ("Data di nascita del legale rappresentante", "Legal representative's date of birth", "date", nil, 10)
        case "legal_rep_tax_code": ("Codice fiscale del legale rappresentante", "Legal representative's tax code", "text", nil, 20)
        case "legal_rep_email": ("E-mail del legale rappresentante (come nel contratto)",
                                 "Legal representative's e-mail (as in the contract)", "email", nil, 254)
        case "legal_rep_mobile": ("Cellulare del legale rappresentante (come nel contratto)",
                                  "Legal representative's mobile (as in the contract)", "tel", nil, 20)
        case "pec": ("PEC (posta elettronica certificata)", "PEC (certified e-mail)", "email", nil, 254)
        case "iban": ("IBAN", "IBAN", "text", nil, 42)
        default: (name, name, "text", nil, 200)
        }
        return FormInput(name: name, label: FlowText.text(it, en), type: type, autocomplete: autocomplete,
                         required: required, maxLength: maxLength)
    }

    // MARK: Lookup

    /// The entered field that identifies the customer record to compare with: `customer_code` when the list has it,
    /// else the first record field (`policies.policy_number`: the customers holding such a record are the
    /// candidates, an identifier the provider issued and stored exactly), else `vat_number`, else `tax_id` or
    /// `tax_code` (else the first field of the list, such as one of the tenant's own fields).
    public static func lookupField(for match: [String]) -> String {
        if match.contains("customer_code") { return "customer_code" }
        if let record = match.first(where: { if case .record = CustomerMatchKey($0) { true } else { false } }) { return record }
        for candidate in ["vat_number", "tax_id", "tax_code"] where match.contains(candidate) {
            return candidate
        }
        return match.first ?? "customer_code"
    }

    /// The lookup field and its entered value normalised the way the matcher compares it (customer code and
    /// codice fiscale upper-case without spaces, partita IVA as 11 digits without `IT`); nil when it is empty.
    /// For `tax_id` the value may be a codice fiscale or a partita IVA: search both columns.
    public static func lookupKey(entered: [String: String], match: [String]) -> (field: String, value: String)? {
        let field = lookupField(for: match)
        guard let raw = entered[field] else { return nil }
        let value: String = switch field {
        case "vat_number": FlowText.vatDigits(raw)
        case "tax_id": taxIdKey(raw)
        case "customer_code", "tax_code", "legal_rep_tax_code": FlowText.alphanumericUpper(raw)
        default: FlowText.collapsed(raw)
        }
        return value.isEmpty ? nil : (field, value)
    }

    // MARK: Matching

    /// Whether every field of `match` entered by the user equals the customer's record. An empty or missing value
    /// never matches. Every field is compared even after a mismatch, so timing does not reveal which one was wrong.
    /// A field of the tenant's own (`custom`) matches when what was typed, in its canonical form, equals the
    /// customer's stored value (`customValues`). A record field (`policies.policy_number`) matches when it is in
    /// `heldRecords`: the entries for which the customer was found to own a record of that kind whose field holds
    /// the typed value (the caller looks them up, in the customer's tenant only).
    public static func matches(entered: [String: String], customer: CustomerRecord, kind: CustomerKind,
                               match: [String], custom: CustomMatch? = nil, heldRecords: Set<String> = []) -> Bool {
        guard !match.isEmpty else { return false }
        var allMatch = true
        for field in match {
            let fieldMatches: Bool
            if case .record = CustomerMatchKey(field) {
                fieldMatches = heldRecords.contains(field)
            } else if let custom, let definition = custom.fields[field] {
                let typed = entered[field].flatMap { definition.canonical($0, field: field, today: custom.today, checks: custom.checks) }
                let stored = custom.values[field]
                fieldMatches = typed != nil && stored != nil && typed == stored
            } else {
                fieldMatches = matchesField(field, entered: entered, customer: customer, kind: kind)
            }
            allMatch = allMatch && fieldMatches
        }
        return allMatch
    }

    /// What matching needs to compare the tenant's own customer fields.
    public struct CustomMatch: Sendable {
        public var fields: OrderedMap<FieldDefinition>
        /// The candidate customer's stored values by field id (canonical).
        public var values: [String: String]
        public var today: CalendarDay
        public var checks: FieldChecks

        public init(fields: OrderedMap<FieldDefinition>, values: [String: String], today: CalendarDay, checks: FieldChecks = .standard) {
            self.fields = fields; self.values = values; self.today = today; self.checks = checks
        }
    }

    private enum Comparison { case name, code, vat, taxId, phone, date, email }

    private static func matchesField(_ field: String, entered: [String: String], customer: CustomerRecord,
                                     kind: CustomerKind) -> Bool {
        switch field {
        case "names":
            switch kind {
            case .person:
                let first = same(entered["first_name"], customer.firstName, .name)
                let last = same(entered["last_name"], customer.lastName, .name)
                return first && last
            case .business, .publicBody:
                return same(entered["company_name"], customer.companyName, .name)
            }
        case "tax_id":
            let asTaxCode = same(entered["tax_id"], customer.taxCode, .taxId)
            let asVat = same(entered["tax_id"], customer.vatNumber, .taxId)
            return asTaxCode || asVat
        case "customer_code": return same(entered[field], customer.customerCode, .code)
        case "first_name": return same(entered[field], customer.firstName, .name)
        case "last_name": return same(entered[field], customer.lastName, .name)
        case "company_name": return same(entered[field], customer.companyName, .name)
        case "tax_code": return same(entered[field], customer.taxCode, .code)
        case "vat_number": return same(entered[field], customer.vatNumber, .vat)
        case "email": return same(entered[field], customer.email, .email)
        case "pec": return same(entered[field], customer.pec, .email)
        case "phone": return same(entered[field], customer.phone, .phone)
        case "mobile": return same(entered[field], customer.mobile, .phone)
        case "birth_date": return same(entered[field], customer.birthDate, .date)
        case "birth_place": return same(entered[field], customer.birthPlace, .name)
        case "iban": return same(entered[field], customer.iban, .code)
        case "recipient_code": return same(entered[field], customer.recipientCode, .code)
        case "legal_rep_first_name": return same(entered[field], customer.legalRepFirstName, .name)
        case "legal_rep_last_name": return same(entered[field], customer.legalRepLastName, .name)
        case "legal_rep_birth_date": return same(entered[field], customer.legalRepBirthDate, .date)
        case "legal_rep_tax_code": return same(entered[field], customer.legalRepTaxCode, .code)
        case "legal_rep_email": return same(entered[field], customer.legalRepEmail, .email)
        case "legal_rep_mobile": return same(entered[field], customer.legalRepMobile, .phone)
        default: return false   // a field the record does not hold can never prove anything
        }
    }

    /// Whether an entered value and a stored one are the same once both are normalised; empty never matches.
    private static func same(_ entered: String?, _ stored: String?, _ comparison: Comparison) -> Bool {
        guard let entered, let stored,
              let a = key(entered, comparison), let b = key(stored, comparison), !a.isEmpty else { return false }
        return a == b
    }

    private static func key(_ value: String, _ comparison: Comparison) -> String? {
        switch comparison {
        case .name: FlowText.nameKey(value)
        case .code: FlowText.alphanumericUpper(value)
        case .vat: FlowText.vatDigits(value)
        case .taxId: taxIdKey(value)
        case .phone: FlowText.phoneDigits(value)
        case .date: FlowText.isoDate(value)
        case .email: FlowText.trimmed(value).lowercased()
        }
    }

    /// A codice fiscale or partita IVA as compared: upper-case alphanumerics, `IT` dropped before 11 digits.
    private static func taxIdKey(_ value: String) -> String {
        let code = FlowText.alphanumericUpper(value)
        let withoutPrefix = code.dropFirst(2)
        if code.hasPrefix("IT"), withoutPrefix.count == 11, withoutPrefix.allSatisfy(\.isNumber) {
            return String(withoutPrefix)
        }
        return code
    }
}
