import Foundation

extension RequestFormRules {
    /// Statuses the platform has words for in every language (`requests.status.<id>`); a form's other statuses need
    /// `status_labels`.
    public static let platformStatuses = ["open", "assigned", "in_progress", "answered", "closed", "completed", "rejected", "cancelled"]
}

extension SemanticValidator {
    /// `time_zone:` must be an IANA zone the platform knows.
    mutating func checkTimeZone() {
        guard let zone = definition.timeZone, TimeZone(identifier: zone) == nil else { return }
        diagnostics.error("invalid-value", at: at("time_zone"), "time zone '\(zone)' is not known",
                          hint: Suggest.hint(for: zone, in: TimeZone.knownTimeZoneIdentifiers) ?? "for example Europe/Rome")
    }

    /// A form's rules: typed fields' keys, conditions, opening windows, deadlines and status labels.
    mutating func checkFormRules(_ id: String, form: RequestForm, path: String) {
        let byName = Dictionary(form.fields.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (index, field) in form.fields.enumerated() {
            let fieldPath = "\(path)/fields/\(index)"
            checkTypedKeys(field, at: fieldPath)
            if let condition = field.when {
                if RequestFormRules.baseField(of: condition.field) == field.name {
                    diagnostics.error("invalid-condition", at: at("\(fieldPath)/when/field"), "field '\(field.name)' of form '\(id)' cannot depend on itself")
                } else {
                    checkCondition(condition, fields: byName, form: id, at: "\(fieldPath)/when")
                }
            }
        }
        checkConditionCycles(form, id: id, path: path)
        for (index, window) in (form.open ?? []).enumerated() {
            let windowPath = "\(path)/open/\(index)"
            for issue in window.issues() {
                let location = issue.key.isEmpty ? at(windowPath) : at("\(windowPath)/\(issue.key)")
                diagnostics.error(issue.code.replacingOccurrences(of: "_", with: "-"), at: location,
                                  "opening window \(index + 1) of form '\(id)': \(issue.message)", hint: issue.hint)
            }
            if let condition = window.when { checkCondition(condition, fields: byName, form: id, at: "\(windowPath)/when") }
        }
        for (index, deadline) in (form.deadlines ?? []).enumerated() {
            let deadlinePath = "\(path)/deadlines/\(index)"
            guard let field = byName[deadline.field] else {
                diagnostics.error("unknown-field", at: at("\(deadlinePath)/field"), "deadline field '\(deadline.field)' is not a field of form '\(id)'",
                                  hint: Suggest.hint(for: deadline.field, in: form.fields.filter { $0.type == .date }.map(\.name)))
                continue
            }
            if field.type != .date {
                diagnostics.error("invalid-field-type", at: at("\(deadlinePath)/field"),
                                  "deadline field '\(deadline.field)' of form '\(id)' is a \(field.type.rawValue) field; a deadline counts from a date field",
                                  hint: form.fields.first { $0.type == .date }.map { "for example field: \($0.name)" })
            }
            if RequestFormRules.lastDay(after: CalendarDay(year: 2026, month: 1, day: 1), within: deadline.within) == nil {
                diagnostics.error("invalid-value", at: at("\(deadlinePath)/within"), "a deadline counts whole days: '\(deadline.within)' is shorter",
                                  hint: "write it in d, w, mo or y, e.g. 3d")
            }
        }
        let lifecycle = form.lifecycle ?? []
        for status in form.statusLabels?.keys ?? [] where !lifecycle.contains(status) && !RequestFormRules.platformStatuses.contains(status) {
            diagnostics.warning("unused-status-label", at: key("\(path)/status_labels/\(status)"),
                                "status_labels names '\(status)', which is not in the lifecycle of form '\(id)'",
                                hint: Suggest.hint(for: status, in: lifecycle))
        }
        for (index, status) in lifecycle.enumerated()
        where form.statusLabels?[status] == nil && !RequestFormRules.platformStatuses.contains(status) {
            diagnostics.error("missing-status-label", at: at("\(path)/lifecycle/\(index)"),
                              "status '\(status)' of form '\(id)' has no label: customers would read the raw word",
                              hint: "add status_labels: {\(status): {it: …, en: …}} to the form, or use a platform status: \(RequestFormRules.platformStatuses.joined(separator: ", "))")
        }
    }

    /// Keys that belong to some types only, and bounds that must read as the field's values.
    private mutating func checkTypedKeys(_ field: FormField, at path: String) {
        let ordered: [FormFieldType: FieldType] = [.integer: .integer, .decimal: .decimal, .date: .date]
        for (name, text) in [("min", field.min), ("max", field.max)] {
            guard let text else { continue }
            guard let type = ordered[field.type] else {
                diagnostics.error("invalid-option", at: key("\(path)/\(name)"), "\(name) applies only to integer, decimal and date fields")
                continue
            }
            if FieldBound(text, type: type, scale: field.scale ?? 2) == nil {
                diagnostics.error("invalid-value", at: at("\(path)/\(name)"), "'\(text)' is not a bound of a \(field.type.rawValue) field",
                                  hint: type == .date ? "a day (2026-01-31), today, or a distance such as -3d, +1mo, -18y" : "a number such as 0 or 99.99")
            }
        }
        if let min = field.min, let max = field.max, let type = ordered[field.type], type != .date,
           let low = FieldBound(min, type: type, scale: field.scale ?? 2)?.value(today: CalendarDay(year: 2026, month: 1, day: 1)),
           let high = FieldBound(max, type: type, scale: field.scale ?? 2)?.value(today: CalendarDay(year: 2026, month: 1, day: 1)),
           Self.isGreater(low, high) {
            diagnostics.error("empty-range", at: at("\(path)/min"), "min \(min) is above max \(max): no value would be accepted")
        }
        if field.scale != nil, field.type != .decimal {
            diagnostics.error("invalid-option", at: key("\(path)/scale"), "scale applies only to decimal fields")
        } else if let scale = field.scale, !(0...9).contains(scale) {
            diagnostics.error("invalid-value", at: at("\(path)/scale"), "scale must be between 0 and 9")
        }
        if let source = field.optionsFrom {
            if field.type != .choice {
                diagnostics.error("invalid-option", at: key("\(path)/options_from"), "options_from applies only to choice fields")
            } else if RequestFormRules.enumField(source, in: definition) == nil {
                let enums = (definition.customerFields ?? OrderedMap()).filter { $0.value.type == .enumeration }.map(\.key)
                    + definition.recordKinds.flatMap { kind in kind.value.fields.filter { $0.value.type == .enumeration }.map { "\(kind.key).\($0.key)" } }
                diagnostics.error("unknown-field", at: at("\(path)/options_from"), "options_from '\(source)' names no enum field",
                                  hint: Suggest.hint(for: source, in: enums) ?? (enums.isEmpty ? "define an enum field under customer_fields or a record kind" : "enum fields: \(enums.joined(separator: ", "))"))
            }
            if field.options != nil {
                diagnostics.error("invalid-option", at: key("\(path)/options"), "give either options or options_from, not both")
            }
        }
    }

    private static func isGreater(_ low: FieldValue, _ high: FieldValue) -> Bool {
        switch (low, high) {
        case (.integer(let a), .integer(let b)): a > b
        case (.decimal(let a), .decimal(let b)): a > b
        default: false
        }
    }

    /// A condition names a field of the form (or a field of the kind a `record` field picks) and values that field
    /// can hold; `equals`, `in` and `filled` exclude one another.
    private mutating func checkCondition(_ condition: FormCondition, fields: [String: FormField], form: String, at path: String) {
        let base = RequestFormRules.baseField(of: condition.field)
        let given = [condition.equals != nil, condition.in != nil, condition.filled != nil].filter { $0 }.count
        if given > 1 {
            diagnostics.error("invalid-condition", at: at(path), "a condition takes one of equals, in or filled", hint: "keep the one you mean")
        }
        guard let field = fields[base] else {
            diagnostics.error("unknown-field", at: at("\(path)/field"), "condition on '\(condition.field)': '\(base)' is not a field of form '\(form)'",
                              hint: Suggest.hint(for: base, in: Array(fields.keys)))
            return
        }
        var options: [String]?
        if condition.field.contains(".") {
            let sub = String(condition.field.dropFirst(base.count + 1))
            guard field.type == .record, let kindID = field.kind, let kind = definition.recordKinds[kindID] else {
                diagnostics.error("invalid-condition", at: at("\(path)/field"),
                                  "condition on '\(condition.field)': only a record field has fields of its own ('\(base)' is a \(field.type.rawValue) field)")
                return
            }
            guard let recordField = kind.fields[sub] else {
                diagnostics.error("unknown-field", at: at("\(path)/field"), "condition on '\(condition.field)': '\(sub)' is not a field of record kind '\(kindID)'",
                                  hint: Suggest.hint(for: sub, in: kind.fields.keys))
                return
            }
            if recordField.type == .enumeration { options = recordField.options?.keys }
            if recordField.type == .boolean { options = ["true", "false"] }
        } else {
            switch field.type {
            case .choice: options = field.optionsFrom.flatMap { RequestFormRules.enumField($0, in: definition)?.options?.keys } ?? field.options
            case .boolean: options = ["true", "false"]
            case .attachment, .person, .lines:
                if condition.filled == nil {
                    diagnostics.error("invalid-condition", at: at("\(path)/field"),
                                      "a condition on the \(field.type.rawValue) field '\(base)' can only ask whether it is filled", hint: "write filled: true")
                }
            default: break
            }
        }
        guard let options else { return }
        let values = (condition.equals.map { [$0] } ?? []) + (condition.in ?? [])
        for (index, value) in values.enumerated() where !options.contains(value) {
            let valuePath = condition.equals != nil ? "\(path)/equals" : "\(path)/in/\(index)"
            diagnostics.error("invalid-value", at: at(valuePath), "'\(value)' is not a value of '\(condition.field)'",
                              hint: Suggest.hint(for: value, in: options) ?? "values: \(options.joined(separator: ", "))")
        }
    }

    /// Fields waiting for one another in a circle would never show.
    private mutating func checkConditionCycles(_ form: RequestForm, id: String, path: String) {
        let waitsFor = Dictionary(form.fields.compactMap { field in field.when.map { (field.name, RequestFormRules.baseField(of: $0.field)) } },
                                  uniquingKeysWith: { first, _ in first })
        for (index, field) in form.fields.enumerated() {
            var seen: [String] = [field.name]
            var current = field.name
            while let next = waitsFor[current], next != field.name || seen.count == 1 {
                if next == field.name || seen.contains(next) { break }
                seen.append(next)
                current = next
            }
            if waitsFor[current] == field.name, seen.count > 1 {
                diagnostics.error("condition-cycle", at: at("\(path)/fields/\(index)/when/field"),
                                  "fields of form '\(id)' wait for one another in a circle: \((seen + [field.name]).joined(separator: " → "))",
                                  hint: "one of them must not depend on the others")
            }
        }
    }
}
