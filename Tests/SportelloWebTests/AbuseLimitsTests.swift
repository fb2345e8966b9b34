import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing
import SportelloApplication
import SportelloCore
import SportelloMail
@testable import SportelloStore
@testable import SportelloWeb

private let abusePassword = "Vecchia2026!"

extension PortalHarness {
    /// A business customer for the abuse tests.
    func abuseCustomer() async throws -> Int64 {
        let typeId = definition.customerTypes.first { $0.value.kind == .business }?.key ?? definition.customerTypes.keys.first ?? ""
        let code = "A-\(UUID().uuidString.prefix(10))"
        return try await withCustomer(CustomerRecord(customerType: typeId, customerCode: code, companyName: "Azienda \(code)", createdAt: 0))
    }

    /// A user of the customer with password `Vecchia2026!`; returns its id and login name.
    func abuseUser(_ customerId: Int64, role: String, toggles: [String] = []) async throws -> (id: Int64, username: String) {
        let local = "a.\(role.prefix(6)).\(UUID().uuidString.prefix(8).lowercased())"
        let name = definition.login.identifiers == [.email] ? "\(local)@example.it" : local
        let hash = try await services.passwords.hash(abusePassword)
        let key = UsernameRules.key(for: name, caseSensitive: definition.login.caseSensitive)
        let id = try await database.write(tenant: definition.id, now: Int64(clock.now().timeIntervalSince1970)) { transaction in
            try await transaction.insertUser(UserRecord(customerId: customerId, username: name, usernameKey: key, email: "\(local)@example.it",
                                                        passwordHash: hash, role: role, toggles: toggles, createdAt: 0))
        }
        return (id, name)
    }

    /// Services of a second instance on the same database and tenant: its own connections, caches and
    /// counters in memory, as another `sportello serve` process would have. Close `database` when done.
    func secondInstance(configuration: WebConfiguration? = nil) async throws -> (services: PortalServices, database: Database) {
        let other = try await Database.open(database.location, modules: PortalModules.storage)
        let services = PortalServices(configuration: configuration ?? self.services.configuration, database: other,
                                      tenants: TenantRegistry([tenant]), clock: clock, passwords: self.services.passwords,
                                      mail: self.services.mail)
        return (services, other)
    }
}

