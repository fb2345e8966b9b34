import Foundation
import SQLKit
import SportelloCore

// Notification rules: tables of migration `0022_notifications`.
//
// `sms_outbox` is the SMS twin of the mail outbox: a row is written in the transaction that acts on an event, pending
// and due at once; the SMS worker claims due rows under a lease (attempts + 1, `next_attempt_at` at the lease's end),
// sends them with no transaction open and writes the outcome: `sent` (with the gateway's id), `failed` (the gateway
// refused the message for good) or pending again after a back-off. While pending, number and text are sealed with the
// data key; once sent or failed both are replaced (`recipient_hint` keeps the last three digits for support).
// `sandbox` marks messages that went to a test gateway (no real phone received them).
// `notified_events` holds each event id acted on once (unique), written in the same transaction as the messages.

extension StoredTable {
    /// SMS waiting for the tenant's SMS gateway, then kept (body and number removed) as a record of what was sent.
    public static let smsOutbox = StoredTable("sms_outbox")
    /// Each event the notification rules have acted on, once: a redelivered event queues nothing again.
    public static let notifiedEvents = StoredTable("notified_events")
}

let notificationTables: [TableSpec] = [
    TableSpec(table: .smsOutbox, columns: [
        req("created_at", .integer), req("event_id", .integer), req("rule", .text), req("plugin", .text), req("sandbox", .bool),
        req("recipient", .text), req("recipient_hint", .text), req("body", .text), req("locale", .text), req("status", .text),
        req("attempts", .integer), req("next_attempt_at", .integer), col("last_error", .text), col("sent_at", .integer),
        col("gateway_id", .text),
    ], indexes: [["tenant_id", "status", "next_attempt_at"], ["tenant_id", "event_id"]]),
    TableSpec(table: .notifiedEvents, columns: [
        req("event_id", .integer), req("emails", .integer), req("sms", .integer), req("processed_at", .integer),
    ], uniques: [["tenant_id", "event_id"]]),
]

extension StorageModule {
    /// The notification rules' own tables: the SMS outbox and the events already acted on (e-mail goes to the
    /// platform's outbox). Nothing points at them.
    public static let notifications = StorageModule("notifications", tables: [.smsOutbox, .notifiedEvents],
        migrations: [.adding(id: "0022_notifications", tables: notificationTables)])
}
