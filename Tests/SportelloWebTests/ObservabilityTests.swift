import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing
import SportelloApplication
import SportelloMail
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb
import SportelloTestSupport

/// Log lines written during a test, through the portal's own `LineLogHandler`.
final class CapturedLines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }

    func logger(format: LogFormat = .text) -> Logger {
        Logger(label: "sportello.http") { label in LineLogHandler(label: label, format: format, sink: { self.append($0) }) }
    }
}

/// The value of the sample `name{labels}` in a Prometheus text exposition (0 when absent).
func metricValue(_ exposition: String, _ name: String, _ labels: [(String, String)] = []) -> Double {
    let key = labels.isEmpty ? name : "\(name){" + labels.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",") + "}"
    for line in exposition.split(separator: "\n") where line.hasPrefix(key + " ") {
        return Double(line.dropFirst(key.count + 1)) ?? 0
    }
    return 0
}

private let knownPassword = "Vecchia2026!"

/// What `/metrics` prints now (the operations listener, as Prometheus would scrape it).
func scrapeMetrics(_ services: PortalServices, _ operations: Operations) async throws -> String {
    try await Application(router: buildOperationsRouter(services: services, operations: operations)).test(.router) { client in
        try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
    }
}

@Suite("Observability: request ids, the request log, metrics, readiness")
struct ObservabilityTests {
    @Test("X-Request-Id: a safe one is echoed, an unsafe or missing one is replaced by a generated one, and the log line names it")
    func requestIdEchoedOrGenerated() async throws {
        try await PortalHarness.with(engine: .sqlite, tenant: "unogas") { portal in
            let lines = CapturedLines()
            let operations = Operations(services: portal.services, options: OperationsOptions(requestLogger: lines.logger()))
            try await buildApplication(services: portal.services, operations: operations).test(.router) { client in
                func requestId(sending value: String?) async throws -> String? {
                    var headers = HTTPFields()
                    if let value { headers[RequestID.header] = value }
                    return try await client.execute(uri: "/login", method: .get, headers: headers) { $0.headers[RequestID.header] }
                }
                #expect(try await requestId(sending: "edge-7f3a.b_2:1") == "edge-7f3a.b_2:1")
                let generated = try #require(try await requestId(sending: nil))
                #expect(generated.count == 16 && generated.allSatisfy(\.isHexDigit))
                #expect(try await requestId(sending: nil) != generated)
                for unsafe in ["has space", "semi;colon", "<script>", String(repeating: "a", count: 65)] {
                    let answer = try #require(try await requestId(sending: unsafe))
                    #expect(answer != unsafe && answer.count == 16, "\(unsafe) replaced")
                }
                // Every answer carries one, errors included (an unknown route, the unknown-host page).
                #expect(try await client.execute(uri: "/no/such/page", method: .get) { $0.headers[RequestID.header] } != nil)
            }
            #expect(lines.all.contains { $0.contains("request_id=edge-7f3a.b_2:1") && $0.contains("route=/login") })
        }
    }

