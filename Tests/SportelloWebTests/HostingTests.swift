import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloApplication
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

/// The tenant's shared rows (products, domain extensions, articles) as the demo seeds them.
private func seedCatalogue(_ portal: PortalHarness) async throws {
    let now = Int64(portal.clock.now().timeIntervalSince1970)
    try await portal.database.write(tenant: portal.definition.id, now: now) { transaction in
        try await DemoDataGenerator(tenant: portal.definition, now: now, hasher: portal.services.passwords).seedHosting(in: transaction)
    }
}

private func customerId(_ portal: PortalHarness, of username: String) async throws -> Int64 {
    try await portal.database.read(tenant: portal.definition.id) { transaction in
        let key = UsernameRules.key(for: username, caseSensitive: portal.definition.login.caseSensitive)
        return try #require(try await transaction.user(usernameKey: key)).customerId
    }
}

/// A shared-hosting account of the user's customer.
private func addHosting(_ portal: PortalHarness, for username: String, domain: String, status: HostingAccountStatus = .active) async throws -> Int64 {
    let customer = try await customerId(portal, of: username)
    return try await portal.database.write(tenant: portal.definition.id) { transaction in
        try await transaction.insertHostingAccount(HostingAccountRecord(
            customerId: customer, domain: domain, planCode: "HOST-PRO", planTitle: "Hosting Linux Professional", server: "web3.tunda.it",
            username: String(domain.prefix { $0 != "." }) + String(UUID().uuidString.prefix(4)), diskUsedMb: 12_000, diskQuotaMb: 15_360,
            trafficUsedMb: 1_000, trafficQuotaMb: 204_800, mailboxes: 4, mailboxQuota: 25, phpVersion: "8.1", status: status,
            expiresOn: "2027-03-31", createdAt: 0))
    }
}

private func audit(_ portal: PortalHarness) async throws -> [AuditRecord] {
    try await portal.database.read(tenant: portal.definition.id) { try await $0.auditLog() }
}

private func bearer(_ client: some TestClientProtocol, _ username: String) async throws -> String {
    let login = try await JSONCall.send(client, .post, "/api/v1/session", body: ["identifier": username, "password": "Vecchia2026!"])
    return try #require(login.json["token"] as? String)
}

