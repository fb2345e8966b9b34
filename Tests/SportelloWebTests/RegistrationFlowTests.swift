import Foundation
import Testing
import SportelloApplication
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

private let rossiTaxCode = ItalianIdentifiers.makeCodiceFiscale(lastName: "Rossi", firstName: "Mario", birthDate: (1980, 5, 17),
                                                                female: false, placeCode: "H501")
private let legalRepTaxCode = ItalianIdentifiers.makeCodiceFiscale(lastName: "Bianchi", firstName: "Laura", birthDate: (1975, 2, 3),
                                                                   female: true, placeCode: "F205")
private let strongPassword = "Sportello#2026x"

private func business(_ code: String, vat: String, email: String, now: Int64) -> CustomerRecord {
    CustomerRecord(customerType: "business", customerCode: code, companyName: "Officine \(code) S.r.l.", vatNumber: vat,
                   email: "amministrazione@example.it", legalRepFirstName: "Laura", legalRepLastName: "Bianchi",
                   legalRepBirthDate: "1975-02-03", legalRepTaxCode: legalRepTaxCode, legalRepEmail: email,
                   legalRepMobile: "3331234567", createdAt: now)
}

@Suite("Registration flows over HTTP with real e-mail", .enabled(if: MailSink.isAvailable))
struct RegistrationFlowTests {
    @Test("Unidata: a staff invitation e-mails a link; the customer sets a password and Prosegui logs them in",
          arguments: TestEngine.available)
    func unidataInvitation(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
        let customerId = try await portal.withCustomer(business("UNI-1", vat: ItalianIdentifiers.makePartitaIVA(serial: 1234, officeCode: 58),
                                                                email: "x@example.it", now: 0))
        let email = uniqueEmail("referente")
        let issued = try await Invitations(services: portal.services.application, tenant: portal.tenant.served)
            .issue(customerId: customerId, email: email, username: "mario.uni1", role: "referente_amministratore", createdBy: nil)
        #expect(issued.expiresAt - Int64(PortalHarness.start.timeIntervalSince1970) == 30 * 86_400)
        let message = try await portal.mail(to: email)
        let link = try Browser.link(in: message.text)
        try await portal.test { browser in
            let invitation = try await browser.follow(try await browser.get(link))
            #expect(invitation.status == .ok)
            #expect(invitation.body.contains(email), "the invited e-mail is pre-filled")
            #expect(invitation.body.contains("Amministratore"), "business customers are told the Administrator's e-mail is required")
            let credentials = try await browser.follow(try await browser.post("/access/invitation", ["email": email, "step": "0", "first_name": "Mario", "last_name": "Verdi"]))
            #expect(credentials.body.contains("mario.uni1"), "the pre-assigned username is shown")
            let password = try await browser.follow(try await browser.post("/access/invitation", ["step": "1"]))
            #expect(password.body.contains("data-password-rules"), "the policy is embedded for the live check")
            #expect(password.body.contains("toggle-password"), "Unidata shows the password toggle")
            let weak = try await browser.post("/access/invitation", ["step": "2", "password": "abc", "password_confirmation": "abc"])
            #expect(weak.status == .unprocessableContent)
            #expect(weak.body.contains("field-error"))
            let confirmation = try await browser.follow(try await browser.post("/access/invitation", [
                "step": "2", "password": strongPassword, "password_confirmation": strongPassword]))
            #expect(confirmation.body.contains("Prosegui"))
            let home = try await browser.post("/access/invitation", ["step": "3"])
            #expect(home.location == "/")
            let dashboard = try await browser.get("/")
            #expect(dashboard.status == .ok)
            #expect(dashboard.body.contains("Referente Amministratore"))
            // The link is single use.
            let again = try await browser.get(link)
            #expect(again.status == .badRequest)
            #expect(again.body.contains("già stato utilizzato"))
        }
        }
    }

    @Test("An expired invitation says so and how to get a new one", arguments: TestEngine.available)
    func expiredInvitation(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unidata") { portal in
        let customerId = try await portal.withCustomer(business("UNI-2", vat: ItalianIdentifiers.makePartitaIVA(serial: 1235, officeCode: 58),
                                                                email: "x@example.it", now: 0))
        let email = uniqueEmail("scaduto")
        _ = try await Invitations(services: portal.services.application, tenant: portal.tenant.served)
            .issue(customerId: customerId, email: email, username: "late.user", role: "referente_amministratore", createdBy: nil)
        let link = try Browser.link(in: try await portal.mail(to: email).text)
        portal.clock.advance(by: 31 * 86_400)
        try await portal.test { browser in
            let page = try await browser.get(link)
            #expect(page.status == .gone)
            #expect(page.body.contains("scaduto"))
        }
        }
    }

    @Test("Unogas: verify against the bill data, activation at the e-mail on record, e-mail as username, security question; a wrong field gets one neutral message",
          arguments: TestEngine.available)
    func unogasRegistration(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unogas") { portal in
        let onRecord = uniqueEmail("bolletta")
        _ = try await portal.withCustomer(CustomerRecord(customerType: "person", customerCode: "GAS-0042", firstName: "Mario", lastName: "Rossi",
                                                         taxCode: rossiTaxCode, email: onRecord, createdAt: 0))
        _ = try await portal.withCustomer(CustomerRecord(customerType: "person", customerCode: "GAS-0043", firstName: "Mario", lastName: "Rossi",
                                                         taxCode: rossiTaxCode, createdAt: 0))
        let email = uniqueEmail("mario")
        try await portal.test { browser in
            let nowhere = try await browser.post("/access/registration", ["step": "0", "customer_code": "GAS-0043", "first_name": "Mario",
                                                                         "last_name": "Rossi", "tax_id": rossiTaxCode])
            #expect(nowhere.status == .unprocessableContent && nowhere.body.contains("non risulta un recapito registrato"),
                    "no e-mail on record: no account, whatever the bill data")
        }
        try await portal.test { browser in
            let waiting = try await browser.follow(try await browser.post("/access/registration", [
                "step": "0", "customer_code": "gas-0042", "first_name": "MARIO", "last_name": "rossi", "tax_id": rossiTaxCode.lowercased()]))
            #expect(waiting.body.contains(ContactMasking.email(onRecord)), "the link went to the e-mail on record, shown masked")
            #expect(!waiting.body.contains("name=\"email\""), "no credentials before the link is opened")
        }
        let activation = try Browser.link(in: try await portal.mail(to: onRecord).text)
        try await portal.test { browser in
            let form = try await browser.get("/access/registration")
            #expect(form.status == .ok)
            let wrong = try await browser.post("/access/registration", ["step": "0", "customer_code": "GAS-0042", "first_name": "Mario",
                                                                       "last_name": "Verdi", "tax_id": rossiTaxCode])
            #expect(wrong.status == .unprocessableContent)
            let wrongCode = try await browser.post("/access/registration", ["step": "0", "customer_code": "GAS-9999", "first_name": "Mario",
                                                                           "last_name": "Rossi", "tax_id": rossiTaxCode])
            #expect(Self.formError(wrong.body) == Self.formError(wrongCode.body), "the message does not tell which field was wrong")
            let credentials = try await browser.follow(try await browser.get(activation))
            #expect(credentials.body.contains("name=\"email\""))
            _ = try await browser.post("/access/registration", ["step": "2", "email": email])
            _ = try await browser.post("/access/registration", ["step": "3", "password": strongPassword, "password_confirmation": strongPassword])
            let mismatch = try await browser.post("/access/registration", ["step": "4", "security_question": SecurityQuestions.italian[0],
                                                                          "security_answer": "Micio", "security_answer_confirmation": "Miao"])
            #expect(mismatch.status == .unprocessableContent)
            let done = try await browser.follow(try await browser.post("/access/registration", [
                "step": "4", "security_question": SecurityQuestions.italian[0], "security_answer": "Micio",
                "security_answer_confirmation": " micio "]))
            #expect(done.body.contains("Registrazione completata"))
            let login = try await browser.post("/login", ["identifier": email, "password": strongPassword])
            #expect(login.location == "/")
        }
        let stored = try await portal.database.read(tenant: portal.definition.id) { try await $0.users(email: email) }
        let user = try #require(stored.first)
        #expect(user.securityAnswerHash?.hasPrefix("$2") == true, "the answer is stored hashed")
        #expect(user.passwordHash?.hasPrefix("$2") == true)
        }
    }

    static func formError(_ body: String) -> String {
        guard let start = body.range(of: "class=\"form-error\"") else { return "" }
        return String(body[start.upperBound...].prefix(300))
    }

    @Test("Tunda: open registration creates the customer record, checks identifiers and sends the summary e-mail",
          arguments: TestEngine.available)
    func tundaRegistration(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tunda") { portal in
        let email = uniqueEmail("cliente")
        try await portal.test { browser in
            _ = try await browser.get("/access/registration?type=private")
            let bad = try await browser.post("/access/registration", [
                "step": "0", "customer_type": "private", "first_name": "Mario", "last_name": "Rossi", "tax_code": "RSSMRA80E17H501X",
                "email": "non-una-mail", "street": "Via Roma 1", "postal_code": "00100", "city": "Roma", "province": "RM", "phone": "061234567"])
            #expect(bad.status == .unprocessableContent)
            #expect(bad.body.contains("f-tax_code-error"))
            #expect(bad.body.contains("f-email-error"))
            _ = try await browser.post("/access/registration", [
                "step": "0", "customer_type": "private", "first_name": "Mario", "last_name": "Rossi", "tax_code": rossiTaxCode,
                "email": email, "street": "Via Roma 1", "postal_code": "00184", "city": "Roma", "province": "rm", "phone": "06 1234567"])
            _ = try await browser.post("/access/registration", ["step": "1", "email": email])
            let done = try await browser.follow(try await browser.post("/access/registration", [
                "step": "2", "password": strongPassword, "password_confirmation": strongPassword]))
            #expect(done.body.contains("Registrazione completata"))
        }
        let summary = try await portal.mail(to: email)
        #expect(summary.text?.contains("non diffonderla") == true || summary.text?.contains("riservat") == true)
        let customers = try await portal.database.read(tenant: portal.definition.id) { try await $0.customers() }
        #expect(customers.first?.taxCode == rossiTaxCode)
        #expect(customers.first?.province == "RM")
        }
    }

    @Test("WINDTRE: verification, activation e-mail, username chosen at first access (case-sensitive); one User Admin per VAT",
          arguments: TestEngine.available)
    func windtreUserAdmin(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
        let vat = ItalianIdentifiers.makePartitaIVA(serial: 777_001, officeCode: 15)
        let email = uniqueEmail("legale")
        _ = try await portal.withCustomer(business("W3-1", vat: vat, email: email, now: 0))
        let verify = ["step": "0", "vat_number": "IT\(vat)", "legal_rep_email": email, "legal_rep_mobile": "+39 333 123 4567",
                      "legal_rep_first_name": "Laura", "legal_rep_last_name": "Bianchi", "legal_rep_birth_date": "03/02/1975",
                      "legal_rep_tax_code": legalRepTaxCode]
        try await portal.test { browser in
            let raw = try await browser.post("/access/user_admin_registration", verify)
            let waiting = try await browser.follow(raw)
            #expect(waiting.body.contains(ContactMasking.email(email)), "the activation went to the legal representative's address on record")
        }
        let link = try Browser.link(in: try await portal.mail(to: email).text)
        try await portal.test { browser in
            let credentials = try await browser.follow(try await browser.get(link))
            #expect(credentials.body.contains("name=\"username\""))
            let done = try await browser.follow(try await browser.post("/access/user_admin_registration", [
                "step": "2", "username": "LauraB", "password": "Windtre2026ok", "password_confirmation": "Windtre2026ok"]))
            #expect(done.status == .ok)
            let lower = try await browser.post("/login", ["identifier": "laurab", "password": "Windtre2026ok"])
            #expect(lower.status == .unauthorized, "usernames are case-sensitive")
            let exact = try await browser.post("/login", ["identifier": "LauraB", "password": "Windtre2026ok"])
            #expect(exact.location == "/")
        }
        try await portal.test { browser in
            let second = try await browser.post("/access/user_admin_registration", verify)
            #expect(second.status == .unprocessableContent)
            #expect(second.body.contains("Esiste già un utente"))
        }
        }
    }

    @Test("TIM: the activation goes to the legal representative's e-mail on record, never to an address typed in the form",
          arguments: TestEngine.available)
    func timLegalRepresentative(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
        let vat = ItalianIdentifiers.makePartitaIVA(serial: 555_001, officeCode: 15)
        let onRecord = uniqueEmail("legale")
        _ = try await portal.withCustomer(business("TIM-1", vat: vat, email: onRecord, now: 0))
        let typed = uniqueEmail("intruso")
        try await portal.test { browser in
            let step2 = try await browser.follow(try await browser.post("/access/legal_representative_registration", [
                "step": "0", "vat_number": vat, "legal_rep_tax_code": legalRepTaxCode]))
            #expect(!step2.body.contains("name=\"email\""), "no address is typed: the link goes to the one on record")
            #expect(step2.body.contains(ContactMasking.email(onRecord)), "the page says where the link went, masked")
            #expect(!step2.body.contains(onRecord), "the full address is not shown")
            // An address typed anyway is ignored.
            _ = try await browser.post("/access/legal_representative_registration", ["step": "1", "email": typed, "resend": "1"])
        }
        #expect(try MailSink.messages(to: typed).isEmpty, "nothing is ever sent to a typed address")
        let link = try Browser.link(in: try await portal.mail(to: onRecord).text)
        try await portal.test { browser in
            let credentials = try await browser.follow(try await browser.get(link))
            #expect(credentials.body.contains("name=\"username\""))
            #expect(!credentials.body.contains("name=\"email\""))
            _ = try await browser.post("/access/legal_representative_registration", ["step": "2", "username": "tim.legale"])
            let done = try await browser.follow(try await browser.post("/access/legal_representative_registration", [
                "step": "3", "password": strongPassword, "password_confirmation": strongPassword]))
            #expect(done.body.contains("Registrazione completata"))
            #expect(try await browser.post("/login", ["identifier": "tim.legale", "password": strongPassword]).location == "/")
        }
        let users = try await portal.database.read(tenant: portal.definition.id) { try await $0.users(email: onRecord) }
        #expect(users.count == 1, "the account's e-mail is the one on record")
        #expect(try MailSink.messages(to: typed).isEmpty)
        }
    }
}
