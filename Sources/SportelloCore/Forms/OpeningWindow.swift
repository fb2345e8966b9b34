import Foundation

/// A calendar window in which a request form (or one branch of it) accepts submissions: every constraint it
/// gives holds at once, read in the tenant's time zone. Written compactly in YAML, e.g.
/// `{days: "1-10", hours: "09:00-18:00"}`, `{last_days: 5}`, `{weekdays: "mon-fri"}`, `{months: "11-12"}`,
/// `{from: 2026-11-01, until: 2026-12-15}`; `when:` makes the window apply only to some submissions.
public struct OpeningWindow: Decodable, Sendable {
    /// Days of the month, comma-separated numbers or ranges: `"1-10, 20-25"`.
    public var days: String?
    /// The last N days of each month (`3`: the 28th to the 30th of a 30-day month).
    public var lastDays: Int?
    /// Days of the week, comma-separated names or ranges of `mon`…`sun`: `"mon-fri"`, `"sat, sun"`.
    public var weekdays: String?
    /// Times of day, comma-separated `HH:MM-HH:MM` ranges, the end excluded (`24:00` is the day's end).
    public var hours: String?
    /// Months, comma-separated numbers 1–12 or ranges: a window that comes back every year.
    public var months: String?
    /// First day the window is open, `YYYY-MM-DD`.
    public var from: String?
    /// Last day the window is open, `YYYY-MM-DD` (included).
    public var until: String?
    /// The window applies only to submissions meeting this condition (a different window per record kind…).
    public var when: FormCondition?

    public init(days: String? = nil, lastDays: Int? = nil, weekdays: String? = nil, hours: String? = nil,
                months: String? = nil, from: String? = nil, until: String? = nil, when: FormCondition? = nil) {
        self.days = days; self.lastDays = lastDays; self.weekdays = weekdays; self.hours = hours
        self.months = months; self.from = from; self.until = until; self.when = when
    }
}

/// One problem of an opening window, as `sportello validate` reports it.
public struct OpeningWindowIssue: Sendable, Equatable {
    /// The window's key at fault as written in YAML (`days`, `last_days`, `weekdays`, `hours`, `months`, `from`,
    /// `until`), or `""` for the whole window.
    public var key: String
    /// Stable code: `invalid_days`, `invalid_weekdays`, `invalid_hours`, `invalid_months`, `invalid_last_days`,
    /// `invalid_date`, `from_after_until`, `empty_window` or `never_opens`.
    public var code: String
    /// What is wrong, in English.
    public var message: String
    /// How to fix it, when there is an obvious way.
    public var hint: String?

    public init(key: String, code: String, message: String, hint: String? = nil) {
        self.key = key; self.code = code; self.message = message; self.hint = hint
    }
}

extension OpeningWindow {
    /// Every problem of the window: each malformed key, an empty window (it would always be open), and
    /// `never_opens` when it is well-formed but no day can match all its constraints together.
    public func issues() -> [OpeningWindowIssue] {
        let (rules, issues) = parse()
        guard let rules else { return issues }
        // Scanning 28 years covers every combination of weekday, day, month and leap year (from 2000 on).
        let first = rules.from ?? CivilDays.number(year: 2000, month: 1, day: 1)
        let start = CivilDays.civil(first)
        let last = min(rules.until ?? .max, CivilDays.number(year: start.year + 28, month: start.month, day: 1))
        var day = first
        while day <= last {
            if rules.matches(day: day) { return [] }
            day += 1
        }
        let given = [("days", days != nil), ("last_days", lastDays != nil), ("weekdays", weekdays != nil),
                     ("months", months != nil), ("from", from != nil), ("until", until != nil)]
            .filter(\.1).map(\.0).joined(separator: ", ")
        return [OpeningWindowIssue(key: "", code: "never_opens",
                                   message: "the window never opens: no day matches \(given) together",
                                   hint: "check that the days, weekdays and months given can fall on the same day")]
    }

    /// Whether the window is open at `instant`, its constraints read on the wall clock of `timeZone`; false for a
    /// window with issues.
    public func isOpen(at instant: Date, in timeZone: TimeZone) -> Bool {
        guard let rules = parse().rules else { return false }
        return rules.contains(instant.timeIntervalSince1970, offset: timeZone.secondsFromGMT(for: instant))
    }

