import Foundation
import Testing
@testable import SportelloCore

/// A policy written the way a tenant file would state it.
func passwordPolicy(min: Int, max: Int? = nil, require: [PasswordRequirement] = [], forbidPersonalData: Bool = false) -> PasswordPolicy {
    PasswordPolicy(minLength: min, maxLength: max, require: require, forbidPersonalData: forbidPersonalData, history: nil, maxAge: nil)
}

@Suite("Password policy evaluator")
struct PasswordPolicyEvaluatorTests {
    static let strict = PasswordPolicyEvaluator(policy: passwordPolicy(
        min: 10, max: 20, require: [.lowercase, .uppercase, .letter, .digit, .symbol], forbidPersonalData: true))
    static let lenient = PasswordPolicyEvaluator(policy: passwordPolicy(min: 1))

    static func codes(_ evaluation: PasswordEvaluation, field: String = "password") -> [String] {
        evaluation.problems.filter { $0.field == field }.map(\.code)
    }

    @Test("the page lists Tunda's rules before typing, with Italian and English labels")
    func requirementsOfTunda() throws {
        let policy = try Providers().definition("tunda").login.password
        let requirements = PasswordPolicyEvaluator(policy: policy).requirements()
        #expect(requirements.map(\.id) == ["min_length", "letter", "digit", "symbol"])
        #expect(requirements[0].label.resolve("it") == "Almeno 8 caratteri")
        #expect(requirements[0].label.resolve("en") == "At least 8 characters")
        #expect(requirements.allSatisfy { !$0.label.resolve("it").isEmpty && $0.label.resolve("it") != $0.label.resolve("en") })
    }

