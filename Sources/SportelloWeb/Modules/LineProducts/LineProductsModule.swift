import Foundation
import SportelloStore

extension PortalModule {
    static let lineProducts = PortalModule(
        id: "line_products",
        pages: LineProductsController.pages,
        apiOperations: LineProductsController.apiOperations,
        apiSchemas: LineProductsController.apiSchemas,
        storage: .lineProducts,
        routes: { services, group in LineProductsController(services: services).addRoutes(to: group) })
}
