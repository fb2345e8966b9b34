import Foundation
import Hummingbird
import SportelloCore
import SportelloStore

/// The notification preferences page and its `/api/v1` operations: the tenant's YAML `notifications:`
/// rules (Tunda, WINDTRE), each shown only when the user's role grants its feature, with the user's choice
/// of channels and, where the rule has thresholds, of the warning level. Choices are stored per user;
/// the YAML's defaults apply until the user saves.
struct NotificationsController: ModuleController {
    let services: PortalServices

    static let pages: [PortalPage] = [
        // WINDTRE: "Gestione Notifiche"; Tunda: the sub-accounts' notification switches (notify.*).
        PortalPage(route: Routes.notifications, titleKey: "notifications.title",
                   features: ["notifications.manage", "notify.services", "notify.invoices", "notify.payment_requests", "notify.tickets"]),
    ]

    static let apiOperations: [APIOperation] = [
        APIOperation("GET", Routes.notifications, summary: "The notification rules the user's role grants, with the user's channels and thresholds",
                     success: (200, "NotificationPreferences"), page: pages[0]),
        APIOperation("PUT", Routes.notifications, summary: "Change channels and thresholds of some rules (rules left out are not changed)",
                     requestBody: "NotificationPreferencesUpdate", success: (200, "NotificationPreferences"), page: pages[0]),
        APIOperation("DELETE", Routes.notifications, summary: "Forget the user's choices: the provider's defaults apply again",
                     success: (200, "NotificationPreferences"), page: pages[0]),
    ]

    static let apiSchemas: [String: JSONSchema] = [
        "NotificationPreferences": .object(["rules": .array(.reference("NotificationRulePreference"))], required: ["rules"]),
        "NotificationRulePreference": .object([
            "id": .string(), "label": .string(), "feature": .nullable(.string()),
            "channels": .array(.object(["channel": .enumeration(Channel.allCases.map(\.rawValue)), "label": .string(),
                                        "enabled": .boolean, "default": .boolean],
                                       required: ["channel", "label", "enabled", "default"])),
            "threshold": .nullable(.object([
                "value": .integer, "default": .integer, "min": .integer, "max": .integer,
                "unit": .enumeration(["percent"]), "levels": .array(.integer),
            ], required: ["value", "default", "min", "max", "unit", "levels"])),
            "recipients": .array(.string()), "customized": .boolean,
        ], required: ["id", "label", "channels", "threshold", "recipients", "customized"]),
        "NotificationPreferencesUpdate": .object([
            "rules": .array(.object([
                "id": .string(),
                "channels": .object(Dictionary(uniqueKeysWithValues: Channel.allCases.map { ($0.rawValue, JSONSchema.boolean) })),
                "threshold": .integer,
            ], required: ["id"])),
        ], required: ["rules"]),
    ]