    /// The first instant at or after `instant` when the window is open (`instant` itself when open now); nil when
    /// it does not open again within about three years, or has issues. A time skipped by a daylight-saving change
    /// opens at the first instant that exists after it (`02:30` on a spring-forward day opens at `03:00`).
    public func nextOpening(after instant: Date, in timeZone: TimeZone) -> Date? {
        guard let rules = parse().rules else { return nil }
        let now = instant.timeIntervalSince1970
        let today = CivilDays.localDay(of: now, offset: timeZone.secondsFromGMT(for: instant))
        var timeline = OffsetTimeline(timeZone: timeZone)
        var best: Double?
        var foundOn: Int?
        var day = max(today - 1, rules.from ?? .min)
        let last = min(today + Self.horizonDays, rules.until ?? .max)
        while day <= last {
            if let interval = rules.intervals(onDay: day, timeline: &timeline).first(where: { $0.end > now }) {
                let start = max(interval.start, now)
                best = min(best ?? start, start)
                foundOn = foundOn ?? day
            }
            // A later day's interval can precede an earlier one's only around a change that turns the clock back
            // across midnight: one more day settles it.
            if let foundOn, day > foundOn { break }
            day += 1
        }
        guard let best else { return nil }
        return best == now ? instant : Date(timeIntervalSince1970: best)
    }