@Suite("Tunda: buying services, orders and their pro-forma")
struct HostingShopTests {
    @Test("the main account orders a hosting plan; a bad domain is refused next to the field; once the pro-forma is paid the hosting starts",
          arguments: TestEngine.available)
    func orderPayAndStart(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            try await seedCatalogue(portal)
            let main = try await portal.userForRole("main_account")
            try await portal.test { browser in
                try await browser.logIn(main)
                let shop = try await browser.get("/services/shop")
                #expect(shop.status == .ok)
                #expect(shop.body.contains("Hosting Linux Professional") && shop.body.contains("89,00 €"))
                #expect(shop.body.contains("/services/shop/HOST-PRO"))
                #expect(try await browser.get("/services/shop/NOPE").status == .notFound)
                let bad = try await browser.post("/services/shop/HOST-PRO", ["domain": "rossi_srl", "quantity": "1"])
                #expect(bad.status == .unprocessableContent)
                #expect(bad.body.contains("domain-error") && bad.body.contains("aria-invalid=\"true\""))
                let odd = try await browser.post("/services/shop/HOST-PRO", ["domain": "rossi-srl.it", "quantity": "7"])
                #expect(odd.body.contains("quantity-error"), "only the durations offered")
                let forged = try await browser.post("/services/shop/HOST-PRO", ["domain": "rossi-srl.it", "quantity": "1", "_csrf": "forged"])
                #expect(forged.status == .forbidden)
                let placed = try await browser.post("/services/shop/HOST-PRO", ["domain": "www.Rossi-SRL.it", "quantity": "1"])
                #expect(placed.location?.hasPrefix("/services/orders?done=ordered") == true)
                let orders = try await browser.follow(placed)
                #expect(orders.body.contains("In attesa di pagamento") && orders.body.contains("rossi-srl.it"))
                #expect(orders.body.contains("108,58 €"), "89,00 € + 22% IVA")
                #expect(try await browser.get("/hosting").body.contains("rossi-srl.it") == false, "nothing starts before payment")
            }
            let customer = try await customerId(portal, of: main)
            let (order, invoice) = try await portal.database.read(tenant: portal.definition.id) { transaction in
                let order = try #require(try await transaction.orders(customerId: customer).first)
                let invoiceId = try #require(order.invoiceId)
                let invoice = try #require(try await transaction.invoices(ids: [invoiceId], customerId: customer).values.first)
                return (order, invoice)
            }
            #expect(order.status == .awaitingPayment && order.number.hasPrefix("ORD-2026-"))
            #expect(invoice.number.hasPrefix("PF-2026-") && invoice.status == .unpaid && invoice.totalCents == 10_858)
            #expect(try await audit(portal).contains { $0.action == "order.created" && $0.detail?.contains("HOST-PRO") == true })
            try await portal.test { browser in
                try await browser.logIn(main)
                #expect(try await browser.get("/services/orders").body.contains("/invoices/\(invoice.id ?? 0)/pay"), "the pro-forma can be paid from the order")
                // No payments plugin is connected in this portal: the page says so and nothing pretends to pay.
                let pay = try await browser.get("/invoices/\(invoice.id ?? 0)/pay")
                #expect(pay.status == .ok && pay.body.contains("Il pagamento online non è disponibile") && !pay.body.contains("card_number"))
                #expect(try await browser.post("/invoices/\(invoice.id ?? 0)/pay", ["method": "paypal"]).status == .serviceUnavailable)
            }
            #expect(try await portal.database.read(tenant: portal.definition.id) { try await $0.orders(customerId: customer) }.first?.status == .awaitingPayment)
            // Paid (the payments plugin's confirmed notification marks it so, see OnlinePaymentsTests): the `invoice.paid` event
            // starts what was ordered, in the payment's transaction.
            let services = portal.services.application
            let served = portal.tenant.served
            try await portal.database.write(tenant: portal.definition.id) { transaction in
                let outcome = try await transaction.payInvoice(id: invoice.id ?? 0, customerId: customer, windows: .unlimited, method: "paypal",
                                                               reference: "PayPal · TEST", description: "Pagamento online", actorUserId: nil)
                guard case .paid = outcome else { Issue.record("the pro-forma was not paid: \(outcome)"); return }
                try await services.events.publish(.invoicePaid(invoiceId: invoice.id ?? 0, customerId: customer), tenant: served, in: transaction)
            }
            try await portal.test { browser in
                try await browser.logIn(main)
                // Started by the payment itself, before any orders or hosting page is opened.
                let contracts = try await browser.get("/contracts")
                #expect(contracts.status == .ok && contracts.body.contains("rossi-srl.it"))
                let orders = try await browser.get("/services/orders")
                #expect(orders.body.contains("hosting-status-active"))
                #expect(!orders.body.contains("/invoices/\(invoice.id ?? 0)/pay"))
                let hosting = try await browser.get("/hosting")
                #expect(hosting.body.contains("rossi-srl.it") && hosting.body.contains("Hosting Linux Professional"))
            }
            let started = try await portal.database.read(tenant: portal.definition.id) { transaction in
                (try await transaction.hostingAccounts(customerId: customer), try await transaction.lines(customerId: customer))
            }
            #expect(started.0.map(\.domain) == ["rossi-srl.it"] && started.0.first?.diskQuotaMb == 15_360)
            #expect(started.1.contains { $0.identifier == "rossi-srl.it" && $0.kind == "hosting" }, "the service shows among the lines")
            #expect(try await audit(portal).filter { $0.action == "order.activated" }.count == 1, "started once")
        }
    }

    @Test("sub-accounts buy only with the orders switch; Unidata has no shop", arguments: TestEngine.available)
    func whoMayBuy(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            try await seedCatalogue(portal)
            let plain = try await portal.userForRole("sub_account", toggles: [])
            let buyer = try await portal.userForRole("sub_account", toggles: ["orders"])
            try await portal.test { browser in
                try await browser.logIn(plain)
                #expect(try await browser.get("/services/shop").status == .forbidden)
                #expect(try await browser.post("/services/shop/SSL-DV", ["domain": "verdi.it"]).status == .forbidden)
                #expect(try await browser.get("/services/orders").status == .forbidden)
            }
            try await portal.test { browser in
                try await browser.logIn(buyer)
                #expect(try await browser.get("/services/shop").status == .ok)
                #expect(try await browser.post("/services/shop/SSL-DV", ["domain": "verdi.it", "quantity": "2"]).location?.hasPrefix("/services/orders") == true)
                #expect(try await browser.get("/services/orders").body.contains("Certificato SSL DV"))
            }
        }
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let admin = try await portal.userForRole("referente_amministratore")
            try await portal.test { browser in
                try await browser.logIn(admin)
                for path in ["/services/shop", "/services/orders", "/hosting", "/hosting/firewall", "/domains"] {
                    #expect(try await browser.get(path).status == .notFound, "\(path) is Tunda's")
                }
            }
        }
    }

    @Test("API: products, an order with every problem at once, the order list", arguments: TestEngine.available)
    func shopThroughAPI(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            try await seedCatalogue(portal)
            let main = try await portal.userForRole("main_account")
            let hostingId = try await addHosting(portal, for: main, domain: "bianchi.it")
            let app = buildApplication(services: portal.services)
            try await app.test(.router) { client in
                let token = try await bearer(client, main)
                let products = try await JSONCall.send(client, .get, "/api/v1/services/products", token: token)
                let list = try #require(products.json["products"] as? [[String: Any]])
                #expect(list.contains { $0["code"] as? String == "BKP-DAILY" && $0["needs"] as? String == "hosting" })
                let wrong = try await JSONCall.send(client, .post, "/api/v1/services/orders", token: token,
                                                    body: ["product_code": "BKP-DAILY", "hosting_account_id": 999_999, "quantity": 5])
                #expect(wrong.status == .unprocessableContent)
                let fields = ((wrong.json["error"] as? [String: Any])?["fields"] as? [[String: Any]])?.compactMap { $0["field"] as? String }
                #expect(Set(fields ?? []) == ["hosting_account_id", "quantity"])
                let good = try await JSONCall.send(client, .post, "/api/v1/services/orders", token: token,
                                                   body: ["product_code": "BKP-DAILY", "hosting_account_id": hostingId, "quantity": 3])
                #expect(good.status == .created)
                #expect(good.json["target"] as? String == "bianchi.it" && good.json["status"] as? String == "awaiting_payment")
                #expect((good.json["total"] as? [String: Any])?["cents"] as? Int == 1_793, "3 × 4,90 € + IVA")
                let orders = try await JSONCall.send(client, .get, "/api/v1/services/orders", token: token)
                #expect((orders.json["orders"] as? [[String: Any]])?.count == 1)
            }
        }
    }

    @Test("PlaceOrder: a role without the buying feature is refused with `forbidden`; a valid order writes the order, its pro-forma and the audit",
          .enabled(if: SandboxLookup.isAvailable), arguments: TestEngine.available)
    func placeOrderUseCase(engine: TestEngine) async throws {
        // The domain's availability is asked of the sandbox registry (the lookup plugin tunda.yaml binds to domains.register).
        try await PortalHarness.with(engine: engine, tenant: "tunda", lookupScope: SandboxLookup.newScope()) { portal in
            try await seedCatalogue(portal)
            let tenant = portal.tenant.served
            let placeOrder = PlaceOrder(services: portal.services.application)
            /// The signed-in user `username` as the use cases see them.
            func acting(_ username: String) async throws -> Acting {
                let (user, customer) = try await portal.database.read(tenant: portal.definition.id) { transaction in
                    let key = UsernameRules.key(for: username, caseSensitive: portal.definition.login.caseSensitive)
                    let user = try #require(try await transaction.user(usernameKey: key))
                    return (user, try #require(try await transaction.customer(id: user.customerId)))
                }
                let principal = try portal.tenant.authorization.principal(role: user.role, toggles: Set(user.toggleList),
                                                                          customerType: customer.customerType)
                return .user(principal: principal, userId: user.id, customerId: user.customerId)
            }
            let plain = try await acting(try await portal.userForRole("sub_account", toggles: []))
            let ssl = PlaceOrder.Input.product(code: "SSL-DV", domain: "verdi.it", hostingAccountId: nil, quantity: 1)
            let refused = await #expect(throws: UseCaseRefusal.self) { try await placeOrder(tenant: tenant, acting: plain, ssl) }
            #expect(refused?.code == "forbidden", "sub-accounts buy only with the orders switch")
            let domainRefused = await #expect(throws: UseCaseRefusal.self) {
                try await placeOrder(tenant: tenant, acting: plain, .domain(name: "verdi-nuovo.it", years: 1, locale: "it"))
            }
            #expect(domainRefused?.code == "forbidden")
            let staff = await #expect(throws: UseCaseRefusal.self) { try await placeOrder(tenant: tenant, acting: .staff, ssl) }
            #expect(staff?.code == "forbidden", "an order is a customer's user's")

            let main = try await portal.userForRole("main_account")
            let buyer = try await acting(main)
            let unknown = await #expect(throws: UseCaseRefusal.self) {
                try await placeOrder(tenant: tenant, acting: buyer, .product(code: "NOPE", domain: nil, hostingAccountId: nil, quantity: nil))
            }
            #expect(unknown?.code == "not_found")
            let invalid = await #expect(throws: UseCaseRefusal.self) {
                try await placeOrder(tenant: tenant, acting: buyer, .product(code: "HOST-PRO", domain: "rossi_srl", hostingAccountId: nil, quantity: 7))
            }
            #expect(invalid?.code == "invalid" && invalid?.problems.map(\.field) == ["domain", "quantity"])
            #expect(try await audit(portal).contains { $0.action == "order.created" } == false, "nothing is written for a refused order")

            let order = try await placeOrder(tenant: tenant, acting: buyer,
                                             .product(code: "HOST-PRO", domain: "www.Rossi-SRL.it", hostingAccountId: nil, quantity: 1))
            let domain = try await placeOrder(tenant: tenant, acting: buyer, .domain(name: "Verdi-Nuovo.it", years: 2, locale: "it"))
            let customer = try await customerId(portal, of: main)
            let (orders, proformas, domains) = try await portal.database.read(tenant: portal.definition.id) { transaction in
                let orders = try await transaction.orders(customerId: customer)
                return (orders, try await transaction.invoices(ids: orders.compactMap(\.invoiceId), customerId: customer),
                        try await transaction.domains(customerId: customer))
            }
            #expect(Set(orders.compactMap(\.id)) == Set([order.id, domain.id].compactMap { $0 }))
            let stored = try #require(orders.first { $0.id == order.id })
            #expect(stored.kind == "product" && stored.itemCode == "HOST-PRO" && stored.target == "rossi-srl.it" && stored.quantity == 1)
            #expect(stored.status == .awaitingPayment && stored.number.hasPrefix("ORD-2026-") && stored.totalCents == 10_858)
            let proforma = try #require(stored.invoiceId.flatMap { proformas[$0] })
            #expect(proforma.number.hasPrefix("PF-2026-") && proforma.status == .unpaid && proforma.totalCents == 10_858)
            #expect(proforma.dueOn == CalendarDay(instant: Int64(PortalHarness.start.timeIntervalSince1970)).adding(days: HostingPolicy.proformaDays).description)
            let registration = try #require(orders.first { $0.id == domain.id })
            #expect(registration.kind == "domain" && registration.target == "verdi-nuovo.it" && registration.quantity == 2)
            #expect(registration.invoiceId.flatMap { proformas[$0] }?.status == .unpaid)
            #expect(domains.map(\.name) == ["verdi-nuovo.it"] && domains.first?.status == .pending, "the name is reserved until paid")
            let actions = try await audit(portal).map(\.action)
            #expect(actions.filter { $0 == "order.created" }.count == 1 && actions.filter { $0 == "domain.ordered" }.count == 1)
        }
    }
}

