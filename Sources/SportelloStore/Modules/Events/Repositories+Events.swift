import Foundation
import SQLKit
import SportelloCore

/// An `events` row.
private struct EventRow: Codable, Sendable {
    var id: Int64?
    var customerId: Int64?
    var type: String
    var subjectKind: String
    var subjectId: Int64?
    var actorUserId: Int64?
    var data: String
    var occurredAt: Int64
    var fannedOut: Bool

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    init(_ draft: EventDraft, at now: Int64) throws {
        customerId = draft.customerId; type = draft.type.rawValue; subjectKind = draft.subjectKind; subjectId = draft.subjectId
        actorUserId = draft.actorUserId; occurredAt = now; fannedOut = false
        data = String(decoding: try Self.encoder.encode(draft.facts), as: UTF8.self)
    }

    func recorded(tenant: String) -> RecordedEvent {
        let facts = (try? JSONDecoder().decode([String: EventFact].self, from: Data(data.utf8))) ?? [:]
        return RecordedEvent(id: id ?? 0, tenant: tenant, type: EventType(type), customerId: customerId, subjectKind: subjectKind,
                             subjectId: subjectId, actorUserId: actorUserId, facts: facts, occurredAt: occurredAt, fannedOut: fannedOut)
    }
}

/// How a delivery attempt ended, as the dispatcher records it.
public enum EventDeliveryOutcome: Sendable, Equatable {
    case delivered
    /// Failed; tried again at `at`.
    case retry(at: Int64, error: String)
    /// Failed for the last time (or refused for good): the delivery is dead.
    case dead(error: String)
}

/// Which events `eventLog` lists.
public enum EventLogFilter: String, Sendable, CaseIterable {
    /// The newest events.
    case all
    /// Events not yet handed to their consumers (not fanned out, or a delivery still pending).
    case pending
    /// Events with a dead delivery, or a pending one whose last attempt failed.
    case failed
}

extension TenantTransaction {
    private static let eventChunk = 500

    /// Whether this transaction records events: the database has the events module and the task has not turned
    /// recording off (`EventRecording.suppressed`, demo data).
    public var recordsEvents: Bool {
        !EventRecording.isSuppressed && schema.modules.contains { $0.id == StorageModule.events.id }
    }

    // MARK: Recording

    /// Records `draft` in this transaction, so the event exists if and only if the change it tells about commits;
    /// returns its id (nil when this transaction records no events, see `recordsEvents`).
    @discardableResult
    public func recordEvent(_ draft: EventDraft) async throws -> Int64? {
        guard recordsEvents else { return nil }
        return try await insert(.events, try EventRow(draft, at: now))
    }

    /// Records several events in this transaction, in the order given.
    public func recordEvents(_ drafts: [EventDraft]) async throws {
        guard recordsEvents, !drafts.isEmpty else { return }
        let now = now
        try await insertMany(.events, try drafts.map { try EventRow($0, at: now) })
    }

    // MARK: Reading

    /// The tenant's events with these ids, in id order.
    public func events(ids: [Int64]) async throws -> [RecordedEvent] {
        var rows: [EventRow] = []
        var start = 0
        while start < ids.count {
            let part = Array(ids[start..<min(ids.count, start + Self.eventChunk)])
            rows += try await all(select(.events).column("*").where("id", .in, part), as: EventRow.self)
            start += Self.eventChunk
        }
        return rows.map { $0.recorded(tenant: tenant) }.sorted { $0.id < $1.id }
    }

    /// The tenant's events in id order after `afterId` (for tests and tools that follow the log).
    public func events(after afterId: Int64 = 0, limit: Int = 1_000) async throws -> [RecordedEvent] {
        try await all(select(.events).column("*").where("id", .greaterThan, afterId).orderBy("id").limit(limit), as: EventRow.self)
            .map { $0.recorded(tenant: tenant) }
    }

    /// The deliveries of these events, by event id then consumer.
    public func eventDeliveries(eventIds: [Int64]) async throws -> [EventDelivery] {
        var rows: [EventDelivery] = []
        var start = 0
        while start < eventIds.count {
            let part = Array(eventIds[start..<min(eventIds.count, start + Self.eventChunk)])
            rows += try await all(select(.eventDeliveries).column("*").where("event_id", .in, part), as: EventDelivery.self)
            start += Self.eventChunk
        }
        return rows.sorted { ($0.eventId, $0.consumer) < ($1.eventId, $1.consumer) }
    }

