import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

@Suite("Invoice delivery and payment method")
struct ProfileBillingTests {
    static let validIBAN = ItalianIdentifiers.makeItalianIBAN(abi: "05428", cab: "11101", account: "000000123456")
    /// The valid IBAN with its last digit changed: the mod-97 check fails.
    static var wrongIBAN: String {
        var iban = validIBAN
        let last = iban.removeLast()
        return iban + (last == "9" ? "8" : String(Int(String(last))! + 1))
    }

    @Test("Unidata administrator: IBAN errors next to the field with the typed value kept, mandate required, masked IBAN once saved, delivery saved",
          arguments: TestEngine.available)
    func unidataPaymentMethod(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let admin = try await portal.profileFixture(role: "referente_amministratore", username: "admin.uni", email: "admin@rossi.example",
                                                        customer: ProfileCustomers.business(code: "U-1"))
            try await portal.test { browser in
                try await browser.logIn("admin.uni", profilePassword)
                let page = try await browser.get("/profile/billing")
                #expect(page.status == .ok)
                for option in ["paper", "email", "paperless"] { #expect(page.body.contains("value=\"\(option)\""), "delivery option \(option)") }
                #expect(page.body.contains("value=\"sepa\"") && page.body.contains("value=\"bank_transfer\""))

                let typed = Self.wrongIBAN
                let wrong = try await browser.post("/profile/billing", ["section": "payment", "payment_method": "sepa", "iban": typed,
                                                                        "sepa_mandate_accepted": "1"])
                #expect(wrong.status == .unprocessableContent)
                #expect(fieldError(wrong.body, "iban")?.contains("IBAN") == true)
                #expect(wrong.body.contains("aria-invalid=\"true\""))
                #expect(wrong.body.contains("value=\"\(typed)\""), "the typed IBAN is shown again")
                let short = try await browser.post("/profile/billing", ["section": "payment", "payment_method": "sepa", "iban": "IT60X05428",
                                                                        "sepa_mandate_accepted": "1"])
                #expect(fieldError(short.body, "iban")?.contains("27") == true)
                let english = try await browser.post("/profile/billing?lang=en", ["section": "payment", "payment_method": "sepa", "iban": typed,
                                                                                  "sepa_mandate_accepted": "1"])
                #expect(fieldError(english.body, "iban")?.contains("The IBAN is not valid") == true)
                let missing = try await browser.post("/profile/billing", ["section": "payment", "payment_method": "sepa", "iban": ""])
                #expect(fieldError(missing.body, "iban") != nil)
                let noMandate = try await browser.post("/profile/billing", ["section": "payment", "payment_method": "sepa", "iban": Self.validIBAN])
                #expect(noMandate.status == .unprocessableContent)
                #expect(fieldError(noMandate.body, "sepa_mandate_accepted") != nil)
                #expect(try await portal.storedCustomer(admin.customer).paymentMethod == "bank_transfer")

                let spaced = stride(from: 0, to: Self.validIBAN.count, by: 4).map {
                    let start = Self.validIBAN.index(Self.validIBAN.startIndex, offsetBy: $0)
                    return String(Self.validIBAN[start..<(Self.validIBAN.index(start, offsetBy: 4, limitedBy: Self.validIBAN.endIndex) ?? Self.validIBAN.endIndex)])
                }.joined(separator: " ").lowercased()
                let saved = try await browser.post("/profile/billing", ["section": "payment", "payment_method": "sepa", "iban": spaced,
                                                                        "sepa_mandate_accepted": "1"])
                #expect(saved.location == "/profile/billing?done=saved")
                let customer = try await portal.storedCustomer(admin.customer)
                #expect(customer.paymentMethod == "sepa" && customer.iban == Self.validIBAN)
                let shown = try await browser.get("/profile/billing")
                #expect(!shown.body.contains(Self.validIBAN), "the full IBAN is never shown again")
                let masked = try #require(IBANMask.mask(Self.validIBAN))
                #expect(masked.hasPrefix("IT") && masked.contains("****") && masked.hasSuffix(String(Self.validIBAN.suffix(3))))
                #expect(shown.body.contains(masked))
                let outbox = try await portal.database.read(tenant: portal.definition.id) { try await $0.outbox() }
                let notice = try #require(outbox.first { $0.kind == "profile_billing_changed" && $0.recipient == "admin@rossi.example" })
                #expect(!notice.bodyText.contains(Self.validIBAN))

                let delivery = try await browser.post("/profile/billing", ["section": "delivery", "invoice_delivery": "paperless"])
                #expect(delivery.location == "/profile/billing?done=saved")
                let bad = try await browser.post("/profile/billing", ["section": "delivery", "invoice_delivery": "fax"])
                #expect(bad.status == .unprocessableContent)
                #expect(fieldError(bad.body, "invoice_delivery") != nil)

                let transfer = try await browser.post("/profile/billing", ["section": "payment", "payment_method": "bank_transfer", "iban": ""])
                #expect(transfer.location == "/profile/billing?done=saved")
            }
            let customer = try await portal.storedCustomer(admin.customer)
            #expect(customer.invoiceDelivery == "paperless")
            #expect(customer.paymentMethod == "bank_transfer" && customer.iban == nil, "leaving direct debit deletes the bank details")
            let actions = try await portal.auditActions()
            #expect(actions.contains("billing.payment_method_changed") && actions.contains("billing.invoice_delivery_changed"))
        }
    }

