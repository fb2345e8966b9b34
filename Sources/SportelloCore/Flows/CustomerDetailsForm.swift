import Foundation

/// Customer master data entered in a `customer_details` step, validated and normalised, not yet stored.
/// `values` is keyed by form input name (`first_name`, `vat_number`, `postal_code`, `billing_city`…), so it can be
/// kept as it is in `FlowProgress.customerDraft` and rebuilt later with `init(customerType:values:)`.
public struct CustomerRecordDraft: Codable, Sendable, Equatable {
    /// The id of the tenant's customer type (`private`, `business`…).
    public var customerType: String
    /// Normalised values by form input name; empty optional fields are left out.
    public var values: [String: String]

    public init(customerType: String, values: [String: String]) {
        self.customerType = customerType
        self.values = values
    }

    public subscript(field: String) -> String? { values[field] }

    /// The billing address, when one different from the main address was given (`CustomerRecord` has no columns
    /// for it: store it next to the record if needed).
    public var billingAddress: (street: String, postalCode: String, city: String, province: String)? {
        guard let street = values["billing_street"], let postalCode = values["billing_postal_code"],
              let city = values["billing_city"], let province = values["billing_province"] else { return nil }
        return (street, postalCode, city, province)
    }

    /// The customer record these data describe. Businesses without a separate codice fiscale get their partita
    /// IVA as codice fiscale (as the demo data do); status, invoice delivery and payment method start as
    /// `regular`, `email` and `bank_transfer`.
    public func customerRecord(customerCode: String, createdAt: Int64) -> CustomerRecord {
        CustomerRecord(
            customerType: customerType, customerCode: customerCode,
            firstName: values["first_name"], lastName: values["last_name"], companyName: values["company_name"],
            taxCode: values["tax_code"] ?? values["vat_number"], vatNumber: values["vat_number"],
            birthDate: values["birth_date"], birthPlace: values["birth_place"], email: values["email"],
            phone: values["phone"], mobile: values["mobile"], pec: values["pec"], recipientCode: values["recipient_code"],
            iban: values["iban"], street: values["street"], postalCode: values["postal_code"], city: values["city"],
            province: values["province"], legalRepFirstName: values["legal_rep_first_name"],
            legalRepLastName: values["legal_rep_last_name"], legalRepBirthDate: values["legal_rep_birth_date"],
            legalRepTaxCode: values["legal_rep_tax_code"], legalRepEmail: values["legal_rep_email"],
            legalRepMobile: values["legal_rep_mobile"], administrativeStatus: "regular", invoiceDelivery: "email",
            paymentMethod: "bank_transfer", createdAt: createdAt)
    }
}

extension CustomerRecordDraft {
    /// The record's values keyed by form input name (the inverse of `customerRecord`), to pre-fill a form
    /// about a customer already on record.
    public static func values(of customer: CustomerRecord) -> [String: String] {
        let pairs: [(String, String?)] = [
            ("first_name", customer.firstName), ("last_name", customer.lastName), ("company_name", customer.companyName),
            ("tax_code", customer.taxCode), ("vat_number", customer.vatNumber), ("birth_date", customer.birthDate),
            ("birth_place", customer.birthPlace), ("email", customer.email), ("phone", customer.phone), ("mobile", customer.mobile),
            ("pec", customer.pec), ("recipient_code", customer.recipientCode), ("iban", customer.iban), ("street", customer.street),
            ("postal_code", customer.postalCode), ("city", customer.city), ("province", customer.province),
            ("legal_rep_first_name", customer.legalRepFirstName), ("legal_rep_last_name", customer.legalRepLastName),
            ("legal_rep_birth_date", customer.legalRepBirthDate), ("legal_rep_tax_code", customer.legalRepTaxCode),
            ("legal_rep_email", customer.legalRepEmail), ("legal_rep_mobile", customer.legalRepMobile),
        ]
        var values: [String: String] = [:]
        for (name, value) in pairs { if let value, !value.isEmpty { values[name] = value } }
        values["tax_id"] = customer.taxCode ?? customer.vatNumber
        return values
    }

