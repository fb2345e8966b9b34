import Foundation
import SportelloStore

extension PortalModule {
    static let usage = PortalModule(
        id: "usage",
        pages: UsageController.pages,
        apiOperations: UsageController.apiOperations,
        apiSchemas: UsageController.apiSchemas,
        routes: { services, group in UsageController(services: services).addRoutes(to: group) })
}
