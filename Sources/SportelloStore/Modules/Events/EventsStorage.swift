import Foundation
import SportelloCore

extension StoredTable {
    /// The domain events, one row each, written in the transaction of the change they tell about.
    public static let events = StoredTable("events")
    /// Each event's delivery to each consumer: pending, delivered or dead, with attempts, back-off and lease.
    public static let eventDeliveries = StoredTable("event_deliveries")
}

extension StorageModule {
    /// Domain events and their deliveries (the outbox of everything but e-mail). Emptied before the platform's tables
    /// (nothing points at them; deliveries point at their events).
    public static let events = StorageModule(
        id: "events",
        tables: [.eventDeliveries, .events],
        migrations: [.adding(id: "0020_events", tables: eventTables)])
}
