import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// One module of the portal, declared in one value in its folder (`Modules/<Module>/<Module>Module.swift`):
/// the pages it serves (each opened by the slots of the catalogue's capabilities, see `PortalPage`), its
/// routes, its `/api/v1` operations and schemas, and its storage (tables, schema steps, demo data).
public struct PortalModule: Sendable {
    /// The module's id (`invoices`).
    public let id: String
    /// What it can do for a tenant's features: the slots its pages and operations open, and its options.
    public let capabilities: [Capability]
    public let pages: [PortalPage]
    public let apiOperations: [APIOperation]
    let apiSchemas: [String: JSONSchema]
    /// Its tables, schema steps and demo data, when it keeps rows of its own.
    public let storage: StorageModule?
    /// Its reactions to other modules' events, run in the transaction that raised them.
    public let eventHandlers: [DomainEventHandler]
    /// What acts on its recorded events after they commit (notification rules, webhooks…), run by `EventDispatcher`.
    public let eventConsumers: [any EventConsumer]
    /// Pages and API operations the module builds from a tenant's own YAML (its record kinds), nil when all of its
    /// pages are the catalogue's.
    let tenantSurface: (@Sendable (TenantDefinition) -> TenantSurface)?
    private let routes: @Sendable (PortalServices, RouterGroup<UserContext>) -> Void

    /// A module served by `controllers`: their pages, API operations and schemas, and their routes.
    init(_ id: String, capabilities: [Capability] = [], controllers: [any ModuleController.Type],
         storage: StorageModule? = nil, eventHandlers: [DomainEventHandler] = [], eventConsumers: [any EventConsumer] = [],
         tenantSurface: (@Sendable (TenantDefinition) -> TenantSurface)? = nil) {
        self.id = id; self.capabilities = capabilities
        pages = controllers.flatMap { $0.pages }
        apiOperations = controllers.flatMap { $0.apiOperations }
        apiSchemas = controllers.reduce(into: [:]) { schemas, controller in schemas.merge(controller.apiSchemas) { first, _ in first } }
        self.storage = storage; self.eventHandlers = eventHandlers; self.eventConsumers = eventConsumers; self.tenantSurface = tenantSurface
        routes = { services, group in
            for controller in controllers { controller.init(services: services).addRoutes(to: group) }
        }
    }

    /// Mounts the module's pages and API operations (they need a logged-in user).
    func addRoutes(services: PortalServices, to group: RouterGroup<UserContext>) { routes(services, group) }
}

/// The HTTP face of a module: the pages and `/api/v1` operations it serves, their schemas, and the routes it mounts
/// for a logged-in user. Controllers translate HTTP only; the use cases live in `SportelloApplication`.
protocol ModuleController: Sendable {
    static var pages: [PortalPage] { get }
    static var apiOperations: [APIOperation] { get }
    static var apiSchemas: [String: JSONSchema] { get }
    init(services: PortalServices)
    func addRoutes(to group: RouterGroup<UserContext>)
}

extension ModuleController {
    static var pages: [PortalPage] { [] }
    static var apiOperations: [APIOperation] { [] }
    static var apiSchemas: [String: JSONSchema] { [:] }
}

/// What a module serves to one tenant because of that tenant's YAML: pages (their titles in the tenant's words) and
/// API operations with their schemas (listed in that tenant's OpenAPI document only).
public struct TenantSurface: Sendable {
    public var pages: [PortalPage]
    public var apiOperations: [APIOperation]
    var apiSchemas: [String: JSONSchema]

    init(pages: [PortalPage] = [], apiOperations: [APIOperation] = [], apiSchemas: [String: JSONSchema] = [:]) {
        self.pages = pages; self.apiOperations = apiOperations; self.apiSchemas = apiSchemas
    }

    /// The surfaces of several modules as one.
    init(merging surfaces: [TenantSurface]) {
        self.init(pages: surfaces.flatMap(\.pages), apiOperations: surfaces.flatMap(\.apiOperations))
        for surface in surfaces { apiSchemas.merge(surface.apiSchemas) { first, _ in first } }
    }
}

/// The portal's modules. This list drives the capabilities tenants bind to (validation, schema, reference),
/// the router, the navigation and the pages of every role, the OpenAPI document, the schema
/// (`Database.open(_:modules:)`) and the demo data. Adding a module: a folder under `Modules/` (and under
/// `SportelloStore/Modules/` when it keeps rows) and one entry here.
public enum PortalModules {
    public static let all: [PortalModule] = [
        .dashboard, .contracts, .invoices, .usage, .profile, .users, .requests, .notifications, .lines,
        .lineProducts, .lineSelfService, .telcoSupport, .hosting, .tenantRecords, .requiredActions,
        .events,
    ]

    /// The capabilities of `all`, for `TenantLoader`, `sportello schema` and `sportello reference`.
    public static let capabilities = CapabilityCatalogue(all.flatMap(\.capabilities))

    /// The storage parts of `all`, for `Database.open`.
    public static var storage: [StorageModule] { all.compactMap(\.storage) }
}
