import Foundation
import Logging
@_exported import SportelloApplication  // use cases and their services are part of what the web layer offers
import SportelloCore
import SportelloStore
import Synchronization

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
    /// Proxies (addresses or CIDR ranges) whose `X-Forwarded-For`/`Forwarded` headers name the client; the
    /// client is the right-most address of the chain that is not one of them (empty: the peer is the client).
    public var trustedProxies: [TrustedProxy]
    /// The least time a recovery's identify step takes to answer, whether or not the identifier has an
    /// account: on top of doing the same work on both paths, no timing difference is left to measure.
    public var recoveryResponseFloor: Duration

    public init(hostname: String = "127.0.0.1", port: Int = 8080, templatesDirectory: URL,
                publicScheme: String = "http", publicPort: Int? = nil, secureCookies: Bool = false,
                trustedProxies: [TrustedProxy] = [], recoveryResponseFloor: Duration = .milliseconds(250)) {
        self.hostname = hostname; self.port = port; self.templatesDirectory = templatesDirectory
        self.publicScheme = publicScheme; self.publicPort = publicPort; self.secureCookies = secureCookies
        self.trustedProxies = trustedProxies; self.recoveryResponseFloor = recoveryResponseFloor
    }
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
    let authorityChecks = SessionAuthorityChecks()
    /// The modules the router mounts (the tenants are loaded with the same catalogue).
    public let catalog: PortalCatalog
    /// The same database, clock, mail and the modules' event handlers, for the use cases.
    public let application: ApplicationServices

    public init(configuration: WebConfiguration, database: Database, tenants: TenantRegistry,
                clock: any WallClock = SystemWallClock(), random: any SecureRandomSource = SystemSecureRandom(),
                passwords: any PasswordHashing = BcryptPasswordHasher(), mail: any MailComposer,
                mailQueued: @escaping @Sendable () -> Void = {}, logger: Logger = Logger(label: "sportello.web"),
                catalog: PortalCatalog = .standard) {
        self.configuration = configuration; self.database = database; self.tenants = tenants; self.clock = clock
        self.catalog = catalog
        self.random = random; self.passwords = passwords; self.mail = mail; self.mailQueued = mailQueued
        self.limiter = RateLimiter(database: database); self.logger = logger
        let configuration = configuration
        application = ApplicationServices(
            database: database, clock: clock, random: random, passwords: passwords, mail: mail, mailQueued: mailQueued,
            portalAddress: { Self.portalAddress(for: $0, configuration: configuration) },
            events: DomainEvents(catalog.modules.flatMap(\.eventHandlers)), logger: logger)
    }

    public var now: Int64 { Int64(clock.now().timeIntervalSince1970) }

    /// The portal's address for `tenant`, as used in e-mailed links.
    public func baseURL(for tenant: PortalTenant) -> String { Self.portalAddress(for: tenant.definition, configuration: configuration) }

    static func portalAddress(for tenant: TenantDefinition, configuration: WebConfiguration) -> String {
        let host = tenant.hosts.first ?? "\(tenant.id).localhost"
        let port = configuration.publicPort ?? configuration.port
        let defaultPort = configuration.publicScheme == "https" ? 443 : 80
        return "\(configuration.publicScheme)://\(host)\(port == defaultPort ? "" : ":\(port)")"
    }
}

/// Counters per key in fixed windows (per-IP login throttle, verification attempts, mail limits).
///
/// With a database they live in its `shared_counters` table, so every instance on the same database counts
/// the same hits (a window of `window` seconds starts at a multiple of `window`); without one (unit tests
/// of pure logic) they live in this process's memory.
public final class RateLimiter: Sendable {
    let database: Database?
    private let memory = Mutex<[String: (bucket: Int64, hits: Int64)]>([:])
    private let lastPurge = Mutex<[String: Int64]>([:])

    public init(database: Database? = nil) {
        self.database = database
    }

    static func bucket(_ now: Int64, _ window: Int64) -> Int64 { now - ((now % max(window, 1)) + max(window, 1)) % max(window, 1) }

    /// Seconds until the window of `now` ends (for `Retry-After`).
    public static func retryAfter(window: Int64, now: Int64) -> Int64 { max(1, bucket(now, window) + max(window, 1) - now) }

