import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloApplication
import SportelloCore
import SportelloMail
import SportelloStore
import SportelloWeb

/// The real SMTP sink the test script starts (aiosmtpd); nil when it did not, which skips mail tests
/// unless `SPORTELLO_REQUIRE_SMTP=1` makes that a failure.
public enum MailSink {
    public static var port: Int? { ProcessInfo.processInfo.environment["SPORTELLO_TEST_SMTP_PORT"].flatMap(Int.init) }
    public static var spool: URL? { ProcessInfo.processInfo.environment["SPORTELLO_TEST_SMTP_SPOOL"].map { URL(fileURLWithPath: $0) } }
    public static var isAvailable: Bool {
        port != nil || ProcessInfo.processInfo.environment["SPORTELLO_REQUIRE_SMTP"] == "1"
    }

    public struct Message: Decodable, Sendable {
        public var number: Int
        public var rcpt_tos: [String]
        public var subject: String?
        public var text: String?
    }

    /// Every message the sink received for `recipient`, oldest first.
    public static func messages(to recipient: String) throws -> [Message] {
        let spool = try #require(spool, "SPORTELLO_TEST_SMTP_SPOOL is not set: run the tests through scripts/test")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: spool.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().compactMap { name in
            guard let data = try? Data(contentsOf: spool.appendingPathComponent(name)),
                  let message = try? JSONDecoder().decode(Message.self, from: data) else { return nil }
            return message.rcpt_tos.contains { $0.lowercased() == recipient.lowercased() } ? message : nil
        }
    }
}

/// A portal for one tenant on a fresh (or shared, with a unique tenant id) database, served on
/// "localhost", with an injected clock and a delivery worker aimed at the real SMTP sink.
public final class PortalHarness: Sendable {
    public let tenant: PortalTenant
    public let services: PortalServices
    public let clock: ManualWallClock
    public let database: Database
    public let worker: MailDeliveryWorker?

    public static let start = Date(timeIntervalSince1970: TimeInterval(CalendarDay(year: 2026, month: 11, day: 21).startInstant + 12 * 3600))

    /// `catalog` and `storage` serve the tenant with other modules than the portal's own (a module of a test).
    /// `payments` connects payments plugins, `lookups` lookup plugins; `port` is the one the portal would listen on (the address the payment
    /// provider calls back; see `LivePortal`); `clockStart` the injected clock's first reading.
    public init(engine: TestEngine, tenant id: String, definition override: TenantDefinition? = nil,
         catalog: PortalCatalog = .standard, storage: [StorageModule] = PortalModules.storage,
         payments: PaymentGateways = .none, lookups: LookupServices = .none, port: Int = 8080,
         clockStart: Date = PortalHarness.start) async throws {
        var definition = try override ?? #require(providerTenants[id])
        definition.id = "\(id)-\(UUID().uuidString.prefix(8).lowercased())"
        definition.hosts = ["localhost"]
        let templates = repositoryRoot.appendingPathComponent("templates")
        tenant = PortalTenant(definition: definition, theme: try PortalTheme.load(root: templates, tenantId: id), catalog: catalog)
        clock = ManualWallClock(clockStart)
        database = try await openTestDatabase(try engine.location(), modules: storage)
        _ = try await database.migrate()
        let mail = try MailTemplates(root: templates)
        services = PortalServices(configuration: WebConfiguration(port: port, templatesDirectory: templates), database: database,
                                  tenants: TenantRegistry([tenant]), clock: clock, passwords: BcryptPasswordHasher(cost: 4), mail: mail,
                                  catalog: catalog, payments: payments, lookups: lookups)
        if let port = MailSink.port {
            let tenantId = definition.id
            worker = MailDeliveryWorker(database: database, smtp: try SMTPConfiguration(url: "smtp://127.0.0.1:\(port)"),
                                        tenants: { [tenantId] }, clock: clock)
        } else {
            worker = nil
        }
    }

    public func close() async { await database.close() }

    /// Runs `body` with a portal and always closes its database.
    public static func with(engine: TestEngine, tenant: String, definition: TenantDefinition? = nil,
                     catalog: PortalCatalog = .standard, storage: [StorageModule] = PortalModules.storage,
                     _ body: (PortalHarness) async throws -> Void) async throws {
        let portal = try await PortalHarness(engine: engine, tenant: tenant, definition: definition, catalog: catalog, storage: storage)
        do {
            try await body(portal)
        } catch {
            await portal.close()
            throw error
        }
        await portal.close()
    }

    public var definition: TenantDefinition { tenant.definition }

