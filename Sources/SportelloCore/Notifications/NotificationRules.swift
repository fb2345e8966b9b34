import Foundation

// Notification rules: a `notifications:` entry of a tenant is both the user's preference (label, channels, default,
// thresholds — the notifications page) and, when it names an event with `on:`, a rule the portal acts on:
//
//   giga_share_threshold:
//     label: {it: Soglia consumo dati Giga Share, en: Giga Share data threshold}
//     feature: notifications.manage
//     channels: [portal, sms]               # what the user may switch on and off
//     thresholds: [80, 100]
//     recipients: [package_referent]        # who receives it
//     default: true
//     on: usage.threshold_crossed           # the event that triggers it
//     when: {rule: giga_share_threshold}    # conditions on the event's facts (all must hold)
//     message: {it: "Il pacchetto {{code}} ha raggiunto il {{level}}% dei Giga.", en: "…"}
//
// `NotificationEvaluator.evaluate` turns one event and the tenant's rules into the messages to send (pure: the users
// of the customer and their choices come in as a `NotificationAudience`).

/// The keys a `notifications:` entry takes beyond the preference ones (for `TenantSchema.notification`).
public enum NotificationRuleSyntax {
    public static let properties: [Property] = [
        .optional("on", .identifier, "The event that triggers this notification (a rule); without it the entry is only a preference another part of the portal reads.", example: "usage.threshold_crossed"),
        .optional("when", .map(.string), "Conditions on the event's facts, all of which must hold: `value` (equal), `a|b` (one of), `!value` (not equal), `>=80` / `<=80` (numbers).", example: "{rule: giga_share_threshold, level: \"80|100\"}"),
        .optional("send", .list(.choice(["email", "sms"]), minItems: 1), "The channels the rule engine sends on (default: the entry's email and sms channels). A channel left out is sent by the page or job that owns it."),
        .optional("subject", .text, "E-mail subject, per locale, with `{{fact}}` placeholders (default: the label)."),
        .optional("message", .text, "The message (SMS text, e-mail body), per locale, with `{{fact}}` placeholders.", example: "{it: \"Fattura {{number}} disponibile\", en: \"Invoice {{number}} available\"}"),
        .optional("mail", .identifier, "An e-mail template (`templates/<tenant>/mail/<mail>.<locale>.mustache`, else `templates/default/mail/`) used instead of `subject`/`message` for e-mail; it gets the event's facts as values."),
    ]
}

/// What the portal knows about an event type a rule may name: its facts (for conditions and placeholders).
public struct NotificationEventType: Sendable {
    public var name: String
    public var facts: [String]
    /// Facts with a prefix (`value.` of records) that may be followed by any field name.
    public var factPrefixes: [String]

    public init(_ name: String, facts: [String], factPrefixes: [String] = []) {
        self.name = name; self.facts = facts; self.factPrefixes = factPrefixes
    }

    public func knows(fact: String) -> Bool {
        NotificationEventCatalogue.commonFacts.contains(fact) || facts.contains(fact)
            || factPrefixes.contains { fact.hasPrefix($0) && fact.count > $0.count }
            || fact.hasSuffix("_euros") && facts.contains(String(fact.dropLast("_euros".count)) + "_cents")
            || fact.hasSuffix("_date") && facts.contains(String(fact.dropLast("_date".count)) + "_on")
    }
}

/// The event types rules may name, with their facts: what `TenantTransaction.recordEvent` writes (`EventDrafts.swift`
/// in SportelloStore). Keep the two in step.
public enum NotificationEventCatalogue {
    /// Facts every event has: its customer, subject and actor, and the tenant's name.
    public static let commonFacts = ["customer_id", "subject_kind", "subject_id", "actor_user_id", "event_id", "tenant_name", "rule_label"]

