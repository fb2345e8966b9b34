import Foundation
import SportelloCore

/// A page of the logged-in portal. It opens when the user's role grants any of `features` that the
/// tenant defines; a tenant that defines none of them does not have the page at all (404).
public struct PortalPage: Sendable {
    /// The page's path, as linked from the navigation (`/invoices`).
    public var path: String
    /// The key of the page title in the UI strings (`invoices.title`).
    public var titleKey: String
    /// Features that open the page; the first one the tenant defines names the page in its section.
    public var features: [String]
    /// Features that open the page because of the tenant's YAML (the features its request forms name).
    public var tenantFeatures: (@Sendable (TenantDefinition) -> [String])?
    /// Whether a YAML request form whose feature is one of `features` is filled in on this page (with
    /// checks of its own, such as one activation per offer) instead of the generic requests pages.
    public var fillsRequestForms: Bool

    public init(path: String, titleKey: String, features: [String],
                tenantFeatures: (@Sendable (TenantDefinition) -> [String])? = nil, fillsRequestForms: Bool = false) {
        self.path = path; self.titleKey = titleKey; self.features = features; self.tenantFeatures = tenantFeatures
        self.fillsRequestForms = fillsRequestForms
    }

    /// The features of `tenant` that open this page.
    public func definedFeatures(in tenant: TenantDefinition) -> [String] {
        var result = features.filter { tenant.features[$0] != nil }
        for feature in tenantFeatures?(tenant) ?? [] where tenant.features[feature] != nil && !result.contains(feature) {
            result.append(feature)
        }
        return result
    }
}

/// Every page of the logged-in portal, each declared by the controller that serves it. The navigation,
/// the section pages and the tests (every page for every role of every tenant) read this list.
public enum PortalCatalog {
    public static let pages: [PortalPage] = {
        ContractsController.pages + InvoicesController.pages + UsageController.pages + ProfileController.pages
            + AccountUsersController.pages + RequestsController.pages + NotificationsController.pages + LinesController.pages
            + LineProductsController.pages + LineSelfServiceController.pages + TelcoSupportController.pages
            + HostingController.pages
    }()

    /// The page that shows `feature` in `tenant`, if one does.
    public static func page(for feature: String, in tenant: TenantDefinition) -> PortalPage? {
        pages.first { $0.features.contains(feature) } ?? pages.first { $0.definedFeatures(in: tenant).contains(feature) }
    }

    /// The page where a request form of `feature` is filled in, when not on the generic requests pages.
    public static func pageFilling(formOf feature: String) -> PortalPage? {
        pages.first { $0.fillsRequestForms && $0.features.contains(feature) }
    }
}

extension UserContext {
    /// Throws 404 when the tenant has no such page and 403 when the user's role grants none of its features.
    public func require(page: PortalPage) throws {
        let defined = page.definedFeatures(in: tenant.definition)
        guard !defined.isEmpty else { throw PortalError.notFound }
        guard defined.contains(where: { may($0) }) else { throw PortalError.forbidden(feature: defined[0]) }
    }
}
