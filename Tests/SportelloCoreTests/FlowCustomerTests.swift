import Foundation
import Testing
@testable import SportelloCore

/// Realistic customers as a provider's records hold them (ISO dates, plain digits, upper-case codes).
enum FlowFixtures {
    static let timVat = "00488410010"
    static let otherVat = ItalianIdentifiers.makePartitaIVA(serial: 1_234_567, officeCode: 15)
    /// Niccolò D'Angelo, born in Roma on 5 March 1970.
    static let niccoloTaxCode = ItalianIdentifiers.makeCodiceFiscale(lastName: "D'Angelo", firstName: "Niccolò",
                                                                     birthDate: (1970, 3, 5), female: false, placeCode: "H501")
    /// Lucia Bianchi, born in Milano on 28 November 1985.
    static let luciaTaxCode = ItalianIdentifiers.makeCodiceFiscale(lastName: "Bianchi", firstName: "Lucia",
                                                                   birthDate: (1985, 11, 28), female: true, placeCode: "F205")
    static let iban = ItalianIdentifiers.makeItalianIBAN(abi: "03069", cab: "09606", account: "100000012345")

    static let person = CustomerRecord(
        customerType: "private", customerCode: "UNO100137", firstName: "Niccolò", lastName: "D'Angelo",
        taxCode: niccoloTaxCode, birthDate: "1970-03-05", email: "niccolo.dangelo@example.it", mobile: "3471234567",
        createdAt: 0)

    static let company = CustomerRecord(
        customerType: "business", customerCode: "UNO100274", companyName: "Società Rossi S.r.l.", taxCode: timVat,
        vatNumber: timVat, phone: "0212345678", legalRepFirstName: "Lucia", legalRepLastName: "Bianchi",
        legalRepBirthDate: "1985-11-28", legalRepTaxCode: luciaTaxCode, legalRepEmail: "lucia.bianchi@rossi-srl.it",
        legalRepMobile: "3351234567", createdAt: 0)

    static let unogasMatch = ["customer_code", "names", "tax_id"]
    static let windtreMatch = ["vat_number", "legal_rep_email", "legal_rep_mobile", "legal_rep_first_name",
                               "legal_rep_last_name", "legal_rep_birth_date", "legal_rep_tax_code"]
    static let timMatch = ["vat_number", "legal_rep_tax_code"]

    /// What a legal representative types for WINDTRE: other case, spacing, prefixes and date format than the record.
    static let windtreEntered = [
        "vat_number": "IT 00488410010", "legal_rep_email": "Lucia.Bianchi@Rossi-SRL.it ", "legal_rep_mobile": "+39 335 123 4567",
        "legal_rep_first_name": " LUCIA", "legal_rep_last_name": "bianchi", "legal_rep_birth_date": "28/11/1985",
        "legal_rep_tax_code": spaced(luciaTaxCode.lowercased()),
    ]

    /// A code as people copy it: in groups of four.
    static func spaced(_ code: String) -> String {
        stride(from: 0, to: code.count, by: 4).map { start in
            String(code.dropFirst(start).prefix(4))
        }.joined(separator: " ")
    }
}

@Suite("Customer matcher (verify customer)")
struct CustomerMatcherTests {
    typealias F = FlowFixtures

    @Test("the fixtures use valid Italian identifiers")
    func fixturesAreValid() {
        #expect(ItalianIdentifiers.isValidPartitaIVA(F.timVat))
        #expect(ItalianIdentifiers.isValidPartitaIVA(F.otherVat) && F.otherVat != F.timVat)
        #expect(ItalianIdentifiers.isValidCodiceFiscale(F.niccoloTaxCode) && ItalianIdentifiers.isValidCodiceFiscale(F.luciaTaxCode))
        #expect(ItalianIdentifiers.isValidIBAN(F.iban))
    }

