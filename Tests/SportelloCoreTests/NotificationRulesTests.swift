import Foundation
import Testing
@testable import SportelloCore

/// The notification rules of the tenants' YAML: the pure evaluator (event + rules + the customer's users → messages)
/// and the validation of the rule keys, located in the file.
@Suite("Notification rules: evaluator and validation")
struct NotificationRulesTests {
    static func user(_ id: Int64, email: String?, admin: Bool = false, rules: Set<String>, choices: [String: [Channel: Bool]] = [:]) -> NotificationUser {
        NotificationUser(id: id, email: email, isAdministrator: admin, grantedRules: rules, choices: choices)
    }

    static func crossing(level: Int64, ruleLevel: Bool = true, userIds: [String] = [], rule: String = "giga_share_threshold") -> NotificationEvent {
        NotificationEvent(id: 41, type: "usage.threshold_crossed", customerId: 7, subjectKind: "share_plan", subjectId: 3, actorUserId: nil, facts: [
            "rule": .text(rule), "level": .number(level), "rule_level": .flag(ruleLevel), "user_ids": .list(userIds),
            "code": .text("GSS-9"), "referent_phone": .text("3331112222"), "share_plan_id": .number(3),
        ])
    }

    @Test("WINDTRE Giga Share 80 %: one SMS to the package referent, in Italian, with the facts filled in")
    func gigaShareReferent() throws {
        let windtre = try provider("windtre")
        let audience = NotificationAudience(users: [Self.user(1, email: "admin@example.it", admin: true, rules: ["giga_share_threshold"])])
        let messages = NotificationEvaluator.evaluate(Self.crossing(level: 80), tenant: windtre, audience: audience)
        #expect(messages.count == 1)
        let sms = try #require(messages.first)
        #expect(sms.channel == .sms && sms.address == "3331112222" && sms.userId == nil && sms.rule == "giga_share_threshold")
        #expect(sms.text == "WINDTRE: il pacchetto Giga Share GSS-9 ha raggiunto il 80% dei Giga del mese.")
        #expect(sms.locale == "it")
    }

    @Test("the customer switched the channel off (every user allowed the rule): nothing goes to numbers on the record")
    func customerSwitchedOff() throws {
        let windtre = try provider("windtre")
        let off = ["giga_share_threshold": [Channel.sms: false]]
        let audience = NotificationAudience(users: [Self.user(1, email: "a@example.it", rules: ["giga_share_threshold"], choices: off),
                                                    Self.user(2, email: "b@example.it", rules: ["giga_share_threshold"], choices: off)])
        #expect(NotificationEvaluator.evaluate(Self.crossing(level: 80), tenant: windtre, audience: audience).isEmpty)
        // One user keeping it on is enough; a user whose role does not grant the rule does not count.
        let mixed = NotificationAudience(users: [Self.user(1, email: "a@example.it", rules: ["giga_share_threshold"], choices: off),
                                                 Self.user(2, email: "b@example.it", rules: [])])
        #expect(NotificationEvaluator.evaluate(Self.crossing(level: 80), tenant: windtre, audience: mixed).isEmpty)
        let on = NotificationAudience(users: [Self.user(1, email: "a@example.it", rules: ["giga_share_threshold"], choices: off),
                                              Self.user(2, email: "b@example.it", rules: ["giga_share_threshold"])])
        #expect(NotificationEvaluator.evaluate(Self.crossing(level: 80), tenant: windtre, audience: on).count == 1)
    }