    /// What ops look at (`sportello events list`): up to `limit` events the filter selects, newest first, each with
    /// its deliveries.
    public func eventLog(_ filter: EventLogFilter = .all, limit: Int = 100) async throws -> [(event: RecordedEvent, deliveries: [EventDelivery])] {
        var ids: [Int64]
        switch filter {
        case .all:
            ids = try await select(.events).column("id").orderBy("id", .descending).limit(limit).all()
                .map { try $0.decode(column: "id", as: Int64.self) }
        case .pending:
            let waiting = try await select(.events).column("id").where("fanned_out", .equal, SQLLiteral.boolean(false))
                .orderBy("id", .descending).limit(limit).all().map { try $0.decode(column: "id", as: Int64.self) }
            let open = try await select(.eventDeliveries).column("event_id").where("status", .equal, EventDeliveryStatus.pending.rawValue)
                .orderBy("event_id", .descending).limit(limit).all().map { try $0.decode(column: "event_id", as: Int64.self) }
            ids = Array(Set(waiting + open))
        case .failed:
            ids = try await select(.eventDeliveries).column("event_id")
                .where { group in
                    group.where("status", .equal, EventDeliveryStatus.dead.rawValue)
                        .orWhere { pending in
                            pending.where("status", .equal, EventDeliveryStatus.pending.rawValue).where("last_error", .isNot, SQLLiteral.null)
                        }
                }
                .orderBy("event_id", .descending).limit(limit).all().map { try $0.decode(column: "event_id", as: Int64.self) }
        }
        ids = Array(Set(ids)).sorted(by: >).prefix(limit).map { $0 }
        let events = try await self.events(ids: ids)
        let deliveries = Dictionary(grouping: try await eventDeliveries(eventIds: ids), by: \.eventId)
        return events.reversed().map { ($0, deliveries[$0.id] ?? []) }
    }

    // MARK: Dispatching

    /// Hands up to `limit` events not yet fanned out (oldest first) to their consumers: one pending delivery, due
    /// now, for each consumer id `consumers` returns for the event. Returns how many events it took. Each event is
    /// taken by one transaction only (a conditional update), so two dispatchers never create its deliveries twice.
    public func fanOutEvents(limit: Int = 500, consumers: (RecordedEvent) -> [String]) async throws -> Int {
        let waiting = try await all(select(.events).column("*").where("fanned_out", .equal, SQLLiteral.boolean(false))
            .orderBy("id").limit(limit), as: EventRow.self)
        guard !waiting.isEmpty else { return 0 }
        let taken = Set(try await update(.events).set("fanned_out", to: SQLLiteral.boolean(true))
            .where("id", .in, waiting.compactMap(\.id)).where("fanned_out", .equal, SQLLiteral.boolean(false))
            .returning("id").all().map { try $0.decode(column: "id", as: Int64.self) })
        var deliveries: [EventDelivery] = []
        for row in waiting {
            guard let id = row.id, taken.contains(id) else { continue }
            let event = row.recorded(tenant: tenant)
            for consumer in Set(consumers(event)).sorted() {
                deliveries.append(EventDelivery(eventId: id, consumer: consumer, customerKey: event.customerId ?? 0,
                                                nextAttemptAt: now, createdAt: now))
            }
        }
        try await insertMany(.eventDeliveries, deliveries)
        return taken.count
    }

    /// The pending deliveries to `consumers` that may go now, oldest event first, up to `limit`: due, not under
    /// another dispatcher's lease, and each the first pending delivery of its customer to its consumer (a
    /// customer's later events wait until the earlier one is delivered or dead).
    public func dueDeliveries(consumers: [String], limit: Int) async throws -> [EventDelivery] {
        guard !consumers.isEmpty else { return [] }
        let table = StoredTable.eventDeliveries.rawValue, pending = EventDeliveryStatus.pending.rawValue
        // No bound values: the correlation is by column, the status a constant of this file.
        let isHead = SQLRaw("""
            NOT EXISTS (SELECT 1 FROM \(table) AS earlier WHERE earlier.tenant_id = \(table).tenant_id \
            AND earlier.consumer = \(table).consumer AND earlier.customer_key = \(table).customer_key \
            AND earlier.status = '\(pending)' AND earlier.event_id < \(table).event_id)
            """)
        return try await all(select(.eventDeliveries).column("*").where("consumer", .in, consumers).where("status", .equal, pending)
            .where("next_attempt_at", .lessThanOrEqual, now).where("claimed_until", .lessThanOrEqual, now).where(isHead)
            .orderBy("event_id").orderBy("consumer").limit(limit), as: EventDelivery.self)
    }

