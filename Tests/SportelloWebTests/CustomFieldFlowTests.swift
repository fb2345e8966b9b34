import Foundation
import Hummingbird
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

/// A provider's own customer field (a policy number) proves who a registrant is in `verify_customer`: as the field
/// that finds the customer, or as one more field to compare; typed in any form its field normalises, never matching
/// another customer's value.
private let rossiTaxCode = ItalianIdentifiers.makeCodiceFiscale(lastName: "Rossi", firstName: "Mario", birthDate: (1980, 5, 17),
                                                               female: false, placeCode: "H501")

@Suite("Custom customer fields")
struct CustomFieldFlowTests {
    static let policyNumber = FieldDefinition(
        label: LocalizedText(translations: ["it": "Numero di polizza", "en": "Policy number"]), type: .text,
        help: LocalizedText(translations: ["it": "Come sul certificato.", "en": "As on the certificate."]),
        normalize: [.uppercase], validators: [FieldValidator(pattern: "POL-[0-9]{8}")])

    /// Unogas whose registration matches `match`, with the policy number as a customer field of its own.
    static func definition(match: [String]) throws -> TenantDefinition {
        var definition = try provider("unogas")
        definition.customerFields = OrderedMap([("policy_number", policyNumber)])
        var flow = try #require(definition.flows["registration"])
        let index = try #require(flow.steps.firstIndex { $0.step == .verifyCustomer })
        flow.steps[index].match = match
        definition.flows["registration"] = flow
        return definition
    }

    @Test("the policy number finds the customer, in lower case too; a policy of another customer or a malformed one gets the neutral message",
          arguments: TestEngine.available)
    func policyNumberFindsTheCustomer(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unogas", definition: try Self.definition(match: ["policy_number", "names"])) { portal in
            let onRecord = uniqueEmail("polizza")
            let holder = try await portal.withCustomer(CustomerRecord(customerType: "person", customerCode: "GAS-1042", firstName: "Mario",
                                                                     lastName: "Rossi", taxCode: rossiTaxCode, email: onRecord, createdAt: 0))
            let other = try await portal.withCustomer(CustomerRecord(customerType: "person", customerCode: "GAS-1043", firstName: "Anna",
                                                                    lastName: "Bianchi", createdAt: 0))
            try await portal.database.write(tenant: portal.definition.id) { t in
                try await t.setCustomFieldValues(["policy_number": "POL-00001042"], of: .customer(holder))
                try await t.setCustomFieldValues(["policy_number": "POL-00001043"], of: .customer(other))
            }
            try await portal.test { browser in
                let form = try await browser.get("/access/registration")
                #expect(form.body.contains("Numero di polizza") && form.body.contains("Come sul certificato."))
                let othersPolicy = try await browser.post("/access/registration", [
                    "step": "0", "policy_number": "POL-00001043", "first_name": "Mario", "last_name": "Rossi"])
                #expect(othersPolicy.status == .unprocessableContent)
                let malformed = try await browser.post("/access/registration", [
                    "step": "0", "policy_number": "1042", "first_name": "Mario", "last_name": "Rossi"])
                #expect(malformed.status == .unprocessableContent)
                #expect(RegistrationFlowTests.formError(malformed.body) == RegistrationFlowTests.formError(othersPolicy.body))
                let waiting = try await browser.follow(try await browser.post("/access/registration", [
                    "step": "0", "policy_number": "pol-00001042", "first_name": "mario", "last_name": "ROSSI"]))
                #expect(waiting.body.contains(ContactMasking.email(onRecord)), "matched: the link went to the e-mail on record")
            }
        }
    }

    @Test("next to the bill data, a wrong policy number fails the match", arguments: [TestEngine.sqlite])
    func policyNumberIsCompared(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "unogas",
                                     definition: try Self.definition(match: ["customer_code", "names", "policy_number"])) { portal in
            let onRecord = uniqueEmail("polizza2")
            let holder = try await portal.withCustomer(CustomerRecord(customerType: "person", customerCode: "GAS-2042", firstName: "Mario",
                                                                     lastName: "Rossi", taxCode: rossiTaxCode, email: onRecord, createdAt: 0))
            try await portal.database.write(tenant: portal.definition.id) { t in
                try await t.setCustomFieldValues(["policy_number": "POL-00002042"], of: .customer(holder))
            }
            try await portal.test { browser in
                let wrong = try await browser.post("/access/registration", [
                    "step": "0", "customer_code": "GAS-2042", "first_name": "Mario", "last_name": "Rossi", "policy_number": "POL-00002043"])
                #expect(wrong.status == .unprocessableContent)
                let right = try await browser.follow(try await browser.post("/access/registration", [
                    "step": "0", "customer_code": "GAS-2042", "first_name": "Mario", "last_name": "Rossi", "policy_number": "POL-00002042"]))
                #expect(right.body.contains(ContactMasking.email(onRecord)))
            }
        }
    }

    @Test("the profile shows the tenant's own field with its label, saves a valid value canonically and refuses an invalid one next to it, by form and by API",
          arguments: TestEngine.available)
    func profileEditsTheField(engine: TestEngine) async throws {
        var definition = try provider("tunda")
        definition.customerFields = OrderedMap([("policy_number", Self.policyNumber)])
        try await PortalHarness.with(engine: engine, tenant: "tunda", definition: definition) { portal in
            let main = try await portal.profileFixture(role: "main_account", username: "polizza.rossi@example.it", email: "polizza.rossi@example.it",
                                                       customer: ProfileCustomers.tundaPrivate(code: "T-P1"))
            try await portal.database.write(tenant: portal.definition.id) { t in
                try await t.setCustomFieldValues(["policy_number": "POL-00000001"], of: .customer(main.customer))
            }
            @Sendable func stored() async throws -> [String: String] {
                try await portal.database.read(tenant: portal.definition.id) { try await $0.customFieldValues(of: .customer(main.customer)) }
            }
            try await portal.test { browser in
                try await browser.logIn("polizza.rossi@example.it", profilePassword)
                let page = try await browser.get("/profile")
                #expect(page.body.contains("Numero di polizza") && page.body.contains("POL-00000001"))
                let refused = try await browser.post("/profile/customer", ["policy_number": "12345"])
                #expect(refused.status == .unprocessableContent)
                #expect(fieldError(refused.body, "policy_number") != nil, "the problem is shown next to the field")
                #expect(try await stored() == ["policy_number": "POL-00000001"])
                let saved = try await browser.post("/profile/customer", ["policy_number": "pol-00000002"])
                #expect(saved.location == "/profile?done=customer")
                #expect(try await stored() == ["policy_number": "POL-00000002"], "stored in its canonical form")

                let api = try await browser.profileAPI(.patch, "/api/v1/profile", ["customer": ["policy_number": "POL-1"]])
                #expect(api.status == .unprocessableContent)
                #expect(profileProblems(api.json)["customer.policy_number"] == "pattern_mismatch")
                let shown = try await browser.profileAPI(.get, "/api/v1/profile", nil)
                let fields = try #require((shown.json["customer"] as? [String: Any])?["fields"] as? [[String: Any]])
                let field = try #require(fields.first { $0["name"] as? String == "policy_number" })
                #expect(field["value"] as? String == "POL-00000002" && field["label"] as? String == "Numero di polizza")
            }
        }
    }
}
