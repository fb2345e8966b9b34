import CoreMetrics
import Foundation
import Prometheus
import SportelloApplication
import SportelloStore
import Synchronization

/// The process's metrics, in Prometheus' text format on `/metrics`.
///
/// Everything goes through swift-metrics (`Counter`, `Timer`, `Gauge`), whose global factory is bootstrapped
/// once per process with `registry` (`bootstrap()`, called by `buildApplication`). Library code counts with
/// `OperationsMetrics` (plugin calls, logins, reloads) without knowing about Prometheus.
public enum PortalMetrics {
    /// The registry `/metrics` prints.
    public static let registry = PrometheusCollectorRegistry()

    private static let bootstrapped: Bool = {
        var factory = PrometheusMetricsFactory(registry: registry)
        // Request latencies: from a cached page (a few ms) to a bcrypt login or a plugin call (seconds).
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
        ]
        MetricsSystem.bootstrap(factory)
        return true
    }()

    /// Points swift-metrics at `registry` (once per process; later calls do nothing).
    public static func bootstrap() { _ = bootstrapped }

    /// Metric names, shared with the tests and the README.
    public enum Name {
        public static let requests = "sportello_http_requests_total"
        public static let requestDuration = "sportello_http_request_duration_seconds"
        public static let databaseUp = "sportello_database_up"
        public static let unavailableResponses = "sportello_http_unavailable_total"
        public static let mailQueueDepth = "sportello_mail_queue_depth"
        public static let mailQueueOldestAge = "sportello_mail_queue_oldest_age_seconds"
        public static let eventQueueDepth = "sportello_event_queue_depth"
        public static let eventQueueOldestAge = "sportello_event_queue_oldest_age_seconds"
        public static let tenantsServed = "sportello_tenants_served"
    }

    /// Counts one answered request and its duration. `route` is the route pattern (`/invoices/:id`), never the path.
    static func request(tenant: String, method: String, route: String, status: Int, duration: Duration) {
        Counter(label: Name.requests, dimensions: [("tenant", tenant), ("method", method), ("route", route), ("status", String(status))])
            .increment()
        Timer(label: Name.requestDuration, dimensions: [("tenant", tenant), ("method", method), ("route", route)])
            .recordNanoseconds(duration.wholeNanoseconds)
        if status == 503 { Counter(label: Name.unavailableResponses, dimensions: [("tenant", tenant)]).increment() }
    }

    /// The text `/metrics` answers with.
    static func render() -> String { registry.emitToString() }
}

extension Duration {
    var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    var milliseconds: Double { Double(components.seconds) * 1_000 + Double(components.attoseconds) / 1e15 }
}

/// Samples the mail outbox and the event deliveries of every served tenant when `/metrics` is scraped, at most
/// once per `interval` (scrapes in between print the last sample): one aggregate query per tenant and queue.
final class QueueSampler: Sendable {
    let interval: Duration
    private let last = Mutex<ContinuousClock.Instant?>(nil)
    private let running = Mutex<Task<Void, Never>?>(nil)

    init(interval: Duration = .seconds(10)) { self.interval = interval }

    /// Samples now unless a sample is younger than `interval` (the database's availability is checked first, bounded;
    /// the queries themselves are not cut short, so no connection is left in use behind the scrape).
    func sampleIfStale(services: PortalServices, availability: DatabaseAvailability) async {
        let task: Task<Void, Never>? = running.withLock { running in
            if let running { return running }
            let fresh = last.withLock { $0.map { $0.duration(to: .now) < interval } ?? false }
            if fresh { return nil }
            let task = Task {
                await self.sample(services: services, availability: availability)
                self.running.withLock { $0 = nil }
            }
            running = task
            return task
        }
        await task?.value
    }

    private func sample(services: PortalServices, availability: DatabaseAvailability) async {
        let up = await availability.check()
        Gauge(label: PortalMetrics.Name.databaseUp).record(up ? 1 : 0)
        let tenants = services.tenants.ids
        Gauge(label: PortalMetrics.Name.tenantsServed).record(tenants.count)
        guard up else { return }
        let now = services.now
        for tenant in tenants {
            do {
                let (mail, events) = try await services.database.read(tenant: tenant, now: now) { transaction in
                    (try await transaction.outboxQueueStats(), try await transaction.eventQueueStats())
                }
                record(mail, depth: PortalMetrics.Name.mailQueueDepth, age: PortalMetrics.Name.mailQueueOldestAge, tenant: tenant, now: now)
                record(events, depth: PortalMetrics.Name.eventQueueDepth, age: PortalMetrics.Name.eventQueueOldestAge, tenant: tenant, now: now)
            } catch {
                services.logger.warning("queue sample failed", metadata: ["tenant": "\(tenant)", "error": "\(type(of: error))"])
            }
        }
        last.withLock { $0 = .now }
    }

    private func record(_ stats: QueueStats, depth: String, age: String, tenant: String, now: Int64) {
        Gauge(label: depth, dimensions: [("tenant", tenant)]).record(stats.pending)
        Gauge(label: age, dimensions: [("tenant", tenant)]).record(stats.oldestCreatedAt.map { max(0, now - $0) } ?? 0)
    }
}