    @Test("a stated maximum and the personal-data rule are listed too, the telco policy's not-stated maximum is not")
    func requirementsWithMaximumAndPersonalData() throws {
        #expect(Self.strict.requirements().map(\.id)
                == ["min_length", "max_length", "lowercase", "uppercase", "letter", "digit", "symbol", "personal_data"])
        let windtre = try Providers().definition("windtre").login.password
        #expect(PasswordPolicyEvaluator(policy: windtre).requirements().map(\.id) == ["min_length", "letter", "digit", "personal_data"])
    }

    @Test("each missing character class is reported with its own code",
          arguments: [
            (PasswordRequirement.lowercase, "ABCDEFGH12!?"), (.uppercase, "abcdefgh12!?"), (.letter, "1234567890!?"),
            (.digit, "Abcdefghij!?"), (.symbol, "Abcdefghij12"),
          ])
    func missingClass(requirement: PasswordRequirement, password: String) {
        let evaluator = PasswordPolicyEvaluator(policy: passwordPolicy(min: 8, require: [requirement]))
        let evaluation = evaluator.evaluate(password, confirmation: nil, personalData: [])
        #expect(Self.codes(evaluation) == ["missing_\(requirement.rawValue)"])
        #expect(evaluation.requirements.map(\.id) == ["min_length", requirement.rawValue])
        #expect(evaluation.requirements.map(\.met) == [true, false])
        #expect(!evaluation.isAcceptable)
        // The same password with the class added is accepted.
        let fixed = password + ["lowercase": "x", "uppercase": "X", "letter": "x", "digit": "7", "symbol": "%"][requirement.rawValue]!
        #expect(evaluator.evaluate(fixed, confirmation: nil, personalData: []).isAcceptable)
    }

    @Test("a short password reports its length and every missing class at once")
    func tooShortCollectsEverything() {
        let evaluation = Self.strict.evaluate("abc", confirmation: nil, personalData: [])
        #expect(Self.codes(evaluation) == ["too_short", "missing_uppercase", "missing_digit", "missing_symbol"])
        let message = evaluation.problems[0].message
        #expect(message.resolve("it").contains("almeno 10 caratteri") && message.resolve("en").contains("at least 10 characters"))
    }

    @Test("too long: over the stated maximum, or over bcrypt's 72 bytes when the policy states none")
    func tooLong() {
        #expect(Self.codes(Self.strict.evaluate("Abcdefghij12!?Abcdefg", confirmation: nil, personalData: [])) == ["too_long"])
        #expect(Self.codes(Self.strict.evaluate("Abcdefghij12!?Abcdef", confirmation: nil, personalData: [])) == [])
        let noMaximum = PasswordPolicyEvaluator(policy: passwordPolicy(min: 8, require: [.letter, .digit]))
        #expect(Self.codes(noMaximum.evaluate(String(repeating: "a1", count: 32), confirmation: nil, personalData: [])) == [])
        #expect(Self.codes(noMaximum.evaluate(String(repeating: "a1", count: 33), confirmation: nil, personalData: [])) == ["too_long"])
        // 41 characters but 81 bytes: bcrypt would silently ignore the end.
        #expect(Self.codes(noMaximum.evaluate(String(repeating: "è", count: 40) + "1", confirmation: nil, personalData: [])) == ["too_long"])
    }

    @Test("an empty password is simply required, not a list of missing classes")
    func empty() {
        let evaluation = Self.strict.evaluate("", confirmation: nil, personalData: [])
        #expect(Self.codes(evaluation) == ["required"])
        #expect(evaluation.strength == 0)
    }

    @Test("personal data is refused regardless of case and accents, e-mails by their local part",
          arguments: [
            ("Rossi#2026abc", ["Mario", "Rossi"]), ("xxROSSIxx#2026a", ["Rossi"]), ("Nicolo#2026abc", ["Niccolò", "Nicolò"]),
            ("Bianchi#2026abc", ["m.bianchi@example.it"]), ("Mbianchi#2026a", ["m.bianchi@example.it"]),
            ("x#rssmra85t10a562sX", ["RSSMRA85T10A562S"]), ("Mario.Rossi#1", ["mario.rossi"]),
            ("Dangelo#2026ab", ["D'Angelo"]),
          ])
    func personalData(password: String, data: [String]) {
        let evaluation = Self.strict.evaluate(password, confirmation: nil, personalData: data)
        #expect(Self.codes(evaluation).contains("personal_data"), "\(password) vs \(data)")
        #expect(evaluation.requirements.first { $0.id == "personal_data" }?.met == false)
    }

    @Test("short personal data, data not in the password, and policies without the rule do not refuse")
    func personalDataAllowed() {
        #expect(!Self.codes(Self.strict.evaluate("Lighthouse#26", confirmation: nil, personalData: ["Li", "Yu", ""])).contains("personal_data"))
        #expect(Self.codes(Self.strict.evaluate("Lighthouse#26", confirmation: nil, personalData: ["Mario", "Rossi", "mario@rossi.it"])) == [])
        let allowing = PasswordPolicyEvaluator(policy: passwordPolicy(min: 8, require: [.letter, .digit]))
        #expect(allowing.evaluate("Rossi2026", confirmation: nil, personalData: ["Rossi"]).isAcceptable)
        #expect(!allowing.requirements().map(\.id).contains("personal_data"))
    }

    @Test("the confirmation must repeat the password exactly, and is checked only when given")
    func confirmation() {
        let password = "Lighthouse#26"
        let mismatch = Self.strict.evaluate(password, confirmation: "lighthouse#26", personalData: [])
        #expect(mismatch.problems.map(\.field) == ["password_confirmation"])
        #expect(mismatch.problems.map(\.code) == ["mismatch"])
        #expect(!mismatch.isAcceptable)
        #expect(Self.codes(Self.strict.evaluate(password, confirmation: "", personalData: []), field: "password_confirmation") == ["required"])
        #expect(Self.strict.evaluate(password, confirmation: password, personalData: []).isAcceptable)
        #expect(Self.strict.evaluate(password, confirmation: nil, personalData: []).isAcceptable)
    }

    @Test("strength grows from trivial to common to long and varied")
    func strengthOrdering() {
        let ladder = ["a", "password1", "girasole84", "Girasole-84", "Tr0ub4dor&3x!"]
        let scores = ladder.map { Self.lenient.evaluate($0, confirmation: nil, personalData: []).strength }
        #expect(scores == [0, 1, 2, 3, 4])
        #expect(PasswordPolicyEvaluator.strength(of: "mario1985") <= 2, "a name and a year")
        #expect(Self.lenient.evaluate("Sportello2026!", confirmation: nil, personalData: []).strength >= 3)
        #expect(PasswordPolicyEvaluator.strength(of: "correct horse battery staple") == 4)
    }

    @Test("common passwords score at most 1, also dressed up with capitals, digits and symbols",
          arguments: ["password", "12345678", "qwerty", "juventus", "napoli", "forzainter", "ciao1234", "Juventus1897!",
                      "P4ssw0rd!", "Forzainter2024", "NAPOLI!!", "iloveyou", "19851210", "Amoremio#1"])
    func commonPasswords(password: String) {
        #expect(PasswordPolicyEvaluator.isCommon(password))
        #expect(Self.lenient.evaluate(password, confirmation: nil, personalData: []).strength <= 1)
    }

    @Test("repeats, runs and repeated blocks score low", arguments: ["aaaaaaaaaaaa", "abcdefghijkl", "qwertyuiopas", "abcabcabcabc", "987654321zyx"])
    func predictable(password: String) {
        #expect(PasswordPolicyEvaluator.strength(of: password) <= 1, "\(PasswordPolicyEvaluator.strength(of: password))")
    }

    @Test("the bar stays low until the policy's rules are met")
    func strengthCappedUntilRequirementsMet() {
        let policy = PasswordPolicyEvaluator(policy: passwordPolicy(min: 8, require: [.letter, .digit]))
        let withoutDigit = policy.evaluate("Vespertilio-Giallo", confirmation: nil, personalData: [])
        #expect(withoutDigit.strength <= 1)
        #expect(PasswordPolicyEvaluator.strength(of: "Vespertilio-Giallo") >= 3)
        #expect(policy.evaluate("Vespertilio-Giallo7", confirmation: nil, personalData: []).strength >= 3)
        #expect(withoutDigit.strengthLabel.resolve("it") == "Debole" || withoutDigit.strengthLabel.resolve("it") == "Molto debole")
    }

    @Test("the demo password satisfies every shipped tenant's policy",
          arguments: ["unidata", "unogas", "tunda", "windtre", "tim"])
    func demoPassword(tenant: String) throws {
        let policy = try Providers().definition(tenant).login.password
        let evaluation = PasswordPolicyEvaluator(policy: policy)
            .evaluate("Sportello2026!", confirmation: "Sportello2026!", personalData: ["Mario", "Rossi", "mario.rossi@example.it"])
        #expect(evaluation.isAcceptable, "\(evaluation.problems.map(\.code))")
        #expect(evaluation.requirements.allSatisfy { $0.met })
    }

    @Test("every problem has an Italian and an English message")
    func bilingualMessages() {
        let evaluation = Self.strict.evaluate("mario", confirmation: "other", personalData: ["Mario"])
        #expect(evaluation.problems.count >= 5)
        for problem in evaluation.problems {
            let it = problem.message.translations["it"] ?? "", en = problem.message.translations["en"] ?? ""
            #expect(!it.isEmpty && !en.isEmpty && it != en, "\(problem.code)")
        }
    }

    @Test("the browser rules carry the policy as JSON")
    func clientRules() throws {
        let rules = Self.strict.clientRules()
        #expect(rules == PasswordClientRules(minLength: 10, maxLength: 20, require: ["lowercase", "uppercase", "letter", "digit", "symbol"],
                                             forbidPersonalData: true))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(PasswordPolicyEvaluator(policy: passwordPolicy(min: 6, require: [.letter, .digit])).clientRules()),
                          as: UTF8.self)
        #expect(json == #"{"forbidPersonalData":false,"maxLength":64,"minLength":6,"require":["letter","digit"]}"#)
    }
}
