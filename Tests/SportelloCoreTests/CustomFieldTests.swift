import Foundation
import Testing
@testable import SportelloCore

private let today = CalendarDay(year: 2026, month: 3, day: 15)

private func context(_ locale: String = "en", defaultLocale: String = "it") -> FieldContext {
    FieldContext(locale: locale, defaultLocale: defaultLocale, today: today)
}

private func label(_ it: String, _ en: String) -> LocalizedText { LocalizedText(translations: ["it": it, "en": en]) }

private func field(_ type: FieldType, _ validators: [FieldValidator] = [], scale: Int? = nil, required: Bool? = nil,
                   normalize: [FieldNormalization]? = nil, options: OrderedMap<LocalizedText>? = nil,
                   examples: [String]? = nil, generator: FieldGenerator? = nil) -> FieldDefinition {
    FieldDefinition(label: label("Campo", "Field"), type: type, scale: scale, options: options, required: required,
                    normalize: normalize, validators: validators, examples: examples, generator: generator)
}

/// The value `raw` validates to, or nil when it has problems.
private func value(_ definition: FieldDefinition, _ raw: String?) -> FieldValue? {
    guard case .success(let value) = definition.validate(raw, field: "f", in: context()) else { return nil }
    return value
}

/// The problem codes of `raw`, empty when it is valid.
private func codes(_ definition: FieldDefinition, _ raw: String?, locale: String = "en") -> [String] {
    guard case .failure(let problems) = definition.validate(raw, field: "f", in: context(locale)) else { return [] }
    return problems.problems.map(\.code)
}

private func messages(_ definition: FieldDefinition, _ raw: String?, locale: String, defaultLocale: String = "it") -> [String] {
    guard case .failure(let problems) = definition.validate(raw, field: "f", in: context(locale, defaultLocale: defaultLocale)) else { return [] }
    return problems.problems.map { $0.message.resolve(locale) }
}

/// A named check with real values it must accept (as typed, and as stored) and near misses it must refuse.
struct CheckCase: Sendable, CustomTestStringConvertible {
    var check: String
    var valid: [(typed: String, stored: String)]
    var nearMisses: [String]
    var testDescription: String { check }
}

@Suite("Custom fields: named checks, typed values, messages, demo values and definition errors")
struct CustomFieldTests {
    // MARK: Named checks

    static let checkCases: [CheckCase] = [
        CheckCase(check: "tax_code", valid: [("RSSMRA85T10A562S", "RSSMRA85T10A562S"), ("rssmra85t10a562s", "RSSMRA85T10A562S"),
                                             ("00488410010", "00488410010")],
                  nearMisses: ["RSSMRA85T10A562T", "RSSMRA85T10A562", "RSSMRA85T32A562S", "00488410011", "RSS-MRA85T10A562S"]),
        CheckCase(check: "personal_tax_code", valid: [("RSSMRA85T10A562S", "RSSMRA85T10A562S"), ("RSSMRA 85T10 A562S", "RSSMRA85T10A562S")],
                  nearMisses: ["RSSMRA85T10A562T", "00488410010"]),
        CheckCase(check: "vat_number", valid: [("00488410010", "00488410010"), ("IT 004 884 100 10", "00488410010"), ("07643520567", "07643520567")],
                  nearMisses: ["00488410011", "07643520568", "0048841001", "00000000000", "00488410010X"]),
        CheckCase(check: "iban", valid: [("IT60X0542811101000000123456", "IT60X0542811101000000123456"),
                                         ("it60 x054 2811 1010 0000 0123 456", "IT60X0542811101000000123456"),
                                         ("DE89370400440532013000", "DE89370400440532013000")],
                  nearMisses: ["IT61X0542811101000000123456", "IT60Y0542811101000000123456", "IT60X054281110100000012345", "DE89370400440532013001"]),
        CheckCase(check: "luhn", valid: [("4111111111111111", "4111111111111111"), ("4111-1111-1111-1111", "4111111111111111"), ("79927398713", "79927398713")],
                  nearMisses: ["4111111111111112", "79927398710", "7", "41111111111111a1"]),
        CheckCase(check: "imei", valid: [("490154203237518", "490154203237518"), ("49-015420-323751-8", "490154203237518")],
                  nearMisses: ["490154203237519", "49015420323751", "4901542032375180"]),
        CheckCase(check: "email", valid: [("Mario.Rossi@Example.it", "mario.rossi@example.it"), ("a+b@sub.example.com", "a+b@sub.example.com")],
                  nearMisses: ["mario.rossi@example", "mario rossi@example.it", "mario..rossi@example.it", "@example.it", "mario@-example.it"]),
        CheckCase(check: "pec", valid: [("Rossi-Srl@PEC.it", "rossi-srl@pec.it")], nearMisses: ["rossi-srl@pec", "rossi srl@pec.it"]),
        CheckCase(check: "italian_phone", valid: [("+39 06 1234 5678", "0612345678"), ("333 123 4567", "3331234567"), ("0039 02 1234567", "021234567")],
                  nearMisses: ["12345", "4331234567", "333 1234 56789", "06-ABC-123"]),
        CheckCase(check: "italian_mobile", valid: [("+39 333 1234567", "3331234567"), ("(335) 123.4567", "3351234567")],
                  nearMisses: ["02 1234567", "33312345", "+44 7700 900123"]),
        CheckCase(check: "italian_plate", valid: [("AB123CD", "AB123CD"), ("ab 123 cd", "AB123CD"), ("FG-456-HL", "FG456HL")],
                  nearMisses: ["AB123CO", "AI123CD", "AB12CD", "AB1234CD", "12ABC34", "AB123C"]),
        CheckCase(check: "postal_code", valid: [("20121", "20121"), ("00183", "00183")], nearMisses: ["00009", "2012", "201210", "2O121", "98169"]),
        CheckCase(check: "province", valid: [("MI", "MI"), ("rm", "RM")], nearMisses: ["M1", "MIL", "M"]),
        CheckCase(check: "recipient_code", valid: [("M5UXCR1", "M5UXCR1"), ("m5ux cr1", "M5UXCR1"), ("0000000", "0000000")],
                  nearMisses: ["M5UXCR", "M5UXCR12", "M5UX-CR1"]),
    ]

