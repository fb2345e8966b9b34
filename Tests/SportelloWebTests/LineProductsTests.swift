import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

/// What `seedProducts` made for one customer.
private struct ProductFixture {
    var customerId: Int64
    /// SIMs: two in `planA`, one in `planB`, one in no package.
    var sims: [Int64]
    var fixedLine: Int64
    var planA: Int64
    var planB: Int64
    var phone: Int64
}

private let gigaBytes: Int64 = 1_000_000_000

/// A WINDTRE customer's products, for the user `username`: the catalogue (as the demo seeds it), a contract
/// with four SIMs (codes set) and a fixed line, two packages (GSS-100 with 60 GB used this month, GSS-50 with
/// 45 GB used), a phone on instalments and a router. `assignedSim` (index) is assigned to the user.
private func seedProducts(_ portal: PortalHarness, username: String, prefix: String, assignedSim: Int? = nil) async throws -> ProductFixture {
    let now = Int64(portal.clock.now().timeIntervalSince1970)
    let generator = DemoDataGenerator(tenant: portal.definition, now: now, hasher: portal.services.passwords)
    return try await portal.database.write(tenant: portal.definition.id, now: now) { transaction in
        try await generator.seedLineProducts(in: transaction)
        let key = UsernameRules.key(for: username, caseSensitive: portal.definition.login.caseSensitive)
        let user = try #require(try await transaction.user(usernameKey: key))
        let customerId = user.customerId
        let contract = try await transaction.insertContract(ContractRecord(customerId: customerId, code: "K-\(prefix)", offer: "Business Unlimited",
                                                                           kind: "mobile", startsOn: "2025-01-01"))
        var sims: [Int64] = []
        for index in 0..<4 {
            let line = try await transaction.insertLine(LineRecord(customerId: customerId, contractId: contract, kind: "sim",
                                                                   identifier: "\(prefix)00\(index)", description: "SIM voce e dati",
                                                                   assignedUserId: index == assignedSim ? user.id : nil))
            try await transaction.setSimDetails(lineId: line, customerId: customerId, iccid: "89398800000000\(prefix.suffix(3))\(index)00",
                                                pin: "\(4710 + index)", puk: "\(83920460 + index)")
            sims.append(line)
        }
        let fixed = try await transaction.insertLine(LineRecord(customerId: customerId, contractId: contract, kind: "fixed_line", identifier: "06\(prefix)"))
        let monthStart = CalendarDay(year: 2026, month: 11, day: 1).startInstant
        // This month: 40 + 20 GB on the first package's SIMs, 45 GB on the second's; last month's traffic does not count.
        try await transaction.insertUsage([
            UsageRecord(customerId: customerId, lineId: sims[0], startedAt: monthStart + 86_400, kind: "data", volumeBytes: 40 * gigaBytes),
            UsageRecord(customerId: customerId, lineId: sims[1], startedAt: monthStart + 2 * 86_400, kind: "data", volumeBytes: 20 * gigaBytes),
            UsageRecord(customerId: customerId, lineId: sims[1], startedAt: monthStart - 86_400, kind: "data", volumeBytes: 90 * gigaBytes),
            UsageRecord(customerId: customerId, lineId: sims[2], startedAt: monthStart + 3 * 86_400, kind: "data", volumeBytes: 45 * gigaBytes),
            UsageRecord(customerId: customerId, lineId: sims[0], startedAt: monthStart + 86_400, kind: "call", durationSeconds: 60, costCents: 350),
        ])
        _ = try await transaction.insertRecharge(RechargeRecord(customerId: customerId, lineId: sims[0], rechargedAt: monthStart, amountCents: 2_000, channel: "shop"))
        // SIM 2 spent more than it was recharged with: its credit is zero, not negative.
        _ = try await transaction.insertRecharge(RechargeRecord(customerId: customerId, lineId: sims[2], rechargedAt: monthStart, amountCents: 500, channel: "shop"))
        try await transaction.insertUsage([UsageRecord(customerId: customerId, lineId: sims[2], startedAt: monthStart + 3_600, kind: "call",
                                                       durationSeconds: 600, costCents: 800)])
        let planA = try await transaction.insertSharePlan(SharePlanRecord(customerId: customerId, contractId: contract, code: "GSS-\(prefix)-A",
                                                                          packageCode: "GSS-100", packageTitle: "Giga Smart Share 100", gigaAllowance: 100,
                                                                          referentName: "Giulia Neri", referentPhone: "3471112222",
                                                                          activatedOn: "2025-02-01", updatedAt: now))
        let planB = try await transaction.insertSharePlan(SharePlanRecord(customerId: customerId, contractId: contract, code: "GSS-\(prefix)-B",
                                                                          packageCode: "GSS-50", packageTitle: "Giga Smart Share 50", gigaAllowance: 50,
                                                                          referentPhone: "3483334444", activatedOn: "2025-02-01", updatedAt: now))
        for (sim, plan) in [(sims[0], planA), (sims[1], planA), (sims[2], planB)] {
            try await transaction.setSharePlan(lineId: sim, customerId: customerId, sharePlanId: plan)
        }
        let phone = try await transaction.insertDevice(DeviceRecord(
            customerId: customerId, lineId: sims[0], kind: "smartphone", brand: "Samsung", model: "Galaxy S24 256GB", identifierKind: "imei",
            identifier: "35\(prefix)4455667", accountName: "Verdi Srl", purchasedOn: "2025-05-10", instalmentCount: 30, instalmentsPaid: 18,
            instalmentCents: 3_490, maintenancePlan: "Assistenza Smartphone Premium", maintenanceInterventions: 2, maintenanceInterventionsUsed: 1,
            maintenanceExpiresOn: "2027-05-10"))
        try await transaction.insertDevice(DeviceRecord(
            customerId: customerId, lineId: fixed, kind: "router", brand: "ZTE", model: "H388X", identifierKind: "serial",
            identifier: "ZT\(prefix)77", accountName: "Verdi Srl", purchasedOn: "2024-03-01"))
        return ProductFixture(customerId: customerId, sims: sims, fixedLine: fixed, planA: planA, planB: planB, phone: phone)
    }
}

