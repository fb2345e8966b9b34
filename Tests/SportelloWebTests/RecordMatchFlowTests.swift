import Foundation
import Hummingbird
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

/// An insurer whose customers prove who they are with a policy number printed on their certificate: a record of the
/// tenant's own kind `policies`, the key that finds the customer (`match: [policies.policy_number, tax_id]`) or one
/// more proof next to the customer code (`by_code`), then an activation link to the e-mail on record. New customers
/// register with `customer_details`, which also collects the insurer's own customer fields.
private let insurerYAML = """
id: polizze
name: Assicurazioni di prova
hosts: [polizze.localhost]
locales: {default: it, available: [it, en]}
branding: {primary_color: "#0a3d91"}
contacts: {customer_care: "800 000 000"}
customer_types:
  privato:
    label: {it: Privato, en: Private}
    kind: person
    required_fields: [first_name, last_name, tax_code, member_code]
customer_fields:
  member_code:
    label: {it: Codice socio, en: Member code}
    type: text
    help: {it: "Lo trovi sulla tessera socio.", en: "It is on your membership card."}
    normalize: [uppercase]
    validators:
      - {pattern: 'SOC-[0-9]{4}', message: {it: "Il codice socio è del tipo SOC-1234.", en: "The member code looks like SOC-1234."}}
      - {length: {max: 8}}
    generator: {template: "SOC-####"}
  contact_channel:
    label: {it: Canale preferito, en: Preferred channel}
    type: enum
    options: {email: {it: Posta elettronica, en: E-mail}, phone: {it: Telefono, en: Phone}}
login:
  identifiers: [email]
  case_sensitive: false
  password: {min_length: 10, require: [lowercase, uppercase, digit]}
  lockout: {max_attempts: 5, window: 15m, duration: 30m}
  session: {idle_timeout: 30m, absolute_timeout: 12h}
sections:
  policies: {label: {it: Polizze, en: Policies}}
features:
  policies.view: {label: Polizze, section: policies}
roles:
  cliente:
    label: {it: Cliente, en: Customer}
    grants: [policies.view]
    cardinality: {max: 1, per: customer}
records:
  policies:
    label: {it: Polizza, en: Policy}
    label_plural: {it: Polizze, en: Policies}
    section: policies
    external_id: policy_number
    fields:
      policy_number:
        label: {it: Numero di polizza, en: Policy number}
        type: text
        help: {it: "Lo trovi sul certificato di polizza.", en: "It is on your policy certificate."}
        normalize: [uppercase]
        validators: [{pattern: 'POL-[0-9]{8}'}, {length: {max: 12}}]
        generator: {template: "POL-########"}
    access: [{feature: policies.view, scope: all}]
flows:
  registration:
    kind: registration
    purpose: register
    label: {it: Registrazione assicurati, en: Policyholder registration}
    role: cliente
    steps:
      - step: verify_customer
        match: [policies.policy_number, tax_id]
      - step: activation
        expires: 48h
        deliver_to: [customer.email]
      - step: credentials
        username: email
      - step: password
        confirm: true
      - step: confirmation
  by_code:
    kind: registration
    purpose: register
    label: {it: Registrazione con codice cliente, en: Registration by customer code}
    role: cliente
    steps:
      - step: verify_customer
        match: [customer_code, policies.policy_number]
      - step: activation
        expires: 48h
        deliver_to: [customer.email]
      - step: credentials
        username: email
      - step: password
        confirm: true
      - step: confirmation
  signup:
    kind: registration
    purpose: register
    label: {it: Nuovi clienti, en: New customers}
    role: cliente
    steps:
      - step: customer_details
        fields: [names, tax_id, email]
        optional_fields: [contact_channel]
      - step: credentials
        username: email
      - step: password
        confirm: true
      - step: confirmation

"""