    @Test("each named check accepts real values, stores them normalised, and refuses near misses", arguments: checkCases)
    func namedCheck(_ testCase: CheckCase) throws {
        let check = try #require(FieldChecks.standard[testCase.check])
        let definition = field(.text, [FieldValidator(check: testCase.check)])
        for (typed, stored) in testCase.valid {
            #expect(check.check(typed), "\(testCase.check) refuses \(typed)")
            #expect(value(definition, typed) == .text(stored), "\(testCase.check): \(typed)")
        }
        for miss in testCase.nearMisses {
            #expect(!check.check(miss), "\(testCase.check) accepts \(miss)")
            #expect(codes(definition, miss) == ["invalid_\(testCase.check)"], "\(testCase.check): \(miss)")
        }
    }

    @Test func everyStandardCheckIsCoveredHasBothLanguagesAndMakesDemoValues() {
        #expect(Set(Self.checkCases.map(\.check)) == Set(FieldChecks.standard.names))
        for check in FieldChecks.standard.all {
            #expect(check.message.translations["it"]?.contains("{label}") == true, "\(check.name)")
            #expect(check.message.translations["en"]?.contains("{label}") == true, "\(check.name)")
            #expect(check.generate != nil, "\(check.name)")
            #expect(!check.summary.isEmpty)
        }
    }

    @Test func theRequestFormsIMEIRuleIsTheLibrarysCheck() {
        #expect(CheckDigits.isValidIMEI("490154203237518"))
        #expect(CheckDigits.isValidIMEI("49 015420 323751 8"))
        #expect(!CheckDigits.isValidIMEI("490154203237519"))
        #expect(CheckDigits.appendingLuhnDigit("49015420323751") == "490154203237518")
    }

    @Test func oneRegistrationAddsACheckAndALaterOneReplacesItsNamesake() throws {
        let meter = FieldCheck(name: "pod_code", summary: "Electricity POD: IT, three digits, E, eight digits.",
                               normalize: { $0.uppercased() }, message: label("«{label}»: POD non valido.", "“{label}”: not a POD."),
                               generate: { random in "IT001E" + String(Int.random(in: 10_000_000...99_999_999, using: &random)) },
                               accepts: { $0.count == 14 && $0.hasPrefix("IT") && $0.dropFirst(5).first == "E" })
        let checks = FieldChecks.standard.registering(meter)
        #expect(checks.names.last == "pod_code")
        #expect(checks.registering(meter).names.count == checks.names.count)
        let definition = field(.text, [FieldValidator(check: "pod_code")])
        let ok = definition.validate("it001e12345678", field: "pod", in: FieldContext(locale: "it", defaultLocale: "it", today: today, checks: checks))
        #expect(try ok.get() == .text("IT001E12345678"))
        let bad = definition.validate("IT001X12345678", field: "pod", in: FieldContext(locale: "it", defaultLocale: "it", today: today, checks: checks))
        #expect(bad == .failure(FieldProblems([FieldProblem(field: "pod", code: "invalid_pod_code", message: LocalizedText(translations: ["it": "«Campo»: POD non valido."]))])))

        let yaml = SchemaExport.exampleTenant + "customer_fields:\n  pod: {label: POD, type: text, validators: [{check: pod_code}]}\n"
        #expect(TenantLoader(capabilities: .portal, checks: checks).load(sources: [(file: "example.yaml", text: yaml)]).diagnostics.isEmpty)
        #expect(TenantLoader(capabilities: .portal).load(sources: [(file: "example.yaml", text: yaml)]).errors.map(\.code) == ["unknown-check"])
    }

    // MARK: Typed values

