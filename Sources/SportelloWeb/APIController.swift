import Foundation
import Hummingbird
import SportelloCore
import SportelloStore

/// `/api/v1`: sessions for API clients, the caller's identity and the OpenAPI document.
struct APIController {
    let services: PortalServices

    static let operations: [APIOperation] = [
        APIOperation("POST", "/session", summary: "Log in; returns a bearer token", requestBody: "LoginRequest",
                     success: (201, "SessionToken"), authenticated: false),
        APIOperation("DELETE", "/session", summary: "Log out (ends the session of the token or cookie)", success: (204, nil)),
        APIOperation("GET", "/me", summary: "The logged-in user, the customer and the features the role grants", success: (200, "Me")),
        APIOperation("GET", "/openapi.json", summary: "This document", success: (200, nil), authenticated: false),
    ]

    static let schemas: [String: JSONSchema] = [
        "LoginRequest": .object(["identifier": .string(description: "Username or e-mail, as the tenant allows"),
                                 "password": .string(format: "password"),
                                 "code": .string(description: "The authenticator app's code, for users who enrolled one (401 `totp_required` without it)")],
                                required: ["identifier", "password"]),
        "SessionToken": .object(["token": .string(description: "Send as `Authorization: Bearer <token>`"),
                                 "token_type": .enumeration(["Bearer"]), "expires_at": .integer, "me": .reference("Me")],
                                required: ["token", "token_type", "expires_at", "me"]),
        "Me": .object([
            "username": .string(), "name": .string(), "email": .nullable(.string(format: "email")),
            "role": .string(), "role_label": .string(), "features": .array(.string()), "pages": .array(.string()),
            "customer": .object(["code": .string(), "name": .string(), "type": .string(), "vat_number": .nullable(.string()),
                                 "tax_code": .nullable(.string())], required: ["code", "name", "type"]),
        ], required: ["username", "name", "role", "role_label", "features", "pages", "customer"]),
    ]

    struct LoginRequest: Decodable { var identifier: String; var password: String; var code: String? }

    struct Me: Encodable {
        struct Customer: Encodable { var code, name, type: String; var vatNumber, taxCode: String? }
        var username, name: String
        var email: String?
        var role, roleLabel: String
        var features: [String]
        var pages: [String]
        var customer: Customer
    }

    struct SessionToken: Encodable { var token: String; var tokenType = "Bearer"; var expiresAt: Int64; var me: Me }

    func addRoutes(tenant group: RouterGroup<TenantContext>, user userGroup: RouterGroup<UserContext>) {
        group.get("\(API.prefix)/openapi.json") { _, context in openAPI(context: context) }
        group.post("\(API.prefix)/session") { request, context in try await login(request, context: context) }
        userGroup.delete("\(API.prefix)/session") { request, context in try await logout(request, context: context) }
        userGroup.get("\(API.prefix)/me") { _, context in API.json(Self.me(session: context.session, tenant: context.tenant, locale: context.locale)) }
    }

    private func openAPI(context: TenantContext) -> Response {
        let document = APICatalog.document(for: context.tenant, serverURL: services.baseURL(for: context.tenant), locale: context.locale)
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "public, max-age=60"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// API login: no CSRF token (there is no session yet and the answer is a token, not a cookie).
    private func login(_ request: Request, context: TenantContext) async throws -> Response {
        let buffer = try await request.body.collect(upTo: 64 * 1024)
        let decoder = JSONDecoder()
        guard let body = try? decoder.decode(LoginRequest.self, from: Data(buffer: buffer)) else {
            throw PortalError.badRequest("expected {\"identifier\": …, \"password\": …}")
        }
        let accounts = Accounts(services: services, tenant: context.tenant)
        switch try await accounts.login(identifier: body.identifier, password: body.password, remoteAddress: context.remoteAddress,
                                        totpCode: body.code) {
        case .success(let user, let cookies):
            guard let token = cookies.first(where: { $0.name == CookieName.session })?.value,
                  let session = try await Sessions.load(token: token, tenant: context.tenant, services: services) else {
                throw PortalError.loginRequired
            }
            _ = user
            return API.json(SessionToken(token: token, expiresAt: session.record.expiresAt,
                                         me: Self.me(session: session, tenant: context.tenant, locale: context.locale)), status: .created)
        case .mustChangePassword:
            throw PortalError.passwordChangeRequired
        case .codeRequired:
            let message = context.tenant.theme.text("required_actions.totp.login_code_required", locale: context.locale)
            return API.json(APIErrorBody(error: .init(code: "totp_required", message: message)), status: .unauthorized)
        case .rejected:
            let message = context.tenant.theme.text("login.rejected", locale: context.locale)
            return API.json(APIErrorBody(error: .init(code: "invalid_credentials", message: message)), status: .unauthorized)
        case .throttled:
            throw PortalError.tooManyRequests
        }
    }

    private func logout(_ request: Request, context: UserContext) async throws -> Response {
        try API.checkCSRF(request, context: context)
        let hash = context.session.record.tokenHash
        try await services.database.write(tenant: context.tenant.id, now: services.now) { try await $0.deleteSession(tokenHash: hash) }
        var response = API.noContent()
        if !context.viaBearerToken { response.setCookies(Sessions.clearCookies(secure: services.configuration.secureCookies)) }
        return response
    }

    static func me(session: ActiveSession, tenant: PortalTenant, locale: String) -> Me {
        let definition = tenant.definition
        let user = session.user, customer = session.customer
        let features = definition.features.keys.filter { tenant.authorization.isAllowed(session.principal, $0) }
        let pages = tenant.pages(openTo: session.principal).map(\.path)
        return Me(username: user.username,
                  name: [user.firstName, user.lastName].compactMap { $0 }.joined(separator: " ").nonEmpty ?? user.username,
                  email: user.email, role: user.role, roleLabel: definition.roles[user.role]?.label.resolve(locale) ?? user.role,
                  features: features, pages: pages,
                  customer: .init(code: customer.customerCode, name: customer.displayName, type: customer.customerType,
                                  vatNumber: customer.vatNumber, taxCode: customer.taxCode))
    }
}
