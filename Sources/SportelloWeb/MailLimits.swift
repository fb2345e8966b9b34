import Foundation
import HTTPTypes
import Hummingbird
import SportelloCore
import SportelloStore

/// Caps on the e-mail a user can make the portal send (invitations, re-sent invitations, e-mail change
/// confirmations), per user, per customer and per recipient, counted in the shared counters so every
/// instance sees the same totals. Call `spend` before the transaction that queues the mail.
struct MailLimits {
    let services: PortalServices
    let tenant: PortalTenant

    /// Mail a user can trigger, each with its own limits.
    enum Action: String, Sendable {
        case invitation
        case emailChange = "email_change"
    }

    struct Limit: Sendable {
        /// Mails one user may trigger per window.
        var perUser: Int
        /// Mails all users of one customer may trigger per window.
        var perCustomer: Int
        /// Mails one recipient may receive from this customer per window.
        var perRecipient: Int
        var window: Int64
    }

    static func limit(for action: Action) -> Limit {
        switch action {
        case .invitation: Limit(perUser: 10, perCustomer: 20, perRecipient: 3, window: 3_600)
        case .emailChange: Limit(perUser: 3, perCustomer: 10, perRecipient: 3, window: 3_600)
        }
    }

    /// Counts one mail of `action`; throws `MailLimitExceeded` (nothing counted) when any limit is reached.
    func spend(_ action: Action, userId: Int64?, customerId: Int64, recipient: String) async throws {
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

/// A user reached a mail limit: pages answer 429 with the wait, the API 429 with `Retry-After` and
/// `{"error":{"code":"mail_limit_reached",…}}`.
struct MailLimitExceeded: Error, Sendable {
    static let code = "mail_limit_reached"
    var action: String
    /// Seconds until the limit's window ends.
    var retryAfter: Int64

    func message(tenant: PortalTenant, locale: String) -> String {
        let minutes = max(1, Int((retryAfter + 59) / 60))
        return tenant.theme.text("error.mail_limit_reached.message", locale: locale, ["minutes": String(minutes)])
    }

    func response(api: Bool, context: PortalContext) -> Response {
        var response: Response
        if let tenant = context.tenant, let page = try? TenantContext(context: context) {
            let text = message(tenant: tenant, locale: context.locale)
            if api {
                response = API.json(APIErrorBody(error: .init(code: Self.code, message: text)), status: .tooManyRequests)
            } else {
                response = Pages.render("error", ErrorPage(message: text, code: Self.code, status: 429),
                                        title: tenant.theme.text("error.mail_limit_reached.title", locale: context.locale),
                                        context: page, status: .tooManyRequests)
            }
        } else {
            response = Pages.htmlResponse("Too many requests", status: .tooManyRequests)
        }
        response.headers[.retryAfter] = String(retryAfter)
        return response
    }
}