    @Test func decimalsKeepTheirScaleExactly() throws {
        let amount = field(.decimal, scale: 2)
        #expect(value(amount, "12.5") == .decimal(ScaledDecimal(units: 1250, scale: 2)))
        #expect(value(amount, "12,5")?.canonical == "12.50")
        #expect(value(amount, " 12.500 ")?.canonical == "12.50")
        #expect(value(amount, "-0.05") == .decimal(ScaledDecimal(units: -5, scale: 2)))
        #expect(value(amount, "+7")?.canonical == "7.00")
        #expect(value(amount, ".5")?.canonical == "0.50")
        #expect(codes(amount, "12.345") == ["too_many_decimals"])
        #expect(codes(amount, "1.234,50") == ["invalid_decimal"])
        #expect(codes(amount, "12.") == ["invalid_decimal"])
        #expect(codes(amount, "1e3") == ["invalid_decimal"])
        #expect(codes(amount, "1234567890123456789") == ["invalid_decimal"])
        #expect(field(.decimal).decimalScale == 2)

        let litres = field(.decimal, scale: 3)
        #expect(value(litres, "12.5") == .decimal(ScaledDecimal(units: 12500, scale: 3)))
        #expect(value(field(.decimal, scale: 0), "12")?.canonical == "12")
        #expect(codes(field(.decimal, scale: 0), "12.5") == ["too_many_decimals"])

        let stored = try #require(value(amount, "12,5"))
        #expect(amount.value(fromCanonical: stored.canonical) == stored)
        #expect(amount.display(stored, locale: "it") == "12,50")
        #expect(amount.display(stored, locale: "en") == "12.50")
        #expect(ScaledDecimal(units: 1250, scale: 2).decimal == Decimal(string: "12.5"))
    }

    @Test func everyTypeParsesAndStoresItsCanonicalForm() {
        #expect(value(field(.integer), " -42 ") == .integer(-42))
        #expect(codes(field(.integer), "4.2") == ["invalid_integer"])
        #expect(value(field(.date), "05/03/1980") == .date(CalendarDay(year: 1980, month: 3, day: 5)))
        #expect(value(field(.date), "1980-03-05")?.canonical == "1980-03-05")
        #expect(codes(field(.date), "31/02/2020") == ["invalid_date"])
        #expect(value(field(.boolean), "Sì") == .boolean(true))
        #expect(value(field(.boolean), "no")?.canonical == "false")
        #expect(codes(field(.boolean), "maybe") == ["invalid_boolean"])
        let use = field(.enumeration, options: OrderedMap([("private", label("Privato", "Private")), ("business", label("Aziendale", "Business"))]))
        #expect(value(use, "business") == .option("business"))
        #expect(value(use, "Aziendale") == .option("business"))
        #expect(value(use, "PRIVATE") == .option("private"))
        #expect(codes(use, "rental") == ["invalid_option"])
        #expect(use.display(.option("business"), locale: "en") == "Business")
        #expect(value(field(.email), " Mario.Rossi@Example.IT ") == .text("mario.rossi@example.it"))
        #expect(codes(field(.email), "mario.rossi") == ["invalid_email"])
        #expect(value(field(.phone), "+44 20 7946 0958") == .text("+442079460958"))
        #expect(value(field(.phone), "0044 20 7946 0958") == .text("+442079460958"))
        #expect(value(field(.phone, [FieldValidator(check: "italian_phone")]), "+39 333 1234567") == .text("3331234567"))
        #expect(codes(field(.phone), "call me") == ["invalid_phone"])
        #expect(value(field(.text), "  Via   Roma  1 ") == .text("Via Roma 1"))
        #expect(codes(field(.text), "Rossi\u{202E}") == ["invalid_characters"])
    }

    @Test func emptyIsNothingUnlessRequiredWhichHasItsOwnCode() {
        #expect(value(field(.text), nil) == nil)
        #expect(codes(field(.text), "   ") == [])
        #expect(codes(field(.text, required: true), "   ") == ["required"])
        #expect(codes(field(.decimal, required: true), nil) == ["required"])
        #expect(codes(field(.text, [FieldValidator(length: LengthBounds(min: 3))], required: true), "") == ["required"])
    }

    @Test func patternsMustMatchTheWholeNormalisedValue() {
        let code = field(.text, [FieldValidator(pattern: "[A-Z]{2}-[0-9]{4}")], normalize: [.uppercase])
        #expect(value(code, "ab-1234") == .text("AB-1234"))
        #expect(codes(code, "XAB-1234") == ["pattern_mismatch"])
        #expect(codes(code, "AB-12345") == ["pattern_mismatch"])
        #expect(value(field(.text, [FieldValidator(pattern: "a|ab")]), "ab") == .text("ab"))
        #expect(FieldValidator(pattern: "a)(b").compiledPattern == nil)
    }

    @Test func normalisationRunsBeforeEveryValidatorAndEveryFailingValidatorIsReported() {
        let plate = field(.text, [FieldValidator(check: "italian_plate"), FieldValidator(length: LengthBounds(max: 7))],
                          normalize: [.uppercase, .removeSeparators])
        #expect(value(plate, " ab-123.cd ") == .text("AB123CD"))
        #expect(codes(plate, "AB-1234-CDE") == ["invalid_italian_plate", "too_long"])
    }

