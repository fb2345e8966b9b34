import Foundation
import SportelloCore
import SportelloStore

/// Caps on the e-mail a user can make the portal send (invitations, re-sent invitations, e-mail change
/// confirmations), per user, per customer and per recipient, counted in the shared counters so every
/// instance sees the same totals. Call `spend` before the transaction that queues the mail.
public struct MailLimits: Sendable {
    let services: ApplicationServices
    let tenant: ServedTenant

    public init(services: ApplicationServices, tenant: ServedTenant) { self.services = services; self.tenant = tenant }

    /// Mail a user can trigger, each with its own limits.
    public enum Action: String, Sendable {
        case invitation
        case emailChange = "email_change"
    }

    public struct Limit: Sendable {
        /// Mails one user may trigger per window.
        public var perUser: Int
        /// Mails all users of one customer may trigger per window.
        public var perCustomer: Int
        /// Mails one recipient may receive from this customer per window.
        public var perRecipient: Int
        public var window: Int64
    }

    public static func limit(for action: Action) -> Limit {
        switch action {
        case .invitation: Limit(perUser: 10, perCustomer: 20, perRecipient: 3, window: 3_600)
        case .emailChange: Limit(perUser: 3, perCustomer: 10, perRecipient: 3, window: 3_600)
        }
    }

    /// Counts one mail of `action`; throws `MailLimitExceeded` (nothing counted) when any limit is reached.
    public func spend(_ action: Action, userId: Int64?, customerId: Int64, recipient: String) async throws {
        let limit = Self.limit(for: action)
        let now = services.now
        // The recipient is counted by hash: the counters hold no personal data.
        let keys: [(String, Int)] = [
            ("mail|\(action.rawValue)|user:\(userId ?? 0)", limit.perUser),
            ("mail|\(action.rawValue)|customer:\(customerId)", limit.perCustomer),
            ("mail|\(action.rawValue)|customer:\(customerId)|to:" + Secrets.hash(recipient.lowercased()), limit.perRecipient),
        ]
        let refused = MailLimitExceeded(action: action.rawValue, retryAfter: RateLimiter.retryAfter(window: limit.window, now: now))
        for (key, max) in keys where try await services.limiter.count(tenant: tenant.id, key: key, window: limit.window, now: now) >= max {
            throw refused
        }
        // Another instance may have counted in between: the atomic increments decide.
        var over = false
        for (key, max) in keys where try await services.limiter.add(tenant: tenant.id, key: key, window: limit.window, now: now) > max {
            over = true
        }
        if over { throw refused }
    }
}

/// A user reached a mail limit.
public struct MailLimitExceeded: Error, Sendable {
    public static let code = "mail_limit_reached"
    public var action: String
    /// Seconds until the limit's window ends.
    public var retryAfter: Int64
}
