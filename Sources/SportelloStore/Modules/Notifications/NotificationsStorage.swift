import Foundation
import SportelloCore

extension StoredTable {
    /// SMS waiting for the tenant's SMS gateway, then kept (body and number removed) as a record of what was sent.
    public static let smsOutbox = StoredTable("sms_outbox")
    /// Each event the notification rules have acted on, once: a redelivered event queues nothing again.
    public static let notifiedEvents = StoredTable("notified_events")
}

extension StorageModule {
    /// The notification rules' own tables: the SMS outbox and the events already acted on (e-mail goes to the
    /// platform's outbox). Nothing points at them.
    public static let notifications = StorageModule(
        id: "notifications",
        tables: [.smsOutbox, .notifiedEvents],
        migrations: [.adding(id: "0022_notifications", tables: notificationTables)])
}