    func addRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.notifications) { request, context in try await page(request, context: context) }
        group.post(Routes.notifications) { request, context in try await post(request, context: context) }
        group.get(Routes.notifications.api) { _, context in try await apiGet(context: context) }
        group.put(Routes.notifications.api) { request, context in try await apiPut(request, context: context) }
        group.delete(Routes.notifications.api) { request, context in try await apiDelete(request, context: context) }
    }

    // MARK: Rules and preferences

    /// A rule's adjustable warning level: its first threshold, between 10 % and just below the next level.
    struct ThresholdRange {
        var defaultValue: Int
        var range: ClosedRange<Int>
        var levels: [Int]
    }

    static func thresholdRange(_ rule: NotificationRule) -> ThresholdRange? {
        guard let levels = rule.thresholds?.sorted(), let first = levels.first else { return nil }
        let upper = levels.count > 1 ? levels[1] - 1 : 100
        let lower = min(10, first)
        guard lower <= upper else { return nil }
        return ThresholdRange(defaultValue: first, range: lower...upper, levels: levels)
    }

    /// The user's effective choice for one rule.
    struct RuleState {
        var id: String
        var rule: NotificationRule
        var channels: [(channel: Channel, enabled: Bool, defaultEnabled: Bool)]
        var threshold: Int?
        var customized: Bool
    }

    /// The rules the user's role grants, in YAML order.
    static func visibleRules(_ context: UserContext) -> [(String, NotificationRule)] {
        (context.tenant.definition.notifications ?? OrderedMap()).filter { _, rule in rule.feature.map { context.may($0) } ?? true }
            .map { ($0.key, $0.value) }
    }

    static func states(_ context: UserContext, stored: [NotificationPreferenceRecord]) -> [RuleState] {
        visibleRules(context).map { id, rule in
            let saved = stored.filter { $0.rule == id }
            let defaultEnabled = rule.default ?? false
            let channels = rule.channels.map { channel -> (Channel, Bool, Bool) in
                (channel, saved.first { $0.channel == channel.rawValue }?.enabled ?? defaultEnabled, defaultEnabled)
            }
            var threshold: Int?
            if let range = thresholdRange(rule) {
                let savedValue = saved.compactMap(\.threshold).first.map(Int.init)
                threshold = savedValue.flatMap { range.range.contains($0) ? $0 : nil } ?? range.defaultValue
            }
            return RuleState(id: id, rule: rule, channels: channels.map { (channel: $0.0, enabled: $0.1, defaultEnabled: $0.2) },
                             threshold: threshold, customized: !saved.isEmpty)
        }
    }

    private func stored(_ context: UserContext) async throws -> [NotificationPreferenceRecord] {
        let userId = context.user.id ?? 0
        return try await services.database.read(tenant: context.tenant.id, now: services.now) {
            try await $0.notificationPreferences(userId: userId)
        }
    }

    /// One rule's submitted choice: the channels named (others unchanged) and the threshold, if given.
    struct RuleUpdate {
        var id: String
        var channels: [String: Bool]
        var threshold: Int?
        var thresholdText: String?
    }

    /// Checks every update against the visible rules and stores them all, or returns every problem.
    /// Problems name the fields `rules.<id>`, `rules.<id>.channels.<channel>` and `rules.<id>.threshold`.
    func apply(_ updates: [RuleUpdate], context: UserContext, earlier: [FieldProblem] = []) async throws -> [FieldProblem] {
        let theme = context.tenant.theme
        var problems = earlier
        func problem(_ field: String, _ code: String, _ key: String, _ values: [String: String] = [:]) {
            problems.append(FieldProblem(field: field, code: code, message: LocalizedText(translations: [
                "it": theme.text(key, locale: "it", values), "en": theme.text(key, locale: "en", values)])))
        }
        let current = Self.states(context, stored: try await stored(context))
        var records: [NotificationPreferenceRecord] = []
        var changedRules: [String] = []
        let userId = context.user.id ?? 0
        for update in updates {
            guard let state = current.first(where: { $0.id == update.id }) else {
                problem("rules.\(update.id)", "unknown_rule", "notifications.error.unknown_rule"); continue
            }
            for name in update.channels.keys.sorted() where !state.channels.contains(where: { $0.channel.rawValue == name }) {
                problem("rules.\(update.id).channels.\(name)", "unknown_channel", "notifications.error.unknown_channel")
            }
            var threshold = state.threshold
            if let text = update.thresholdText {
                if let range = Self.thresholdRange(state.rule) {
                    let trimmed = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "%", with: "")
                        .trimmingCharacters(in: .whitespaces)
                    if let value = Int(trimmed), range.range.contains(value) {
                        threshold = value
                    } else {
                        problem("rules.\(update.id).threshold", trimmed.isEmpty ? "required" : "out_of_range", "notifications.error.threshold",
                                ["min": String(range.range.lowerBound), "max": String(range.range.upperBound)])
                    }
                } else {
                    problem("rules.\(update.id).threshold", "not_adjustable", "notifications.error.not_adjustable")
                }
            } else if let value = update.threshold {
                if let range = Self.thresholdRange(state.rule) {
                    if range.range.contains(value) { threshold = value } else {
                        problem("rules.\(update.id).threshold", "out_of_range", "notifications.error.threshold",
                                ["min": String(range.range.lowerBound), "max": String(range.range.upperBound)])
                    }
                } else {
                    problem("rules.\(update.id).threshold", "not_adjustable", "notifications.error.not_adjustable")
                }
            }
            var changed = threshold != state.threshold || !state.customized
            for channel in state.channels {
                let enabled = update.channels[channel.channel.rawValue] ?? channel.enabled
                if enabled != channel.enabled { changed = true }
                records.append(NotificationPreferenceRecord(userId: userId, rule: state.id, channel: channel.channel.rawValue,
                                                            enabled: enabled, threshold: threshold.map(Int64.init)))
            }
            if changed { changedRules.append(state.id) }
        }
        guard problems.isEmpty else { return problems }
        guard !records.isEmpty else { return [] }
        let (toStore, rulesChanged) = (records, changedRules)
        try await services.database.write(tenant: context.tenant.id, now: services.now) { transaction in
            for record in toStore { try await transaction.setNotificationPreference(record) }
            if !rulesChanged.isEmpty {
                try await transaction.audit("notifications.updated", actorUserId: userId, targetKind: "user", targetId: String(userId),
                                            detail: "rules: " + rulesChanged.joined(separator: ", "))
            }
        }
        return []
    }

    private func reset(context: UserContext) async throws {
        let userId = context.user.id ?? 0
        try await services.database.write(tenant: context.tenant.id, now: services.now) { transaction in
            try await transaction.deleteNotificationPreferences(userId: userId)
            try await transaction.audit("notifications.reset", actorUserId: userId, targetKind: "user", targetId: String(userId))
        }
    }

    // MARK: Page

    private func page(_ request: Request, context: UserContext) async throws -> Response {
        try context.require(page: Self.pages[0])
        var notice: String?
        if let done = request.uri.queryParameters["done"], ["saved", "reset"].contains(String(done)) {
            notice = context.tenant.theme.text("notifications.notice.\(done)", locale: context.locale)
        }
        return render(context: context, states: Self.states(context, stored: try await stored(context)), form: nil, problems: [], notice: notice)
    }

    /// The preferences page: each rule with its channels and, where it has one, its warning level.
    struct PageModel: Encodable {
        struct Rule: Encodable {
            struct Channel: Encodable {
                var name, id: String
                var checked: Bool
                var label: String
            }
            struct Threshold: Encodable {
                var name, id, value, min, max, hint: String
                var error: String?
            }
            var id, label: String
            var channels: [Channel]
            var customized: Bool
            var recipients: String?
            var threshold: Threshold?
            var error: String?
        }
        /// A problem in the summary, linking to its field (`#main` when it has none on the page).
        struct Problem: Encodable { var message, href: String }
        var rules: [Rule]
        var hasRules, hasErrors: Bool
        var errorList: [Problem]
        var notice: String?
    }

    private func render(context: UserContext, states: [RuleState], form: SubmittedForm?, problems: [FieldProblem], notice: String?,
                        status: HTTPResponse.Status = .ok) -> Response {
        let theme = context.tenant.theme, locale = context.locale
        func t(_ key: String, _ values: [String: String] = [:]) -> String { theme.text(key, locale: locale, values) }
        var errors: [String: String] = [:]
        for problem in problems where errors[problem.field] == nil { errors[problem.field] = problem.message.resolve(locale) }
        let rules = states.map { state -> PageModel.Rule in
            var rule = PageModel.Rule(
                id: state.id, label: state.rule.displayLabel(locale),
                channels: state.channels.map { channel in
                    let name = "rule.\(state.id).\(channel.channel.rawValue)"
                    return .init(name: name, id: "n-\(state.id)-\(channel.channel.rawValue)", checked: form.map { $0.fields[name] == "1" } ?? channel.enabled,
                                 label: t("notifications.channel.\(channel.channel.rawValue)"))
                },
                customized: state.customized, error: errors["rules.\(state.id)"])
            if let recipients = state.rule.recipients, !recipients.isEmpty {
                rule.recipients = recipients.map { t("notifications.recipient.\($0)") }.joined(separator: ", ")
            }
            if let range = Self.thresholdRange(state.rule), let value = state.threshold {
                let (lower, upper) = (String(range.range.lowerBound), String(range.range.upperBound))
                rule.threshold = .init(
                    name: "rule.\(state.id).threshold", id: "n-\(state.id)-threshold",
                    value: form?["rule.\(state.id).threshold"] ?? String(value), min: lower, max: upper,
                    hint: t(range.levels.count > 1 ? "notifications.threshold_hint" : "notifications.threshold_hint_single",
                            ["min": lower, "max": upper, "levels": range.levels.dropFirst().map { "\($0) %" }.joined(separator: ", "),
                             "default": String(range.defaultValue)]),
                    error: errors["rules.\(state.id).threshold"])
            }
            return rule
        }
        let model = PageModel(
            rules: rules, hasRules: !rules.isEmpty, hasErrors: !problems.isEmpty,
            errorList: problems.map { problem in
                let parts = problem.field.split(separator: ".")
                return .init(message: problem.message.resolve(locale), href: parts.count == 3 ? "#n-\(parts[1])-\(parts[2])" : "#main")
            },
            notice: notice)
        return Pages.render("notifications", model, title: t("notifications.title"), context: context, status: status)
    }

    private func post(_ request: Request, context: UserContext) async throws -> Response {
        try context.require(page: Self.pages[0])
        let form = try await SubmittedForm.read(request, context: context)
        if form["reset"] == "1" {
            try await reset(context: context)
            return Pages.redirect(Routes.notifications.done("reset"))
        }
        let current = Self.states(context, stored: try await stored(context))
        // Every rule on the page is submitted: an unticked box is a channel switched off.
        let updates = current.map { state in
            RuleUpdate(id: state.id,
                       channels: Dictionary(uniqueKeysWithValues: state.channels.map { ($0.channel.rawValue, form.fields["rule.\(state.id).\($0.channel.rawValue)"] == "1") }),
                       threshold: nil,
                       thresholdText: Self.thresholdRange(state.rule) != nil ? form["rule.\(state.id).threshold"] : nil)
        }
        let problems = try await apply(updates, context: context)
        guard problems.isEmpty else {
            return render(context: context, states: current, form: form, problems: problems, notice: nil, status: .unprocessableContent)
        }
        return Pages.redirect(Routes.notifications.done("saved"))
    }

    // MARK: API

    struct RuleJSON: Encodable {
        struct ChannelJSON: Encodable {
            var channel, label: String
            var enabled, `default`: Bool
        }
        struct ThresholdJSON: Encodable {
            var value, `default`, min, max: Int
            var unit = "percent"
            var levels: [Int]
        }
        var id, label: String
        var feature: String?
        var channels: [ChannelJSON]
        var threshold: ThresholdJSON?
        var recipients: [String]
        var customized: Bool

        enum CodingKeys: String, CodingKey { case id, label, feature, channels, threshold, recipients, customized }
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id); try container.encode(label, forKey: .label)
            try container.encode(feature, forKey: .feature); try container.encode(channels, forKey: .channels)
            try container.encode(threshold, forKey: .threshold); try container.encode(recipients, forKey: .recipients)
            try container.encode(customized, forKey: .customized)
        }
    }

    struct PreferencesJSON: Encodable { var rules: [RuleJSON] }

    private func json(_ context: UserContext) async throws -> PreferencesJSON {
        let theme = context.tenant.theme, locale = context.locale
        return PreferencesJSON(rules: Self.states(context, stored: try await stored(context)).map { state in
            var threshold: RuleJSON.ThresholdJSON?
            if let range = Self.thresholdRange(state.rule), let value = state.threshold {
                threshold = .init(value: value, default: range.defaultValue, min: range.range.lowerBound, max: range.range.upperBound,
                                  levels: [value] + range.levels.dropFirst())
            }
            return RuleJSON(id: state.id, label: state.rule.displayLabel(locale), feature: state.rule.feature,
                            channels: state.channels.map {
                                .init(channel: $0.channel.rawValue, label: theme.text("notifications.channel.\($0.channel.rawValue)", locale: locale),
                                      enabled: $0.enabled, default: $0.defaultEnabled)
                            },
                            threshold: threshold, recipients: state.rule.recipients ?? [], customized: state.customized)
        })
    }

    private func apiGet(context: UserContext) async throws -> Response {
        try context.require(page: Self.pages[0])
        return API.json(try await json(context))
    }

    private func apiPut(_ request: Request, context: UserContext) async throws -> Response {
        try context.require(page: Self.pages[0])
        let body = try await ProfileJSONBody.object(request, context: context)
        let theme = context.tenant.theme
        var problems: [FieldProblem] = []
        func problem(_ field: String, _ code: String, _ key: String) {
            problems.append(FieldProblem(field: field, code: code, message: LocalizedText(translations: [
                "it": theme.text(key, locale: "it"), "en": theme.text(key, locale: "en")])))
        }
        for key in body.keys.sorted() where key != "rules" { problem(key, "unknown_field", "profile.error.unknown_field") }
        var updates: [RuleUpdate] = []
        if let list = body["rules"] as? [Any] {
            for (index, item) in list.enumerated() {
                guard let object = item as? [String: Any], let id = object["id"] as? String else {
                    problem("rules[\(index)]", "invalid_type", "notifications.error.rule_shape"); continue
                }
                var update = RuleUpdate(id: id, channels: [:], threshold: nil, thresholdText: nil)
                for key in object.keys.sorted() where !["id", "channels", "threshold"].contains(key) {
                    problem("rules.\(id).\(key)", "unknown_field", "profile.error.unknown_field")
                }
                if let channels = object["channels"] {
                    if let map = channels as? [String: Any] {
                        for (name, value) in map {
                            if let flag = ProfileJSONBody.bool(value) { update.channels[name] = flag } else {
                                problem("rules.\(id).channels.\(name)", "invalid_type", "profile.error.invalid_type")
                            }
                        }
                    } else {
                        problem("rules.\(id).channels", "invalid_type", "profile.error.invalid_type")
                    }
                }
                if let threshold = object["threshold"], !(threshold is NSNull) {
                    if let number = ProfileJSONBody.integer(threshold) { update.threshold = number } else {
                        problem("rules.\(id).threshold", "invalid_type", "profile.error.invalid_type")
                    }
                }
                updates.append(update)
            }
        } else {
            problem("rules", "required", "notifications.error.rules_required")
        }
        let found = try await apply(updates, context: context, earlier: problems)
        guard found.isEmpty else { throw PortalError.invalid(found) }
        return API.json(try await json(context))
    }

    private func apiDelete(_ request: Request, context: UserContext) async throws -> Response {
        try context.require(page: Self.pages[0])
        try API.checkCSRF(request, context: context)
        try await reset(context: context)
        return API.json(try await json(context))
    }
}

private extension NotificationRule {
    func displayLabel(_ locale: String) -> String { label.resolve(locale) }
}