    @Test func lengthsAndRangesReportWhichBoundFailed() {
        let code = field(.text, [FieldValidator(length: LengthBounds(min: 7, max: 7))])
        #expect(codes(code, "ABC") == ["too_short"])
        #expect(messages(code, "ABC", locale: "it") == ["«Campo» deve avere esattamente 7 caratteri."])
        let premium = field(.decimal, [FieldValidator(range: RangeBounds(min: "0.01", max: "9999.99"))], scale: 2)
        #expect(codes(premium, "0") == ["below_minimum"])
        #expect(codes(premium, "10000") == ["above_maximum"])
        #expect(messages(premium, "10000", locale: "it") == ["«Campo» può essere al massimo 9999,99."])
        #expect(messages(premium, "10000", locale: "en") == ["“Field” can be at most 9999.99."])
        #expect(value(premium, "9999.99") != nil)
    }

    @Test func dateRangesMayCountFromTheDayOfValidation() {
        let birth = field(.date, [FieldValidator(range: RangeBounds(min: "1900-01-01", max: "-18y"))])
        #expect(value(birth, "15/03/2008") == .date(CalendarDay(year: 2008, month: 3, day: 15)))
        #expect(codes(birth, "16/03/2008") == ["too_late"])
        #expect(messages(birth, "16/03/2008", locale: "it") == ["«Campo» non può essere dopo il 15/03/2008."])
        #expect(codes(birth, "31/12/1899") == ["too_early"])
        #expect(DateBound("+30d")?.resolve(today: today) == CalendarDay(year: 2026, month: 4, day: 14))
        #expect(DateBound("-6mo")?.resolve(today: today) == CalendarDay(year: 2025, month: 9, day: 15))
        #expect(DateBound("today")?.resolve(today: today) == today)
        #expect(DateBound("18y") == nil)
        #expect(DateBound("-3h") == nil)
    }

    // MARK: Messages

    @Test func messagesAreTheProvidersWordsInTheCustomersLanguageWhenGiven() {
        let own = LocalizedText(translations: ["it": "La targa «{label}» ha la forma AB123CD.", "en": "A plate looks like AB123CD."])
        let plate = FieldDefinition(label: label("Targa", "Plate"), type: .text,
                                    validators: [FieldValidator(check: "italian_plate", message: own)])
        #expect(messages(plate, "AB12", locale: "it") == ["La targa «Targa» ha la forma AB123CD."])
        #expect(messages(plate, "AB12", locale: "en") == ["A plate looks like AB123CD."])
        // No French from the provider nor the platform: the provider's words in the tenant's default language.
        #expect(messages(plate, "AB12", locale: "fr", defaultLocale: "it") == ["La targa «Targa» ha la forma AB123CD."])

        let italianOnly = FieldDefinition(label: label("Targa", "Plate"), type: .text,
                                          validators: [FieldValidator(check: "italian_plate", message: LocalizedText(translations: ["it": "Targa errata."]))])
        #expect(messages(italianOnly, "AB12", locale: "it") == ["Targa errata."])
        // The provider wrote no English: the platform's English message.
        #expect(messages(italianOnly, "AB12", locale: "en") == ["“Plate” is not a valid number plate: two letters, three digits, two letters, for example AB123CD."])

        let plain = FieldDefinition(label: label("Targa", "Plate"), type: .text,
                                    validators: [FieldValidator(check: "italian_plate", message: LocalizedText("Targa / plate?"))])
        #expect(messages(plain, "AB12", locale: "en") == ["Targa / plate?"])

        var required = field(.text, required: true)
        required.messages = OrderedMap([("required", LocalizedText(translations: ["it": "Serve la targa.", "en": "We need the plate."]))])
        #expect(messages(required, "", locale: "en") == ["We need the plate."])
        #expect(messages(field(.text, required: true), "", locale: "it") == ["Compila il campo «Campo»."])
        // A language neither the tenant nor the platform has, with an English default: English.
        #expect(messages(field(.text, required: true), "", locale: "de", defaultLocale: "en") == ["Please fill in “Field”."])
    }

    @Test func problemsCarryTheFieldIdAndOneMessageInTheRequestedLanguage() throws {
        guard case .failure(let problems) = field(.integer).validate("x", field: "kw", in: context("it")) else {
            Issue.record("no problem")
            return
        }
        let problem = try #require(problems.problems.first)
        #expect(problem.field == "kw")
        #expect(problem.message.translations == ["it": "«Campo» deve essere un numero intero, ad esempio 42."])
    }

    @Test func aWholeSetOfFieldsIsValidatedAtOnce() {
        let fields = OrderedMap([("plate", field(.text, [FieldValidator(check: "italian_plate")], required: true)),
                                 ("power", field(.integer)), ("note", field(.text))])
        #expect(fields.validate(["plate": "ab123cd", "power": "90"], in: context()) == .success(["plate": .text("AB123CD"), "power": .integer(90)]))
        guard case .failure(let problems) = fields.validate(["power": "x"], in: context()) else { Issue.record("no problems"); return }
        #expect(problems.fields == ["plate", "power"])
    }

