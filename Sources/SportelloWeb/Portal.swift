import Foundation
import Logging
import SportelloCore
import SportelloStore

/// How the web server listens and how it builds links.
public struct WebConfiguration: Sendable {
    public var hostname: String
    public var port: Int
    /// The `templates` folder (`default/` plus one folder per tenant).
    public var templatesDirectory: URL
    /// Scheme and port used in links sent by e-mail (`http`, 8080 in development).
    public var publicScheme: String
    public var publicPort: Int?
    /// Marks cookies `Secure` (set when the portal is served over TLS, directly or behind a proxy).
    public var secureCookies: Bool
    /// Trust the first address of `X-Forwarded-For` for per-IP throttling (only behind a proxy you run).
    public var trustForwardedFor: Bool

    public init(hostname: String = "127.0.0.1", port: Int = 8080, templatesDirectory: URL,
                publicScheme: String = "http", publicPort: Int? = nil, secureCookies: Bool = false,
                trustForwardedFor: Bool = false) {
        self.hostname = hostname; self.port = port; self.templatesDirectory = templatesDirectory
        self.publicScheme = publicScheme; self.publicPort = publicPort; self.secureCookies = secureCookies
        self.trustForwardedFor = trustForwardedFor
    }
}

/// Renders a transactional e-mail into an outbox row (implemented by `SportelloMail.MailTemplates`).
public protocol MailComposer: Sendable {
    func compose(kind: String, tenant: TenantDefinition, locale: String, recipient: String,
                 values: [String: String], createdAt: Int64) throws -> OutboxRecord
}

/// The services every handler uses, built once by `buildApplication` (and by tests).
public struct PortalServices: Sendable {
    public let configuration: WebConfiguration
    public let database: Database
    public let tenants: TenantRegistry
    public let clock: any WallClock
    public let random: any SecureRandomSource
    public let passwords: any PasswordHashing
    public let mail: any MailComposer
    /// Called after a transaction that queued mail commits (wakes the delivery worker).
    public let mailQueued: @Sendable () -> Void
    public let limiter: RateLimiter
    public let logger: Logger
    /// Sessions and per-customer facts read a moment ago (see `RecentReads`).
    let recentReads = RecentReads()

    public init(configuration: WebConfiguration, database: Database, tenants: TenantRegistry,
                clock: any WallClock = SystemWallClock(), random: any SecureRandomSource = SystemSecureRandom(),
                passwords: any PasswordHashing = BcryptPasswordHasher(), mail: any MailComposer,
                mailQueued: @escaping @Sendable () -> Void = {}, logger: Logger = Logger(label: "sportello.web")) {
        self.configuration = configuration; self.database = database; self.tenants = tenants; self.clock = clock
        self.random = random; self.passwords = passwords; self.mail = mail; self.mailQueued = mailQueued
        self.limiter = RateLimiter(); self.logger = logger
    }

    public var now: Int64 { Int64(clock.now().timeIntervalSince1970) }

    /// The portal's address for `tenant`, as used in e-mailed links.
    public func baseURL(for tenant: PortalTenant) -> String {
        let host = tenant.definition.hosts.first ?? "\(tenant.id).localhost"
        let port = configuration.publicPort ?? configuration.port
        let defaultPort = configuration.publicScheme == "https" ? 443 : 80
        return "\(configuration.publicScheme)://\(host)\(port == defaultPort ? "" : ":\(port)")"
    }
}

/// Sliding-window counters per key (per-IP login throttle, verification attempts); in memory, per process.
public actor RateLimiter {
    private var hits: [String: [Int64]] = [:]
    private var lastSweep: Int64 = 0

    public init() {}

    /// Records a hit and returns false when `key` already had `limit` hits in the last `window` seconds.
    public func allow(_ key: String, limit: Int, window: Int64, now: Int64) -> Bool {
        sweep(now: now, window: window)
        var recent = (hits[key] ?? []).filter { $0 > now - window }
        guard recent.count < limit else { hits[key] = recent; return false }
        recent.append(now)
        hits[key] = recent
        return true
    }

    /// Hits of `key` in the last `window` seconds, without recording one.
    public func count(_ key: String, window: Int64, now: Int64) -> Int {
        (hits[key] ?? []).filter { $0 > now - window }.count
    }

    public func reset(_ key: String) { hits[key] = nil }

    private func sweep(now: Int64, window: Int64) {
        guard now - lastSweep > 300 else { return }
        lastSweep = now
        hits = hits.filter { _, times in times.contains { $0 > now - max(window, 3_600) } }
    }
}