    /// While the window is open at `instant`, the instant it stops being open: consecutive open days and hour
    /// ranges merge (open all day on 1–10 December, it closes at 11 December 00:00 local). Nil when it is not
    /// open at `instant`, or stays open beyond about three years.
    public func closing(after instant: Date, in timeZone: TimeZone) -> Date? {
        guard let rules = parse().rules else { return nil }
        let now = instant.timeIntervalSince1970
        let offset = timeZone.secondsFromGMT(for: instant)
        guard rules.contains(now, offset: offset) else { return nil }
        let today = CivilDays.localDay(of: now, offset: offset)
        var timeline = OffsetTimeline(timeZone: timeZone)
        var end = now
        var pending: [Interval] = []
        var day = today - 1
        while true {
            guard day <= today + Self.horizonDays else { return nil }
            pending += rules.intervals(onDay: day, timeline: &timeline)
            var extended = true
            while extended {
                extended = false
                for interval in pending where interval.start <= end && interval.end > end {
                    end = interval.end
                    extended = true
                }
                pending.removeAll { $0.end <= end }
            }
            // Only intervals of the day `end` falls on (or earlier ones) can start at `end`.
            let endDay = CivilDays.localDay(of: end, offset: timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: end)))
            if day > endDay { break }
            day += 1
        }
        return Date(timeIntervalSince1970: end)
    }

    /// How far `nextOpening` and `closing` look, in days (about three years).
    static let horizonDays = 3 * 366 + 2

    // MARK: Parsing

    /// The window's constraints, parsed; nil rules when there is any issue (never_opens aside, which needs a scan).
    func parse() -> (rules: OpeningRules?, issues: [OpeningWindowIssue]) {
        var issues: [OpeningWindowIssue] = []
        var rules = OpeningRules()
        if days == nil, lastDays == nil, weekdays == nil, hours == nil, months == nil, from == nil, until == nil {
            return (nil, [OpeningWindowIssue(key: "", code: "empty_window",
                                             message: "the window gives no constraint, so it would always be open",
                                             hint: "remove it, or give days, last_days, weekdays, hours, months, from or until")])
        }
        if let days {
            let listHint = "write days of the month and ranges such as \"1-10, 20-25\""
            let (set, problems) = Self.parseList(days, count: 31, wraps: false) { Int($0).flatMap { (1...31).contains($0) ? $0 : nil } }
            for problem in problems {
                switch problem {
                case .empty:
                    issues.append(OpeningWindowIssue(key: "days", code: "invalid_days", message: "days is empty", hint: listHint))
                case .badItem(let item):
                    issues.append(OpeningWindowIssue(key: "days", code: "invalid_days",
                                                     message: "days: \"\(item)\" is not a day of the month (1 to 31) or a range of them",
                                                     hint: listHint))
                case .backwards(let item, let low, let high):
                    issues.append(OpeningWindowIssue(key: "days", code: "invalid_days",
                                                     message: "days: the range \"\(item)\" runs backwards; a range cannot wrap past the month's end",
                                                     hint: "write \"\(low)-31, 1-\(high)\""))
                }
            }
            rules.days = set
        }
        if let lastDays {
            if (1...28).contains(lastDays) {
                rules.lastDays = lastDays
            } else {
                issues.append(OpeningWindowIssue(key: "last_days", code: "invalid_last_days",
                                                 message: "last_days must be 1 to 28, not \(lastDays)",
                                                 hint: "every month has at least 28 days; for given days of the month use days"))
            }
        }
        if let weekdays {
            let listHint = "write mon, tue, wed, thu, fri, sat, sun, or ranges such as \"mon-fri\" or \"fri-mon\""
            let (set, problems) = Self.parseList(weekdays, count: 7, wraps: true) { Self.weekdayNames.firstIndex(of: $0.lowercased()).map { $0 + 1 } }
            for problem in problems {
                switch problem {
                case .empty:
                    issues.append(OpeningWindowIssue(key: "weekdays", code: "invalid_weekdays", message: "weekdays is empty", hint: listHint))
                case .badItem(let item), .backwards(let item, _, _):
                    issues.append(OpeningWindowIssue(key: "weekdays", code: "invalid_weekdays",
                                                     message: "weekdays: \"\(item)\" is not a day of the week or a range of them",
                                                     hint: listHint))
                }
            }
            rules.weekdays = set
        }
        if let hours {
            let (ranges, hourIssues) = Self.parseHours(hours)
            issues += hourIssues
            rules.hours = ranges
        }
        if let months {
            let listHint = "write months 1 to 12 and ranges such as \"3\", \"11-12\" or \"11-2\""
            let (set, problems) = Self.parseList(months, count: 12, wraps: true) { Int($0).flatMap { (1...12).contains($0) ? $0 : nil } }
            for problem in problems {
                switch problem {
                case .empty:
                    issues.append(OpeningWindowIssue(key: "months", code: "invalid_months", message: "months is empty", hint: listHint))
                case .badItem(let item), .backwards(let item, _, _):
                    issues.append(OpeningWindowIssue(key: "months", code: "invalid_months",
                                                     message: "months: \"\(item)\" is not a month (1 to 12) or a range of them",
                                                     hint: listHint))
                }
            }
            rules.months = set
        }
        func date(_ text: String?, key: String) -> Int? {
            guard let text else { return nil }
            guard let day = CalendarDay(text.trimmingCharacters(in: .whitespaces)) else {
                issues.append(OpeningWindowIssue(key: key, code: "invalid_date", message: "\(key): \"\(text)\" is not a date",
                                                 hint: "write YYYY-MM-DD, e.g. 2026-11-01"))
                return nil
            }
            return CivilDays.number(year: day.year, month: day.month, day: day.day)
        }
        rules.from = date(from, key: "from")
        rules.until = date(until, key: "until")
        if let first = rules.from, let last = rules.until, first > last {
            issues.append(OpeningWindowIssue(key: "until", code: "from_after_until",
                                             message: "from \(from ?? "") is after until \(until ?? "")",
                                             hint: "from is the first day the window is open, until the last (both included)"))
        }
        return (issues.isEmpty ? rules : nil, issues)
    }

    static let weekdayNames = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    enum ListProblem { case empty, badItem(String), backwards(String, Int, Int) }

    /// Parses comma-separated values `1...count` and `a-b` ranges (`a > b` wraps around when `wraps`) into a
    /// membership table indexed by value.
    static func parseList(_ text: String, count: Int, wraps: Bool, value: (String) -> Int?) -> (set: [Bool], problems: [ListProblem]) {
        var set = [Bool](repeating: false, count: count + 1)
        var problems: [ListProblem] = []
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if items.allSatisfy(\.isEmpty) { return (set, [.empty]) }
        for item in items {
            let ends = item.split(separator: "-", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard (1...2).contains(ends.count), let low = value(ends[0]), let high = value(ends[ends.count - 1]) else {
                problems.append(.badItem(item))
                continue
            }
            if low <= high {
                for index in low...high { set[index] = true }
            } else if wraps {
                for index in low...count { set[index] = true }
                for index in 1...high { set[index] = true }
            } else {
                problems.append(.backwards(item, low, high))
            }
        }
        return (set, problems)
    }

    /// Parses `HH:MM-HH:MM` ranges into sorted, merged minute ranges of the day, the end excluded.
    static func parseHours(_ text: String) -> (ranges: [OpeningRules.Minutes], issues: [OpeningWindowIssue]) {
        var ranges: [OpeningRules.Minutes] = []
        var issues: [OpeningWindowIssue] = []
        let listHint = "write ranges such as \"09:00-13:00, 14:00-18:00\" (the end excluded, 24:00 for the day's end)"
        func issue(_ message: String, _ hint: String = listHint) {
            issues.append(OpeningWindowIssue(key: "hours", code: "invalid_hours", message: "hours: \(message)", hint: hint))
        }
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if items.allSatisfy(\.isEmpty) { issue("empty"); return ([], issues) }
        for item in items {
            let ends = item.split(separator: "-", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard ends.count == 2, let start = minutes(ends[0]), let end = minutes(ends[1]) else {
                issue("\"\(item)\" is not a range of times HH:MM-HH:MM")
                continue
            }
            if start == 24 * 60 {
                issue("\"\(item)\" starts at 24:00, which can only end a range", "start at 00:00 instead")
            } else if start == end {
                issue("\"\(item)\" is empty: it ends when it starts", "give an end after the start")
            } else if start > end {
                issue("\"\(item)\" ends before it starts; a range cannot cross midnight",
                      "split it into two windows, one with \"\(ends[0])-24:00\" and one with \"00:00-\(ends[1])\" on the following days")
            } else {
                ranges.append(OpeningRules.Minutes(start: start, end: end))
            }
        }
        ranges.sort { $0.start < $1.start }
        var merged: [OpeningRules.Minutes] = []
        for range in ranges {
            if let last = merged.last, range.start <= last.end {
                merged[merged.count - 1].end = max(last.end, range.end)
            } else {
                merged.append(range)
            }
        }
        return (merged, issues)
    }

    /// `HH:MM` (or `H:MM`) as minutes of the day; `24:00` is 1440.
    static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let hour = Int(parts[0]), let minute = Int(parts[1]), minute < 60 else { return nil }
        if hour == 24 && minute == 0 { return 24 * 60 }
        return hour < 24 ? hour * 60 + minute : nil
    }
}

