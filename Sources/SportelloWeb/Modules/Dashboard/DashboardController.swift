import Foundation
import Hummingbird
import SportelloCore
import SportelloStore

/// The logged-in portal's home page: welcome box, administrative status, coverage links.
struct DashboardController {
    let services: PortalServices

    func addRoutes(to group: RouterGroup<UserContext>) {
        group.get("/") { _, context in try await dashboard(context: context) }
    }

    private func dashboard(context: UserContext) async throws -> Response {
        let tenant = context.tenant
        // The home page is every user's landing page; a tenant that lists it as a feature decides who sees it.
        if tenant.definition.feature("dashboard.view") != nil { try context.require("dashboard.view") }
        let customer = context.customer
        let customerId = customer.id ?? 0
        let now = services.now
        let overdue = try await services.recentReads.value(tenant: tenant.id, key: "overdue|\(customerId)",
                                                           database: services.database, now: now) { () async throws -> (value: Bool, dependencies: [String])? in
            let overdue = try await services.database.read(tenant: tenant.id, now: now) { try await $0.hasOverdueInvoices(customerId: customerId) }
            return (overdue, ["table:invoices"])
        } ?? false
        // Only facts that exist: Mustache treats an empty string as present.
        var facts: [String: Any] = [
            "name": customer.displayName, "code": customer.customerCode,
            "type": tenant.definition.customerTypes[customer.customerType]?.label.resolve(context.locale) ?? customer.customerType,
        ]
        for (key, value) in [("tax_code", customer.taxCode), ("vat_number", customer.vatNumber), ("email", customer.email)] {
            if let value, !value.isEmpty { facts[key] = value }
        }
        let shortcuts = tenant.pages(openTo: context.session.principal)
            .map { ["href": $0.path, "label": tenant.title(of: $0, locale: context.locale)] }
        var values: [String: Any] = ["customer": facts, "shortcuts": shortcuts, "has_shortcuts": !shortcuts.isEmpty]
        if context.may("account_status.view") || tenant.definition.feature("account_status.view") == nil {
            values["administrative_status"] = overdue
                ? tenant.theme.text("dashboard.status_overdue", locale: context.locale)
                : tenant.theme.text("dashboard.status_regular", locale: context.locale)
            values["overdue"] = overdue
        }
        // WINDTRE: the coverage checks are linked at the bottom of the home page (seed 003), as well as on their own page.
        let coverage = LineProductsController.Feature.coverage
        if tenant.definition.feature(coverage) != nil, context.may(coverage) {
            let customerType = customer.customerType
            let links = try await services.recentReads.value(tenant: tenant.id, key: "coverage|\(customerType)", database: services.database,
                                                             now: now) { () async throws -> (value: [LineProductsController.CoverageLink], dependencies: [String])? in
                (try await LineProductsController(services: services).coverageLinks(context: context), ["table:catalog_items"])
            } ?? []
            if !links.isEmpty {
                values["coverage_label"] = tenant.definition.feature(coverage)?.label.resolve(context.locale)
                values["coverage"] = links.map { ["title": $0.title, "url": $0.url] }
            }
        }
        return Pages.render("dashboard", values, title: tenant.theme.text("dashboard.title", locale: context.locale), context: context)
    }
}
