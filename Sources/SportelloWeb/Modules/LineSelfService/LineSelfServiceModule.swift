import Foundation
import SportelloStore

extension PortalModule {
    static let lineSelfService = PortalModule(
        id: "line_self_service",
        pages: LineSelfServiceController.pages,
        apiOperations: LineSelfServiceController.apiOperations,
        apiSchemas: LineSelfServiceController.apiSchemas,
        storage: .lineSelfService,
        routes: { services, group in LineSelfServiceController(services: services).addRoutes(to: group) })
}