/// An open period `[start, end)` in Unix seconds.
struct Interval: Equatable {
    var start: Double
    var end: Double
}

/// The parsed constraints of a well-formed window. Days are numbered from 1970-01-01 (day 0) on the local calendar.
struct OpeningRules {
    struct Minutes: Equatable {
        var start: Int
        var end: Int
    }

    /// Membership tables indexed by day 1–31, ISO weekday 1 (Monday)–7, month 1–12; nil when not constrained.
    var days: [Bool]?
    var lastDays: Int?
    var weekdays: [Bool]?
    var months: [Bool]?
    var hours: [Minutes] = [Minutes(start: 0, end: 24 * 60)]
    var from: Int?
    var until: Int?

    /// Whether the local calendar day `day` matches every day constraint.
    func matches(day: Int) -> Bool {
        if let from, day < from { return false }
        if let until, day > until { return false }
        let date = CivilDays.civil(day)
        if let months, !months[date.month] { return false }
        if let days, !days[date.day] { return false }
        if let lastDays, date.day <= CalendarDay.daysIn(year: date.year, month: date.month) - lastDays { return false }
        if let weekdays, !weekdays[CivilDays.isoWeekday(day)] { return false }
        return true
    }

    /// Whether the instant `seconds` (Unix), whose zone offset is `offset`, is open.
    func contains(_ seconds: Double, offset: Int) -> Bool {
        let wall = seconds + Double(offset)
        let day = Int((wall / 86_400).rounded(.down))
        let second = wall - Double(day) * 86_400
        return matches(day: day) && hours.contains { Double($0.start * 60) <= second && second < Double($0.end * 60) }
    }

    /// The instants whose wall clock falls on local day `day` inside one of the hour ranges, sorted and merged.
    /// Across a daylight-saving change a range may be shorter, longer or split in two.
    func intervals(onDay day: Int, timeline: inout OffsetTimeline) -> [Interval] {
        guard matches(day: day) else { return [] }
        let dayStart = Double(day) * 86_400
        var found: [Interval] = []
        // Zone offsets lie within −12 h…+14 h: these instants cover every wall-clock time of the day.
        for segment in timeline.segments(from: dayStart - 18 * 3600, to: dayStart + 42 * 3600) {
            for range in hours {
                let start = max(segment.start, dayStart + Double(range.start * 60 - segment.offset))
                let end = min(segment.end, dayStart + Double(range.end * 60 - segment.offset))
                if start < end { found.append(Interval(start: start, end: end)) }
            }
        }
        found.sort { $0.start < $1.start }
        var merged: [Interval] = []
        for interval in found {
            if let last = merged.last, interval.start <= last.end {
                merged[merged.count - 1].end = max(last.end, interval.end)
            } else {
                merged.append(interval)
            }
        }
        return merged
    }
}

