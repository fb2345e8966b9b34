import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// Tunda services, hosting, domains, knowledge base and Unidata help: the shop and its orders (paid through
/// a pro-forma, started once paid), shared-hosting accounts and their firewall, domain registration and
/// the help articles. Pages and `/api/v1` operations; the parts live in `Hosting*.swift`.
struct HostingController: ModuleController {
    let services: PortalServices

    enum Feature {
        static let buy = PlaceOrder.productFeature
        static let hosting = "hosting.manage"
        static let unblock = "hosting.unblock_ip"
        static let domains = PlaceOrder.domainFeature
        /// Tunda's knowledge base and Unidata's online help: one page, one feature per tenant.
        static let help = ["knowledge_base.view", "help.view"]
    }

    static let shop = PortalPage(route: Routes.serviceShop, titleKey: "hosting.shop.title", features: [Feature.buy])
    static let hostingPage = PortalPage(route: Routes.hosting, titleKey: "hosting.accounts.title", features: [Feature.hosting])
    static let firewall = PortalPage(route: Routes.hostingFirewall, titleKey: "hosting.firewall.title", features: [Feature.unblock])
    static let domainsPage = PortalPage(route: Routes.domains, titleKey: "hosting.domains.title", features: [Feature.domains])
    static let help = PortalPage(route: Routes.help, titleKey: "hosting.help.title", features: Feature.help)
    /// Listed last: a feature's section card links to the first page that names it (the shop, the domains page).
    static let orders = PortalPage(route: Routes.serviceOrders, titleKey: "hosting.orders.title", features: [Feature.buy, Feature.domains])

    static let pages: [PortalPage] = [shop, hostingPage, firewall, domainsPage, help, orders]

    static var apiOperations: [APIOperation] { shopOperations + accountOperations + domainOperations + helpOperations }

    static var apiSchemas: [String: JSONSchema] {
        var all = shopSchemas
        for part in [accountSchemas, domainSchemas, helpSchemas] { all.merge(part) { first, _ in first } }
        return all
    }

    func addRoutes(to group: RouterGroup<UserContext>) {
        addShopRoutes(to: group)
        addAccountRoutes(to: group)
        addDomainRoutes(to: group)
        addHelpRoutes(to: group)
    }

    // MARK: Shared helpers

    var now: Int64 { services.now }
    var today: CalendarDay { CalendarDay(instant: services.now) }

    func read<T: Sendable>(_ context: UserContext, _ body: @Sendable (TenantTransaction) async throws -> T) async throws -> T {
        try await services.database.read(tenant: context.tenant.id, now: services.now, body)
    }

    func write<T: Sendable>(_ context: UserContext, _ body: @Sendable (TenantTransaction) async throws -> T) async throws -> T {
        try await services.database.write(tenant: context.tenant.id, now: services.now, body)
    }

    /// A UI string in every locale of the tenant (for field problems, resolved where shown).
    func localized(_ key: String, _ context: UserContext, _ values: [String: String] = [:]) -> LocalizedText {
        context.tenant.localized(key, values)
    }

    func string(_ key: String, _ context: UserContext, _ values: [String: String] = [:]) -> String {
        context.tenant.theme.text(key, locale: context.locale, values)
    }

    /// The label of `value` under `prefix` (`hosting.status.active`), or the value itself when there is none.
    func label(_ prefix: String, _ value: String, _ context: UserContext) -> String {
        let key = "\(prefix).\(value)"
        let text = context.tenant.theme.text(key, locale: context.locale)
        return text == key ? value : text
    }

    /// The label of a status (or any other value of a fixed set) under `prefix`.
    func label<Value: RawRepresentable>(_ prefix: String, _ value: Value, _ context: UserContext) -> String where Value.RawValue == String {
        label(prefix, value.rawValue, context)
    }

    /// A count's text, from `<key>_one` when the count is 1 (`1 anno`, `3 anni`).
    func counted(_ key: String, _ count: Int64, _ context: UserContext, _ values: [String: String] = [:]) -> String {
        string(count == 1 ? "\(key)_one" : key, context, values.merging(["count": String(count)]) { $1 })
    }

    func problem(_ field: String, _ code: String, _ key: String, _ context: UserContext, _ values: [String: String] = [:]) -> FieldProblem {
        FieldProblem(field: field, code: code, message: localized(key, context, values))
    }

    func money(_ cents: Int64, _ context: UserContext) -> String { Formatting.money(cents, locale: context.locale) }

    /// The feature's label as the tenant names it (page titles that follow the tenant's words).
    func featureLabel(_ feature: String, _ context: UserContext) -> String? {
        context.tenant.definition.feature(feature)?.label.resolve(context.locale)
    }

    func notice(_ request: Request, allowed: [String], prefix: String, _ context: UserContext) -> String? {
        guard let done = request.uri.queryParameters["done"].map(String.init), allowed.contains(done) else { return nil }
        return string("\(prefix).\(done)", context)
    }

    func query(_ request: Request, _ name: String) -> String? {
        request.uri.queryParameters[Substring(name)].map(String.init)
    }
}
