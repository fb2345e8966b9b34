import HTTPTypes
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloApplication
import SportelloCore
import SportelloMail
@testable import SportelloStore
@testable import SportelloWeb
import SportelloTestSupport

/// Keeps a test portal's clock on the real time (the PSP signs with its own clock, and the portal refuses timestamps
/// outside the replay window, however slowly a loaded machine runs the test) until `stop()`.
private final class RealTimeFollower: Sendable {
    let task: Task<Void, Never>

    init(_ clock: ManualWallClock) {
        task = Task {
            while !Task.isCancelled {
                clock.set(Date())
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// The clock stays where it is (a test then moves it itself).
    func stop() async {
        task.cancel()
        await task.value
    }
}

/// A portal connected to the running sandbox PSP, on a port of its own, its clock following the real time.
private func paymentsPortal(_ engine: TestEngine, tenant: String, live: Bool = true,
                            _ body: (PortalHarness, LivePortal?, RealTimeFollower) async throws -> Void) async throws {
    let port = try LivePortal.freePort()
    let portal = try await PortalHarness(engine: engine, tenant: tenant, payments: try SandboxPSP.gateways(), port: port, clockStart: Date())
    let follower = RealTimeFollower(portal.clock)
    let live = live ? try await LivePortal.start(portal.services) : nil
    do {
        try await body(portal, live, follower)
    } catch {
        await follower.stop()
        await live?.stop()
        await portal.close()
        throw error
    }
    await follower.stop()
    await live?.stop()
    await portal.close()
}

/// The first `href` of a primary button on a page (the payment page's link to the provider).
private func providerLink(_ html: String) -> String? {
    guard let range = html.range(of: "class=\"button primary\" href=\"") else { return nil }
    let rest = html[range.upperBound...]
    return rest.prefix { $0 != "\"" }.replacingOccurrences(of: "&amp;", with: "&")
}

/// The path and query of an absolute URL (the router-level browser speaks paths).
private func pathAndQuery(_ url: String) -> String {
    guard let components = URLComponents(string: url) else { return url }
    return components.path + (components.query.map { "?\($0)" } ?? "")
}

/// Starts paying `invoice` on the pay page with `method`; returns the portal's payment id and the provider's page.
private func startPayment(_ browser: Browser, invoice: Int64, method: String,
                          sourceLocation: Testing.SourceLocation = #_sourceLocation) async throws -> (id: Int64, page: String) {
    let started = try await browser.post("/invoices/\(invoice)/pay", ["method": method])
    #expect(started.status == .seeOther, "the payment starts", sourceLocation: sourceLocation)
    let location = try #require(started.location, sourceLocation: sourceLocation)
    #expect(location.hasPrefix("/payments/"), sourceLocation: sourceLocation)
    let id = try #require(Int64(location.dropFirst("/payments/".count)), sourceLocation: sourceLocation)
    let status = try await browser.get(location)
    #expect(status.status == .ok && status.body.contains("Vai alla pagina di pagamento"), sourceLocation: sourceLocation)
    let page = try #require(providerLink(status.body), "the payment page links to the provider's", sourceLocation: sourceLocation)
    #expect(page.hasPrefix(try #require(SandboxPSP.url) + "/pay/"), sourceLocation: sourceLocation)
    return (id, page)
}

private func onlinePayment(_ portal: PortalHarness, _ id: Int64) async throws -> OnlinePaymentRecord {
    try #require(try await portal.database.read(tenant: portal.definition.id) { try await $0.onlinePayment(id: id) })
}

private func invoiceRecord(_ portal: PortalHarness, _ id: Int64, customer: Int64) async throws -> InvoiceRecord {
    try #require(try await portal.database.read(tenant: portal.definition.id) {
        try await $0.invoice(id: id, customerId: customer, windows: .unlimited)
    })
}

/// Waits until the portal recorded what the PSP said about the payment (its status left `pending`).
/// 60 s: the PSP retries a notification the portal did not take (a loaded CI machine) after a back-off.
private func waitForSettlement(_ portal: PortalHarness, _ id: Int64, seconds: Double = 60) async throws -> OnlinePaymentRecord {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        let payment = try await onlinePayment(portal, id)
        if !payment.status.isOpen { return payment }
        try await Task.sleep(for: .milliseconds(100))
    }
    Issue.record("payment \(id) was never settled")
    return try await onlinePayment(portal, id)
}

/// A notification signed with `secret` at `timestamp`, posted to the portal as the provider would.
private func postNotification(_ client: some TestClientProtocol, plugin: String = "sandbox_psp", body: Data, timestamp: Int64?,
                              secret: String?, signature override: String? = nil) async throws -> (status: HTTPResponse.Status, body: String) {
    var headers = HTTPFields()
    headers[.contentType] = "application/json"
    if let timestamp { headers[HTTPField.Name(PluginSignature.timestampHeader)!] = String(timestamp) }
    if let signature = override ?? secret.map({ PluginSignature(secret: $0).sign(timestamp: timestamp ?? 0, body: body) }) {
        headers[HTTPField.Name(PluginSignature.signatureHeader)!] = signature
    }
    let response = try await client.execute(uri: "/payments/notify/\(plugin)", method: .post, headers: headers, body: ByteBuffer(bytes: body))
    return (response.status, String(buffer: response.body))
}

