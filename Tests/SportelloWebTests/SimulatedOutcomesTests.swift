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
    @Test("rows a demo integration marked simulated (the former card form) still say no money moved, on the invoice, the statement, the print and the API; no card form is offered",
          arguments: TestEngine.available)
    func simulatedRowsStayLabelled(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let admin = try await portal.billingCustomer(role: "referente_amministratore")
            let today = portal.billingToday
            let old = try await portal.billingInvoice(customerId: admin.customerId, number: "2026/SIM/1", issued: today.adding(days: -10),
                                                      totalCents: 4_200, paid: false)
            let open = try await portal.billingInvoice(customerId: admin.customerId, number: "2026/SIM/2", issued: today.adding(days: -5),
                                                       totalCents: 1_000, paid: false)
            // What the simulated card payment wrote before payments went through a plugin (migration 0014's markers).
            try await portal.database.write(tenant: portal.definition.id, now: portal.billingNow) { transaction in
                _ = try await transaction.payInvoice(id: old.invoice, customerId: admin.customerId, windows: portal.tenant.windows, method: "card",
                                                     reference: "Visa **** 1111 · DEMO", description: "Pagamento simulato con carta (demo, nessun addebito)",
                                                     actorUserId: admin.userId, simulated: true)
            }
            try await portal.test { browser in
                try await browser.logIn(admin.username, billingPassword)
                let detail = try await browser.get("/invoices/\(old.invoice)")
                #expect(detail.body.contains("Pagata (sandbox: nessun addebito reale)") && detail.body.contains("Sandbox: nessun addebito reale"))
                #expect(!detail.body.contains("AUT "), "no invented authorisation code")
                #expect(try await browser.get("/invoices").body.contains("Pagata (sandbox"))
                let statement = try await browser.get("/statement")
                #expect(statement.body.contains("billing-status-simulated") && statement.body.contains("nessun addebito"))
                #expect(try await browser.get("/invoices/\(old.invoice)/print").body.contains("Pagata (sandbox"))
                let pay = try await browser.get("/invoices/\(open.invoice)/pay")
                #expect(!pay.body.contains("card_number") && !pay.body.contains("Pagamento simulato"), "the simulated card form is gone")

                let token = try await BillingAPI.token(browser.client, admin.username)
                let api = try await BillingAPI.send(browser.client, .get, "/api/v1/invoices/\(old.invoice)", token: token)
                #expect((api.json["invoice"] as? [String: Any])?["simulated"] as? Bool == true)
                #expect(((api.json["invoice"] as? [String: Any])?["simulated_label"] as? String)?.contains("sandbox") == true)
                #expect((api.json["payments"] as? [[String: Any]])?.first?["simulated"] as? Bool == true)
                let statementAPI = try await BillingAPI.send(browser.client, .get, "/api/v1/statement", token: token)
                let credits = (statementAPI.json["entries"] as? [[String: Any]] ?? []).filter { $0["credit"] != nil && !($0["credit"] is NSNull) }
                #expect(credits.count == 1 && credits.allSatisfy { $0["simulated"] as? Bool == true })
                let list = try await BillingAPI.send(browser.client, .get, "/api/v1/invoices", token: token)
                #expect((list.json["items"] as? [[String: Any]])?.allSatisfy { $0["simulated"] is Bool } == true)
            }
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

    @Test("Tunda's domain check without a connected registry plugin never calls a name free, on the page and the API, and orders nothing",
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
                #expect(google.body.contains("non è attiva in questo portale") && !google.body.contains("è libero: puoi"))
                let free = try await browser.get("/domains?name=nome-di-prova-demo.it")
                #expect(free.body.contains("non è attiva in questo portale") && !free.body.contains("è libero: puoi"))
                #expect(try await browser.post("/domains/register", ["name": "nome-di-prova-demo.it", "years": "1"]).status == .unprocessableContent)
                let login = try await JSONCall.send(browser.client, .post, "/api/v1/session", body: ["identifier": main, "password": "Vecchia2026!"])
                let token = try #require(login.json["token"] as? String)
                let api = try await JSONCall.send(browser.client, .get, "/api/v1/domains/availability?name=www.google.it", token: token)
                #expect(api.json["available"] as? Bool == false && api.json["reason"] as? String == "registry_not_configured")
                #expect(api.json["lookup_error"] as? String == "lookup_not_configured" && api.json["sandbox"] as? Bool == false)
                let other = try await JSONCall.send(browser.client, .get, "/api/v1/domains/availability?name=nome-di-prova-demo.eu", token: token)
                #expect(other.json["available"] as? Bool == false && (other.json["message"] as? String)?.contains("non è attiva") == true)
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
