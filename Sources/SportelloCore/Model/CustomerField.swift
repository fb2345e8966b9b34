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

    /// Names a tenant's own customer field (`customer_fields:`) may not take: the catalogue, the inputs its
    /// composite fields expand to on forms (`street`, `postal_code`, `billing_city`…) and the other columns of the
    /// customer record and its import files.
    public static let reservedNames: Set<String> = {
        var names = Set(allNames)
        for field in allNames {
            for kind in CustomerKind.allCases {
                names.formUnion(CustomerDetailsForm.expand(field, kind: kind, required: false).map(\.name))
            }
        }
        names.formUnion(["id", "external_id", "customer", "customer_id", "customer_type", "administrative_status",
                         "invoice_delivery", "payment_method", "created_at", "display_name"])
        return names
    }()
}
