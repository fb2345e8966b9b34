import Foundation
import SportelloCore

extension PortalModule {
    /// The home page (`/`): it is every user's landing page, so it is no `PortalPage` of the navigation.
    static let dashboard = PortalModule("dashboard", capabilities: [.dashboard], controllers: [DashboardController.self])
}

extension Capability {
    static let dashboard = Capability("dashboard", "The home page after login: welcome box, administrative status, coverage tile.", [
        .init("dashboard.view", "The welcome box with the user's and customer's data."),
        .init("account_status.view", "The administrative status (unpaid invoices highlighted)."),
    ])
}
