import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// Login (with the authenticator's code for users who enrolled one), logout, the password change (forced after a
/// temporary password) and the `verify_email` link.
struct AuthController {
    let services: PortalServices

    func addRoutes(to group: RouterGroup<TenantContext>) {
        group.get(Routes.login) { request, context in loginPage(request, context: context) }
        group.post(Routes.login) { request, context in try await login(request, context: context) }
        group.get(Routes.loginCode) { request, context in loginCodePage(request, context: context) }
        group.post(Routes.loginCode) { request, context in try await loginCode(request, context: context) }
        group.post(Routes.logout) { request, context in try await logout(request, context: context) }
        group.get(Routes.passwordChange) { _, context in try passwordChangePage(context: context, problems: []) }
        group.post(Routes.passwordChange) { request, context in try await changePassword(request, context: context) }
        // The link `verify_email` mails: the token alone proves the address (it may be opened in another browser).
        group.get(Routes.emailVerification) { request, context in
            try await RequiredActionsController(services: services).followVerificationLink(request, context: context)
        }
    }

    /// What the login page shows.
    struct LoginPage: Encodable {
        struct FlowLink: Encodable { var href, label: String }
        var identifierLabel, identifier, identifierType, next: String
        var registrationLinks, recoveryLinks: [FlowLink]
        var hasRegistrationLinks, hasRecoveryLinks, caseSensitive: Bool
        var loginError, notice: String?
    }

    private func flowLinks(_ context: TenantContext) -> (registration: [LoginPage.FlowLink], recovery: [LoginPage.FlowLink]) {
        var registration: [LoginPage.FlowLink] = []
        var recovery: [LoginPage.FlowLink] = []
        for (id, flow) in context.tenant.definition.flows {
            let item = LoginPage.FlowLink(href: Routes.accessFlow.path(id), label: flow.label.resolve(context.locale))
            if flow.kind == .recovery { recovery.append(item) }
            else if flow.steps.first?.step != .invitation { registration.append(item) }
        }
        return (registration, recovery)
    }

    private func loginPage(_ request: Request, context: TenantContext, problem: String? = nil, identifier: String = "",
                           status: HTTPResponse.Status = .ok) -> Response {
        let theme = context.tenant.theme
        let identifiers = context.tenant.definition.login.identifiers
        let labelKey = identifiers.count > 1 ? "field.username_or_email" : (identifiers.first == .email ? "field.email" : "field.username")
        let links = flowLinks(context)
        let model = LoginPage(
            identifierLabel: theme.text(labelKey, locale: context.locale), identifier: identifier,
            identifierType: identifiers == [.email] ? "email" : "text",
            next: Self.safeNext(request.uri.queryParameters["next"].map(String.init)) ?? Routes.dashboard.path(),
            registrationLinks: links.registration, recoveryLinks: links.recovery,
            hasRegistrationLinks: !links.registration.isEmpty, hasRecoveryLinks: !links.recovery.isEmpty,
            caseSensitive: context.tenant.definition.login.caseSensitive, loginError: problem,
            notice: request.uri.queryParameters["done"].map {
                theme.text($0 == "recovery" ? "login.recovery_done" : "login.registration_done", locale: context.locale)
            })
        return Pages.render("login", model, title: theme.text("login.title", locale: context.locale), context: context, status: status)
    }

    /// Only a strict same-site path is accepted as a place to go after login: it starts with one `/`, holds
    /// only printable ASCII that may appear in a URL's path and query (no space, control character, backslash,
    /// quote or angle bracket), and its percent-decoded forms (up to three rounds) obey the same rules and
    /// do not start with `//` either. Anything else gives nil (the caller goes home).
    static func safeNext(_ next: String?) -> String? {
        guard let next, next.count <= 2048 else { return nil }
        var current = next
        for _ in 0..<4 {
            guard current.hasPrefix("/"), !current.hasPrefix("//"),
                  current.unicodeScalars.allSatisfy({ allowedInNext.contains($0) }) else { return nil }
            guard let decoded = current.removingPercentEncoding else { return nil }
            if decoded == current { return next }
            current = decoded
        }
        return nil
    }