    @Test("Who opens the billing page: Unidata Referente Semplice only with the switch (and then as a request), TIM Full but not Light, Tunda none",
          arguments: TestEngine.available)
    func billingAccess(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
            let admin = try await portal.profileFixture(role: "referente_amministratore", username: "admin.uni", email: "admin@rossi.example",
                                                        customer: ProfileCustomers.business(code: "U-1"))
            _ = try await portal.profileFixture(role: "referente_semplice", username: "semplice.uni", email: "semplice@rossi.example",
                                                toggles: ["billing_method"], customer: ProfileCustomers.business(code: "x"), existingCustomer: admin.customer)
            _ = try await portal.profileFixture(role: "referente_semplice", username: "vista.uni", email: "vista@rossi.example",
                                                customer: ProfileCustomers.business(code: "x"), existingCustomer: admin.customer)
            try await portal.test { browser in
                try await browser.logIn("vista.uni", profilePassword)
                #expect(try await browser.get("/profile/billing").status == .forbidden)
                #expect(try await browser.profileAPI(.put, "/api/v1/profile/billing", ["invoice_delivery": "email"]).status == .forbidden)
            }
            try await portal.test { browser in
                try await browser.logIn("semplice.uni", profilePassword)
                let page = try await browser.get("/profile/billing")
                #expect(page.status == .ok)
                #expect(page.body.contains("Invia la richiesta"))
                let requested = try await browser.post("/profile/billing", ["section": "payment", "payment_method": "sepa", "iban": Self.validIBAN,
                                                                            "sepa_mandate_accepted": "1"])
                #expect(requested.location == "/profile/billing?done=requested")
                let customer = try await portal.storedCustomer(admin.customer)
                #expect(customer.paymentMethod == "bank_transfer" && customer.iban == nil, "a request changes nothing yet")
                let requests = try await portal.database.read(tenant: portal.definition.id) { try await $0.requests(customerId: admin.customer) }
                let request = try #require(requests.first { $0.form == "billing_change" })
                #expect(request.subject.contains("Addebito diretto SEPA"))
                #expect(request.payload.contains(Self.validIBAN), "staff need the new IBAN to act on the request")
                let after = try await browser.follow(requested)
                #expect(after.body.contains(request.subject))
            }
        }
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let legal = try await portal.profileFixture(role: "rappresentante_legale", username: "rl.tim", email: "rl@rossi.example",
                                                        customer: ProfileCustomers.business(code: "TIM-1"))
            _ = try await portal.profileFixture(role: "amministratore_light", username: "light.tim", email: "light@rossi.example",
                                                customer: ProfileCustomers.business(code: "x"), existingCustomer: legal.customer)
            _ = try await portal.profileFixture(role: "amministratore_full", username: "full.tim", email: "full@rossi.example",
                                                customer: ProfileCustomers.business(code: "x"), existingCustomer: legal.customer)
            try await portal.test { browser in
                try await browser.logIn("light.tim", profilePassword)
                #expect(try await browser.get("/profile/billing").status == .forbidden)
            }
            try await portal.test { browser in
                try await browser.logIn("full.tim", profilePassword)
                let page = try await browser.get("/profile/billing")
                #expect(page.status == .ok)
                #expect(page.body.contains("name=\"shipping_street\""))
                let missing = try await browser.post("/profile/billing", ["section": "shipping", "shipping_street": "Via Milano 2",
                                                                          "shipping_postal_code": "2012", "shipping_city": "", "shipping_province": "MI"])
                #expect(missing.status == .unprocessableContent)
                #expect(fieldError(missing.body, "shipping_postal_code") != nil && fieldError(missing.body, "shipping_city") != nil)
                #expect(missing.body.contains("value=\"Via Milano 2\""))
                let shipping = try await browser.post("/profile/billing", ["section": "shipping", "shipping_recipient": "Ufficio acquisti",
                                                                           "shipping_street": "Via Milano 2", "shipping_postal_code": "20121",
                                                                           "shipping_city": "Milano", "shipping_province": "mi"])
                #expect(shipping.location == "/profile/billing?done=requested")
                let requests = try await portal.database.read(tenant: portal.definition.id) { try await $0.requests(customerId: legal.customer) }
                let request = try #require(requests.first { $0.form == "invoice_shipping_address" })
                #expect(request.subject.contains("Via Milano 2") && request.subject.contains("20121 Milano (MI)"))
                let paperless = try await browser.post("/profile/billing", ["section": "delivery", "invoice_delivery": "paperless"])
                #expect(paperless.location == "/profile/billing?done=saved", "NoCarta is a direct change for the Full administrator")
            }
            #expect(try await portal.storedCustomer(legal.customer).invoiceDelivery == "paperless")
        }
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
            _ = try await portal.profileFixture(role: "main_account", username: "mario.rossi@example.it", email: "mario.rossi@example.it",
                                                customer: ProfileCustomers.tundaPrivate(code: "T-1"))
            try await portal.test { browser in
                try await browser.logIn("mario.rossi@example.it", profilePassword)
                #expect(try await browser.get("/profile/billing").status == .notFound)
            }
        }
    }

    @Test("Billing API: the JSON shape with the masked IBAN, 422 with every problem at once, CSRF, and no other customer touched",
          arguments: TestEngine.available)
    func billingAPI(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let legal = try await portal.profileFixture(role: "rappresentante_legale", username: "rl.tim", email: "rl@rossi.example",
                                                        customer: ProfileCustomers.business(code: "TIM-1"))
            let other = try await portal.profileFixture(role: "rappresentante_legale", username: "rl.altro", email: "rl@altro.example",
                                                        customer: ProfileCustomers.business(code: "TIM-2"))
            let otherBefore = try await portal.storedCustomer(other.customer)
            try await portal.test { browser in
                try await browser.logIn("rl.tim", profilePassword)
                let get = try await browser.profileAPI(.get, "/api/v1/profile/billing")
                #expect(get.status == .ok)
                let delivery = try #require(get.json["invoice_delivery"] as? [String: Any])
                #expect(delivery["value"] as? String == "paper" && delivery["change_mode"] as? String == "direct")
                #expect((delivery["options"] as? [[String: Any]])?.compactMap { $0["value"] as? String } == ["paper", "paperless"], "the options TIM offers, in its order")
                let payment = try #require(get.json["payment_method"] as? [String: Any])
                #expect(payment["iban_masked"] is NSNull)
                #expect((get.json["shipping_address"] as? [String: Any])?["editable"] as? Bool == true)

                let noCSRF = try await browser.profileAPI(.put, "/api/v1/profile/billing", ["invoice_delivery": "email"], csrf: false)
                #expect(noCSRF.status == .forbidden)

                let bad = try await browser.profileAPI(.put, "/api/v1/profile/billing", [
                    "invoice_delivery": "fax", "payment_method": "sepa", "iban": Self.wrongIBAN, "bogus": 1,
                    "shipping_address": ["street": "", "postal_code": "20121", "city": "Milano", "province": "MI", "floor": "2"],
                ])
                #expect(bad.status == .unprocessableContent)
                let problems = profileProblems(bad.json)
                #expect(problems["invoice_delivery"] == "invalid_choice")
                #expect(problems["iban"] == "invalid_iban")
                #expect(problems["sepa_mandate_accepted"] == "mandate_required")
                #expect(problems["bogus"] == "unknown_field")
                #expect(problems["shipping_address.floor"] == "unknown_field")
                #expect(problems["shipping_address.street"] == "required")
                #expect(try await portal.storedCustomer(legal.customer).invoiceDelivery == "paper", "nothing is written")

                // TIM offers paper or NoCarta only (`capabilities: {billing_settings: {delivery_options: …}}`).
                let notOffered = try await browser.profileAPI(.put, "/api/v1/profile/billing", ["invoice_delivery": "email"])
                #expect(notOffered.status == .unprocessableContent, "a delivery option the tenant does not offer is refused")
                let ok = try await browser.profileAPI(.put, "/api/v1/profile/billing", [
                    "invoice_delivery": "paperless", "payment_method": "sepa", "iban": Self.validIBAN, "sepa_mandate_accepted": true,
                ])
                #expect(ok.status == .ok)
                let saved = try #require(ok.json["payment_method"] as? [String: Any])
                #expect(saved["value"] as? String == "sepa")
                #expect(saved["iban_masked"] as? String == IBANMask.mask(Self.validIBAN))
                #expect((ok.json["invoice_delivery"] as? [String: Any])?["value"] as? String == "paperless")

                let keep = try await browser.profileAPI(.put, "/api/v1/profile/billing", ["payment_method": "sepa"])
                #expect(keep.status == .ok, "direct debit with the IBAN on record needs no new IBAN or mandate")
            }
            let customer = try await portal.storedCustomer(legal.customer)
            #expect(customer.paymentMethod == "sepa" && customer.iban == Self.validIBAN && customer.invoiceDelivery == "paperless")
            #expect(try await portal.storedCustomer(other.customer) == otherBefore)
        }
    }
}