    /// `customer` with every value of this draft written over it (fields the draft does not name are kept).
    public func applied(to customer: CustomerRecord) -> CustomerRecord {
        var record = customer
        func set(_ name: String, _ keyPath: WritableKeyPath<CustomerRecord, String?>) {
            if let value = values[name], !value.isEmpty { record[keyPath: keyPath] = value }
        }
        set("first_name", \.firstName); set("last_name", \.lastName); set("company_name", \.companyName)
        set("tax_code", \.taxCode); set("vat_number", \.vatNumber); set("birth_date", \.birthDate); set("birth_place", \.birthPlace)
        set("email", \.email); set("phone", \.phone); set("mobile", \.mobile); set("pec", \.pec)
        set("recipient_code", \.recipientCode); set("iban", \.iban); set("street", \.street); set("postal_code", \.postalCode)
        set("city", \.city); set("province", \.province); set("legal_rep_first_name", \.legalRepFirstName)
        set("legal_rep_last_name", \.legalRepLastName); set("legal_rep_birth_date", \.legalRepBirthDate)
        set("legal_rep_tax_code", \.legalRepTaxCode); set("legal_rep_email", \.legalRepEmail); set("legal_rep_mobile", \.legalRepMobile)
        return record
    }
}

/// The `customer_details` step of an open registration (Tunda): the inputs to show for a customer type and the
/// validation of what was entered, collecting every problem at once.
public enum CustomerDetailsForm {

    // MARK: Inputs

    /// The inputs for a step's `fields` (required) and `optional_fields`, for one customer type. Composite fields are
    /// expanded: `names` → first and last name (persons) or company name (businesses, public bodies); `tax_id` →
    /// codice fiscale (persons) or partita IVA plus codice fiscale (the latter optional); `address` and
    /// `registered_office` → street, CAP, city, province; `billing_address` → the same with a `billing_` prefix.
    /// Fields the customer type lists under `required_fields` are added when missing and are always required;
    /// those under its `optional_fields` are added as optional.
    public static func inputs(fields: [String], optionalFields: [String], type: CustomerType) -> [FormInput] {
        var inputs: [FormInput] = []
        var index: [String: Int] = [:]
        let typeRequired = Set(type.requiredFields.flatMap { expand($0, kind: type.kind, required: true).map(\.name) })
        func add(_ field: String, required: Bool) {
            for var input in expand(field, kind: type.kind, required: required) {
                if typeRequired.contains(input.name) { input.required = true }
                if input.required, input.name == "tax_code" { input.hint = nil }   // "leave it empty" no longer applies
                if let existing = index[input.name] {
                    if input.required {
                        inputs[existing].required = true
                        if input.name == "tax_code" { inputs[existing].hint = nil }
                    }
                } else {
                    index[input.name] = inputs.count
                    inputs.append(input)
                }
            }
        }
        for field in fields { add(field, required: true) }
        for field in optionalFields { add(field, required: false) }
        for field in type.requiredFields { add(field, required: true) }
        for field in type.optionalFields ?? [] { add(field, required: false) }
        return inputs
    }

    /// The inputs one catalogue field stands for.
    static func expand(_ field: String, kind: CustomerKind, required: Bool) -> [FormInput] {
        let organisation = kind != .person
        switch field {
        case "names":
            return organisation ? [input("company_name", kind, required)]
                : [input("first_name", kind, required), input("last_name", kind, required)]
        case "tax_id":
            return organisation ? [input("vat_number", kind, required), input("tax_code", kind, false)]
                : [input("tax_code", kind, required)]
        case "address", "registered_office":
            return ["street", "postal_code", "city", "province"].map { input($0, kind, required) }
        case "billing_address":
            return ["billing_street", "billing_postal_code", "billing_city", "billing_province"].map { input($0, kind, required) }
        default:
            return [input(field, kind, required)]
        }
    }

