import Foundation
import SportelloCore
import SportelloStore

extension PortalModule {
    static let lineProducts = PortalModule(
        id: "line_products",
        capabilities: [.lineProducts],
        pages: LineProductsController.pages,
        apiOperations: LineProductsController.apiOperations,
        apiSchemas: LineProductsController.apiSchemas,
        storage: .lineProducts,
        routes: { services, group in LineProductsController(services: services).addRoutes(to: group) })
}

extension Capability {
    static let lineProducts = Capability("line_products", "Shared data bundles, devices and coverage.", [
        .init("gss.view", "Shared data bundles (Giga Smart Share)."),
        .init("gss.manage", "Manage shared data bundles."),
        .init("devices.view", "Devices bought with the lines."),
        .init("coverage.view", "Network coverage check."),
    ])
}