    // MARK: Demo values

    @Test("generated values pass their own field's validation for every check and type, over many seeds")
    func generatedValuesPass() throws {
        var definitions: [(String, FieldDefinition)] = FieldChecks.standard.all.map { check in
            (check.name, field(check.types.contains(.text) ? .text : .email, [FieldValidator(check: check.name)]))
        }
        definitions += [
            ("text", field(.text)),
            ("text with length", field(.text, [FieldValidator(length: LengthBounds(min: 3, max: 5))])),
            ("long text", field(.text, [FieldValidator(length: LengthBounds(min: 40))])),
            ("integer", field(.integer)),
            ("integer in range", field(.integer, [FieldValidator(range: RangeBounds(min: "-5", max: "5"))])),
            ("integer above", field(.integer, [FieldValidator(range: RangeBounds(min: "1000000"))])),
            ("decimal", field(.decimal, scale: 3)),
            ("decimal in range", field(.decimal, [FieldValidator(range: RangeBounds(min: "0.01", max: "0.09"))], scale: 2)),
            ("decimal below", field(.decimal, [FieldValidator(range: RangeBounds(max: "-100.5"))], scale: 1)),
            ("date", field(.date)),
            ("adult", field(.date, [FieldValidator(range: RangeBounds(min: "-100y", max: "-18y"))])),
            ("future", field(.date, [FieldValidator(range: RangeBounds(min: "+1d"))])),
            ("past", field(.date, [FieldValidator(range: RangeBounds(min: "2001-01-01"))])),
            ("boolean", field(.boolean)),
            ("enum", field(.enumeration, options: OrderedMap([("a", LocalizedText("A")), ("b", LocalizedText("B"))]))),
            ("email", field(.email)),
            ("phone", field(.phone)),
            ("template", field(.text, [FieldValidator(pattern: "POL-[0-9]{8}")], generator: FieldGenerator(template: "POL-########"))),
            ("generator check", field(.text, [FieldValidator(pattern: "[0-9]{16}")], generator: FieldGenerator(check: "luhn"))),
            ("examples", field(.text, [FieldValidator(pattern: "[A-Z]{3}")], normalize: [.uppercase], examples: ["abc", "XYZ"])),
        ]
        for (name, definition) in definitions {
            var seen = Set<FieldValue>()
            for seed in UInt64(0)..<200 {
                var random = SplitMix64(seed: seed)
                let generated = try #require(definition.demoValue(today: today, random: &random), "\(name), seed \(seed)")
                #expect(value(definition, generated.canonical) == generated, "\(name): \(generated)")
                seen.insert(generated)
            }
            #expect(seen.count > 1, "\(name) always makes the same value")
        }
        // Examples are used as they validate (the lower-case one normalised would fail the pattern).
        var random = SplitMix64(seed: 1)
        #expect(field(.text, [FieldValidator(pattern: "[A-Z]{3}")], examples: ["abc", "XYZ"]).demoValue(today: today, random: &random) == .text("XYZ"))
        // Nothing to make a value from: nil.
        #expect(field(.text, [FieldValidator(pattern: "[A-Z]{3}")]).demoValue(today: today, random: &random) == nil)
        // The same seed gives the same value.
        var first = SplitMix64(seed: 42), second = SplitMix64(seed: 42)
        #expect(FieldDefinition(label: LocalizedText("CF"), type: .text, validators: [FieldValidator(check: "tax_code")]).demoValue(today: today, random: &first)
            == FieldDefinition(label: LocalizedText("CF"), type: .text, validators: [FieldValidator(check: "tax_code")]).demoValue(today: today, random: &second))
    }

    @Test func templatesMakeDigitsLettersAndEscapedCharacters() {
        var random = SplitMix64(seed: 7)
        let made = FieldGenerator.expand("A\\#-#@*", random: &random)
        #expect(made.count == 6)
        #expect(made.hasPrefix("A#-"))
        let tail = Array(made.dropFirst(3))
        #expect(tail[0].isNumber && tail[1].isUppercase && (tail[2].isUppercase || tail[2].isNumber))
    }

    // MARK: The definition language

    @Test func customFieldsLoadAndWorkWhereCatalogueFieldsDo() throws {
        let yaml = SchemaExport.exampleTenant
            .replacingOccurrences(of: "required_fields: [first_name, last_name, tax_code]}", with: "required_fields: [first_name, last_name, tax_code, plate], optional_fields: [use]}")
            + """
            customer_fields:
              plate:
                label: {it: Targa, en: Number plate}
                type: text
                required: true
                normalize: [uppercase, remove_separators]
                placeholder: AB123CD
                help: {it: Come sul libretto., en: As on the registration document.}
                validators:
                  - check: italian_plate
                    message: {it: "La targa ha la forma AB123CD.", en: "A plate looks like AB123CD."}
                examples: [AB123CD, "fg 456 hl"]
              use:
                label: {it: Uso, en: Use}
                type: enum
                options: {private: {it: Privato, en: Private}, business: {it: Aziendale, en: Business}}
              premium:
                label: {it: Premio annuo, en: Annual premium}
                type: decimal
                scale: 2
                validators: [{range: {min: 0.01, max: 99999.99}}]
                messages: {too_many_decimals: {it: Al massimo due decimali., en: At most two decimals.}}
              policy_number:
                label: {it: Numero di polizza, en: Policy number}
                type: text
                validators: [{pattern: 'POL-[0-9]{8}'}]
                generator: {template: "POL-########"}
            user_fields:
              employee_number: {label: {it: Matricola, en: Employee number}, type: integer, validators: [{range: {min: 1}}]}
            field_policies:
              immutable: [plate, tax_code]

            """
        let result = load(yaml, file: "example.yaml")
        #expect(result.diagnostics.map(\.description) == [])
        let definition = try #require(result.tenants.first?.definition)
        let fields = try #require(definition.customerFields)
        #expect(fields.keys == ["plate", "use", "premium", "policy_number"])
        #expect(definition.customerFieldNames.suffix(4) == ["plate", "use", "premium", "policy_number"])
        #expect(definition.userFields?["employee_number"]?.type == .integer)
        let plate = try #require(fields["plate"])
        #expect(plate.validate("fg-456-hl", field: "plate", in: context("it")) == .success(.text("FG456HL")))
        #expect(messages(plate, "FG456", locale: "it") == ["La targa ha la forma AB123CD."])
        #expect(plate.placeholder?.resolve("it") == "AB123CD")
        let premium = try #require(fields["premium"])
        #expect(try premium.validate("12,5", field: "premium", in: context()).get() == .decimal(ScaledDecimal(units: 1250, scale: 2)))
        #expect(messages(premium, "12.505", locale: "en") == ["At most two decimals."])
        var random = SplitMix64(seed: 3)
        let policy = try #require(fields["policy_number"]?.demoValue(today: today, random: &random))
        #expect(policy.canonical.hasPrefix("POL-") && policy.canonical.count == 12)
    }

    @Test func theReferenceExamplesOfTheNewKeysLoadCleanly() throws {
        let properties = TenantSchema.tenantProperties(.portal)
        let customer = try #require(properties.first { $0.key == "customer_fields" }?.example)
        let user = try #require(properties.first { $0.key == "user_fields" }?.example)
        let validators = try #require(TenantSchema.field.property("validators")?.example)
        let options = try #require(TenantSchema.field.property("options")?.example)
        let yaml = SchemaExport.exampleTenant + "customer_fields: \(customer)\nuser_fields: \(user)\n"
        #expect(load(yaml, file: "example.yaml").diagnostics.map(\.description) == [])
        let more = SchemaExport.exampleTenant + "customer_fields:\n  plate: {label: Targa, type: text, validators: \(validators)}\n  use: {label: Uso, type: enum, options: \(options)}\n"
        #expect(load(more, file: "example.yaml").diagnostics.map(\.description) == [])
    }

    @Test func theRepositorysTenantsStillLoadWithoutFieldDiagnostics() throws {
        let result = try loadRepositoryTenants()
        #expect(result.errors.isEmpty)
        let fieldCodes: Set<String> = ["unknown-check", "invalid-pattern", "invalid-example", "reserved-field", "impossible-range",
                                       "invalid-validator", "missing-translation", "no-demo-values", "unknown-problem-code", "invalid-generator"]
        #expect(result.diagnostics.filter { fieldCodes.contains($0.code) }.isEmpty)
        #expect(result.tenants.count == 6)
    }
}

