import Foundation
import Logging
import SportelloCore
import SportelloStore

/// Composes the e-mail of `kind` for `recipient` (rendered from the tenant's mail templates) as an outbox row.
public protocol MailComposer: Sendable {
    func compose(kind: String, tenant: TenantDefinition, locale: String, recipient: String,
                 values: [String: String], createdAt: Int64) throws -> OutboxRecord
}

/// The portal paths use cases put in what they store or send (e-mailed links), given by the web layer's routes.
public struct ApplicationPaths: Sendable {
    /// The link that completes an invitation: flow id and the token's plain text.
    public var invitation: @Sendable (_ flowId: String, _ token: String) -> String
    /// A request's page.
    public var request: @Sendable (_ id: Int64) -> String
    /// An invoice's page (nil where there is none: the staff commands).
    public var invoice: (@Sendable (_ id: Int64) -> String)?
    /// An online payment's page (where the payment provider sends the customer back).
    public var onlinePayment: (@Sendable (_ id: Int64) -> String)?

    public init(invitation: @escaping @Sendable (String, String) -> String, request: @escaping @Sendable (Int64) -> String,
                invoice: (@Sendable (Int64) -> String)? = nil, onlinePayment: (@Sendable (Int64) -> String)? = nil) {
        self.invitation = invitation; self.request = request; self.invoice = invoice; self.onlinePayment = onlinePayment
    }
}

/// What the use cases need from the outside world: storage, time, randomness, password hashing, mail and the
/// events modules react to. The web portal, the JSON API and the staff commands each build one; none of it is
/// web-specific.
public struct ApplicationServices: Sendable {
    public let database: Database
    public let clock: any WallClock
    public let random: any SecureRandomSource
    public let passwords: any PasswordHashing
    public let mail: any MailComposer
    /// Called after a transaction that queued mail commits (wakes the delivery worker).
    public let mailQueued: @Sendable () -> Void
    /// The portal's address for a tenant, as used in e-mailed links (`https://area.example.it`).
    public let portalAddress: @Sendable (TenantDefinition) -> String
    /// Where links in stored or mailed texts lead.
    public let paths: ApplicationPaths
    /// The handlers modules registered for domain events.
    public let events: DomainEvents
    /// Counters shared by every instance (login throttles, verification attempts, mail limits).
    public let limiter: RateLimiter
    /// The connected payments plugins (none: payment pages say online payment is not available).
    public let payments: PaymentGateways
    /// The connected lookup plugins with their circuit breakers (none: pages that need one say it is not available).
    public let lookups: LookupServices
    public let logger: Logger

    public init(database: Database, clock: any WallClock = SystemWallClock(), random: any SecureRandomSource = SystemSecureRandom(),
                passwords: any PasswordHashing, mail: any MailComposer, mailQueued: @escaping @Sendable () -> Void = {},
                portalAddress: @escaping @Sendable (TenantDefinition) -> String, paths: ApplicationPaths, events: DomainEvents = DomainEvents(),
                payments: PaymentGateways = .none, lookups: LookupServices = .none, logger: Logger = Logger(label: "sportello.application")) {
        self.database = database; self.clock = clock; self.random = random; self.passwords = passwords; self.mail = mail
        self.mailQueued = mailQueued; self.portalAddress = portalAddress; self.paths = paths; self.events = events; self.logger = logger
        self.payments = payments
        self.lookups = lookups
        limiter = RateLimiter(database: database)
    }

    /// Seconds since 1970 on the wall clock.
    public var now: Int64 { Int64(clock.now().timeIntervalSince1970) }

    /// Queues the e-mail of `kind` in the same transaction (`portal_url` is added to the values).
    public func queueMail(_ kind: String, to recipient: String, values: [String: String], locale: String? = nil,
                          tenant: TenantDefinition, in transaction: TenantTransaction) async throws {
        var all = values
        all["portal_url"] = portalAddress(tenant)
        let mail = try mail.compose(kind: kind, tenant: tenant, locale: locale ?? tenant.locales.default, recipient: recipient,
                                    values: all, createdAt: transaction.now)
        try await transaction.enqueueMail(mail)
    }
}

/// A use case that said no, with a stable code; `problems` are tied to the input's fields (shown next to them).
public struct UseCaseRefusal: Error, Sendable, Equatable {
    public var code: String
    public var message: String
    public var problems: [FieldProblem]

    public init(code: String, message: String, problems: [FieldProblem] = []) {
        self.code = code; self.message = message; self.problems = problems
    }

    public static func == (lhs: UseCaseRefusal, rhs: UseCaseRefusal) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.problems.map(\.field) == rhs.problems.map(\.field)
    }
}

/// Who performs a use case: a customer's user (with what their role grants), or the provider's staff (the
/// staff commands), who act on any customer of the tenant.
public enum Acting: Sendable {
    case user(principal: Principal, userId: Int64?, customerId: Int64)
    case staff

    /// Whether the actor may use `feature` (staff may use everything).
    public func may(_ feature: String, in tenant: ServedTenant) -> Bool {
        switch self {
        case .user(let principal, _, _): tenant.authorization.isAllowed(principal, feature)
        case .staff: true
        }
    }

    public var userId: Int64? {
        if case .user(_, let id, _) = self { return id }
        return nil
    }
}
