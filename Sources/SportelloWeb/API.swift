import Foundation
import Hummingbird
import SportelloCore
import SportelloStore

/// The error body of every `/api/v1` failure: a stable code, a message in the tenant's language and,
/// for invalid input, every field problem at once.
struct APIErrorBody: Codable {
    struct FieldError: Codable {
        var field: String
        var code: String
        var message: String
    }
    struct Detail: Codable {
        var code: String
        var message: String
        /// `form_closed`: when the form opens next (ISO 8601), absent when it never opens again.
        var opensAt: String?
        var fields: [FieldError]?
    }
    var error: Detail
}

/// JSON answers and request bodies of `/api/v1`.
enum API {
    static let prefix = "/api/v1"

    static func json<Value: Encodable>(_ value: Value, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func noContent() -> Response { Response(status: .noContent, headers: [.cacheControl: "no-store"]) }

    /// Decodes a JSON body (snake_case keys). A cookie-authenticated request must also send the CSRF
    /// secret in `X-CSRF-Token`; a bearer-token request needs none (another site cannot attach it).
    static func decode<Body: Decodable>(_ type: Body.Type, from request: Request, context: some PageContext) async throws -> Body {
        try checkCSRF(request, context: context)
        let buffer = try await request.body.collect(upTo: 1 << 20)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(Body.self, from: Data(buffer: buffer))
        } catch {
            throw PortalError.badRequest("the body is not the JSON this operation takes")
        }
    }

    /// For state-changing API calls without a body (DELETE): the same CSRF rule as `decode`.
    static func checkCSRF(_ request: Request, context: some PageContext) throws {
        guard !context.viaBearerToken else { return }
        let sent = request.headers.first { $0.name.canonicalName == "x-csrf-token" }?.value ?? ""
        guard !sent.isEmpty, !context.csrfToken.isEmpty, Secrets.constantTimeEquals(sent, context.csrfToken) else {
            throw PortalError.csrfRejected
        }
        if let session = context.currentSession, !Secrets.constantTimeEquals(Secrets.hash(sent), session.record.csrfTokenHash) {
            throw PortalError.csrfRejected
        }
    }

    /// An amount in cents as the API shows it: `{"cents": 12345, "currency": "EUR"}`.
    struct Money: Codable, Sendable {
        var cents: Int64
        var currency = "EUR"
        init(_ cents: Int64) { self.cents = cents }
    }
}

// MARK: OpenAPI

/// A JSON Schema, enough to describe the API's bodies in the OpenAPI document.
public indirect enum JSONSchema: Sendable {
    case string(format: String? = nil, description: String? = nil)
    case integer
    case number
    case boolean
    case array(JSONSchema)
    case object([String: JSONSchema], required: [String] = [])
    case reference(String)
    case nullable(JSONSchema)
    case enumeration([String])

    var document: [String: Any] {
        switch self {
        case .string(let format, let description):
            var node: [String: Any] = ["type": "string"]
            if let format { node["format"] = format }
            if let description { node["description"] = description }
            return node
        case .integer: return ["type": "integer", "format": "int64"]
        case .number: return ["type": "number"]
        case .boolean: return ["type": "boolean"]
        case .array(let items): return ["type": "array", "items": items.document]
        case .object(let properties, let required):
            var node: [String: Any] = ["type": "object", "properties": properties.mapValues(\.document)]
            // A nil optional is left out of the JSON (Swift's encoders skip it), so a nullable property is never required.
            let present = required.filter { name in
                if case .nullable = properties[name] { return false }
                return true
            }
            if !present.isEmpty { node["required"] = present.sorted() }
            return node
        case .reference(let name): return ["$ref": "#/components/schemas/\(name)"]
        case .nullable(let inner):
            return ["anyOf": [inner.document, ["type": "null"]]]
        case .enumeration(let values): return ["type": "string", "enum": values]
        }
    }
}

/// One operation of `/api/v1`, as listed in the OpenAPI document.
public struct APIOperation: Sendable {
    public struct Parameter: Sendable {
        public var name: String
        /// `path` or `query`.
        public var location: String
        public var required: Bool
        public var description: String
        public var schema: JSONSchema

        public init(_ name: String, in location: String = "query", required: Bool = false, description: String,
                    schema: JSONSchema = .string()) {
            self.name = name; self.location = location; self.required = required; self.description = description; self.schema = schema
        }
    }