    /// The characters a `next=` path may hold (RFC 3986 path, query and fragment characters, and `%`).
    private static let allowedInNext = CharacterSet(charactersIn:
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/?#%")

    private func login(_ request: Request, context: TenantContext) async throws -> Response {
        let form = try await SubmittedForm.read(request, context: context)
        let identifier = form.value("identifier") ?? ""
        let accounts = Accounts(services: services, tenant: context.tenant)
        let theme = context.tenant.theme
        switch try await accounts.login(identifier: identifier, password: form["password"], remoteAddress: context.remoteAddress,
                                        deviceToken: RequestCookies(request)[Accounts.deviceCookie]) {
        case .success(_, let cookies):
            var response = Pages.redirect(Self.safeNext(form.value("next")) ?? Routes.dashboard.path())
            response.setCookies(cookies)
            return response
        case .mustChangePassword(_, let cookies):
            var response = Pages.redirect(Routes.passwordChange.path())
            response.setCookies(cookies)
            return response
        case .codeRequired(_, let cookies):
            let next = Self.safeNext(form.value("next"))
            var response = Pages.redirect(Routes.loginCode.path(query: next.map { ["next": $0] } ?? [:]))
            response.setCookies(cookies)
            return response
        case .rejected:
            return loginPage(request, context: context, problem: theme.text("login.rejected", locale: context.locale),
                             identifier: identifier, status: .unauthorized)
        case .throttled:
            return loginPage(request, context: context, problem: theme.text("error.too_many_attempts", locale: context.locale),
                             identifier: identifier, status: .tooManyRequests)
        }
    }

    /// The page asking for the authenticator's code after the password (users who enrolled one, `enrol_totp`).
    struct LoginCodePage: Encodable {
        var next: String
        var codeError: String?
    }

    private func loginCodePage(_ request: Request, context: TenantContext, next: String? = nil, problem: String? = nil,
                               status: HTTPResponse.Status = .ok) -> Response {
        guard RequestCookies(request)[Accounts.loginCodeCookie] != nil else { return Pages.redirect(Routes.login.path()) }
        let model = LoginCodePage(next: next ?? Self.safeNext(request.uri.queryParameters["next"].map(String.init)) ?? Routes.dashboard.path(),
                                  codeError: problem)
        return Pages.render("login_code", model, title: context.tenant.theme.text("required_actions.totp.login_title", locale: context.locale),
                            context: context, status: status)
    }

    private func loginCode(_ request: Request, context: TenantContext) async throws -> Response {
        let form = try await SubmittedForm.read(request, context: context)
        let cookies = RequestCookies(request)
        let next = Self.safeNext(form.value("next")) ?? Routes.dashboard.path()
        let accounts = Accounts(services: services, tenant: context.tenant)
        let theme = context.tenant.theme
        let outcome = try await accounts.completeLogin(challenge: cookies[Accounts.loginCodeCookie] ?? "", code: form["code"],
                                                      deviceToken: cookies[Accounts.deviceCookie])
        let spent = Cookie(name: Accounts.loginCodeCookie, value: "", maxAge: 0, path: "/", secure: services.configuration.secureCookies,
                           httpOnly: true, sameSite: .strict)
        switch outcome {
        case .loggedIn(.mustChangePassword(_, let issued)):
            var response = Pages.redirect(Routes.passwordChange.path())
            response.setCookies(issued + [spent])
            return response
        case .loggedIn(.success(_, let issued)):
            var response = Pages.redirect(next)
            response.setCookies(issued + [spent])
            return response
        case .wrongCode:
            return loginCodePage(request, context: context, next: next,
                                 problem: theme.text("required_actions.totp.wrong_login_code", locale: context.locale), status: .unprocessableContent)
        case .expired, .loggedIn:
            var response = loginPage(request, context: context, problem: theme.text("required_actions.totp.login_expired", locale: context.locale),
                                     status: .unauthorized)
            response.setCookie(spent)
            return response
        }
    }

    private func logout(_ request: Request, context: TenantContext) async throws -> Response {
        _ = try await SubmittedForm.read(request, context: context)
        if let token = request.cookies[CookieName.session]?.value {
            try await services.database.write(tenant: context.tenant.id, now: services.now) { try await $0.deleteSession(tokenHash: Secrets.hash(token)) }
        }
        var response = Pages.redirect(Routes.login.path())
        response.setCookies(Sessions.clearCookies(secure: services.configuration.secureCookies))
        return response
    }

    private func passwordChangePage(context: TenantContext, problems: [FieldProblem], status: HTTPResponse.Status = .ok) throws -> Response {
        guard let session = context.session else { throw PortalError.loginRequired }
        let pending = context.pendingActions.first { $0.type == .changePassword }
        let model = WithPasswordFields(
            page: PasswordChangePage(forced: session.user.status == .mustChangePassword,
                                     expired: pending?.reason == .expired && session.user.status != .mustChangePassword),
            fields: PasswordFields(policy: context.tenant.definition.login.password, locale: context.locale,
                                   confirm: true, strengthMeter: true, showToggle: true))
        return Pages.render("password_change", model, errors: problems,
                            title: context.tenant.theme.text("password.change_title", locale: context.locale), context: context, status: status)
    }

    /// The password change page, beside its password fields: `forced` after a temporary password, `expired` when the
    /// tenant's `change_password` required action asks for a new one because the password is older than its `every`.
    struct PasswordChangePage: Encodable { var forced: Bool; var expired: Bool }

    private func changePassword(_ request: Request, context: TenantContext) async throws -> Response {
        guard let session = context.session else { throw PortalError.loginRequired }
        let form = try await SubmittedForm.read(request, context: context)
        let accounts = Accounts(services: services, tenant: context.tenant)
        switch try await accounts.changeOwnPassword(session: session, current: form["current_password"], password: form["password"],
                                                    confirmation: form["password_confirmation"],
                                                    completing: context.pendingActions.first { $0.type == .changePassword }) {
        case .failure(let problems):
            return try passwordChangePage(context: context, problems: problems.problems, status: .unprocessableContent)
        case .success(let cookies):
            var response = Pages.redirect(Routes.dashboard.path())
            response.setCookies(cookies)
            return response
        }
    }
}

/// What `password_fields.mustache` reads (besides the form's errors): the policy's rules for the browser
/// and the requirements listed beside the field.
struct PasswordFields: Encodable {
    struct Requirement: Encodable { var id, label: String }
    var passwordStep = true
    var passwordConfirm, strengthMeter, showToggle: Bool
    var passwordRulesJson: String
    var passwordRequirements: [Requirement]

    init(policy: PasswordPolicy, locale: String, confirm: Bool, strengthMeter: Bool, showToggle: Bool) {
        let evaluator = PasswordPolicyEvaluator(policy: policy)
        passwordConfirm = confirm
        self.strengthMeter = strengthMeter
        self.showToggle = showToggle
        passwordRulesJson = (try? JSONEncoder().encode(evaluator.clientRules())).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        passwordRequirements = evaluator.requirements().map { Requirement(id: $0.id, label: $0.label.resolve(locale)) }
    }
}

/// A page model with the password fields beside its own values.
struct WithPasswordFields<Page: Encodable>: Encodable {
    var page: Page
    var fields: PasswordFields?

    func encode(to encoder: any Encoder) throws {
        try page.encode(to: encoder)
        try fields?.encode(to: encoder)
    }
}
