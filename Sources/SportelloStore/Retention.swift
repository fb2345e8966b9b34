import Foundation
import SQLKit
import SportelloCore
import Synchronization

/// What the platform deletes by its own policy, whatever the tenant: rows that only serve while they are live (sessions,
/// one-time tokens, flows in progress, invitations), copies of what was sent (mail and SMS outbox rows, delivered events)
/// and the audit trail past its term. Tenant data (customers, contracts, invoices, payments, online payments, requests,
/// records…) is never deleted by this policy: records follow their kind's `retention.delete_after`, and invoices and
/// billing data stay as long as the tenant keeps them (Italian law asks for ten years).
public enum RetentionCategory: String, CaseIterable, Sendable, Comparable {
    /// `sessions` expired for longer than `RetentionPolicy.expiredSessions`.
    case sessions
    /// `one_time_tokens` (reset links, control codes, activation and verification links, trusted devices…) expired for
    /// longer than `RetentionPolicy.expiredTokens`, used or not.
    case tokens
    /// `flow_states` (registrations and recoveries in progress or done) expired for longer than `RetentionPolicy.expiredFlows`.
    case flows
    /// `invitations` expired for longer than `RetentionPolicy.expiredInvitations`, accepted, revoked or neither.
    case invitations
    /// `outbox` mail sent or given up, created longer ago than `RetentionPolicy.sentMail`; pending mail is kept.
    case mail
    /// `sms_outbox` messages sent or refused, created longer ago than `RetentionPolicy.sentSMS` (notifications module).
    case sms
    /// Events delivered to every consumer that occurred longer ago than `RetentionPolicy.deliveredEvents`, with their
    /// deliveries (events module; `purgeDeliveredEvents`): events with a pending or dead delivery are kept for ops.
    case events
    /// `audit_log` entries older than `RetentionPolicy.auditEntries`.
    case audit

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// The platform's retention limits, in one place (seconds; see `RetentionCategory` for what each applies to).
/// The defaults (`standard`) are the documented policy: README, "Operating Sportello", "Retention".
public struct RetentionPolicy: Sendable, Equatable {
    /// How long an expired session is kept (7 days: long enough to answer "why was I logged out").
    public var expiredSessions: Int64
    /// How long an expired one-time token or code is kept (7 days: a late click says "expired", then "invalid").
    public var expiredTokens: Int64
    /// How long an expired registration or recovery flow is kept (7 days).
    public var expiredFlows: Int64
    /// How long an expired invitation is kept (90 days: the account's users page lists recent invitations).
    public var expiredInvitations: Int64
    /// How long sent or given-up mail is kept, its body already redacted (30 days).
    public var sentMail: Int64
    /// How long sent or refused SMS are kept, number and text already removed (30 days).
    public var sentSMS: Int64
    /// How long events delivered to every consumer are kept (30 days, as the event dispatcher's own purge).
    public var deliveredEvents: Int64
    /// How long audit entries are kept (one year).
    public var auditEntries: Int64
    /// Rows deleted per statement and per write transaction, so a large backlog never holds the write lock for long.
    public var batchSize: Int

    public static let day: Int64 = 86_400

    public init(expiredSessions: Int64 = 7 * day, expiredTokens: Int64 = 7 * day, expiredFlows: Int64 = 7 * day,
                expiredInvitations: Int64 = 90 * day, sentMail: Int64 = 30 * day, sentSMS: Int64 = 30 * day,
                deliveredEvents: Int64 = 30 * day, auditEntries: Int64 = 365 * day, batchSize: Int = 500) {
        self.expiredSessions = expiredSessions; self.expiredTokens = expiredTokens; self.expiredFlows = expiredFlows
        self.expiredInvitations = expiredInvitations; self.sentMail = sentMail; self.sentSMS = sentSMS
        self.deliveredEvents = deliveredEvents; self.auditEntries = auditEntries; self.batchSize = max(1, batchSize)
    }

    /// The documented defaults.
    public static let standard = RetentionPolicy()

    /// How long rows of `category` are kept past the moment the category counts from (expiry, creation, occurrence).
    public func limit(for category: RetentionCategory) -> Int64 {
        switch category {
        case .sessions: expiredSessions
        case .tokens: expiredTokens
        case .flows: expiredFlows
        case .invitations: expiredInvitations
        case .mail: sentMail
        case .sms: sentSMS
        case .events: deliveredEvents
        case .audit: auditEntries
        }
    }
}

extension TenantTransaction {
    /// Whether this database has the tables of `category` (SMS and events belong to modules).
    public func hasRetentionTables(_ category: RetentionCategory) -> Bool {
        switch category {
        case .sms: schema.modules.contains { $0.id == StorageModule.notifications.id }
        case .events: schema.modules.contains { $0.id == StorageModule.events.id }
        default: true
        }
    }

