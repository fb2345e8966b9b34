import Foundation

extension SemanticValidator {
    /// The rule part of each `notifications:` entry: a known event (`on`), conditions on its facts, known recipients,
    /// `send` within `channels`, a message for what is sent, placeholders naming facts, and an SMS plugin bound when
    /// the rule sends SMS. Everything is located at the key or value at fault, with a hint where one helps.
    mutating func checkNotificationRules() {
        let eventNames = NotificationEventCatalogue.types.map(\.name)
        for (id, rule) in definition.notifications ?? OrderedMap() {
            let path = "notifications/\(id)"
            guard let on = rule.on else {
                let written: [(String, Bool)] = [("when", rule.when != nil), ("send", rule.send != nil), ("message", rule.message != nil),
                                                 ("subject", rule.subject != nil), ("mail", rule.mail != nil)]
                for (key, present) in written where present {
                    diagnostics.error("missing-key", at: self.key("\(path)/\(key)"), "'\(key)' applies to a rule, and notification '\(id)' names no event",
                                      hint: "add on: <event type>, e.g. on: \(eventNames[0])")
                }
                continue
            }
            guard let event = NotificationEventCatalogue.type(on) else {
                diagnostics.error("unknown-event", at: at("\(path)/on"), "notification '\(id)': '\(on)' is not an event type the portal records",
                                  hint: Suggest.hint(for: on, in: eventNames) ?? "event types: \(eventNames.joined(separator: ", "))")
                continue
            }
            let known = NotificationEventCatalogue.commonFacts + event.facts
            func checkFact(_ fact: String, at location: SourceLocation, what: String) {
                guard !event.knows(fact: fact) else { return }
                diagnostics.error("unknown-fact", at: location, "\(what) '\(fact)' is not a fact of \(on) events",
                                  hint: Suggest.hint(for: fact, in: known) ?? "facts: \(event.facts.joined(separator: ", "))")
            }
            for (fact, text) in rule.when ?? OrderedMap() {
                checkFact(fact, at: self.key("\(path)/when/\(fact)"), what: "condition")
                if NotificationCondition(fact: fact, text) == nil {
                    diagnostics.error("invalid-value", at: at("\(path)/when/\(fact)"), "condition '\(text)' on '\(fact)' needs a number after >= or <=")
                }
            }
            let sent = NotificationEvaluator.sentChannels(rule)
            for (index, channel) in (rule.send ?? []).enumerated() where !rule.channels.contains(channel) {
                diagnostics.error("unknown-channel", at: at("\(path)/send/\(index)"), "notification '\(id)' sends on '\(channel.rawValue)', which is not one of its channels",
                                  hint: "add it to channels (the user's switches): \(rule.channels.map(\.rawValue).joined(separator: ", "))")
            }
            let recipients = rule.recipients ?? []
            if recipients.isEmpty && !sent.isEmpty {
                diagnostics.error("missing-key", at: self.key("\(path)/on"), "notification '\(id)' is a rule but names no recipients",
                                  hint: "for example recipients: [users] or [referent]")
            }
            for (index, text) in recipients.enumerated() {
                guard let recipient = NotificationRecipient(text) else {
                    diagnostics.error("unknown-recipient", at: at("\(path)/recipients/\(index)"), "'\(text)' is not a recipient",
                                      hint: Suggest.hint(for: text, in: NotificationRecipient.words)
                                        ?? "recipients: \(NotificationRecipient.words.joined(separator: ", ")), phone.<fact>, email.<fact>")
                    continue
                }
                switch recipient {
                case .phone(let fact), .email(let fact): checkFact(fact, at: at("\(path)/recipients/\(index)"), what: "recipient fact")
                case .referent where !sent.contains(where: { recipient.fact(for: $0).map(event.knows(fact:)) ?? false }),
                     .line where !sent.contains(where: { recipient.fact(for: $0).map(event.knows(fact:)) ?? false }):
                    diagnostics.error("unknown-recipient", at: at("\(path)/recipients/\(index)"),
                                      "\(on) events carry no \(text == "line" ? "line number (line_phone)" : "referent (referent_phone, referent_email)") for '\(text)'",
                                      hint: "recipients: user, users, administrators or phone.<fact>")
                default: break
                }
            }
            if sent.contains(.sms) && rule.message == nil {
                diagnostics.error("missing-key", at: self.key("\(path)/on"), "notification '\(id)' sends SMS but has no 'message'",
                                  hint: "message: {it: \"…\", en: \"…\"}, with {{fact}} placeholders")
            }
            if sent.contains(.email) && rule.message == nil && rule.mail == nil {
                diagnostics.error("missing-key", at: self.key("\(path)/on"), "notification '\(id)' sends e-mail but has neither 'message' nor 'mail'",
                                  hint: "message: {it: \"…\"} or mail: <template under templates/<tenant>/mail>")
            }
            for (name, text) in [("message", rule.message), ("subject", rule.subject)] {
                for (locale, template) in (text?.translations ?? [:]).sorted(by: { $0.key < $1.key }) {
                    for placeholder in NotificationEvaluator.placeholders(in: template) {
                        checkFact(placeholder, at: at(locale == "*" ? "\(path)/\(name)" : "\(path)/\(name)/\(locale)"), what: "placeholder")
                    }
                }
            }
            if sent.contains(.sms) {
                let bound = (definition.plugins ?? OrderedMap()).keys
                let sms = bound.filter { plugins[$0]?.kind == .sms || (plugins[$0] == nil && plugins.ids.contains($0)) }
                if sms.isEmpty {
                    let available = plugins.manifests(of: .sms).map(\.id)
                    diagnostics.error("missing-plugin", at: self.key("\(path)/on"), "notification '\(id)' sends SMS but the tenant binds no sms plugin",
                                      hint: available.isEmpty ? "add an sms plugin manifest under plugins/ and list it under plugins:"
                                                              : "add plugins: {\(available[0]): {}}")
                }
            }
        }
    }
}
