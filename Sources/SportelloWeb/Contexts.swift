import Foundation
import Hummingbird
import NIOCore
import SportelloApplication
import SportelloCore
import SportelloStore

/// A logged-in user's session, as loaded from the store for one request.
public struct ActiveSession: Sendable {
    public var record: SessionRecord
    public var user: UserRecord
    public var customer: CustomerRecord
    public var principal: Principal
    /// The tenant's data version read for this request (`DataVersion`); nil when unknown.
    public var dataVersion: Int64? = nil
}

/// The context every request starts with: the tenant (from the Host header), the locale, the CSRF
/// secret and, once loaded, the session.
public struct PortalContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's address: the peer's, or the one a trusted proxy names (set by `TenantMiddleware`).
    public internal(set) var remoteAddress: String?
    public var tenant: PortalTenant?
    public var locale: String = "it"
    /// The browser's CSRF secret (cookie); forms echo it.
    public var csrfToken: String = ""
    /// Set when the browser had no CSRF cookie yet and one must be sent.
    public var issueCSRFCookie = false
    public var session: ActiveSession?
    /// The session came from an `Authorization: Bearer` header (API clients), not from a cookie:
    /// such requests cannot be forged by another site, so they need no CSRF token.
    public var viaBearerToken = false
    /// The signed-in user's required actions still to complete, in the order asked (`TenantMiddleware` works them
    /// out; empty when there is no session or nothing is pending).
    public var pendingActions: [PendingRequiredAction] = []
    /// The request opens a required action's own page or operation, or logs out: pending actions do not stop it.
    public var opensRequiredAction = false

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }
}

/// A request that belongs to a known tenant. Handlers that need a tenant are mounted on this context.
public struct TenantContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let tenant: PortalTenant
    public let locale: String
    public let csrfToken: String
    public let remoteAddress: String?
    public let session: ActiveSession?
    public let viaBearerToken: Bool
    /// The signed-in user's required actions still to complete (see `PortalContext.pendingActions`).
    public let pendingActions: [PendingRequiredAction]
    public let opensRequiredAction: Bool

    public init(context: PortalContext) throws {
        guard let tenant = context.tenant else { throw PortalError.unknownHost }
        coreContext = context.coreContext
        self.tenant = tenant
        locale = context.locale
        csrfToken = context.csrfToken
        remoteAddress = context.remoteAddress
        session = context.session
        viaBearerToken = context.viaBearerToken
        pendingActions = context.pendingActions
        opensRequiredAction = context.opensRequiredAction
    }
}

/// A request from a logged-in user whose account is usable. Handlers needing a user are mounted here.
///
/// While the user has required actions pending (`required_actions:`, and the forced change after a temporary
/// password) nothing mounted here answers but the actions' own pages and operations: the first pending action is
/// thrown (`PortalError.requiredAction`), which pages turn into a redirect to it and the API into a 403.
public struct UserContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let tenant: PortalTenant
    public let locale: String
    public let csrfToken: String
    public let remoteAddress: String?
    public let session: ActiveSession
    public let viaBearerToken: Bool
    /// The user's required actions still to complete (only a required action's own handlers see any).
    public let pendingActions: [PendingRequiredAction]

    public init(context: TenantContext) throws {
        guard let session = context.session else { throw PortalError.loginRequired }
        if !context.opensRequiredAction {
            if let first = context.pendingActions.first { throw PortalError.requiredAction(first) }
            // Whatever the middleware worked out, a temporary password opens nothing before it is changed.
            if session.user.status == .mustChangePassword {
                throw PortalError.requiredAction(PendingRequiredAction(id: RequiredActionRules.forcedPasswordChangeId, type: .changePassword,
                                                                       reason: .temporaryPassword, since: session.user.passwordChangedAt))
            }
        }
        pendingActions = context.pendingActions
        coreContext = context.coreContext
        tenant = context.tenant
        locale = context.locale
        csrfToken = context.csrfToken
        remoteAddress = context.remoteAddress
        self.session = session
        viaBearerToken = context.viaBearerToken
    }

    public var user: UserRecord { session.user }
    public var customer: CustomerRecord { session.customer }

    /// Throws a 403 unless the user's role (and toggles) grant `feature`.
    public func require(_ feature: String) throws {
        guard tenant.authorization.isAllowed(session.principal, feature) else { throw PortalError.forbidden(feature: feature) }
    }

    public func may(_ feature: String) -> Bool { tenant.authorization.isAllowed(session.principal, feature) }

    /// The signed-in user as the use cases see them.
    public var acting: Acting { .user(principal: session.principal, userId: user.id, customerId: customer.id ?? 0) }

    /// The positive integer id in the path parameter `name` (`/invoices/:id`); anything else is a 404.
    public func pathId(_ name: String = "id") throws -> Int64 {
        guard let text = parameters.get(name), let id = Int64(text), id > 0 else { throw PortalError.notFound }
        return id
    }
}

/// Errors the portal turns into pages (or JSON under `/api`), each with a stable code.
public enum PortalError: Error, Sendable {
    case unknownHost
    case loginRequired
    case passwordChangeRequired
    /// The user must first complete a required action (pages: redirected to it; API: 403 naming it).
    case requiredAction(PendingRequiredAction)
    case forbidden(feature: String)
    case notFound
    case csrfRejected
    case tooManyRequests
    case badRequest(String)
    /// Submitted data with problems, reported field by field (API answers: 422 with every problem).
    case invalid([FieldProblem])
    case conflict(String)

    public var code: String {
        switch self {
        case .unknownHost: "unknown_host"
        case .loginRequired: "login_required"
        case .passwordChangeRequired: "password_change_required"
        case .requiredAction: "required_action"
        case .forbidden: "forbidden"
        case .notFound: "not_found"
        case .csrfRejected: "csrf_rejected"
        case .tooManyRequests: "too_many_requests"
        case .badRequest: "bad_request"
        case .invalid: "invalid"
        case .conflict: "conflict"
        }
    }

    public var status: HTTPResponse.Status {
        switch self {
        case .unknownHost, .notFound: .notFound
        case .loginRequired: .unauthorized
        case .passwordChangeRequired, .requiredAction, .forbidden, .csrfRejected: .forbidden
        case .tooManyRequests: .tooManyRequests
        case .badRequest: .badRequest
        case .invalid: .unprocessableContent
        case .conflict: .conflict
        }
    }
}
