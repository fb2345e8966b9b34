import Foundation
import SportelloCore
import SportelloStore

extension PortalModule {
    static let lineSelfService = PortalModule("line_self_service", capabilities: [.lineSelfService], controllers: [LineSelfServiceController.self],
        storage: .lineSelfService)
}

extension Capability {
    static let lineSelfService = Capability("line_self_service", "Promotions, line activation and SIM association.", [
        .init("promotions.view", "Promotions available to the customer."),
        .init("line_activation.view", "The progress of a line's activation."),
        .init("sim_association.view", "Which SIM belongs to which user."),
    ])
}