    @Test("The request log: one line per request with method, route pattern, status, duration, tenant and request id; no e-mail, password, token or query string",
          arguments: TestEngine.available)
    func requestLogHasNoPersonalData(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let lines = CapturedLines()
            let operations = Operations(services: portal.services, options: OperationsOptions(requestLogger: lines.logger()))
            let customer = try await portal.abuseCustomer()
            let user = try await portal.abuseUser(customer, role: "referente_amministratore")
            let wrongPassword = "WrongPass-\(UUID().uuidString.prefix(6))", linkToken = "tok3n-in-query-\(UUID().uuidString.prefix(6))"
            let token = try await buildApplication(services: portal.services, operations: operations).test(.router) { client in
                let wrong = try await abuseCall(client, .post, "/api/v1/session", body: ["identifier": user.username, "password": wrongPassword])
                #expect(wrong.status == .unauthorized)
                let right = try await abuseCall(client, .post, "/api/v1/session", body: ["identifier": user.username, "password": knownPassword])
                #expect(right.status == .created)
                let token = try #require(right.json["token"] as? String)
                #expect(try await abuseCall(client, .get, "/api/v1/me", token: token).status == .ok)
                // A link's token in the query string (an invitation, a recovery link) never reaches the log.
                _ = try await client.execute(uri: "/login?t=\(linkToken)&next=/invoices", method: .get)
                return token
            }
            let secrets = [user.username, knownPassword, wrongPassword, linkToken, token]
            let logged = lines.all
            #expect(logged.count == 4, "one line per request: \(logged)")
            let tenant = portal.definition.id
            #expect(logged.contains { $0.contains("method=POST") && $0.contains("route=/api/v1/session") && $0.contains("status=401") && $0.contains("tenant=\(tenant)") })
            #expect(logged.contains { $0.contains("route=/api/v1/session") && $0.contains("status=201") })
            #expect(logged.contains { $0.contains("route=/api/v1/me") && $0.contains("status=200") })
            #expect(logged.allSatisfy { $0.contains("request_id=") && $0.contains("duration_ms=") && $0.contains(" info sportello.http: request ") })
            let localPart = String(user.username.split(separator: "@").first ?? "")
            for line in logged {
                for secret in secrets + [localPart] { #expect(!line.contains(secret), "the log line \(line) holds a secret or personal datum") }
                #expect(!line.contains("?"), "no query string: \(line)")
            }
        }
    }

    @Test("--log-format json: one JSON object per line with the same fields")
    func jsonRequestLog() async throws {
        try await PortalHarness.with(engine: .sqlite, tenant: "unogas") { portal in
            let lines = CapturedLines()
            let operations = Operations(services: portal.services, options: OperationsOptions(requestLogger: lines.logger(format: .json)))
            try await buildApplication(services: portal.services, operations: operations).test(.router) { client in
                _ = try await client.execute(uri: "/login", method: .get)
            }
            let line = try #require(lines.all.first)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["message"] as? String == "request")
            #expect(object["route"] as? String == "/login")
            #expect(object["status"] as? Int == 200)
            #expect(object["tenant"] as? String == portal.definition.id)
            #expect(object["duration_ms"] is Double)
            #expect((object["request_id"] as? String)?.count == 16)
            #expect(object["level"] as? String == "info")
        }
    }

    @Test("A handler's unexpected error is a 500 naming the request id, logged with the error's type; the body says nothing else")
    func internalErrorNamesRequestId() async throws {
        struct Boom: Error {}
        try await PortalHarness.with(engine: .sqlite, tenant: "unogas") { portal in
            let lines = CapturedLines()
            let operations = Operations(services: portal.services, options: OperationsOptions(requestLogger: lines.logger()))
            let router = buildRouter(services: portal.services, operations: operations)
            router.get("/_boom") { _, _ -> Response in throw Boom() }
            let app = Application(router: ObservedRouter(router: router, services: portal.services, operations: operations))
            try await app.test(.router) { client in
                var headers = HTTPFields()
                headers[RequestID.header] = "boom-1"
                try await client.execute(uri: "/_boom", method: .get, headers: headers) { response in
                    #expect(response.status == .internalServerError)
                    #expect(response.headers[RequestID.header] == "boom-1")
                    #expect(String(buffer: response.body).contains("boom-1"))
                }
            }
            let line = try #require(lines.all.first { $0.contains("request_id=boom-1") })
            #expect(line.contains(" error sportello.http: request failed ") && line.contains("status=500") && line.contains("Boom"))
        }
    }