    /// Records a hit of `key` and returns false when the window already had `limit` hits (refused hits count too,
    /// so a client that keeps trying stays refused until the window ends).
    public func allow(tenant: String, key: String, limit: Int, window: Int64, now: Int64) async throws -> Bool {
        try await add(tenant: tenant, key: key, window: window, now: now) <= Int64(clamping: limit)
    }

    /// Records a hit and returns the window's total including it.
    public func add(tenant: String, key: String, window: Int64, now: Int64) async throws -> Int64 {
        let bucket = Self.bucket(now, window)
        guard let database else {
            return memory.withLock { all in
                let fullKey = tenant + "|" + key
                let current = all[fullKey].flatMap { $0.bucket == bucket ? $0.hits : nil } ?? 0
                all[fullKey] = (bucket, current + 1)
                return current + 1
            }
        }
        let purge = lastPurge.withLock { seen -> Bool in
            guard now - (seen[tenant] ?? 0) >= 300 else { return false }
            seen[tenant] = now
            return true
        }
        return try await database.write(tenant: tenant, now: now) { transaction in
            if purge { try await transaction.purgeCounters() }
            return try await transaction.addCounterHits(key: key, bucket: bucket, expiresAt: bucket + max(window, 1))
        }
    }

    /// Hits of `key` in the current window, without recording one.
    public func count(tenant: String, key: String, window: Int64, now: Int64) async throws -> Int {
        let bucket = Self.bucket(now, window)
        guard let database else {
            return Int(memory.withLock { $0[tenant + "|" + key].flatMap { $0.bucket == bucket ? $0.hits : nil } ?? 0 })
        }
        return Int(try await database.read(tenant: tenant, now: now) { try await $0.counterHits(key: key, since: bucket) })
    }

    public func reset(tenant: String, key: String) async throws {
        guard let database else { _ = memory.withLock { $0.removeValue(forKey: tenant + "|" + key) }; return }
        try await database.write(tenant: tenant) { try await $0.resetCounter(key: key) }
    }

    // Keys of the form `kind|<tenant>|…` (or `audit|kind|<tenant>|…`): the tenant is read from the key.
    // A database failure falls back to this process's memory rather than failing the request.

    public func allow(_ key: String, limit: Int, window: Int64, now: Int64) async -> Bool {
        let tenant = Self.tenant(of: key)
        if let allowed = try? await allow(tenant: tenant, key: key, limit: limit, window: window, now: now) { return allowed }
        return memoryOnly.allowSync(tenant: tenant, key: key, limit: limit, window: window, now: now)
    }

    public func count(_ key: String, window: Int64, now: Int64) async -> Int {
        let tenant = Self.tenant(of: key)
        return (try? await count(tenant: tenant, key: key, window: window, now: now))
            ?? memoryOnly.countSync(tenant: tenant, key: key, window: window, now: now)
    }

    public func reset(_ key: String) async {
        let tenant = Self.tenant(of: key)
        try? await reset(tenant: tenant, key: key)
        memoryOnly.memory.withLock { _ = $0.removeValue(forKey: tenant + "|" + key) }
    }

    private var memoryOnly: RateLimiter { database == nil ? self : fallback }
    private static let fallbackLimiter = RateLimiter()
    private var fallback: RateLimiter { Self.fallbackLimiter }

    private func allowSync(tenant: String, key: String, limit: Int, window: Int64, now: Int64) -> Bool {
        let bucket = Self.bucket(now, window)
        return memory.withLock { all in
            let fullKey = tenant + "|" + key
            let current = all[fullKey].flatMap { $0.bucket == bucket ? $0.hits : nil } ?? 0
            all[fullKey] = (bucket, current + 1)
            return current + 1 <= Int64(clamping: limit)
        }
    }

    private func countSync(tenant: String, key: String, window: Int64, now: Int64) -> Int {
        let bucket = Self.bucket(now, window)
        return Int(memory.withLock { $0[tenant + "|" + key].flatMap { $0.bucket == bucket ? $0.hits : nil } ?? 0 })
    }

    static func tenant(of key: String) -> String {
        let parts = key.split(separator: "|", omittingEmptySubsequences: false)
        let index = parts.first == "audit" ? 2 : 1
        return parts.count > index && !parts[index].isEmpty ? String(parts[index]) : "-"
    }
}
