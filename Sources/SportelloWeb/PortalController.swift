import Foundation
import Hummingbird
import SportelloCore
import SportelloStore

/// The logged-in portal's home page (the users page lives in `AccountUsersController`).
struct PortalController {
    let services: PortalServices

    func addRoutes(to group: RouterGroup<UserContext>) {
        group.get("/") { _, context in try await dashboard(context: context) }
    }

    private func dashboard(context: UserContext) async throws -> Response {
        let tenant = context.tenant
        // The home page is every user's landing page; a tenant that lists it as a feature decides who sees it.
        if tenant.definition.features["dashboard.view"] != nil { try context.require("dashboard.view") }
        let customer = context.customer
        let overdue = try await services.database.read(tenant: tenant.id, now: services.now) {
            try await $0.hasOverdueInvoices(customerId: customer.id ?? 0)
        }
        var values: [String: Any] = [
            "customer": [
                "name": customer.displayName, "code": customer.customerCode,
                "type": tenant.definition.customerTypes[customer.customerType]?.label.resolve(context.locale) ?? customer.customerType,
                "tax_code": customer.taxCode ?? "", "vat_number": customer.vatNumber ?? "", "email": customer.email ?? "",
            ],
        ]
        if context.may("account_status.view") || tenant.definition.features["account_status.view"] == nil {
            values["administrative_status"] = overdue
                ? tenant.theme.text("dashboard.status_overdue", locale: context.locale)
                : tenant.theme.text("dashboard.status_regular", locale: context.locale)
            values["overdue"] = overdue
        }
        return Pages.render("dashboard", values, title: tenant.theme.text("dashboard.title", locale: context.locale), context: context)
    }
}
