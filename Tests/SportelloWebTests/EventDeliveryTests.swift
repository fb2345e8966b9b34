import Foundation
import Synchronization
import Testing
import SportelloApplication
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

/// A consumer that fails the events it is told to, a given number of times, and remembers what it took, in order.
private final class ScriptedConsumer: EventConsumer {
    struct State {
        var failuresLeft: [Int64: Int] = [:]
        var delivered: [RecordedEvent] = []
        var attempts: [Int64: Int] = [:]
    }

    let id: String
    let types: Set<EventType>?
    let failure: @Sendable (Int64) -> any Error
    let state: Mutex<State>

    init(id: String, failing: [Int64: Int] = [:], types: Set<EventType>? = nil,
         failure: @escaping @Sendable (Int64) -> any Error = { _ in EventDeliveryFailure(code: "http_503", message: "the receiver is unavailable") }) {
        self.id = id; self.types = types; self.failure = failure
        state = Mutex(State(failuresLeft: failing))
    }

    var delivered: [Int64] { state.withLock { $0.delivered.map(\.id) } }
    func attempts(_ id: Int64) -> Int { state.withLock { $0.attempts[id] ?? 0 } }
    func setFailures(_ id: Int64, _ count: Int) { state.withLock { $0.failuresLeft[id] = count } }

    func accepts(_ event: RecordedEvent) -> Bool { types.map { $0.contains(event.type) } ?? true }

    func deliver(_ event: RecordedEvent) async throws {
        let error: (any Error)? = state.withLock { state in
            state.attempts[event.id, default: 0] += 1
            if let left = state.failuresLeft[event.id], left > 0 {
                state.failuresLeft[event.id] = left - 1
                return failure(event.id)
            }
            state.delivered.append(event)
            return nil
        }
        if let error { throw error }
    }
}

/// Consumers with one id in two dispatchers, writing to one log.
private final class SharedLog: Sendable {
    let entries = Mutex<[RecordedEvent]>([])
}

private struct SharedLogConsumer: EventConsumer {
    let id = "shared"
    let log: SharedLog
    func deliver(_ event: RecordedEvent) async throws {
        try await Task.sleep(for: .milliseconds(1))
        log.entries.withLock { $0.append(event) }
    }
}

/// No jitter: back-off delays are exact.
private struct ZeroRandom: SecureRandomSource {
    func bytes(_ count: Int) -> [UInt8] { [UInt8](repeating: 0, count: count) }
}

/// An error whose description carries personal data: it must not reach `last_error`.
private struct ReceiverSaidSomething: Error, CustomStringConvertible {
    var description: String { "rejected mario.rossi@example.it" }
}

private let t0 = Date(timeIntervalSince1970: 1_800_000_000)
private func at(_ seconds: Int) -> Date { t0.addingTimeInterval(TimeInterval(seconds)) }