    @Test("/metrics: requests by tenant, route and status, latency histograms, logins, queues, plugin calls, reloads; not on the portal's own listener")
    func metricsAfterRequests() async throws {
        try await PortalHarness.with(engine: .sqlite, tenant: "unidata") { portal in
            let operations = Operations(services: portal.services, options: OperationsOptions(logRequests: false))
            let tenant = portal.definition.id
            let customer = try await portal.abuseCustomer()
            let user = try await portal.abuseUser(customer, role: "referente_amministratore")
            let before = try await scrapeMetrics(portal.services, operations)
            let plugin = "http://127.0.0.1:1"
            try await buildApplication(services: portal.services, operations: operations).test(.router) { client in
                for _ in 0..<3 { _ = try await client.execute(uri: "/login", method: .get) }
                _ = try await abuseCall(client, .post, "/api/v1/session", body: ["identifier": user.username, "password": "nope-\(UUID())"])
                _ = try await abuseCall(client, .post, "/api/v1/session", body: ["identifier": user.username, "password": knownPassword])
                // The portal's listener has no /metrics.
                #expect(try await client.execute(uri: "/metrics", method: .get) { $0.status } == .notFound)
            }
            // A plugin call that fails (nothing listens on port 1) is counted by the client itself.
            let client = PluginHTTPClient(timeouts: nil, signature: PluginSignature(secret: "s"))
            await #expect(throws: PluginCallError.self) { _ = try await client.postJSON("\(plugin)/x", body: Data("{}".utf8)) }
            OperationsMetrics.reload(outcome: .rejected, tenant: tenant)
            let after = try await scrapeMetrics(portal.services, operations)

            func delta(_ name: String, _ labels: [(String, String)]) -> Double { metricValue(after, name, labels) - metricValue(before, name, labels) }
            #expect(delta(PortalMetrics.Name.requests, [("tenant", tenant), ("method", "GET"), ("route", "/login"), ("status", "200")]) == 3)
            #expect(delta(PortalMetrics.Name.requests, [("tenant", tenant), ("method", "POST"), ("route", "/api/v1/session"), ("status", "401")]) == 1)
            #expect(delta(PortalMetrics.Name.requestDuration + "_count", [("tenant", tenant), ("method", "GET"), ("route", "/login")]) == 3)
            #expect(after.contains("\(PortalMetrics.Name.requestDuration)_bucket{tenant=\"\(tenant)\",method=\"GET\",route=\"/login\",le=\"0.005\"}"))
            #expect(delta(OperationsMetrics.Name.logins, [("tenant", tenant), ("outcome", "failed")]) == 1)
            #expect(delta(OperationsMetrics.Name.logins, [("tenant", tenant), ("outcome", "ok")]) == 1)
            #expect(delta(OperationsMetrics.Name.pluginCalls, [("plugin", plugin), ("outcome", "unreachable")]) == 1)
            #expect(delta(OperationsMetrics.Name.reloads, [("tenant", tenant), ("outcome", "rejected")]) == 1)
            #expect(after.contains("\(PortalMetrics.Name.mailQueueDepth){tenant=\"\(tenant)\"}"))
            #expect(after.contains("\(PortalMetrics.Name.eventQueueOldestAge){tenant=\"\(tenant)\"}"))
            #expect(metricValue(after, PortalMetrics.Name.databaseUp) == 1)
            // No user, address or path with ids among the labels.
            #expect(!after.contains(user.username))
        }
    }

    @Test("A locked account's right password is refused like a wrong one, and only the metric says `locked`")
    func lockedLoginsCounted() async throws {
        try await PortalHarness.with(engine: .sqlite, tenant: "tunda") { portal in
            let operations = Operations(services: portal.services, options: OperationsOptions(logRequests: false))
            let tenant = portal.definition.id
            let user = try await portal.abuseUser(try await portal.abuseCustomer(), role: "main_account")
            let attempts = try #require(portal.definition.login.lockout?.maxAttempts)
            let before = try await scrapeMetrics(portal.services, operations)
            let (wrong, right) = try await buildApplication(services: portal.services, operations: operations).test(.router) { client in
                for _ in 0..<attempts {
                    _ = try await abuseCall(client, .post, "/api/v1/session", body: ["identifier": user.username, "password": "nope-\(UUID())"])
                }
                let wrong = try await abuseCall(client, .post, "/api/v1/session", body: ["identifier": user.username, "password": "nope-\(UUID())"])
                let right = try await abuseCall(client, .post, "/api/v1/session", body: ["identifier": user.username, "password": knownPassword])
                return (wrong, right)
            }
            #expect(right.status == .unauthorized && right.status == wrong.status, "the same answer as a wrong password")
            let after = try await scrapeMetrics(portal.services, operations)
            func delta(_ outcome: String) -> Double {
                metricValue(after, OperationsMetrics.Name.logins, [("tenant", tenant), ("outcome", outcome)])
                    - metricValue(before, OperationsMetrics.Name.logins, [("tenant", tenant), ("outcome", outcome)])
            }
            #expect(delta("locked") == 1 && delta("failed") == Double(attempts + 1) && delta("ok") == 0)
        }
    }

