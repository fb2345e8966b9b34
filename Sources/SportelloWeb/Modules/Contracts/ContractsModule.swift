import Foundation
import SportelloStore

extension PortalModule {
    static let contracts = PortalModule(
        id: "contracts",
        pages: ContractsController.pages,
        apiOperations: ContractsController.apiOperations,
        apiSchemas: ContractsController.apiSchemas,
        routes: { services, group in ContractsController(services: services).addRoutes(to: group) })
}
