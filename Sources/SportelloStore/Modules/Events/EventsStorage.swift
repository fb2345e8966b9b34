import Foundation
import SQLKit
import SportelloCore

// Domain events: tables of migration `0020_events`.
//
// `events` is append-only: one row per change, in the change's transaction, ordered by id. `fanned_out` turns true
// once a dispatcher has created the event's deliveries (one per consumer that accepts it). A delivery is `pending`
// until a consumer confirms it (`delivered`) or it has failed `maxAttempts` times (`dead`); `claimed_until` is the
// lease of a dispatcher delivering it now, `customer_key` (the customer id, 0 for events without one) orders a
// customer's deliveries to one consumer.

extension StoredTable {
    /// The domain events, one row each, written in the transaction of the change they tell about.
    public static let events = StoredTable("events")
    /// Each event's delivery to each consumer: pending, delivered or dead, with attempts, back-off and lease.
    public static let eventDeliveries = StoredTable("event_deliveries")
}

let eventTables: [TableSpec] = [
    TableSpec(table: .events, columns: [
        col("customer_id", .integer), req("type", .text), req("subject_kind", .text), col("subject_id", .integer),
        col("actor_user_id", .integer), req("data", .text), req("occurred_at", .integer), req("fanned_out", .bool),
    ], indexes: [["tenant_id", "fanned_out", "id"], ["tenant_id", "occurred_at"], ["tenant_id", "customer_id", "id"]]),
    TableSpec(table: .eventDeliveries, columns: [
        req("event_id", .integer, references: .events), req("consumer", .text), req("customer_key", .integer),
        req("status", .text), req("attempts", .integer), req("next_attempt_at", .integer), req("claimed_until", .integer),
        col("last_error", .text), col("delivered_at", .integer), req("created_at", .integer),
    ], uniques: [["tenant_id", "event_id", "consumer"]],
       // The head of each customer's queue per consumer; due deliveries; what ops list.
       indexes: [["tenant_id", "consumer", "customer_key", "status", "event_id"], ["tenant_id", "status", "next_attempt_at"]]),
]

extension StorageModule {
    /// Domain events and their deliveries (the outbox of everything but e-mail). Emptied before the platform's tables
    /// (nothing points at them; deliveries point at their events).
    public static let events = StorageModule("events", tables: [.eventDeliveries, .events],
        migrations: [.adding(id: "0020_events", tables: eventTables)])
}