    private static func input(_ name: String, _ kind: CustomerKind, _ required: Bool) -> FormInput {
        let organisation = kind != .person
        var hint: LocalizedText?
        let (it, en, type, autocomplete, maxLength): (String, String, String, String?, Int?) = switch name {
        case "first_name" where organisation: ("Nome del referente", "Contact person's first name", "text", "given-name", 100)
        case "last_name" where organisation: ("Cognome del referente", "Contact person's last name", "text", "family-name", 100)
        case "first_name": ("Nome", "First name", "text", "given-name", 100)
        case "last_name": ("Cognome", "Last name", "text", "family-name", 100)
        case "company_name" where kind == .publicBody: ("Denominazione dell'ente", "Name of the public body", "text", "organization", 200)
        case "company_name": ("Ragione sociale", "Company name", "text", "organization", 200)
        case "tax_code" where organisation: ("Codice fiscale dell'azienda o dell'ente", "Company tax code (codice fiscale)", "text", nil, 16)
        case "tax_code": ("Codice fiscale", "Tax code (codice fiscale)", "text", nil, 16)
        case "vat_number": ("Partita IVA", "VAT number (partita IVA)", "text", nil, 13)
        case "email": ("E-mail", "E-mail", "email", "email", 254)
        case "communications_email": ("E-mail per le comunicazioni", "E-mail for communications", "email", "email", 254)
        case "phone": ("Telefono", "Phone", "tel", "tel", 20)
        case "mobile": ("Cellulare", "Mobile phone", "tel", "tel", 20)
        case "birth_date": ("Data di nascita", "Date of birth", "date", "bday", 10)
        case "birth_place": ("Luogo di nascita", "Place of birth", "text", nil, 100)
        case "street": organisation
            ? ("Indirizzo della sede (via e numero civico)", "Office address (street and number)", "text", "address-line1", 200)
            : ("Indirizzo (via e numero civico)", "Address (street and number)", "text", "address-line1", 200)
        case "postal_code": ("CAP", "Postcode (CAP)", "text", "postal-code", 5)
        case "city": ("Comune", "Town or city", "text", "address-level2", 100)
        case "province": ("Provincia (sigla, es. MI)", "Province (two letters, e.g. MI)", "text", "address-level1", 2)
        case "billing_street": ("Indirizzo di fatturazione (via e numero civico)", "Billing address (street and number)", "text", "billing address-line1", 200)
        case "billing_postal_code": ("CAP di fatturazione", "Billing postcode (CAP)", "text", "billing postal-code", 5)
        case "billing_city": ("Comune di fatturazione", "Billing town or city", "text", "billing address-level2", 100)
        case "billing_province": ("Provincia di fatturazione (sigla)", "Billing province (two letters)", "text", "billing address-level1", 2)
        case "pec": ("PEC (posta elettronica certificata)", "PEC (certified e-mail)", "email", nil, 254)
        case "recipient_code": ("Codice destinatario (SDI)", "Recipient code (SDI)", "text", nil, 7)
        case "iban": ("IBAN", "IBAN", "text", nil, 42)
        case "customer_code": ("Codice cliente", "Customer code", "text", nil, 40)
        case "legal_rep_first_name": ("Nome del legale rappresentante", "Legal representative's first name", "text", nil, 100)
        case "legal_rep_last_name": ("Cognome del legale rappresentante", "Legal representative's last name", "text", nil, 100)
        case "legal_rep_birth_date": ("Data di nascita del legale rappresentante", "Legal representative's date of birth", "date", nil, 10)
        case "legal_rep_tax_code": ("Codice fiscale del legale rappresentante", "Legal representative's tax code", "text", nil, 16)
        case "legal_rep_email": ("E-mail del legale rappresentante", "Legal representative's e-mail", "email", nil, 254)
        case "legal_rep_mobile": ("Cellulare del legale rappresentante", "Legal representative's mobile", "tel", nil, 20)
        default: (name, name, "text", nil, 200)
        }
        switch name {
        case "tax_code" where organisation:
            hint = FlowText.text("Se coincide con la partita IVA puoi lasciarlo vuoto.",
                                 "Leave it empty if it is the same as the VAT number.")
        case "recipient_code":
            hint = FlowText.text("Il codice di 7 caratteri per la fatturazione elettronica; in alternativa indica la PEC.",
                                 "The 7-character code for electronic invoicing; or give your PEC address instead.")
        case "billing_street":
            hint = FlowText.text("Solo se diverso dall'indirizzo principale.", "Only if different from the main address.")
        default:
            break
        }
        return FormInput(name: name, label: FlowText.text(it, en), type: type, autocomplete: autocomplete,
                         required: required, hint: hint, maxLength: maxLength)
    }

    // MARK: Validation

