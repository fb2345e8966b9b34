import Foundation
import Testing
@testable import SportelloCore

/// Tunda's open registration: the `customer_details` step and its two customer types, read from tenants/tunda.yaml.
struct TundaRegistration {
    let fields: [String]
    let optionalFields: [String]
    let privateType: CustomerType
    let businessType: CustomerType

    init() throws {
        let tunda = try Providers().definition("tunda")
        let step = try #require(tunda.flows["registration"]?.steps.first { $0.step == .customerDetails })
        fields = step.fields ?? []
        optionalFields = step.optionalFields ?? []
        privateType = try #require(tunda.customerTypes["private"])
        businessType = try #require(tunda.customerTypes["business"])
    }

    func validate(_ entered: [String: String], business: Bool = false) -> Result<CustomerRecordDraft, FieldProblems> {
        CustomerDetailsForm.validate(entered, fields: fields, optionalFields: optionalFields,
                                     type: business ? businessType : privateType, typeId: business ? "business" : "private")
    }

    static let validPerson = [
        "first_name": " Niccolò ", "last_name": "D'Angelo", "tax_code": FlowFixtures.spaced(FlowFixtures.niccoloTaxCode.lowercased()),
        "email": "Niccolo.DAngelo@Example.it", "street": "Via   Appia Nuova 12", "postal_code": "00183", "city": "Roma",
        "province": "rm", "phone": "+39 06 1234 5678",
    ]

    static let validBusiness = [
        "company_name": "Società Rossi S.r.l.", "vat_number": "IT 004 884 100 10", "tax_code": "00488410010",
        "first_name": "Lucia", "last_name": "Bianchi", "email": "amministrazione@rossi-srl.it",
        "street": "Corso Buenos Aires 45", "postal_code": "20124", "city": "Milano", "province": "MI", "phone": "02 1234 5678",
        "mobile": "335 123 4567", "pec": "rossi-srl@pec.it", "recipient_code": "m5uxcr1",
    ]
}