@Suite("Tunda: shared hosting accounts and PHP version")
struct HostingAccountsTests {
    @Test("the page shows usage and PHP; switching PHP is validated and audited; another customer's account is 404", arguments: TestEngine.available)
    func phpVersion(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            let main = try await portal.userForRole("main_account")
            let stranger = try await portal.userForRole("main_account")
            let own = try await addHosting(portal, for: main, domain: "verdi-srl.it")
            let suspended = try await addHosting(portal, for: main, domain: "vecchio.it", status: .suspended)
            let foreign = try await addHosting(portal, for: stranger, domain: "altro.it")
            try await portal.test { browser in
                try await browser.logIn(main)
                let page = try await browser.get("/hosting")
                #expect(page.status == .ok)
                #expect(page.body.contains("verdi-srl.it") && page.body.contains("web3.tunda.it") && !page.body.contains("altro.it"))
                #expect(page.body.contains("11,7 GB su 15 GB (78%)") && !page.body.contains("Spazio quasi esaurito"), "warned from 80% only")
                let bad = try await browser.post("/hosting/\(own)/php", ["php_version": "5.6"])
                #expect(bad.status == .unprocessableContent && bad.body.contains("php-\(own)-error"))
                #expect(try await browser.post("/hosting/\(own)/php", ["php_version": "8.3"]).location == "/hosting?done=php")
                #expect(try await browser.get("/hosting").body.contains("PHP 8.3"))
                #expect(try await browser.post("/hosting/\(foreign)/php", ["php_version": "8.3"]).status == .notFound)
                #expect(try await browser.post("/hosting/\(suspended)/php", ["php_version": "8.3"]).status == .conflict)
            }
            let accounts = try await portal.database.read(tenant: portal.definition.id) { transaction in
                try await transaction.hostingAccounts(customerId: try await customerId(portal, of: stranger))
            }
            #expect(accounts.first?.phpVersion == "8.1", "the other customer's account is untouched")
            #expect(try await audit(portal).contains { $0.action == "hosting.php_changed" && $0.detail == "verdi-srl.it: PHP 8.1 -> 8.3" })
        }
    }

    @Test("API: the account list and the PHP switch; a cookie call without the CSRF header is refused", arguments: TestEngine.available)
    func phpThroughAPI(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            let main = try await portal.userForRole("main_account")
            let own = try await addHosting(portal, for: main, domain: "neri.it")
            let app = buildApplication(services: portal.services)
            try await app.test(.router) { client in
                let token = try await bearer(client, main)
                let list = try await JSONCall.send(client, .get, "/api/v1/hosting", token: token)
                let account = try #require((list.json["accounts"] as? [[String: Any]])?.first)
                #expect(account["domain"] as? String == "neri.it" && account["disk_quota_mb"] as? Int == 15_360)
                let wrong = try await JSONCall.send(client, .post, "/api/v1/hosting/\(own)/php", token: token, body: ["php_version": "9.9"])
                #expect(wrong.status == .unprocessableContent && wrong.errorCode == "invalid")
                let done = try await JSONCall.send(client, .post, "/api/v1/hosting/\(own)/php", token: token, body: ["php_version": "8.2"])
                #expect(done.status == .ok && done.json["php_version"] as? String == "8.2")
            }
            try await portal.test { browser in
                try await browser.logIn(main)
                let cookie = browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
                let forged = try await JSONCall.send(browser.client, .post, "/api/v1/hosting/\(own)/php", cookie: cookie, body: ["php_version": "7.4"])
                #expect(forged.status == .forbidden && forged.errorCode == "csrf_rejected")
            }
        }
    }

    @Test("a sub-account without the hosting switch cannot see or change hosting", arguments: TestEngine.available)
    func subAccountWithoutHosting(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            let sub = try await portal.userForRole("sub_account", toggles: ["invoices"])
            let own = try await addHosting(portal, for: sub, domain: "gialli.it")
            try await portal.test { browser in
                try await browser.logIn(sub)
                #expect(try await browser.get("/hosting").status == .forbidden)
                #expect(try await browser.post("/hosting/\(own)/php", ["php_version": "8.3"]).status == .forbidden)
                #expect(try await browser.get("/hosting/firewall").status == .forbidden)
            }
        }
    }
}