    /// Validates the entered values for the inputs of `inputs(fields:optionalFields:type:)`, collecting every
    /// problem, and returns the normalised draft: trimmed text with single spaces, codice fiscale and province upper
    /// case, partita IVA as 11 digits, IBAN without spaces in upper case, phones as digits without `+39`, e-mails in
    /// lower case, dates as `yyyy-mm-dd`, recipient code upper case. `typeId` is the customer type's id in the tenant.
    public static func validate(_ entered: [String: String], fields: [String], optionalFields: [String],
                                type: CustomerType, typeId: String) -> Result<CustomerRecordDraft, FieldProblems> {
        let inputs = inputs(fields: fields, optionalFields: optionalFields, type: type)
        var problems = FieldProblems()
        var values: [String: String] = [:]
        let billingGiven = inputs.contains { $0.name.hasPrefix("billing_") && !FlowText.trimmed(entered[$0.name] ?? "").isEmpty }

        for input in inputs {
            let raw = FlowText.collapsed(entered[input.name] ?? "")
            let required = input.required || (billingGiven && input.name.hasPrefix("billing_"))
            if raw.isEmpty {
                if required { problems.append(requiredProblem(input)) }
                continue
            }
            // No field of customer data may hold control, bidi or zero-width characters (whitespace was collapsed).
            if let problem = NameText.problem(field: input.name, value: raw) {
                problems.append(problem)
                continue
            }
            if let maxLength = input.maxLength, !formatChecked.contains(input.name), raw.count > maxLength {
                problems.append(FieldProblem(
                    field: input.name, code: "too_long",
                    it: "Il campo «\(input.label.resolve("it"))» può contenere al massimo \(maxLength) caratteri.",
                    en: "“\(input.label.resolve("en"))” can hold at most \(maxLength) characters."))
                continue
            }
            switch check(input.name, raw, kind: type.kind) {
            case .success(let normalised): values[input.name] = normalised
            case .failure(let problem): problems.append(problem)
            }
        }

        // The codice fiscale of a person starts with letters taken from the last and first name.
        if type.kind == .person, let taxCode = values["tax_code"], taxCode.count == 16,
           let first = values["first_name"], let last = values["last_name"],
           !namesFit(taxCode: taxCode, firstName: first, lastName: last) {
            problems.append(FieldProblem(
                field: "tax_code", code: "tax_code_name_mismatch",
                it: "Il codice fiscale non corrisponde al nome e cognome inseriti: controlla le prime sei lettere.",
                en: "The tax code does not match the first and last name you entered: please check its first six letters."))
        }

        return problems.isEmpty ? .success(CustomerRecordDraft(customerType: typeId, values: values)) : .failure(problems)
    }

    /// Like `validate`, throwing `FieldProblems` instead of returning them.
    public static func validated(_ entered: [String: String], fields: [String], optionalFields: [String],
                                 type: CustomerType, typeId: String) throws(FieldProblems) -> CustomerRecordDraft {
        try validate(entered, fields: fields, optionalFields: optionalFields, type: type, typeId: typeId).get()
    }

    /// Fields whose format check says more than a length limit would (and that accept spaces or an `IT` prefix).
    private static let formatChecked: Set<String> = [
        "tax_code", "legal_rep_tax_code", "vat_number", "iban", "postal_code", "billing_postal_code", "province",
        "billing_province", "recipient_code", "birth_date", "legal_rep_birth_date", "phone", "mobile", "legal_rep_mobile",
    ]

    /// Whether the first six letters of a personal codice fiscale are those the official algorithm takes from
    /// `lastName` and `firstName` (omocodia never touches them).
    public static func namesFit(taxCode: String, firstName: String, lastName: String) -> Bool {
        let expected = ItalianIdentifiers.makeCodiceFiscale(lastName: lastName, firstName: firstName,
                                                            birthDate: (2000, 1, 1), female: false, placeCode: "H501")
        return FlowText.alphanumericUpper(taxCode).prefix(6) == expected.prefix(6)
    }

    private static func requiredProblem(_ input: FormInput) -> FieldProblem {
        FieldProblem(field: input.name, code: "required",
                     it: "Compila il campo «\(input.label.resolve("it"))».",
                     en: "Please fill in “\(input.label.resolve("en"))”.")
    }

