import Foundation
import HTTPTypes
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// What `TenantMiddleware` asks before a request of a signed-in user: which required actions are pending, and
/// whether the request is one that opens while they are (the actions' own pages and operations, logging out).
/// Tenants without `required_actions:` and users with a usable password cost nothing; a user the tenant asks
/// something recorded of costs one indexed query (`RequiredActions.pending`).
enum RequiredActionsGate {
    /// Whether the path is one whose handler may need a usable user (assets, login, logout, the access flows, the
    /// e-mailed verification link and the API's login and document never do: nothing is worked out for them).
    static func applies(to path: String, method: HTTPRequest.Method) -> Bool {
        if path.hasPrefix("/static/") || path.hasPrefix("/access/") { return false }
        switch path {
        case "/brand.css", "/favicon.ico", "/health", Routes.login.pattern, Routes.loginCode.pattern, Routes.logout.pattern,
             Routes.emailVerification.pattern,
             API.prefix + "/openapi.json":
            return false
        case API.prefix + "/session":
            return method == .delete
        default:
            return true
        }
    }

    /// Whether the request opens while actions are pending: an action's page or operation, logging out.
    static func opens(path: String, method: HTTPRequest.Method) -> Bool {
        path == Routes.requiredActions.pattern || path.hasPrefix(Routes.requiredActions.pattern + "/")
            || path == Routes.requiredActions.api.pattern || path.hasPrefix(Routes.requiredActions.api.pattern + "/")
            || path == Routes.passwordChange.pattern
            || (path == API.prefix + "/session" && method == .delete)
    }

    /// The pending actions of the session's user. Their completions are read as the session is (`RecentReads`): a
    /// completion or its removal written here is seen at once, one written by another instance within the cache's
    /// lifetime; the rules themselves (versions, renewals) are applied now, on every request.
    static func pending(session: ActiveSession, tenant: PortalTenant, services: PortalServices) async throws -> [PendingRequiredAction] {
        let user = session.user
        if tenant.definition.requiredActions?.isEmpty ?? true, user.status != .mustChangePassword { return [] }
        let actions = RequiredActions(services: services.application, tenant: tenant.served)
        let customerType = session.customer.customerType
        guard let userId = user.id, actions.needsCompletions(user: user, customerType: customerType) else {
            return actions.pending(user: user, customerType: customerType, completions: [])
        }
        let now = services.now
        let completions = try await services.recentReads.value(
            tenant: tenant.id, key: "required_actions|\(userId)", database: services.database, now: now
        ) { () async throws -> (value: [RequiredActionCompletion], dependencies: [String])? in
            let stored = try await services.database.readOneStatement(tenant: tenant.id, now: now) {
                try await $0.requiredActionCompletions(userId: userId)
            }
            return (stored, ["table:required_action_completions"])
        } ?? []
        return actions.pending(user: user, customerType: customerType, completions: completions)
    }

    /// Where a page request goes while `pending` is due: the action's page (`change_password`: the password change
    /// page), with the page asked for as `next` when it was another than home.
    static func redirect(for pending: PendingRequiredAction, request: Request) -> Response {
        let page = RequiredActionsController.pagePath(pending)
        let asked = request.uri.path + (request.uri.query.map { "?\($0)" } ?? "")
        guard pending.type != .changePassword, request.method == .get, asked != Routes.dashboard.path(),
              AuthController.safeNext(asked) != nil else { return Pages.redirect(page) }
        return Pages.redirect(page + "?next=" + (asked.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"))
    }

    /// The API's answer while `pending` is due: 403 `required_action` naming the action (its page and the operation
    /// that completes it), and a `Link` header to that operation.
    static func apiResponse(for pending: PendingRequiredAction, tenant: PortalTenant, locale: String) -> Response {
        let action = RequiredActionsController.summary(pending, tenant: tenant, locale: locale)
        let message = tenant.theme.text("error.required_action.message", locale: locale, ["action": action.label])
        var response = API.json(ErrorBody(error: .init(code: PortalError.requiredAction(pending).code, message: message, action: action)),
                                status: .forbidden)
        response.headers[linkHeader] = "<\(action.api)>; rel=\"required-action\""
        return response
    }

    static let linkHeader = HTTPField.Name("Link")!

    /// The 403 body: the usual error with the action.
    struct ErrorBody: Encodable {
        struct Detail: Encodable {
            var code, message: String
            var action: RequiredActionsController.ActionJSON
        }
        var error: Detail
    }
}
