import Foundation
import SportelloCore
import SportelloStore

extension PortalModule {
    static let lineProducts = PortalModule("line_products", capabilities: [.lineProducts], controllers: [LineProductsController.self],
        storage: .lineProducts)
}

extension Capability {
    static let lineProducts = Capability("line_products", "Shared data bundles, devices and coverage.", [
        .init("gss.view", "Shared data bundles (Giga Smart Share)."),
        .init("gss.manage", "Manage shared data bundles."),
        .init("devices.view", "Devices bought with the lines."),
        .init("coverage.view", "Network coverage check."),
    ])
}