/// Records one event per customer id given (nil: an event without a customer), each in its own transaction at `t0`.
private func record(_ database: Database, _ tenant: String, customers: [Int64?], type: EventType = .requestCreated) async throws -> [Int64] {
    var ids: [Int64] = []
    for customer in customers {
        let id = try await database.write(tenant: tenant, now: Int64(t0.timeIntervalSince1970)) { transaction in
            try await transaction.recordEvent(EventDraft(type, customerId: customer, subject: "request", id: 1, facts: ["n": .integer(Int64(customer ?? 0))]))
        }
        ids.append(try #require(id))
    }
    return ids
}

private func deliveries(_ database: Database, _ tenant: String, _ eventIds: [Int64]) async throws -> [EventDelivery] {
    try await database.read(tenant: tenant) { try await $0.eventDeliveries(eventIds: eventIds) }
}

@Suite("Domain event delivery: at least once, in order per customer, with back-off, dead letters and leases")
struct EventDeliveryTests {
    @Test("a customer's later events wait while an earlier one fails twice; other customers' events and other consumers go on",
          arguments: TestEngine.available)
    func orderPerCustomer(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = uniqueTenant("events")
            let events = try await record(database, tenant, customers: [1, 2, 1, 2])
            let (e1, e2, e3, e4) = (events[0], events[1], events[2], events[3])
            let flaky = ScriptedConsumer(id: "flaky", failing: [e1: 2]), steady = ScriptedConsumer(id: "steady")
            let dispatcher = EventDispatcher(database: database, consumers: [flaky, steady], tenants: { [tenant] }, random: ZeroRandom(),
                                             settings: .init(firstRetryDelay: 10, maximumRetryDelay: 3600, maxAttempts: 5))
            var report = await dispatcher.deliverDue(now: t0)
            #expect(report.fannedOut == 4 && report.tenantErrors.isEmpty)
            #expect(flaky.delivered == [e2, e4], "customer 1 waits behind its failing event; customer 2 goes on")
            #expect(steady.delivered == [e1, e2, e3, e4], "another consumer is not held up")
            #expect(report.deferred.map(\.eventId) == [e1])
            var first = try #require(try await deliveries(database, tenant, [e1]).first { $0.consumer == "flaky" })
            #expect(first.status == .pending && first.attempts == 1 && first.claimedUntil == 0)
            #expect(first.nextAttemptAt == Int64(t0.timeIntervalSince1970) + 10)
            #expect(first.lastError == "http_503: the receiver is unavailable")

            report = await dispatcher.deliverDue(now: at(9))
            #expect(report.delivered.isEmpty && flaky.attempts(e1) == 1, "not before its back-off")
            report = await dispatcher.deliverDue(now: at(10))
            #expect(report.deferred.map(\.eventId) == [e1] && flaky.attempts(e1) == 2)
            first = try #require(try await deliveries(database, tenant, [e1]).first { $0.consumer == "flaky" })
            #expect(first.nextAttemptAt == Int64(at(10).timeIntervalSince1970) + 20, "the delay doubles")
            report = await dispatcher.deliverDue(now: at(29))
            #expect(report.delivered.isEmpty && flaky.delivered == [e2, e4])

            report = await dispatcher.deliverDue(now: at(30))
            #expect(flaky.delivered == [e2, e4, e1, e3], "the third attempt goes through, then the event that waited")
            first = try #require(try await deliveries(database, tenant, [e1]).first { $0.consumer == "flaky" })
            #expect(first.status == .delivered && first.attempts == 3 && first.lastError == nil)
            let all = try await deliveries(database, tenant, events)
            #expect(all.count == 8 && all.allSatisfy { $0.status == .delivered })
            #expect(await dispatcher.deliverDue(now: at(3600)).delivered.isEmpty, "each delivered once")
        }
    }

    @Test("back-off doubles up to its cap; after the last attempt the delivery is dead (listed for ops, no longer holding the customer), and replay revives it",
          arguments: TestEngine.available)
    func backOffAndDeadLetters(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = uniqueTenant("events")
            let events = try await record(database, tenant, customers: [1, 1, 2])
            let (e1, e2, e3) = (events[0], events[1], events[2])
            let consumer = ScriptedConsumer(id: "hook", failing: [e1: 100, e3: 1]) { id in
                id == e3 ? EventDeliveryFailure(code: "http_410", message: "gone", isPermanent: true) as any Error : ReceiverSaidSomething()
            }
            let dispatcher = EventDispatcher(database: database, consumers: [consumer], tenants: { [tenant] }, random: ZeroRandom(),
                                             settings: .init(firstRetryDelay: 10, maximumRetryDelay: 15, maxAttempts: 3))
            var report = await dispatcher.deliverDue(now: t0)
            #expect(report.dead.map(\.eventId) == [e3], "a permanent refusal is dead at once")
            #expect(report.deferred.map(\.eventId) == [e1])
            var head = try #require(try await deliveries(database, tenant, [e1]).first)
            #expect(head.lastError == "error: ReceiverSaidSomething", "only the error's type: its text could carry personal data")
            #expect(head.nextAttemptAt == Int64(at(10).timeIntervalSince1970))
            report = await dispatcher.deliverDue(now: at(10))
            head = try #require(try await deliveries(database, tenant, [e1]).first)
            #expect(head.nextAttemptAt == Int64(at(25).timeIntervalSince1970), "20 s capped at 15 s")
            #expect(consumer.delivered.isEmpty, "e2 waits behind e1")

            report = await dispatcher.deliverDue(now: at(25))
            #expect(report.dead.map(\.eventId) == [e1] && consumer.attempts(e1) == 3)
            #expect(consumer.delivered == [e2], "a dead delivery no longer holds the customer's later events")
            let failed = try await database.read(tenant: tenant) { try await $0.eventLog(.failed) }
            #expect(Set(failed.map(\.event.id)) == [e1, e3])
            #expect(failed.allSatisfy { $0.deliveries.first?.status == .dead })
            #expect(try await database.read(tenant: tenant) { try await $0.eventLog(.pending) }.isEmpty)

            consumer.setFailures(e1, 0)
            let revived = try await database.write(tenant: tenant, now: Int64(at(26).timeIntervalSince1970)) {
                try await $0.replayDeadDeliveries(eventId: e1)
            }
            #expect(revived == 1)
            #expect(try await database.read(tenant: tenant) { try await $0.eventLog(.pending) }.map(\.event.id) == [e1])
            report = await dispatcher.deliverDue(now: at(26))
            #expect(consumer.delivered == [e2, e1])
            #expect(try await deliveries(database, tenant, [e1]).first?.status == .delivered)

            let defaults = EventDispatcher(database: database, consumers: [], tenants: { [] }, random: ZeroRandom())
            #expect((1...9).map { defaults.retryDelay(afterAttempt: $0) } == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600])
        }
    }

    @Test("a claim whose process died is delivered again once its lease has run out, not before; the dead process's outcome is then ignored",
          arguments: TestEngine.available)
    func leaseExpiry(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = uniqueTenant("events")
            let events = try await record(database, tenant, customers: [1, 1, 2])
            let (e1, e2, e3) = (events[0], events[1], events[2])
            // A dispatcher hands the events out, claims the heads for 60 s, and is killed before delivering them.
            let start = Int64(t0.timeIntervalSince1970)
            let stale = try await database.write(tenant: tenant, now: start) { transaction in
                _ = try await transaction.fanOutEvents { _ in ["c"] }
                return try await transaction.claimDueDeliveries(consumers: ["c"], limit: 10, lease: 60)
            }
            #expect(stale.map(\.event.id) == [e1, e3], "the first event of each customer")
            let consumer = ScriptedConsumer(id: "c")
            let dispatcher = EventDispatcher(database: database, consumers: [consumer], tenants: { [tenant] }, random: ZeroRandom(),
                                             settings: .init(lease: 60))
            #expect(await dispatcher.deliverDue(now: at(59)).delivered.isEmpty, "under lease, and e2 waits behind e1")
            let report = await dispatcher.deliverDue(now: at(60))
            #expect(Set(report.delivered.map(\.eventId)) == [e1, e2, e3])
            #expect(consumer.delivered.filter { $0 != e3 } == [e1, e2])
            #expect(try await deliveries(database, tenant, [e1]).first?.attempts == 2, "the killed attempt counts")
            let late = try await database.write(tenant: tenant, now: start + 61) { try await $0.settleDelivery(stale[0].delivery, .retry(at: 0, error: "x")) }
            #expect(!late, "the dead process's claim is no longer its own")
            #expect(try await deliveries(database, tenant, [e1]).first?.status == .delivered)
        }
    }

    @Test("two dispatchers at once hand each event out once and deliver it once, in order per customer", arguments: TestEngine.available)
    func twoDispatchers(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = uniqueTenant("events")
            let events = try await record(database, tenant, customers: (0..<30).map { Int64($0 % 3 + 1) })
            let log = SharedLog()
            let first = EventDispatcher(database: database, consumers: [SharedLogConsumer(log: log)], tenants: { [tenant] },
                                        settings: .init(batchSize: 2))
            let second = EventDispatcher(database: database, consumers: [SharedLogConsumer(log: log)], tenants: { [tenant] },
                                         settings: .init(batchSize: 2))
            async let a = first.deliverDue(now: t0)
            async let b = second.deliverDue(now: t0)
            let (ra, rb) = await (a, b)
            #expect(ra.fannedOut + rb.fannedOut == 30)
            let entries = log.entries.withLock { $0 }
            #expect(entries.map(\.id).sorted() == events, "every event once")
            for customer in Int64(1)...3 {
                let ids = entries.filter { $0.customerId == customer }.map(\.id)
                #expect(ids == ids.sorted(), "customer \(customer) in order")
            }
            #expect(try await deliveries(database, tenant, events).count == 30)
        }
    }

    @Test("consumers take only what they accept; old events every consumer took are purged, pending and dead ones kept",
          arguments: TestEngine.available)
    func acceptsAndRetention(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = uniqueTenant("events")
            let invoice = try await record(database, tenant, customers: [1], type: .invoiceIssued)[0]
            let request = try await record(database, tenant, customers: [nil])[0]
            let failing = try await record(database, tenant, customers: [2], type: .invoiceIssued)[0]
            let consumer = ScriptedConsumer(id: "invoices", failing: [failing: 100], types: [.invoiceIssued])
            let dispatcher = EventDispatcher(database: database, consumers: [consumer], tenants: { [tenant] }, random: ZeroRandom(),
                                             settings: .init(maxAttempts: 1, retention: 86_400))
            _ = await dispatcher.deliverDue(now: t0)
            #expect(consumer.delivered == [invoice])
            #expect(try await deliveries(database, tenant, [request]).isEmpty, "not accepted: no delivery")
            let later = try await record(database, tenant, customers: [3], type: .invoiceIssued)[0]
            let json = try #require(try await database.read(tenant: tenant) { try await $0.events(ids: [invoice]) }.first).json()
            #expect(json.contains("\"type\":\"invoice.issued\"") && json.contains("\"customer_id\":1") && json.contains("\"data\":{\"n\":1}"))

            #expect(await dispatcher.purgeDelivered(now: at(86_399)).isEmpty, "nothing is old enough yet")
            let deleted = await dispatcher.purgeDelivered(now: at(86_401))
            #expect(deleted[tenant] == 2, "the delivered invoice and the request nobody took")
            let left = try await database.read(tenant: tenant) { try await $0.events() }.map(\.id)
            #expect(left == [failing, later], "the dead delivery's event and the one not handed out yet stay")
        }
    }
}
