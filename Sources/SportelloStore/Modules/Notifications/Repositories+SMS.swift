import Foundation
import SQLKit
import SportelloCore

/// Where an SMS of the outbox stands.
public enum SMSStatus: String, Codable, Sendable, CaseIterable {
    case pending, sent
    /// Refused for good by the gateway (an invalid number): not retried.
    case failed
    /// Not taken after the plugin's `retry: max_attempts`: number and text kept until ops put it back in the queue
    /// (`requeueDeadSMS`, `sportello sms --requeue-dead`).
    case dead
}

/// One SMS of the outbox (see `Schema+Notifications.swift`).
public struct SMSRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var createdAt: Int64
    /// The event the message is about, and the rule that sent it.
    public var eventId: Int64
    public var rule: String
    /// The sms plugin that carries it.
    public var plugin: String
    /// True when the plugin is a test double (the sandbox sink): no real phone receives it.
    public var sandbox: Bool
    /// The phone number (sealed while pending; removed once sent or failed).
    public var recipient: String
    /// The number's last three digits, kept for support (`…123`).
    public var recipientHint: String
    /// The text (sealed while pending; removed once sent or failed).
    public var body: String
    public var locale: String
    public var status: SMSStatus
    public var attempts: Int
    public var nextAttemptAt: Int64
    /// The last failure's code and message (never the number or the text).
    public var lastError: String?
    public var sentAt: Int64?
    /// The gateway's id for the message.
    public var gatewayId: String?

    public init(id: Int64? = nil, createdAt: Int64, eventId: Int64, rule: String, plugin: String, sandbox: Bool, recipient: String,
                body: String, locale: String, status: SMSStatus = .pending, attempts: Int = 0, nextAttemptAt: Int64? = nil,
                lastError: String? = nil, sentAt: Int64? = nil, gatewayId: String? = nil) {
        self.id = id; self.createdAt = createdAt; self.eventId = eventId; self.rule = rule; self.plugin = plugin; self.sandbox = sandbox
        self.recipient = recipient; self.recipientHint = SMSRecord.hint(for: recipient); self.body = body; self.locale = locale
        self.status = status; self.attempts = attempts; self.nextAttemptAt = nextAttemptAt ?? createdAt; self.lastError = lastError
        self.sentAt = sentAt; self.gatewayId = gatewayId
    }

    /// `…` and the last three digits of `number` (what logs and ops pages may show).
    public static func hint(for number: String) -> String {
        "…" + String(number.filter(\.isNumber).suffix(3))
    }

    /// What replaces number and text once a message is no longer pending.
    public static let removed = "[rimosso dopo la consegna / removed after delivery]"
}

extension TenantTransaction {
    /// Queues an SMS in this transaction (sent if and only if it commits); number and text are sealed with the data key.
    @discardableResult
    public func enqueueSMS(_ sms: SMSRecord) async throws -> Int64 {
        var sealed = sms
        if let sealer {
            sealed.recipient = try sealer.seal(sms.recipient)
            sealed.body = try sealer.seal(sms.body)
        }
        return try await insert(.smsOutbox, sealed)
    }

    private func openedSMS(_ sms: SMSRecord) throws -> SMSRecord {
        guard let sealer else { return sms }
        var copy = sms
        if FieldSealer.isSealed(copy.recipient) { copy.recipient = try sealer.open(copy.recipient) }
        if FieldSealer.isSealed(copy.body) { copy.body = try sealer.open(copy.body) }
        return copy
    }

    /// The SMS outbox, newest first, pending messages opened (the others keep only the number's hint).
    public func smsOutbox(status: SMSStatus? = nil, eventId: Int64? = nil, limit: Int = 100) async throws -> [SMSRecord] {
        var builder = select(.smsOutbox).column("*")
        if let status { builder = builder.where("status", .equal, status.rawValue) }
        if let eventId { builder = builder.where("event_id", .equal, eventId) }
        return try await all(builder.orderBy("id", .descending).limit(limit), as: SMSRecord.self).map(openedSMS)
    }

    /// Claims up to `limit` due SMS for one delivery attempt each, for `lease` seconds, opened for sending.
    public func claimDueSMS(limit: Int, lease: Int64) async throws -> [SMSRecord] {
        try await claimDueRows(.smsOutbox, limit: limit, lease: lease).map(openedSMS)
    }

    /// Records a delivery outcome. Once the SMS is `sent` or `failed`, its number and text are removed.
    public func updateSMS(_ sms: SMSRecord) async throws {
        guard let id = sms.id else { throw StoreError(.invalidInput, "SMS without id") }
        var builder = update(.smsOutbox).set("status", to: sms.status.rawValue).set("attempts", to: sms.attempts)
            .set("next_attempt_at", to: sms.nextAttemptAt).set("last_error", to: sms.lastError).set("sent_at", to: sms.sentAt)
            .set("gateway_id", to: sms.gatewayId)
        if sms.status == .sent || sms.status == .failed {
            builder = builder.set("recipient", to: SMSRecord.removed).set("body", to: SMSRecord.removed)
        }
        try await builder.where("id", .equal, id).run()
    }

    /// Puts every `dead` SMS back in the queue (pending, due now, attempts from zero); returns how many.
    @discardableResult
    public func requeueDeadSMS() async throws -> Int {
        try await update(.smsOutbox).set("status", to: SMSStatus.pending.rawValue).set("attempts", to: 0).set("next_attempt_at", to: now)
            .where("status", .equal, SMSStatus.dead.rawValue).returning("id").all().count
    }

    /// Whether the notification rules already acted on event `eventId`.
    public func wasNotified(eventId: Int64) async throws -> Bool {
        try await count(select(.notifiedEvents).where("event_id", .equal, eventId)) > 0
    }

    /// Marks event `eventId` as acted on (with what it queued). A second mark of one event fails (unique), rolling
    /// back whatever the transaction queued: a redelivered event never sends twice.
    public func markNotified(eventId: Int64, emails: Int, sms: Int) async throws {
        struct Row: Encodable { var eventId: Int64; var emails: Int; var sms: Int; var processedAt: Int64 }
        try await insert(.notifiedEvents, Row(eventId: eventId, emails: emails, sms: sms, processedAt: now))
    }
}
