import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// The pages and `/api/v1` operations of the required actions: one page per pending action (its form), the list of
/// what is pending and the operation that completes each action through the API. `change_password` is completed on
/// the password change page (and through the API here). Only a user's pending actions open; after each completion
/// the user goes on to the next one, then to the page first asked for (`next`) or home.
struct RequiredActionsController: ModuleController {
    let services: PortalServices

    static let apiOperations: [APIOperation] = {
        let id = APIOperation.Parameter("id", in: "path", required: true, description: "The action's id (its key under `required_actions:`)",
                                        schema: .string())
        return [
        APIOperation("GET", Routes.requiredActions,
                     summary: "The required actions the user must complete before any other operation answers, in the order asked",
                     success: (200, "RequiredActions")),
        APIOperation("GET", Routes.requiredAction, summary: "One pending required action, with what completing it takes",
                     parameters: [id], success: (200, "RequiredAction")),
        APIOperation("POST", Routes.requiredAction,
                     summary: "Complete a pending required action (verify_email: sends the e-mailed link and answers 202; the link completes it)",
                     parameters: [id], requestBody: "RequiredActionCompletion", success: (200, "RequiredActions")).withOtherSuccess([202]),
        ]
    }()

    static let apiSchemas: [String: JSONSchema] = [
        "RequiredActions": .object([
            "actions": .array(.reference("RequiredAction")),
            "token": .nullable(.string(description: "change_password: the new bearer token (every earlier session ended)")),
        ], required: ["actions"]),
        "RequiredAction": .object([
            "id": .string(), "type": .enumeration(RequiredActionType.allCases.map(\.rawValue)), "label": .string(),
            "message": .nullable(.string()),
            "reason": .enumeration(["not_completed", "expired", "new_version", "temporary_password", "email_not_verified"]),
            "since": .nullable(.integer),
            "page": .string(description: "The portal page that completes it"),
            "api": .string(description: "The operation that completes it (POST)"),
            "version": .nullable(.string(description: "accept_terms: the version to accept")),
            "text": .nullable(.string(description: "accept_terms: the text accepted")),
            "document": .nullable(.string(description: "accept_terms: the full document")),
            "fields": .nullable(.array(.object([
                "name": .string(), "label": .string(), "type": .string(), "required": .boolean, "read_only": .boolean,
                "value": .nullable(.string()),
            ], required: ["name", "label", "type", "required", "read_only"]))),
            "email": .nullable(.string(description: "verify_email: the address, masked")),
            "link_sent": .nullable(.boolean),
            "otpauth_uri": .nullable(.string(description: "enrol_totp: the URI an authenticator app reads")),
            "secret": .nullable(.string(description: "enrol_totp: the same secret to type by hand (base32)")),
            "password_requirements": .nullable(.array(.string())),
        ], required: ["id", "type", "label", "reason", "page", "api"]),
        "RequiredActionCompletion": .object([
            "accept": .boolean, "version": .string(description: "accept_terms: the version shown (refused when another is published)"),
            "values": .object([:]), "current_password": .string(format: "password"), "password": .string(format: "password"),
            "password_confirmation": .string(format: "password"),
            "code": .string(description: "enrol_totp: the authenticator app's current code"),
        ]),
    ]

