import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloApplication
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb
import SportelloTestSupport

/// WINDTRE with `recharges.online` bound to the sandbox PSP with `methods` (card, bill).
///
/// The binding is added here: tenants/windtre.yaml cannot carry it until the capability slot `recharges.online`
/// (UsageModule.swift) takes a payments plugin, which `validate` checks.
private func windtre(methods: [String]) throws -> TenantDefinition {
    var definition = try #require(providerTenants["windtre"])
    let json = #"{"features": {"recharges.online": {"methods": ["# + methods.map { "\"\($0)\"" }.joined(separator: ",") + "]}}}"
    var plugins = definition.plugins ?? OrderedMap()
    plugins["sandbox_psp"] = try JSONDecoder().decode(PluginBinding.self, from: Data(json.utf8))
    definition.plugins = plugins
    return definition
}

/// Follows the real time (the PSP signs with its clock) until cancelled.
private func followRealTime(_ clock: ManualWallClock) -> Task<Void, Never> {
    Task {
        while !Task.isCancelled {
            clock.set(Date())
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// A WINDTRE portal connected to the sandbox PSP (or to none), served on a real port the PSP calls back.
private func rechargePortal(_ engine: TestEngine, methods: [String] = ["card", "bill"], connected: Bool = true,
                            _ body: (PortalHarness) async throws -> Void) async throws {
    let port = try LivePortal.freePort()
    let portal = try await PortalHarness(engine: engine, tenant: "windtre", definition: try windtre(methods: methods),
                                         payments: connected ? try SandboxPSP.gateways() : .none, port: port, clockStart: Date())
    let follower = followRealTime(portal.clock)
    let live = connected ? try await LivePortal.start(portal.services) : nil
    do { try await body(portal) } catch {
        follower.cancel(); await live?.stop(); await portal.close(); throw error
    }
    follower.cancel()
    await follower.value
    await live?.stop()
    await portal.close()
}

/// An active SIM of the user's customer, with a 20 € recharge already made in a shop.
private func addSIM(_ portal: PortalHarness, username: String, number: String) async throws -> (line: Int64, customer: Int64) {
    try await portal.database.write(tenant: portal.definition.id) { transaction in
        let user = try #require(try await transaction.user(usernameKey: UsernameRules.key(for: username, caseSensitive: portal.definition.login.caseSensitive)))
        let contract = try await transaction.insertContract(ContractRecord(customerId: user.customerId, code: "K-\(number)", offer: "Mobile",
                                                                           kind: "mobile", startsOn: "2025-01-01"))
        let line = try await transaction.insertLine(LineRecord(customerId: user.customerId, contractId: contract, kind: "sim", identifier: number,
                                                               assignedUserId: user.id))
        _ = try await transaction.insertRecharge(RechargeRecord(customerId: user.customerId, lineId: line, rechargedAt: 1_700_000_000,
                                                                amountCents: 2_000, channel: "store"))
        return (line, user.customerId)
    }
}

private func recharges(_ portal: PortalHarness, line: Int64, customer: Int64) async throws -> [RechargeRecord] {
    try await portal.database.read(tenant: portal.definition.id) {
        try await $0.recharges(lineIds: [line], customerId: customer, windows: .unlimited)
    }.filter { $0.channel != "store" }
}

/// The line's credit: completed recharges minus spending (WINDTRE shows no credit page).
private func credit(_ portal: PortalHarness, line: Int64, customer: Int64) async throws -> Int64 {
    let totals = try await portal.database.read(tenant: portal.definition.id) { try await $0.prepaidCredit(lineId: line, customerId: customer) }
    return totals.recharged - totals.spent
}

private func payment(_ portal: PortalHarness, _ id: Int64) async throws -> OnlinePaymentRecord {
    try #require(try await portal.database.read(tenant: portal.definition.id) { try await $0.onlinePayment(id: id) })
}

private func settled(_ portal: PortalHarness, _ id: Int64) async throws -> OnlinePaymentRecord {
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline {
        let record = try await payment(portal, id)
        if !record.status.isOpen { return record }
        try await Task.sleep(for: .milliseconds(100))
    }
    Issue.record("payment \(id) was never settled")
    return try await payment(portal, id)
}

/// Starts a card recharge on the form; returns the payment id and the provider's page.
private func startCardRecharge(_ browser: Browser, line: Int64, amount: String,
                               sourceLocation: Testing.SourceLocation = #_sourceLocation) async throws -> (id: Int64, page: String) {
    let started = try await browser.post("/lines/\(line)/recharge", ["amount_euro": amount, "method": "card"])
    #expect(started.status == .seeOther, sourceLocation: sourceLocation)
    let location = try #require(started.location, sourceLocation: sourceLocation)
    let id = try #require(Int64(location.dropFirst("/payments/".count)), "sent to the payment's page, not \(location)", sourceLocation: sourceLocation)
    let status = try await browser.get(location)
    #expect(status.status == .ok && status.body.contains("Vai alla pagina di pagamento"), sourceLocation: sourceLocation)
    guard let range = status.body.range(of: "class=\"button primary\" href=\"") else {
        Issue.record("no link to the provider", sourceLocation: sourceLocation)
        throw PortalError.notFound
    }
    let page = status.body[range.upperBound...].prefix { $0 != "\"" }.replacingOccurrences(of: "&amp;", with: "&")
    #expect(page.hasPrefix(try #require(SandboxPSP.url) + "/pay/"), sourceLocation: sourceLocation)
    return (id, page)
}

private func apiToken(_ client: some TestClientProtocol, _ username: String) async throws -> String {
    let answer = try await JSONCall.send(client, .post, "/api/v1/session", body: ["identifier": username, "password": "Vecchia2026!"])
    #expect(answer.status == .created)
    return try #require(answer.json["token"] as? String)
}

@Suite("WINDTRE online recharges through the payments plugin", .enabled(if: SandboxPSP.isAvailable))
struct RechargePaymentsTests {
    @Test("card: the form has no card field; paid at the sandbox PSP → one recharge with the PSP reference, credited once",
          arguments: TestEngine.available)
    func cardPaid(engine: TestEngine) async throws {
        try await rechargePortal(engine) { portal in
            let admin = try await portal.userForRole("user_admin")
            let (line, customer) = try await addSIM(portal, username: admin, number: "3201112222")
            try await portal.test { browser in
                try await browser.logIn(admin)
                let form = try await browser.get("/lines/\(line)/recharge")
                #expect(form.status == .ok && form.body.contains("value=\"card\"") && form.body.contains("value=\"bill\""))
                #expect(!form.body.contains("card_number") && !form.body.contains("card_cvv"), "no card field in the portal")
                #expect(form.body.contains("SANDBOX — nessun addebito reale"))
                let (id, page) = try await startCardRecharge(browser, line: line, amount: "15")
                #expect(try await recharges(portal, line: line, customer: customer).isEmpty, "nothing recorded before the PSP says paid")
                let started = try await payment(portal, id)
                #expect(started.purpose == "recharge" && started.lineId == line && started.amountCents == 1_500 && started.invoiceId == nil)
                let hosted = try await SandboxPSP.send(.GET, page)
                #expect(hosted.status == 200 && hosted.body.contains("15,00 €") && hosted.body.contains("3201112222"))
                let back = try await SandboxPSP.decide(pageURL: page, action: "approve")
                #expect(back.status == 303)
                let done = try await settled(portal, id)
                #expect(done.status == .paid)
                let rows = try await recharges(portal, line: line, customer: customer)
                #expect(rows.count == 1)
                let row = try #require(rows.first)
                #expect(row.status == .completed && row.amountCents == 1_500 && row.channel == "card")
                #expect(row.externalId == done.pspReference && row.externalId != nil, "the history's transaction id is the PSP's reference")
                #expect(row.simulated == true, "through the sandbox PSP nothing was charged, as for invoices")
                let returned = try await browser.get("/payments/\(id)?return=1")
                #expect(returned.body.contains("la ricarica risulta in questo portale") && returned.body.contains("3201112222"))
                #expect(try await credit(portal, line: line, customer: customer) == 3_500, "20 € + 15 € credit")
                let history = try await browser.get("/recharges")
                #expect(history.body.contains(try #require(done.pspReference)))
                // The PSP delivers again (or a replay): still one recharge.
                let sameAgain = try await SandboxPSP.notifications(ofPayment: try #require(done.pspReference))
                #expect(!sameAgain.isEmpty)
                #expect(try await recharges(portal, line: line, customer: customer).count == 1)
            }
        }
    }

    @Test("card refused or cancelled: no recharge, the attempt listed with the PSP's reference; a tampered notification changes nothing",
          arguments: TestEngine.available)
    func refusedCancelledTampered(engine: TestEngine) async throws {
        try await rechargePortal(engine) { portal in
            let admin = try await portal.userForRole("user_admin")
            let (line, customer) = try await addSIM(portal, username: admin, number: "3203334444")
            try await portal.test { browser in
                try await browser.logIn(admin)
                let (declined, declinedPage) = try await startCardRecharge(browser, line: line, amount: "10")
                _ = try await SandboxPSP.decide(pageURL: declinedPage, action: "decline")
                #expect(try await settled(portal, declined).status == .failed)
                let (cancelled, cancelledPage) = try await startCardRecharge(browser, line: line, amount: "20")
                _ = try await SandboxPSP.decide(pageURL: cancelledPage, action: "cancel")
                #expect(try await settled(portal, cancelled).status == .cancelled)
                let rows = try await recharges(portal, line: line, customer: customer)
                #expect(rows.count == 2 && rows.allSatisfy { $0.status == .failed }, "two attempts, no recharge: \(rows)")
                #expect(Set(rows.compactMap(\.externalId)) == Set([try await payment(portal, declined).pspReference,
                                                                    try await payment(portal, cancelled).pspReference].compactMap { $0 }))
                #expect(try await credit(portal, line: line, customer: customer) == 2_000, "the credit did not change")
                let page = try await browser.get("/payments/\(cancelled)?return=1")
                #expect(page.body.contains("la ricarica non è stata fatta") && page.body.contains("/lines/\(line)/recharge"))

                // A notification signed with another key for a new payment: refused, nothing recorded.
                let (open, _) = try await startCardRecharge(browser, line: line, amount: "5")
                let pspId = try #require(try await payment(portal, open).pspReference)
                let body = try JSONSerialization.data(withJSONObject: [
                    "id": "evt_forged_\(UUID().uuidString.prefix(6))", "type": "payment.succeeded",
                    "payment": ["id": pspId, "reference": String(open), "amount_cents": 500, "currency": "EUR", "method": "card"]] as [String: Any])
                let now = Int64(Date().timeIntervalSince1970)
                var headers = HTTPFields()
                headers[.contentType] = "application/json"
                headers[HTTPField.Name(PluginSignature.timestampHeader)!] = String(now)
                headers[HTTPField.Name(PluginSignature.signatureHeader)!] = PluginSignature(secret: "not-the-secret").sign(timestamp: now, body: body)
                let forged = try await browser.client.execute(uri: "/payments/notify/sandbox_psp", method: .post, headers: headers,
                                                              body: ByteBuffer(bytes: body))
                #expect(forged.status == .unauthorized)
                #expect(try await payment(portal, open).status == .pending)
                #expect(try await recharges(portal, line: line, customer: customer).count == 2, "still only the two attempts")
            }
        }
    }

    @Test("charge on the bill: recorded at once, not simulated; without the plugin connected the card is not offered, the bill still works; the API both ways",
          arguments: TestEngine.available)
    func billAndAPI(engine: TestEngine) async throws {
        try await rechargePortal(engine, connected: false) { portal in
            let admin = try await portal.userForRole("user_admin")
            let (line, customer) = try await addSIM(portal, username: admin, number: "3205556666")
            try await portal.test { browser in
                try await browser.logIn(admin)
                let form = try await browser.get("/lines/\(line)/recharge")
                #expect(form.body.contains("value=\"bill\"") && !form.body.contains("value=\"card\""))
                #expect(form.body.contains("Il pagamento con carta non è disponibile al momento"))
                let card = try await browser.post("/lines/\(line)/recharge", ["amount_euro": "10", "method": "card"])
                #expect(card.status == .serviceUnavailable && card.body.contains("non è disponibile"))
                let odd = try await browser.post("/lines/\(line)/recharge", ["amount_euro": "7", "method": "bill"])
                #expect(odd.status == .unprocessableContent && odd.body.contains("amount_euro-error"))
                let bill = try await browser.post("/lines/\(line)/recharge", ["amount_euro": "10", "method": "bill"])
                #expect(bill.location == "/lines?done=recharged_bill")
                let rows = try await recharges(portal, line: line, customer: customer)
                #expect(rows.count == 1 && rows.first?.channel == "bill" && rows.first?.status == .completed && rows.first?.simulated == false)
                #expect(try await credit(portal, line: line, customer: customer) == 3_000)

                let token = try await apiToken(browser.client, admin)
                let api = try await JSONCall.send(browser.client, .post, "/api/v1/lines/\(line)/recharges", token: token,
                                                  body: ["amount_euro": 5, "method": "bill"])
                #expect(api.status == .created && api.json["outcome"] as? String == "recharged")
                #expect((api.json["recharge"] as? [String: Any])?["channel"] as? String == "bill")
                let noCard = try await JSONCall.send(browser.client, .post, "/api/v1/lines/\(line)/recharges", token: token,
                                                     body: ["amount_euro": 5, "method": "card"])
                #expect(noCard.status == .serviceUnavailable)
                let paypal = try await JSONCall.send(browser.client, .post, "/api/v1/lines/\(line)/recharges", token: token,
                                                     body: ["amount_euro": 5, "method": "paypal"])
                #expect(paypal.status == .unprocessableContent)
                #expect(try await recharges(portal, line: line, customer: customer).count == 2)
            }
        }
    }

    @Test("API by card: 201 with the provider's page; the recharge only once the PSP confirms", arguments: TestEngine.available)
    func apiCard(engine: TestEngine) async throws {
        try await rechargePortal(engine) { portal in
            let admin = try await portal.userForRole("user_admin")
            let (line, customer) = try await addSIM(portal, username: admin, number: "3207778888")
            try await portal.test { browser in
                let token = try await apiToken(browser.client, admin)
                let api = try await JSONCall.send(browser.client, .post, "/api/v1/lines/\(line)/recharges", token: token,
                                                  body: ["amount_euro": 25, "method": "card"])
                #expect(api.status == .created && api.json["outcome"] as? String == "payment_started")
                let page = try #require(api.json["redirect_url"] as? String)
                let id = try #require((api.json["payment"] as? [String: Any])?["id"] as? Int)
                #expect(try await recharges(portal, line: line, customer: customer).isEmpty)
                _ = try await SandboxPSP.decide(pageURL: page, action: "approve")
                #expect(try await settled(portal, Int64(id)).status == .paid)
                let rows = try await recharges(portal, line: line, customer: customer)
                #expect(rows.count == 1 && rows.first?.amountCents == 2_500 && rows.first?.status == .completed)
            }
        }
    }
}