    /// The tenant's rows of `category` past `policy` at `now`, as a fenced select without columns (nil for events,
    /// whose purge is the events module's `purgeDeliveredEvents`).
    private func expiredRows(_ category: RetentionCategory, policy: RetentionPolicy) -> (StoredTable, SQLSelectBuilder)? {
        let cutoff = now - policy.limit(for: category)
        let done = [OutboxStatus.sent.rawValue, OutboxStatus.failed.rawValue]
        switch category {
        case .sessions: return (.sessions, select(.sessions).where("expires_at", .lessThan, cutoff))
        case .tokens: return (.oneTimeTokens, select(.oneTimeTokens).where("expires_at", .lessThan, cutoff))
        case .flows: return (.flowStates, select(.flowStates).where("expires_at", .lessThan, cutoff))
        case .invitations: return (.invitations, select(.invitations).where("expires_at", .lessThan, cutoff))
        case .mail: return (.outbox, select(.outbox).where("status", .in, done).where("created_at", .lessThan, cutoff))
        case .sms:
            let finished = [SMSStatus.sent.rawValue, SMSStatus.failed.rawValue]
            return (.smsOutbox, select(.smsOutbox).where("status", .in, finished).where("created_at", .lessThan, cutoff))
        case .audit: return (.auditLog, select(.auditLog).where("at", .lessThan, cutoff))
        case .events: return nil
        }
    }

    /// Deletes one batch (at most `policy.batchSize` rows, oldest ids first) of the tenant's rows of `category` past
    /// `policy` at this transaction's `now`; returns how many. Delivered events go through `purgeDeliveredEvents`, which
    /// deletes all that are due (in statements of 500) and takes their deliveries with them.
    @discardableResult
    public func purgeExpiredBatch(_ category: RetentionCategory, policy: RetentionPolicy = .standard) async throws -> Int {
        guard hasRetentionTables(category) else { return 0 }
        guard let (table, rows) = expiredRows(category, policy: policy) else {
            return try await purgeDeliveredEvents(occurredBefore: now - policy.deliveredEvents)
        }
        let ids = try await rows.column("id").orderBy("id").limit(policy.batchSize).all()
            .map { try $0.decode(column: "id", as: Int64.self) }
        guard !ids.isEmpty else { return 0 }
        try await delete(table).where("id", .in, ids).run()
        return ids.count
    }

    /// How many of the tenant's rows of `category` are past `policy` at `now` (nil for events: see `Database.countExpired`).
    public func countExpired(_ category: RetentionCategory, policy: RetentionPolicy = .standard) async throws -> Int? {
        guard hasRetentionTables(category) else { return 0 }
        guard let (_, rows) = expiredRows(category, policy: policy) else { return nil }
        return try await count(rows)
    }
}

/// Thrown to roll back a rehearsal (`Database.rehearse`); never leaves this file.
private struct RehearsalRollback: Error {}

extension Database {
    /// Deletes the tenant's rows of `category` past `policy` at `now`, a batch per write transaction until none is left;
    /// returns how many were deleted.
    public func purgeExpired(_ category: RetentionCategory, tenant: String, policy: RetentionPolicy = .standard,
                             now: Int64) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await write(tenant: tenant, now: now) { try await $0.purgeExpiredBatch(category, policy: policy) }
            total += deleted
            if deleted < policy.batchSize || Task.isCancelled { return total }
        }
    }

    /// How many of the tenant's rows of `category` `purgeExpired` would delete at `now`; deletes nothing.
    public func countExpired(_ category: RetentionCategory, tenant: String, policy: RetentionPolicy = .standard,
                             now: Int64) async throws -> Int {
        if let counted = try await read(tenant: tenant, now: now, { try await $0.countExpired(category, policy: policy) }) {
            return counted
        }
        // Events: what the module's purge selects (delivered to every consumer) is counted by running it and rolling back.
        return try await rehearse(tenant: tenant, now: now) { try await $0.purgeExpiredBatch(category, policy: policy) }
    }

    /// Applies the whole policy to one tenant (every category, in the order of `RetentionCategory`), or only counts
    /// (`dryRun`); returns the counts of the categories with rows past the policy.
    public func applyRetention(tenant: String, policy: RetentionPolicy = .standard, now: Int64,
                               dryRun: Bool = false) async throws -> [RetentionCategory: Int] {
        var counts: [RetentionCategory: Int] = [:]
        for category in RetentionCategory.allCases {
            let count = dryRun ? try await countExpired(category, tenant: tenant, policy: policy, now: now)
                               : try await purgeExpired(category, tenant: tenant, policy: policy, now: now)
            if count > 0 { counts[category] = count }
        }
        return counts
    }

    /// Runs `body` in a write transaction of `tenant` that is always rolled back, and returns what it returned: what a
    /// change would do (how many rows a purge deletes), without doing it. It holds the write lock while it runs.
    public func rehearse<T: Sendable>(tenant: String, now: Int64 = Int64(Date().timeIntervalSince1970),
                                      _ body: @Sendable (TenantTransaction) async throws -> T) async throws -> T {
        let result = Mutex<T?>(nil)
        do {
            _ = try await write(tenant: tenant, now: now) { transaction -> Bool in
                let value = try await body(transaction)
                result.withLock { $0 = value }
                throw RehearsalRollback()
            }
        } catch is RehearsalRollback {}
        guard let value = result.withLock({ $0 }) else { throw StoreError(.conflict, "the rehearsal returned nothing") }
        return value
    }
}