private let rossiTaxCode = ItalianIdentifiers.makeCodiceFiscale(lastName: "Rossi", firstName: "Mario", birthDate: (1980, 5, 17),
                                                               female: false, placeCode: "H501")
private let bianchiTaxCode = ItalianIdentifiers.makeCodiceFiscale(lastName: "Bianchi", firstName: "Anna", birthDate: (1985, 9, 2),
                                                                 female: true, placeCode: "F205")
private let strongPassword = "Sportello#2026x"

@Suite("Record match in registration")
struct RecordMatchFlowTests {
    /// The insurer as the loader reads it, with no diagnostics.
    static func insurer() throws -> TenantDefinition {
        let result = TenantLoader(capabilities: .portal).load(sources: [(file: "polizze.yaml", text: insurerYAML)])
        #expect(result.diagnostics.map(\.description) == [])
        return try #require(result.tenants.first?.definition)
    }

    /// Mario Rossi (e-mail on record) and Anna Bianchi in `tenant` (the portal's unless named), with policies
    /// POL-00001001 and POL-00001002 unless `policies` is false.
    struct Holders { var rossi, bianchi: Int64; var onRecord: String }

    static func holders(_ portal: PortalHarness, tenant: String? = nil, policies: Bool = true) async throws -> Holders {
        let onRecord = uniqueEmail("assicurato")
        return try await portal.database.write(tenant: tenant ?? portal.definition.id, now: 0) { t in
            let rossi = try await t.insertCustomer(CustomerRecord(customerType: "privato", customerCode: "POL-C1", firstName: "Mario", lastName: "Rossi",
                                                                 taxCode: rossiTaxCode, email: onRecord, createdAt: 0))
            let bianchi = try await t.insertCustomer(CustomerRecord(customerType: "privato", customerCode: "POL-C2", firstName: "Anna", lastName: "Bianchi",
                                                                   taxCode: bianchiTaxCode, email: uniqueEmail("bianchi"), createdAt: 0))
            if policies {
                try await t.upsertRecord(policy("POL-00001001", of: rossi))
                try await t.upsertRecord(policy("POL-00001002", of: bianchi))
            }
            return Holders(rossi: rossi, bianchi: bianchi, onRecord: onRecord)
        }
    }

    static func policy(_ number: String, of customer: Int64) -> TenantRecordDraft {
        TenantRecordDraft(kind: "policies", externalId: number, customerId: customer, values: ["policy_number": .text(number)])
    }

    static let neutral = "I dati inseriti non corrispondono a un cliente"