    public var method: String
    /// OpenAPI path under the server URL, with `{id}` placeholders (`/invoices/{id}`).
    public var path: String
    public var summary: String
    /// The feature that must be granted (shown in the description), nil for every logged-in user.
    public var feature: String?
    /// Other tenants' ids of the same feature (`contracts.view` is `services.view` at Tunda): the operation
    /// is listed for a tenant that defines any of them.
    public var otherFeatures: [String]
    var allFeatures: [String] { (feature.map { [$0] } ?? []) + otherFeatures }
    public var parameters: [Parameter]
    /// The name of the request body's schema, if the operation takes one.
    public var requestBody: String?
    /// The success status and the name of its schema (nil: no body).
    public var success: (status: Int, schema: String?)
    /// Whether the caller must be logged in.
    public var authenticated: Bool
    /// The page whose features open the operation (its handler calls `require(page:)`): the operation is
    /// listed exactly for the tenants that define one of the page's features.
    public var page: PortalPage?
    /// Other success statuses with the same body (an idempotent repeat answering 200 instead of 201).
    public var otherSuccess: [Int] = []
    /// Error statuses of its own beyond the common ones (503 when a plugin it relies on is not available).
    public var otherErrors: [(status: Int, description: String)] = []

    public init(_ method: String, _ path: String, summary: String, feature: String? = nil, otherFeatures: [String] = [],
                parameters: [Parameter] = [], requestBody: String? = nil, success: (status: Int, schema: String?) = (200, nil),
                authenticated: Bool = true, page: PortalPage? = nil) {
        self.method = method; self.path = path; self.summary = summary; self.feature = feature; self.otherFeatures = otherFeatures
        self.parameters = parameters
        self.requestBody = requestBody; self.success = success; self.authenticated = authenticated; self.page = page
    }

    /// An operation on `route` (its pattern without the API prefix; `:id` captures become `{id}`).
    public init(_ method: String, _ route: Route, summary: String, feature: String? = nil, otherFeatures: [String] = [],
                parameters: [Parameter] = [], requestBody: String? = nil, success: (status: Int, schema: String?) = (200, nil),
                authenticated: Bool = true, page: PortalPage? = nil) {
        let path = route.pattern.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
        self.init(method, path, summary: summary, feature: feature, otherFeatures: otherFeatures, parameters: parameters,
                  requestBody: requestBody, success: success, authenticated: authenticated, page: page)
    }

    /// The same operation with further success statuses.
    func withOtherSuccess(_ statuses: [Int]) -> APIOperation {
        var copy = self
        copy.otherSuccess = statuses
        return copy
    }

    /// The same operation with an error status of its own.
    func withError(_ status: Int, _ description: String) -> APIOperation {
        var copy = self
        copy.otherErrors.append((status, description))
        return copy
    }

    /// The features of `tenant` that open this operation; nil when the tenant does not serve it.
    public func definedFeatures(in tenant: TenantDefinition) -> [String]? {
        if let page {
            let defined = page.definedFeatures(in: tenant)
            return defined.isEmpty ? nil : defined
        }
        let defined = allFeatures.filter { tenant.feature($0) != nil }
        return !allFeatures.isEmpty && defined.isEmpty ? nil : defined
    }

    /// Whether the handler can answer 404 for this tenant: an id in the path, or a page some roles reach without it.
    var mayBeNotFound: Bool { path.contains("{") }
}