    public static let types: [NotificationEventType] = [
        .init("invoice.issued", facts: ["invoice_id", "number", "issued_on", "due_on", "net_cents", "tax_cents", "total_cents", "status",
                                        "contract_id", "holder_user_id", "external_id", "source"]),
        .init("invoice.paid", facts: ["invoice_id", "number", "total_cents", "paid_on", "amount_cents", "method", "payment_id", "simulated",
                                      "holder_user_id", "source"]),
        .init("invoice.overdue", facts: ["invoice_id", "number", "due_on", "total_cents", "holder_user_id", "days_overdue"]),
        .init("payment_method.invalid", facts: ["method", "reason", "invoice_id", "online_payment_id", "user_id"]),
        .init("request.created", facts: ["request_id", "number", "form", "form_group", "subject", "status", "user_id"]),
        .init("request.status_changed", facts: ["request_id", "number", "form", "subject", "from", "to", "note", "user_id"]),
        .init("chat.replied", facts: ["message_id", "user_id", "operator"]),
        .init("registration.completed", facts: ["user_id", "role", "flow", "new_customer", "invitation_id"]),
        .init("user.invited", facts: ["invitation_id", "role", "expires_at"]),
        .init("user.blocked", facts: ["user_id", "role", "status"]),
        .init("user.unblocked", facts: ["user_id", "role", "status"]),
        .init("user.role_changed", facts: ["user_id", "from", "to"]),
        .init("line_activation.stage_reached", facts: ["activation_id", "line_id", "kind", "identifier", "offer", "stage", "previous_stage",
                                                       "progress", "previous_progress", "expected_on", "status"]),
        .init("usage.threshold_crossed", facts: ["rule", "level", "rule_level", "user_ids", "share_plan_id", "code", "used_bytes",
                                                 "allowance_bytes", "month", "referent_phone", "scope", "unlock", "line_id", "line_phone"]),
        .init("record.created", facts: ["record_id", "kind", "external_id", "owner_record_id", "user_id", "date"], factPrefixes: ["value."]),
        .init("record.changed", facts: ["record_id", "kind", "external_id", "owner_record_id", "user_id", "date", "changed"], factPrefixes: ["value."]),
    ]

    public static func type(_ name: String) -> NotificationEventType? { types.first { $0.name == name } }
}

/// Who receives a rule's message (`recipients:`).
public enum NotificationRecipient: Sendable, Equatable {
    /// `user`: the users the event names (`user_id`, `user_ids`, `holder_user_id`), by e-mail (by SMS: the customer's
    /// mobile number on record, as for every user recipient).
    case user
    /// `users`: every user of the customer whose role grants the rule's feature and who keeps the channel on
    /// ("Tienimi Aggiornato": the users who ticked it).
    case users
    /// `administrators`: the customer's users whose role may create other users (the only user when none may).
    case administrators
    /// `referent` / `package_referent`: the referent the record names (`referent_phone`, `referent_email`).
    case referent
    /// `line`: the line's own number (`line_phone`).
    case line
    /// `phone.<fact>` / `email.<fact>`: the number or address a fact of the event holds.
    case phone(fact: String)
    case email(fact: String)

    /// The words `recipients:` takes (besides `phone.<fact>` and `email.<fact>`).
    public static let words = ["user", "users", "administrators", "referent", "package_referent", "line"]

    public init?(_ text: String) {
        switch text {
        case "user": self = .user
        case "users": self = .users
        case "administrators": self = .administrators
        case "referent", "package_referent": self = .referent
        case "line": self = .line
        default:
            if text.hasPrefix("phone."), text.count > 6 { self = .phone(fact: String(text.dropFirst(6))) }
            else if text.hasPrefix("email."), text.count > 6 { self = .email(fact: String(text.dropFirst(6))) }
            else { return nil }
        }
    }

    /// Whether it is a person with an account (their own preferences apply) rather than a number or address on a record.
    var isUser: Bool {
        switch self {
        case .user, .users, .administrators: true
        default: false
        }
    }

    /// The fact naming the phone number or address, for recipients that are not users.
    func fact(for channel: Channel) -> String? {
        switch (self, channel) {
        case (.referent, .sms): "referent_phone"
        case (.referent, .email): "referent_email"
        case (.line, .sms): "line_phone"
        case (.phone(let fact), .sms): fact
        case (.email(let fact), .email): fact
        default: nil
        }
    }
}