@Suite("Tunda: unblocking addresses blocked by the shared-hosting firewall")
struct HostingFirewallTests {
    @Test("blocked addresses are listed; typing an address (IPv4 or IPv6, any spelling) unblocks it on the customer's hosting only",
          arguments: TestEngine.available)
    func checkAndUnblock(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            let main = try await portal.userForRole("main_account")
            let stranger = try await portal.userForRole("main_account")
            let own = try await addHosting(portal, for: main, domain: "blu.it")
            let foreign = try await addHosting(portal, for: stranger, domain: "rosso.it")
            let mine = try await customerId(portal, of: main), theirs = try await customerId(portal, of: stranger)
            try await portal.database.write(tenant: portal.definition.id) { transaction in
                try await transaction.insertBlockedAddresses([
                    BlockedAddressRecord(customerId: mine, hostingAccountId: own, address: "203.0.113.7", reason: "mail_login", service: "IMAP", blockedAt: 1_790_000_000),
                    BlockedAddressRecord(customerId: mine, hostingAccountId: own, address: "2001:db8::1", reason: "ftp_login", service: "FTP", blockedAt: 1_790_000_100),
                    BlockedAddressRecord(customerId: theirs, hostingAccountId: foreign, address: "203.0.113.7", reason: "cms_login", blockedAt: 1_790_000_000),
                ])
            }
            try await portal.test { browser in
                try await browser.logIn(main)
                let page = try await browser.get("/hosting/firewall")
                #expect(page.status == .ok)
                #expect(page.body.contains("203.0.113.7") && page.body.contains("2001:db8::1") && !page.body.contains("rosso.it"))
                #expect(page.body.contains("Troppi accessi alla posta falliti"))
                let empty = try await browser.post("/hosting/firewall/unblock", ["address": " "])
                #expect(empty.status == .unprocessableContent && empty.body.contains("address-error"))
                let bad = try await browser.post("/hosting/firewall/unblock", ["address": "203.0.113.300"])
                #expect(bad.status == .unprocessableContent && bad.body.contains("Non è un indirizzo IP valido"))
                let v6 = try await browser.post("/hosting/firewall/unblock", ["address": "2001:0DB8:0:0:0:0:0:0001"])
                #expect(v6.status == .ok && v6.body.contains("2001:db8::1 è stato sbloccato su: blu.it"))
                let v4 = try await browser.post("/hosting/firewall/unblock", ["address": "203.0.113.7"])
                #expect(v4.body.contains("sbloccato su: blu.it"))
                let again = try await browser.post("/hosting/firewall/unblock", ["address": "203.0.113.7"])
                #expect(again.body.contains("non è bloccato sui tuoi hosting"))
                #expect(again.body.contains("Sbloccati negli ultimi 30 giorni"))
            }
            let theirBlocks = try await portal.database.read(tenant: portal.definition.id) { transaction in
                try await transaction.activeBlocks(customerId: theirs, address: "203.0.113.7")
            }
            #expect(theirBlocks.count == 1, "another customer's block with the same address stays")
            #expect(try await audit(portal).filter { $0.action == "firewall.unblocked" }.count == 2)
            let app = buildApplication(services: portal.services)
            try await app.test(.router) { client in
                let token = try await bearer(client, stranger)
                let state = try await JSONCall.send(client, .get, "/api/v1/hosting/firewall", token: token)
                #expect((state.json["blocked"] as? [[String: Any]])?.first?["domain"] as? String == "rosso.it")
                let done = try await JSONCall.send(client, .post, "/api/v1/hosting/firewall/unblock", token: token, body: ["address": "203.0.113.7"])
                #expect(done.status == .ok && done.json["was_blocked"] as? Bool == true)
                let wrong = try await JSONCall.send(client, .post, "/api/v1/hosting/firewall/unblock", token: token, body: ["address": "localhost"])
                #expect(wrong.status == .unprocessableContent)
            }
        }
    }

    @Test("IP addresses are recognised and written canonically",
          arguments: [("192.168.1.10", "192.168.1.10"), ("2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), ("::1", "::1"),
                      ("::ffff:192.0.2.1", "::ffff:c000:201"), ("[2001:db8::7]", "2001:db8::7"), ("fe80:0:0:0:0:0:0:0", "fe80::")])
    func addresses(typed: String, canonical: String) {
        #expect(IPAddress.normalize(typed) == canonical)
    }

    @Test("malformed addresses are refused", arguments: ["256.1.1.1", "1.2.3", "01.2.3.4", "2001:db8::1::2", "12345::", "abc", "1.2.3.4.5", ""])
    func malformed(typed: String) {
        #expect(IPAddress.normalize(typed) == nil)
    }
}