// MARK: - Located errors

/// A broken field definition appended to the example tenant, and the one diagnostic it must produce.
struct BrokenFieldCase: Sendable, CustomTestStringConvertible {
    var name: String
    var yaml: String
    var severity: Diagnostic.Severity
    var code: String
    /// Text whose first occurrence after `customer_fields:`/`user_fields:` starts where the diagnostic must point.
    var at: String
    /// How far into `at` the diagnostic points (a value after its key, for example).
    var offset: Int
    var message: String
    var hint: String?
    var testDescription: String { name }

    init(_ name: String, _ yaml: String, _ code: String, at: String, offset: Int = 0, _ message: String, hint: String? = nil,
         severity: Diagnostic.Severity = .error) {
        self.name = name
        self.yaml = yaml
        self.severity = severity
        self.code = code
        self.at = at
        self.offset = offset
        self.message = message
        self.hint = hint
    }

    /// The example tenant with this case's fields appended.
    var source: String { SchemaExport.exampleTenant + yaml }

    /// `example.yaml:LINE:COLUMN` of `at` (searched after the appended block's start) plus `offset`.
    var expectedLocation: String? {
        let text = source
        let start = text.range(of: SchemaExport.exampleTenant)!.upperBound
        guard let found = text.range(of: at, range: start..<text.endIndex) else { return nil }
        let before = text[..<found.lowerBound]
        let line = before.filter { $0 == "\n" }.count + 1
        let column = before.distance(from: before.lastIndex(of: "\n").map { before.index(after: $0) } ?? before.startIndex, to: before.endIndex) + 1
        return "example.yaml:\(line):\(column + offset)"
    }
}

