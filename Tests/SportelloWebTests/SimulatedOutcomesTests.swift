import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

/// A raw call with a bearer token (for downloads, whose bodies are not JSON).
private func download(_ client: some TestClientProtocol, _ path: String, token: String) async throws -> (status: HTTPResponse.Status, type: String?, body: ByteBuffer) {
    var headers = HTTPFields()
    headers[.authorization] = "Bearer \(token)"
    let response = try await client.execute(uri: path, method: .get, headers: headers, body: nil)
    return (response.status, response.headers[.contentType], response.body)
}

/// Every `href="/invoices/N"` of a page.
private func invoiceLinks(_ html: String) -> [String] {
    html.components(separatedBy: "href=\"/invoices/").dropFirst().compactMap { rest in
        let id = rest.prefix { $0.isNumber }
        return id.isEmpty ? nil : "/invoices/\(id)"
    }
}

@Suite("Nothing simulated passes for real")
struct SimulatedOutcomesTests {
    static let card = ["card_holder": "Maria Verdi", "card_number": "4111 1111 1111 1111", "card_expiry": "12/30", "card_cvv": "123"]

    @Test("the demo card payment says it is simulated on the invoice, the statement, the stored rows and the API; no authorisation code is invented",
          arguments: TestEngine.available)
    func simulatedCardPayment(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let admin = try await portal.billingCustomer(role: "referente_amministratore")
            let today = portal.billingToday
            let byPage = try await portal.billingInvoice(customerId: admin.customerId, number: "2026/SIM/1", issued: today.adding(days: -10),
                                                         totalCents: 4_200, paid: false)
            let byAPI = try await portal.billingInvoice(customerId: admin.customerId, number: "2026/SIM/2", issued: today.adding(days: -5),
                                                        totalCents: 1_000, paid: false)
            try await portal.test { browser in
                try await browser.logIn(admin.username, billingPassword)
                let form = try await browser.get("/invoices/\(byPage.invoice)/pay")
                #expect(form.body.contains("Pagamento simulato (demo)"))
                let paid = try await browser.follow(try await browser.post("/invoices/\(byPage.invoice)/pay", Self.card))
                #expect(paid.body.contains("Pagamento simulato registrato") && paid.body.contains("nessun importo è stato addebitato"))
                #expect(paid.body.contains("Pagata (simulazione)") && paid.body.contains("Simulato (demo): nessun addebito"))
                #expect(!paid.body.contains("AUT "), "no invented authorisation code")
                let list = try await browser.get("/invoices")
                #expect(list.body.contains("Pagata (simulazione)"))
                let statement = try await browser.get("/statement")
                #expect(statement.body.contains("Pagamento simulato con carta (demo, nessun addebito)"))
                #expect(!statement.body.contains("Pagamento online con carta"))
                #expect(statement.body.contains("billing-status-simulated"))
                let print = try await browser.get("/invoices/\(byPage.invoice)/print")
                #expect(print.body.contains("Pagata (simulazione)"))

                let token = try await BillingAPI.token(browser.client, admin.username)
                let result = try await BillingAPI.send(browser.client, .post, "/api/v1/invoices/\(byAPI.invoice)/payments", token: token, body: Self.card)
                #expect(result.status == .created && result.json["simulated"] as? Bool == true)
                #expect((result.json["simulated_label"] as? String)?.contains("Simulato") == true)
                #expect((result.json["invoice"] as? [String: Any])?["simulated"] as? Bool == true)
                let payment = try #require(result.json["payment"] as? [String: Any])
                #expect(payment["simulated"] as? Bool == true && (payment["reference"] as? String)?.contains("AUT") == false)
                let detail = try await BillingAPI.send(browser.client, .get, "/api/v1/invoices/\(byPage.invoice)", token: token)
                #expect((detail.json["invoice"] as? [String: Any])?["simulated"] as? Bool == true)
                #expect((detail.json["payments"] as? [[String: Any]])?.first?["simulated"] as? Bool == true)
                let api = try await BillingAPI.send(browser.client, .get, "/api/v1/statement", token: token)
                let credits = (api.json["entries"] as? [[String: Any]] ?? []).filter { $0["credit"] != nil && !($0["credit"] is NSNull) }
                #expect(credits.count == 2 && credits.allSatisfy { $0["simulated"] as? Bool == true })
                let unpaidList = try await BillingAPI.send(browser.client, .get, "/api/v1/invoices", token: token)
                #expect((unpaidList.json["items"] as? [[String: Any]])?.allSatisfy { $0["simulated"] is Bool } == true)
            }
            let (payments, entries, invoices) = try await portal.database.read(tenant: portal.definition.id) { transaction in
                (try await transaction.payments(customerId: admin.customerId),
                 try await transaction.statement(customerId: admin.customerId, windows: portal.tenant.windows),
                 [try await transaction.invoice(id: byPage.invoice, customerId: admin.customerId, windows: portal.tenant.windows),
                  try await transaction.invoice(id: byAPI.invoice, customerId: admin.customerId, windows: portal.tenant.windows)])
            }
            #expect(payments.count == 2 && payments.allSatisfy { $0.simulated == true })
            #expect(entries.filter { $0.amountCents < 0 }.allSatisfy { $0.simulated == true })
            #expect(entries.filter { $0.amountCents > 0 }.allSatisfy { $0.simulated != true }, "the invoices' debits are real")
            #expect(invoices.allSatisfy { $0?.simulated == true && $0?.status == .paid })
        }
    }

    @Test("the print view never calls the portal copy fiscally valid; WINDTRE's says only the SDI e-invoice is", arguments: TestEngine.available)
    func printViewFiscalWording(engine: TestEngine) async throws {
        for tenant in ["unidata", "windtre"] {
            try await PortalHarness.with(engine: engine, tenant: tenant) { portal in
                let role = tenant == "windtre" ? "user_admin" : "referente_amministratore"
                let admin = try await portal.billingCustomer(role: role)
                let invoice = try await portal.billingInvoice(customerId: admin.customerId, number: "PR/\(tenant)/1",
                                                              issued: portal.billingToday.adding(days: -3), paid: false)
                try await portal.test { browser in
                    try await browser.logIn(admin.username, billingPassword)
                    let print = try await browser.get("/invoices/\(invoice.invoice)/print")
                    #expect(print.status == .ok)
                    #expect(!print.body.contains("il documento fiscale è il PDF"))
                    if tenant == "windtre" {
                        #expect(print.body.contains("senza valore fiscale") && print.body.contains("Sistema di Interscambio (SDI)"))
                    } else {
                        #expect(print.body.contains("non è un documento fiscale"))
                    }
                }
            }
        }
    }

    @Test("Tunda's domain check is labelled a demo on the page and the API and never calls a well-known domain free",
          arguments: TestEngine.available)
    func domainCheckIsADemo(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            let now = Int64(portal.clock.now().timeIntervalSince1970)
            try await portal.database.write(tenant: portal.definition.id, now: now) { transaction in
                try await DemoDataGenerator(tenant: portal.definition, now: now, hasher: portal.services.passwords).seedHosting(in: transaction)
            }
            let main = try await portal.userForRole("main_account")
            try await portal.test { browser in
                try await browser.logIn(main)
                let google = try await browser.get("/domains?name=google.it")
                #expect(google.body.contains("google.it è già registrato") && !google.body.contains("è libero"))
                let free = try await browser.get("/domains?name=nome-di-prova-demo.it")
                #expect(free.body.contains("Verifica dimostrativa (simulata)") && !free.body.contains("è libero!"))
                let login = try await JSONCall.send(browser.client, .post, "/api/v1/session", body: ["identifier": main, "password": "Vecchia2026!"])
                let token = try #require(login.json["token"] as? String)
                let api = try await JSONCall.send(browser.client, .get, "/api/v1/domains/availability?name=www.google.it", token: token)
                #expect(api.json["available"] as? Bool == false && api.json["reason"] as? String == "taken")
                #expect(api.json["simulated"] as? Bool == true)
                let other = try await JSONCall.send(browser.client, .get, "/api/v1/domains/availability?name=nome-di-prova-demo.eu", token: token)
                #expect(other.json["available"] as? Bool == true && other.json["simulated"] as? Bool == true)
                #expect((other.json["simulated_label"] as? String)?.contains("Verifica dimostrativa") == true)
            }
        }
    }
}