    @Test("conditions: another rule's crossing and a user's personal level do not trigger the package referent's SMS")
    func conditions() throws {
        let windtre = try provider("windtre")
        let audience = NotificationAudience(users: [Self.user(1, email: "a@example.it", rules: ["giga_share_threshold", "roaming_data_threshold"])])
        #expect(NotificationEvaluator.evaluate(Self.crossing(level: 50, ruleLevel: false, userIds: ["1"]), tenant: windtre, audience: audience).isEmpty)
        let roaming = NotificationEvaluator.evaluate(Self.crossing(level: 90, rule: "roaming_data_threshold"), tenant: windtre, audience: audience)
        #expect(roaming.isEmpty, "roaming rule: level 90 is not 80|100, and giga share's condition names another rule")
        var event = Self.crossing(level: 100, rule: "roaming_data_threshold")
        event.facts["unlock"] = .number(2)
        event.facts["line_phone"] = .text("3339998888")
        let six = NotificationEvaluator.evaluate(event, tenant: windtre, audience: audience)
        #expect(Set(six.map(\.address)) == ["3331112222", "3339998888"] && six.allSatisfy { $0.channel == .sms })
        #expect(six.first?.text.contains("100%") == true && six.first?.text.contains("sblocco 2 di 2") == true)
    }

    @Test("Tunda: a pro-forma goes to the users allowed payment requests who keep them on; an imported invoice to those allowed invoices")
    func tundaRecipients() throws {
        let tunda = try provider("tunda")
        let audience = NotificationAudience(users: [
            Self.user(1, email: "main@example.it", admin: true, rules: ["invoices", "payment_requests", "service_notices", "ticket_replies"]),
            Self.user(2, email: "accounting@example.it", rules: ["invoices", "payment_requests"]),
            Self.user(3, email: "tech@example.it", rules: ["service_notices"]),
            Self.user(4, email: "quiet@example.it", rules: ["invoices", "payment_requests"], choices: ["payment_requests": [.email: false]]),
        ])
        func issued(source: String) -> NotificationEvent {
            NotificationEvent(id: 9, type: "invoice.issued", customerId: 7, subjectKind: "invoice", subjectId: 5, actorUserId: nil, facts: [
                "number": .text("PF-2026-000042"), "total_cents": .number(12_200), "due_on": .text("2026-12-01"), "issued_on": .text("2026-11-21"),
                "source": .text(source),
            ])
        }
        let proforma = NotificationEvaluator.evaluate(issued(source: "order"), tenant: tunda, audience: audience)
        #expect(proforma.map(\.address) == ["main@example.it", "accounting@example.it"])
        #expect(proforma.allSatisfy { $0.rule == "payment_requests" && $0.channel == .email && $0.userId != nil })
        #expect(proforma.first?.subject == "Richiesta di pagamento: proforma PF-2026-000042")
        #expect(proforma.first?.text.contains("122,00 euro") == true)
        let invoice = NotificationEvaluator.evaluate(issued(source: "import"), tenant: tunda, audience: audience)
        #expect(invoice.map(\.address) == ["main@example.it", "accounting@example.it", "quiet@example.it"])
        #expect(invoice.allSatisfy { $0.rule == "invoices" })
    }

    @Test("each user gets the message in the language they chose; a language the tenant lacks, or none, gives the tenant's default; numbers on records get the default")
    func userLanguages() throws {
        let tunda = try provider("tunda")
        var english = Self.user(1, email: "main@example.it", admin: true, rules: ["invoices", "payment_requests"])
        english.locale = "en"
        var german = Self.user(2, email: "accounting@example.it", rules: ["invoices", "payment_requests"])
        german.locale = "de"
        let unset = Self.user(3, email: "other@example.it", rules: ["invoices", "payment_requests"])
        let event = NotificationEvent(id: 9, type: "invoice.issued", customerId: 7, subjectKind: "invoice", subjectId: 5, actorUserId: nil, facts: [
            "number": .text("PF-2026-000042"), "total_cents": .number(12_200), "due_on": .text("2026-12-01"), "source": .text("order"),
        ])
        let messages = NotificationEvaluator.evaluate(event, tenant: tunda, audience: NotificationAudience(users: [english, german, unset]))
        #expect(messages.map(\.locale) == ["en", "it", "it"])
        #expect(messages[0].subject == "Payment request: pro-forma PF-2026-000042")
        #expect(messages[0].text == "Pro-forma PF-2026-000042 for EUR 122,00 was issued; pay it by 01/12/2026 (PayPal only) in the customer area.")
        #expect(messages[0].values["rule_label"] == "Payment requests")
        #expect(messages[1].subject == "Richiesta di pagamento: proforma PF-2026-000042" && messages[1].values["rule_label"] == "Richieste di pagamento")

        let windtre = try provider("windtre")
        var englishAdmin = Self.user(1, email: "admin@example.it", admin: true, rules: ["giga_share_threshold"])
        englishAdmin.locale = "en"
        let sms = NotificationEvaluator.evaluate(Self.crossing(level: 80), tenant: windtre, audience: NotificationAudience(users: [englishAdmin]))
        #expect(sms.map(\.locale) == ["it"], "the package referent's number is no user: the tenant's language")
    }

