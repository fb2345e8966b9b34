import Foundation
import SportelloCore
import SportelloStore

extension PortalModule {
    static let invoices = PortalModule("invoices", capabilities: [.invoices, .statement], controllers: [InvoicesController.self, OnlinePaymentsController.self],
        storage: .payments)
}

extension Capability {
    static let invoices = Capability("invoices", "Invoices: list, detail, documents, payment.", [
        .init("invoices.view", "List and open the customer's invoices (print and save included unless the tenant binds a download slot)."),
        .init("invoices.detail", "The invoice's detail lines."),
        .init("invoices.download", "Download, e-mail and print invoices, as a feature of its own."),
        .init("invoices.call_detail", "The call detail attached to an invoice."),
        .init("invoices.personal", "The user's own personal invoices (Dual Billing), apart from the company's."),
        .init("invoices.pay", "Pay invoices online through the payments plugin bound to the feature (the provider's hosted page; paid once its signed notification arrives). Unbound or not configured, the page says online payment is not available.", plugin: .payments),
        .init("proforma.pay", "Pay pro-forma invoices online through the payments plugin bound to the feature, as `invoices.pay`.", plugin: .payments),
    ])

    static let statement = Capability("statement", "The account statement: debits, credits, running balance; print and export.", [
        .init("statements.view", "The account statement."),
        .init("payments.view", "The payment status of the customer's documents."),
    ])
}
