import Foundation
import SportelloCore
import SportelloStore

extension PortalModule {
    static let notifications = PortalModule(
        id: "notifications",
        capabilities: [.notifications],
        pages: NotificationsController.pages,
        apiOperations: NotificationsController.apiOperations,
        apiSchemas: NotificationsController.apiSchemas,
        // The SMS outbox and the events the rules acted on (`NotificationRulesConsumer`, `SMSDeliveryWorker`).
        storage: .notifications,
        routes: { services, group in NotificationsController(services: services).addRoutes(to: group) })
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
