extension Routes {
    /// The shop: products on sale by category.
    public static let serviceShop = Route("/services/shop")
    /// One product's order form.
    public static let serviceShopProduct = Route("/services/shop/:code")
    /// Products on sale (API).
    public static let serviceProducts = Route("/services/products")
    /// The customer's orders with their pro-forma.
    public static let serviceOrders = Route("/services/orders")
    /// Shared-hosting accounts.
    public static let hosting = Route("/hosting")
    /// Switches an account's PHP version.
    public static let hostingPHP = Route("/hosting/:id/php")
    /// Addresses blocked by the shared-hosting firewall.
    public static let hostingFirewall = Route("/hosting/firewall")
    /// Lifts an address's blocks.
    public static let hostingFirewallUnblock = Route("/hosting/firewall/unblock")
    /// The customer's domains and the availability check.
    public static let domains = Route("/domains")
    /// Whether a domain name can be registered (API).
    public static let domainAvailability = Route("/domains/availability")
    /// Orders a domain's registration.
    public static let domainRegister = Route("/domains/register")
    /// Switches a domain's automatic renewal.
    public static let domainAutoRenew = Route("/domains/:id/auto-renew")
    /// Help articles by category, and the word search.
    public static let help = Route("/help")
    /// One help article.
    public static let helpArticle = Route("/help/:slug")
    /// Help articles (API).
    public static let helpArticles = Route("/help/articles")
    /// One help article (API).
    public static let helpArticlesEntry = Route("/help/articles/:slug")
}
