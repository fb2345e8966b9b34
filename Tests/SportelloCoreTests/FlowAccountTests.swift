import Foundation
import Testing
@testable import SportelloCore

@Suite("Usernames")
struct UsernameRulesTests {
    @Test("the lookup key is trimmed and lower-cased unless the tenant is case-sensitive")
    func key() {
        #expect(UsernameRules.key(for: "  Mario.Rossi@Example.IT ", caseSensitive: false) == "mario.rossi@example.it")
        #expect(UsernameRules.key(for: "  Mario.Rossi ", caseSensitive: true) == "Mario.Rossi")
        #expect(UsernameRules.key(for: "ADMIN", caseSensitive: true) != UsernameRules.key(for: "admin", caseSensitive: true))
    }

    @Test("the key equals what the demo data store for every shipped tenant",
          arguments: ["unidata", "unogas", "tunda", "windtre", "tim"])
    func keyMatchesDemoData(tenant: String) throws {
        let definition = try Providers().definition(tenant)
        for username in ["demo.user_admin", "Demo.Telco-Manager", "private.main-account@tunda.example"] {
            // DemoData: `tenant.login.caseSensitive ? username : username.lowercased()`
            let stored = definition.login.caseSensitive ? username : username.lowercased()
            #expect(UsernameRules.key(for: username, caseSensitive: definition.login.caseSensitive) == stored)
        }
    }

    @Test("chosen usernames: letters, digits and . _ - @, 4 to 64 characters",
          arguments: ["mario.rossi", "m_rossi-85", "lucia@rossi", "ABCD", String(repeating: "a", count: 64), " padded "])
    func validChosen(username: String) {
        #expect(UsernameRules.validateChosen(username).isEmpty)
    }

    @Test("chosen usernames that are refused, with the reason",
          arguments: [
            ("", ["required"]), ("   ", ["required"]), ("abc", ["too_short"]), (String(repeating: "a", count: 65), ["too_long"]),
            ("mario rossi", ["contains_space"]), ("niccolò", ["invalid_characters"]), ("mario#1", ["invalid_characters"]),
            ("a b", ["too_short", "contains_space"]), ("ò !", ["too_short", "contains_space", "invalid_characters"]),
          ])
    func invalidChosen(username: String, codes: [String]) {
        let problems = UsernameRules.validateChosen(username)
        #expect(problems.map(\.code) == codes)
        #expect(problems.allSatisfy { $0.field == "username" })
    }

    @Test("e-mail addresses are required and checked, on the field given")
    func email() {
        #expect(UsernameRules.validateEmail(" mario.rossi@example.it ", field: "email").isEmpty)
        #expect(UsernameRules.validateEmail("", field: "username") == [FieldProblem(
            field: "username", code: "required", it: "Inserisci un indirizzo e-mail.", en: "Please enter an e-mail address.")])
        for bad in ["mario.rossi", "mario@rossi", "mario rossi@example.it", "@example.it", "mario@@example.it"] {
            #expect(UsernameRules.validateEmail(bad, field: "email").map(\.code) == ["invalid_email"], "\(bad)")
        }
    }
}

@Suite("Security answers")
struct SecurityAnswerTests {
    @Test("answers are compared trimmed, with single spaces, in lower case and without accents",
          arguments: [("  Roma ", "roma"), ("San   Donà di Piave", "san dona di piave"), ("L’Aquila", "l'aquila"),
                      ("ÉRCOLE", "ercole"), ("\tPerù\n", "peru")])
    func normalise(answer: String, expected: String) {
        #expect(SecurityAnswer.normalise(answer) == expected)
    }

    @Test("different answers stay different")
    func differentAnswers() {
        #expect(SecurityAnswer.normalise("Roma") != SecurityAnswer.normalise("Romania"))
        #expect(SecurityAnswer.normalise("Fido 2") != SecurityAnswer.normalise("Fido"))
    }

    @Test("a good question and answer, repeated with other case and spacing, pass")
    func valid() {
        #expect(SecurityAnswer.validate(question: "In che città sono nati i tuoi nonni?", answer: "Lecce", confirmation: " lecce ").isEmpty)
        #expect(SecurityAnswer.validate(question: "Il tuo colore preferito del cielo?", answer: "tramonto", confirmation: "Tramonto").isEmpty)
    }

    @Test("problems are collected on the question, the answer and its confirmation")
    func problems() {
        let all = SecurityAnswer.validate(question: "Chi?", answer: " a ", confirmation: "b")
        #expect(all.map(\.field) == ["security_question", "security_answer", "security_answer_confirmation"])
        #expect(all.map(\.code) == ["too_short", "too_short", "mismatch"])
        let mismatch = SecurityAnswer.validate(question: "Nome del primo animale?", answer: "Fido", confirmation: "Fuffi")
        #expect(mismatch.map(\.field) == ["security_answer_confirmation"] && mismatch.map(\.code) == ["mismatch"])
        let long = SecurityAnswer.validate(question: String(repeating: "Perché? ", count: 20), answer: "ok", confirmation: "ok")
        #expect(long.map(\.code) == ["too_long"])
        let empty = SecurityAnswer.validate(question: "", answer: "", confirmation: "")
        #expect(empty.map(\.code) == ["required", "required"])
        #expect(SecurityAnswer.validate(question: "Domanda?", answer: "Roma", confirmation: "").map(\.code) == ["required"])
    }

    @Test("the answer may not be written in the question")
    func answerInQuestion() {
        let problems = SecurityAnswer.validate(question: "Il mio cane si chiama Fido?", answer: "fido", confirmation: "fido")
        #expect(problems.map(\.code) == ["answer_in_question"])
    }
}

@Suite("Flow machine")
struct FlowMachineTests {
    /// Walks a flow from the first step to the end and lists the steps after which the account is completed.
    private func completionPoints(_ tenant: String, _ flowId: String) throws -> [StepKind] {
        let definition = try Providers().definition(tenant)
        let machine = FlowMachine(flowId: flowId, flow: try #require(definition.flows[flowId]))
        var progress = FlowProgress(flowId: flowId)
        var points: [StepKind] = []
        while let step = machine.step(progress) {
            if machine.completesAccount(after: progress) { points.append(step.step) }
            machine.advance(&progress)
        }
        #expect(machine.isFinished(progress))
        return points
    }

    @Test("the account is completed exactly once, at the last step that takes input",
          arguments: [("unidata", "invitation", StepKind.password), ("windtre", "user_admin_registration", .firstLoginCredentials),
                      ("unogas", "password_recovery", .password), ("windtre", "password_recovery", .controlCode),
                      ("unidata", "password_recovery", .password)])
    func completesOnce(tenant: String, flowId: String, last: StepKind) throws {
        #expect(try completionPoints(tenant, flowId) == [last])
    }

    @Test("confirmation and automatic login never complete the account again")
    func trailingStepsDoNotComplete() throws {
        let definition = try Providers().definition("unidata")
        let machine = FlowMachine(flowId: "invitation", flow: try #require(definition.flows["invitation"]))
        for kind in [StepKind.confirmation, .automaticLogin] {
            var progress = FlowProgress(flowId: "invitation")
            progress.stepIndex = try #require(machine.index(of: kind))
            #expect(!machine.completesAccount(after: progress))
        }
    }
}
