import Foundation
import Logging
import SportelloApplication
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
                catalog: PortalCatalog = .standard, payments: PaymentGateways = .none, lookups: LookupServices = .none) {
        self.configuration = configuration; self.database = database; self.tenants = tenants; self.clock = clock
        self.catalog = catalog
        self.random = random; self.passwords = passwords; self.mail = mail; self.mailQueued = mailQueued
        self.logger = logger
        let configuration = configuration
        application = ApplicationServices(
            database: database, clock: clock, random: random, passwords: passwords, mail: mail, mailQueued: mailQueued,
            portalAddress: { configuration.portalAddress(for: $0) }, paths: .portal,
            events: DomainEvents(catalog.modules.flatMap(\.eventHandlers)), payments: payments, lookups: lookups, logger: logger)
        limiter = application.limiter
    }

    public var now: Int64 { Int64(clock.now().timeIntervalSince1970) }

    /// The portal's address for `tenant`, as used in e-mailed links.
    public func baseURL(for tenant: PortalTenant) -> String { configuration.portalAddress(for: tenant.definition) }
}

extension ApplicationPaths {
    /// The portal's own routes.
    public static let portal = ApplicationPaths(invitation: { Routes.accessFlowLink.path($0, query: ["t": $1]) },
                                                request: { Routes.request.path($0) }, invoice: { Routes.invoice.path($0) },
                                                onlinePayment: { Routes.onlinePayment.path($0) })
}

extension WebConfiguration {
    /// The portal's address for `tenant` (its first host, the public scheme and port), as used in e-mailed links.
    public func portalAddress(for tenant: TenantDefinition) -> String {
        let host = tenant.hosts.first ?? "\(tenant.id).localhost"
        let port = publicPort ?? self.port
        let defaultPort = publicScheme == "https" ? 443 : 80
        return "\(publicScheme)://\(host)\(port == defaultPort ? "" : ":\(port)")"
    }
}