/// One condition of `when:` on one fact.
public struct NotificationCondition: Sendable, Equatable {
    public enum Test: Sendable, Equatable {
        case oneOf([String])
        case not(String)
        case atLeast(Int64)
        case atMost(Int64)
    }

    public var fact: String
    public var test: Test

    /// `value`, `a|b`, `!value`, `>=80`, `<=80`; nil when a number is expected and missing.
    public init?(fact: String, _ text: String) {
        self.fact = fact
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix(">=") {
            guard let number = Int64(trimmed.dropFirst(2).trimmingCharacters(in: .whitespaces)) else { return nil }
            test = .atLeast(number)
        } else if trimmed.hasPrefix("<=") {
            guard let number = Int64(trimmed.dropFirst(2).trimmingCharacters(in: .whitespaces)) else { return nil }
            test = .atMost(number)
        } else if trimmed.hasPrefix("!") {
            test = .not(String(trimmed.dropFirst()))
        } else {
            test = .oneOf(trimmed.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) })
        }
    }

    /// Whether `value` (the fact as text: nil when absent, lists as their items) passes.
    public func holds(for value: NotificationFact?) -> Bool {
        let texts = value?.texts ?? []
        switch test {
        case .oneOf(let accepted): return texts.contains { accepted.contains($0) }
        case .not(let refused): return !texts.contains(refused)
        case .atLeast(let number): return texts.contains { Int64($0).map { $0 >= number } ?? false }
        case .atMost(let number): return texts.contains { Int64($0).map { $0 <= number } ?? false }
        }
    }
}

/// One fact of an event, as the evaluator reads it.
public enum NotificationFact: Sendable, Equatable {
    case text(String)
    case number(Int64)
    case flag(Bool)
    case list([String])

    var texts: [String] {
        switch self {
        case .text(let value): [value]
        case .number(let value): [String(value)]
        case .flag(let value): [value ? "true" : "false"]
        case .list(let values): values
        }
    }

    /// The fact as one text (lists joined with ", ").
    public var text: String { texts.joined(separator: ", ") }
}

/// An event as rules see it.
public struct NotificationEvent: Sendable, Equatable {
    public var id: Int64
    public var type: String
    public var customerId: Int64?
    public var subjectKind: String
    public var subjectId: Int64?
    public var actorUserId: Int64?
    public var facts: [String: NotificationFact]

    public init(id: Int64, type: String, customerId: Int64?, subjectKind: String, subjectId: Int64?, actorUserId: Int64?,
                facts: [String: NotificationFact]) {
        self.id = id; self.type = type; self.customerId = customerId; self.subjectKind = subjectKind; self.subjectId = subjectId
        self.actorUserId = actorUserId; self.facts = facts
    }

    /// The facts with the common ones (`customer_id`, `subject_kind`…), for each `<x>_cents` `<x>_euros` ("12,50"), and
    /// for each day `<x>_on` ("2026-11-01") `<x>_date` as people write it ("01/11/2026").
    public func allFacts() -> [String: NotificationFact] {
        var all = facts
        all["event_id"] = .number(id)
        if let customerId { all["customer_id"] = .number(customerId) }
        all["subject_kind"] = .text(subjectKind)
        if let subjectId { all["subject_id"] = .number(subjectId) }
        if let actorUserId { all["actor_user_id"] = .number(actorUserId) }
        for (name, value) in facts where name.hasSuffix("_cents") {
            if case .number(let cents) = value {
                let sign = cents < 0 ? "-" : ""
                all[String(name.dropLast("_cents".count)) + "_euros"] = .text("\(sign)\(abs(cents) / 100),\(String(format: "%02d", abs(cents) % 100))")
            }
        }
        for (name, value) in facts where name.hasSuffix("_on") {
            if case .text(let text) = value, let day = CalendarDay(text) {
                all[String(name.dropLast("_on".count)) + "_date"] = .text(String(format: "%02d/%02d/%04d", day.day, day.month, day.year))
            }
        }
        return all
    }

