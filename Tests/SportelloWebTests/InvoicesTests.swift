import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloApplication
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

/// A customer with one user, for the billing and usage tests.
struct BillingCustomer {
    var customerId: Int64
    var userId: Int64
    var username: String
}

let billingPassword = "Vecchia2026!"

extension PortalHarness {
    var billingNow: Int64 { Int64(clock.now().timeIntervalSince1970) }
    var billingToday: CalendarDay { CalendarDay(instant: billingNow) }

    /// A customer of a type the role allows with one user of `role` (and `toggles`); optionally another user on the same customer.
    func billingCustomer(role: String, toggles: [String] = [], customerId existing: Int64? = nil) async throws -> BillingCustomer {
        let roleDefinition = try #require(definition.roles[role])
        let typeId = roleDefinition.customerTypes?.first ?? definition.customerTypes.first { $0.value.kind == .business }?.key
            ?? definition.customerTypes.keys.first ?? ""
        let local = "b.\(role.replacingOccurrences(of: "_", with: "-")).\(UUID().uuidString.prefix(6).lowercased())"
        let email = "\(local)@example.it"
        let username = definition.login.identifiers == [.email] ? email : local
        let hash = try await services.passwords.hash(billingPassword)
        let key = UsernameRules.key(for: username, caseSensitive: definition.login.caseSensitive)
        return try await database.write(tenant: definition.id, now: billingNow) { transaction in
            var customerId = existing ?? 0
            if existing == nil { customerId = try await transaction.insertCustomer(CustomerRecord(
                customerType: typeId, customerCode: "C-\(local)", firstName: "Maria", lastName: "Verdi", companyName: "Verdi \(local) Srl",
                taxCode: "VRDMRA80A41H501X", vatNumber: "01234567890", email: email, street: "Via Roma 1", postalCode: "00100",
                city: "Roma", province: "RM", createdAt: 0)) }
            let userId = try await transaction.insertUser(UserRecord(customerId: customerId, username: username, usernameKey: key,
                                                                     email: email, firstName: "Maria", lastName: "Verdi",
                                                                     passwordHash: hash, role: role, toggles: toggles, createdAt: 0))
            return BillingCustomer(customerId: customerId, userId: userId, username: username)
        }
    }

    /// An invoice with its PDF, its statement debit and, when paid, the payment and the credit.
    @discardableResult
    func billingInvoice(customerId: Int64, number: String, issued: CalendarDay, dueInDays: Int = 25, totalCents: Int64 = 12_200,
                        paid: Bool) async throws -> (invoice: Int64, document: Int64) {
        try await database.write(tenant: definition.id, now: billingNow) { transaction in
            let due = issued.adding(days: dueInDays)
            let net = totalCents * 100 / 122
            let id = try await transaction.insertInvoice(InvoiceRecord(
                customerId: customerId, number: number, issuedOn: issued.description, dueOn: due.description,
                periodFrom: issued.adding(months: -1).description, periodTo: issued.adding(days: -1).description,
                netCents: net, taxCents: totalCents - net, totalCents: totalCents, status: paid ? .paid : .unpaid,
                paidOn: paid ? due.description : nil))
            let document = try await transaction.insertDocument(DocumentRecord(
                ownerKind: "invoice", ownerId: id, fileName: "fattura-\(number.replacingOccurrences(of: "/", with: "-")).pdf",
                contentType: "application/pdf", content: DemoDataGenerator.minimalPDF(lines: ["Fattura \(number)"]), createdAt: 0))
            try await transaction.insertStatementEntry(StatementEntryRecord(
                customerId: customerId, invoiceId: id, bookedOn: issued.description, dueOn: due.description,
                description: "Fattura \(number)", amountCents: totalCents, isOpen: !paid))
            if paid {
                try await transaction.insertPayment(PaymentRecord(customerId: customerId, invoiceId: id, paidOn: due.description,
                                                                  amountCents: totalCents, method: "sepa", reference: "SDD \(number)"))
                try await transaction.insertStatementEntry(StatementEntryRecord(
                    customerId: customerId, invoiceId: id, bookedOn: due.description, description: "Pagamento fattura \(number)",
                    amountCents: -totalCents, isOpen: false))
            }
            return (id, document)
        }
    }
}

