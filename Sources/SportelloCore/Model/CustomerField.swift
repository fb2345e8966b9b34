/// Customer master-data fields the platform knows; customer types, steps and field policies name them.
public enum CustomerField: String, CaseIterable, Sendable {
    case customerCode = "customer_code"
    case firstName = "first_name"
    case lastName = "last_name"
    case companyName = "company_name"
    /// First and last name for persons, company name for businesses and public bodies.
    case names
    case taxCode = "tax_code"
    case vatNumber = "vat_number"
    /// Codice fiscale or partita IVA, whichever the customer has.
    case taxId = "tax_id"
    case email
    case phone
    case mobile
    case birthDate = "birth_date"
    case birthPlace = "birth_place"
    case address
    case registeredOffice = "registered_office"
    case billingAddress = "billing_address"
    case pec
    case recipientCode = "recipient_code"
    case iban
    case communicationsEmail = "communications_email"
    case legalRepFirstName = "legal_rep_first_name"
    case legalRepLastName = "legal_rep_last_name"
    case legalRepBirthDate = "legal_rep_birth_date"
    case legalRepTaxCode = "legal_rep_tax_code"
    case legalRepEmail = "legal_rep_email"
    case legalRepMobile = "legal_rep_mobile"
    case username
    case securityAnswer = "security_answer"

    public static let allNames = allCases.map(\.rawValue)
}