    /// The user ids the event names (`user_ids`, `user_id`, `holder_user_id`).
    var namedUserIds: [Int64] {
        var ids: [Int64] = []
        for name in ["user_ids", "user_id", "holder_user_id"] {
            for text in facts[name]?.texts ?? [] { if let id = Int64(text), !ids.contains(id) { ids.append(id) } }
        }
        return ids
    }
}

/// A user of the event's customer, with what the evaluator needs to know about them.
public struct NotificationUser: Sendable, Equatable {
    public var id: Int64
    public var email: String?
    /// Whether the user's role may create other users (an administrator of the customer).
    public var isAdministrator: Bool
    /// The rules whose feature the user's role grants (rules without a feature are everybody's).
    public var grantedRules: Set<String>
    /// The user's saved choices: rule → channel → on/off (absent: the rule's default).
    public var choices: [String: [Channel: Bool]]
    /// The language the user chose (`UserRecord.locale`); nil: the tenant's default.
    public var locale: String?

    public init(id: Int64, email: String?, isAdministrator: Bool, grantedRules: Set<String>, choices: [String: [Channel: Bool]] = [:],
                locale: String? = nil) {
        self.id = id; self.email = email; self.isAdministrator = isAdministrator; self.grantedRules = grantedRules; self.choices = choices
        self.locale = locale
    }

    /// Whether `channel` of `rule` is on for this user (saved choice, else the rule's `default`).
    func wants(_ ruleId: String, _ rule: NotificationRule, _ channel: Channel) -> Bool {
        guard rule.feature == nil || grantedRules.contains(ruleId) else { return false }
        return choices[ruleId]?[channel] ?? rule.default ?? false
    }
}

/// The customer's users (active, in any role) when the event happened.
public struct NotificationAudience: Sendable, Equatable {
    public var users: [NotificationUser]
    /// The customer's mobile number on record: users have no number of their own, so an SMS to users goes there (once).
    public var customerMobile: String?
    public init(users: [NotificationUser], customerMobile: String? = nil) { self.users = users; self.customerMobile = customerMobile }
    public static let none = NotificationAudience(users: [])
}

/// One message to queue.
public struct NotificationMessage: Sendable, Equatable {
    public var rule: String
    public var channel: Channel
    /// The e-mail address or phone number.
    public var address: String
    /// The user it goes to, nil for a number or address on a record.
    public var userId: Int64?
    public var locale: String
    /// E-mail: the subject (from `subject:` or the label); nil for SMS.
    public var subject: String?
    /// The message text (SMS body; e-mail body when no `mail:` template is named).
    public var text: String
    /// E-mail: the template kind to render instead of `text`.
    public var mailTemplate: String?
    /// The facts as text, for the e-mail template.
    public var values: [String: String]
}

/// Event + rules → messages (pure).
public enum NotificationEvaluator {
    /// The channels a rule's engine sends on: `send`, else its e-mail and SMS channels.
    public static func sentChannels(_ rule: NotificationRule) -> [Channel] {
        (rule.send ?? rule.channels).filter { $0 == .email || $0 == .sms }
    }

    /// The rules of `tenant` that `event` triggers (its type named by `on:` and every `when:` condition holding).
    public static func triggeredRules(_ tenant: TenantDefinition, by event: NotificationEvent) -> [(id: String, rule: NotificationRule)] {
        let facts = event.allFacts()
        return (tenant.notifications ?? OrderedMap()).compactMap { id, rule in
            guard rule.on == event.type else { return nil }
            for (fact, text) in rule.when ?? OrderedMap() {
                guard let condition = NotificationCondition(fact: fact, text), condition.holds(for: facts[fact]) else { return nil }
            }
            return (id, rule)
        }
    }

