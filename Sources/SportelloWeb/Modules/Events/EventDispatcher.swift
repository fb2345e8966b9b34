import Foundation
import Logging
import ServiceLifecycle
import SportelloApplication
import SportelloCore
import SportelloStore

/// What one dispatch pass did.
public struct EventDispatchReport: WorkerPassReport, Equatable {
    /// One event's delivery to one consumer.
    public struct Delivery: Sendable, Hashable, CustomStringConvertible {
        public var tenant: String
        public var eventId: Int64
        public var consumer: String
        public var description: String { "\(tenant)#\(eventId)→\(consumer)" }
    }

    /// Events whose deliveries were created this pass.
    public var fannedOut = 0
    /// Confirmed by their consumer.
    public var delivered: [Delivery] = []
    /// Failed, tried again later.
    public var deferred: [Delivery] = []
    /// Failed for the last time: now dead.
    public var dead: [Delivery] = []
    /// Tenants whose events could not be read or updated (database errors).
    public var tenantErrors: [String] = []

    public init() {}

    public var isEmpty: Bool { fannedOut == 0 && delivered.isEmpty && deferred.isEmpty && dead.isEmpty && tenantErrors.isEmpty }

    public var description: String {
        "\(fannedOut) event(s) handed out, \(delivered.count) delivered, \(deferred.count) deferred, \(dead.count) dead"
            + (tenantErrors.isEmpty ? "" : ", errors in \(tenantErrors.joined(separator: ", "))")
    }
}

/// Delivers recorded domain events to the modules' consumers, at least once, a customer's events to each consumer in
/// the order they happened: a `Service` for the server's `ServiceGroup` (a pass every `pollInterval`, a retention
/// purge every `purgeInterval`), and `deliverDue(now:)` for tests and `sportello events deliver`.
///
/// Each pass, per tenant (one transaction at a time, so the PostgreSQL fence applies as for the mail worker):
/// 1. events not yet handed out get one pending delivery per consumer that `accepts` them;
/// 2. a short transaction claims due deliveries under a lease (`claimed_until`, attempts + 1): only the first pending
///    delivery of each customer to each consumer is due, so a customer's later events wait behind an earlier one
///    that is failing, while other customers' events go on;
/// 3. each claimed event goes to its consumer with no transaction open, and the outcome is written in another short
///    transaction: delivered; or tried again after 30 s × 2^(attempts − 1), at most an hour, plus up to 10 % jitter;
///    or dead after `maxAttempts` attempts (a consumer's own schedule, a webhook manifest's `retry:`, wins) (or at once for a permanent `EventDeliveryFailure`), with the failure's code
///    and message (never personal data) in `last_error`.
///
/// A process killed mid-delivery leaves its claims leased: after the lease another pass takes them again (the
/// consumer may see that event twice, never lose it). Logs name tenants, event ids, types and consumers only.
public final class EventDispatcher: Service {
    public struct Settings: Sendable {
        public var pollInterval: Duration
        /// Seconds a claimed delivery is left to its dispatcher before another may take it again.
        public var lease: Int64
        /// Deliveries claimed per transaction.
        public var batchSize: Int
        public var firstRetryDelay: Int64
        public var maximumRetryDelay: Int64
        /// Attempts after which a delivery is dead.
        public var maxAttempts: Int
        /// Delivered events older than this (seconds) are deleted by `purgeDelivered` (30 days).
        public var retention: Int64
        public var purgeInterval: Duration

        public init(pollInterval: Duration = .seconds(5), lease: Int64 = 120, batchSize: Int = 50, firstRetryDelay: Int64 = 30,
                    maximumRetryDelay: Int64 = 3600, maxAttempts: Int = 10, retention: Int64 = 30 * 86_400,
                    purgeInterval: Duration = .seconds(86_400)) {
            self.pollInterval = pollInterval; self.lease = lease; self.batchSize = batchSize; self.firstRetryDelay = firstRetryDelay
            self.maximumRetryDelay = maximumRetryDelay; self.maxAttempts = maxAttempts; self.retention = retention
            self.purgeInterval = purgeInterval
        }

