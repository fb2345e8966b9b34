import Foundation
import Testing
@testable import SportelloCore

@Suite("Opening windows")
struct OpeningWindowTests {
    static let rome = TimeZone(identifier: "Europe/Rome")!
    static let newYork = TimeZone(identifier: "America/New_York")!

    /// A wall-clock time in `zone` (unambiguous times only).
    static func local(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0, in zone: TimeZone = rome) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute))!
    }

    /// An instant in UTC, for the wall-clock times a daylight-saving change makes ambiguous.
    static func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int = 0) -> Date {
        local(year, month, day, hour, minute, in: TimeZone(identifier: "UTC")!)
    }

    static func codes(_ window: OpeningWindow) -> [String] { window.issues().map(\.code) }

    // MARK: Issues

    @Test("each malformed key gives its code, collected over the whole window")
    func syntaxErrors() throws {
        let wrapped = OpeningWindow(days: "25-5").issues()
        #expect(wrapped.map(\.code) == ["invalid_days"] && wrapped[0].key == "days")
        #expect(wrapped[0].hint?.contains("\"25-31, 1-5\"") == true)
        for days in ["0", "32", "1-x", "", "1,,3", "1-2-3"] { #expect(Self.codes(OpeningWindow(days: days)) == ["invalid_days"], "\(days)") }
        for weekdays in ["monday", "mon-xyz", "", "lun"] { #expect(Self.codes(OpeningWindow(weekdays: weekdays)) == ["invalid_weekdays"], "\(weekdays)") }
        for months in ["0", "13", "1-13", "mar"] { #expect(Self.codes(OpeningWindow(months: months)) == ["invalid_months"], "\(months)") }
        for lastDays in [0, 29, -1] {
            #expect(OpeningWindow(lastDays: lastDays).issues().map { [$0.key, $0.code] } == [["last_days", "invalid_last_days"]])
        }
        for hours in ["9-17", "09:00", "09:60-10:00", "25:00-26:00", "24:00-24:00", "10:00-10:00", "", "09:00-13:00,"] {
            #expect(Self.codes(OpeningWindow(hours: hours)) == ["invalid_hours"], "\(hours)")
        }
        let midnight = try #require(OpeningWindow(hours: "22:00-02:00").issues().first)
        #expect(midnight.code == "invalid_hours" && midnight.hint?.contains("two windows") == true)
        #expect(OpeningWindow(from: "2026-02-30").issues().map { [$0.key, $0.code] } == [["from", "invalid_date"]])
        #expect(OpeningWindow(until: "26-02-01").issues().map { [$0.key, $0.code] } == [["until", "invalid_date"]])
        #expect(Self.codes(OpeningWindow(from: "2026-12-01", until: "2026-11-30")) == ["from_after_until"])
        #expect(Self.codes(OpeningWindow(from: "2026-12-01", until: "2026-12-01")) == [])
        let empty = OpeningWindow(when: FormCondition(field: "kind", equals: "gas")).issues()
        #expect(empty.map { [$0.key, $0.code] } == [["", "empty_window"]] && empty[0].hint != nil)
        #expect(Self.codes(OpeningWindow()) == ["empty_window"])
        let many = OpeningWindow(days: "25-5", weekdays: "mon-fry", hours: "18:00-09:00", months: "0")
        #expect(many.issues().map(\.key) == ["days", "weekdays", "hours", "months"])
        #expect(Self.codes(OpeningWindow(days: " 1 - 10 , 20-25 ", weekdays: "MON-Fri", hours: "9:00-13:00, 14:00-24:00", months: "11-2")) == [])
    }

    @Test("a well-formed window that no day can match never opens")
    func neverOpens() {
        let never = [
            OpeningWindow(days: "31", months: "2, 4"),
            OpeningWindow(days: "1-10", lastDays: 5),
            OpeningWindow(weekdays: "sat, sun", from: "2026-03-02", until: "2026-03-06"),
            OpeningWindow(days: "30", months: "2"),
        ]
        for window in never {
            #expect(window.issues().map { [$0.key, $0.code] } == [["", "never_opens"]])
            #expect(!window.isOpen(at: Self.local(2026, 3, 4, 12), in: Self.rome))
            #expect(window.nextOpening(after: Self.local(2026, 1, 1), in: Self.rome) == nil)
        }
        #expect(Self.codes(OpeningWindow(days: "29", months: "2")) == [])  // leap years
        #expect(Self.codes(OpeningWindow(days: "30-31", lastDays: 1)) == [])
        #expect(Self.codes(OpeningWindow(days: "13", weekdays: "fri", from: "2026-01-01")) == [])
        // A Friday 13 with no 13th of the month on a Friday between the two dates.
        #expect(Self.codes(OpeningWindow(days: "13", weekdays: "fri", from: "2026-03-14", until: "2026-11-12")) == ["never_opens"])
        let clock = ContinuousClock()
        let elapsed = clock.measure { _ = OpeningWindow(days: "31", months: "2, 4").issues() }
        #expect(elapsed < .milliseconds(50))
    }

    // MARK: Days, months, weekdays

    @Test("days across a month's end merge into one opening")
    func monthEnd() {
        let window = OpeningWindow(days: "25-31, 1-5")
        let april28 = Self.local(2026, 4, 28, 15)
        #expect(window.isOpen(at: april28, in: Self.rome))
        #expect(window.nextOpening(after: april28, in: Self.rome) == april28)
        #expect(window.closing(after: april28, in: Self.rome) == Self.local(2026, 5, 6))
        #expect(!window.isOpen(at: Self.local(2026, 5, 10), in: Self.rome))
        #expect(window.closing(after: Self.local(2026, 5, 10), in: Self.rome) == nil)
        #expect(window.nextOpening(after: Self.local(2026, 5, 10), in: Self.rome) == Self.local(2026, 5, 25))
        let december = OpeningWindow(days: "1-10", months: "12")
        #expect(december.nextOpening(after: Self.local(2026, 11, 30, 23, 59), in: Self.rome) == Self.local(2026, 12, 1))
        #expect(december.closing(after: Self.local(2026, 12, 5, 12), in: Self.rome) == Self.local(2026, 12, 11))
        #expect(december.nextOpening(after: Self.local(2026, 12, 11), in: Self.rome) == Self.local(2027, 12, 1))
        // Day 31 in a 30-day month never matches: the next one is in May.
        #expect(OpeningWindow(days: "31").nextOpening(after: Self.local(2026, 4, 1), in: Self.rome) == Self.local(2026, 5, 31))
    }

    @Test("last_days follows February's length in leap and common years")
    func lastDays() {
        let window = OpeningWindow(lastDays: 3)
        #expect(window.nextOpening(after: Self.local(2028, 2, 10), in: Self.rome) == Self.local(2028, 2, 27))
        #expect(!window.isOpen(at: Self.local(2028, 2, 26, 23, 59), in: Self.rome))
        #expect(window.isOpen(at: Self.local(2028, 2, 29, 23, 59), in: Self.rome))
        #expect(window.closing(after: Self.local(2028, 2, 27, 8), in: Self.rome) == Self.local(2028, 3, 1))
        #expect(window.nextOpening(after: Self.local(2026, 2, 10), in: Self.rome) == Self.local(2026, 2, 26))
        #expect(window.isOpen(at: Self.local(2026, 2, 26), in: Self.rome))
        #expect(window.closing(after: Self.local(2026, 2, 26), in: Self.rome) == Self.local(2026, 3, 1))
        #expect(window.nextOpening(after: Self.local(2026, 3, 1), in: Self.rome) == Self.local(2026, 3, 29))
    }

    @Test("weekday ranges wrap across the week")
    func weekdaysWrap() {
        let window = OpeningWindow(weekdays: "fri-mon")  // 2026-06-01 is a Monday
        #expect(!window.isOpen(at: Self.local(2026, 6, 3, 12), in: Self.rome))
        #expect(window.nextOpening(after: Self.local(2026, 6, 3, 12), in: Self.rome) == Self.local(2026, 6, 5))
        #expect(window.isOpen(at: Self.local(2026, 6, 6, 12), in: Self.rome))
        #expect(window.closing(after: Self.local(2026, 6, 6, 12), in: Self.rome) == Self.local(2026, 6, 9))
        let weekend = OpeningWindow(weekdays: "sat, SUN")
        #expect(weekend.closing(after: Self.local(2026, 6, 6, 12), in: Self.rome) == Self.local(2026, 6, 8))
        #expect(OpeningWindow(weekdays: "mon-sun").closing(after: Self.local(2026, 6, 6), in: Self.rome) == nil)  // beyond the horizon
    }

    @Test("month ranges wrap across the year")
    func monthsWrap() {
        let winter = OpeningWindow(months: "11-2")
        let december20 = Self.local(2026, 12, 20)
        #expect(winter.isOpen(at: december20, in: Self.rome))
        #expect(winter.closing(after: december20, in: Self.rome) == Self.local(2027, 3, 1))
        #expect(winter.nextOpening(after: Self.local(2027, 3, 1), in: Self.rome) == Self.local(2027, 11, 1))
        let march = OpeningWindow(months: "3")
        #expect(!march.isOpen(at: december20, in: Self.rome))
        #expect(march.nextOpening(after: december20, in: Self.rome) == Self.local(2027, 3, 1))
    }

    // MARK: Hours

    @Test("two hour ranges: between them the next is the afternoon, after the last the next working day")
    func twoRanges() {
        let window = OpeningWindow(weekdays: "mon-fri", hours: "09:00-13:00, 14:00-18:00")
        let monday10 = Self.local(2026, 6, 1, 10)
        #expect(window.isOpen(at: monday10, in: Self.rome))
        #expect(window.closing(after: monday10, in: Self.rome) == Self.local(2026, 6, 1, 13))
        #expect(!window.isOpen(at: Self.local(2026, 6, 1, 13), in: Self.rome))
        #expect(window.nextOpening(after: Self.local(2026, 6, 1, 13, 30), in: Self.rome) == Self.local(2026, 6, 1, 14))
        #expect(window.nextOpening(after: Self.local(2026, 6, 1, 18), in: Self.rome) == Self.local(2026, 6, 2, 9))
        #expect(window.nextOpening(after: Self.local(2026, 6, 5, 19), in: Self.rome) == Self.local(2026, 6, 8, 9))
        #expect(window.nextOpening(after: Self.local(2026, 6, 1, 8, 59), in: Self.rome) == Self.local(2026, 6, 1, 9))
        let adjacent = OpeningWindow(hours: "13:00-18:00, 09:00-13:00")
        #expect(adjacent.closing(after: monday10, in: Self.rome) == Self.local(2026, 6, 1, 18))
        let evening = OpeningWindow(hours: "20:00-24:00, 00:00-02:00")  // a night across midnight, as two ranges
        #expect(evening.closing(after: Self.local(2026, 6, 1, 23), in: Self.rome) == Self.local(2026, 6, 2, 2))
    }

    @Test("daylight-saving days in Europe/Rome: wall-clock hours, skipped and repeated times")
    func daylightSaving() {
        let nine = OpeningWindow(hours: "09:00-10:00", from: "2026-03-29", until: "2026-03-29")
        #expect(nine.nextOpening(after: Self.local(2026, 3, 29), in: Self.rome) == Self.utc(2026, 3, 29, 7))
        #expect(nine.closing(after: Self.utc(2026, 3, 29, 7), in: Self.rome) == Self.utc(2026, 3, 29, 8))
        // 02:00–03:00 does not exist on 29 March: 02:30–03:30 opens at 03:00 CEST.
        let skipped = OpeningWindow(hours: "02:30-03:30", from: "2026-03-29", until: "2026-03-29")
        #expect(skipped.issues().isEmpty)
        #expect(skipped.nextOpening(after: Self.local(2026, 3, 29), in: Self.rome) == Self.local(2026, 3, 29, 3))
        #expect(skipped.nextOpening(after: Self.local(2026, 3, 29), in: Self.rome) == Self.utc(2026, 3, 29, 1))
        #expect(skipped.closing(after: Self.utc(2026, 3, 29, 1), in: Self.rome) == Self.utc(2026, 3, 29, 1, 30))
        #expect(!skipped.isOpen(at: Self.utc(2026, 3, 29, 0, 59), in: Self.rome))
        // 02:00–03:00 comes twice on 25 October: the window is open for both, two hours in all.
        let repeated = OpeningWindow(hours: "02:00-03:00", from: "2026-10-25", until: "2026-10-25")
        #expect(repeated.nextOpening(after: Self.local(2026, 10, 25), in: Self.rome) == Self.utc(2026, 10, 25, 0))
        #expect(repeated.closing(after: Self.utc(2026, 10, 25, 0, 30), in: Self.rome) == Self.utc(2026, 10, 25, 2))
        #expect(repeated.isOpen(at: Self.utc(2026, 10, 25, 1, 30), in: Self.rome))
        // 02:30–04:00 that day: 02:30–03:00 CEST, then from 02:30 CET; 02:00–02:30 CET is closed.
        let split = OpeningWindow(hours: "02:30-04:00", from: "2026-10-25", until: "2026-10-25")
        #expect(split.closing(after: Self.utc(2026, 10, 25, 0, 45), in: Self.rome) == Self.utc(2026, 10, 25, 1))
        #expect(!split.isOpen(at: Self.utc(2026, 10, 25, 1, 15), in: Self.rome))
        #expect(split.nextOpening(after: Self.utc(2026, 10, 25, 1, 15), in: Self.rome) == Self.utc(2026, 10, 25, 1, 30))
        #expect(split.closing(after: Self.utc(2026, 10, 25, 1, 30), in: Self.rome) == Self.utc(2026, 10, 25, 3))
        // The whole day of 25 October lasts 25 hours.
        let day = OpeningWindow(days: "25", months: "10")
        let start = day.nextOpening(after: Self.local(2026, 10, 20), in: Self.rome)
        #expect(start == Self.utc(2026, 10, 24, 22))
        #expect(day.closing(after: Self.local(2026, 10, 25, 12), in: Self.rome) == Self.utc(2026, 10, 25, 23))
    }

    @Test("the same window in America/New_York opens at a different instant")
    func otherTimeZone() {
        let window = OpeningWindow(weekdays: "mon-fri", hours: "09:00-17:00")
        let instant = Self.utc(2026, 7, 6, 0)  // Monday 02:00 in Rome, Sunday 20:00 in New York
        let rome = window.nextOpening(after: instant, in: Self.rome)
        let newYork = window.nextOpening(after: instant, in: Self.newYork)
        #expect(rome == Self.utc(2026, 7, 6, 7))
        #expect(newYork == Self.utc(2026, 7, 6, 13))
        #expect(newYork == Self.local(2026, 7, 6, 9, in: Self.newYork))
        #expect(window.isOpen(at: Self.utc(2026, 7, 6, 20), in: Self.newYork) && !window.isOpen(at: Self.utc(2026, 7, 6, 20), in: Self.rome))
        #expect(window.closing(after: Self.utc(2026, 7, 6, 20), in: Self.newYork) == Self.utc(2026, 7, 6, 21))
    }

    @Test("once until has passed the window never opens again")
    func untilPassed() {
        let window = OpeningWindow(from: "2026-01-10", until: "2026-01-31")
        #expect(window.nextOpening(after: Self.local(2026, 1, 1), in: Self.rome) == Self.local(2026, 1, 10))
        #expect(window.closing(after: Self.local(2026, 1, 20), in: Self.rome) == Self.local(2026, 2, 1))
        #expect(window.isOpen(at: Self.local(2026, 1, 31, 23, 59), in: Self.rome))
        let after = Self.local(2026, 2, 1)
        #expect(!window.isOpen(at: after, in: Self.rome))
        #expect(window.nextOpening(after: after, in: Self.rome) == nil)
        #expect(window.closing(after: after, in: Self.rome) == nil)
        #expect(OpeningWindow(days: "1-5", until: "2026-01-31").nextOpening(after: Self.local(2026, 1, 6), in: Self.rome) == nil)
    }

    // MARK: Schedule

    @Test("a schedule counts the windows that apply, and is always open when none does")
    func schedule() {
        let gas = FormCondition(field: "kind", equals: "gas")
        let power = FormCondition(field: "kind", equals: "power")
        let schedule = OpeningSchedule([OpeningWindow(days: "1-10", when: gas), OpeningWindow(days: "20-25", when: power)])
        let onlyGas: (FormCondition) -> Bool = { $0.equals == "gas" }
        #expect(schedule.status(at: Self.local(2026, 6, 5, 12), in: Self.rome, applies: onlyGas) == .open(until: Self.local(2026, 6, 11)))
        #expect(schedule.status(at: Self.local(2026, 6, 15), in: Self.rome, applies: onlyGas) == .closed(nextOpening: Self.local(2026, 7, 1)))
        #expect(schedule.status(at: Self.local(2026, 6, 15), in: Self.rome) { _ in true } == .closed(nextOpening: Self.local(2026, 6, 20)))
        #expect(schedule.status(at: Self.local(2026, 6, 15), in: Self.rome) { _ in false } == .open(until: nil))
        #expect(OpeningSchedule([]).status(at: Self.local(2026, 6, 15), in: Self.rome) { _ in true } == .open(until: nil))
        // Two open windows: the later closing; one without an end in sight makes the form open with no end.
        let overlapping = OpeningSchedule([OpeningWindow(days: "1-10"), OpeningWindow(days: "5-20", when: power)])
        #expect(overlapping.status(at: Self.local(2026, 6, 7), in: Self.rome) { _ in true } == .open(until: Self.local(2026, 6, 21)))
        #expect(overlapping.status(at: Self.local(2026, 6, 7), in: Self.rome) { _ in false } == .open(until: Self.local(2026, 6, 11)))
        let endless = OpeningSchedule([OpeningWindow(days: "1-10"), OpeningWindow(weekdays: "mon-sun")])
        #expect(endless.status(at: Self.local(2026, 6, 7), in: Self.rome) { _ in true } == .open(until: nil))
        let ended = OpeningSchedule([OpeningWindow(until: "2026-01-31")])
        #expect(ended.status(at: Self.local(2026, 6, 7), in: Self.rome) { _ in true } == .closed(nextOpening: nil))
    }
}