    @Test("The mail queue's depth and oldest age are those of the outbox")
    func mailQueueSampled() async throws {
        try await PortalHarness.with(engine: .sqlite, tenant: "unogas") { portal in
            let tenant = portal.definition.id
            let now = portal.services.now
            for age in [30, 600] as [Int64] {
                try await portal.database.write(tenant: tenant, now: now) { transaction in
                    _ = try await transaction.enqueueMail(OutboxRecord(createdAt: now - age, kind: "test", recipient: uniqueEmail("q"), subject: "s",
                                                                       bodyText: "b", status: .pending, attempts: 0, nextAttemptAt: now))
                }
            }
            let operations = Operations(services: portal.services)
            let metrics = try await scrapeMetrics(portal.services, operations)
            #expect(metricValue(metrics, PortalMetrics.Name.mailQueueDepth, [("tenant", tenant)]) == 2)
            #expect(metricValue(metrics, PortalMetrics.Name.mailQueueOldestAge, [("tenant", tenant)]) == 600)
        }
    }

    @Test("/ready lists its checks and accepts more; one failing check makes it a 503 naming it")
    func readinessChecks() async throws {
        try await PortalHarness.with(engine: .sqlite, tenant: "unogas") { portal in
            let operations = Operations(services: portal.services)
            try await buildApplication(services: portal.services, operations: operations).test(.router) { client in
                let ready = try await abuseCall(client, .get, "/ready")
                #expect(ready.status == .ok)
                #expect((ready.json["checks"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["database", "tenants"])
                operations.readiness.add("tenant_reload") { .notReady("tenants/broken.yaml failed validation") }
                let notReady = try await abuseCall(client, .get, "/ready")
                #expect(notReady.status == .serviceUnavailable)
                #expect(notReady.json["failing"] as? [String] == ["tenant_reload"])
                #expect(notReady.headers[.retryAfter] != nil)
            }
        }
    }
}

/// Runs `psql` with the PostgreSQL superuser of the test run (`SPORTELLO_TEST_POSTGRES_ADMIN_URL`).
func adminSQL(_ statements: String...) throws {
    let admin = try #require(ProcessInfo.processInfo.environment["SPORTELLO_TEST_POSTGRES_ADMIN_URL"], "no PostgreSQL admin URL")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["psql", admin, "-q", "-v", "ON_ERROR_STOP=1"] + statements.flatMap { ["-c", $0] }
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    try #require(process.terminationStatus == 0, "psql failed: \(statements)")
}

@Suite("A database outage: bounded 503s with Retry-After, /ready reflects it, recovery is automatic")
struct DatabaseOutageTests {
    /// The portal of a fresh copy of `unogas` on `database`.
    static func services(_ database: Database) throws -> PortalServices {
        let templates = repositoryRoot.appendingPathComponent("templates")
        var definition = try #require(providerTenants["unogas"])
        definition.id = uniqueTenant("unogas")
        definition.hosts = ["localhost"]
        let tenant = PortalTenant(definition: definition, theme: try PortalTheme.load(root: templates, tenantId: "unogas"))
        return PortalServices(configuration: WebConfiguration(templatesDirectory: templates), database: database,
                              tenants: TenantRegistry([tenant]), passwords: BcryptPasswordHasher(cost: 4), mail: try MailTemplates(root: templates))
    }

    /// A generous bound: a hang guard, not a performance target (the answer comes after about twice the 0.5 s timeout).
    static let bound: Duration = .seconds(15)

