import Foundation
import SportelloCore
import SportelloStore

extension PortalModule {
    static let notifications = PortalModule("notifications", capabilities: [.notifications], controllers: [NotificationsController.self],
        // The SMS outbox and the events the rules acted on (`NotificationRulesConsumer`, `SMSDeliveryWorker`).
        storage: .notifications)
}

extension Capability {
    static let notifications = Capability("notifications", "What the user is told, and how.", [
        .init("notifications.manage", "Notification settings."),
        .init("notify.invoices", "Receive invoices by e-mail."),
        .init("notify.payment_requests", "Receive payment requests."),
        .init("notify.services", "Receive service communications."),
        .init("notify.tickets", "Receive ticket replies."),
    ])
}
