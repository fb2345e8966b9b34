import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

/// One raw HTTP/1.1 exchange over a socket: the request is sent as written (absolute-form targets,
/// repeated headers), and the answer is returned. The blocking socket calls run on a thread of their
/// own, never on the cooperative pool the server under test needs.
private func rawExchange(port: Int, _ request: String) async throws -> String {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try blockingExchange(port: port, request) })
        }
    }
}

private func blockingExchange(port: Int, _ request: String) throws -> String {
    let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socketFD >= 0 else { throw PortalError.notFound }
    defer { close(socketFD) }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(socketFD, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw PortalError.notFound }
    let bytes = Array(request.utf8)
    _ = bytes.withUnsafeBytes { send(socketFD, $0.baseAddress, bytes.count, 0) }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = recv(socketFD, &buffer, buffer.count, 0)
        if count <= 0 { break }
        received += buffer[0..<count]
        if let text = String(bytes: received, encoding: .utf8), let end = text.range(of: "\r\n\r\n"),
           let length = text[..<end.lowerBound].split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-length:") })
               .flatMap({ Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }),
           text.utf8.distance(from: end.upperBound.samePosition(in: text.utf8)!, to: text.utf8.endIndex) >= length {
            break
        }
    }
    return String(decoding: received, as: UTF8.self)
}

@Suite("Hardening: hosts, redirects, credentials, names")
struct HardeningTests {
    @Test("a host no tenant serves gets a plain 404 that names no other portal")
    func unknownHostShowsNothing() async throws {
        try await PortalHarness.with(engine: .sqlite, tenant: "tim") { portal in
            let app = buildApplication(services: portal.services)
            try await app.test(.live) { client in
                let port = try #require(client.port)
                let answer = try await rawExchange(port: port, "GET / HTTP/1.1\r\nHost: unknown.example\r\nConnection: close\r\n\r\n")
                #expect(answer.hasPrefix("HTTP/1.1 404"))
                #expect(!answer.contains("localhost") && !answer.contains(portal.definition.name) && !answer.contains("<a "))
            }
        }
    }

    @Test("an absolute-form request line decides the host; two Host headers are a bad request")
    func absoluteFormAndDuplicateHost() async throws {
        try await PortalHarness.with(engine: .sqlite, tenant: "tim") { portal in
            let app = buildApplication(services: portal.services)
            try await app.test(.live) { client in
                let port = try #require(client.port)
                // The portal is served at "localhost": the target's host wins over the Host header (RFC 9112 §3.2.2).
                let absolute = try await rawExchange(port: port, "GET http://localhost/login HTTP/1.1\r\nHost: unknown.example\r\nConnection: close\r\n\r\n")
                #expect(absolute.hasPrefix("HTTP/1.1 200"), "got \(absolute.prefix(40))")
                let elsewhere = try await rawExchange(port: port, "GET http://unknown.example/login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                #expect(elsewhere.hasPrefix("HTTP/1.1 404"), "got \(elsewhere.prefix(40))")
                let twice = try await rawExchange(port: port, "GET /login HTTP/1.1\r\nHost: localhost\r\nHost: unknown.example\r\nConnection: close\r\n\r\n")
                #expect(twice.hasPrefix("HTTP/1.1 400"), "got \(twice.prefix(40))")
                let plain = try await rawExchange(port: port, "GET /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                #expect(plain.hasPrefix("HTTP/1.1 200"))
            }
        }
    }

    @Test("next= accepts only a strict same-site path", arguments: [
        "/\t/evil.example", "/%09/evil.example", "//evil.example", "/\\evil.example", "/%5Cevil.example", "/%2F/evil.example",
        "/%252F%252Fevil.example", "https://evil.example/", "/ok\r\nSet-Cookie: x=1", "/a\u{0}b", "/\u{202E}lmth.exe", " /x", "",
    ])
    func nextIsStrict(next: String) {
        #expect(AuthController.safeNext(next) == nil, "accepted \(next.debugDescription)")
    }

    @Test("next= keeps ordinary paths with their query")
    func nextKeepsPaths() {
        #expect(AuthController.safeNext("/invoices/12?notice=paid") == "/invoices/12?notice=paid")
        #expect(AuthController.safeNext("/requests?status=open&page=2#latest") == "/requests?status=open&page=2#latest")
        #expect(AuthController.safeNext("/") == "/")
    }

    @Test("a login with a TAB in next= goes home, not to /\\t/evil", arguments: TestEngine.available)
    func loginWithTabInNext(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let username = try await portal.userForRole("referente_amministratore")
            try await portal.test { browser in
                let page = try await browser.get("/login?next=%2F%09%2Fevil.example")
                #expect(!page.body.contains("evil.example"))
                let done = try await browser.post("/login", ["identifier": username, "password": "Vecchia2026!", "next": "/\t/evil.example"])
                #expect(done.location == "/")
            }
        }
    }

    @Test("on the API a valid bearer token wins over a session cookie, even a garbage one", arguments: TestEngine.available)
    func bearerWinsOverCookie(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let username = try await portal.userForRole("referente_amministratore")
            let app = buildApplication(services: portal.services)
            try await app.test(.router) { client in
                let login = try await JSONCall.send(client, .post, "/api/v1/session", body: ["identifier": username, "password": "Vecchia2026!"])
                let token = try #require(login.json["token"] as? String)
                let me = try await JSONCall.send(client, .get, "/api/v1/me", token: token, cookie: "sportello_session=garbage")
                #expect(me.status == .ok)
                #expect(me.json["role"] as? String == "referente_amministratore")
                let wrong = try await JSONCall.send(client, .get, "/api/v1/me", token: "not-a-token", cookie: "sportello_session=\(token)")
                #expect(wrong.status == .unauthorized, "a bearer token that is given decides, even when the cookie is valid")
            }
        }
    }

