import Foundation
import SportelloStore

extension PortalModule {
    static let profile = PortalModule(
        id: "profile",
        pages: ProfileController.pages,
        apiOperations: ProfileController.apiOperations,
        apiSchemas: ProfileController.apiSchemas,
        routes: { services, group in ProfileController(services: services).addRoutes(to: group) })
}