    func addRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.requiredActions) { request, context in continuation(next: request.uri.queryParameters["next"].map(String.init),
                                                                             pending: context.pendingActions) }
        group.get(Routes.requiredAction) { request, context in try await page(request, context: context) }
        group.post(Routes.requiredAction) { request, context in try await post(request, context: context) }
        group.get(Routes.requiredActions.api) { _, context in
            API.json(StateJSON(actions: context.pendingActions.map { Self.summary($0, tenant: context.tenant, locale: context.locale) }))
        }
        group.get(Routes.requiredAction.api) { _, context in try await apiGet(context: context) }
        group.post(Routes.requiredAction.api) { request, context in try await apiPost(request, context: context) }
    }

    // MARK: Paths and summaries

    /// The page that completes `pending` (`change_password`: the password change page).
    static func pagePath(_ pending: PendingRequiredAction) -> String {
        pending.type == .changePassword ? Routes.passwordChange.path() : Routes.requiredAction.path(pending.id)
    }

    /// An action as the API names it.
    struct ActionJSON: Encodable {
        struct Field: Encodable {
            var name, label, type: String
            var required, readOnly: Bool
            var value: String?
        }
        var id, type, label: String
        var message: String?
        var reason: String
        var since: Int64?
        var page, api: String
        var version, text, document: String?
        var fields: [Field]?
        var email: String?
        var linkSent: Bool?
        var otpauthUri, secret: String?
        var passwordRequirements: [String]?
    }

    struct StateJSON: Encodable {
        var actions: [ActionJSON]
        var token: String?
    }

    static func label(_ pending: PendingRequiredAction, tenant: PortalTenant, locale: String) -> String {
        tenant.definition.requiredActions?[pending.id]?.label.resolve(locale)
            ?? tenant.theme.text("required_actions.change_password.label", locale: locale)
    }

    static func summary(_ pending: PendingRequiredAction, tenant: PortalTenant, locale: String) -> ActionJSON {
        ActionJSON(id: pending.id, type: pending.type.rawValue, label: label(pending, tenant: tenant, locale: locale),
                   message: tenant.definition.requiredActions?[pending.id]?.message?.resolve(locale), reason: pending.reason.rawValue,
                   since: pending.since, page: pagePath(pending), api: Routes.requiredAction.api.path(pending.id))
    }

    private func actions(_ context: UserContext) -> RequiredActions {
        RequiredActions(services: services.application, tenant: context.tenant.served)
    }

    /// The pending action the path names; 404 when the tenant has no such action, nil when it is not pending for the user.
    private func pendingAction(_ context: UserContext) throws -> PendingRequiredAction? {
        guard let id = context.parameters.get("id") else { throw PortalError.notFound }
        if let pending = context.pendingActions.first(where: { $0.id == id }) { return pending }
        guard context.tenant.definition.requiredActions?[id] != nil || id == RequiredActionRules.forcedPasswordChangeId else {
            throw PortalError.notFound
        }
        return nil
    }

    /// Where the user goes once an action is done: the next pending one, else the page first asked for, else home.
    private func continuation(next: String?, pending: [PendingRequiredAction]) -> Response {
        let safe = AuthController.safeNext(next)
        guard let first = pending.first else { return Pages.redirect(safe ?? Routes.dashboard.path()) }
        let page = Self.pagePath(first)
        guard first.type != .changePassword, let safe else { return Pages.redirect(page) }
        return Pages.redirect(page + "?next=" + (safe.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"))
    }

    /// The user's pending actions read again (after a completion changed them).
    private func freshPending(_ context: UserContext) async throws -> (user: UserRecord, pending: [PendingRequiredAction]) {
        let user = try await services.database.read(tenant: context.tenant.id, now: services.now) {
            try await $0.user(id: context.user.id ?? 0)
        } ?? context.user
        return (user, try await actions(context).pending(user: user, customerType: context.customer.customerType))
    }

    // MARK: Pages

    /// What `required_action.mustache` shows.
    struct ActionPage: Encodable {
        struct Terms: Encodable {
            var paragraphs: [String]
            var document: String?
            var version: String
            var newVersion: Bool
            var acceptError: String?
        }
        struct Input: Encodable {
            var id, name, label, type: String
            var value: String
            var required, readOnly: Bool
            var autocomplete: String?
            var maxlength: Int?
            var hint, error: String?
        }
        struct CustomerData: Encodable { var inputs: [Input] }
        struct VerifyEmail: Encodable {
            var email: String
            var sent: Bool
        }
        struct Authenticator: Encodable {
            var uri, secret: String
            var codeError: String?
        }
        var label: String
        var message: String?
        var notice: String?
        var remaining: String?
        var action: String
        var next: String?
        var terms: Terms?
        var customerData: CustomerData?
        var verifyEmail: VerifyEmail?
        var authenticator: Authenticator?
    }

    private func page(_ request: Request, context: UserContext) async throws -> Response {
        let next = AuthController.safeNext(request.uri.queryParameters["next"].map(String.init))
        guard let pending = try pendingAction(context) else { return continuation(next: next, pending: context.pendingActions) }
        if pending.type == .changePassword { return Pages.redirect(Self.pagePath(pending)) }
        return try await render(pending, context: context, next: next)
    }

    private func render(_ pending: PendingRequiredAction, context: UserContext, next: String?, submitted: [String: String]? = nil,
                        problems: [FieldProblem] = [], notice: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let tenant = context.tenant, locale = context.locale
        let action = tenant.definition.requiredActions?[pending.id]
        func t(_ key: String, _ values: [String: String] = [:]) -> String { tenant.theme.text(key, locale: locale, values) }
        func error(_ field: String) -> String? { problems.first { $0.field == field }?.message.resolve(locale) }
        let others = context.pendingActions.filter { $0.id != pending.id }.count
        var model = ActionPage(label: Self.label(pending, tenant: tenant, locale: locale), message: action?.message?.resolve(locale),
                               notice: notice, remaining: others > 0 ? t("required_actions.remaining", ["count": String(others)]) : nil,
                               action: Routes.requiredAction.path(pending.id), next: next)
        switch pending.type {
        case .acceptTerms:
            let text = action?.text?.resolve(locale) ?? ""
            model.terms = .init(paragraphs: text.components(separatedBy: "\n\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                                    .filter { !$0.isEmpty },
                                document: action?.document, version: action?.version ?? "", newVersion: pending.reason == .newVersion,
                                acceptError: error("accept"))
        case .confirmCustomerData:
            let form = try await actions(context).customerDataForm(pending.id, customer: context.customer)
            model.customerData = .init(inputs: form.inputs.map { input in
                let readOnly = form.readOnly.contains(input.name)
                return .init(id: "field-\(input.name)", name: input.name, label: input.label.resolve(locale), type: input.type,
                             value: readOnly ? (form.values[input.name] ?? "") : (submitted?[input.name] ?? form.values[input.name] ?? ""),
                             required: input.required && !readOnly, readOnly: readOnly, autocomplete: input.autocomplete,
                             maxlength: input.maxLength, hint: input.hint?.resolve(locale), error: error(input.name))
            })
        case .verifyEmail:
            let userId = context.user.id ?? 0
            let live = try await services.database.read(tenant: tenant.id, now: services.now) {
                try await $0.liveToken(userId: userId, purpose: RequiredActions.linkPurpose)
            }
            model.verifyEmail = .init(email: RequiredActions.mask(context.user.email ?? ""), sent: live != nil)
        case .enrolTOTP:
            let (uri, secret) = try await authenticator(pending, context: context)
            model.authenticator = .init(uri: uri, secret: secret, codeError: error("code"))
        case .changePassword:
            throw PortalError.notFound
        }
        // The error summary links to the inputs by their ids.
        let linked = problems.map { FieldProblem(field: pending.type == .confirmCustomerData ? "field-\($0.field)" : $0.field,
                                                 code: $0.code, message: $0.message) }
        return Pages.render("required_action", model, errors: linked, title: model.label, context: context, status: status)
    }

    private func post(_ request: Request, context: UserContext) async throws -> Response {
        let form = try await SubmittedForm.read(request, context: context)
        let next = AuthController.safeNext(form.value("next"))
        guard let pending = try pendingAction(context) else { return continuation(next: next, pending: context.pendingActions) }
        let actions = actions(context), locale = context.locale
        do {
            switch pending.type {
            case .acceptTerms:
                try await actions.acceptTerms(pending, user: context.user, accepted: ["1", "on", "true"].contains(form["accept"]),
                                              version: form.value("version"), locale: locale)
            case .confirmCustomerData:
                let names = Set(RequiredActionRules.confirmationInputs(
                    context.tenant.definition.requiredActions?[pending.id] ?? Self.noAction, customerType: context.customer.customerType,
                    in: context.tenant.definition).map(\.name))
                let submitted = form.fields.filter { names.contains($0.key) }
                do {
                    try await actions.confirmCustomerData(pending, user: context.user, customer: context.customer, submitted: submitted, locale: locale)
                } catch let refusal as UseCaseRefusal where refusal.code == "invalid" {
                    return try await render(pending, context: context, next: next, submitted: submitted, problems: refusal.problems,
                                            status: .unprocessableContent)
                }
            case .verifyEmail:
                _ = try await actions.sendEmailVerification(pending, user: context.user, link: verificationLink(context.tenant), locale: locale)
                return Pages.redirect(Routes.requiredAction.path(pending.id) + (next.map {
                    "?next=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/")
                } ?? ""))
            case .changePassword:
                return Pages.redirect(Self.pagePath(pending))
            case .enrolTOTP:
                try await actions.confirmTOTP(pending, user: context.user, code: form["code"], verify: codeCheck(), locale: locale)
            }
        } catch let refusal as UseCaseRefusal {
            let status: HTTPResponse.Status = refusal.code == "version_changed" ? .conflict : .unprocessableContent
            return try await render(pending, context: context, next: next, problems: refusal.problems,
                                    notice: refusal.problems.isEmpty ? refusal.message : nil, status: status)
        }
        return continuation(next: next, pending: try await freshPending(context).pending)
    }

    /// `enrol_totp`: the `otpauth://` URI of the user's enrolment in progress (drawing its secret when there is
    /// none) and the secret as typed by hand.
    private func authenticator(_ pending: PendingRequiredAction, context: UserContext) async throws -> (uri: String, secret: String) {
        let random = services.random
        let secret = try await actions(context).totpEnrolment(pending, user: context.user, newSecret: { TOTPCodes.newSecret(using: random) },
                                                              locale: context.locale)
        let uri = TOTPCodes.uri(secret: secret, account: context.user.username, issuer: context.tenant.definition.name)
        return (uri, TOTPCodes.typedSecret(uri))
    }

    /// Checks an authenticator code against a secret, now.
    private func codeCheck() -> @Sendable (String, String) -> Bool {
        let now = services.now
        return { secret, code in TOTPCodes.verify(code, secret: secret, at: now) }
    }

    /// The e-mailed link of `verify_email` for a token.
    private func verificationLink(_ tenant: PortalTenant) -> @Sendable (String) -> String {
        let base = services.baseURL(for: tenant)
        return { base + Routes.emailVerification.path(query: ["t": $0]) }
    }

    /// A stand-in for an action the tenant no longer lists (its form has no inputs).
    private static let noAction: RequiredAction = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try! decoder.decode(RequiredAction.self, from: Data(#"{"type": "confirm_customer_data", "label": "-"}"#.utf8))
    }()

    // MARK: The e-mailed link

    /// What `required_action_notice.mustache` shows.
    struct NoticePage: Encodable {
        var title, message: String
        var loggedIn: Bool
    }

    /// Follows the link `verify_email` sent. A browser signed in as the user goes on (home, then the next pending
    /// action); any other is told the address is confirmed and may log in.
    func followVerificationLink(_ request: Request, context: TenantContext) async throws -> Response {
        let tenant = context.tenant, locale = context.locale
        let title = tenant.theme.text("required_actions.email.title", locale: locale)
        do {
            let userId = try await RequiredActions(services: services.application, tenant: tenant.served)
                .verifyEmail(linkToken: request.uri.queryParameters["t"].map(String.init) ?? "", locale: locale)
            if context.session?.user.id == userId { return Pages.redirect(Routes.dashboard.path()) }
            return Pages.render("required_action_notice", NoticePage(title: title, message: tenant.theme.text("required_actions.email.verified", locale: locale),
                                                                     loggedIn: context.session != nil),
                                title: title, context: context)
        } catch let refusal as UseCaseRefusal {
            return Pages.render("required_action_notice", NoticePage(title: title, message: refusal.message, loggedIn: context.session != nil),
                                title: title, context: context, status: refusal.code == "link_expired" ? .gone : .badRequest)
        }
    }

    // MARK: API

    private func apiGet(context: UserContext) async throws -> Response {
        guard let pending = try pendingAction(context) else { throw PortalError.notFound }
        return API.json(try await detail(pending, context: context))
    }

    /// What completing `pending` takes, as the API shows it.
    private func detail(_ pending: PendingRequiredAction, context: UserContext) async throws -> ActionJSON {
        let tenant = context.tenant, locale = context.locale
        var json = Self.summary(pending, tenant: tenant, locale: locale)
        let action = tenant.definition.requiredActions?[pending.id]
        switch pending.type {
        case .acceptTerms:
            json.version = action?.version
            json.text = action?.text?.resolve(locale)
            json.document = action?.document
        case .confirmCustomerData:
            let form = try await actions(context).customerDataForm(pending.id, customer: context.customer)
            json.fields = form.inputs.map {
                .init(name: $0.name, label: $0.label.resolve(locale), type: $0.type, required: $0.required, readOnly: form.readOnly.contains($0.name),
                      value: form.values[$0.name])
            }
        case .verifyEmail:
            let userId = context.user.id ?? 0
            json.email = RequiredActions.mask(context.user.email ?? "")
            json.linkSent = try await services.database.read(tenant: tenant.id, now: services.now) {
                try await $0.liveToken(userId: userId, purpose: RequiredActions.linkPurpose)
            } != nil
        case .changePassword:
            json.passwordRequirements = PasswordPolicyEvaluator(policy: tenant.definition.login.password).requirements().map { $0.label.resolve(locale) }
        case .enrolTOTP:
            (json.otpauthUri, json.secret) = try await authenticator(pending, context: context)
        }
        return json
    }

    /// The body of `POST /required-actions/{id}`: the keys of the action's type.
    struct CompletionRequest: Decodable {
        var accept: Bool?
        var version: String?
        var values: [String: String]?
        var currentPassword, password, passwordConfirmation: String?
        var code: String?
    }

    private func apiPost(_ request: Request, context: UserContext) async throws -> Response {
        let body = try await API.decode(CompletionRequest.self, from: request, context: context)
        guard let pending = try pendingAction(context) else { throw PortalError.notFound }
        let actions = actions(context), locale = context.locale
        var token: String?
        var cookies: [Cookie] = []
        var status: HTTPResponse.Status = .ok
        do {
            switch pending.type {
            case .acceptTerms:
                try await actions.acceptTerms(pending, user: context.user, accepted: body.accept ?? false, version: body.version, locale: locale)
            case .confirmCustomerData:
                try await actions.confirmCustomerData(pending, user: context.user, customer: context.customer, submitted: body.values ?? [:],
                                                      locale: locale)
            case .verifyEmail:
                _ = try await actions.sendEmailVerification(pending, user: context.user, link: verificationLink(context.tenant), locale: locale)
                status = .accepted
            case .changePassword:
                let accounts = Accounts(services: services, tenant: context.tenant)
                switch try await accounts.changeOwnPassword(session: context.session, current: body.currentPassword ?? "",
                                                            password: body.password ?? "", confirmation: body.passwordConfirmation ?? "",
                                                            completing: pending) {
                case .failure(let problems): throw PortalError.invalid(problems.problems)
                case .success(let issued):
                    token = issued.first { $0.name == CookieName.session }?.value
                    if !context.viaBearerToken { cookies = issued }
                }
            case .enrolTOTP:
                try await actions.confirmTOTP(pending, user: context.user, code: body.code ?? "", verify: codeCheck(), locale: locale)
            }
        } catch let refusal as UseCaseRefusal {
            switch refusal.code {
            case "not_pending": throw PortalError.notFound
            case "version_changed", "email_changed": throw PortalError.conflict(refusal.message)
            default:
                throw PortalError.invalid(refusal.problems.isEmpty
                    ? [FieldProblem(field: "_form", code: refusal.code, message: LocalizedText(translations: [locale: refusal.message]))]
                    : refusal.problems)
            }
        }
        let remaining = status == .accepted ? context.pendingActions : try await freshPending(context).pending
        var response = API.json(StateJSON(actions: remaining.map { Self.summary($0, tenant: context.tenant, locale: locale) }, token: token),
                                status: status)
        response.setCookies(cookies)
        return response
    }
}
