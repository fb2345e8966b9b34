import Foundation
import Hummingbird
import Logging
import NIOCore
import SportelloApplication
import Synchronization

/// How the portal reports on itself and fails when the database does not answer (`sportello serve` sets these
/// from its flags and the environment; the defaults suit the tests).
public struct OperationsOptions: Sendable {
    /// How long a request may wait on the database before it is probed; a probe gets as long again. A request
    /// stuck behind an unreachable database is answered 503 within about twice this. `serve` sets 3 s
    /// (`ServeSettings`); the 30 s default suits tests and benchmarks, whose load can keep a pool busy for seconds.
    public var databaseTimeout: Duration
    /// The `Retry-After` of a 503 (seconds).
    public var retryAfterSeconds: Int
    /// Where the one-line-per-request log goes (label `sportello.http`).
    public var requestLogger: Logger
    /// Write the request log line (tests that make thousands of requests may turn it off).
    public var logRequests: Bool

    public init(databaseTimeout: Duration = .seconds(30), retryAfterSeconds: Int = 5,
                requestLogger: Logger = Logger(label: "sportello.http"), logRequests: Bool = true) {
        self.databaseTimeout = databaseTimeout
        self.retryAfterSeconds = retryAfterSeconds
        self.requestLogger = requestLogger
        self.logRequests = logRequests
    }
}

extension OperationsOptions {
    /// The defaults, with the request log at `warning`: only failed requests (500, 503) are written.
    public static var quiet: OperationsOptions {
        var logger = Logger(label: "sportello.http")
        logger.logLevel = .warning
        return OperationsOptions(requestLogger: logger)
    }
}

/// What one portal instance shares between its request handling, `/ready` and `/metrics`: the database's
/// availability, the readiness checks (others add theirs) and the queue sampler.
public final class Operations: Sendable {
    public let options: OperationsOptions
    public let availability: DatabaseAvailability
    public let readiness: ReadinessChecks
    let queues: QueueSampler
    private let reloader = Mutex<TenantReloader?>(nil)

    /// The portal's own readiness checks: `database` (answers within the timeout) and `tenants` (at least one served).
    public init(services: PortalServices, options: OperationsOptions = OperationsOptions(),
                availability: DatabaseAvailability? = nil) {
        PortalMetrics.bootstrap()
        self.options = options
        let availability = availability ?? DatabaseAvailability(database: services.database, timeout: options.databaseTimeout)
        self.availability = availability
        readiness = ReadinessChecks(timeout: options.databaseTimeout + .seconds(1))
        queues = QueueSampler()
        readiness.add("database") {
            await availability.check() ? .ready : .notReady("the database does not answer within \(availability.timeout)")
        }
        let tenants = services.tenants
        readiness.add("tenants") {
            tenants.count == 0 ? .notReady("no tenant is served") : .ready
        }
    }

    /// Serves `POST /reload` on the operations listener with `reloader`, and makes `/ready`'s `tenants` check name
    /// the files its last reload kept out.
    public func attach(_ reloader: TenantReloader) {
        self.reloader.withLock { $0 = reloader }
        let registry = reloader.registry
        readiness.add("tenants") {
            let served = registry.count
            guard served > 0 else { return .notReady("no tenant is served" + Self.rejections(reloader.report)) }
            let summary = "\(served) tenant(s) served, set \(reloader.report?.digest.prefix(12) ?? "-")"
            guard let report = reloader.report, !report.rejected.isEmpty else { return .readyNoting(summary) }
            return .readyNoting(summary + Self.rejections(report))
        }
    }

    private static func rejections(_ report: TenantReloadReport?) -> String {
        guard let report, !report.rejected.isEmpty else { return "" }
        return "; rejected: " + report.rejected.map { "\($0.file) (\($0.keptLastGood ? "last good version serving" : "not served"))" }
            .joined(separator: ", ")
    }

    /// `POST /reload`: reloads now and answers the report (404 when this server does not reload its tenants).
    func reloadResponse() async -> Response {
        guard let reloader = reloader.withLock({ $0 }) else {
            return API.json(["error": "this server does not reload its tenants"], status: .notFound)
        }
        return API.json(await reloader.reload(trigger: "sportello reload"), status: .ok)
    }

    /// `/ready`: 200 when every check passes, else 503; a JSON body lists the checks and names the failing ones.
    func readyResponse() async -> Response {
        let results = await readiness.run()
        let failing = results.filter { !$0.ready }.map(\.name)
        let report = ReadinessReport(ready: failing.isEmpty, checks: results, failing: failing)
        var response = API.json(report, status: failing.isEmpty ? .ok : .serviceUnavailable)
        if !failing.isEmpty { response.headers[.retryAfter] = String(options.retryAfterSeconds) }
        return response
    }

    /// `/metrics`: samples the queues when the last sample is old, then prints every metric.
    func metricsResponse(services: PortalServices) async -> Response {
        await queues.sampleIfStale(services: services, availability: availability)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(string: PortalMetrics.render())))
    }
}

/// The routes of the operations listener (`--metrics-port`): `/metrics`, `/health` and `/ready`, for Prometheus
/// and probes on a private address; none of them on the portal's own listener but `/health` and `/ready`.
public func buildOperationsRouter(services: PortalServices, operations: Operations) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.get("/metrics") { _, _ in await operations.metricsResponse(services: services) }
    router.get("/health") { _, _ in Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok"))) }
    router.get("/ready") { _, _ in await operations.readyResponse() }
    router.post("/reload") { _, _ in await operations.reloadResponse() }
    return router
}

/// The operations listener on `hostname:port` (see `buildOperationsRouter`), run beside the portal by `sportello serve`.
public func buildOperationsApplication(services: PortalServices, operations: Operations, hostname: String, port: Int) -> some ApplicationProtocol {
    Application(router: buildOperationsRouter(services: services, operations: operations),
                configuration: .init(address: .hostname(hostname, port: port), serverName: "Sportello-ops"),
                logger: services.logger)
}
