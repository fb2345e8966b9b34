import Foundation
import SportelloCore

extension DemoDataGenerator {
    /// Makes every e-mail address plain ASCII and fills the contact fields a customer type lists under
    /// `required_fields` that the demo customer still lacks (Tunda requires a phone for every customer;
    /// persons get only a mobile otherwise), so that the profile page accepts the record as it is shown. Values derive from the customer code, so the random
    /// sequence of the rest of the demo data does not change.
    public func completeRequiredContactFields(_ customer: inout CustomerRecord) {
        guard let type = tenant.customerTypes[customer.customerType] else { return }
        let required = Set(type.requiredFields)
        let digits = String(customer.customerCode.filter(\.isNumber).suffix(7))
        let number = String(repeating: "0", count: max(0, 7 - digits.count)) + digits
        if required.contains("phone"), customer.phone == nil { customer.phone = "02\(number)" }
        if required.contains("mobile"), customer.mobile == nil { customer.mobile = "347\(number)" }
        // Company names with accents ("Società …") must not leak into e-mail domains, which are ASCII.
        func ascii(_ address: String?) -> String? {
            guard let address, !ItalianIdentifiers.isPlausibleEmail(address) else { return address }
            let folded = address.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil).lowercased()
            return String(folded.filter { $0.isASCII })
        }
        customer.email = ascii(customer.email)
        customer.pec = ascii(customer.pec)
        customer.legalRepEmail = ascii(customer.legalRepEmail)
        if required.contains("email"), customer.email == nil {
            customer.email = "cliente.\(customer.customerCode.lowercased().filter { $0.isLetter || $0.isNumber })@\(tenant.id).example"
        }
    }
}

extension DemoDataGenerator {
    /// Values for the tenant's own user fields (`user_fields:`) of each of a demo customer's users, drawn from the
    /// profile's own random stream, that pass the fields' validators.
    func fillUserFields(_ account: DemoAccount, random: inout SplitMix64, in transaction: TenantTransaction) async throws {
        guard let fields = tenant.userFields, !fields.isEmpty else { return }
        let today = CalendarDay(instant: now)
        for userId in account.users {
            var values: [String: String?] = [:]
            for (id, field) in fields { values[id] = field.demoValue(today: today, random: &random)?.canonical }
            try await transaction.setCustomFieldValues(values, of: .user(userId))
        }
    }
}

extension StorageModule {
    /// The profile keeps no tables of its own (the values of the tenant's own user fields are the platform's
    /// `user_field_values`); it gives every demo user values for them.
    public static let profile = StorageModule("profile", tables: [], migrations: [],
        fill: DemoDataGenerator.fillUserFields(_:random:in:))
}
