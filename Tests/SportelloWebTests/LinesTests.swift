import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

/// A customer's SIM with a recharge, some spending and one option, for the user named `username`.
private func addSIM(_ portal: PortalHarness, username: String, assigned: Bool = true, number: String) async throws -> (line: Int64, service: Int64) {
    try await portal.database.write(tenant: portal.definition.id) { transaction in
        let user = try #require(try await transaction.user(usernameKey: UsernameRules.key(for: username, caseSensitive: portal.definition.login.caseSensitive)))
        let contract = try await transaction.insertContract(ContractRecord(customerId: user.customerId, code: "K-\(number)", offer: "Mobile",
                                                                           kind: "mobile", startsOn: "2025-01-01"))
        let line = try await transaction.insertLine(LineRecord(customerId: user.customerId, contractId: contract, kind: "sim", identifier: number,
                                                               assignedUserId: assigned ? user.id : nil))
        let service = try await transaction.insertService(ServiceRecord(contractId: contract, lineId: line, name: "Giga Extra", monthlyFeeCents: 500))
        _ = try await transaction.insertRecharge(RechargeRecord(customerId: user.customerId, lineId: line, rechargedAt: 1_700_000_000,
                                                                amountCents: 2_000, channel: "shop"))
        try await transaction.insertUsage([UsageRecord(customerId: user.customerId, lineId: line, startedAt: 1_790_000_000, kind: "call",
                                                       durationSeconds: 60, costCents: 350)])
        return (line, service)
    }
}

@Suite("Line self-service: credit, recharge, SIM block, options")
struct LinesTests {
    @Test("TIM: credit is recharges minus spending; with no payment method bound the recharge page says it is not available and takes no card",
          arguments: TestEngine.available)
    func creditAndRecharge(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let admin = try await portal.userForRole("amministratore_full")
            let (line, _) = try await addSIM(portal, username: admin, number: "3331112222")
            try await portal.test { browser in
                try await browser.logIn(admin)
                let page = try await browser.get("/lines")
                #expect(page.status == .ok)
                #expect(page.body.contains("3331112222") && page.body.contains("16,50 €"), "20,00 € recharged minus 3,50 € spent")
                let form = try await browser.get("/lines/\(line)/recharge")
                #expect(form.status == .ok && form.body.contains("La ricarica online non è disponibile al momento"))
                #expect(!form.body.contains("card_number") && !form.body.contains("card_cvv"), "no card field in the portal")
                let odd = try await browser.post("/lines/\(line)/recharge", ["amount_euro": "7"])
                #expect(odd.status == .unprocessableContent, "only the amounts offered")
                let refused = try await browser.post("/lines/\(line)/recharge", ["amount_euro": "10", "method": "card"])
                #expect(refused.status == .serviceUnavailable, "nothing bound: nothing recorded, nothing simulated")
                #expect(try await browser.get("/lines").body.contains("16,50 €"))
            }
            let audit = try await portal.database.read(tenant: portal.definition.id) { try await $0.auditLog() }
            #expect(!audit.contains { $0.action == "line.recharged" })
        }
    }

    @Test("TIM: an Amministratore Light recharges only the line assigned to them", arguments: TestEngine.available)
    func ownLineScope(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let light = try await portal.userForRole("amministratore_light")
            let (own, _) = try await addSIM(portal, username: light, number: "3330000001")
            let (other, _) = try await addSIM(portal, username: light, assigned: false, number: "3330000002")
            try await portal.test { browser in
                try await browser.logIn(light)
                let page = try await browser.get("/lines")
                #expect(page.body.contains("3330000001") && !page.body.contains("3330000002"))
                #expect(try await browser.get("/lines/\(own)/recharge").status == .ok)
                #expect(try await browser.get("/lines/\(other)/recharge").status == .forbidden)
            }
        }
    }

    @Test("SIM block for theft or loss and unblock; another customer's line is 404", arguments: TestEngine.available)
    func blockAndUnblock(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let admin = try await portal.userForRole("amministratore_full")
            let stranger = try await portal.userForRole("amministratore_full")
            let (line, _) = try await addSIM(portal, username: admin, number: "3335550000")
            let (foreign, _) = try await addSIM(portal, username: stranger, number: "3335559999")
            try await portal.test { browser in
                try await browser.logIn(admin)
                let missingReason = try await browser.post("/lines/\(line)/block", ["action": "block"])
                #expect(missingReason.status == .unprocessableContent)
                #expect(try await browser.post("/lines/\(line)/block", ["action": "block", "reason": "theft"]).location == "/lines?done=blocked")
                #expect(try await browser.get("/lines").body.contains("Sblocca la SIM"))
                #expect(try await browser.post("/lines/\(line)/block", ["action": "unblock"]).location == "/lines?done=unblocked")
                #expect(try await browser.post("/lines/\(foreign)/block", ["action": "block", "reason": "loss"]).status == .notFound)
            }
            let lines = try await portal.database.read(tenant: portal.definition.id) { transaction in
                try await transaction.lines(customerId: try #require(try await transaction.user(usernameKey: stranger)).customerId)
            }
            #expect(lines.first?.status == .active, "the other customer's SIM is untouched")
        }
    }

    @Test("WINDTRE: the User Admin switches a line's option off and on through the API; a Telco Manager cannot",
          arguments: TestEngine.available)
    func optionsThroughAPI(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let admin = try await portal.userForRole("user_admin")
            let (line, service) = try await addSIM(portal, username: admin, number: "3201234567")
            let app = buildApplication(services: portal.services)
            try await app.test(.router) { client in
                let login = try await JSONCall.send(client, .post, "/api/v1/session", body: ["identifier": admin, "password": "Vecchia2026!"])
                let token = try #require(login.json["token"] as? String)
                let off = try await JSONCall.send(client, .post, "/api/v1/lines/\(line)/services/\(service)", token: token, body: ["action": "deactivate"])
                #expect(off.status == .ok)
                let services = try #require(off.json["services"] as? [[String: Any]])
                #expect(services.first?["status"] as? String == "inactive")
                let wrong = try await JSONCall.send(client, .post, "/api/v1/lines/\(line)/services/\(service)", token: token, body: ["action": "explode"])
                #expect(wrong.status == .unprocessableContent)
                #expect(wrong.errorCode == "invalid")
            }
            let manager = try await portal.userForRole("telco_manager")
            try await portal.test { browser in
                try await browser.logIn(manager)
                let lines = try await browser.get("/lines")
                #expect(lines.status == .forbidden || lines.status == .ok)
                #expect(try await browser.post("/lines/\(line)/services/\(service)", ["action": "activate"]).status == .notFound,
                        "another customer's line, whatever the role")
            }
        }
    }
}
