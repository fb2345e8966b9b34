import Foundation

extension TenantTest {
    /// `at` as an instant in `timeZone`: `yyyy-mm-dd` (midnight) or `yyyy-mm-ddThh:mm`; nil when it is neither.
    public static func instant(_ text: String, in timeZone: TimeZone) -> Date? {
        let parts = text.split(separator: "T", maxSplits: 1).map(String.init)
        guard let day = CalendarDay(parts[0]) else { return nil }
        var hour = 0, minute = 0
        if parts.count == 2 {
            let time = parts[1].split(separator: ":").map { Int($0) }
            guard time.count == 2, let h = time[0], let m = time[1], (0...23).contains(h), (0...59).contains(m) else { return nil }
            hour = h
            minute = m
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day, hour: hour, minute: minute))
    }

    /// An instant as tests write it, in `timeZone`: `yyyy-mm-ddThh:mm`.
    public static func text(of instant: Date, in timeZone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: instant)
        return String(format: "%04d-%02d-%02dT%02d:%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0, parts.minute ?? 0)
    }
}

extension TenantTestRunner {
    /// Runs a test's assertions on a request form's rules at `at` for `values`; returns how many it made.
    func runFormTest(_ test: TenantTest, fail: (String, String) -> Void) -> Int {
        guard let formId = test.form, let form = tenant.definition.requests?[formId] else {
            fail("form", "form '\(test.form ?? "")' does not exist")
            return 0
        }
        let rules = RequestFormRules(form: form, definition: tenant.definition)
        let zone = rules.timeZone
        let now: Date
        if let at = test.at {
            guard let parsed = TenantTest.instant(at, in: zone) else {
                fail("at", "'\(at)' is not yyyy-mm-dd or yyyy-mm-ddThh:mm")
                return 0
            }
            now = parsed
        } else {
            now = Date()
        }
        let values = Dictionary((test.values ?? OrderedMap()).map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        let shown = rules.shownFields(values)
        let when = test.at.map { " on \($0)" } ?? ""
        let given = values.isEmpty ? "" : " with \(values.keys.sorted().map { "\($0)=\(values[$0]!)" }.joined(separator: ", "))"
        var assertions = 0
        let status = rules.status(at: now, values: values.isEmpty ? nil : values)
        if let expected = test.open {
            assertions += 1
            let actual = if case .open = status { true } else { false }
            if actual != expected {
                var why = ""
                if case .closed(let next) = status { why = next.map { " (it opens \(TenantTest.text(of: $0, in: zone)))" } ?? " (it never opens again)" }
                fail("open", "expected form '\(formId)' to be \(expected ? "open" : "closed")\(when)\(given), but it is \(actual ? "open" : "closed")\(why)")
            }
        }
        if let expected = test.opensAt {
            assertions += 1
            switch status {
            case .open:
                fail("opens_at", "expected form '\(formId)' to be closed\(when)\(given) and open \(expected), but it is open")
            case .closed(let next):
                let actual = next.map { TenantTest.text(of: $0, in: zone) } ?? "never"
                let wanted = expected == "never" ? "never" : TenantTest.instant(expected, in: zone).map { TenantTest.text(of: $0, in: zone) } ?? expected
                if actual != wanted { fail("opens_at", "expected form '\(formId)'\(when)\(given) to open \(wanted), but it opens \(actual)") }
            }
        }
        for (position, field) in (test.shown ?? []).enumerated() {
            assertions += 1
            if !shown.contains(field) { fail("shown/\(position)", "expected field '\(field)' of form '\(formId)' to be shown\(given), but it is hidden") }
        }
        for (position, field) in (test.hidden ?? []).enumerated() {
            assertions += 1
            if shown.contains(field) { fail("hidden/\(position)", "expected field '\(field)' of form '\(formId)' to be hidden\(given), but it is shown") }
        }
        for (position, name) in (test.required ?? []).enumerated() {
            assertions += 1
            let field = form.fields.first { $0.name == name }
            if !shown.contains(name) || field?.required != true {
                fail("required/\(position)", "expected field '\(name)' of form '\(formId)' to be required\(given), but it is \(shown.contains(name) ? "optional" : "hidden")")
            }
        }
        if let expected = test.missedDeadlines {
            assertions += 1
            let missed = rules.missedDeadlines(values, today: tenant.definition.calendarDay(at: now)).map(\.field)
            if Set(missed) != Set(expected) {
                fail("missed_deadlines", "expected form '\(formId)'\(when)\(given) to miss the deadlines of [\(expected.joined(separator: ", "))], but it misses [\(missed.joined(separator: ", "))]")
            }
        }
        return assertions
    }
}

extension SemanticValidator {
    /// A test's form assertions: a known form, fields of it, a readable `at`.
    mutating func checkFormTest(_ test: TenantTest, at path: String) {
        let formKeys: [(String, Bool)] = [("at", test.at != nil), ("values", test.values != nil), ("open", test.open != nil),
                                          ("opens_at", test.opensAt != nil), ("shown", test.shown != nil), ("hidden", test.hidden != nil),
                                          ("required", test.required != nil), ("missed_deadlines", test.missedDeadlines != nil)]
        guard let formId = test.form else {
            if let (name, _) = formKeys.first(where: \.1) {
                diagnostics.error("missing-key", at: key("\(path)/\(name)"), "'\(name)' asserts a request form's rules: the test needs 'form'")
            }
            return
        }
        guard let form = definition.requests?[formId] else {
            diagnostics.error("unknown-form", at: at("\(path)/form"), "test form '\(formId)' is not a request form",
                              hint: Suggest.hint(for: formId, in: definition.requests?.keys ?? []))
            return
        }
        let names = form.fields.map(\.name)
        for (list, fields) in [("shown", test.shown), ("hidden", test.hidden), ("required", test.required), ("missed_deadlines", test.missedDeadlines)] {
            for (index, field) in (fields ?? []).enumerated() where !names.contains(field) {
                diagnostics.error("unknown-field", at: at("\(path)/\(list)/\(index)"), "'\(field)' is not a field of form '\(formId)'",
                                  hint: Suggest.hint(for: field, in: names))
            }
        }
        for key in test.values?.keys ?? [] where !names.contains(RequestFormRules.baseField(of: key)) {
            diagnostics.error("unknown-field", at: self.key("\(path)/values/\(key)"), "'\(key)' is not a field of form '\(formId)'",
                              hint: Suggest.hint(for: RequestFormRules.baseField(of: key), in: names))
        }
        let zone = definition.calendarTimeZone
        if let text = test.at, TenantTest.instant(text, in: zone) == nil {
            diagnostics.error("invalid-value", at: at("\(path)/at"), "'\(text)' is not a day or a time", hint: "yyyy-mm-dd or yyyy-mm-ddThh:mm, e.g. 2026-03-15T10:00")
        }
        if let text = test.opensAt, text != "never", TenantTest.instant(text, in: zone) == nil {
            diagnostics.error("invalid-value", at: at("\(path)/opens_at"), "'\(text)' is not a time", hint: "yyyy-mm-ddThh:mm, or never")
        }
        if test.at == nil, test.open != nil || test.opensAt != nil || test.missedDeadlines != nil {
            diagnostics.warning("test-without-date", at: at(path), "a test of when form '\(formId)' is open depends on the day it runs", hint: "give at: yyyy-mm-ddThh:mm")
        }
    }
}