    @Test("Requests and /ready answer 503 (JSON on the API, the tenant's page in its language) within the bound while the database does not answer",
          arguments: TestEngine.available)
    func outage(engine: TestEngine) async throws {
        let lines = CapturedLines()
        let options = OperationsOptions(databaseTimeout: .milliseconds(500), requestLogger: lines.logger())
        switch engine {
        case .sqlite:
            // Every connection of the pool gone: a request waits for one that never comes (as behind a dead server).
            let database = try await openTestDatabase(try engine.location())
            _ = try await database.migrate()
            let services = try Self.services(database)
            let operations = Operations(services: services, options: options)
            try await buildApplication(services: services, operations: operations).test(.router) { client in
                // Healthy first (a loaded machine may take longer than the short timeout for one probe: ask again).
                var ready = try await abuseCall(client, .get, "/ready").status
                for _ in 0..<20 where ready != .ok {
                    try await Task.sleep(for: .milliseconds(500))
                    ready = try await abuseCall(client, .get, "/ready").status
                }
                #expect(ready == .ok)
                await database.close()
                try await Self.expectUnavailable(client, lines: lines)
            }
        case .postgres:
            // A database of its own, then closed to connections with its sessions ended (as a server going down),
            // then opened again.
            let base = try #require(ProcessInfo.processInfo.environment["SPORTELLO_TEST_POSTGRES_URL"])
            let name = "sportello_outage_\(UUID().uuidString.prefix(8).lowercased())"
            try adminSQL("CREATE DATABASE \(name) OWNER sportello")
            var url = try #require(URLComponents(string: base))
            url.path = "/\(name)"
            let database = try await openTestDatabase(.postgres(url: try #require(url.string)))
            do {
                _ = try await database.migrate()
                let services = try Self.services(database)
                let operations = Operations(services: services, options: options)
                try await buildApplication(services: services, operations: operations).test(.router) { client in
                    var ready = try await abuseCall(client, .get, "/ready").status
                    for _ in 0..<20 where ready != .ok {
                        try await Task.sleep(for: .milliseconds(500))
                        ready = try await abuseCall(client, .get, "/ready").status
                    }
                    #expect(ready == .ok)
                    try adminSQL("ALTER DATABASE \(name) ALLOW_CONNECTIONS false",
                                 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)'")
                    try await Self.expectUnavailable(client, lines: lines)
                    try adminSQL("ALTER DATABASE \(name) ALLOW_CONNECTIONS true")
                    // Recovery: the pool reconnects on its own (its back-off grows with the outage's length).
                    let clock = ContinuousClock()
                    let started = clock.now
                    var status = HTTPResponse.Status.serviceUnavailable
                    while status != .ok && started.duration(to: clock.now) < .seconds(90) {
                        try await Task.sleep(for: .milliseconds(250))
                        status = try await abuseCall(client, .get, "/ready").status
                    }
                    #expect(status == .ok, "/ready recovered")
                    let login = try await abuseCall(client, .post, "/api/v1/session", body: ["identifier": "nobody@example.it", "password": "x"])
                    #expect(login.status == .unauthorized, "requests are served again")
                }
            } catch {
                await database.close()
                try? adminSQL("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
                throw error
            }
            await database.close()
            try adminSQL("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
    }

    /// The API, a page and /ready all answer 503 within the bound, and the failures are logged.
    static func expectUnavailable(_ client: some TestClientProtocol, lines: CapturedLines) async throws {
        let clock = ContinuousClock()
        var started = clock.now
        // An API call that reaches the database (the login looks the account up).
        let api = try await abuseCall(client, .post, "/api/v1/session", body: ["identifier": "someone@example.it", "password": "x"])
        #expect(started.duration(to: clock.now) < bound)
        #expect(api.status == .serviceUnavailable)
        #expect(api.errorCode == "unavailable")
        #expect(api.headers[.retryAfter] == "5")
        // A page whose session cookie must be looked up: the tenant's error page, in Italian (its default locale).
        started = clock.now
        var headers = HTTPFields()
        headers[.cookie] = "sportello_session=\(String(repeating: "x", count: 43))"
        try await client.execute(uri: "/dashboard", method: .get, headers: headers) { response in
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers[.retryAfter] == "5")
            #expect(String(buffer: response.body).contains("Servizio momentaneamente non disponibile"))
        }
        #expect(started.duration(to: clock.now) < bound)
        started = clock.now
        let ready = try await abuseCall(client, .get, "/ready")
        #expect(started.duration(to: clock.now) < bound)
        #expect(ready.status == .serviceUnavailable)
        #expect(ready.json["failing"] as? [String] == ["database"])
        #expect(lines.all.contains { $0.contains("status=503") && $0.contains("route=/api/v1/session") })
    }
}
