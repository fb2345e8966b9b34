import Foundation
import Testing
@testable import SportelloCore

@Suite("Names refuse control, bidi and zero-width characters")
struct NameTextTests {
    @Test("NUL, C0/C1 controls, bidi overrides and isolates, zero-width characters are flagged", arguments: [
        "Ros\u{0}si", "Ros\u{1B}si", "Ros\u{7F}si", "Ros\u{85}si", "Ros\u{9B}si", "\u{202E}issoR", "Ros\u{202A}si", "Ros\u{2066}si",
        "Ros\u{2069}si", "Ros\u{200B}si", "Ros\u{200F}si", "Ros\u{FEFF}si", "Ros\u{2060}si", "Ros\tsi",
    ])
    func flagged(name: String) {
        #expect(NameText.hasForbiddenCharacters(name), "accepted \(name.debugDescription)")
        #expect(NameText.problem(field: "last_name", value: name)?.code == "invalid_characters")
    }

    @Test("ordinary Italian and foreign names pass")
    func ordinaryNames() {
        for name in ["Niccolò D'Angelo", "Società Rossi S.r.l.", "Müller-Lüdenscheidt", "José María", "O’Brien & Figli", "Zoë 李"] {
            #expect(NameText.problem(field: "first_name", value: name) == nil, "refused \(name)")
        }
    }

    @Test("the customer details form refuses a name with a NUL or a bidi override, next to the field, in both languages")
    func customerDetailsRefuse() throws {
        let tunda = try TundaRegistration()
        var entered = TundaRegistration.validPerson
        entered["first_name"] = "Nicco\u{0}lò"
        entered["city"] = "Ro\u{202E}ma"
        guard case .failure(let problems) = tunda.validate(entered) else {
            Issue.record("a name with a NUL was accepted")
            return
        }
        let byField = Dictionary(problems.problems.map { ($0.field, $0) }) { first, _ in first }
        #expect(byField["first_name"]?.code == "invalid_characters")
        #expect(byField["city"]?.code == "invalid_characters")
        #expect(byField["first_name"]?.message.resolve("it").contains("caratteri non ammessi") == true)
        #expect(byField["first_name"]?.message.resolve("en").contains("not allowed") == true)
    }
}