    /// Delivers the outbox through the real SMTP relay and returns the newest message to `recipient`.
    public func mail(to recipient: String, sentSince before: Int = 0) async throws -> MailSink.Message {
        let worker = try #require(worker, "no SMTP sink: run the tests through scripts/test")
        _ = await worker.deliverDue()
        for _ in 0..<100 {
            let messages = try MailSink.messages(to: recipient)
            if messages.count > before, let last = messages.last { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("no mail to \(recipient) arrived at the SMTP sink")
        throw PortalError.notFound
    }

    public func withCustomer(_ customer: CustomerRecord) async throws -> Int64 {
        try await database.write(tenant: definition.id, now: Int64(clock.now().timeIntervalSince1970)) { try await $0.insertCustomer(customer) }
    }

    public func test(_ body: @escaping @Sendable (Browser) async throws -> Void) async throws {
        let app = buildApplication(services: services)
        try await app.test(.router) { client in
            try await body(Browser(client: client))
        }
    }
}

/// A tiny browser over the test client: keeps cookies, sends the CSRF token with every form.
public final class Browser: @unchecked Sendable {  // used from one test task at a time
    public let client: any TestClientProtocol
    public var cookies: [String: String] = [:]
    /// Cookies set with SameSite=Strict: a browser leaves them out of a navigation that starts on another site.
    public private(set) var strictCookies: Set<String> = []

    public init(client: any TestClientProtocol) { self.client = client }

    public struct Page: Sendable {
        public var status: HTTPResponse.Status
        public var location: String?
        public var body: String

        public init(status: HTTPResponse.Status, location: String?, body: String) {
            self.status = status; self.location = location; self.body = body
        }
    }

    public func get(_ path: String) async throws -> Page {
        try await send(path, method: .get, body: nil)
    }

    /// A GET as a browser makes it when the customer follows a link on another site (a payment page, webmail):
    /// SameSite=Strict cookies stay behind.
    public func getArrivingFromAnotherSite(_ path: String) async throws -> Page {
        try await send(path, method: .get, body: nil, leavingOut: strictCookies)
    }

    public func post(_ path: String, _ fields: [String: String]) async throws -> Page {
        if cookies["sportello_csrf"] == nil { _ = try await get("/login") }
        var all = fields
        all["_csrf"] = all["_csrf"] ?? cookies["sportello_csrf"] ?? ""
        let body = all.map { "\(escape($0.key))=\(escape($0.value))" }.joined(separator: "&")
        return try await send(path, method: .post, body: body)
    }

    /// Follows redirects (GET) until a page is returned.
    public func follow(_ page: Page) async throws -> Page {
        var current = page
        var hops = 0
        while let location = current.location, (300..<400).contains(Int(current.status.code)), hops < 10 {
            current = try await get(location)
            hops += 1
        }
        return current
    }

    private func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    private func send(_ path: String, method: HTTPRequest.Method, body: String?, leavingOut: Set<String> = []) async throws -> Page {
        var headers = HTTPFields()
        let sent = cookies.filter { !leavingOut.contains($0.key) }
        if !sent.isEmpty { headers[.cookie] = sent.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        if body != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        let response = try await client.execute(uri: path, method: method, headers: headers,
                                                body: body.map { ByteBuffer(string: $0) })
        for field in response.headers where field.name == .setCookie {
            let pair = field.value.split(separator: ";").first ?? ""
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard let name = parts.first else { continue }
            let value = parts.count > 1 ? String(parts[1]) : ""
            if value.isEmpty || field.value.contains("Max-Age=0") { cookies[String(name)] = nil } else { cookies[String(name)] = value }
            if field.value.lowercased().contains("samesite=strict") { strictCookies.insert(String(name)) } else { strictCookies.remove(String(name)) }
        }
        return Page(status: response.status, location: response.headers[.location], body: String(buffer: response.body))
    }

    /// The path and query of the first portal link in an e-mail body.
    public static func link(in text: String?) throws -> String {
        let body = try #require(text)
        let pattern = try NSRegularExpression(pattern: "https?://[^/\\s]+(/[^\\s]+)")
        let match = try #require(pattern.firstMatch(in: body, range: NSRange(body.startIndex..., in: body)))
        return String(body[Range(match.range(at: 1), in: body)!])
    }

    /// The first run of `length` digits in an e-mail body (control codes, temporary passwords).
    public static func digits(_ length: Int, in text: String?) throws -> String {
        try #require(firstDigits(length, in: text), "no \(length)-digit code in the e-mail")
    }

    /// Like `digits`, for checking that a message carries no code: nil instead of a recorded issue.
    public static func firstDigits(_ length: Int, in text: String?) -> String? {
        guard let body = text, let pattern = try? NSRegularExpression(pattern: "\\b(\\d{\(length)})\\b"),
              let match = pattern.firstMatch(in: body, range: NSRange(body.startIndex..., in: body)) else { return nil }
        return String(body[Range(match.range(at: 1), in: body)!])
    }
}