    @Test("WINDTRE Tienimi Aggiornato: SMS to the customer's mobile only when a user ticked it; the e-mail is left to the activation")
    func keepUpdated() throws {
        let windtre = try provider("windtre")
        let event = NotificationEvent(id: 3, type: "line_activation.stage_reached", customerId: 7, subjectKind: "line_activation", subjectId: 1,
                                      actorUserId: nil, facts: ["offer": .text("Fibra"), "identifier": .text("0612345678"),
                                                                "stage": .text("installation"), "progress": .number(75)])
        let nobody = NotificationAudience(users: [Self.user(1, email: "a@example.it", rules: ["fixed_line_activation"])], customerMobile: "3470001111")
        #expect(NotificationEvaluator.evaluate(event, tenant: windtre, audience: nobody).isEmpty, "no default: only who ticked it")
        let ticked = NotificationAudience(users: [Self.user(1, email: "a@example.it", rules: ["fixed_line_activation"],
                                                            choices: ["fixed_line_activation": [.sms: true, .email: true]])],
                                          customerMobile: "3470001111")
        let messages = NotificationEvaluator.evaluate(event, tenant: windtre, audience: ticked)
        #expect(messages.map(\.channel) == [.sms] && messages.first?.address == "3470001111" && messages.first?.userId == 1)
        #expect(messages.first?.text == "WINDTRE: l'attivazione Fibra 0612345678 è allo stadio installation (75%).")
    }

    @Test("placeholders: unknown names render empty, euros come from cents")
    func rendering() {
        #expect(NotificationEvaluator.render("a {{x}} b {{ y }} c {{z", values: ["x": "1", "y": "2"]) == "a 1 b 2 c {{z")
        let event = NotificationEvent(id: 1, type: "invoice.issued", customerId: 1, subjectKind: "invoice", subjectId: 1, actorUserId: nil,
                                      facts: ["total_cents": .number(-1005)])
        #expect(event.allFacts()["total_euros"] == .text("-10,05"))
        #expect(NotificationCondition(fact: "level", ">=80")?.holds(for: .number(100)) == true)
        #expect(NotificationCondition(fact: "level", "<=80")?.holds(for: .number(100)) == false)
        #expect(NotificationCondition(fact: "to", "!closed")?.holds(for: .text("closed")) == false)
        #expect(NotificationCondition(fact: "level", ">=x") == nil)
    }

    /// windtre.yaml with `edits` applied, loaded with the repository's plugin manifests.
    static func loadWindtre(_ edits: [(String, String)]) throws -> LoadResult { try loadEdited(edits).result }

    static func loadEdited(_ edits: [(String, String)]) throws -> (result: LoadResult, text: String) {
        var text = try String(contentsOf: repositoryRoot.appendingPathComponent("tenants/windtre.yaml"), encoding: .utf8)
        for (old, new) in edits {
            #expect(text.components(separatedBy: old).count == 2, "edit not unique: \(old)")
            text = text.replacingOccurrences(of: old, with: new)
        }
        let plugins = PluginCatalogue.load(directory: repositoryRoot.appendingPathComponent("plugins").path)
        let fragment = try String(contentsOf: repositoryRoot.appendingPathComponent("tenants/_telco-it.yaml"), encoding: .utf8)
        return (TenantLoader(capabilities: .portal, plugins: plugins).load(sources: [(file: "_telco-it.yaml", text: fragment),
                                                                                    (file: "windtre.yaml", text: text)]), text)
    }

