import Foundation
import SportelloStore

extension PortalModule {
    static let users = PortalModule(
        id: "users",
        pages: AccountUsersController.pages,
        apiOperations: AccountUsersController.apiOperations,
        apiSchemas: AccountUsersController.apiSchemas,
        routes: { services, group in AccountUsersController(services: services).addRoutes(to: group) })
}
