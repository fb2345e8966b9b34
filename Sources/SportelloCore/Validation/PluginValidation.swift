import Foundation

// A tenant's webhook bindings (`plugins: {<id>: {events, when, personal_data}}`): what `SemanticValidator.checkPlugins`
// checks beyond features and payment methods.

extension SemanticValidator {
    /// The binding's webhook keys apply to a webhook plugin only; its event types exist and are among those the
    /// manifest's receiver takes; each condition is well written and names a fact one of the chosen types carries.
    mutating func checkWebhookBinding(_ id: String, _ binding: PluginBinding, manifest: PluginManifest?) {
        let path = "plugins/\(id)"
        if let manifest, manifest.kind != .webhook {
            for (name, given) in [("events", binding.events != nil), ("when", binding.when != nil), ("personal_data", binding.personalData != nil)] where given {
                diagnostics.error("unknown-key", at: key("\(path)/\(name)"),
                                  "'\(name)' applies to webhook plugins, and '\(id)' is a \(manifest.kind.rawValue) plugin",
                                  hint: manifest.kind == .payments ? "bind a payments plugin to features: {features: {invoices.pay: {methods: [card]}}}" : nil)
            }
            return
        }
        let known = WebhookEvents.types
        let offered = manifest?.webhook?.events
        var seen = Set<String>()
        for (index, type) in (binding.events ?? []).enumerated() {
            let at = at("\(path)/events/\(index)")
            if !known.contains(type) {
                diagnostics.error("unknown-event-type", at: at, "event type '\(type)' is not one the portal records",
                                  hint: Suggest.hint(for: type, in: offered ?? known) ?? "event types: \(known.joined(separator: ", "))")
            } else if !seen.insert(type).inserted {
                diagnostics.error("duplicate-value", at: at, "event type '\(type)' is listed twice")
            } else if let offered, !offered.contains(type) {
                diagnostics.error("unsupported-event-type", at: at, "plugin '\(id)' does not take '\(type)' events (its manifest's webhook.events)",
                                  hint: "it takes \(offered.joined(separator: ", "))")
            }
        }
        let chosen = (binding.events ?? offered ?? known).compactMap(NotificationEventCatalogue.type)
        for (fact, text) in binding.when ?? OrderedMap() {
            if NotificationCondition(fact: fact, text) == nil {
                diagnostics.error("invalid-condition", at: at("\(path)/when/\(fact)"), "condition '\(text)' on '\(fact)' needs a whole number after >= or <=",
                                  hint: "for example \(fact): \">=80\"")
            }
            if !chosen.isEmpty, !chosen.contains(where: { $0.knows(fact: fact) }) {
                let facts = Set(chosen.flatMap(\.facts)).sorted()
                diagnostics.error("unknown-fact", at: key("\(path)/when/\(fact)"), "no event type sent carries the fact '\(fact)'",
                                  hint: Suggest.hint(for: fact, in: facts) ?? "their facts: \(facts.joined(separator: ", "))")
            }
        }
    }
}