    /// Checks and normalises one non-empty, whitespace-collapsed value.
    public static func check(_ name: String, _ value: String, kind: CustomerKind) -> Result<String, FieldProblem> {
        switch name {
        case "tax_code", "legal_rep_tax_code":
            return checkTaxCode(name, value, personal: name == "legal_rep_tax_code" || kind == .person)
        case "vat_number":
            return checkVatNumber(name, value)
        case "iban":
            let iban = FlowText.alphanumericUpper(value)
            guard ItalianIdentifiers.isValidIBAN(iban) else {
                return .failure(FieldProblem(
                    field: name, code: "invalid_iban",
                    it: iban.hasPrefix("IT") && iban.count != 27
                        ? "L'IBAN italiano è lungo 27 caratteri (ne hai inseriti \(iban.count)): controlla di averlo copiato per intero."
                        : "L'IBAN non è valido: controlla di averlo copiato correttamente, senza scambiare lettere e cifre.",
                    en: iban.hasPrefix("IT") && iban.count != 27
                        ? "An Italian IBAN has 27 characters (you entered \(iban.count)): please check you copied all of it."
                        : "The IBAN is not valid: please check you copied it correctly, without swapping letters and digits."))
            }
            return .success(iban)
        case "email", "communications_email", "legal_rep_email", "pec":
            guard let email = ItalianIdentifiers.normalizedEmail(value) else {
                return .failure(name == "pec"
                    ? FieldProblem(field: name, code: "invalid_email",
                                   it: "L'indirizzo PEC non sembra valido: deve avere la forma nome@dominio.it.",
                                   en: "The PEC address does not look valid: it should look like name@domain.it.")
                    : FieldProblem(field: name, code: "invalid_email",
                                   it: "L'indirizzo e-mail non sembra valido: controlla che abbia la forma nome@dominio.it.",
                                   en: "The e-mail address does not look valid: please check it looks like name@domain.com."))
            }
            return .success(email)
        case "phone", "mobile", "legal_rep_mobile":
            let mobileOnly = name != "phone"
            guard let digits = ItalianIdentifiers.italianPhoneDigits(value, mobileOnly: mobileOnly) else {
                return .failure(mobileOnly
                    ? FieldProblem(field: name, code: "invalid_phone",
                                   it: "Il numero di cellulare non sembra valido: inserisci un cellulare italiano, ad esempio 333 1234567.",
                                   en: "The mobile number does not look valid: please enter an Italian mobile number, for example 333 1234567.")
                    : FieldProblem(field: name, code: "invalid_phone",
                                   it: "Il numero di telefono non sembra valido: inserisci un numero italiano fisso o cellulare, con il prefisso.",
                                   en: "The phone number does not look valid: please enter an Italian landline or mobile number, with its area code."))
            }
            return .success(digits)
        case "postal_code", "billing_postal_code":
            guard ItalianIdentifiers.isValidItalianPostalCode(value) else {
                return .failure(FieldProblem(field: name, code: "invalid_postal_code",
                                             it: "Il CAP non è valido: sono 5 cifre, ad esempio 20121.",
                                             en: "The postcode (CAP) is not valid: it has 5 digits, for example 20121."))
            }
            return .success(value)
        case "province", "billing_province":
            let province = value.uppercased()
            guard ItalianIdentifiers.isValidProvinceCode(province) else {
                return .failure(FieldProblem(field: name, code: "invalid_province",
                                             it: "Indica la provincia con la sigla di due lettere, ad esempio MI o RM.",
                                             en: "Please give the province as its two-letter code, for example MI or RM."))
            }
            return .success(province)
        case "recipient_code":
            let code = FlowText.alphanumericUpper(value)
            guard ItalianIdentifiers.isValidRecipientCode(code, publicBody: kind == .publicBody),
                  code.count == value.filter({ !$0.isWhitespace }).count else {
                return .failure(FieldProblem(
                    field: name, code: "invalid_recipient_code",
                    it: kind == .publicBody
                        ? "Il codice destinatario è di 7 caratteri (6 per il codice univoco ufficio della PA), solo lettere e cifre."
                        : "Il codice destinatario è di 7 caratteri, solo lettere e cifre (ad esempio M5UXCR1).",
                    en: kind == .publicBody
                        ? "The recipient code has 7 characters (6 for a public administration office code), letters and digits only."
                        : "The recipient code has 7 characters, letters and digits only (for example M5UXCR1)."))
            }
            return .success(code)
        case "birth_date", "legal_rep_birth_date":
            guard let date = FlowText.isoDate(value), date >= "1900-01-01" else {
                return .failure(FieldProblem(field: name, code: "invalid_date",
                                             it: "La data non è valida: usa il formato gg/mm/aaaa, ad esempio 05/03/1980.",
                                             en: "The date is not valid: please use dd/mm/yyyy, for example 05/03/1980."))
            }
            return .success(date)
        case "first_name", "last_name", "legal_rep_first_name", "legal_rep_last_name", "company_name", "city",
             "billing_city", "birth_place":
            guard value.contains(where: \.isLetter) else {
                return .failure(FieldProblem(field: name, code: "invalid_name",
                                             it: "Questo campo deve contenere delle lettere.",
                                             en: "This field must contain letters."))
            }
            return .success(value)
        default:
            return .success(value)
        }
    }

