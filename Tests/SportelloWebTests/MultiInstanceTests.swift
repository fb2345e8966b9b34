import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

/// Two instances (two applications with their own database handles and caches) on one database: an
/// authority change made through A holds on B from B's very next request.
@Suite("Multiple instances on one database")
struct MultiInstanceTests {
    enum Change: String, CaseIterable, Sendable {
        case blocked, deleted, roleLowered = "role lowered", toggleOff = "toggle switched off", loggedOut = "logged out"
    }

    @Test("Every authority change made on instance A is effective on instance B at once: 0 stale reads, 0 stale writes",
          arguments: TestEngine.available)
    func noStaleAuthority(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let tenantId = portal.definition.id
            final class Tally: @unchecked Sendable { var reads: [Change: Int] = [:]; var writes: [Change: Int] = [:] }  // one task at a time
            let tally = Tally()
            let trials = 5
            try await withTwoInstances(portal) { clientA, clientB in
                for change in Change.allCases {
                    for _ in 0..<trials {
                        let customer = try await portal.abuseCustomer()
                        let subject = change == .toggleOff
                            ? try await portal.abuseUser(customer, role: "referente_semplice", toggles: ["invoices"])
                            : try await portal.abuseUser(customer, role: "referente_amministratore")
                        // A new throttle window for the logins (the clock then stands still: B's cached copy never expires).
                        portal.clock.advance(by: 61)
                        let token = try await abuseToken(clientA, subject.username)
                        // B reads (and caches) the session, user and customer.
                        #expect(try await abuseCall(clientB, .get, "/api/v1/me", token: token).status == .ok)
                        if change == .toggleOff {
                            #expect(try await abuseCall(clientB, .get, "/api/v1/invoices", token: token).status == .ok)
                        }
                        // The change, made through instance A's own database handle (as A's pages do).
                        try await portal.database.write(tenant: tenantId, now: Int64(portal.clock.now().timeIntervalSince1970)) { transaction in
                            var user = try #require(try await transaction.user(id: subject.id))
                            switch change {
                            case .blocked: user.status = .blocked; try await transaction.updateUser(user)
                            case .deleted: _ = try await transaction.deleteUser(id: subject.id, customerId: customer)
                            case .roleLowered: user.role = "referente_semplice"; try await transaction.updateUser(user)
                            case .toggleOff: user.toggles = ""; try await transaction.updateUser(user)
                            case .loggedOut: try await transaction.deleteSession(tokenHash: Secrets.hash(token))
                            }
                        }
                        // B's next read.
                        let me = try await abuseCall(clientB, .get, "/api/v1/me", token: token)
                        let readIsStale: Bool
                        switch change {
                        case .blocked, .deleted, .loggedOut: readIsStale = me.status != .unauthorized
                        case .roleLowered: readIsStale = me.json["role"] as? String != "referente_semplice"
                        case .toggleOff:
                            readIsStale = try await abuseCall(clientB, .get, "/api/v1/invoices", token: token).status != .forbidden
                        }
                        if readIsStale { tally.reads[change, default: 0] += 1 }
                        // B's next write: an invitation (the toggle case: a referente semplice never may invite).
                        let write = try await abuseCall(clientB, .post, "/api/v1/users/invitations", token: token,
                                                        body: ["role": "referente_semplice", "email": uniqueEmail("stale"),
                                                               "username": "stale.\(UUID().uuidString.prefix(6).lowercased())"])
                        if write.status == .created { tally.writes[change, default: 0] += 1 }
                    }
                }
            }
            for change in Change.allCases {
                print("stale authority (\(engine)) \(change.rawValue): \(tally.reads[change] ?? 0)/\(trials) stale reads, \(tally.writes[change] ?? 0)/\(trials) stale writes on instance B")
            }
            #expect(tally.reads.values.reduce(0, +) == 0)
            #expect(tally.writes.values.reduce(0, +) == 0)
        }
    }

    @Test("Requests in flight on instance B share authority checks, yet each answers for its own session as stored now",
          arguments: TestEngine.available)
    func concurrentChecksAnswerPerSession(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let tenantId = portal.definition.id
            try await withTwoInstances(portal) { clientA, clientB in
                portal.clock.advance(by: 61)
                let customer = try await portal.abuseCustomer()
                var tokens: [String] = []
                for _ in 0..<12 {
                    let user = try await portal.abuseUser(customer, role: "referente_amministratore")
                    tokens.append(try await abuseToken(clientA, user.username))
                }
                for token in tokens { #expect(try await abuseCall(clientB, .get, "/api/v1/me", token: token).status == .ok) }
                // Every other session ends through instance A.
                let ended = Set(tokens.enumerated().filter { $0.offset % 2 == 0 }.map(\.element))
                try await portal.database.write(tenant: tenantId, now: Int64(portal.clock.now().timeIntervalSince1970)) { transaction in
                    for token in ended { try await transaction.deleteSession(tokenHash: Secrets.hash(token)) }
                }
                let statuses = try await withThrowingTaskGroup(of: (String, HTTPResponse.Status).self) { group in
                    for round in 0..<3 {
                        for token in tokens {
                            group.addTask { (token, try await abuseCall(clientB, .get, "/api/v1/me", token: token).status) }
                        }
                        _ = round
                    }
                    return try await group.reduce(into: [(String, HTTPResponse.Status)]()) { $0.append($1) }
                }
                #expect(statuses.count == tokens.count * 3)
                for (token, status) in statuses {
                    #expect(status == (ended.contains(token) ? .unauthorized : .ok))
                }
            }
        }
    }

    @Test("Lists instance B reuses from one request to the next show what instance A wrote since, from B's very next request",
          arguments: TestEngine.available)
    func reusedListsSeeOtherInstancesWrites(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let tenantId = portal.definition.id
            let now: @Sendable () -> Int64 = { Int64(portal.clock.now().timeIntervalSince1970) }
            try await withTwoInstances(portal) { clientA, clientB in
                // The clock then stands still: nothing B keeps expires by age.
                portal.clock.advance(by: 61)
                let customer = try await portal.abuseCustomer()
                let user = try await portal.abuseUser(customer, role: "referente_amministratore")
                let token = try await abuseToken(clientA, user.username)
                func invoices() async throws -> [String: String] {
                    let list = try await abuseCall(clientB, .get, "/api/v1/invoices", token: token)
                    #expect(list.status == .ok)
                    var statuses: [String: String] = [:]
                    for item in list.json["items"] as? [[String: Any]] ?? [] {
                        if let number = item["number"] as? String { statuses[number] = item["status"] as? String }
                    }
                    return statuses
                }
                #expect(try await invoices() == [:])
                #expect(try await invoices() == [:])
                let issued = CalendarDay(instant: now()).description
                for round in 1...3 {
                    try await portal.database.write(tenant: tenantId, now: now()) { transaction in
                        _ = try await transaction.insertInvoice(InvoiceRecord(
                            customerId: customer, number: "MI-\(round)", issuedOn: issued, dueOn: issued,
                            netCents: 100, taxCents: 22, totalCents: 122, status: .unpaid))
                    }
                    #expect(try await invoices().count == round, "the invoice written through A in round \(round)")
                }
                try await portal.database.write(tenant: tenantId, now: now()) { transaction in
                    try await transaction.update(.invoices).set("status", to: "paid").where("number", .equal, "MI-2").run()
                }
                #expect(try await invoices()["MI-2"] == "paid")
                try await portal.database.write(tenant: tenantId, now: now()) { transaction in
                    try await transaction.delete(.invoices).where("number", .equal, "MI-1").run()
                }
                #expect(try await invoices().keys.sorted() == ["MI-2", "MI-3"])
            }
        }
    }
}

/// Instance A (the harness's services) and instance B (`secondInstance`) on one database, each behind its own
/// application; B's database handle is closed whatever happens.
private func withTwoInstances(_ portal: PortalHarness,
                              _ body: @escaping @Sendable (any TestClientProtocol, any TestClientProtocol) async throws -> Void) async throws {
    let second = try await portal.secondInstance()
    do {
        try await buildApplication(services: portal.services).test(.router) { clientA in
            try await buildApplication(services: second.services).test(.router) { clientB in
                try await body(clientA, clientB)
            }
        }
    } catch { await second.database.close(); throw error }
    await second.database.close()
}