/// Calls on `/api/v1` with a bearer token or the browser's cookies, logged in with the billing tests' password.
enum BillingAPI {
    typealias Answer = JSONCall

    static func token(_ client: some TestClientProtocol, _ username: String) async throws -> String {
        let answer = try await send(client, .post, "/api/v1/session", body: ["identifier": username, "password": billingPassword])
        #expect(answer.status == .created, "API login as \(username)")
        return try #require(answer.json["token"] as? String)
    }

    static func send(_ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, token: String? = nil,
                     cookie: String? = nil, csrf: String? = nil, body: [String: Any]? = nil) async throws -> JSONCall {
        try await JSONCall.send(client, method, path, token: token, cookie: cookie, csrf: csrf, body: body)
    }
}

@Suite("Invoices, statement and online payment")
struct InvoicesTests {
    @Test("Unidata: the list shows the 24-month window with overdue invoices highlighted; an older invoice is 404 on the page and the API",
          arguments: TestEngine.available)
    func listAndWindow(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let admin = try await portal.billingCustomer(role: "referente_amministratore")
            let today = portal.billingToday
            try await portal.billingInvoice(customerId: admin.customerId, number: "2026/PAID/01", issued: today.adding(months: -2), paid: true)
            let overdue = try await portal.billingInvoice(customerId: admin.customerId, number: "2026/LATE/02", issued: today.adding(months: -1), paid: false)
            let old = try await portal.billingInvoice(customerId: admin.customerId, number: "2024/OLD/03", issued: today.adding(months: -25), paid: true)
            try await portal.test { browser in
                try await browser.logIn(admin.username, billingPassword)
                let list = try await browser.get("/invoices")
                #expect(list.status == .ok)
                #expect(list.body.contains("2026/PAID/01") && list.body.contains("2026/LATE/02"))
                #expect(!list.body.contains("2024/OLD/03"), "an invoice older than 24 months is not listed")
                #expect(list.body.contains("<tr class=\"billing-row-overdue\">"), "the overdue invoice is highlighted")
                #expect(list.body.contains("Scaduta"))
                #expect(list.body.contains("/invoices/\(overdue.invoice)/pay"), "the open invoice can be paid")
                let paidOnly = try await browser.get("/invoices?status=paid")
                #expect(paidOnly.body.contains("2026/PAID/01") && !paidOnly.body.contains("2026/LATE/02"))
                let badFilter = try await browser.get("/invoices?status=whatever")
                #expect(badFilter.status == .unprocessableContent)
                #expect(badFilter.body.contains("filter-status-error"))
                #expect(try await browser.get("/invoices/\(old.invoice)").status == .notFound)
                #expect(try await browser.get("/invoices/\(old.invoice)/documents/\(old.document)").status == .notFound)
                let detail = try await browser.get("/invoices/\(overdue.invoice)")
                #expect(detail.status == .ok)
                #expect(detail.body.contains("Fattura 2026/LATE/02") && detail.body.contains("122,00 €") && detail.body.contains("Imponibile"))
            }
            try await portal.test { browser in
                let token = try await BillingAPI.token(browser.client, admin.username)
                let list = try await BillingAPI.send(browser.client, .get, "/api/v1/invoices", token: token)
                #expect(list.status == .ok)
                let items = try #require(list.json["items"] as? [[String: Any]])
                #expect(items.map { $0["number"] as? String } == ["2026/LATE/02", "2026/PAID/01"])
                #expect(items.first?["status"] as? String == "overdue" && items.first?["overdue"] as? Bool == true)
                #expect((list.json["total_due"] as? [String: Any])?["cents"] as? Int == 12_200)
                #expect(list.json["visible_from"] as? String == today.adding(months: -24).description)
                let old = try await BillingAPI.send(browser.client, .get, "/api/v1/invoices/\(old.invoice)", token: token)
                #expect(old.status == .notFound && old.errorCode == "not_found")
                let invalid = try await BillingAPI.send(browser.client, .get, "/api/v1/invoices?year=20x6", token: token)
                #expect(invalid.status == .unprocessableContent && invalid.fieldCodes["year"] == "invalid")
                let detail = try await BillingAPI.send(browser.client, .get, "/api/v1/invoices/\(overdue.invoice)", token: token)
                #expect(detail.status == .ok)
                #expect(((detail.json["amount_due"] as? [String: Any])?["cents"] as? Int) == 12_200)
                #expect((detail.json["documents"] as? [[String: Any]])?.count == 1)
            }
        }
    }

    @Test("roles: pages open where the role grants a feature, a 403 in Italian elsewhere, 404 where the tenant has no such page",
          arguments: TestEngine.available)
    func rolesPerPage(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let plain = try await portal.billingCustomer(role: "referente_semplice")
            let viewer = try await portal.billingCustomer(role: "referente_semplice", toggles: ["invoices"], customerId: plain.customerId)
            let payer = try await portal.billingCustomer(role: "referente_semplice", toggles: ["payments"], customerId: plain.customerId)
            let invoice = try await portal.billingInvoice(customerId: plain.customerId, number: "2026/RS/01", issued: portal.billingToday.adding(days: -3), paid: false)
            try await portal.test { browser in
                try await browser.logIn(plain.username, billingPassword)
                for path in ["/invoices", "/statement", "/invoices/\(invoice.invoice)", "/invoices/\(invoice.invoice)/pay", "/usage"] {
                    let page = try await browser.get(path)
                    #expect(page.status == .forbidden, "\(path) without the switch")
                    #expect(page.body.contains("non è abilitato") || page.body.contains("Accesso non consentito"), "\(path): the 403 page speaks Italian")
                }
                #expect(try await browser.get("/recharges").status == .notFound, "Unidata has no recharge history")
            }
            try await portal.test { browser in
                try await browser.logIn(viewer.username, billingPassword)
                #expect(try await browser.get("/invoices").status == .ok)
                #expect(try await browser.get("/statement").status == .ok)
                #expect(try await browser.get("/invoices/\(invoice.invoice)").status == .ok)
                let detail = try await browser.get("/invoices/\(invoice.invoice)")
                #expect(!detail.body.contains("/invoices/\(invoice.invoice)/pay"), "no pay button without the payments switch")
                #expect(try await browser.get("/invoices/\(invoice.invoice)/pay").status == .forbidden)
            }
            try await portal.test { browser in
                try await browser.logIn(payer.username, billingPassword)
                let list = try await browser.get("/invoices")
                #expect(list.status == .ok, "paying opens the list of what is due")
                #expect(list.body.contains("/invoices/\(invoice.invoice)/pay") && !list.body.contains("href=\"/invoices/\(invoice.invoice)\""))
                #expect(try await browser.get("/invoices/\(invoice.invoice)").status == .forbidden, "paying does not open the detail")
                #expect(try await browser.get("/invoices/\(invoice.invoice)/pay").status == .ok)
            }
        }
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let user = try await portal.billingCustomer(role: "utilizzatore")
            let light = try await portal.billingCustomer(role: "amministratore_light", customerId: user.customerId)
            try await portal.test { browser in
                try await browser.logIn(user.username, billingPassword)
                #expect(try await browser.get("/invoices").status == .forbidden)
                #expect(try await browser.get("/statement").status == .notFound, "TIM has no account statement")
                #expect(try await browser.get("/usage").status == .ok)
                #expect(try await browser.get("/recharges").status == .ok)
            }
            try await portal.test { browser in
                try await browser.logIn(light.username, billingPassword)
                #expect(try await browser.get("/invoices").status == .ok)
            }
        }
        try await PortalHarness.with(engine: engine, tenant: "unogas") { portal in
            let customer = try await portal.billingCustomer(role: "cliente")
            try await portal.test { browser in
                try await browser.logIn(customer.username, billingPassword)
                #expect(try await browser.get("/invoices").status == .ok)
                #expect(try await browser.get("/statement").status == .notFound)
                #expect(try await browser.get("/usage").status == .notFound)
            }
        }
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            let main = try await portal.billingCustomer(role: "main_account")
            let sub = try await portal.billingCustomer(role: "sub_account", toggles: [], customerId: main.customerId)
            try await portal.test { browser in
                try await browser.logIn(main.username, billingPassword)
                #expect(try await browser.get("/statement").status == .ok, "Tunda's payment status")
                #expect(try await browser.get("/invoices").status == .ok)
            }
            try await portal.test { browser in
                try await browser.logIn(sub.username, billingPassword)
                #expect(try await browser.get("/invoices").status == .forbidden)
                #expect(try await browser.get("/statement").status == .forbidden)
            }
        }
    }

    @Test("isolation: another customer's invoice, document or payment is 404 and never shows its data", arguments: TestEngine.available)
    func isolation(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let mine = try await portal.billingCustomer(role: "user_admin")
            let other = try await portal.billingCustomer(role: "user_admin")
            let own = try await portal.billingInvoice(customerId: mine.customerId, number: "W3/MINE/1", issued: portal.billingToday.adding(days: -10), paid: false)
            let foreign = try await portal.billingInvoice(customerId: other.customerId, number: "W3/THEIRS/1", issued: portal.billingToday.adding(days: -10), paid: false)
            try await portal.test { browser in
                try await browser.logIn(mine.username, billingPassword)
                for path in ["/invoices/\(foreign.invoice)", "/invoices/\(foreign.invoice)/print", "/invoices/\(foreign.invoice)/pay",
                             "/invoices/\(foreign.invoice)/documents/\(foreign.document)", "/invoices/\(own.invoice)/documents/\(foreign.document)"] {
                    let page = try await browser.get(path)
                    #expect(page.status == .notFound, "\(path)")
                    #expect(!page.body.contains("W3/THEIRS/1"))
                }
                let paid = try await browser.post("/invoices/\(foreign.invoice)/pay", ["method": "card"])
                #expect(paid.status == .notFound)
                #expect(!(try await browser.get("/invoices")).body.contains("W3/THEIRS/1"))
                let token = try await BillingAPI.token(browser.client, mine.username)
                let api = try await BillingAPI.send(browser.client, .get, "/api/v1/invoices/\(foreign.invoice)", token: token)
                #expect(api.status == .notFound && api.errorCode == "not_found" && !api.json.description.contains("THEIRS"))
                let pay = try await BillingAPI.send(browser.client, .post, "/api/v1/invoices/\(foreign.invoice)/payments", token: token,
                                                    body: ["method": "card"])
                #expect(pay.status == .notFound)
            }
            let theirs = try await portal.database.read(tenant: portal.definition.id) { try await $0.payments(customerId: other.customerId) }
            #expect(theirs.isEmpty, "nothing was paid on the other customer's invoice")
        }
    }

    @Test("TIM Dual Billing: each user sees only their own personal invoices, apart from the company's; colleagues get 404",
          arguments: TestEngine.available)
    func personalInvoices(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let anna = try await portal.billingCustomer(role: "amministratore_light")
            let bruno = try await portal.billingCustomer(role: "amministratore_light", customerId: anna.customerId)
            let user = try await portal.billingCustomer(role: "utilizzatore", customerId: anna.customerId)
            let company = try await portal.billingInvoice(customerId: anna.customerId, number: "TIM/AZ/1", issued: portal.billingToday.adding(days: -10), paid: false)
            let (annas, brunos) = try await portal.database.write(tenant: portal.definition.id) { transaction in
                func personal(_ number: String, _ holder: Int64) async throws -> Int64 {
                    try await transaction.insertInvoice(InvoiceRecord(customerId: anna.customerId, number: number, issuedOn: "2026-11-12",
                                                                      dueOn: "2026-12-02", netCents: 1000, taxCents: 220, totalCents: 1220,
                                                                      status: .unpaid, holderUserId: holder))
                }
                return (try await personal("DB/ANNA/1", anna.userId), try await personal("DB/BRUNO/1", bruno.userId))
            }
            try await portal.test { browser in
                try await browser.logIn(anna.username, billingPassword)
                let list = try await browser.get("/invoices")
                #expect(list.status == .ok && list.body.contains("Fatture personali (Dual Billing)"))
                #expect(list.body.contains("TIM/AZ/1") && list.body.contains("DB/ANNA/1") && !list.body.contains("DB/BRUNO/1"))
                #expect(try await browser.get("/invoices/\(annas)").status == .ok)
                #expect(try await browser.get("/invoices/\(brunos)").status == .notFound, "a colleague's personal invoice")
                #expect(try await browser.get("/invoices/\(company.invoice)").status == .ok)
                let token = try await BillingAPI.token(browser.client, anna.username)
                let personal = try await BillingAPI.send(browser.client, .get, "/api/v1/invoices/personal", token: token)
                let numbers = (personal.json["items"] as? [[String: Any]])?.compactMap { $0["number"] as? String }
                #expect(personal.status == .ok && numbers == ["DB/ANNA/1"])
                let companyList = try await BillingAPI.send(browser.client, .get, "/api/v1/invoices", token: token)
                let companyNumbers = (companyList.json["items"] as? [[String: Any]])?.compactMap { $0["number"] as? String }
                #expect(companyNumbers == ["TIM/AZ/1"], "personal invoices are not the company's")
            }
            try await portal.test { browser in
                try await browser.logIn(user.username, billingPassword)
                #expect(try await browser.get("/invoices/\(annas)").status != .ok)
                let token = try await BillingAPI.token(browser.client, user.username)
                #expect(try await BillingAPI.send(browser.client, .get, "/api/v1/invoices/personal", token: token).status == .forbidden)
            }
        }
    }

    @Test("document download: the PDF as an attachment with its content type, only for the customer's own invoice",
          arguments: TestEngine.available)
    func documentDownload(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let admin = try await portal.billingCustomer(role: "telco_manager")
            let invoice = try await portal.billingInvoice(customerId: admin.customerId, number: "W3/2026/77", issued: portal.billingToday.adding(days: -5), paid: true)
            try await portal.test { browser in
                try await browser.logIn(admin.username, billingPassword)
                let detail = try await browser.get("/invoices/\(invoice.invoice)")
                #expect(detail.body.contains("/invoices/\(invoice.invoice)/documents/\(invoice.document)"))
                let response = try await browser.client.execute(uri: "/invoices/\(invoice.invoice)/documents/\(invoice.document)", method: .get,
                                                                headers: [.cookie: browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")],
                                                                body: nil)
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/pdf")
                let disposition = try #require(response.headers[.contentDisposition])
                #expect(disposition.hasPrefix("attachment;") && disposition.contains("fattura-W3-2026-77.pdf"))
                #expect(String(buffer: response.body).hasPrefix("%PDF-1.4"))
                let print = try await browser.get("/invoices/\(invoice.invoice)/print")
                #expect(print.status == .ok)
                #expect(print.body.contains("W3/2026/77") && print.body.contains("/static/invoices.css"))
                #expect(!print.body.contains("main-nav") && !print.body.contains("site-header"), "the print view has no navigation")
                let token = try await BillingAPI.token(browser.client, admin.username)
                let api = try await BillingAPI.send(browser.client, .get, "/api/v1/invoices/\(invoice.invoice)/documents/\(invoice.document)", token: token)
                #expect(api.status == .ok && api.headers[.contentType] == "application/pdf")
                #expect(api.headers[.contentDisposition]?.hasPrefix("attachment;") == true)
            }
        }
    }

    // Paying online goes through the payments plugin bound to the feature: OnlinePaymentsTests (against the sandbox PSP)
    // and OnlinePaymentsUnavailableTests (no plugin connected, a provider that does not answer).

    @Test("account statement: debit, credit, running balance, open items filter and total due; the API says the same",
          arguments: TestEngine.available)
    func statement(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let admin = try await portal.billingCustomer(role: "referente_amministratore")
            let today = portal.billingToday
            try await portal.billingInvoice(customerId: admin.customerId, number: "2026/ST/1", issued: today.adding(months: -3), totalCents: 10_000, paid: true)
            try await portal.billingInvoice(customerId: admin.customerId, number: "2026/ST/2", issued: today.adding(months: -2), totalCents: 20_000, paid: false)
            try await portal.billingInvoice(customerId: admin.customerId, number: "2026/ST/3", issued: today.adding(days: -2), totalCents: 30_000, paid: false)
            try await portal.test { browser in
                try await browser.logIn(admin.username, billingPassword)
                let all = try await browser.get("/statement")
                #expect(all.status == .ok)
                #expect(all.body.contains("Pagamento fattura 2026/ST/1") && all.body.contains("Fattura 2026/ST/3"))
                #expect(all.body.contains("500,00 €"), "total due: 200 + 300")
                #expect(all.body.contains("Dare") && all.body.contains("Avere") && all.body.contains("Saldo"))
                let open = try await browser.get("/statement?open=1")
                #expect(open.body.contains("Fattura 2026/ST/2") && !open.body.contains("2026/ST/1"))
                #expect(open.body.contains("billing-row-overdue"), "the item past its due date is highlighted")
                let token = try await BillingAPI.token(browser.client, admin.username)
                let api = try await BillingAPI.send(browser.client, .get, "/api/v1/statement", token: token)
                #expect(api.status == .ok)
                let entries = try #require(api.json["entries"] as? [[String: Any]])
                #expect(entries.count == 4)
                #expect(((api.json["total_due"] as? [String: Any])?["cents"] as? Int) == 50_000)
                #expect(((api.json["balance"] as? [String: Any])?["cents"] as? Int) == 50_000)
                #expect(((api.json["overdue_due"] as? [String: Any])?["cents"] as? Int) == 20_000)
                #expect(((entries.first?["balance"] as? [String: Any])?["cents"] as? Int) == 50_000, "newest entry carries the final balance")
                let openAPI = try await BillingAPI.send(browser.client, .get, "/api/v1/statement?open=true", token: token)
                #expect((openAPI.json["entries"] as? [[String: Any]])?.count == 2)
                let bad = try await BillingAPI.send(browser.client, .get, "/api/v1/statement?open=maybe", token: token)
                #expect(bad.status == .unprocessableContent && bad.fieldCodes["open"] == "invalid")
            }
        }
    }

    @Test("card checks: Luhn, expiry at the end of its month, CVV length by network")
    func cardChecks() {
        #expect(CardDetails.luhnValid("4111111111111111"))
        #expect(CardDetails.luhnValid("378282246310005"))
        #expect(!CardDetails.luhnValid("4111111111111112"))
        let now = CalendarDay(year: 2026, month: 11, day: 21).startInstant
        let text: (String) -> LocalizedText = { LocalizedText($0) }
        let thisMonth = CardDetails(holder: "Anna Bianchi", number: "4111111111111111", expiry: "11/26", cvv: "123")
        #expect(thisMonth.problems(now: now, text: text).isEmpty, "a card expiring this month is still valid")
        let lastMonth = CardDetails(holder: "Anna Bianchi", number: "4111111111111111", expiry: "10/2026", cvv: "123")
        #expect(lastMonth.problems(now: now, text: text).map(\.code) == ["expired"])
        let amex = CardDetails(holder: "Anna Bianchi", number: "3782 822463 10005", expiry: "1130", cvv: "123")
        #expect(amex.problems(now: now, text: text).map(\.field) == ["card_cvv"])
    }
}