    @Test("names with control, bidi or zero-width characters are refused with a field error (profile, API)", arguments: TestEngine.available)
    func controlCharactersInNames(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            _ = try await portal.profileFixture(role: "main_account", username: "mario.rossi@example.it", email: "mario.rossi@example.it",
                                                customer: ProfileCustomers.tundaPrivate(code: "T-1"))
            try await portal.test { browser in
                try await browser.logIn("mario.rossi@example.it", profilePassword)
                let refused = try await browser.profileAPI(.patch, "/api/v1/profile", [
                    "user": ["first_name": "Mario\u{202E}oiraM", "last_name": "Ros\u{0}si"],
                    "customer": ["city": "Mi\u{200B}lano"],
                ])
                #expect(refused.status == .unprocessableContent)
                let problems = profileProblems(refused.json)
                #expect(problems["user.first_name"] == "invalid_characters")
                #expect(problems["user.last_name"] == "invalid_characters")
                #expect(problems["customer.city"] == "invalid_characters")
                let page = try await browser.post("/profile/account", ["user_first_name": "Ma\u{2066}rio", "user_last_name": "Rossi",
                                                                       "user_email": "mario.rossi@example.it"])
                #expect(page.status == .unprocessableContent)
                #expect((fieldError(page.body, "user_first_name") ?? fieldError(page.body, "first_name"))?.contains("caratteri non ammessi") == true)
            }
        }
    }
}

@Suite("Outbox secrets at rest", .enabled(if: MailSink.isAvailable))
struct OutboxSecretsTests {
    @Test("a delivered reset mail's stored row holds no usable token; the mailed link still works", arguments: TestEngine.available)
    func deliveredResetMailIsRedacted(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let email = uniqueEmail("sealed")
            _ = try await portal.withUser(role: "referente_amministratore", username: "sealed.me", email: email)
            try await portal.test { browser in
                _ = try await browser.follow(try await browser.post("/access/password_recovery", ["step": "0", "identifier": "sealed.me"]))
            }
            let stored = { @Sendable () async throws -> [String] in
                try await portal.database.read(tenant: portal.definition.id) { transaction in
                    try await transaction.select(.outbox).column("body_text").column("body_html").all()
                        .flatMap { [try $0.decode(column: "body_text", as: String.self), try $0.decode(column: "body_html", as: String?.self) ?? ""] }
                }
            }
            #expect(try await stored().allSatisfy { FieldSealer.isSealed($0) }, "queued bodies are sealed")
            let link = try Browser.link(in: try await portal.mail(to: email).text)
            let token = try #require(link.split(whereSeparator: { "/=?&".contains($0) }).map(String.init).max { $0.count < $1.count })
            #expect(token.count >= 32)
            let after = try await stored()
            #expect(!after.isEmpty && after.allSatisfy { !$0.contains(token) && !FieldSealer.isSealed($0) })
            #expect(after.first?.contains(OutboxBody.removedToken) == true)
            try await portal.test { browser in
                let form = try await browser.follow(try await browser.get(link))
                #expect(form.body.contains("name=\"password\""), "the mailed link works: only the stored copy lost the token")
            }
        }
    }
}
