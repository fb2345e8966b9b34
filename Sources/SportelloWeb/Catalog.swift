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
    /// The title in the tenant's own words, for a page built from its YAML (a record kind's `label_plural`).
    public var ownTitle: LocalizedText?

    public init(path: String, titleKey: String, features: [String],
                tenantFeatures: (@Sendable (TenantDefinition) -> [String])? = nil, fillsRequestForms: Bool = false,
                ownTitle: LocalizedText? = nil) {
        self.path = path; self.titleKey = titleKey; self.features = features; self.tenantFeatures = tenantFeatures
        self.fillsRequestForms = fillsRequestForms; self.ownTitle = ownTitle
    }

    /// A page served at `route`.
    public init(route: Route, titleKey: String, features: [String],
                tenantFeatures: (@Sendable (TenantDefinition) -> [String])? = nil, fillsRequestForms: Bool = false) {
        self.init(path: route.pattern, titleKey: titleKey, features: features, tenantFeatures: tenantFeatures,
                  fillsRequestForms: fillsRequestForms)
    }

    /// The features of `tenant` that open this page.
    public func definedFeatures(in tenant: TenantDefinition) -> [String] {
        var result = features.filter { tenant.feature($0) != nil }
        for feature in tenantFeatures?(tenant) ?? [] where tenant.feature(feature) != nil && !result.contains(feature) {
            result.append(feature)
        }
        return result
    }
}

/// What a set of modules serves: their pages and API operations (with the platform's own). The portal's is
/// `standard` (`PortalModules.all`); each tenant carries the catalogue it is served with, and the navigation,
/// section pages, OpenAPI document and router read it from there.
public struct PortalCatalog: Sendable {
    public let modules: [PortalModule]
    /// The capabilities of `modules`.
    public let capabilities: CapabilityCatalogue
    public let pages: [PortalPage]
    /// The platform's operations (`APIController`) and each module's.
    public let apiOperations: [APIOperation]
    let apiSchemas: [String: JSONSchema]

    public init(modules: [PortalModule]) {
        self.modules = modules
        capabilities = CapabilityCatalogue(modules.flatMap(\.capabilities))
        pages = modules.flatMap(\.pages)
        apiOperations = APIController.operations + modules.flatMap(\.apiOperations)
        var schemas = APIController.schemas
        for module in modules { schemas.merge(module.apiSchemas) { first, _ in first } }
        apiSchemas = schemas
    }

    /// The catalogue of `PortalModules.all`.
    public static let standard = PortalCatalog(modules: PortalModules.all)

    /// The page that shows `feature` in `tenant`, if one does.
    public func page(for feature: String, in tenant: TenantDefinition) -> PortalPage? {
        let slot = tenant.slot(of: feature) ?? feature
        return pages.first { $0.features.contains(slot) } ?? pages.first { $0.definedFeatures(in: tenant).contains(feature) }
    }

    /// The page where a request form of `feature` is filled in, when not on the generic requests pages.
    public func pageFilling(formOf feature: String) -> PortalPage? {
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

/// The capabilities section of `docs/REFERENCE.md`: every slot with the pages and API operations that serve it.
public enum CapabilityReference {
    public static func markdown(_ catalog: PortalCatalog = .standard) -> String {
        var out = """

        ## Capabilities

        What the portal can do for a tenant's users. A feature opens a capability's slot when it names it with
        `capability: <slot>` (the feature's id is then the tenant's own: `bolletta.paga: {capability: invoices.pay, …}`),
        or when the feature is named after the slot. `validate` reports an unknown slot (with the closest one), two
        features bound to one slot, and warns about a feature that binds to no slot and that no request form or
        notification setting uses (it would open no page). Pages open when the user's role grants a feature bound
        to one of the page's slots; API operations are listed in a tenant's OpenAPI document on the same terms.

        """
        for capability in catalog.capabilities.all {
            out += "\n### `\(capability.id)`\n\n\(capability.summary)\n\n| slot | what it opens | pages | API operations |\n|---|---|---|---|\n"
            for slot in capability.slots {
                let pages = catalog.pages.filter { $0.features.contains(slot.name) }.map { "`\($0.path)`" }
                let operations = catalog.apiOperations.filter { operation in
                    operation.allFeatures.contains(slot.name) || (operation.page?.features.contains(slot.name) ?? false)
                }.map { "`\($0.method) \($0.path)`" }
                func cell(_ list: [String]) -> String { list.isEmpty ? "–" : list.joined(separator: "<br>") }
                out += "| `\(slot.name)` | \(slot.summary.replacingOccurrences(of: "|", with: "\\|")) | \(cell(pages)) | \(cell(operations)) |\n"
            }
        }
        return out
    }
}
