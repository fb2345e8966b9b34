import Foundation
import SportelloCore
import SportelloStore

extension PortalModule {
    static let usage = PortalModule("usage", capabilities: [.usage], controllers: [UsageController.self])
}

extension Capability {
    static let usage = Capability("usage", "Usage and traffic, recharges and credit.", [
        .init("usage.view", "Usage and traffic of the customer's lines."),
        .init("usage.export", "Download the traffic as a spreadsheet."),
        .init("usage.billed_reports", "Reports of billed services."),
        .init("credit.view", "Residual credit of prepaid lines."),
        .init("recharges.online", "Recharge a prepaid line online: by card through the payments plugin bound to the feature (recorded once its signed notification confirms the payment), or `bill` (charged on the next bill). Unbound or not configured, card is shown as not available.", plugin: .payments),
        .init("recharges.history", "The history of recharges."),
        .init("recharges.automatic", "Automatic recharge settings."),
    ])
}