/// Availability is asked of the sandbox registry (scripts/lookup_service.py) through the lookup plugin tunda.yaml binds to
/// `domains.register`; LookupPluginTests covers the registry being down and no plugin connected.
@Suite("Tunda: domain availability, registration and auto-renew", .enabled(if: SandboxLookup.isAvailable))
struct HostingDomainsTests {
    @Test("the check says why a name cannot be registered; a free one is ordered with a pro-forma and reserved", arguments: TestEngine.available)
    func checkAndRegister(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda", lookupScope: SandboxLookup.newScope()) { portal in
            try await seedCatalogue(portal)
            let main = try await portal.userForRole("main_account")
            let other = try await portal.userForRole("main_account")
            let otherCustomer = try await customerId(portal, of: other)
            let taken = try await portal.database.write(tenant: portal.definition.id) { transaction in
                try await transaction.insertDomain(DomainRecord(customerId: otherCustomer, name: "preso.it", tld: "it", status: .active,
                                                                registeredOn: "2024-01-10", expiresOn: "2027-01-10", createdAt: 0))
            }
            try await portal.test { browser in
                try await browser.logIn(main)
                let page = try await browser.get("/domains")
                #expect(page.status == .ok && page.body.contains(".shop") && page.body.contains("9,90 €"))
                #expect(try await browser.get("/domains?name=ab--cd.it").body.contains("name-error"))
                #expect(try await browser.get("/domains?name=rossi.xyz").body.contains("Non registriamo domini con estensione .xyz"))
                #expect(try await browser.get("/domains?name=caffè.it").body.contains("lettere senza accenti"))
                #expect(try await browser.get("/domains?name=PRESO.it").body.contains("preso.it è già registrato"))
                let free = try await browser.get("/domains?name=www.Nuovo-Sito.it")
                #expect(free.body.contains("nuovo-sito.it è libero") && free.body.contains("Risposta di prova (sandbox)") && free.body.contains("24,16 €"), "2 years: 19,80 € + IVA")
                #expect(try await browser.get("/domains?name=google.it").body.contains("google.it è già registrato"), "the registry's word")
                let ordered = try await browser.post("/domains/register", ["name": "nuovo-sito.it", "years": "2"])
                #expect(ordered.location?.hasPrefix("/services/orders?done=domain_ordered") == true)
                let orders = try await browser.follow(ordered)
                #expect(orders.body.contains("Registrazione dominio nuovo-sito.it") && orders.body.contains("24,16 €"))
                let domains = try await browser.get("/domains")
                #expect(domains.body.contains("nuovo-sito.it") && domains.body.contains("hosting-status-pending"))
                let twice = try await browser.post("/domains/register", ["name": "nuovo-sito.it", "years": "1"])
                #expect(twice.status == .unprocessableContent, "the name is reserved by the pending order")
                let years = try await browser.post("/domains/register", ["name": "altro-nome.it", "years": "9"])
                #expect(years.status == .unprocessableContent && years.body.contains("da 1 a 5 anni"))
                #expect(try await browser.post("/domains/\(taken)/auto-renew", ["auto_renew": "off"]).status == .notFound)
            }
            #expect(try await audit(portal).contains { $0.action == "domain.ordered" && $0.detail?.contains("nuovo-sito.it 2y") == true })
        }
    }

    @Test("auto-renew switches off and on, with an audit entry; API availability and registration", arguments: TestEngine.available)
    func autoRenewAndAPI(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda", lookupScope: SandboxLookup.newScope()) { portal in
            try await seedCatalogue(portal)
            let main = try await portal.userForRole("main_account")
            let customer = try await customerId(portal, of: main)
            let domain = try await portal.database.write(tenant: portal.definition.id) { transaction in
                try await transaction.insertDomain(DomainRecord(customerId: customer, name: "mio.it", tld: "it", status: .active,
                                                                registeredOn: "2024-01-10", expiresOn: "2027-01-10", createdAt: 0))
            }
            try await portal.test { browser in
                try await browser.logIn(main)
                #expect(try await browser.post("/domains/\(domain)/auto-renew", ["auto_renew": "off"]).location == "/domains?done=auto_renew_off")
                #expect(try await browser.get("/domains?done=auto_renew_off").body.contains("Rinnovo automatico disattivato"))
            }
            let stored = try await portal.database.read(tenant: portal.definition.id) { try await $0.domain(id: domain, customerId: customer) }
            #expect(stored?.autoRenew == false)
            #expect(try await audit(portal).contains { $0.action == "domain.auto_renew_off" })
            let app = buildApplication(services: portal.services)
            try await app.test(.router) { client in
                let token = try await bearer(client, main)
                let check = try await JSONCall.send(client, .get, "/api/v1/domains/availability?name=mio.it", token: token)
                #expect(check.json["available"] as? Bool == false && check.json["reason"] as? String == "taken")
                let free = try await JSONCall.send(client, .get, "/api/v1/domains/availability?name=libero.eu", token: token)
                #expect(free.json["available"] as? Bool == true && (free.json["yearly_price"] as? [String: Any])?["cents"] as? Int == 890)
                let order = try await JSONCall.send(client, .post, "/api/v1/domains", token: token, body: ["name": "libero.eu"])
                #expect(order.status == .created && order.json["kind"] as? String == "domain")
                let on = try await JSONCall.send(client, .post, "/api/v1/domains/\(domain)/auto-renew", token: token, body: ["auto_renew": true])
                #expect(on.status == .ok && on.json["auto_renew"] as? Bool == true)
                let list = try await JSONCall.send(client, .get, "/api/v1/domains", token: token)
                #expect((list.json["domains"] as? [[String: Any]])?.map { $0["name"] as? String } == ["libero.eu", "mio.it"])
            }
        }
    }

    @Test("domain names are normalised or refused with a reason",
          arguments: [("Rossi-SRL.it", "rossi-srl.it"), ("https://www.example.com/pagina", "example.com"), ("negozio.co.uk", "negozio.co.uk")])
    func normalised(typed: String, name: String) throws {
        #expect(try DomainName.normalize(typed).get().name == name)
    }

    @Test("malformed domain names", arguments: [("", DomainNameProblem.required), ("-rossi.it", .invalidLabel), ("rossi", .missingExtension),
                                              ("città.it", .invalidCharacters), ("rossi.1t", .missingExtension), ("ro--ssi.it", .invalidLabel)])
    func malformed(typed: String, problem: DomainNameProblem) {
        if case .failure(let found) = DomainName.normalize(typed) { #expect(found == problem) } else { Issue.record("\(typed) accepted") }
    }
}

