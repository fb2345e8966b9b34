import Foundation
import SportelloStore

extension PortalModule {
    static let notifications = PortalModule(
        id: "notifications",
        pages: NotificationsController.pages,
        apiOperations: NotificationsController.apiOperations,
        apiSchemas: NotificationsController.apiSchemas,
        routes: { services, group in NotificationsController(services: services).addRoutes(to: group) })
}