/// Runs `body` against a portal of `portal`'s database whose WINDTRE definition was changed by `change`
/// (a role without some features, or limited to its own line).
private func withChangedTenant(_ portal: PortalHarness, _ change: (inout TenantDefinition) -> Void,
                               _ body: @escaping @Sendable (Browser) async throws -> Void) async throws {
    var definition = portal.definition
    change(&definition)
    let tenant = PortalTenant(definition: definition, theme: portal.tenant.theme)
    let services = PortalServices(configuration: portal.services.configuration, database: portal.database, tenants: TenantRegistry([tenant]),
                                  clock: portal.clock, passwords: portal.services.passwords, mail: portal.services.mail)
    try await buildApplication(services: services).test(.router) { client in try await body(Browser(client: client)) }
}

private func audit(_ portal: PortalHarness) async throws -> [AuditRecord] {
    try await portal.database.read(tenant: portal.definition.id) { try await $0.auditLog(limit: 500) }
}

@Suite("WINDTRE Giga Smart Share: packages, SIMs, Giga, and Gestione GSS")
struct GigaSmartShareTests {
    @Test("the list and the detail show package type and ID, SIMs, devices, extra Giga, referent, Giga used this month and credit",
          arguments: TestEngine.available)
    func listAndDetail(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let admin = try await portal.userForRole("user_admin")
            let stranger = try await portal.userForRole("user_admin")
            let mine = try await seedProducts(portal, username: admin, prefix: "3471")
            let theirs = try await seedProducts(portal, username: stranger, prefix: "3389")
            try await portal.test { browser in
                try await browser.logIn(admin)
                let list = try await browser.get("/products/share")
                #expect(list.status == .ok)
                #expect(list.body.contains("GSS-3471-A") && list.body.contains("Giga Smart Share 100") && list.body.contains("GSS-3471-B"))
                #expect(list.body.contains("60,0 / 100 GB (60%)"), "last month's 90 GB are not counted")
                #expect(list.body.contains("45,0 / 50 GB (90%)") && list.body.contains("giga-used near-limit"), "package B is over 80%")
                #expect(list.body.contains("3471112222"), "the referent's phone")
                #expect(!list.body.contains("GSS-3389"), "another customer's packages never show")
                let detail = try await browser.get("/products/share/\(mine.planA)")
                #expect(detail.status == .ok)
                #expect(detail.body.contains("3471000") && detail.body.contains("3471001") && !detail.body.contains("3471002"))
                #expect(detail.body.contains("40,0 GB") && detail.body.contains("20,0 GB"), "Giga used per SIM")
                #expect(detail.body.contains("16,50 €"), "residual credit: 20,00 € recharged, 3,50 € spent")
                #expect(detail.body.contains("action=\"/products/share/\(mine.planA)/package\"") && detail.body.contains("name=\"_csrf\""))
                let second = try await browser.get("/products/share/\(mine.planB)")
                #expect(second.body.contains("3471002") && second.body.contains(">0,00 €<") && !second.body.contains("-3,00"), "credit never below zero")
                #expect(try await browser.get("/products/share/\(theirs.planA)").status == .notFound)
                let api = try await browser.get("/api/v1/products/share")
                let json = try #require(try JSONSerialization.jsonObject(with: Data(api.body.utf8)) as? [String: Any])
                let plans = try #require(json["share_plans"] as? [[String: Any]])
                #expect(plans.count == 2)
                let first = try #require(plans.first { $0["code"] as? String == "GSS-3471-A" })
                #expect(first["sim_count"] as? Int == 2 && first["device_count"] as? Int == 1 && first["used_percent"] as? Int == 60)
                #expect((json["packages"] as? [[String: Any]])?.count == DemoDataGenerator.sharePackages.count)
            }
        }
    }

    @Test("upgrade and downgrade (not below the Giga used), referent and extra Giga: errors next to the field, audit for each change",
          arguments: TestEngine.available)
    func changes(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let admin = try await portal.userForRole("user_admin")
            let fixture = try await seedProducts(portal, username: admin, prefix: "3472")
            let plan = fixture.planA
            try await portal.test { browser in
                try await browser.logIn(admin)
                let below = try await browser.post("/products/share/\(plan)/package", ["package_code": "GSS-50"])
                #expect(below.status == .unprocessableContent)
                #expect(below.body.contains("package_code-error") && below.body.contains("60,0 GB"), "60 GB already used: 50 is too few")
                let same = try await browser.post("/products/share/\(plan)/package", ["package_code": "GSS-100"])
                #expect(same.status == .unprocessableContent)
                let unknown = try await browser.post("/products/share/\(plan)/package", ["package_code": "GSS-9999"])
                #expect(unknown.status == .unprocessableContent)
                #expect(try await browser.post("/products/share/\(plan)/package", ["package_code": "GSS-200"]).location
                        == "/products/share/\(plan)?done=package")
                #expect(try await browser.post("/products/share/\(plan)/package", ["package_code": "GSS-100"]).status == .seeOther,
                        "a downgrade that still covers the 60 GB used")
                let landline = try await browser.post("/products/share/\(plan)/referent", ["referent_name": "Paolo Bianchi", "referent_phone": "06 1234567"])
                #expect(landline.status == .unprocessableContent && landline.body.contains("referent_phone-error"), "the threshold SMS need a mobile")
                #expect(landline.body.contains("value=\"06 1234567\""), "the form keeps what was typed")
                #expect(try await browser.post("/products/share/\(plan)/referent", ["referent_name": "Paolo Bianchi", "referent_phone": "+39 347 9876543"])
                        .status == .seeOther)
                let noChoice = try await browser.post("/products/share/\(plan)/extra-giga", [:])
                #expect(noChoice.status == .unprocessableContent && noChoice.body.contains("extra_code-error"))
                #expect(try await browser.post("/products/share/\(plan)/extra-giga", ["extra_code": "GSS-EXTRA-25"]).status == .seeOther)
                #expect(try await browser.post("/products/share/\(plan)/extra-giga", ["extra_code": "GSS-EXTRA-25", "_csrf": "forged"]).status == .forbidden)
                let detail = try await browser.get("/products/share/\(plan)?done=extra")
                #expect(detail.body.contains("Extra Giga aggiunti") && detail.body.contains("+39 347 9876543") && detail.body.contains("Paolo Bianchi"))
            }
            let stored = try await portal.database.read(tenant: portal.definition.id) { transaction in
                try #require(try await transaction.sharePlan(id: plan, customerId: fixture.customerId))
            }
            #expect(stored.packageCode == "GSS-100" && stored.gigaAllowance == 100 && stored.extraGiga == 25 && stored.extraGigaMonth == "2026-11")
            // In December the November extra Giga are gone and this month's traffic starts from zero.
            portal.clock.advance(by: 15 * 86_400)
            try await portal.test { browser in
                try await browser.logIn(admin)
                let json = try await browser.get("/api/v1/products/share/\(plan)")
                let view = try #require(try JSONSerialization.jsonObject(with: Data(json.body.utf8)) as? [String: Any])
                #expect(view["extra_giga"] as? Int == 0 && view["total_giga"] as? Int == 100 && view["used_percent"] as? Int == 0)
                #expect(try await browser.post("/products/share/\(plan)/extra-giga", ["extra_code": "GSS-EXTRA-10"]).status == .seeOther)
            }
            let december = try await portal.database.read(tenant: portal.definition.id) { transaction in
                try #require(try await transaction.sharePlan(id: plan, customerId: fixture.customerId))
            }
            #expect(december.extraGiga == 10 && december.extraGigaMonth == "2026-12", "not 25 + 10: November's extra expired")
            #expect(stored.referentPhone == "+39 347 9876543" && stored.referentName == "Paolo Bianchi")
            let actions = try await audit(portal).map(\.action)
            for action in ["share_plan.upgraded", "share_plan.downgraded", "share_plan.referent_changed", "share_plan.extra_giga_bought"] {
                #expect(actions.filter { $0 == action }.count == (action == "share_plan.extra_giga_bought" ? 2 : 1), "\(action) audited")
            }
        }
    }

    @Test("moving a SIM through the API: one package per SIM, never the last SIM, never into a package without Giga for it; bearer needs no CSRF, cookies do",
          arguments: TestEngine.available)
    func moves(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let admin = try await portal.userForRole("user_admin")
            let stranger = try await portal.userForRole("user_admin")
            let fixture = try await seedProducts(portal, username: admin, prefix: "3473")
            let other = try await seedProducts(portal, username: stranger, prefix: "3474")
            let app = buildApplication(services: portal.services)
            try await app.test(.router) { client in
                let login = try await JSONCall.send(client, .post, "/api/v1/session", body: ["identifier": admin, "password": "Vecchia2026!"])
                let token = try #require(login.json["token"] as? String)
                let path = "/api/v1/products/share/\(fixture.planA)/moves"
                // 40 GB of SIM 0 do not fit in package B (45 of 50 GB used).
                let full = try await JSONCall.send(client, .post, path, token: token, body: ["line_id": fixture.sims[0], "target_id": fixture.planB])
                #expect(full.status == .unprocessableContent && full.errorCode == "invalid")
                #expect(full.raw.contains("target_exhausted"))
                let notHere = try await JSONCall.send(client, .post, path, token: token, body: ["line_id": fixture.sims[2], "target_id": fixture.planB])
                #expect(notHere.raw.contains("not_in_package"), "the SIM is in package B, not A")
                let foreign = try await JSONCall.send(client, .post, path, token: token, body: ["line_id": fixture.sims[1], "target_id": other.planB])
                #expect(foreign.raw.contains("unknown_target"), "another customer's package is not a destination")
                let empty = try await JSONCall.send(client, .post, path, token: token, body: [:])
                #expect(empty.raw.contains("\"line_id\"") && empty.raw.contains("\"target_id\""), "every problem at once")
                #expect(try await JSONCall.send(client, .post, "/api/v1/products/share/\(other.planA)/moves", token: token,
                                                body: ["line_id": other.sims[1], "target_id": other.planB]).status == .notFound)
                // Package B upgraded to 200 GB: now SIM 1 (20 GB) moves.
                #expect(try await JSONCall.send(client, .post, "/api/v1/products/share/\(fixture.planB)/package", token: token,
                                                body: ["package_code": "GSS-200"]).status == .ok)
                let moved = try await JSONCall.send(client, .post, path, token: token, body: ["line_id": fixture.sims[1], "target_id": fixture.planB])
                #expect(moved.status == .ok)
                #expect(moved.json["sim_count"] as? Int == 1)
                let last = try await JSONCall.send(client, .post, path, token: token, body: ["line_id": fixture.sims[0], "target_id": fixture.planB])
                #expect(last.raw.contains("last_sim"))
                let target = try await JSONCall.send(client, .get, "/api/v1/products/share/\(fixture.planB)", token: token)
                #expect(target.json["sim_count"] as? Int == 2 && target.json["used_percent"] as? Int == 32, "65 of 200 GB")
            }
            try await portal.test { browser in
                try await browser.logIn(admin)
                let cookie = browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
                try await buildApplication(services: portal.services).test(.router) { client in
                    let unsigned = try await JSONCall.send(client, .post, "/api/v1/products/share/\(fixture.planA)/extra-giga", cookie: cookie,
                                                           body: ["extra_code": "GSS-EXTRA-10"])
                    #expect(unsigned.status == .forbidden && unsigned.errorCode == "csrf_rejected")
                    let signed = try await JSONCall.send(client, .post, "/api/v1/products/share/\(fixture.planA)/extra-giga", cookie: cookie,
                                                         csrf: browser.cookies["sportello_csrf"], body: ["extra_code": "GSS-EXTRA-10"])
                    #expect(signed.status == .ok && signed.json["extra_giga"] as? Int == 10)
                }
            }
            let lines = try await portal.database.read(tenant: portal.definition.id) { try await $0.productLines(customerId: fixture.customerId) }
            #expect(lines.first { $0.id == fixture.sims[1] }?.sharePlanId == fixture.planB)
            #expect(try await audit(portal).contains { $0.action == "share_plan.sim_moved" && $0.targetId == String(fixture.sims[1]) })
        }
    }
}

