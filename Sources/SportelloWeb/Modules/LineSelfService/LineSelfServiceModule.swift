import Foundation
import SportelloCore
import SportelloStore

extension PortalModule {
    static let lineSelfService = PortalModule(
        id: "line_self_service",
        capabilities: [.lineSelfService],
        pages: LineSelfServiceController.pages,
        apiOperations: LineSelfServiceController.apiOperations,
        apiSchemas: LineSelfServiceController.apiSchemas,
        storage: .lineSelfService,
        routes: { services, group in LineSelfServiceController(services: services).addRoutes(to: group) })
}

extension Capability {
    static let lineSelfService = Capability("line_self_service", "Promotions, line activation and SIM association.", [
        .init("promotions.view", "Promotions available to the customer."),
        .init("line_activation.view", "The progress of a line's activation."),
        .init("sim_association.view", "Which SIM belongs to which user."),
    ])
}
