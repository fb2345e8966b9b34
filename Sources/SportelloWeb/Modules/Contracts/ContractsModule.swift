import Foundation
import SportelloCore
import SportelloStore

extension PortalModule {
    static let contracts = PortalModule(
        id: "contracts",
        capabilities: [.contracts],
        pages: ContractsController.pages,
        apiOperations: ContractsController.apiOperations,
        apiSchemas: ContractsController.apiSchemas,
        routes: { services, group in ContractsController(services: services).addRoutes(to: group) })
}

extension Capability {
    static let contracts = Capability("contracts", "The customer's contracts and services.", [
        .init("contracts.view", "Active contracts and services."),
    ])
}
