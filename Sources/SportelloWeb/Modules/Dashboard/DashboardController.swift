import Foundation
import Hummingbird
import SportelloCore
import SportelloStore

/// The logged-in portal's home page: welcome box, administrative status, coverage links.
struct DashboardController: ModuleController {
    let services: PortalServices

    func addRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.dashboard) { _, context in try await dashboard(context: context) }
    }

    /// What the home page shows. Customer facts without a value are left out (a section over empty text opens).
    struct PageModel: Encodable {
        struct Customer: Encodable {
            var name, code, type: String
            var taxCode, vatNumber, email: String?
        }
        struct Link: Encodable { var href, label: String }
        struct CoverageLink: Encodable { var title, url: String }
        var customer: Customer
        var shortcuts: [Link]
        var hasShortcuts: Bool
        var administrativeStatus: String?
        var overdue: Bool?
        var coverageLabel: String?
        var coverage: [CoverageLink]?
    }

    private func dashboard(context: UserContext) async throws -> Response {
        let tenant = context.tenant
        let definition = tenant.definition
        let locale = context.locale
        // The home page is every user's landing page; a tenant that lists it as a feature decides who sees it.
        if definition.feature("dashboard.view") != nil { try context.require("dashboard.view") }
        let customer = context.customer
        let customerId = customer.id ?? 0
        let now = services.now
        let overdue = try await PageData.read("overdue|\(customerId)", tables: [.invoices], context: context, services: services) {
            try await $0.hasOverdueInvoices(customerId: customerId)
        }
        let shortcuts = tenant.pages(openTo: context.session.principal).map { PageModel.Link(href: $0.path, label: tenant.title(of: $0, locale: locale)) }
        var model = PageModel(
            customer: .init(name: customer.displayName, code: customer.customerCode,
                            type: definition.customerTypes[customer.customerType]?.label.resolve(locale) ?? customer.customerType,
                            taxCode: customer.taxCode?.nonEmpty, vatNumber: customer.vatNumber?.nonEmpty, email: customer.email?.nonEmpty),
            shortcuts: shortcuts, hasShortcuts: !shortcuts.isEmpty)
        if context.may("account_status.view") || definition.feature("account_status.view") == nil {
            model.administrativeStatus = tenant.theme.text(overdue ? "dashboard.status_overdue" : "dashboard.status_regular", locale: locale)
            model.overdue = overdue
        }
        // WINDTRE: the coverage checks are linked at the bottom of the home page (seed 003), as well as on their own page.
        let coverage = LineProductsController.Feature.coverage
        if let feature = definition.feature(coverage), context.may(coverage) {
            let customerType = customer.customerType
            // Kept as the page shows them, so a cached read costs no mapping.
            let links = try await services.recentReads.value(tenant: tenant.id, key: "coverage|\(customerType)", database: services.database,
                                                             now: now) { () async throws -> (value: [PageModel.CoverageLink], dependencies: [String])? in
                let links = try await LineProductsController(services: services).coverageLinks(context: context)
                return (links.map { PageModel.CoverageLink(title: $0.title, url: $0.url) }, ["table:catalog_items"])
            } ?? []
            if !links.isEmpty {
                model.coverageLabel = feature.label.resolve(locale)
                model.coverage = links
            }
        }
        return Pages.render("dashboard", model, title: tenant.theme.text("dashboard.title", locale: locale), context: context)
    }
}