@Suite("WINDTRE devices, PIN and PUK, coverage links")
struct LineProductsTests {
    @Test("devices: model, IMEI or serial, account, line, instalments paid and left, maintenance; nobody else's", arguments: TestEngine.available)
    func devices(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let manager = try await portal.userForRole("telco_manager")
            let stranger = try await portal.userForRole("user_admin")
            _ = try await seedProducts(portal, username: manager, prefix: "3475")
            _ = try await seedProducts(portal, username: stranger, prefix: "3476")
            try await portal.test { browser in
                try await browser.logIn(manager)
                let page = try await browser.get("/products/devices")
                #expect(page.status == .ok)
                #expect(page.body.contains("Samsung Galaxy S24 256GB") && page.body.contains("3534754455667") && page.body.contains("ZT347577"))
                #expect(page.body.contains("18 rate pagate su 30") && page.body.contains("34,90 €") && page.body.contains("418,80 €"),
                        "12 instalments of 34,90 € left")
                #expect(page.body.contains("1 interventi residui su 2") && page.body.contains("10/05/2027"))
                #expect(page.body.contains("3475000"), "the associated line")
                #expect(page.body.contains("/requests/new/imei_block"), "theft or loss: the IMEI block form")
                #expect(!page.body.contains("3534764455667"))
                let api = try await browser.get("/api/v1/products/devices")
                let json = try #require(try JSONSerialization.jsonObject(with: Data(api.body.utf8)) as? [String: Any])
                let devices = try #require(json["devices"] as? [[String: Any]])
                #expect(devices.count == 2)
                let phone = try #require(devices.first { $0["identifier_kind"] as? String == "imei" })
                let instalments = try #require(phone["instalments"] as? [String: Any])
                #expect(instalments["left"] as? Int == 12)
                let router = try #require(devices.first { $0["identifier_kind"] as? String == "serial" })
                #expect(router["instalments"] == nil && router["maintenance"] == nil, "the router was paid outright, without maintenance")
            }
        }
    }

    @Test("PIN and PUK: shown only after the password, each reveal audited without the codes, wrong passwords audited and throttled",
          arguments: TestEngine.available)
    func pinAndPuk(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let admin = try await portal.userForRole("user_admin")
            let stranger = try await portal.userForRole("user_admin")
            let fixture = try await seedProducts(portal, username: admin, prefix: "3477")
            let other = try await seedProducts(portal, username: stranger, prefix: "3478")
            try await portal.test { browser in
                try await browser.logIn(admin)
                let list = try await browser.get("/products/sims")
                #expect(list.status == .ok)
                #expect(list.body.contains("3477000") && list.body.contains("3477003") && !list.body.contains("06347"), "SIMs only")
                #expect(!list.body.contains("83920460") && !list.body.contains("sim-code"), "no codes in the list")
                let sim = try await browser.get("/products/sims/\(fixture.sims[0])")
                #expect(sim.status == .ok && sim.body.contains("type=\"password\"") && !sim.body.contains("83920460"))
                let wrong = try await browser.post("/products/sims/\(fixture.sims[0])/codes", ["password": "Sbagliata2026!"])
                #expect(wrong.status == .unprocessableContent && wrong.body.contains("password-error") && !wrong.body.contains("83920460"))
                let missing = try await browser.post("/products/sims/\(fixture.sims[0])/codes", [:])
                #expect(missing.status == .unprocessableContent)
                let shown = try await browser.post("/products/sims/\(fixture.sims[0])/codes", ["password": "Vecchia2026!"])
                #expect(shown.status == .ok && shown.body.contains(">4710<") && shown.body.contains(">83920460<"))
                #expect(try await browser.post("/products/sims/\(fixture.sims[0])/codes", ["password": "Vecchia2026!", "_csrf": "x"]).status == .forbidden)
                #expect(try await browser.get("/products/sims/\(fixture.fixedLine)").status == .notFound, "a fixed line has no PIN")
                #expect(try await browser.post("/products/sims/\(other.sims[0])/codes", ["password": "Vecchia2026!"]).status == .notFound)
                for _ in 0..<4 { _ = try await browser.post("/products/sims/\(fixture.sims[1])/codes", ["password": "Sbagliata2026!"]) }
                #expect(try await browser.post("/products/sims/\(fixture.sims[1])/codes", ["password": "Vecchia2026!"]).status == .tooManyRequests,
                        "five wrong passwords lock the reveal for a while")
            }
            let entries = try await audit(portal)
            let reveals = entries.filter { $0.action == "line.pin_puk_revealed" }
            #expect(reveals.count == 1 && reveals.first?.targetId == String(fixture.sims[0]))
            #expect(entries.filter { $0.action == "line.pin_puk_denied" }.count == 5)
            #expect(!entries.contains { ($0.detail ?? "").contains("4710") || ($0.detail ?? "").contains("83920460") }, "codes never reach the audit log")
        }
    }

    @Test("PIN and PUK through the API: the password in the body, bearer token", arguments: TestEngine.available)
    func pinAndPukAPI(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let admin = try await portal.userForRole("telco_manager")
            let fixture = try await seedProducts(portal, username: admin, prefix: "3479")
            try await buildApplication(services: portal.services).test(.router) { client in
                let login = try await JSONCall.send(client, .post, "/api/v1/session", body: ["identifier": admin, "password": "Vecchia2026!"])
                let token = try #require(login.json["token"] as? String)
                let list = try await JSONCall.send(client, .get, "/api/v1/products/sims", token: token)
                #expect((list.json["sims"] as? [[String: Any]])?.count == 4 && !list.raw.contains("83920462"))
                let wrong = try await JSONCall.send(client, .post, "/api/v1/products/sims/\(fixture.sims[2])/codes", token: token, body: ["password": "no"])
                #expect(wrong.status == .unprocessableContent && wrong.raw.contains("wrong_password"))
                let right = try await JSONCall.send(client, .post, "/api/v1/products/sims/\(fixture.sims[2])/codes", token: token,
                                                    body: ["password": "Vecchia2026!"])
                #expect(right.status == .ok && right.json["pin"] as? String == "4712" && right.json["puk"] as? String == "83920462")
            }
        }
    }

    @Test("coverage: the national and international links of the catalogue; addresses that are not http(s) are dropped", arguments: TestEngine.available)
    func coverage(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let manager = try await portal.userForRole("telco_manager")
            _ = try await seedProducts(portal, username: manager, prefix: "3480")
            try await portal.database.write(tenant: portal.definition.id) { transaction in
                _ = try await transaction.insertCatalogItem(CatalogItemRecord(kind: "coverage_link", code: "EVIL", title: "Link malevolo", position: 9,
                                                                              data: #"{"url":"javascript:alert(1)","scope":"national"}"#))
            }
            try await portal.test { browser in
                try await browser.logIn(manager)
                let page = try await browser.get("/coverage")
                #expect(page.status == .ok)
                #expect(page.body.contains("Copertura nazionale") && page.body.contains("Copertura internazionale"))
                #expect(page.body.contains("href=\"https://www.windtre.it/copertura/\""))
                #expect(!page.body.contains("Link malevolo") && !page.body.contains("javascript:"))
                let api = try await browser.get("/api/v1/coverage")
                let links = try #require((try JSONSerialization.jsonObject(with: Data(api.body.utf8)) as? [String: Any])?["links"] as? [[String: Any]])
                #expect(Set(links.compactMap { $0["scope"] as? String }) == ["national", "international"])
                // The seed puts the two links at the bottom of the home page too.
                let home = try await browser.get("/")
                #expect(home.body.contains("coverage-heading") && home.body.contains("href=\"https://www.windtre.it/copertura/\""))
                #expect(!home.body.contains("javascript:"))
            }
        }
    }

    @Test("roles: without gss.manage the package cannot change (403); with the own-line scope only the user's SIM, device and codes; other tenants 404",
          arguments: TestEngine.available)
    func rolesAndScopes(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let manager = try await portal.userForRole("telco_manager")
            let fixture = try await seedProducts(portal, username: manager, prefix: "3481", assignedSim: 1)
            try await withChangedTenant(portal, { definition in
                var role = definition.roles["telco_manager"]!
                role.inherits = []
                role.grants = ["gss.view", "devices.view", "lines.pin_puk"]
                role.scopes = OrderedMap([("gss.view", .ownLine), ("devices.view", .ownLine), ("lines.pin_puk", .ownLine)])
                for feature in ["gss.view", "devices.view", "lines.pin_puk"] { definition.features[feature]?.scopes = [.ownLine, .allLines] }
                definition.roles["telco_manager"] = role
            }) { browser in
                try await browser.logIn(manager)
                #expect(try await browser.get("/coverage").status == .forbidden)
                #expect(try await !browser.get("/").body.contains("coverage-heading"), "no coverage links on the home page without the feature")
                let share = try await browser.get("/products/share")
                #expect(share.body.contains("GSS-3481-A") && !share.body.contains("GSS-3481-B"), "only the package holding the user's SIM")
                let detail = try await browser.get("/products/share/\(fixture.planA)")
                #expect(detail.body.contains("3481001") && !detail.body.contains("3481000") && !detail.body.contains("/package\""))
                #expect(try await browser.get("/products/share/\(fixture.planB)").status == .notFound)
                #expect(try await browser.post("/products/share/\(fixture.planA)/extra-giga", ["extra_code": "GSS-EXTRA-10"]).status == .forbidden)
                let sims = try await browser.get("/products/sims")
                #expect(sims.body.contains("3481001") && !sims.body.contains("3481000"))
                #expect(try await browser.get("/products/sims/\(fixture.sims[0])").status == .forbidden)
                #expect(try await browser.post("/products/sims/\(fixture.sims[1])/codes", ["password": "Vecchia2026!"]).body.contains(">4711<"))
                let devices = try await browser.get("/products/devices")
                #expect(devices.status == .ok && !devices.body.contains("Galaxy S24"), "the phone is on SIM 0, not the user's")
            }
        }
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let admin = try await portal.userForRole("amministratore_full")
            try await portal.test { browser in
                try await browser.logIn(admin)
                for path in ["/products/share", "/products/devices", "/products/sims", "/coverage", "/api/v1/products/share"] {
                    #expect(try await browser.get(path).status == .notFound, "TIM has no \(path)")
                }
            }
        }
    }

    @Test("demo data: WINDTRE customers get SIM codes, packages sized over this month's Giga, devices; other tenants none",
          arguments: TestEngine.available)
    func demoData(engine: TestEngine) async throws {
        for tenant in ["windtre", "tim"] {
            try await PortalHarness.with(engine: engine, tenant: tenant) { portal in
                let generator = DemoDataGenerator(tenant: portal.definition, now: Int64(portal.clock.now().timeIntervalSince1970),
                                                  hasher: portal.services.passwords)
                let summary = try await generator.generate(into: portal.database)
                let counts = Dictionary(uniqueKeysWithValues: summary.counts.map { ($0.0, $0.1) })
                if tenant == "tim" {
                    #expect(counts[.sharePlans] == 0 && counts[.devices] == 0)
                    return
                }
                #expect((counts[.sharePlans] ?? 0) > 0 && (counts[.devices] ?? 0) > 0)
                let login = try #require(summary.logins.first)
                try await portal.test { browser in
                    #expect(try await browser.post("/login", ["identifier": login.username, "password": login.password]).location == "/")
                    for path in ["/products/share", "/products/devices", "/products/sims", "/coverage"] {
                        let page = try await browser.get(path)
                        #expect(page.status == .ok, "\(path)")
                        #expect(!page.body.contains("class=\"empty\""), "\(path) has demo rows")
                    }
                    let api = try await browser.get("/api/v1/products/share")
                    let plans = (try JSONSerialization.jsonObject(with: Data(api.body.utf8)) as? [String: Any])?["share_plans"] as? [[String: Any]] ?? []
                    for plan in plans { #expect((plan["used_percent"] as? Int ?? 999) < 100, "demo packages have Giga left") }
                }
            }
        }
    }
}