/// API calls with any extra headers (the proxy tests set `X-Forwarded-For`).
func abuseCall(_ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, token: String? = nil,
               headers extra: [String: String] = [:], body: [String: Any]? = nil) async throws -> JSONCall {
    var headers = HTTPFields()
    if let token { headers[.authorization] = "Bearer \(token)" }
    for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
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

func abuseToken(_ client: some TestClientProtocol, _ username: String) async throws -> String {
    let answer = try await abuseCall(client, .post, "/api/v1/session", body: ["identifier": username, "password": abusePassword])
    #expect(answer.status == .created, "API login as \(username)")
    return try #require(answer.json["token"] as? String)
}

@Suite("Abuse limits: client address behind proxies, shared throttle, lockout, mail limits")
struct AbuseLimitsTests {
    // MARK: Item 5 — the client address

    @Test("Trusted proxies: the client is the right-most address not a trusted proxy; an untrusted peer's headers are ignored")
    func clientAddressFromTrustedProxies() throws {
        let trusted = try TrustedProxy.list(["10.0.0.0/8", "192.168.1.1", "fd00::/8"])
        // Untrusted peer: the header is the client's own invention.
        #expect(ClientAddress.resolve(peer: "203.0.113.9", forwardedFor: ["1.2.3.4"], forwarded: [], trusted: trusted) == "203.0.113.9")
        // No proxies configured: never read.
        #expect(ClientAddress.resolve(peer: "10.0.0.5", forwardedFor: ["1.2.3.4"], forwarded: [], trusted: []) == "10.0.0.5")
        // Through our proxy: the right-most untrusted hop, not the spoofable left-most one.
        #expect(ClientAddress.resolve(peer: "10.0.0.5", forwardedFor: ["6.6.6.6, 198.51.100.7"], forwarded: [], trusted: trusted) == "198.51.100.7")
        #expect(ClientAddress.resolve(peer: "10.0.0.5", forwardedFor: ["6.6.6.6", "198.51.100.7, 192.168.1.1"], forwarded: [], trusted: trusted) == "198.51.100.7")
        // RFC 7239 Forwarded, IPv6 with brackets and port.
        #expect(ClientAddress.resolve(peer: "fd00::1", forwardedFor: [], forwarded: ["for=\"[2001:db8::7]:4711\";proto=https, for=10.1.1.1"],
                                      trusted: trusted) == "2001:db8::7")
        // IPv4-mapped peers count as IPv4; garbage in the chain counts as the proxy itself.
        #expect(ClientAddress.resolve(peer: "::ffff:10.0.0.5", forwardedFor: ["198.51.100.7"], forwarded: [], trusted: trusted) == "198.51.100.7")
        #expect(ClientAddress.resolve(peer: "10.0.0.5", forwardedFor: ["not-an-ip"], forwarded: [], trusted: trusted) == "10.0.0.5")
        #expect(throws: TrustedProxy.InvalidTrustedProxy.self) { try TrustedProxy.list(["10.0.0.0/33"]) }
        #expect(throws: TrustedProxy.InvalidTrustedProxy.self) { try TrustedProxy.list(["proxy.example"]) }
    }

    @Test("Behind a trusted proxy each client has its own login throttle; a spoofed header from an untrusted peer changes nothing",
          arguments: TestEngine.available)
    func throttlePerClientBehindProxy(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let perIP = try #require(portal.definition.login.throttle?.perIP)
            for trusting in [true, false] {
                var configuration = portal.services.configuration
                configuration.trustedProxies = trusting ? try TrustedProxy.list(["127.0.0.1", "::1"]) : []
                let services = PortalServices(configuration: configuration, database: portal.database, tenants: TenantRegistry([portal.tenant]),
                                              clock: portal.clock, passwords: portal.services.passwords, mail: portal.services.mail)
                portal.clock.advance(by: 3_600)
                let app = buildApplication(services: services)
                try await app.test(.live) { client in
                    func attempt(_ from: String) async throws -> HTTPResponse.Status {
                        try await abuseCall(client, .post, "/api/v1/session", headers: ["X-Forwarded-For": "6.6.6.6, \(from)"],
                                            body: ["identifier": "nessuno", "password": "sbagliata"]).status
                    }
                    for _ in 0..<perIP {
                        let status = try await attempt("198.51.100.7")
                        #expect(status == .unauthorized)
                    }
                    let over = try await attempt("198.51.100.7")
                    #expect(over == .tooManyRequests, "the client's own limit")
                    // Another client behind the same proxy (trusted) / the same peer lying about its address (untrusted).
                    let other = try await attempt("198.51.100.8")
                    let expected: HTTPResponse.Status = trusting ? .unauthorized : .tooManyRequests
                    #expect(other == expected)
                }
            }
        }
    }

    @Test("Two instances on one database share the per-IP login throttle: one client gets the tenant's limit, not twice it",
          arguments: TestEngine.available)
    func throttleSharedByInstances(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let perIP = try #require(portal.definition.login.throttle?.perIP)
            let second = try await portal.secondInstance()
            let allowedCount = Mutex(0)
            do {
                try await buildApplication(services: portal.services).test(.router) { clientA in
                    try await buildApplication(services: second.services).test(.router) { clientB in
                        // Alternate between the instances, as a load balancer would.
                        for index in 0..<(3 * perIP) {
                            let body: [String: Any] = ["identifier": "nessuno", "password": "sbagliata"]
                            let status = index % 2 == 0 ? try await abuseCall(clientA, .post, "/api/v1/session", body: body).status
                                                        : try await abuseCall(clientB, .post, "/api/v1/session", body: body).status
                            if status == .unauthorized { allowedCount.withLock { $0 += 1 } } else { #expect(status == .tooManyRequests) }
                        }
                    }
                }
            } catch { await second.database.close(); throw error }
            await second.database.close()
            let allowed = allowedCount.withLock { $0 }
            print("shared throttle (\(engine)): \(allowed) of \(3 * perIP) attempts from one address allowed across 2 instances (limit \(perIP))")
            #expect(allowed == perIP)
        }
    }

    // MARK: Item 4 — lockout

    @Test("Lockout: a stranger's wrong passwords lock unknown browsers out, the owner's known browser still logs in; its own wrong passwords end its trust", arguments: TestEngine.available)
    func knownBrowserLimited(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let maxAttempts = try #require(portal.definition.login.lockout?.maxAttempts)
            let owner = try await portal.abuseUser(try await portal.abuseCustomer(), role: "referente_amministratore")
            try await portal.test { browser in
                try await browser.logIn(owner.username, abusePassword)
                let device = try #require(browser.cookies[Accounts.deviceCookie])
                browser.cookies["sportello_session"] = nil
                // The stranger (no device cookie) locks the account.
                browser.cookies[Accounts.deviceCookie] = nil
                for _ in 0..<maxAttempts { _ = try await browser.post("/login", ["identifier": owner.username, "password": "Sbagliata2026!"]) }
                #expect(try await browser.post("/login", ["identifier": owner.username, "password": abusePassword]).status == .unauthorized)
                // The owner's browser.
                browser.cookies[Accounts.deviceCookie] = device
                let owned = try await browser.post("/login", ["identifier": owner.username, "password": abusePassword])
                #expect(owned.location == "/", "the owner is not locked out by someone else's guesses")
                #expect(browser.cookies[Accounts.deviceCookie] == device, "a known browser keeps its token")
                // A thief holding the device cookie gets maxAttempts guesses, then the lock applies to it too.
                browser.cookies["sportello_session"] = nil
                for _ in 0..<maxAttempts { _ = try await browser.post("/login", ["identifier": owner.username, "password": "Sbagliata2026!"]) }
                #expect(try await browser.post("/login", ["identifier": owner.username, "password": abusePassword]).status == .unauthorized)
            }
        }
    }

    @Test("Lockout: a password reset ends the lock and forgets every known browser", arguments: TestEngine.available)
    func resetEndsLock(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let owner = try await portal.abuseUser(try await portal.abuseCustomer(), role: "referente_amministratore")
            let now = Int64(portal.clock.now().timeIntervalSince1970)
            try await portal.test { browser in
                try await browser.logIn(owner.username, abusePassword)
            }
            let accounts = Accounts(services: portal.services, tenant: portal.tenant)
            let newHash = try await portal.services.passwords.hash("Nuova2026!Pw")
            try await portal.database.write(tenant: portal.definition.id, now: now) { transaction in
                var user = try #require(try await transaction.user(id: owner.id))
                user.lockedUntil = now + 1_800
                try await transaction.updateUser(user)
                try await accounts.applyPassword(hash: newHash, to: &user, in: transaction)
            }
            let after = try await portal.database.read(tenant: portal.definition.id, now: now) { transaction in
                (try await transaction.user(id: owner.id), try await transaction.liveToken(userId: owner.id, purpose: "device"))
            }
            #expect(after.0?.lockedUntil == nil)
            #expect(after.1 == nil)
            try await portal.test { browser in
                let page = try await browser.post("/login", ["identifier": owner.username, "password": "Nuova2026!Pw"])
                #expect(page.location == "/")
            }
        }
    }

    // MARK: Item 3 — mail a user can trigger

    @Test("Invitations: a burst is capped per user, then per customer; the API answers 429 with Retry-After and a stable code, the page names the wait",
          arguments: TestEngine.available)
    func invitationBurstCapped(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let customer = try await portal.abuseCustomer()
            let admin = try await portal.abuseUser(customer, role: "referente_amministratore")
            let perUser = MailLimits.limit(for: .invitation).perUser
            try await portal.test { browser in
                let token = try await abuseToken(browser.client, admin.username)
                var created = 0
                var refused: JSONCall?
                for index in 0..<50 {
                    let answer = try await abuseCall(browser.client, .post, "/api/v1/users/invitations", token: token,
                                                     body: ["role": "referente_semplice", "email": uniqueEmail("flood"), "username": "flood.\(index).\(UUID().uuidString.prefix(4).lowercased())"])
                    if answer.status == .created { created += 1 } else { refused = refused ?? answer }
                }
                print("invitation burst (\(engine)): \(created) of 50 queued")
                #expect(created == perUser)
                let answer = try #require(refused)
                #expect(answer.status == .tooManyRequests)
                #expect(answer.errorCode == "mail_limit_reached")
                let wait = try #require(answer.headers[.retryAfter].flatMap(Int.init))
                #expect(wait > 0 && wait <= 3_600)
                // The page: a clear message with the wait.
                try await browser.logIn(admin.username, abusePassword)
                let page = try await browser.post("/users/invite", ["role": "referente_semplice", "email": uniqueEmail("p"), "username": "pagina.uno"])
                #expect(page.status == .tooManyRequests)
                #expect(page.body.contains("minuti"))
            }
            let outbox = try await portal.database.read(tenant: portal.definition.id) { try await $0.outbox(limit: 500) }
            #expect(outbox.filter { $0.kind == "invitation" }.count == perUser)
        }
    }

    @Test("Invitations: the per-customer limit holds across users and instances; re-sending to one address is capped per recipient",
          arguments: TestEngine.available)
    func invitationLimitsPerCustomerAndRecipient(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let limit = MailLimits.limit(for: .invitation)
            let services = portal.services
            let customer = try await portal.abuseCustomer()
            let limits = MailLimits(services: services.application, tenant: portal.tenant.served)
            var allowed = 0
            for user in 1...Int64(limit.perCustomer / limit.perUser + 2) {
                for _ in 0..<limit.perUser {
                    if (try? await limits.spend(.invitation, userId: user * 1_000, customerId: customer, recipient: uniqueEmail("c"))) != nil { allowed += 1 }
                }
            }
            #expect(allowed == limit.perCustomer)
            // Another instance sees the same counters.
            let second = try await portal.secondInstance()
            await #expect(throws: MailLimitExceeded.self) {
                try await MailLimits(services: second.services.application, tenant: portal.tenant.served).spend(.invitation, userId: 1, customerId: customer, recipient: "x@example.it")
            }
            await second.database.close()
            let other = try await portal.abuseCustomer()
            for index in 0..<limit.perRecipient {
                try await limits.spend(.invitation, userId: Int64(index + 1), customerId: other, recipient: "Same@Example.it")
            }
            await #expect(throws: MailLimitExceeded.self) {
                try await limits.spend(.invitation, userId: 99, customerId: other, recipient: "same@example.it")
            }
        }
    }
}