/// The OpenAPI document of a tenant, from the operations and schemas of its catalogue.
public enum APICatalog {
    /// The OpenAPI 3.1 document of `tenant`'s API: only the operations whose feature the tenant defines.
    static func document(for tenant: PortalTenant, serverURL: String, locale: String) -> [String: Any] {
        let definition = tenant.definition
        var paths: [String: [String: Any]] = [:]
        for operation in operations(for: tenant) {
            let features = operation.definedFeatures(in: definition) ?? []
            var node: [String: Any] = ["summary": operation.summary, "operationId": operationId(operation)]
            var description = operation.authenticated ? "Needs a session (cookie or bearer token)." : "Open to everyone."
            if let feature = features.first {
                let label = definition.feature(feature)?.label.resolve(locale) ?? feature
                description += " Feature `\(feature)` (\(label)) must be granted to the user's role."
            }
            node["description"] = description
            if !operation.parameters.isEmpty {
                node["parameters"] = operation.parameters.map { parameter -> [String: Any] in
                    ["name": parameter.name, "in": parameter.location, "required": parameter.required || parameter.location == "path",
                     "description": parameter.description, "schema": parameter.schema.document]
                }
            }
            if let body = operation.requestBody {
                node["requestBody"] = ["required": true, "content": ["application/json": ["schema": JSONSchema.reference(body).document]]]
            }
            var responses: [String: Any] = [:]
            if let schema = operation.success.schema {
                responses[String(operation.success.status)] = ["description": "Success",
                                                               "content": ["application/json": ["schema": JSONSchema.reference(schema).document]]]
            } else {
                responses[String(operation.success.status)] = ["description": "Success"]
            }
            for status in operation.otherSuccess { responses[String(status)] = responses[String(operation.success.status)] }
            for (status, text) in errorResponses(operation) {
                responses[status] = ["description": text, "content": ["application/json": ["schema": JSONSchema.reference("Error").document]]]
            }
            node["responses"] = responses
            if operation.authenticated { node["security"] = [["bearer": [String]()], ["session": [String]()]] }
            paths[operation.path, default: [:]][operation.method.lowercased()] = node
        }
        var schemas = tenant.catalog.apiSchemas.mapValues(\.document)
        for (name, schema) in tenant.surface.apiSchemas { schemas[name] = schema.document }
        schemas["Error"] = JSONSchema.object(["error": .object([
            "code": .string(description: "Stable error code"), "message": .string(description: "In the tenant's language"),
            "fields": .array(.object(["field": .string(), "code": .string(), "message": .string()], required: ["field", "code", "message"])),
        ], required: ["code", "message"])], required: ["error"]).document
        return [
            "openapi": "3.1.0",
            "info": ["title": "\(definition.name) API", "version": "1",
                     "description": "The customer area of \(definition.name). Errors are JSON with a stable `error.code`."],
            "servers": [["url": serverURL + API.prefix]],
            "paths": paths,
            "components": [
                "schemas": schemas,
                "securitySchemes": [
                    "bearer": ["type": "http", "scheme": "bearer", "description": "The token from POST /session."],
                    "session": ["type": "apiKey", "in": "cookie", "name": CookieName.session,
                                "description": "The portal's session cookie; state-changing calls then need the X-CSRF-Token header."],
                ],
            ],
        ]
    }

    /// The operations `tenant` serves (and its OpenAPI document lists).
    public static func operations(for tenant: PortalTenant) -> [APIOperation] {
        (tenant.catalog.apiOperations + tenant.surface.apiOperations).filter { $0.definedFeatures(in: tenant.definition) != nil }
    }

    private static func operationId(_ operation: APIOperation) -> String {
        let words = operation.path.split(separator: "/").map { $0.hasPrefix("{") ? "By" + $0.dropFirst().dropLast().capitalized : $0.capitalized }
        return operation.method.lowercased() + words.joined().replacingOccurrences(of: "_", with: "").replacingOccurrences(of: ".", with: "")
    }

    /// Every error status the operation's handler and the middleware in front of it can answer.
    static func errorResponses(_ operation: APIOperation) -> [(String, String)] {
        var list: [(String, String)] = []
        let writes = operation.method != "GET"
        if operation.requestBody != nil || operation.parameters.contains(where: { $0.location == "query" }) || operation.path == "/session" {
            list.append(("400", "The body is not the JSON this operation takes, or a parameter is malformed (`bad_request`)"))
        }
        if operation.authenticated {
            list.append(("401", "Not logged in (`login_required`)"))
            list.append(("403", "The role does not grant the feature (`forbidden`), the password must be changed first "
                         + "(`password_change_required`), an action the tenant requires after login is pending "
                         + "(`required_action`: complete it through /required-actions/{id}) or a cookie session sent no X-CSRF-Token (`csrf_rejected`)"))
        } else if operation.path == "/session" {
            list.append(("401", "Wrong identifier or password (`invalid_credentials`), or the authenticator's code is missing or wrong (`totp_required`)"))
            list.append(("403", "The password must be changed first (`password_change_required`)"))
        }
        // An id in the path, the query or the body may name nothing of this customer's.
        if operation.mayBeNotFound || operation.requestBody != nil || operation.parameters.contains(where: { $0.location == "query" }) {
            list.append(("404", "No such item for this customer (`not_found`)"))
        }
        if writes && operation.authenticated {
            list.append(("409", "The item's current state does not allow it (`conflict`)"))
        }
        if writes || operation.parameters.contains(where: { $0.location == "query" }) {
            list.append(("422", "Invalid input, every field problem listed (`invalid`)"))
        }
        if writes { list.append(("429", "Too many attempts: wait and retry (`too_many_requests`, `Retry-After`)")) }
        list += operation.otherErrors.map { (String($0.status), $0.description) }
        return list
    }
}