/// A time zone's offsets read forward in time, caching its transitions (a scan asks for overlapping spans day
/// after day).
struct OffsetTimeline {
    struct Segment {
        var start: Double
        var end: Double
        /// Seconds east of UTC in `[start, end)`.
        var offset: Int
    }

    let timeZone: TimeZone
    /// Offset changes, sorted: each offset holds until the next change.
    private var changes: [(at: Double, offset: Int)] = []
    /// Transitions are known up to here.
    private var knownUntil = -Double.infinity
    private var exhausted = false

    init(timeZone: TimeZone) {
        self.timeZone = timeZone
    }

    /// The spans of constant offset covering `[start, end)`.
    mutating func segments(from start: Double, to end: Double) -> [Segment] {
        if changes.isEmpty || start < changes[0].at {
            changes = [(start, timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: start)))]
            knownUntil = start
            exhausted = false
        }
        while !exhausted && knownUntil < end {
            guard let next = timeZone.nextDaylightSavingTimeTransition(after: Date(timeIntervalSince1970: knownUntil))?.timeIntervalSince1970,
                  next > knownUntil else {
                exhausted = true
                break
            }
            changes.append((next, timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: next))))
            knownUntil = next
        }
        while changes.count > 1 && changes[1].at <= start { changes.removeFirst() }
        var result: [Segment] = []
        for (index, change) in changes.enumerated() {
            let segmentEnd = index + 1 < changes.count ? changes[index + 1].at : .infinity
            let lower = max(start, change.at), upper = min(end, segmentEnd)
            if lower < upper { result.append(Segment(start: lower, end: upper, offset: change.offset)) }
        }
        return result
    }
}

/// Proleptic Gregorian day arithmetic on day numbers (1970-01-01 is day 0).
enum CivilDays {
    static func number(year: Int, month: Int, day: Int) -> Int {
        let shifted = month <= 2 ? year - 1 : year
        let era = (shifted >= 0 ? shifted : shifted - 399) / 400
        let yearOfEra = shifted - era * 400
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(_ number: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = number + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// 1 for Monday … 7 for Sunday (1970-01-01 was a Thursday).
    static func isoWeekday(_ number: Int) -> Int {
        ((number % 7 + 7 + 3) % 7) + 1
    }

    /// The local day number of the Unix instant `seconds` at zone offset `offset`.
    static func localDay(of seconds: Double, offset: Int) -> Int {
        Int(((seconds + Double(offset)) / 86_400).rounded(.down))
    }
}

/// The windows of a form: it accepts submissions in any window that applies.
public struct OpeningSchedule: Sendable {
    public let windows: [OpeningWindow]

    public init(_ windows: [OpeningWindow]) {
        self.windows = windows
    }

    /// Whether the form is open, and until when (nil: no end in sight), or when it opens next (nil: not within
    /// about three years).
    public enum Status: Sendable, Equatable {
        case open(until: Date?)
        case closed(nextOpening: Date?)
    }

    /// Windows apply when their `when` is nil or `applies(when)` is true; when no window applies, the form is always
    /// open (`.open(until: nil)`). Open when any applicable window is open, until the latest of their closings (nil
    /// when any of them has none); closed otherwise, with the earliest next opening among the applicable windows.
    public func status(at instant: Date, in timeZone: TimeZone, applies: (FormCondition) -> Bool) -> Status {
        let applicable = windows.filter { window in window.when.map(applies) ?? true }
        guard !applicable.isEmpty else { return .open(until: nil) }
        let open = applicable.filter { $0.isOpen(at: instant, in: timeZone) }
        if !open.isEmpty {
            var latest: Date?
            for window in open {
                guard let closing = window.closing(after: instant, in: timeZone) else { return .open(until: nil) }
                latest = max(latest ?? closing, closing)
            }
            return .open(until: latest)
        }
        let next = applicable.compactMap { $0.nextOpening(after: instant, in: timeZone) }.min()
        return .closed(nextOpening: next)
    }
}
