import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

/// A JSON call on the test client.
struct JSONCall {
    var status: HTTPResponse.Status
    var json: [String: Any]
    var raw: String
    var headers: HTTPFields
    var body: ByteBuffer

    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    /// The 422 body's field problems: field → code.
    var fieldCodes: [String: String] {
        let fields = ((json["error"] as? [String: Any])?["fields"] as? [[String: Any]]) ?? []
        return Dictionary(fields.compactMap { field in (field["field"] as? String).map { ($0, field["code"] as? String ?? "") } }) { first, _ in first }
    }

    static func send(_ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, token: String? = nil,
                     cookie: String? = nil, csrf: String? = nil, body: [String: Any]? = nil) async throws -> JSONCall {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let cookie { headers[.cookie] = cookie }
        if let csrf { headers[HTTPFields.Element.Name("X-CSRF-Token")!] = csrf }
        var buffer: ByteBuffer?
        if let body {
            headers[.contentType] = "application/json"
            buffer = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body))
        }
        let response = try await client.execute(uri: path, method: method, headers: headers, body: buffer)
        let text = String(buffer: response.body)
        let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        return JSONCall(status: response.status, json: json, raw: text, headers: response.headers, body: response.body)
    }
}

@Suite("JSON API beside the pages")
struct APITests {
    @Test("a bearer token from POST /session opens /me; wrong passwords get a stable JSON error", arguments: TestEngine.available)
    func sessionAndMe(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let username = try await portal.userForRole("referente_amministratore")
            let app = buildApplication(services: portal.services)
            try await app.test(.router) { client in
                let wrong = try await JSONCall.send(client, .post, "/api/v1/session", body: ["identifier": username, "password": "nope"])
                #expect(wrong.status == .unauthorized)
                #expect(wrong.errorCode == "invalid_credentials")
                let anonymous = try await JSONCall.send(client, .get, "/api/v1/me")
                #expect(anonymous.status == .unauthorized)
                #expect(anonymous.errorCode == "login_required")
                let login = try await JSONCall.send(client, .post, "/api/v1/session", body: ["identifier": username, "password": "Vecchia2026!"])
                #expect(login.status == .created)
                let token = try #require(login.json["token"] as? String)
                #expect(token.count == 43)
                let me = try await JSONCall.send(client, .get, "/api/v1/me", token: token)
                #expect(me.status == .ok)
                #expect(me.json["role"] as? String == "referente_amministratore")
                #expect(me.json["role_label"] as? String == "Referente Amministratore")
                #expect((me.json["features"] as? [String])?.contains("contracts.view") == true)
                #expect((me.json["pages"] as? [String])?.contains("/contracts") == true)
                let contracts = try await JSONCall.send(client, .get, "/api/v1/contracts", token: token)
                #expect(contracts.status == .ok)
                #expect(contracts.json["contracts"] is [Any])
                let logout = try await JSONCall.send(client, .delete, "/api/v1/session", token: token)
                #expect(logout.status == .noContent)
                #expect(try await JSONCall.send(client, .get, "/api/v1/me", token: token).status == .unauthorized, "the token ends with the session")
            }
        }
    }

    @Test("a feature the role lacks is a JSON 403 with code forbidden", arguments: TestEngine.available)
    func forbiddenAsJSON(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let username = try await portal.userForRole("referente_semplice", toggles: [])
            let app = buildApplication(services: portal.services)
            try await app.test(.router) { client in
                let login = try await JSONCall.send(client, .post, "/api/v1/session", body: ["identifier": username, "password": "Vecchia2026!"])
                let token = try #require(login.json["token"] as? String)
                let contracts = try await JSONCall.send(client, .get, "/api/v1/contracts", token: token)
                #expect(contracts.status == .forbidden)
                #expect(contracts.errorCode == "forbidden")
                #expect((contracts.json["error"] as? [String: Any])?["message"] as? String != nil)
            }
        }
    }

    @Test("with a cookie session, state-changing calls need the X-CSRF-Token header", arguments: TestEngine.available)
    func cookieSessionsNeedCSRF(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let username = try await portal.userForRole("referente_amministratore")
            try await portal.test { browser in
                try await browser.logIn(username)
                let cookie = browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
                let forged = try await JSONCall.send(browser.client, .delete, "/api/v1/session", cookie: cookie)
                #expect(forged.status == .forbidden)
                #expect(forged.errorCode == "csrf_rejected")
                #expect(try await browser.get("/").status == .ok, "the session survived the forged call")
                let real = try await JSONCall.send(browser.client, .delete, "/api/v1/session", cookie: cookie, csrf: browser.cookies["sportello_csrf"])
                #expect(real.status == .noContent)
            }
        }
    }

    @Test("openapi.json describes the tenant's own operations", arguments: ["unidata", "unogas"])
    func openAPIDocument(tenant: String) async throws {
        try await PortalHarness.with(engine: .sqlite, tenant: tenant) { portal in
            let app = buildApplication(services: portal.services)
            try await app.test(.router) { client in
                let document = try await JSONCall.send(client, .get, "/api/v1/openapi.json")
                #expect(document.status == .ok)
                #expect(document.json["openapi"] as? String == "3.1.0")
                let paths = try #require(document.json["paths"] as? [String: Any])
                #expect(paths["/me"] != nil && paths["/session"] != nil)
                #expect((paths["/contracts"] != nil) == (tenant == "unidata"), "only operations whose feature the tenant defines")
                let schemas = try #require((document.json["components"] as? [String: Any])?["schemas"] as? [String: Any])
                #expect(schemas["Error"] != nil && schemas["Me"] != nil)
                // Every $ref points at a schema that exists.
                let references = document.raw.components(separatedBy: "#/components/schemas/").dropFirst()
                    .map { String($0.prefix { $0 != "\"" }) }
                for name in references { #expect(schemas[name] != nil, "dangling reference \(name)") }
            }
        }
    }

    @Test("a session token of one tenant is worthless on another tenant's host", arguments: TestEngine.available)
    func sessionsAreFencedByTenant(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let username = try await portal.userForRole("referente_amministratore")
            let app = buildApplication(services: portal.services)
            let token = try await app.test(.router) { client in
                let login = try await JSONCall.send(client, .post, "/api/v1/session", body: ["identifier": username, "password": "Vecchia2026!"])
                return try #require(login.json["token"] as? String)
            }
            let mine = try await Sessions.load(token: token, tenant: portal.tenant, services: portal.services)
            #expect(mine != nil)
            var other = try #require(providerTenants["tim"])
            other.id = "tim-\(UUID().uuidString.prefix(8).lowercased())"
            let otherTenant = PortalTenant(definition: other, theme: portal.tenant.theme)
            let elsewhere = try await Sessions.load(token: token, tenant: otherTenant, services: portal.services)
            #expect(elsewhere == nil, "the same token looked up under another tenant finds nothing")
        }
    }
}
