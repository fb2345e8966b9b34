import Foundation
import SportelloStore

extension PortalModule {
    static let requests = PortalModule(
        id: "requests",
        pages: RequestsController.pages,
        apiOperations: RequestsController.apiOperations,
        apiSchemas: RequestsController.apiSchemas,
        routes: { services, group in RequestsController(services: services).addRoutes(to: group) })
}
