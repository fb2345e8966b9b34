import Foundation
import HTTPTypes
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// The `Host` header's name (HTTPTypes keeps the first one as the request's authority).
enum HostHeader {
    static let name = HTTPField.Name("Host")!
}

/// Cookie names used by every portal (host-only cookies: one tenant's cookie never reaches another host).
enum CookieName {
    static let session = "sportello_session"
    static let csrf = "sportello_csrf"
    static let locale = "sportello_lang"
    static let flow = "sportello_flow"
}

/// The request's cookies, read from its `Cookie` headers once (Hummingbird's `request.cookies` parses
/// the header again, and each cookie's attributes, on every lookup).
struct RequestCookies {
    private var pairs: [(name: Substring, value: Substring)] = []

    init(_ request: Request) { self.init(headers: request.headers[values: .cookie]) }

    /// Cookies from the values of `Cookie` headers (`a=1; b=2`).
    init(headers: [String]) {
        for header in headers {
            for part in header.utf8.split(separator: UInt8(ascii: ";")) {
                let trimmed = part.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
                guard let equals = trimmed.firstIndex(of: UInt8(ascii: "=")) else { continue }
                pairs.append((Substring(trimmed[..<equals]), Substring(trimmed[trimmed.index(after: equals)...])))
            }
        }
    }

    /// The value of the first cookie called `name`.
    subscript(_ name: String) -> String? {
        pairs.first { $0.name == name }.map { String($0.value) }
    }
}

/// Header names HTTPTypes does not predefine, validated once.
private enum SecurityHeaderName {
    static let frameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let permissionsPolicy = HTTPField.Name("Permissions-Policy")!
    static let openerPolicy = HTTPField.Name("Cross-Origin-Opener-Policy")!
}

private enum ForwardingHeader {
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let forwarded = HTTPField.Name("Forwarded")!
}

/// Headers every response carries: a strict Content-Security-Policy and the usual hardening.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    let secure: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        Self.apply(to: &response, secure: secure)
        return response
    }

    /// Sets the headers on `response` (also used for the pages answered outside the router: 503, 500).
    static func apply(to response: inout Response, secure: Bool) {
        response.headers[.contentSecurityPolicy] = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[SecurityHeaderName.frameOptions] = "DENY"
        response.headers[SecurityHeaderName.referrerPolicy] = "same-origin"
        response.headers[SecurityHeaderName.permissionsPolicy] = "camera=(), microphone=(), geolocation=(), payment=()"
        response.headers[SecurityHeaderName.openerPolicy] = "same-origin"
        if secure { response.headers[.strictTransportSecurity] = "max-age=31536000" }
    }
}

/// Finds the tenant from the Host header, the locale, the CSRF secret and the session, and turns
/// portal errors into pages in the tenant's language.
struct TenantMiddleware: RouterMiddleware {
    typealias Context = PortalContext
    let services: PortalServices