    @Test("Unogas: a person matches with accents, apostrophes, case and spacing that differ from the bill")
    func unogasPerson() {
        let entered = ["customer_code": " uno100137", "first_name": "niccolo", "last_name": "D’ANGELO",
                       "tax_id": F.spaced(F.niccoloTaxCode.lowercased())]
        #expect(CustomerMatcher.matches(entered: entered, customer: F.person, kind: .person, match: F.unogasMatch))
        var company = entered
        company["company_name"] = "Niccolò D'Angelo"
        company["first_name"] = nil
        company["last_name"] = nil
        #expect(!CustomerMatcher.matches(entered: company, customer: F.person, kind: .person, match: F.unogasMatch),
                "a person is matched on first and last name, not on a company name")
    }

    @Test("Unogas: first name is compared with first name and last name with last name, not swapped")
    func namesAreNotSwapped() {
        let swapped = ["customer_code": "UNO100137", "first_name": "D'Angelo", "last_name": "Niccolò", "tax_id": F.niccoloTaxCode]
        #expect(!CustomerMatcher.matches(entered: swapped, customer: F.person, kind: .person, match: F.unogasMatch))
    }

    @Test("Unogas: a company matches on its name without accents or punctuation, and on its VAT number or tax code",
          arguments: ["IT00488410010", "it 004 884 100 10", "00488410010"])
    func unogasCompany(taxId: String) {
        let entered = ["customer_code": "UNO100274", "company_name": "  societa   rossi srl ", "tax_id": taxId]
        #expect(CustomerMatcher.matches(entered: entered, customer: F.company, kind: .business, match: F.unogasMatch))
        var onlyVat = F.company
        onlyVat.taxCode = nil
        #expect(CustomerMatcher.matches(entered: entered, customer: onlyVat, kind: .business, match: F.unogasMatch))
        var onlyTaxCode = F.company
        onlyTaxCode.vatNumber = nil
        #expect(CustomerMatcher.matches(entered: entered, customer: onlyTaxCode, kind: .publicBody, match: F.unogasMatch))
    }

    @Test("WINDTRE: all seven data of the legal representative match despite IT prefix, +39, case and dd/mm/yyyy")
    func windtre() {
        #expect(CustomerMatcher.matches(entered: F.windtreEntered, customer: F.company, kind: .business, match: F.windtreMatch))
    }

    @Test("dates match in every accepted format", arguments: ["28/11/1985", "28-11-1985", "1985-11-28", "28.11.1985", " 28/11/1985 "])
    func dateFormats(date: String) {
        var entered = F.windtreEntered
        entered["legal_rep_birth_date"] = date
        #expect(CustomerMatcher.matches(entered: entered, customer: F.company, kind: .business, match: F.windtreMatch))
        var single = F.windtreEntered
        single["legal_rep_birth_date"] = "5/3/1970"
        var record = F.company
        record.legalRepBirthDate = "1970-03-05"
        #expect(CustomerMatcher.matches(entered: single, customer: record, kind: .business, match: F.windtreMatch))
    }

    @Test("phones match with or without +39, 0039 and separators", arguments: ["3351234567", "+393351234567", "0039 335 1234567", "335-123.45.67"])
    func phoneFormats(mobile: String) {
        var entered = F.windtreEntered
        entered["legal_rep_mobile"] = mobile
        #expect(CustomerMatcher.matches(entered: entered, customer: F.company, kind: .business, match: F.windtreMatch))
    }

    @Test("WINDTRE: one wrong field is enough to refuse",
          arguments: [
            ("vat_number", FlowFixtures.otherVat), ("legal_rep_email", "lucia.bianchi@rossi-srl.com"),
            ("legal_rep_mobile", "+39 335 123 4568"), ("legal_rep_first_name", "Luciana"), ("legal_rep_last_name", "Bianco"),
            ("legal_rep_birth_date", "29/11/1985"), ("legal_rep_birth_date", "31/02/1985"), ("legal_rep_birth_date", "11/28/1985"),
            ("legal_rep_tax_code", FlowFixtures.niccoloTaxCode),
          ])
    func windtreSingleWrongField(field: String, value: String) {
        var entered = F.windtreEntered
        entered[field] = value
        #expect(!CustomerMatcher.matches(entered: entered, customer: F.company, kind: .business, match: F.windtreMatch))
    }

    @Test("an empty or missing value never matches, even when the record's value is missing too", arguments: FlowFixtures.windtreMatch)
    func emptyNeverMatches(field: String) {
        var empty = F.windtreEntered
        empty[field] = "   "
        #expect(!CustomerMatcher.matches(entered: empty, customer: F.company, kind: .business, match: F.windtreMatch))
        var missing = F.windtreEntered
        missing[field] = nil
        #expect(!CustomerMatcher.matches(entered: missing, customer: F.company, kind: .business, match: F.windtreMatch))
        let blank = CustomerRecord(customerType: "business", customerCode: "X", createdAt: 0)
        #expect(!CustomerMatcher.matches(entered: missing, customer: blank, kind: .business, match: F.windtreMatch))
        #expect(!CustomerMatcher.matches(entered: [:], customer: F.company, kind: .business, match: F.windtreMatch))
        #expect(!CustomerMatcher.matches(entered: F.windtreEntered, customer: F.company, kind: .business, match: []))
    }

    @Test("TIM: partita IVA and the legal representative's codice fiscale")
    func tim() {
        let entered = ["vat_number": "IT00488410010", "legal_rep_tax_code": F.luciaTaxCode.lowercased()]
        #expect(CustomerMatcher.matches(entered: entered, customer: F.company, kind: .business, match: F.timMatch))
        #expect(!CustomerMatcher.matches(entered: entered.merging(["vat_number": F.otherVat]) { $1 }, customer: F.company,
                                         kind: .business, match: F.timMatch))
        #expect(!CustomerMatcher.matches(entered: entered.merging(["legal_rep_tax_code": F.niccoloTaxCode]) { $1 },
                                         customer: F.company, kind: .business, match: F.timMatch))
    }

    @Test("the shipped verify_customer steps use fields the matcher compares")
    func shippedMatchLists() throws {
        let providers = try Providers()
        for (tenant, expected) in [("unogas", F.unogasMatch), ("windtre", F.windtreMatch), ("tim", F.timMatch)] {
            let steps = try providers.definition(tenant).flows.values.flatMap(\.steps).filter { $0.step == .verifyCustomer }
            #expect(steps.map(\.match) == [expected], "\(tenant)")
        }
    }

    @Test("Unogas inputs before the customer is known: the three name inputs, none required, with a note")
    func unogasInputsUnknownKind() {
        let inputs = CustomerMatcher.formFields(for: F.unogasMatch, optionalFields: ["phone"], kind: nil)
        #expect(inputs.map(\.name) == ["customer_code", "first_name", "last_name", "company_name", "tax_id", "phone"])
        #expect(inputs.map(\.required) == [true, false, false, false, true, false])
        #expect(inputs.first { $0.name == "company_name" }?.hint?.resolve("it").contains("ragione sociale") == true)
        let taxId = inputs.first { $0.name == "tax_id" }
        #expect(taxId?.label.resolve("it") == "Codice fiscale o partita IVA")
        #expect(taxId?.label.resolve("en") == "Tax code or VAT number")
        #expect(inputs.last?.type == "tel")
    }

    @Test("Unogas inputs for a known kind: first and last name for persons, company name otherwise")
    func unogasInputsKnownKind() {
        #expect(CustomerMatcher.formFields(for: F.unogasMatch, kind: .person).map(\.name) == ["customer_code", "first_name", "last_name", "tax_id"])
        #expect(CustomerMatcher.formFields(for: F.unogasMatch, kind: .person).allSatisfy { $0.required })
        #expect(CustomerMatcher.formFields(for: F.unogasMatch, kind: .business).map(\.name) == ["customer_code", "company_name", "tax_id"])
        #expect(CustomerMatcher.formFields(for: F.unogasMatch, kind: .publicBody).map(\.name) == ["customer_code", "company_name", "tax_id"])
    }

    @Test("WINDTRE inputs use e-mail, phone and date types and bilingual labels")
    func windtreInputs() {
        let inputs = CustomerMatcher.formFields(for: F.windtreMatch, kind: nil)
        #expect(inputs.map(\.name) == F.windtreMatch)
        #expect(inputs.map(\.type) == ["text", "email", "tel", "text", "text", "date", "text"])
        #expect(inputs.allSatisfy { $0.required && $0.label.translations["it"] != nil && $0.label.translations["en"] != nil })
        #expect(inputs[1].label.resolve("it").contains("legale rappresentante"))
    }

    @Test("the record is looked up by customer code, else partita IVA, else codice fiscale")
    func lookupField() {
        #expect(CustomerMatcher.lookupField(for: F.unogasMatch) == "customer_code")
        #expect(CustomerMatcher.lookupField(for: F.windtreMatch) == "vat_number")
        #expect(CustomerMatcher.lookupField(for: F.timMatch) == "vat_number")
        #expect(CustomerMatcher.lookupField(for: ["names", "tax_id"]) == "tax_id")
        #expect(CustomerMatcher.lookupField(for: ["tax_code", "email"]) == "tax_code")
    }

    @Test("the lookup value is normalised like the comparison")
    func lookupKey() {
        #expect(CustomerMatcher.lookupKey(entered: ["customer_code": " uno-100137 "], match: F.unogasMatch)! == ("customer_code", "UNO100137"))
        #expect(CustomerMatcher.lookupKey(entered: ["vat_number": "IT 00488410010"], match: F.timMatch)! == ("vat_number", F.timVat))
        #expect(CustomerMatcher.lookupKey(entered: ["tax_id": "it00488410010"], match: ["names", "tax_id"])! == ("tax_id", F.timVat))
        #expect(CustomerMatcher.lookupKey(entered: ["tax_id": F.spaced(F.luciaTaxCode.lowercased())], match: ["tax_id"])! == ("tax_id", F.luciaTaxCode))
        #expect(CustomerMatcher.lookupKey(entered: ["vat_number": "  "], match: F.timMatch) == nil)
        #expect(CustomerMatcher.lookupKey(entered: [:], match: F.timMatch) == nil)
    }

    @Test("the mismatch message is neutral and bilingual")
    func neutralMessage() {
        let it = CustomerMatcher.neutralMismatchMessage.resolve("it"), en = CustomerMatcher.neutralMismatchMessage.resolve("en")
        #expect(it == "I dati inseriti non corrispondono a un cliente. Controlla e riprova.")
        #expect(!en.isEmpty && en != it)
        for word in ["fiscale", "IVA", "nome", "codice", "e-mail", "data"] {
            #expect(!it.lowercased().contains(word.lowercased()), "\(word)")
        }
    }
}
