import Foundation
import SportelloStore

extension PortalModule {
    static let lines = PortalModule(
        id: "lines",
        pages: LinesController.pages,
        apiOperations: LinesController.apiOperations,
        apiSchemas: LinesController.apiSchemas,
        routes: { services, group in LinesController(services: services).addRoutes(to: group) })
}
