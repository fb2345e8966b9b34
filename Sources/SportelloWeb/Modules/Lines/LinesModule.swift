import Foundation
import SportelloCore
import SportelloStore

extension PortalModule {
    static let lines = PortalModule("lines", capabilities: [.lines], controllers: [LinesController.self])
}

extension Capability {
    static let lines = Capability("lines", "The customer's lines and what can be done on them.", [
        .init("lines.view", "Offers and services active on each line."),
        .init("lines.pin_puk", "PIN and PUK codes of a SIM."),
        .init("options.manage", "Activate and deactivate options on lines. A lookup plugin (operation option_compatibility) bound to the feature checks the option against every line chosen in the feature's request forms (or only the `forms:` the binding names) before the request is sent.", plugin: .lookup),
        .init("mobile_services.manage", "Mobile and premium services of a line."),
        .init("sim.block", "Block or unblock a SIM (theft and loss)."),
    ])
}