private func notificationBody(id: String = "evt_test_\(UUID().uuidString.prefix(8))", type: String, pspId: String, reference: Int64,
                              amountCents: Int64, currency: String = "EUR") -> Data {
    let body: [String: Any] = ["id": id, "type": type, "created_at": 0,
                               "payment": ["id": pspId, "reference": String(reference), "status": "succeeded", "amount_cents": amountCents,
                                           "currency": currency, "method": "card"]]
    return try! JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
}

private func audit(_ portal: PortalHarness) async throws -> [AuditRecord] {
    try await portal.database.read(tenant: portal.definition.id) { try await $0.auditLog(limit: 500) }
}

@Suite("Online payments through the sandbox PSP", .enabled(if: SandboxPSP.isAvailable))
struct OnlinePaymentsTests {
    @Test("an invoice paid end to end: the PSP's sandbox page, the redirect back, the signed notification; sandbox said on page, rows, e-mail and API",
          arguments: TestEngine.available)
    func payInvoiceEndToEnd(engine: TestEngine) async throws {
        try await paymentsPortal(engine, tenant: "unidata") { portal, live, _ in
            let admin = try await portal.billingCustomer(role: "referente_amministratore")
            let invoice = try await portal.billingInvoice(customerId: admin.customerId, number: "2026/PSP/1", issued: portal.billingToday.adding(days: -5),
                                                          totalCents: 9_876, paid: false)
            try await portal.test { browser in
                try await browser.logIn(admin.username, billingPassword)
                let form = try await browser.get("/invoices/\(invoice.invoice)/pay")
                #expect(form.status == .ok && form.body.contains("98,76 €"))
                #expect(form.body.contains("SANDBOX — nessun addebito reale"), "the sandbox says so before the customer leaves")
                #expect(form.body.contains("value=\"card\"") && !form.body.contains("value=\"paypal\""), "Unidata offers the card only")
                #expect(!form.body.contains("card_number"), "no card form in the portal: the provider's page takes the payment")
                let forged = try await browser.post("/invoices/\(invoice.invoice)/pay", ["method": "card", "_csrf": "forged"])
                #expect(forged.status == .forbidden, "starting a payment needs the CSRF token")
                let wrongMethod = try await browser.post("/invoices/\(invoice.invoice)/pay", ["method": "paypal"])
                #expect(wrongMethod.status == .unprocessableContent && wrongMethod.body.contains("Scegli uno dei metodi di pagamento proposti"))

                let (id, page) = try await startPayment(browser, invoice: invoice.invoice, method: "card")
                #expect(try await onlinePayment(portal, id).status == .pending)
                let hosted = try await SandboxPSP.send(.GET, page)
                #expect(hosted.status == 200 && hosted.body.contains("SANDBOX — nessun addebito reale") && hosted.body.contains("98,76 €"))
                #expect(hosted.body.contains("Unidata") && hosted.body.contains("2026/PSP/1"))
                let back = try await SandboxPSP.decide(pageURL: page, action: "approve")
                #expect(back.status == 303)
                #expect(back.location == "http://localhost:\(try #require(live).port)/payments/\(id)?return=1", "the PSP sends the customer back")
                let settled = try await waitForSettlement(portal, id)
                #expect(settled.status == .paid && settled.sandbox && settled.problem == nil && settled.confirmedAt != nil)

                // Back from the provider's site: a cross-site navigation, which leaves SameSite=Strict cookies behind.
                let csrf = browser.cookies["sportello_csrf"]
                let returned = try await browser.getArrivingFromAnotherSite(pathAndQuery(try #require(back.location)))
                #expect(browser.cookies["sportello_csrf"] == csrf, "the CSRF cookie came along: the page's forms carry the session's token")
                #expect(returned.body.contains("Pagamento di prova (SANDBOX) confermato") && returned.body.contains("Sandbox: nessun addebito reale"))
                let detail = try await browser.get("/invoices/\(invoice.invoice)")
                #expect(detail.body.contains("Pagata (sandbox: nessun addebito reale)") && detail.body.contains("Pagamenti online"))
                #expect(!detail.body.contains("/invoices/\(invoice.invoice)/pay"), "nothing left to pay")
                let statement = try await browser.get("/statement")
                #expect(statement.body.contains("Pagamento di prova SANDBOX") && statement.body.contains("nessun addebito reale"))
                #expect(try await browser.get("/invoices/\(invoice.invoice)/print").body.contains("Pagata (sandbox"))
                let again = try await browser.post("/invoices/\(invoice.invoice)/pay", ["method": "card"])
                #expect(again.location == "/invoices/\(invoice.invoice)?notice=already_paid",
                        "a paid invoice starts no payment; and the session's forms still work after the trip to the provider")

                let token = try await BillingAPI.token(browser.client, admin.username)
                let api = try await BillingAPI.send(browser.client, .get, "/api/v1/payments/\(id)", token: token)
                #expect(api.status == .ok && api.json["status"] as? String == "paid" && api.json["sandbox"] as? Bool == true)
                #expect((api.json["sandbox_label"] as? String)?.contains("Sandbox") == true && api.json["redirect_url"] == nil)
                let apiDetail = try await BillingAPI.send(browser.client, .get, "/api/v1/invoices/\(invoice.invoice)", token: token)
                #expect((apiDetail.json["invoice"] as? [String: Any])?["simulated"] as? Bool == true)
                #expect((apiDetail.json["online_payments"] as? [[String: Any]])?.first?["status"] as? String == "paid")
                #expect(((apiDetail.json["payments"] as? [[String: Any]])?.first?["reference"] as? String)?.contains("SANDBOX") == true)
            }
            let (payments, entries, stored, outbox, log) = try await portal.database.read(tenant: portal.definition.id) { transaction in
                (try await transaction.payments(customerId: admin.customerId),
                 try await transaction.statement(customerId: admin.customerId, windows: portal.tenant.windows),
                 try await transaction.invoice(id: invoice.invoice, customerId: admin.customerId, windows: .unlimited),
                 try await transaction.outbox(), try await transaction.auditLog())
            }
            #expect(payments.count == 1 && payments.first?.amountCents == 9_876 && payments.first?.method == "card" && payments.first?.simulated == true)
            #expect(stored?.status == .paid && stored?.simulated == true)
            #expect(entries.filter { $0.invoiceId == invoice.invoice && $0.isOpen }.isEmpty, "the open item is closed")
            #expect(entries.contains { $0.amountCents == -9_876 && $0.simulated == true })
            let mail = try #require(outbox.first { $0.kind == "payment_confirmed" })
            #expect(mail.recipient.hasPrefix("b.referente-amministratore"))
            #expect(mail.subject.hasPrefix("[SANDBOX]") && mail.bodyText.contains("SANDBOX — nessun addebito reale") && mail.bodyText.contains("98,76"))
            #expect(log.contains { $0.action == "payment.created" } && log.filter { $0.action == "invoice.paid_online" }.count == 1)
        }
    }

    @Test("a forged, stale or replayed notification is refused or changes nothing; only the provider's signature pays",
          arguments: TestEngine.available)
    func forgedAndReplayed(engine: TestEngine) async throws {
        try await paymentsPortal(engine, tenant: "tim") { portal, _, follower in
            let admin = try await portal.billingCustomer(role: "amministratore_full")
            let invoice = try await portal.billingInvoice(customerId: admin.customerId, number: "TIM/PSP/2", issued: portal.billingToday.adding(days: -2),
                                                          totalCents: 5_000, paid: false)
            let secret = try #require(SandboxPSP.secret)
            try await portal.test { browser in
                try await browser.logIn(admin.username, billingPassword)
                let (id, page) = try await startPayment(browser, invoice: invoice.invoice, method: "card")
                let pspId = try #require(try await onlinePayment(portal, id).pspReference)
                let now = Int64(portal.clock.now().timeIntervalSince1970)
                let succeeded = notificationBody(type: "payment.succeeded", pspId: pspId, reference: id, amountCents: 5_000)
                let wrongKey = try await postNotification(browser.client, body: succeeded, timestamp: now, secret: "not-the-shared-secret")
                #expect(wrongKey.status == .unauthorized && wrongKey.body.contains("mismatch"))
                let unsigned = try await postNotification(browser.client, body: succeeded, timestamp: nil, secret: nil)
                #expect(unsigned.status == .unauthorized && unsigned.body.contains("missing"))
                let malformed = try await postNotification(browser.client, body: succeeded, timestamp: now, secret: nil, signature: "sha256=zz")
                #expect(malformed.status == .unauthorized)
                let stale = try await postNotification(browser.client, body: succeeded, timestamp: now - 600, secret: secret)
                #expect(stale.status == .unauthorized && stale.body.contains("stale"), "older than the 5-minute replay window")
                let future = try await postNotification(browser.client, body: succeeded, timestamp: now + 600, secret: secret)
                #expect(future.status == .unauthorized)
                var tampered = succeeded
                tampered.append(contentsOf: Array(" ".utf8))
                let signedThenChanged = PluginSignature(secret: secret).sign(timestamp: now, body: succeeded)
                let changed = try await postNotification(browser.client, body: tampered, timestamp: now, secret: nil, signature: signedThenChanged)
                #expect(changed.status == .unauthorized, "a body changed after signing")
                let otherPlugin = try await postNotification(browser.client, plugin: "other_psp", body: succeeded, timestamp: now, secret: secret)
                #expect(otherPlugin.status == .notFound)
                #expect(try await onlinePayment(portal, id).status == .pending, "nothing forged changed the payment")
                #expect(try await invoiceRecord(portal, invoice.invoice, customer: admin.customerId).status != .paid)

                // The provider's own notification pays; its exact bytes replayed change nothing, and later are refused.
                _ = try await SandboxPSP.decide(pageURL: page, action: "approve")
                #expect(try await waitForSettlement(portal, id).status == .paid)
                let sent = try #require(try await SandboxPSP.waitForNotifications(ofPayment: pspId) { $0.first?["delivered"] as? Bool == true }.first)
                let headers = try #require(sent["last_headers"] as? [String: String])
                let original = Data(try #require(sent["body"] as? String).utf8)
                let replay = try await postNotification(browser.client, body: original, timestamp: Int64(try #require(headers["Sportello-Timestamp"])),
                                                        secret: nil, signature: headers["Sportello-Signature"])
                #expect(replay.status == .ok && replay.body.contains("duplicate"), "the same notification again: recorded once")
                await follower.stop()
                portal.clock.set(Date().addingTimeInterval(6 * 60))
                let late = try await postNotification(browser.client, body: original, timestamp: Int64(try #require(headers["Sportello-Timestamp"])),
                                                      secret: nil, signature: headers["Sportello-Signature"])
                #expect(late.status == .unauthorized, "a captured notification replayed after the window is refused")
            }
            let (payments, notifications) = try await portal.database.read(tenant: portal.definition.id) { transaction in
                (try await transaction.payments(customerId: admin.customerId), try await transaction.onlinePayments())
            }
            #expect(payments.count == 1 && notifications.count == 1)
        }
    }

    @Test("the PSP confirms another amount or currency: recorded as a mismatch, the invoice stays unpaid", arguments: TestEngine.available)
    func amountMismatch(engine: TestEngine) async throws {
        try await paymentsPortal(engine, tenant: "unidata") { portal, _, _ in
            let admin = try await portal.billingCustomer(role: "referente_amministratore")
            let invoice = try await portal.billingInvoice(customerId: admin.customerId, number: "2026/PSP/MIS", issued: portal.billingToday.adding(days: -3),
                                                          totalCents: 12_200, paid: false)
            let other = try await portal.billingInvoice(customerId: admin.customerId, number: "2026/PSP/CUR", issued: portal.billingToday.adding(days: -3),
                                                        totalCents: 3_000, paid: false)
            try await portal.test { browser in
                try await browser.logIn(admin.username, billingPassword)
                let (id, page) = try await startPayment(browser, invoice: invoice.invoice, method: "card")
                _ = try await SandboxPSP.decide(pageURL: page, action: "approve", amountCents: 12_100)
                let settled = try await waitForSettlement(portal, id)
                #expect(settled.status == .failed && settled.problem == .amountMismatch)
                #expect(settled.detail?.contains("12100") == true && settled.detail?.contains("12200") == true)
                let shown = try await browser.get("/payments/\(id)?return=1")
                #expect(shown.body.contains("non corrisponde") && shown.body.contains("Importo non corrispondente"))
                #expect(!shown.body.contains("/invoices/\(invoice.invoice)/pay\""), "no retry offered: customer care first")

                // A currency the payment was not made in, signed with the right key: a mismatch too.
                let (otherId, _) = try await startPayment(browser, invoice: other.invoice, method: "card")
                let pspId = try #require(try await onlinePayment(portal, otherId).pspReference)
                let now = Int64(portal.clock.now().timeIntervalSince1970)
                let dollars = notificationBody(type: "payment.succeeded", pspId: pspId, reference: otherId, amountCents: 3_000, currency: "USD")
                let answer = try await postNotification(browser.client, body: dollars, timestamp: now, secret: try #require(SandboxPSP.secret))
                #expect(answer.status == .ok && answer.body.contains("mismatch"))
                #expect(try await onlinePayment(portal, otherId).problem == .amountMismatch)
            }
            #expect(try await invoiceRecord(portal, invoice.invoice, customer: admin.customerId).status == .unpaid)
            #expect(try await invoiceRecord(portal, other.invoice, customer: admin.customerId).status == .unpaid)
            let payments = try await portal.database.read(tenant: portal.definition.id) { try await $0.payments(customerId: admin.customerId) }
            #expect(payments.isEmpty, "nothing recorded as paid")
            #expect(try await audit(portal).filter { $0.action == "payment.amount_mismatch" }.count == 2)
        }
    }

    @Test("declined and cancelled payments are recorded, charge nothing and can be tried again", arguments: TestEngine.available)
    func declineAndCancel(engine: TestEngine) async throws {
        try await paymentsPortal(engine, tenant: "unidata") { portal, _, _ in
            let admin = try await portal.billingCustomer(role: "referente_amministratore")
            let invoice = try await portal.billingInvoice(customerId: admin.customerId, number: "2026/PSP/DEC", issued: portal.billingToday.adding(days: -3),
                                                          totalCents: 4_500, paid: false)
            try await portal.test { browser in
                try await browser.logIn(admin.username, billingPassword)
                let declined = try await startPayment(browser, invoice: invoice.invoice, method: "card")
                _ = try await SandboxPSP.decide(pageURL: declined.page, action: "decline")
                let failed = try await waitForSettlement(portal, declined.id)
                #expect(failed.status == .failed && failed.problem == nil && failed.detail?.contains("declined") == true)
                let failedPage = try await browser.get("/payments/\(declined.id)?return=1")
                #expect(failedPage.body.contains("non è andato a buon fine") && failedPage.body.contains("href=\"/invoices/\(invoice.invoice)/pay\""))
                // The hosted page, once decided, says so and offers nothing more.
                let decided = try await SandboxPSP.send(.GET, declined.page)
                #expect(decided.body.contains("Esito già registrato") && !decided.body.contains("value=\"approve\""))

                let cancelled = try await startPayment(browser, invoice: invoice.invoice, method: "card")
                #expect(cancelled.id != declined.id, "a new payment after a failed one")
                _ = try await SandboxPSP.decide(pageURL: cancelled.page, action: "cancel")
                #expect(try await waitForSettlement(portal, cancelled.id).status == .cancelled)
                #expect(try await browser.get("/payments/\(cancelled.id)?return=1").body.contains("Hai annullato il pagamento"))
                #expect(try await invoiceRecord(portal, invoice.invoice, customer: admin.customerId).status == .unpaid)

                let retried = try await startPayment(browser, invoice: invoice.invoice, method: "card")
                _ = try await SandboxPSP.decide(pageURL: retried.page, action: "approve")
                #expect(try await waitForSettlement(portal, retried.id).status == .paid)
                let detail = try await browser.get("/invoices/\(invoice.invoice)")
                #expect(detail.body.contains("Non riuscito") && detail.body.contains("Annullato") && detail.body.contains("Pagato"))
            }
            #expect(try await invoiceRecord(portal, invoice.invoice, customer: admin.customerId).status == .paid)
            let log = try await audit(portal)
            #expect(log.contains { $0.action == "payment.failed" } && log.contains { $0.action == "payment.cancelled" })
        }
    }

    @Test("a repeated notification (the PSP delivering again, or a new id saying the same) changes nothing; pressing pay twice reuses the page",
          arguments: TestEngine.available)
    func idempotentRepeat(engine: TestEngine) async throws {
        try await paymentsPortal(engine, tenant: "unidata") { portal, _, _ in
            let admin = try await portal.billingCustomer(role: "referente_amministratore")
            let invoice = try await portal.billingInvoice(customerId: admin.customerId, number: "2026/PSP/REP", issued: portal.billingToday.adding(days: -3),
                                                          totalCents: 7_700, paid: false)
            try await portal.test { browser in
                try await browser.logIn(admin.username, billingPassword)
                let first = try await startPayment(browser, invoice: invoice.invoice, method: "card")
                let second = try await startPayment(browser, invoice: invoice.invoice, method: "card")
                #expect(second.id == first.id && second.page == first.page, "a double click leads to the same provider page")
                _ = try await SandboxPSP.decide(pageURL: first.page, action: "approve")
                #expect(try await waitForSettlement(portal, first.id).status == .paid)
                let pspId = try #require(try await onlinePayment(portal, first.id).pspReference)
                let sent = try await SandboxPSP.waitForNotifications(ofPayment: pspId) { $0.first?["delivered"] as? Bool == true }
                let notificationId = try #require(sent.first?["id"] as? String)
                let redeliver = try await SandboxPSP.send(.POST, try #require(SandboxPSP.url) + "/api/notifications/\(notificationId)/redeliver")
                #expect(redeliver.status == 202)
                try await SandboxPSP.waitForNotifications(ofPayment: pspId) { ($0.first?["delivered"] as? Bool == true) && ($0.first?["attempts"] as? Int == 1) }
                let now = Int64(portal.clock.now().timeIntervalSince1970)
                let sameNews = notificationBody(type: "payment.succeeded", pspId: pspId, reference: first.id, amountCents: 7_700)
                let answer = try await postNotification(browser.client, body: sameNews, timestamp: now, secret: try #require(SandboxPSP.secret))
                #expect(answer.status == .ok && answer.body.contains("unchanged"))
            }
            let (payments, entries, outbox, notifications) = try await portal.database.read(tenant: portal.definition.id) { transaction in
                (try await transaction.payments(customerId: admin.customerId),
                 try await transaction.statement(customerId: admin.customerId, windows: portal.tenant.windows),
                 try await transaction.outbox(), 0)
            }
            _ = notifications
            #expect(payments.count == 1, "paid once")
            #expect(entries.filter { $0.amountCents < 0 }.count == 1, "one credit on the statement")
            #expect(outbox.filter { $0.kind == "payment_confirmed" }.count == 1, "one confirmation e-mail")
            #expect(try await audit(portal).filter { $0.action == "invoice.paid_online" }.count == 1)
        }
    }

    @Test("three confirmations of one payment at the same moment pay the invoice once", arguments: TestEngine.available)
    func concurrentNotifications(engine: TestEngine) async throws {
        try await paymentsPortal(engine, tenant: "unidata", live: false) { portal, _, _ in
            let admin = try await portal.billingCustomer(role: "referente_amministratore")
            let invoice = try await portal.billingInvoice(customerId: admin.customerId, number: "2026/PSP/RACE", issued: portal.billingToday.adding(days: -1),
                                                          totalCents: 4_321, paid: false)
            let secret = try #require(SandboxPSP.secret)
            try await portal.test { browser in
                try await browser.logIn(admin.username, billingPassword)
                let (id, _) = try await startPayment(browser, invoice: invoice.invoice, method: "card")
                let pspId = try #require(try await onlinePayment(portal, id).pspReference)
                let now = Int64(portal.clock.now().timeIntervalSince1970)
                func confirm() async throws -> String {
                    try await postNotification(browser.client, body: notificationBody(type: "payment.succeeded", pspId: pspId, reference: id, amountCents: 4_321),
                                               timestamp: now, secret: secret).body
                }
                async let first = confirm()
                async let second = confirm()
                async let third = confirm()
                let answers = try await [first, second, third]
                #expect(answers.filter { $0.contains("applied") }.count == 1 && answers.filter { $0.contains("unchanged") }.count == 2, "\(answers)")
            }
            let (payments, entries) = try await portal.database.read(tenant: portal.definition.id) { transaction in
                (try await transaction.payments(customerId: admin.customerId),
                 try await transaction.statement(customerId: admin.customerId, windows: portal.tenant.windows))
            }
            #expect(payments.count == 1 && payments.first?.amountCents == 4_321)
            #expect(entries.filter { $0.amountCents < 0 }.count == 1, "one credit on the statement")
        }
    }

    @Test("the portal is down when the PSP notifies: the return page says 'being confirmed', the PSP retries, nothing is lost",
          arguments: TestEngine.available)
    func portalDownWhenNotified(engine: TestEngine) async throws {
        try await paymentsPortal(engine, tenant: "unidata", live: false) { portal, _, _ in
            let admin = try await portal.billingCustomer(role: "referente_amministratore")
            let invoice = try await portal.billingInvoice(customerId: admin.customerId, number: "2026/PSP/DOWN", issued: portal.billingToday.adding(days: -3),
                                                          totalCents: 6_100, paid: false)
            try await portal.test { browser in
                try await browser.logIn(admin.username, billingPassword)
                let (id, page) = try await startPayment(browser, invoice: invoice.invoice, method: "card")
                let pspId = try #require(try await onlinePayment(portal, id).pspReference)
                let back = try await SandboxPSP.decide(pageURL: page, action: "approve")
                try await SandboxPSP.waitForNotifications(ofPayment: pspId) { ($0.first?["attempts"] as? Int ?? 0) >= 2 && $0.first?["delivered"] as? Bool == false }
                let waiting = try await browser.get(pathAndQuery(try #require(back.location)))
                #expect(waiting.body.contains("Pagamento in corso di conferma") && waiting.body.contains("data-payment-poll=\"/api/v1/payments/\(id)\""))
                #expect(waiting.body.contains("In attesa di conferma"))
                #expect(try await invoiceRecord(portal, invoice.invoice, customer: admin.customerId).status == .unpaid, "the return alone pays nothing")

                let live = try await LivePortal.start(portal.services)
                let settled = try await waitForSettlement(portal, id, seconds: 30)
                await live.stop()
                #expect(settled.status == .paid)
                let delivered = try await SandboxPSP.notifications(ofPayment: pspId)
                #expect(delivered.first?["delivered"] as? Bool == true && (delivered.first?["attempts"] as? Int ?? 0) >= 3)
                let done = try await browser.get(pathAndQuery(try #require(back.location)))
                #expect(done.body.contains("Pagamento di prova (SANDBOX) confermato") && !done.body.contains("data-payment-poll"))
            }
            #expect(try await invoiceRecord(portal, invoice.invoice, customer: admin.customerId).status == .paid)
        }
    }

    @Test("Tunda: a pro-forma paid with PayPal through the PSP starts its hosting service; a refund is recorded",
          arguments: TestEngine.available)
    func proformaStartsHosting(engine: TestEngine) async throws {
        try await paymentsPortal(engine, tenant: "tunda") { portal, _, _ in
            let now = Int64(portal.clock.now().timeIntervalSince1970)
            try await portal.database.write(tenant: portal.definition.id, now: now) { transaction in
                try await DemoDataGenerator(tenant: portal.definition, now: now, hasher: portal.services.passwords).seedHosting(in: transaction)
            }
            let main = try await portal.billingCustomer(role: "main_account")
            try await portal.test { browser in
                try await browser.logIn(main.username, billingPassword)
                let placed = try await browser.post("/services/shop/HOST-PRO", ["domain": "verdi-psp.it", "quantity": "1"])
                #expect(placed.location?.hasPrefix("/services/orders?done=ordered") == true)
                let proforma = try #require(try await portal.database.read(tenant: portal.definition.id) { transaction in
                    try await transaction.orders(customerId: main.customerId).first?.invoiceId
                })
                #expect(try await browser.get("/services/orders").body.contains("/invoices/\(proforma)/pay"))
                let form = try await browser.get("/invoices/\(proforma)/pay")
                #expect(form.body.contains("value=\"paypal\"") && !form.body.contains("value=\"card\""), "Tunda's pro-formas: PayPal only")
                #expect(form.body.contains("108,58 €"))
                let (id, page) = try await startPayment(browser, invoice: proforma, method: "paypal")
                #expect(try await onlinePayment(portal, id).purpose == "proforma")
                #expect(try await SandboxPSP.send(.GET, page).body.contains("PayPal"))
                #expect(try await browser.get("/hosting").body.contains("verdi-psp.it") == false, "nothing starts before the notification")
                _ = try await SandboxPSP.decide(pageURL: page, action: "approve")
                #expect(try await waitForSettlement(portal, id).status == .paid)
                let orders = try await browser.get("/services/orders")
                #expect(orders.body.contains("hosting-status-active") && !orders.body.contains("/invoices/\(proforma)/pay"))
                #expect(try await browser.get("/hosting").body.contains("verdi-psp.it"), "the hosting started with the payment")
                #expect(try await browser.get("/payments/\(id)").body.contains("Pagamento della proforma"))

                let pspId = try #require(try await onlinePayment(portal, id).pspReference)
                let refund = try await SandboxPSP.send(.POST, try #require(SandboxPSP.url) + "/api/payments/\(pspId)/refund")
                #expect(refund.status == 202)
                let refunded = try await SandboxPSP.waitForNotifications(ofPayment: pspId) { $0.count == 2 && $0.last?["delivered"] as? Bool == true }
                #expect(refunded.last?["type"] as? String == "payment.refunded")
                let payment = try await onlinePayment(portal, id)
                #expect(payment.status == .refunded && payment.refundedAt != nil)
                #expect(try await browser.get("/payments/\(id)").body.contains("rimborsato"))
            }
            let accounts = try await portal.database.read(tenant: portal.definition.id) { try await $0.hostingAccounts(customerId: main.customerId) }
            #expect(accounts.map(\.domain) == ["verdi-psp.it"])
            let log = try await audit(portal)
            #expect(log.filter { $0.action == "order.activated" }.count == 1 && log.contains { $0.action == "payment.refunded" })
        }
    }

    @Test("API: a payment starts with 201 and the provider's page, an unoffered method is 422, cookie calls need the CSRF header",
          arguments: TestEngine.available)
    func startThroughAPI(engine: TestEngine) async throws {
        try await paymentsPortal(engine, tenant: "tim") { portal, _, _ in
            let admin = try await portal.billingCustomer(role: "amministratore_full")
            let invoice = try await portal.billingInvoice(customerId: admin.customerId, number: "TIM/PSP/API", issued: portal.billingToday.adding(days: -2),
                                                          totalCents: 2_500, paid: false)
            try await portal.test { browser in
                let token = try await BillingAPI.token(browser.client, admin.username)
                let path = "/api/v1/invoices/\(invoice.invoice)/payments"
                let paypal = try await BillingAPI.send(browser.client, .post, path, token: token, body: ["method": "paypal"])
                #expect(paypal.status == .unprocessableContent && paypal.fieldCodes["method"] == "invalid")
                let started = try await BillingAPI.send(browser.client, .post, path, token: token, body: [:])
                #expect(started.status == .created && started.json["outcome"] as? String == "started")
                let payment = try #require(started.json["payment"] as? [String: Any])
                #expect(payment["status"] as? String == "pending" && payment["sandbox"] as? Bool == true && payment["method"] as? String == "card")
                let page = try #require(started.json["redirect_url"] as? String)
                #expect(page.hasPrefix(try #require(SandboxPSP.url)))
                _ = try await SandboxPSP.decide(pageURL: page, action: "approve")
                let id = try #require(payment["id"] as? Int)
                #expect(try await waitForSettlement(portal, Int64(id)).status == .paid)
                let status = try await BillingAPI.send(browser.client, .get, "/api/v1/payments/\(id)", token: token)
                #expect(status.json["status"] as? String == "paid")
                let after = try await BillingAPI.send(browser.client, .post, path, token: token, body: [:])
                #expect(after.status == .ok && after.json["outcome"] as? String == "already_paid")
                try await browser.logIn(admin.username, billingPassword)
                let cookie = browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
                let noHeader = try await BillingAPI.send(browser.client, .post, path, cookie: cookie, body: [:])
                #expect(noHeader.status == .forbidden && noHeader.errorCode == "csrf_rejected")
                let foreign = try await portal.billingCustomer(role: "amministratore_full")
                let foreignToken = try await BillingAPI.token(browser.client, foreign.username)
                #expect(try await BillingAPI.send(browser.client, .get, "/api/v1/payments/\(id)", token: foreignToken).status == .notFound,
                        "another customer's payment is a 404")
            }
        }
    }
}

/// Paying when the provider is not connected or not answering: no sandbox PSP needed.
@Suite("Online payment when the provider is missing or down")
struct OnlinePaymentsUnavailableTests {
    @Test("no payments plugin connected: the pay page says online payment is not available, starting answers 503, nothing is recorded",
          arguments: TestEngine.available)
    func notConfigured(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            let main = try await portal.billingCustomer(role: "main_account")
            let invoice = try await portal.billingInvoice(customerId: main.customerId, number: "PF-2026-NOPSP", issued: portal.billingToday.adding(days: -1),
                                                          totalCents: 10_858, paid: false)
            try await portal.test { browser in
                try await browser.logIn(main.username, billingPassword)
                let page = try await browser.get("/invoices/\(invoice.invoice)/pay")
                #expect(page.status == .ok && page.body.contains("Il pagamento online non è disponibile al momento"))
                #expect(!page.body.contains("name=\"method\"") && !page.body.contains("card_number") && !page.body.contains("SANDBOX"),
                        "no form, and nothing pretends to pay")
                let post = try await browser.post("/invoices/\(invoice.invoice)/pay", ["method": "paypal"])
                #expect(post.status == .serviceUnavailable && post.body.contains("non è disponibile"))
                let token = try await BillingAPI.token(browser.client, main.username)
                let api = try await BillingAPI.send(browser.client, .post, "/api/v1/invoices/\(invoice.invoice)/payments", token: token, body: [:])
                #expect(api.status == .serviceUnavailable && api.errorCode == "unavailable")
            }
            let (payments, online) = try await portal.database.read(tenant: portal.definition.id) { transaction in
                (try await transaction.payments(customerId: main.customerId), try await transaction.onlinePayments())
            }
            #expect(payments.isEmpty && online.isEmpty)
            #expect(try await invoiceRecord(portal, invoice.invoice, customer: main.customerId).status == .unpaid)
        }
    }

    @Test("the confirmation e-mail says SANDBOX only for a sandbox payment, in the customer's language")
    func confirmationMail() throws {
        let templates = try MailTemplates(root: repositoryRoot.appendingPathComponent("templates"))
        let tenant = try provider("tim")
        var values = ["number": "TIM/1", "amount": "25,00 €", "method": "Carta di pagamento", "reference": "psp_123",
                      "purpose": "la fattura", "invoice_path": "/invoices/1", "portal_url": "https://tim.example", "sandbox": ""]
        let real = try templates.render(kind: "payment_confirmed", tenant: tenant, locale: "it", values: values)
        #expect(real.subject == "Pagamento confermato: la fattura TIM/1 – TIM Business")
        #expect(real.text.contains("25,00 €") && real.text.contains("https://tim.example/invoices/1") && !real.text.contains("SANDBOX"))
        values["sandbox"] = "true"
        let sandbox = try templates.render(kind: "payment_confirmed", tenant: tenant, locale: "en", values: values)
        #expect(sandbox.subject.hasPrefix("[SANDBOX] Payment confirmed") && sandbox.text.contains("SANDBOX — no real charge"))
    }

    @Test("the provider does not answer: the customer is told nothing was charged, the attempt is recorded as failed", arguments: TestEngine.available)
    func providerDown(engine: TestEngine) async throws {
        let closed = try LivePortal.freePort()
        let gateways = PaymentGateways(plugins: SandboxPSP.catalogue(),
                                       environment: ["SPORTELLO_PSP_URL": "http://127.0.0.1:\(closed)", "SPORTELLO_PSP_SECRET": "unused-secret"])
        let portal = try await PortalHarness(engine: engine, tenant: "unidata", payments: gateways)
        do {
            let admin = try await portal.billingCustomer(role: "referente_amministratore")
            let invoice = try await portal.billingInvoice(customerId: admin.customerId, number: "2026/PSP/OFF", issued: portal.billingToday.adding(days: -1),
                                                          totalCents: 1_500, paid: false)
            try await portal.test { browser in
                try await browser.logIn(admin.username, billingPassword)
                let page = try await browser.get("/invoices/\(invoice.invoice)/pay")
                #expect(page.body.contains("SANDBOX — nessun addebito reale") && page.body.contains("value=\"card\""))
                let post = try await browser.post("/invoices/\(invoice.invoice)/pay", ["method": "card"])
                #expect(post.status == .serviceUnavailable && post.body.contains("non risponde: non è stato addebitato nulla"))
                let token = try await BillingAPI.token(browser.client, admin.username)
                let api = try await BillingAPI.send(browser.client, .post, "/api/v1/invoices/\(invoice.invoice)/payments", token: token, body: [:])
                #expect(api.status == .serviceUnavailable && api.errorCode == "provider_unreachable")
            }
            let online = try await portal.database.read(tenant: portal.definition.id) { try await $0.onlinePayments() }
            #expect(online.count == 2 && online.allSatisfy { $0.status == .failed && $0.problem == .providerUnreachable })
            #expect(try await invoiceRecord(portal, invoice.invoice, customer: admin.customerId).status == .unpaid)
        } catch {
            await portal.close()
            throw error
        }
        await portal.close()
    }
}
