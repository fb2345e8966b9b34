import Foundation

/// An instant as the wall clock in the portals' time zone (Europe/Rome) shows it: the offset comes from the
/// time zone's rules, the calendar arithmetic from `CivilDays` (a `DateFormatter` costs ~100 µs a call, this ~0.1 µs).
public struct LocalTime: Sendable, Hashable {
    public var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int

    public init(instant: Int64, timeZone: TimeZone = CalendarDay.timeZone) {
        let offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant))))
        let local = instant + offset
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let seconds = Int(local - days * 86_400)
        (year, month, day) = CivilDays.civil(Int(days))
        hour = seconds / 3_600
        minute = seconds % 3_600 / 60
        second = seconds % 60
    }

    /// `dd/MM/yyyy`, as the pages show a day.
    public var dayText: String { "\(Self.pad(day))/\(Self.pad(month))/\(Self.pad(year, 4))" }
    /// `dd/MM/yyyy HH:mm`, as the pages show a moment.
    public var dayAndMinute: String { "\(dayText) \(Self.pad(hour)):\(Self.pad(minute))" }
    /// `dd/MM/yyyy HH:mm:ss`.
    public var dayAndSecond: String { dayAndMinute + ":" + Self.pad(second) }
    /// `yyyy-MM-ddTHH:mm:ss`, local time without an offset (an HTML `datetime` or a spreadsheet cell).
    public var isoLocal: String {
        "\(Self.pad(year, 4))-\(Self.pad(month))-\(Self.pad(day))T\(Self.pad(hour)):\(Self.pad(minute)):\(Self.pad(second))"
    }

    /// An instant in UTC as ISO 8601 (`2026-12-07T13:32:02Z`), as `ISO8601DateFormatter` writes it by default.
    public static func isoUTC(_ instant: Int64) -> String { LocalTime(instant: instant, timeZone: .gmt).isoLocal + "Z" }
    /// `isoUTC` of a date, its fraction of a second dropped.
    public static func isoUTC(_ date: Date) -> String { isoUTC(Int64(date.timeIntervalSince1970.rounded(.down))) }

    /// `value` in decimal with leading zeros up to `width` digits.
    public static func pad(_ value: Int, _ width: Int = 2) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