@Suite("Custom fields: every mistake in a field definition is a located diagnostic")
struct BrokenFieldDefinitionTests {
    static let cases: [BrokenFieldCase] = [
        BrokenFieldCase("unknown check, named by its Italian alias", """
            customer_fields:
              piva: {label: P.IVA, type: text, validators: [{check: partita_iva}]}

            """, "unknown-check", at: "partita_iva", "'partita_iva' is not a known check", hint: "did you mean 'vat_number'?"),
        BrokenFieldCase("misspelt check", """
            customer_fields:
              plate: {label: Targa, type: text, validators: [{check: italian_plates}]}

            """, "unknown-check", at: "italian_plates", "'italian_plates' is not a known check", hint: "did you mean 'italian_plate'?"),
        BrokenFieldCase("pattern that does not compile", """
            customer_fields:
              policy:
                label: Polizza
                type: text
                validators:
                  - pattern: '[A-Z{2}-[0-9]{8}'

            """, "invalid-pattern", at: "'[A-Z{2}", "pattern '[A-Z{2}-[0-9]{8}' of field 'policy' is not a valid regular expression",
            hint: "it opens 2 '[' but closes 1 ']'"),
        BrokenFieldCase("example failing its field's check", """
            customer_fields:
              plate:
                label: Targa
                type: text
                validators: [{check: italian_plate}]
                examples: [AB123CD, AB12CD]

            """, "invalid-example", at: "AB12CD",
            "example 'AB12CD' of field 'plate' fails validator 1 (check: italian_plate): “Targa” is not a valid number plate: two letters, three digits, two letters, for example AB123CD.",
            hint: "correct the example or the validator"),
        BrokenFieldCase("example failing its field's type", """
            customer_fields:
              premium: {label: Premio, type: decimal, scale: 2, examples: ["12.505"]}

            """, "invalid-example", at: "\"12.505\"", "example '12.505' of field 'premium' is not valid: “Premio” can have at most 2 decimal places.",
            hint: "correct the example"),
        BrokenFieldCase("enum without options", """
            customer_fields:
              use: {label: Uso, type: enum}

            """, "missing-key", at: "use:", "enum field 'use' needs 'options'", hint: "for example options: {car: Auto, motorbike: Moto}"),
        BrokenFieldCase("scale on an integer", """
            customer_fields:
              power: {label: Potenza, type: integer, scale: 2}

            """, "invalid-option", at: "scale", "scale applies only to decimal fields, and 'power' is integer"),
        BrokenFieldCase("length whose min is above its max", """
            customer_fields:
              code:
                label: Codice
                type: text
                validators:
                  - length: {min: 8, max: 7}

            """, "impossible-range", at: "min: 8", offset: 5, "length of field 'code' needs at least 8 characters but allows at most 7"),
        BrokenFieldCase("range whose min is above its max", """
            customer_fields:
              premium:
                label: Premio
                type: decimal
                validators:
                  - range: {min: 100, max: 10.5}

            """, "impossible-range", at: "min: 100", offset: 5, "range of field 'premium' starts at 100, after its end 10.5"),
        BrokenFieldCase("relative date range that ends before it starts", """
            customer_fields:
              birth:
                label: Nascita
                type: date
                validators: [{range: {min: -18y, max: -100y}}]

            """, "impossible-range", at: "-18y", "range of field 'birth' starts at -18y, after its end -100y"),
        BrokenFieldCase("range on a text field", """
            customer_fields:
              code:
                label: Codice
                type: text
                validators: [{range: {min: 1}}]

            """, "invalid-option", at: "range", "range applies only to integer, decimal and date fields, and 'code' is text",
            hint: "limit the number of characters with length: {min, max}"),
        BrokenFieldCase("range bound that is not a value of the type", """
            customer_fields:
              premium: {label: Premio, type: decimal, validators: [{range: {min: 0.001}}]}

            """, "invalid-value", at: "0.001", "range min '0.001' of field 'premium' is not a number with at most 2 decimal places",
            hint: "the field's scale is 2: raise it or round the bound"),
        BrokenFieldCase("undirected relative date", """
            customer_fields:
              birth: {label: Nascita, type: date, validators: [{range: {max: 18y}}]}

            """, "invalid-value", at: "18y", "range max '18y' of field 'birth' is not a date (yyyy-mm-dd) or a distance from today such as today, -18y or +30d",
            hint: "give the direction: -18y (past) or +18y (future)"),
        BrokenFieldCase("two rules in one validator entry", """
            customer_fields:
              code:
                label: Codice
                type: text
                validators:
                  - pattern: '[0-9]+'
                    length: {max: 5}

            """, "invalid-validator", at: "length", "validator 1 of field 'code' has both 'pattern' and 'length'",
            hint: "write one rule per entry, each on its own '- ' line"),
        BrokenFieldCase("validator with only a message", """
            customer_fields:
              code: {label: Codice, type: text, validators: [{message: Sbagliato}]}

            """, "invalid-validator", at: "{message", "validator 1 of field 'code' states no rule", hint: "write one of pattern, length, range or check"),
        BrokenFieldCase("check on a type it does not apply to", """
            customer_fields:
              power: {label: Potenza, type: integer, validators: [{check: iban}]}

            """, "invalid-option", at: "iban", "check 'iban' applies to text fields, and 'power' is integer"),
        BrokenFieldCase("custom customer field named like a catalogue field", """
            customer_fields:
              tax_code: {label: Codice fiscale, type: text}

            """, "reserved-field", at: "tax_code", "'tax_code' is a platform customer field: a custom field cannot take its name",
            hint: "name 'tax_code' directly in customer types and steps, or give your field another id"),
        BrokenFieldCase("custom customer field named like an address input", """
            customer_fields:
              city: {label: Città, type: text}

            """, "reserved-field", at: "city", "'city' is a platform customer field: a custom field cannot take its name",
            hint: "give your field another id"),
        BrokenFieldCase("custom user field named like a user property", """
            user_fields:
              username: {label: Utente, type: text}

            """, "reserved-field", at: "username", "'username' is a platform user field: a custom field cannot take its name",
            hint: "give your field another id"),
        BrokenFieldCase("field id with a dot", """
            customer_fields:
              vehicle.plate: {label: Targa, type: text}

            """, "invalid-id", at: "vehicle.plate", "field id 'vehicle.plate' may hold only lowercase letters, digits and '_'",
            hint: "for example 'vehicle_plate'"),
        BrokenFieldCase("custom message missing one of the tenant's languages", """
            customer_fields:
              plate:
                label: Targa
                type: text
                validators:
                  - check: italian_plate
                    message: {it: Targa non valida.}

            """, "missing-translation", at: "message", "message of validator 1 of field 'plate' has no text in en",
            hint: "customers using en see the platform's message instead; add en: …", severity: .warning),
        BrokenFieldCase("message for a problem the field cannot have", """
            customer_fields:
              plate:
                label: Targa
                type: text
                messages: {invalid_dat: Data sbagliata}

            """, "unknown-problem-code", at: "invalid_dat", "'invalid_dat' is not a problem field 'plate' can have", hint: "did you mean 'invalid_date'?"),
        BrokenFieldCase("pattern with nothing demo data can make", """
            customer_fields:
              policy: {label: Polizza, type: text, validators: [{pattern: 'POL-[0-9]{8}'}]}

            """, "no-demo-values", at: "policy", "demo data cannot make a value of field 'policy' that passes its validators",
            hint: "add examples: [...] or generator: {template: \"…\"}", severity: .warning),
        BrokenFieldCase("generator naming an unknown check", """
            customer_fields:
              card: {label: Carta, type: text, generator: {check: lunh}}

            """, "unknown-check", at: "lunh", "'lunh' is not a known check", hint: "did you mean 'luhn'?"),
    ]