@Suite("Account statement: window, print and export")
struct StatementWindowTests {
    @Test("no statement row links to an invoice outside the invoices' window: older rows are in the balance brought forward, the page says so",
          arguments: TestEngine.available)
    func statementInsideInvoiceWindow(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let admin = try await portal.billingCustomer(role: "referente_amministratore")
            let today = portal.billingToday
            let old = try await portal.billingInvoice(customerId: admin.customerId, number: "2024/OLD/1", issued: today.adding(months: -26),
                                                      totalCents: 7_000, paid: false)
            try await portal.billingInvoice(customerId: admin.customerId, number: "2026/NEW/1", issued: today.adding(months: -2), totalCents: 3_000, paid: true)
            // A credit booked inside the window for the old invoice: shown, but not linked.
            try await portal.database.write(tenant: portal.definition.id, now: portal.billingNow) { transaction in
                try await transaction.insertStatementEntry(StatementEntryRecord(customerId: admin.customerId, invoiceId: old.invoice,
                                                                                bookedOn: today.adding(days: -3).description,
                                                                                description: "Bonifico fattura 2024/OLD/1", amountCents: -7_000, isOpen: false))
            }
            try await portal.test { browser in
                try await browser.logIn(admin.username, billingPassword)
                let page = try await browser.get("/statement")
                #expect(page.status == .ok)
                #expect(!page.body.contains("Fattura 2024/OLD/1"), "the row booked before the window is not shown")
                #expect(page.body.contains("Bonifico fattura 2024/OLD/1") && page.body.contains("Saldo riportato"))
                #expect(page.body.contains("Sono visibili i movimenti dal"))
                #expect(!page.body.contains("/invoices/\(old.invoice)\""), "no link to an invoice outside the window")
                let links = invoiceLinks(page.body)
                #expect(!links.isEmpty)
                for link in Set(links) { #expect(try await browser.get(link).status == .ok, "\(link) opens") }
                let open = try await browser.get("/statement?open=1")
                #expect(!open.body.contains("2024/OLD/1") && open.body.contains("Sono visibili le partite dal"))
                let token = try await BillingAPI.token(browser.client, admin.username)
                let api = try await BillingAPI.send(browser.client, .get, "/api/v1/statement", token: token)
                let entries = try #require(api.json["entries"] as? [[String: Any]])
                #expect(!entries.contains { $0["invoice_id"] as? Int == Int(old.invoice) })
                #expect(((api.json["balance_brought_forward"] as? [String: Any])?["cents"] as? Int) == 7_000)
                #expect(((api.json["balance"] as? [String: Any])?["cents"] as? Int) == 0)
                #expect(api.json["visible_from"] as? String == today.adding(months: -24).description)
            }
        }
    }

