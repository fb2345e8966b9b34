import Foundation
import SportelloCore
import SportelloStore

/// What the usage page, its API and its export ask for: a line, a period, a kind of traffic, a page.
struct UsageSelection {
    /// WINDTRE's periods (seed: giorno, settimana corrente, mese in corso, ultimi tre mesi) plus a free range.
    enum Period: String, CaseIterable { case day, week, month, threeMonths = "3months", custom }
    /// WINDTRE's split of traffic (chiamate, messaggi, internet, opzioni e altro).
    enum Kind: String, CaseIterable {
        case all, calls, messages, internet, options

        var recordKinds: [String] {
            switch self {
            case .all: []
            case .calls: ["call"]
            case .messages: ["sms", "mms"]
            case .internet: ["data"]
            case .options: ["option", "other"]
            }
        }
    }

    var lineId: Int64?
    var period: Period = .month
    var day: CalendarDay?
    var from: CalendarDay?
    var to: CalendarDay?
    var kind: Kind = .all
    var after: UsageCursor?
    var limit = 50
    /// The resolved range (half-open, Unix seconds) and its first and last day.
    var range = TimeRange(from: 0, to: 1)
    var firstDay = CalendarDay(year: 1970, month: 1, day: 1)
    var lastDay = CalendarDay(year: 1970, month: 1, day: 1)

    /// Reads the query and resolves the period against `now`; problems name their field.
    static func read(_ query: (String) -> String?, now: Int64, text: (String, [String: String]) -> LocalizedText) -> (UsageSelection, [FieldProblem]) {
        var selection = UsageSelection()
        var problems: [FieldProblem] = []
        func value(_ name: String) -> String? {
            guard let raw = query(name)?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        if let line = value("line") {
            if let id = Int64(line), id > 0 { selection.lineId = id } else {
                problems.append(FieldProblem(field: "line", code: "invalid", message: text("usage.error.line", [:])))
            }
        }
        if let raw = value("period") {
            if let period = Period(rawValue: raw) { selection.period = period } else {
                problems.append(FieldProblem(field: "period", code: "invalid", message: text("usage.error.period", [:])))
            }
        } else if value("from") != nil || value("to") != nil {
            selection.period = .custom
        }
        if let raw = value("type") {
            if let kind = Kind(rawValue: raw) { selection.kind = kind } else {
                problems.append(FieldProblem(field: "type", code: "invalid", message: text("usage.error.type", [:])))
            }
        }
        if let raw = value("after") ?? value("cursor") {
            if let cursor = UsageCursor(raw) { selection.after = cursor } else {
                problems.append(FieldProblem(field: "cursor", code: "invalid", message: text("usage.error.cursor", [:])))
            }
        }
        if let raw = value("limit") {
            if let limit = Int(raw), (1...500).contains(limit) { selection.limit = limit } else {
                problems.append(FieldProblem(field: "limit", code: "invalid", message: text("usage.error.limit", [:])))
            }
        }
        func day(_ name: String) -> CalendarDay? {
            guard let raw = value(name) else { return nil }
            guard let parsed = CalendarDay(raw) else {
                problems.append(FieldProblem(field: name, code: "invalid_date", message: text("usage.error.date", [:])))
                return nil
            }
            return parsed
        }
        selection.day = day("day")
        selection.from = day("from")
        selection.to = day("to")

        let today = CalendarDay(instant: now)
        switch selection.period {
        case .day:
            let chosen = selection.day ?? today
            selection.firstDay = chosen
            selection.lastDay = chosen
        case .week:
            // The current week, Monday to today.
            let weekday = CalendarDay.calendar.component(.weekday, from: Date(timeIntervalSince1970: TimeInterval(today.startInstant + 43_200)))
            selection.firstDay = today.adding(days: -((weekday + 5) % 7))
            selection.lastDay = today
        case .month:
            selection.firstDay = CalendarDay(year: today.year, month: today.month, day: 1)
            selection.lastDay = today
        case .threeMonths:
            selection.firstDay = today.adding(months: -3)
            selection.lastDay = today
        case .custom:
            if selection.from == nil && !problems.contains(where: { $0.field == "from" }) {
                problems.append(FieldProblem(field: "from", code: "required", message: text("usage.error.from_required", [:])))
            }
            if selection.to == nil && !problems.contains(where: { $0.field == "to" }) {
                problems.append(FieldProblem(field: "to", code: "required", message: text("usage.error.to_required", [:])))
            }
            selection.firstDay = selection.from ?? today
            selection.lastDay = selection.to ?? today
            if let from = selection.from, let to = selection.to, to < from {
                problems.append(FieldProblem(field: "to", code: "empty_range", message: text("usage.error.empty_range", [:])))
            }
        }
        selection.range = TimeRange(from: selection.firstDay.startInstant, to: selection.lastDay.adding(days: 1).startInstant)
        return (selection, problems)
    }

    /// The query string of this selection (without the cursor), for links and forms.
    func query(line: Int64?, extra: [(String, String)] = []) -> String {
        var items: [(String, String)] = []
        if let line { items.append(("line", String(line))) }
        items.append(("period", period.rawValue))
        if period == .day, let day { items.append(("day", day.description)) }
        if period == .custom {
            items.append(("from", firstDay.description))
            items.append(("to", lastDay.description))
        }
        if kind != .all { items.append(("type", kind.rawValue)) }
        items += extra
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._")
        return items.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
    }

    /// A visibility error as a problem on the field that caused it, in the tenant's words.
    static func problem(for error: VisibilityError, field: String, text: (String, [String: String]) -> LocalizedText,
                        dayText: (CalendarDay) -> String) -> FieldProblem {
        switch error.code {
        case .beforeVisibilityWindow:
            return FieldProblem(field: field, code: error.code.rawValue,
                                message: text("usage.error.before_window", ["date": error.earliestDay.map(dayText) ?? ""]))
        case .exportRangeTooLong:
            return FieldProblem(field: "to", code: error.code.rawValue,
                                message: text("usage.error.export_too_long", ["days": String(error.maximumDays ?? 0)]))
        case .emptyRange:
            return FieldProblem(field: "to", code: error.code.rawValue, message: text("usage.error.empty_range", [:]))
        }
    }
}

/// How usage values read.
enum UsageFormat {
    static func duration(_ seconds: Int64) -> String {
        let hours = seconds / 3600, minutes = seconds % 3600 / 60, rest = seconds % 60
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, rest) : String(format: "%d:%02d", minutes, rest)
    }

    static func volume(_ bytes: Int64, locale: String) -> String {
        let megabytes = Double(bytes) / 1_000_000
        let text = megabytes >= 1000 ? String(format: "%.2f GB", megabytes / 1000) : String(format: "%.1f MB", megabytes)
        return locale == "en" ? text : text.replacingOccurrences(of: ".", with: ",")
    }
}