    @Test("broken field definition", arguments: cases)
    func brokenField(_ broken: BrokenFieldCase) throws {
        let result = TenantLoader(capabilities: .portal).load(sources: [(file: "example.yaml", text: broken.source)])
        let location = try #require(broken.expectedLocation, "'\(broken.at)' is not in the case's YAML")
        let text = "\(location): \(broken.severity.rawValue): \(broken.message)" + (broken.hint.map { " (\($0))" } ?? "")
        #expect(result.diagnostics.map(\.description) == [text])
        #expect(result.diagnostics.map(\.code) == [broken.code])
        #expect(result.hasErrors == (broken.severity == .error))
    }

    @Test func aFileWithSeveralBrokenFieldsReportsThemAllInFileOrder() {
        let yaml = SchemaExport.exampleTenant + """
            customer_fields:
              piva: {label: P.IVA, type: text, validators: [{check: partita_iva}]}
              policy: {label: Polizza, type: text, validators: [{pattern: '(POL'}], examples: [POL1]}
              use: {label: Uso, type: enum}
              power: {label: Potenza, type: integer, scale: 2, validators: [{range: {min: 10, max: 1}}]}

            """
        let result = TenantLoader(capabilities: .portal).load(sources: [(file: "example.yaml", text: yaml)])
        #expect(result.diagnostics.map(\.code) == ["unknown-check", "invalid-pattern", "missing-key", "invalid-option", "impossible-range"])
        #expect(result.diagnostics.map(\.location.line) == result.diagnostics.map(\.location.line).sorted())
    }

    @Test func aCustomerTypeOrStepNamingAMisspeltCustomFieldGetsADidYouMean() {
        let yaml = SchemaExport.exampleTenant
            .replacingOccurrences(of: "required_fields: [first_name, last_name, tax_code]}", with: "required_fields: [first_name, last_name, tax_code, plat]}")
            + "customer_fields:\n  plate: {label: Targa, type: text, examples: [AB123CD]}\n"
        let result = TenantLoader(capabilities: .portal).load(sources: [(file: "example.yaml", text: yaml)])
        #expect(result.diagnostics.map(\.description) == ["example.yaml:8:113: error: field 'plat' is not a known field (did you mean 'plate'?)"])
    }
}