    /// The messages `event` causes under the rules of `tenant`, for the customer's `audience`: each user's in the
    /// language they chose (`NotificationUser.locale`), numbers and addresses on records in the tenant's default. Each
    /// (channel, address) gets at most one message per rule; the user's choices apply to users, and a number or address
    /// on a record gets the message only while some user of the customer allowed the rule keeps that channel on (the
    /// customer switched it off otherwise).
    public static func evaluate(_ event: NotificationEvent, tenant: TenantDefinition, audience: NotificationAudience) -> [NotificationMessage] {
        let fallback = tenant.locales.default
        func language(_ users: [NotificationUser]) -> String {
            let chosen = Set(users.map { $0.locale.flatMap { tenant.locales.available.contains($0) ? $0 : nil } ?? fallback })
            return chosen.count == 1 ? chosen.first! : fallback
        }
        let facts = event.allFacts()
        var messages: [NotificationMessage] = []
        for (id, rule) in triggeredRules(tenant, by: event) {
            var common = facts.mapValues(\.text)
            common["tenant_name"] = tenant.name
            // A personal warning level (a user's own threshold, not one of the rule's) is only for the users who set it.
            let personalOnly = facts["rule_level"] == .flag(false)
            var seen = Set<String>()
            for channel in sentChannels(rule) {
                let customerWants = audience.users.contains { $0.wants(id, rule, channel) }
                for recipientText in rule.recipients ?? [] {
                    guard let recipient = NotificationRecipient(recipientText) else { continue }
                    if personalOnly && recipient != .user { continue }
                    var targets: [(address: String, userId: Int64?, locale: String)] = []
                    if recipient.isUser {
                        let chosen: [NotificationUser]
                        switch recipient {
                        case .user:
                            let named = event.namedUserIds
                            chosen = audience.users.filter { named.contains($0.id) }
                        case .administrators:
                            let administrators = audience.users.filter(\.isAdministrator)
                            chosen = administrators.isEmpty && audience.users.count == 1 ? audience.users : administrators
                        default:
                            chosen = audience.users
                        }
                        let wanting = chosen.filter { $0.wants(id, rule, channel) }
                        if channel == .sms {
                            // Users have no number of their own: the customer's mobile on record, when one of them wants SMS
                            // (in their language when they share one).
                            if !wanting.isEmpty, let mobile = audience.customerMobile, !mobile.isEmpty {
                                targets.append((mobile, wanting.count == 1 ? wanting[0].id : nil, language(wanting)))
                            }
                        } else {
                            for user in wanting { if let email = user.email, !email.isEmpty { targets.append((email, user.id, language([user]))) } }
                        }
                    } else {
                        guard customerWants, let fact = recipient.fact(for: channel), let address = facts[fact]?.text,
                              !address.isEmpty else { continue }
                        targets.append((address, nil, fallback))
                    }
                    for target in targets where seen.insert("\(channel.rawValue):\(target.address.lowercased())").inserted {
                        let locale = target.locale
                        var values = common
                        values["rule_label"] = rule.label.resolve(locale)
                        messages.append(NotificationMessage(
                            rule: id, channel: channel, address: target.address, userId: target.userId, locale: locale,
                            subject: channel == .email ? render(rule.subject ?? rule.label, locale: locale, values: values) : nil,
                            text: rule.message.map { render($0, locale: locale, values: values) } ?? rule.label.resolve(locale),
                            mailTemplate: channel == .email ? rule.mail : nil, values: values))
                    }
                }
            }
        }
        return messages
    }

    /// `text` in `locale` with each `{{name}}` replaced by its value (empty when unknown).
    public static func render(_ text: LocalizedText, locale: String, values: [String: String]) -> String {
        render(text.resolve(locale), values: values)
    }

    public static func render(_ template: String, values: [String: String]) -> String {
        var result = ""
        var rest = Substring(template)
        while let open = rest.range(of: "{{") {
            result += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                result += rest[open.lowerBound...]
                return result
            }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            result += values[name] ?? ""
            rest = rest[close.upperBound...]
        }
        return result + rest
    }

    /// The `{{name}}` placeholders of `template`.
    public static func placeholders(in template: String) -> [String] {
        var names: [String] = []
        var rest = Substring(template)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            names.append(rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces))
            rest = rest[close.upperBound...]
        }
        return names
    }
}
