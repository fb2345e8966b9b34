import Foundation
import SportelloCore
import SportelloStore

extension PortalModule {
    static let profile = PortalModule("profile", capabilities: [.profile, .billingSettings], controllers: [ProfileController.self],
        storage: .profile,
        tenantSurface: { definition in TenantSurface(apiSchemas: ProfileController.tenantSchemas(definition)) })
}

extension Capability {
    static let profile = Capability("profile", "The user's own data and the customer record.", [
        .init("profile.edit", "Edit one's own personal data."),
        .init("customer_data.view", "View the customer's data."),
        .init("customer_data.edit", "Change the customer's master data."),
        .init("company.view", "View the company's data."),
        .init("company.communications_email", "Change the company's communications e-mail."),
        .init("company.registered_office", "Change the company's registered office address."),
    ])

    static let billingSettings = Capability("billing_settings", "How invoices are delivered and paid.", [
        .init("billing.delivery_payment", "Change invoice delivery and payment method."),
        .init("invoices.paperless", "Paperless billing (invoices by e-mail only)."),
        .init("invoices.direct_debit", "Direct debit of invoices."),
        .init("invoices.shipping_address", "Where paper invoices and traffic documentation are shipped."),
    ], options: [
        .init("delivery_options", "How invoices can be delivered, in the order offered.", values: ["paper", "email", "paperless"]),
        .init("payment_methods", "Payment methods a customer can choose online, in the order offered (a method the provider set, such as a card, is kept while current).",
              values: ["sepa", "bank_transfer", "postal_slip"]),
    ])
}