    @Test("policy number and tax code of the same customer: the link goes to the e-mail on record, and once it is opened the account is the customer's",
          .enabled(if: MailSink.isAvailable), arguments: TestEngine.available)
    func matchingPolicyRegisters(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "polizze", definition: try Self.insurer()) { portal in
            let holders = try await Self.holders(portal)
            let email = uniqueEmail("mario")
            try await portal.test { browser in
                let form = try await browser.get("/access/registration")
                #expect(form.body.contains("Polizza — Numero di polizza"), "the input names the kind and the field")
                #expect(form.body.contains("Lo trovi sul certificato di polizza."))
                #expect(form.body.contains("name=\"policies.policy_number\"") && form.body.contains("maxlength=\"12\""))
                let waiting = try await browser.follow(try await browser.post("/access/registration", [
                    "step": "0", "policies.policy_number": " pol-00001001 ", "tax_id": rossiTaxCode.lowercased()]))
                #expect(waiting.body.contains(ContactMasking.email(holders.onRecord)), "matched: the link went to the e-mail on record")
                #expect(!waiting.body.contains("name=\"email\""), "no credentials before the contact on record is proved")
            }
            let activation = try Browser.link(in: try await portal.mail(to: holders.onRecord).text)
            try await portal.test { browser in
                let credentials = try await browser.follow(try await browser.get(activation))
                #expect(credentials.body.contains("name=\"email\""))
                _ = try await browser.post("/access/registration", ["step": "2", "email": email])
                let done = try await browser.follow(try await browser.post("/access/registration", [
                    "step": "3", "password": strongPassword, "password_confirmation": strongPassword]))
                #expect(done.body.contains("Registrazione completata"))
            }
            let users = try await portal.database.read(tenant: portal.definition.id) { try await $0.users(email: email) }
            #expect(users.map(\.customerId) == [holders.rossi])
        }
    }

    @Test("an unknown policy number, or another customer's with this customer's tax code, gets the same neutral message and no link",
          arguments: TestEngine.available)
    func wrongPolicyIsNeutral(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "polizze", definition: try Self.insurer()) { portal in
            _ = try await Self.holders(portal)
            try await portal.test { browser in
                let unknown = try await browser.post("/access/registration", [
                    "step": "0", "policies.policy_number": "POL-00009999", "tax_id": rossiTaxCode])
                #expect(unknown.status == .unprocessableContent)
                #expect(unknown.body.contains(Self.neutral))
                #expect(fieldError(unknown.body, "policies.policy_number") == nil, "nothing says which field was wrong")
                let others = try await browser.post("/access/registration", [
                    "step": "0", "policies.policy_number": "POL-00001002", "tax_id": rossiTaxCode])
                #expect(others.status == .unprocessableContent)
                #expect(RegistrationFlowTests.formError(others.body) == RegistrationFlowTests.formError(unknown.body))
                // Both right, for Anna: the same form goes on (the refusals above were about the data, not the form).
                let right = try await browser.post("/access/registration", [
                    "step": "0", "policies.policy_number": "POL-00001002", "tax_id": bianchiTaxCode])
                #expect(right.status == .seeOther && right.location == "/access/registration", "\(right.status) \(RegistrationFlowTests.formError(right.body))")
            }
        }
    }

    @Test("next to the customer code that finds the customer, the policy number must be one of that customer's",
          arguments: TestEngine.available)
    func policyAsConfirmation(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "polizze", definition: try Self.insurer()) { portal in
            let holders = try await Self.holders(portal)
            try await portal.test { browser in
                let form = try await browser.get("/access/by_code")
                #expect(form.body.contains("name=\"customer_code\"") && form.body.contains("Polizza — Numero di polizza"))
                let others = try await browser.post("/access/by_code", [
                    "step": "0", "customer_code": "POL-C1", "policies.policy_number": "POL-00001002"])
                #expect(others.status == .unprocessableContent && others.body.contains(Self.neutral))
                let waiting = try await browser.follow(try await browser.post("/access/by_code", [
                    "step": "0", "customer_code": "pol-c1", "policies.policy_number": "pol-00001001"]))
                #expect(waiting.body.contains(ContactMasking.email(holders.onRecord)))
            }
        }
    }

    @Test("a policy with that number in another tenant proves nothing here, as lookup key or as confirmation",
          arguments: TestEngine.available)
    func otherTenantsPolicyNeverMatches(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "polizze", definition: try Self.insurer()) { portal in
            // Here: Mario Rossi with no policy at all. In another tenant: a Mario Rossi, same tax code, holding POL-00003003.
            _ = try await Self.holders(portal, policies: false)
            let elsewhere = uniqueTenant("polizze-altro")
            let other = try await Self.holders(portal, tenant: elsewhere, policies: false)
            try await portal.database.write(tenant: elsewhere, now: 0) { t in
                try await t.upsertRecord(Self.policy("POL-00003003", of: other.rossi))
            }
            try await portal.test { browser in
                let asLookup = try await browser.post("/access/registration", [
                    "step": "0", "policies.policy_number": "POL-00003003", "tax_id": rossiTaxCode])
                #expect(asLookup.status == .unprocessableContent && asLookup.body.contains(Self.neutral))
                let asConfirmation = try await browser.post("/access/by_code", [
                    "step": "0", "customer_code": "POL-C1", "policies.policy_number": "POL-00003003"])
                #expect(asConfirmation.status == .unprocessableContent && asConfirmation.body.contains(Self.neutral))
            }
            let held = try await portal.database.read(tenant: elsewhere) {
                try await $0.customers(withRecordOf: "policies", field: "policy_number", equalTo: "POL-00003003")
            }
            #expect(held == [other.rossi], "the record exists, in the other tenant")
        }
    }

    @Test("a malformed policy number is refused next to its input, in Italian, without the no-match message",
          arguments: TestEngine.available)
    func malformedPolicyNumber(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "polizze", definition: try Self.insurer()) { portal in
            _ = try await Self.holders(portal)
            try await portal.test { browser in
                let malformed = try await browser.post("/access/registration", [
                    "step": "0", "policies.policy_number": "1001", "tax_id": rossiTaxCode])
                #expect(malformed.status == .unprocessableContent)
                let error = try #require(fieldError(malformed.body, "policies.policy_number"))
                #expect(error.contains("Numero di polizza") && error.contains("non è nel formato richiesto"), "\(error)")
                #expect(!malformed.body.contains(Self.neutral))
                #expect(malformed.body.contains("value=\"1001\""), "what was typed is shown back")
                let empty = try await browser.post("/access/registration", ["step": "0", "policies.policy_number": "", "tax_id": rossiTaxCode])
                #expect(fieldError(empty.body, "policies.policy_number") != nil)
            }
        }
    }

    @Test("customer_details collects the insurer's own fields: a select for the enum, the type's required field checked in Italian, canonical values stored with the new customer",
          arguments: TestEngine.available)
    func customerDetailsCollectsOwnFields(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "polizze", definition: try Self.insurer()) { portal in
            let email = uniqueEmail("nuovo")
            let details = ["step": "0", "first_name": "Mario", "last_name": "Rossi", "tax_code": rossiTaxCode, "email": email,
                           "contact_channel": "phone"]
            try await portal.test { browser in
                let form = try await browser.get("/access/signup")
                #expect(form.body.contains("Codice socio") && form.body.contains("Lo trovi sulla tessera socio."))
                #expect(form.body.contains("name=\"member_code\"") && form.body.contains("maxlength=\"8\""))
                #expect(form.body.contains("<option value=\"phone\">Telefono</option>"), "the enum is a select of its options")
                let missing = try await browser.post("/access/signup", details)
                #expect(missing.status == .unprocessableContent)
                #expect(fieldError(missing.body, "member_code") != nil, "the customer type requires it")
                let bad = try await browser.post("/access/signup", details.merging(["member_code": "12345"]) { $1 })
                #expect(bad.status == .unprocessableContent)
                #expect(fieldError(bad.body, "member_code") == "Il codice socio è del tipo SOC-1234.")
                #expect(bad.body.contains("<option value=\"phone\" selected>Telefono</option>"), "the choice is kept")
                let badOption = try await browser.post("/access/signup", details.merging(["member_code": "SOC-0042", "contact_channel": "fax"]) { $1 })
                #expect(fieldError(badOption.body, "contact_channel") != nil)
                _ = try await browser.follow(try await browser.post("/access/signup", details.merging(["member_code": " soc-0042 "]) { $1 }))
                _ = try await browser.post("/access/signup", ["step": "1", "email": email])
                let done = try await browser.follow(try await browser.post("/access/signup", [
                    "step": "2", "password": strongPassword, "password_confirmation": strongPassword]))
                #expect(done.body.contains("Registrazione completata"))
            }
            let stored = try await portal.database.read(tenant: portal.definition.id) { t -> [String: String] in
                let user = try #require(try await t.users(email: email).first)
                return try await t.customFieldValues(of: .customer(user.customerId))
            }
            #expect(stored == ["member_code": "SOC-0042", "contact_channel": "phone"])
        }
    }
}