    private static func checkTaxCode(_ name: String, _ value: String, personal: Bool) -> Result<String, FieldProblem> {
        let code = FlowText.alphanumericUpper(value)
        let cleanInput = code.count == value.filter({ !$0.isWhitespace }).count
        func problem(_ it: String, _ en: String) -> Result<String, FieldProblem> {
            .failure(FieldProblem(field: name, code: "invalid_tax_code", it: it, en: en))
        }
        if cleanInput, ItalianIdentifiers.isValidCodiceFiscale(code) {
            if personal, code.count != 16 {
                return problem("Il codice fiscale di una persona è di 16 caratteri, lettere e cifre.",
                               "A person's tax code has 16 characters, letters and digits.")
            }
            return .success(code)
        }
        if code.count == 16, cleanInput, let check = ItalianIdentifiers.codiceFiscaleCheckCharacter(String(code.prefix(15))),
           ItalianIdentifiers.isValidCodiceFiscale(String(code.prefix(15)) + String(check)) {
            return problem("Il codice fiscale non è valido: controlla il carattere finale e che nessun carattere sia stato scambiato.",
                           "The tax code is not valid: please check its last character and that no character was swapped.")
        }
        if code.count == 11, code.allSatisfy(\.isNumber) {
            return problem("Il codice fiscale numerico non è valido: controlla l'ultima cifra.",
                           "The numeric tax code is not valid: please check its last digit.")
        }
        if code.count != 16 && (personal || code.count != 11) {
            return problem(personal
                           ? "Il codice fiscale è di 16 caratteri, lettere e cifre (ne hai inseriti \(code.count))."
                           : "Il codice fiscale è di 16 caratteri, oppure 11 cifre per aziende ed enti (ne hai inseriti \(code.count)).",
                           personal
                           ? "The tax code has 16 characters, letters and digits (you entered \(code.count))."
                           : "The tax code has 16 characters, or 11 digits for companies and bodies (you entered \(code.count)).")
        }
        return problem("Il codice fiscale non è valido: controlla di averlo copiato correttamente dalla tessera sanitaria.",
                       "The tax code is not valid: please check you copied it correctly from your health card.")
    }

    private static func checkVatNumber(_ name: String, _ value: String) -> Result<String, FieldProblem> {
        let digits = FlowText.vatDigits(value)
        let cleanInput = value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == " " || $0 == ".") }
        guard cleanInput, digits.count == 11, digits.allSatisfy(\.isNumber) else {
            return .failure(FieldProblem(
                field: name, code: "invalid_vat_number",
                it: "La partita IVA è composta da 11 cifre (puoi omettere il prefisso IT).",
                en: "The VAT number (partita IVA) has 11 digits (you may leave out the IT prefix)."))
        }
        guard ItalianIdentifiers.isValidPartitaIVA(digits) else {
            return .failure(FieldProblem(
                field: name, code: "invalid_vat_number",
                it: "La partita IVA non è valida: controlla l'ultima cifra e che nessuna cifra sia stata scambiata.",
                en: "The VAT number is not valid: please check its last digit and that no digit was swapped."))
        }
        return .success(digits)
    }
}
