import Foundation

/// A half-open period `[from, to)` in Unix seconds.
public struct TimeRange: Sendable, Equatable, CustomStringConvertible {
    public var from: Int64
    public var to: Int64

    public init(from: Int64, to: Int64) {
        self.from = from
        self.to = to
    }

    public var seconds: Int64 { to - from }
    public var description: String { "\(CalendarDay(instant: from))…\(CalendarDay(instant: to - 1))" }
}

/// A day as `YYYY-MM-DD` in the portals' time zone (Europe/Rome).
public struct CalendarDay: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let timeZone = TimeZone(identifier: "Europe/Rome") ?? .gmt
    public static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }()

    public var year: Int, month: Int, day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    public init(instant: Int64) {
        let time = LocalTime(instant: instant)
        self.init(year: time.year, month: time.month, day: time.day)
    }

    /// Parses `YYYY-MM-DD`; nil for anything else or an impossible date.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]) else { return nil }
        self.init(year: year, month: month, day: day)
        guard let date = Self.calendar.date(from: DateComponents(year: year, month: month, day: day)),
              CalendarDay(instant: Int64(date.timeIntervalSince1970)) == self else { return nil }
    }

    /// Midnight at the start of the day, Unix seconds.
    public var startInstant: Int64 {
        let date = Self.calendar.date(from: DateComponents(year: year, month: month, day: day)) ?? .distantPast
        return Int64(date.timeIntervalSince1970)
    }

    /// Moves by whole months (clamping the day to the month's length: 29 Feb 2028 − 24 months is
    /// 28 Feb 2026) and then by days.
    public func adding(days: Int = 0, months: Int = 0) -> CalendarDay {
        let monthIndex = year * 12 + (month - 1) + months
        let targetYear = monthIndex >= 0 ? monthIndex / 12 : (monthIndex - 11) / 12
        let targetMonth = monthIndex - targetYear * 12 + 1
        var moved = CalendarDay(year: targetYear, month: targetMonth, day: min(day, Self.daysIn(year: targetYear, month: targetMonth)))
        if days != 0 {
            let start = Date(timeIntervalSince1970: TimeInterval(moved.startInstant) + 12 * 3600)
            let shifted = Self.calendar.date(byAdding: .day, value: days, to: start) ?? start
            moved = CalendarDay(instant: Int64(shifted.timeIntervalSince1970))
        }
        return moved
    }

    static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public var description: String {
        LocalTime.pad(year, 4) + "-" + LocalTime.pad(month) + "-" + LocalTime.pad(day)
    }

    public static func < (lhs: CalendarDay, rhs: CalendarDay) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }
}

/// Why a request for records falls outside what the tenant lets its customers see.
public struct VisibilityError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The period starts before the earliest visible day.
        case beforeVisibilityWindow = "before_visibility_window"
        /// An export spans more than the tenant's longest export.
        case exportRangeTooLong = "export_range_too_long"
        /// The period ends before it starts.
        case emptyRange = "empty_range"
    }

    public var code: Code
    public var kind: RecordKind
    /// The first day that may be asked for, for `beforeVisibilityWindow`.
    public var earliestDay: CalendarDay?
    /// The longest export in days, for `exportRangeTooLong`.
    public var maximumDays: Int?

    public var description: String {
        switch code {
        case .beforeVisibilityWindow:
            "\(kind.rawValue) are visible from \(earliestDay.map(String.init(describing:)) ?? "?") only"
        case .exportRangeTooLong:
            "an export of \(kind.rawValue) may span at most \(maximumDays ?? 0) days"
        case .emptyRange:
            "the period ends before it starts"
        }
    }
}

/// The visibility windows a tenant's retention rules impose, resolved against "now".
///
/// `visible_for` in months counts calendar months back from today (24mo on 21 November 2026 starts on
/// 21 November 2024); in days or weeks it counts calendar days back from today. Both include today.
public struct VisibilityWindows: Sendable {
    private let rules: [RecordKind: RetentionRule]

    public init(tenant: TenantDefinition) {
        var rules: [RecordKind: RetentionRule] = [:]
        for (name, rule) in tenant.retention ?? OrderedMap() {
            if let kind = RecordKind(rawValue: name) { rules[kind] = rule }
        }
        self.rules = rules
    }

    private init(rules: [RecordKind: RetentionRule]) { self.rules = rules }

    /// No window at all: what the provider's own systems see (a payment confirmed for an invoice that has since left
    /// the customer's window is still recorded against it).
    public static let unlimited = VisibilityWindows(rules: [:])

    /// The first visible day for `kind`, or nil when the tenant sets no window.
    public func earliestDay(for kind: RecordKind, now: Int64) -> CalendarDay? {
        guard let visible = rules[kind]?.visibleFor else { return nil }
        let today = CalendarDay(instant: now)
        if let months = visible.calendarMonths { return today.adding(months: -months) }
        return today.adding(days: -Int(min(Int64(visible.seconds), Int64(DurationSpec.longestSeconds)) / 86_400))
    }

    /// The first day of the account statement: the later of the statement's own window and the invoices'
    /// (a statement row never leads to an invoice the customer may no longer open). Nil when neither is set.
    public func statementEarliestDay(now: Int64) -> CalendarDay? {
        switch (earliestDay(for: .statements, now: now), earliestDay(for: .invoices, now: now)) {
        case let (statements?, invoices?): max(statements, invoices)
        case let (statements?, nil): statements
        case let (nil, invoices?): invoices
        case (nil, nil): nil
        }
    }

    /// The longest export in whole days for `kind`, or nil when unlimited.
    public func exportMaximumDays(for kind: RecordKind) -> Int? {
        guard let range = rules[kind]?.exportMaxRange else { return nil }
        return range.calendarMonths.map { $0 * 31 } ?? max(1, range.seconds / 86_400)
    }

    /// The visible part of a request: the default period when none is asked (the whole window up to now),
    /// or the asked period after checking it starts inside the window (an error, never a silent cut).
    public func resolve(_ kind: RecordKind, requested: TimeRange?, now: Int64, export: Bool = false) throws(VisibilityError) -> TimeRange {
        let earliest = earliestDay(for: kind, now: now)
        let range = requested ?? TimeRange(from: earliest?.startInstant ?? 0, to: now + 1)
        guard range.to > range.from else { throw VisibilityError(code: .emptyRange, kind: kind) }
        if let earliest, range.from < earliest.startInstant {
            throw VisibilityError(code: .beforeVisibilityWindow, kind: kind, earliestDay: earliest)
        }
        if export, let days = exportMaximumDays(for: kind), range.seconds > Int64(days) * 86_400 + 3_600 {
            // One hour of slack: a 90-day period that crosses a DST change is 90 days ± 1 h long.
            throw VisibilityError(code: .exportRangeTooLong, kind: kind, maximumDays: days)
        }
        return range
    }

    /// The visible part for day-dated records (invoices): the first visible day, checked like `resolve`.
    public func resolveDays(_ kind: RecordKind, from: CalendarDay?, now: Int64) throws(VisibilityError) -> CalendarDay? {
        let earliest = earliestDay(for: kind, now: now)
        guard let from else { return earliest }
        if let earliest, from < earliest {
            throw VisibilityError(code: .beforeVisibilityWindow, kind: kind, earliestDay: earliest)
        }
        return from
    }
}