        /// The retry schedule of consumers without their own (`EventConsumer.retrySchedule(over:)`).
        public var schedule: RetrySchedule {
            RetrySchedule(firstDelay: firstRetryDelay, maximumDelay: maximumRetryDelay, maxAttempts: maxAttempts)
        }
    }

    private let database: Database
    private let consumers: [String: any EventConsumer]
    private let tenants: @Sendable () async -> [String]
    private let clock: any WallClock
    private let random: any SecureRandomSource
    public let settings: Settings
    private let logger: Logger
    private let loop: WorkerLoop

    /// - Parameters:
    ///   - consumers: the consumers to deliver to (ids must be unique; the first of two with one id wins).
    ///   - tenants: the tenant ids to deliver for, asked at every pass.
    ///   - random: the jitter source.
    public init(database: Database, consumers: [any EventConsumer], tenants: @escaping @Sendable () async -> [String],
                clock: any WallClock = SystemWallClock(), random: any SecureRandomSource = SystemSecureRandom(),
                settings: Settings = Settings(), logger: Logger = Logger(label: "sportello.events")) {
        self.database = database
        self.consumers = Dictionary(consumers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.tenants = tenants; self.clock = clock; self.random = random; self.settings = settings; self.logger = logger
        loop = WorkerLoop(name: "event delivery", logger: logger)
    }

    /// The dispatcher of the portal: every module's consumers, every served tenant, the portal's database and clock.
    public convenience init(services: PortalServices, settings: Settings = Settings()) {
        let registry = services.tenants
        self.init(database: services.database, consumers: services.catalog.modules.flatMap(\.eventConsumers),
                  tenants: { registry.ids }, clock: services.clock, random: services.random, settings: settings)
    }

    /// The ids of the consumers delivered to.
    public var consumerIds: [String] { consumers.keys.sorted() }

    /// Starts a pass now instead of at the next poll.
    public func wake() { loop.wake() }

    /// Ends `run()` after the delivery under way; passes under way stop there and give back what they claimed.
    public func stop() { loop.stop() }

    private var isStopping: Bool { loop.isStopping }

    /// Passes until the task is cancelled or the service group shuts down gracefully, with a purge of old delivered
    /// events at start and every `purgeInterval`.
    public func run() async throws {
        var lastPurge: ContinuousClock.Instant?
        await loop.run(every: settings.pollInterval, metadata: ["consumers": "\(consumerIds.joined(separator: ","))"]) {
            if lastPurge.map({ $0.duration(to: .now) >= settings.purgeInterval }) ?? true {
                _ = await purgeDelivered()
                lastPurge = .now
            }
            return await deliverDue()
        }
    }

    private func seconds(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970.rounded(.down)) }

    private func instant(_ fixed: Date?) -> Int64 { seconds(fixed ?? clock.now()) }

    /// One pass over every tenant: hands out new events, then delivers what is due at `now` (default: the clock)
    /// until nothing more is.
    public func deliverDue(now: Date? = nil) async -> EventDispatchReport {
        await loop.pass(over: await tenants(), into: EventDispatchReport()) { tenant, report in
            try await dispatch(tenant: tenant, now: now, into: &report)
        }
    }

    private func dispatch(tenant: String, now fixed: Date?, into report: inout EventDispatchReport) async throws {
        let consumers = consumers
        while !isStopping {
            let taken = try await database.write(tenant: tenant, now: instant(fixed)) { transaction in
                try await transaction.fanOutEvents(limit: 500) { event in
                    consumers.values.filter { $0.accepts(event) }.map(\.id)
                }
            }
            report.fannedOut += taken
            if taken < 500 { break }
        }
        let ids = consumerIds
        guard !ids.isEmpty else { return }
        let limit = settings.batchSize, lease = settings.lease
        // A pass ends when nothing is due; the bound only guards against a consumer that keeps its retries due at once.
        var rounds = 0
        while !isStopping && rounds < 10_000 {
            rounds += 1
            let claimed = try await database.write(tenant: tenant, now: instant(fixed)) { transaction in
                try await transaction.claimDueDeliveries(consumers: ids, limit: limit, lease: lease)
            }
            guard !claimed.isEmpty else { return }
            for (index, item) in claimed.enumerated() {
                if isStopping {
                    let rest = claimed[index...].map(\.delivery)
                    try await database.write(tenant: tenant, now: instant(fixed)) { transaction in
                        for delivery in rest { try await transaction.releaseDelivery(delivery) }
                    }
                    return
                }
                try await deliver(item, tenant: tenant, now: fixed, into: &report)
            }
        }
    }