    static func line(of needle: String, in text: String) throws -> Int {
        let lines = text.components(separatedBy: "\n")
        return try #require(lines.firstIndex { $0.contains(needle) }) + 1
    }

    @Test("the repository's tenants load clean with their rules")
    func repositoryClean() throws {
        let result = try loadRepositoryTenants()
        #expect(result.diagnostics.filter { $0.severity == .error }.map(\.description) == [])
    }

    @Test("validation: unknown event, fact, recipient and channel, a rule without a message, SMS without an sms plugin — located, with hints")
    func validation() throws {
        let (result, edited) = try Self.loadEdited([
            ("on: line_activation.stage_reached", "on: line_activation.stage_reachd"),
            ("when: {rule: giga_share_threshold}", "when: {rul: giga_share_threshold}"),
            ("recipients: [package_referent]", "recipients: [package_referrent]"),
            ("    send: [sms]\n", "    send: [email, sms]\n    mail: x\n"),
            ("      en: \"WINDTRE: line {{line_phone}} reached {{level}}% of its roaming data threshold (unlock {{unlock}} of 2).\"",
             "      en: \"WINDTRE: line {{line_phon}} reached {{level}}%.\""),
        ])
        let errors = result.diagnostics.filter { $0.severity == .error }
        func find(_ code: String, _ fragment: String) -> Diagnostic? { errors.first { $0.code == code && $0.message.contains(fragment) } }
        let eventLine = try Self.line(of: "on: line_activation.stage_reachd", in: edited)
        let factLine = try Self.line(of: "when: {rul: giga_share_threshold}", in: edited)
        let recipientLine = try Self.line(of: "recipients: [package_referrent]", in: edited)
        let event = try #require(find("unknown-event", "line_activation.stage_reachd"), "\(result.diagnostics.map(\.description))")
        #expect(event.location.line == eventLine && event.location.file == "windtre.yaml" && event.hint == "did you mean 'line_activation.stage_reached'?")
        let fact = try #require(find("unknown-fact", "'rul'"))
        #expect(fact.location.line == factLine && fact.hint == "did you mean 'rule'?")
        let recipient = try #require(find("unknown-recipient", "package_referrent"))
        #expect(recipient.location.line == recipientLine && recipient.hint == "did you mean 'package_referent'?")
        let placeholder = try #require(find("unknown-fact", "'line_phon'"))
        #expect(placeholder.hint == "did you mean 'line_phone'?")
        #expect(errors.count == 4, "\(errors.map(\.description))")

        let noPlugin = try Self.loadWindtre([("  sms_sink: {}\n", "")])
        let missing = noPlugin.diagnostics.filter { $0.code == "missing-plugin" }
        #expect(missing.count == 3 && missing.allSatisfy { $0.hint == "add plugins: {sms_sink: {}}" }, "\(noPlugin.diagnostics.map(\.description))")

        let badChannel = try Self.loadWindtre([("    send: [sms]\n", "    send: [email, sms]\n    channels_x: 1\n")])
        #expect(badChannel.diagnostics.contains { $0.severity == .error }, "an unknown key is refused by the schema")
        let sendOutside = try Self.loadWindtre([("    channels: [sms]\n    thresholds", "    channels: [email]\n    thresholds")])
        let outside = sendOutside.diagnostics.filter { $0.severity == .error }
        #expect(outside.contains { $0.code == "unknown-recipient" && $0.message.contains("line") } || outside.contains { $0.code == "missing-key" },
                "\(outside.map(\.description))")
    }
}
