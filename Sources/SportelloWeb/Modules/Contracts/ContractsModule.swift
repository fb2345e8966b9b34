import Foundation
import SportelloCore
import SportelloStore

extension PortalModule {
    static let contracts = PortalModule("contracts", capabilities: [.contracts], controllers: [ContractsController.self])
}

extension Capability {
    static let contracts = Capability("contracts", "The customer's contracts and services.", [
        .init("contracts.view", "Active contracts and services."),
    ])
}