    private func deliver(_ item: ClaimedDelivery, tenant: String, now fixed: Date?, into report: inout EventDispatchReport) async throws {
        let delivery = item.delivery, event = item.event
        let reference = EventDispatchReport.Delivery(tenant: tenant, eventId: event.id, consumer: delivery.consumer)
        let metadata: Logger.Metadata = ["tenant": "\(tenant)", "event": "\(event.id)", "type": "\(event.type)",
                                         "consumer": "\(delivery.consumer)", "attempt": "\(delivery.attempts)"]
        var outcome: EventDeliveryOutcome
        do {
            guard let consumer = consumers[delivery.consumer] else {
                throw EventDeliveryFailure(code: "no_consumer", message: "no consumer \(delivery.consumer) in this process")
            }
            try await consumer.deliver(event)
            outcome = .delivered
        } catch {
            let text = EventDeliveryFailure.storedText(for: error)
            let permanent = (error as? EventDeliveryFailure)?.isPermanent ?? false
            let schedule = consumers[delivery.consumer]?.retrySchedule(over: settings.schedule) ?? settings.schedule
            if permanent || schedule.givesUp(afterAttempt: delivery.attempts) {
                outcome = .dead(error: text)
            } else {
                outcome = .retry(at: instant(fixed) + retryDelay(afterAttempt: delivery.attempts, schedule: schedule), error: text)
            }
        }
        let recorded = outcome
        let settled = try await database.write(tenant: tenant, now: instant(fixed)) { transaction in
            try await transaction.settleDelivery(delivery, recorded)
        }
        guard settled else {
            logger.notice("event delivery outcome dropped: the lease ran out and another pass took it", metadata: metadata)
            return
        }
        switch outcome {
        case .delivered:
            report.delivered.append(reference)
            logger.debug("event delivered", metadata: metadata)
        case .retry(let at, let error):
            report.deferred.append(reference)
            logger.notice("event delivery deferred", metadata: metadata.merging(["error": "\(error)", "next": "\(at)"]) { $1 })
        case .dead(let error):
            report.dead.append(reference)
            logger.warning("event delivery given up", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
    }

    /// 30 s × 2^(attempt − 1), at most an hour, plus up to 10 % jitter (with the default settings; `schedule`: a
    /// consumer's own).
    public func retryDelay(afterAttempt attempt: Int, schedule: RetrySchedule? = nil) -> Int64 {
        (schedule ?? settings.schedule).delay(afterAttempt: attempt, jitter: random.jitter())
    }

    /// Deletes, in every tenant, the events older than `settings.retention` at `now` that every consumer has taken;
    /// returns the counts by tenant (tenants with nothing deleted are absent). A tenant that fails is logged and skipped.
    @discardableResult
    public func purgeDelivered(now: Date? = nil) async -> [String: Int] {
        let cutoff = instant(now) - settings.retention
        var deleted: [String: Int] = [:]
        _ = await loop.forEachTenant(await tenants()) { tenant in
            let count = try await database.write(tenant: tenant, now: instant(now)) { transaction in
                try await transaction.purgeDeliveredEvents(occurredBefore: cutoff)
            }
            if count > 0 {
                deleted[tenant] = count
                logger.info("delivered events deleted", metadata: ["tenant": "\(tenant)", "count": "\(count)"])
            }
        }
        return deleted
    }
}