@Suite("Customer details form (open registration)")
struct CustomerDetailsFormTests {
    @Test("a private customer sees name, codice fiscale, e-mail, address and phone required, the rest optional")
    func privateInputs() throws {
        let tunda = try TundaRegistration()
        #expect(tunda.fields == ["names", "tax_id", "email", "address", "phone"])
        let inputs = CustomerDetailsForm.inputs(fields: tunda.fields, optionalFields: tunda.optionalFields, type: tunda.privateType)
        #expect(inputs.filter(\.required).map(\.name)
                == ["first_name", "last_name", "tax_code", "email", "street", "postal_code", "city", "province", "phone"])
        #expect(inputs.filter { !$0.required }.map(\.name)
                == ["mobile", "billing_street", "billing_postal_code", "billing_city", "billing_province", "pec", "recipient_code"])
        #expect(!inputs.map(\.name).contains("company_name") && !inputs.map(\.name).contains("vat_number"))
        #expect(inputs.first { $0.name == "email" }?.type == "email")
        #expect(inputs.first { $0.name == "phone" }?.type == "tel")
        #expect(inputs.first { $0.name == "postal_code" }?.autocomplete == "postal-code")
        #expect(inputs.first { $0.name == "province" }?.maxLength == 2)
    }

    @Test("a business sees company name and partita IVA; Tunda's business type also requires its codice fiscale and a contact name")
    func businessInputs() throws {
        let tunda = try TundaRegistration()
        let inputs = CustomerDetailsForm.inputs(fields: tunda.fields, optionalFields: tunda.optionalFields, type: tunda.businessType)
        #expect(inputs.map(\.name).prefix(3) == ["company_name", "vat_number", "tax_code"])
        #expect(inputs.filter(\.required).map(\.name)
                == ["company_name", "vat_number", "tax_code", "email", "street", "postal_code", "city", "province", "phone",
                    "first_name", "last_name"])
        #expect(inputs.first { $0.name == "tax_code" }?.hint == nil, "no 'leave it empty' hint on a required field")
        #expect(inputs.first { $0.name == "first_name" }?.label.resolve("it") == "Nome del referente")
    }

    @Test("without a type rule, a business's codice fiscale is optional and says it may be left empty")
    func businessTaxCodeOptional() {
        let type = CustomerType(label: LocalizedText("Azienda"), kind: .business, requiredFields: [], optionalFields: nil)
        let inputs = CustomerDetailsForm.inputs(fields: ["names", "tax_id"], optionalFields: [], type: type)
        #expect(inputs.map(\.name) == ["company_name", "vat_number", "tax_code"])
        #expect(inputs.map(\.required) == [true, true, false])
        #expect(inputs[2].hint != nil)
        let draft = try? CustomerDetailsForm.validate(["company_name": "Comune di Prova", "vat_number": "00488410010"],
                                                      fields: ["names", "tax_id"], optionalFields: [], type: type, typeId: "pa").get()
        #expect(draft?.customerRecord(customerCode: "C1", createdAt: 1).taxCode == "00488410010", "the VAT number stands in")
    }

    @Test("all problems are reported at once, each on its own field with its own code")
    func collectsEveryProblem() throws {
        let tunda = try TundaRegistration()
        var tax = Array(FlowFixtures.niccoloTaxCode)
        tax[15] = tax[15] == "A" ? "B" : "A"
        let entered = [
            "first_name": "Niccolò", "last_name": "  ", "tax_code": String(tax), "email": "niccolo@example",
            "street": "Via Appia 1", "postal_code": "1234", "city": "Roma", "province": "Roma", "phone": "12345",
            "mobile": "06 1234567", "pec": "niccolo.pec.it", "recipient_code": "ABC",
        ]
        let problems = try #require(tunda.validate(entered).failureValue)
        #expect(problems.fields == ["last_name", "tax_code", "email", "postal_code", "province", "phone", "mobile", "pec", "recipient_code"])
        #expect(problems.codes(for: "last_name") == ["required"])
        #expect(problems.codes(for: "tax_code") == ["invalid_tax_code"])
        #expect(problems.codes(for: "email") == ["invalid_email"])
        #expect(problems.codes(for: "postal_code") == ["invalid_postal_code"])
        #expect(problems.codes(for: "province") == ["invalid_province"])
        #expect(problems.codes(for: "phone") == ["invalid_phone"])
        #expect(problems.codes(for: "mobile") == ["invalid_phone"], "a landline is not a mobile")
        #expect(problems.codes(for: "pec") == ["invalid_email"])
        #expect(problems.codes(for: "recipient_code") == ["invalid_recipient_code"])
        #expect(problems.problems(for: "tax_code")[0].message.resolve("it").contains("carattere finale"))
        #expect(problems.problems(for: "last_name")[0].message.resolve("it") == "Compila il campo «Cognome».")
        for problem in problems.problems {
            #expect(problem.message.translations["it"]?.isEmpty == false && problem.message.translations["en"]?.isEmpty == false)
        }
    }

    @Test("an empty form lists every required field")
    func emptyForm() throws {
        let tunda = try TundaRegistration()
        let problems = try #require(tunda.validate([:], business: true).failureValue)
        #expect(problems.problems.allSatisfy { $0.code == "required" })
        #expect(problems.fields == CustomerDetailsForm.inputs(fields: tunda.fields, optionalFields: tunda.optionalFields,
                                                              type: tunda.businessType).filter(\.required).map(\.name))
    }

    @Test("wrong partita IVA: length and check digit are told apart", arguments: [("0048841001", "11 cifre"), ("00488410011", "ultima cifra"), ("IT00488410O10", "11 cifre")])
    func invalidVat(vat: String, hint: String) throws {
        let tunda = try TundaRegistration()
        var entered = TundaRegistration.validBusiness
        entered["vat_number"] = vat
        let problems = try #require(tunda.validate(entered, business: true).failureValue)
        #expect(problems.fields == ["vat_number"])
        #expect(problems.codes(for: "vat_number") == ["invalid_vat_number"])
        #expect(problems.problems[0].message.resolve("it").contains(hint))
    }

    @Test("a codice fiscale that belongs to someone else's name is refused")
    func taxCodeOfAnotherName() throws {
        let tunda = try TundaRegistration()
        var entered = TundaRegistration.validPerson
        entered["tax_code"] = FlowFixtures.luciaTaxCode
        let problems = try #require(tunda.validate(entered).failureValue)
        #expect(problems.codes(for: "tax_code") == ["tax_code_name_mismatch"])
        #expect(CustomerDetailsForm.namesFit(taxCode: FlowFixtures.niccoloTaxCode, firstName: "Niccolò", lastName: "D'Angelo"))
        #expect(!CustomerDetailsForm.namesFit(taxCode: FlowFixtures.niccoloTaxCode, firstName: "Marco", lastName: "D'Angelo"))
        // Niccolò and Nicola share the consonants the code takes (N, C, L): the check cannot tell them apart.
        #expect(CustomerDetailsForm.namesFit(taxCode: FlowFixtures.niccoloTaxCode, firstName: "Nicola", lastName: "D'Angelo"))
    }

    @Test("a person's codice fiscale has 16 characters: a company's 11 digits are refused for a private customer")
    func personNeedsPersonalTaxCode() throws {
        let tunda = try TundaRegistration()
        var entered = TundaRegistration.validPerson
        entered["tax_code"] = FlowFixtures.timVat
        #expect(try #require(tunda.validate(entered).failureValue).codes(for: "tax_code") == ["invalid_tax_code"])
    }

    @Test("a valid private customer becomes a normalised record")
    func validPerson() throws {
        let tunda = try TundaRegistration()
        let draft = try tunda.validate(TundaRegistration.validPerson).get()
        #expect(draft.customerType == "private")
        let record = draft.customerRecord(customerCode: "TUN000042", createdAt: 1_790_000_000)
        #expect(record == CustomerRecord(
            customerType: "private", customerCode: "TUN000042", firstName: "Niccolò", lastName: "D'Angelo",
            taxCode: FlowFixtures.niccoloTaxCode, email: "niccolo.dangelo@example.it", phone: "0612345678",
            street: "Via Appia Nuova 12", postalCode: "00183", city: "Roma", province: "RM",
            administrativeStatus: "regular", invoiceDelivery: "email", paymentMethod: "bank_transfer", createdAt: 1_790_000_000))
        #expect(draft.billingAddress == nil)
    }

    @Test("a valid business becomes a normalised record with VAT digits, upper-case recipient code and mobile")
    func validBusiness() throws {
        let tunda = try TundaRegistration()
        let draft = try CustomerDetailsForm.validated(TundaRegistration.validBusiness, fields: tunda.fields,
                                                      optionalFields: tunda.optionalFields, type: tunda.businessType,
                                                      typeId: "business")
        let record = draft.customerRecord(customerCode: "TUN000043", createdAt: 7)
        #expect(record.customerType == "business")
        #expect(record.companyName == "Società Rossi S.r.l.")
        #expect(record.vatNumber == "00488410010" && record.taxCode == "00488410010")
        #expect(record.firstName == "Lucia" && record.lastName == "Bianchi")
        #expect(record.mobile == "3351234567" && record.phone == "0212345678")
        #expect(record.pec == "rossi-srl@pec.it" && record.recipientCode == "M5UXCR1")
        #expect(record.street == "Corso Buenos Aires 45" && record.postalCode == "20124" && record.province == "MI")
        #expect(record.administrativeStatus == "regular" && record.createdAt == 7)
    }

    @Test("a billing address is all or nothing, and kept in the draft")
    func billingAddress() throws {
        let tunda = try TundaRegistration()
        var partial = TundaRegistration.validPerson
        partial["billing_city"] = "Torino"
        let problems = try #require(tunda.validate(partial).failureValue)
        #expect(problems.fields == ["billing_street", "billing_postal_code", "billing_province"])
        #expect(problems.problems.allSatisfy { $0.code == "required" })
        var full = partial
        full["billing_street"] = "Via Roma 1"
        full["billing_postal_code"] = "10121"
        full["billing_province"] = "to"
        let draft = try tunda.validate(full).get()
        #expect(draft.billingAddress?.province == "TO" && draft.billingAddress?.city == "Torino")
    }

    @Test("the draft survives the flow state as JSON, its values a plain dictionary")
    func draftRoundTrip() throws {
        let tunda = try TundaRegistration()
        let draft = try tunda.validate(TundaRegistration.validBusiness, business: true).get()
        let values = try JSONDecoder().decode([String: String].self, from: JSONEncoder().encode(draft.values))
        #expect(CustomerRecordDraft(customerType: draft.customerType, values: values) == draft)
        #expect(try JSONDecoder().decode(CustomerRecordDraft.self, from: JSONEncoder().encode(draft)) == draft)
        #expect(draft.values["vat_number"] == "00488410010" && draft.values["billing_street"] == nil, "empty optional fields are left out")
    }

    @Test("IBAN, dates and a public body's six-character office code are checked and normalised")
    func otherFields() throws {
        let type = CustomerType(label: LocalizedText("PA"), kind: .publicBody, requiredFields: [], optionalFields: nil)
        let fields = ["names", "iban", "recipient_code", "legal_rep_birth_date"]
        let spacedIban = FlowFixtures.spaced(FlowFixtures.iban.lowercased())
        let good = ["company_name": "Comune di Prova", "iban": spacedIban, "recipient_code": "uf1234", "legal_rep_birth_date": "5/3/1970"]
        let draft = try CustomerDetailsForm.validate(good, fields: fields, optionalFields: [], type: type, typeId: "pa").get()
        #expect(draft["iban"] == FlowFixtures.iban && draft["recipient_code"] == "UF1234" && draft["legal_rep_birth_date"] == "1970-03-05")
        var badIban = Array(FlowFixtures.iban)
        badIban[26] = badIban[26] == "5" ? "6" : "5"
        let bad = ["company_name": "Comune di Prova", "iban": String(badIban), "recipient_code": "UF-123", "legal_rep_birth_date": "30/02/1970"]
        let problems = try #require(CustomerDetailsForm.validate(bad, fields: fields, optionalFields: [], type: type, typeId: "pa").failureValue)
        #expect(problems.problems.map(\.code) == ["invalid_iban", "invalid_recipient_code", "invalid_date"])
    }
}

extension Result {
    /// The error, when there is one.
    var failureValue: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