    func handle(_ request: Request, context: PortalContext, next: (Request, PortalContext) async throws -> Response) async throws -> Response {
        var context = context
        if !services.configuration.trustedProxies.isEmpty {
            context.remoteAddress = ClientAddress.resolve(peer: context.remoteAddress, forwardedFor: request.headers[values: ForwardingHeader.forwardedFor],
                                                          forwarded: request.headers[values: ForwardingHeader.forwarded],
                                                          trusted: services.configuration.trustedProxies)
        }
        // RFC 9112 §3.2: more than one Host header is a bad request (which one would a proxy have used?).
        // Hummingbird takes the first as the authority and leaves any other among the fields.
        if request.headers[HostHeader.name] != nil {
            return Response(status: .badRequest, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "Bad Request: more than one Host header\n")))
        }
        let host = request.head.authority ?? ""
        guard let tenant = services.tenants.tenant(forHost: host) else {
            if request.uri.path == "/health" { return try await next(request, context) }
            if services.tenants.isUnavailable(host: host) {
                var response = Pages.htmlResponse(Self.unavailablePortalPage, status: .serviceUnavailable)
                response.headers[.retryAfter] = "60"
                return response
            }
            return Pages.htmlResponse(Self.unknownHostPage, status: .notFound)
        }
        context.tenant = tenant
        let cookies = RequestCookies(request)
        let requested = request.uri.queryParameters["lang"].map(String.init) ?? cookies[CookieName.locale]
        context.locale = tenant.locale(preferring: requested)
        if let secret = cookies[CookieName.csrf], secret.count == 43 {
            context.csrfToken = secret
        } else {
            context.csrfToken = Secrets.token(using: services.random).plain
            context.issueCSRFCookie = true
        }
        // On the API a bearer token, when given, decides who is calling, whatever cookie comes with it
        // (an explicit credential wins over an ambient one; an invalid token is a 401, not the cookie's user).
        if request.uri.path.hasPrefix("/api/"), let token = Self.bearerToken(request) {
            context.session = try await Sessions.load(token: token, tenant: tenant, services: services)
            context.viaBearerToken = context.session != nil
        } else if let token = cookies[CookieName.session] {
            context.session = try await Sessions.load(token: token, tenant: tenant, services: services)
        }
        if let session = context.session, let userId = session.user.id {
            try await Self.followLocale(requested: requested, explicit: request.uri.queryParameters["lang"] != nil, userId: userId,
                                        session: session, tenant: tenant, services: services, context: &context)
        }
        // Required actions: worked out here (the contexts cannot wait on the store), enforced by `UserContext`.
        if let session = context.session, RequiredActionsGate.applies(to: request.uri.path, method: request.method) {
            context.pendingActions = try await RequiredActionsGate.pending(session: session, tenant: tenant, services: services)
            context.opensRequiredAction = RequiredActionsGate.opens(path: request.uri.path, method: request.method)
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as PortalError {
            response = errorResponse(error, request: request, context: context)
        } catch let error as HTTPError where error.status == .notFound {
            response = errorResponse(.notFound, request: request, context: context)
        } catch let error as MailLimitExceeded {
            response = error.response(api: request.uri.path.hasPrefix("/api/"), context: context)
        }
        if context.issueCSRFCookie {
            // Lax, like the session cookie: a customer arriving from another site (a payment page, a link in webmail)
            // brings it along, so the page keeps the token the session expects. The token in the form is the defence.
            response.setCookie(Cookie(name: CookieName.csrf, value: context.csrfToken, path: "/",
                                      secure: services.configuration.secureCookies, httpOnly: true, sameSite: .lax))
        }
        if let lang = request.uri.queryParameters["lang"], tenant.definition.locales.available.contains(String(lang)) {
            response.setCookie(Cookie(name: CookieName.locale, value: String(lang), maxAge: 365 * 86_400, path: "/",
                                      secure: services.configuration.secureCookies, httpOnly: true, sameSite: .lax))
        }
        return response
    }

    /// The user's language: a switch while logged in (`?lang=`) is remembered on the user (their messages follow it);
    /// a browser that says nothing (no `?lang=`, no cookie) gets the language the user chose last.
    private static func followLocale(requested: String?, explicit: Bool, userId: Int64, session: ActiveSession, tenant: PortalTenant,
                                     services: PortalServices, context: inout PortalContext) async throws {
        if explicit, let requested, tenant.definition.locales.available.contains(requested), session.user.locale != requested {
            try await services.database.write(tenant: tenant.id, now: services.now) { try await $0.setUserLocale(requested, userId: userId) }
            context.session?.user.locale = requested
        } else if requested == nil, let chosen = session.user.locale {
            context.locale = tenant.locale(preferring: chosen)
        }
    }

    private func errorResponse(_ error: PortalError, request: Request, context: PortalContext) -> Response {
        guard let tenant = context.tenant else { return Pages.htmlResponse("Not found", status: .notFound) }
        if case .requiredAction(let pending) = error {
            return request.uri.path.hasPrefix("/api/") ? RequiredActionsGate.apiResponse(for: pending, tenant: tenant, locale: context.locale)
                                                       : RequiredActionsGate.redirect(for: pending, request: request)
        }
        if request.uri.path.hasPrefix("/api/") {
            var problems: [APIErrorBody.FieldError]?
            if case .invalid(let list) = error {
                problems = list.map { .init(field: $0.field, code: $0.code, message: $0.message.resolve(context.locale)) }
            }
            let body = APIErrorBody(error: .init(code: error.code, message: message(for: error, tenant: tenant, locale: context.locale),
                                                 fields: problems))
            return API.json(body, status: error.status)
        }
        switch error {
        case .loginRequired:
            let next = request.uri.path + (request.uri.query.map { "?\($0)" } ?? "")
            return Pages.redirect("/login?next=\(next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/")")
        case .passwordChangeRequired:
            return Pages.redirect("/password/change")
        default:
            guard let page = try? TenantContext(context: context) else { return Pages.htmlResponse("Error", status: error.status) }
            let text = message(for: error, tenant: tenant, locale: context.locale)
            let title = tenant.theme.text("error.\(error.code).title", locale: context.locale)
            return Pages.render("error", ErrorPage(message: text, code: error.code, status: Int(error.status.code)),
                                title: title, context: page, status: error.status)
        }
    }

    private func message(for error: PortalError, tenant: PortalTenant, locale: String) -> String {
        switch error {
        case .forbidden(let feature):
            let label = tenant.definition.feature(feature)?.label.resolve(locale) ?? feature
            return tenant.theme.text("error.forbidden.message", locale: locale, ["feature": label])
        case .badRequest(let detail):
            return tenant.theme.text("error.bad_request.message", locale: locale, ["detail": detail])
        case .conflict(let detail):
            return detail
        case .invalid(let problems):
            return problems.first?.message.resolve(locale) ?? tenant.theme.text("form.has_errors", locale: locale)
        default:
            return tenant.theme.text("error.\(error.code).message", locale: locale)
        }
    }

    /// The token of an `Authorization: Bearer …` header, if there is one.
    static func bearerToken(_ request: Request) -> String? {
        guard let authorization = request.headers[.authorization], authorization.lowercased().hasPrefix("bearer ") else { return nil }
        let token = String(authorization.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    /// A request on the host of a tenant whose file does not load (and never did on this instance): a 503 that names no
    /// cause (the operators see it in the log, `/ready` and the metrics). Neither language is the tenant's own, as the
    /// tenant is not known: Italian, then English.
    static let unavailablePortalPage = "<!doctype html><html lang=\"it\"><head><meta charset=\"utf-8\"><title>Portale non disponibile</title></head>"
        + "<body><main><h1>Portale temporaneamente non disponibile</h1><p>Riprova tra qualche minuto.</p>"
        + "<p lang=\"en\">This portal is temporarily unavailable. Please try again in a few minutes.</p></main></body></html>"

    /// A request on a host no tenant serves: a plain 404 that says nothing about the portals this server runs.
    static let unknownHostPage = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found</title></head>"
        + "<body><main><h1>Not found</h1><p>No portal is served at this address.</p></main></body></html>"
}