    /// Claims the due deliveries to `consumers` (see `dueDeliveries`) until `now + lease`: each counts an attempt and
    /// is left alone by other dispatchers until the lease ends; one that another transaction claimed first is skipped.
    /// A dispatcher killed mid-delivery leaves its claims to be taken again after the lease: delivered at least once.
    public func claimDueDeliveries(consumers: [String], limit: Int, lease: Int64) async throws -> [ClaimedDelivery] {
        var claimed: [EventDelivery] = []
        for var delivery in try await dueDeliveries(consumers: consumers, limit: limit) {
            guard let id = delivery.id else { continue }
            let until = now + lease
            let rows = try await update(.eventDeliveries).set("attempts", to: delivery.attempts + 1).set("claimed_until", to: until)
                .where("id", .equal, id).where("status", .equal, EventDeliveryStatus.pending.rawValue)
                .where("attempts", .equal, delivery.attempts).where("claimed_until", .lessThanOrEqual, now)
                .returning("id").all()
            guard !rows.isEmpty else { continue }
            delivery.attempts += 1
            delivery.claimedUntil = until
            claimed.append(delivery)
        }
        let events = Dictionary(uniqueKeysWithValues: try await self.events(ids: Array(Set(claimed.map(\.eventId)))).map { ($0.id, $0) })
        return claimed.compactMap { delivery in events[delivery.eventId].map { ClaimedDelivery(delivery: delivery, event: $0) } }
    }

    /// Records how the attempt of `claimed` ended; false (and nothing written) when the claim is no longer this
    /// dispatcher's (its lease ran out and another took the delivery).
    @discardableResult
    public func settleDelivery(_ claimed: EventDelivery, _ outcome: EventDeliveryOutcome) async throws -> Bool {
        guard let id = claimed.id else { return false }
        var builder = update(.eventDeliveries).set("claimed_until", to: Int64(0))
        switch outcome {
        case .delivered:
            builder = builder.set("status", to: EventDeliveryStatus.delivered.rawValue).set("delivered_at", to: now)
                .set("last_error", to: String?.none)
        case .retry(let at, let error):
            builder = builder.set("next_attempt_at", to: at).set("last_error", to: error)
        case .dead(let error):
            builder = builder.set("status", to: EventDeliveryStatus.dead.rawValue).set("last_error", to: error)
        }
        let rows = try await builder.where("id", .equal, id).where("status", .equal, EventDeliveryStatus.pending.rawValue)
            .where("attempts", .equal, claimed.attempts).where("claimed_until", .equal, claimed.claimedUntil)
            .returning("id").all()
        return !rows.isEmpty
    }

    /// Gives back a claimed delivery that was not attempted (the dispatcher is stopping): due now, its attempt uncounted.
    public func releaseDelivery(_ claimed: EventDelivery) async throws {
        guard let id = claimed.id else { return }
        try await update(.eventDeliveries).set("claimed_until", to: Int64(0)).set("attempts", to: max(claimed.attempts - 1, 0))
            .where("id", .equal, id).where("status", .equal, EventDeliveryStatus.pending.rawValue)
            .where("attempts", .equal, claimed.attempts).where("claimed_until", .equal, claimed.claimedUntil).run()
    }

    /// Makes dead deliveries pending again, due now with their attempts reset (ops replaying after a fix): those of
    /// event `eventId`, or every dead one of `consumer`, or every dead one. Returns how many.
    @discardableResult
    public func replayDeadDeliveries(eventId: Int64? = nil, consumer: String? = nil) async throws -> Int {
        var builder = update(.eventDeliveries).set("status", to: EventDeliveryStatus.pending.rawValue).set("attempts", to: 0)
            .set("next_attempt_at", to: now).set("claimed_until", to: Int64(0))
            .where("status", .equal, EventDeliveryStatus.dead.rawValue)
        if let eventId { builder = builder.where("event_id", .equal, eventId) }
        if let consumer { builder = builder.where("consumer", .equal, consumer) }
        return try await builder.returning("id").all().count
    }

    // MARK: Retention

    /// Deletes the events that occurred before `cutoff` and were delivered to every consumer (with their deliveries);
    /// events with a pending or dead delivery are kept. Returns how many events were deleted.
    @discardableResult
    public func purgeDeliveredEvents(occurredBefore cutoff: Int64) async throws -> Int {
        let events = StoredTable.events.rawValue, deliveries = StoredTable.eventDeliveries.rawValue
        let delivered = EventDeliveryStatus.delivered.rawValue
        let settled = SQLRaw("""
            NOT EXISTS (SELECT 1 FROM \(deliveries) AS d WHERE d.tenant_id = \(events).tenant_id AND d.event_id = \(events).id \
            AND d.status <> '\(delivered)')
            """)
        var deleted = 0
        while true {
            let ids = try await select(.events).column("id").where("occurred_at", .lessThan, cutoff)
                .where("fanned_out", .equal, SQLLiteral.boolean(true)).where(settled).orderBy("id").limit(Self.eventChunk).all()
                .map { try $0.decode(column: "id", as: Int64.self) }
            guard !ids.isEmpty else { return deleted }
            try await delete(.eventDeliveries).where("event_id", .in, ids).run()
            try await delete(.events).where("id", .in, ids).run()
            deleted += ids.count
            if ids.count < Self.eventChunk { return deleted }
        }
    }
}