@Suite("Tunda knowledge base and Unidata online help")
struct HostingHelpTests {
    @Test("articles by topic, a word search (accents and case ignored), the article page, English when asked", arguments: TestEngine.available)
    func knowledgeBase(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            try await seedCatalogue(portal)
            let sub = try await portal.userForRole("sub_account", toggles: [])
            try await portal.test { browser in
                try await browser.logIn(sub)
                let page = try await browser.get("/help")
                #expect(page.status == .ok)
                #expect(page.body.contains("<h1>Informazioni e consigli</h1>") && page.body.contains("Domini") && page.body.contains("/help/versione-php"))
                let found = try await browser.get("/help?q=VERSIONE+php")
                #expect(found.body.contains("/help/versione-php") && !found.body.contains("/help/pec\""))
                #expect(try await browser.get("/help?q=perche+firewall").body.contains("/help/ip-bloccato"), "perché without the accent")
                #expect(try await browser.get("/help?q=zanzibar").body.contains("Nessun articolo"))
                let topic = try await browser.get("/help?category=Domini")
                #expect(topic.body.contains("/help/rinnovo-automatico") && !topic.body.contains("/help/versione-php"))
                let article = try await browser.get("/help/ip-bloccato")
                #expect(article.status == .ok && article.body.contains("Lo sblocco è disponibile solo per"))
                #expect(try await browser.get("/help/non-esiste").status == .notFound)
                let english = try await browser.get("/help/versione-php?lang=en")
                #expect(english.body.contains("Changing your site's PHP version") || english.body.contains("Changing your site&#39;s PHP version"))
            }
            let app = buildApplication(services: portal.services)
            try await app.test(.router) { client in
                let token = try await bearer(client, sub)
                let result = try await JSONCall.send(client, .get, "/api/v1/help/articles?q=password", token: token)
                let slugs = (result.json["articles"] as? [[String: Any]])?.compactMap { $0["slug"] as? String } ?? []
                #expect(slugs.contains("accesso-area-cliente") && !slugs.contains("rinnovo-automatico"))
                let one = try await JSONCall.send(client, .get, "/api/v1/help/articles/pec", token: token)
                #expect((one.json["paragraphs"] as? [String])?.count == 2)
            }
        }
    }

    @Test("Unidata's help page for every role; tenants without help have no such page", arguments: TestEngine.available)
    func unidataHelp(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            try await seedCatalogue(portal)
            let referent = try await portal.userForRole("referente_semplice", toggles: [])
            try await portal.test { browser in
                try await browser.logIn(referent)
                let page = try await browser.get("/help")
                #expect(page.status == .ok && page.body.contains("<h1>Help online</h1>") && page.body.contains("/help/completare-registrazione"))
                #expect(!page.body.contains("/help/versione-php"), "Tunda's articles are Tunda's")
                #expect(try await browser.get("/help?q=180+giorni").body.contains("/help/dettaglio-chiamate"))
            }
        }
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let admin = try await portal.userForRole("user_admin")
            try await portal.test { browser in
                try await browser.logIn(admin)
                #expect(try await browser.get("/help").status == .notFound)
            }
        }
    }
}