    @Test("the statement prints and downloads as CSV and Excel (page and API), inside the window and only the customer's own rows",
          arguments: TestEngine.available)
    func statementPrintAndExport(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let admin = try await portal.billingCustomer(role: "referente_amministratore")
            let stranger = try await portal.billingCustomer(role: "referente_amministratore")
            let today = portal.billingToday
            try await portal.billingInvoice(customerId: admin.customerId, number: "2026/EXP/1", issued: today.adding(months: -1), totalCents: 12_345, paid: false)
            try await portal.billingInvoice(customerId: admin.customerId, number: "2024/EXP/OLD", issued: today.adding(months: -30), paid: true)
            try await portal.billingInvoice(customerId: stranger.customerId, number: "2026/ALTRUI/9", issued: today.adding(days: -4), paid: false)
            try await portal.test { browser in
                try await browser.logIn(admin.username, billingPassword)
                let page = try await browser.get("/statement")
                #expect(page.body.contains("href=\"/statement/print\"") && page.body.contains("/statement/export?format=xlsx"))
                let print = try await browser.get("/statement/print")
                #expect(print.status == .ok && print.body.contains("Estratto conto") && print.body.contains("Fattura 2026/EXP/1"))
                #expect(!print.body.contains("ALTRUI") && !print.body.contains("2024/EXP/OLD") && !print.body.contains("class=\"nav"))
                let csv = try await browser.get("/statement/export?format=csv")
                #expect(csv.status == .ok && csv.body.contains("Data;Descrizione;Scadenza") && csv.body.contains("Fattura 2026/EXP/1"))
                #expect(csv.body.contains("123,45"))
                #expect(!csv.body.contains("ALTRUI") && !csv.body.contains("2024/EXP/OLD"))
                let xlsx = try await browser.get("/statement/export?format=xlsx")
                #expect(xlsx.status == .ok && xlsx.body.hasPrefix("PK"))
                #expect(try await browser.get("/statement/export?format=pdf").status == .unprocessableContent)

                let token = try await BillingAPI.token(browser.client, admin.username)
                let apiCSV = try await download(browser.client, "/api/v1/statement/export?format=csv", token: token)
                #expect(apiCSV.status == .ok && apiCSV.type?.hasPrefix("text/csv") == true)
                let text = String(buffer: apiCSV.body)
                #expect(text.contains("Fattura 2026/EXP/1") && !text.contains("ALTRUI"))
                let apiXLSX = try await download(browser.client, "/api/v1/statement/export?format=xlsx", token: token)
                #expect(apiXLSX.status == .ok && apiXLSX.type == SpreadsheetWriter.xlsxContentType)
                let strangerToken = try await BillingAPI.token(browser.client, stranger.username)
                let theirs = String(buffer: try await download(browser.client, "/api/v1/statement/export?format=csv", token: strangerToken).body)
                #expect(theirs.contains("ALTRUI") && !theirs.contains("2026/EXP/1"), "each customer exports only their own statement")
            }
        }
    }

    @Test("the statement print and export are closed to a role without the statement, and the tenant without one answers 404",
          arguments: TestEngine.available)
    func statementExportFenced(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let admin = try await portal.billingCustomer(role: "user_admin")
            try await portal.test { browser in
                try await browser.logIn(admin.username, billingPassword)
                let status = try await browser.get("/statement/export?format=csv").status
                #expect(status == .notFound || status == .forbidden)
                #expect(try await browser.get("/statement/print").status == status)
            }
        }
    }
}
