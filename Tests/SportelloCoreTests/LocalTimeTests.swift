import Foundation
import Testing
@testable import SportelloCore

@Suite("Local time in Europe/Rome")
struct LocalTimeTests {
    /// What Foundation's calendar says, the slow way.
    private func expected(_ instant: Int64) -> DateComponents {
        CalendarDay.calendar.dateComponents([.year, .month, .day, .hour, .minute, .second],
                                            from: Date(timeIntervalSince1970: TimeInterval(instant)))
    }

    @Test("every hour around both daylight-saving changes of 2026 and 2027 reads as Foundation's calendar reads it")
    func daylightSavingChanges() {
        // 29/03/2026 02:00 → 03:00, 25/10/2026 03:00 → 02:00, 28/03/2027, 31/10/2027 (UTC instants a day before).
        for start in [Int64(1_774_656_000), 1_792_800_000, 1_806_105_600, 1_824_854_400] {
            for quarter in 0..<(4 * 48) {
                let instant = start + Int64(quarter) * 900 + 7
                let time = LocalTime(instant: instant), parts = expected(instant)
                #expect([time.year, time.month, time.day, time.hour, time.minute, time.second]
                        == [parts.year, parts.month, parts.day, parts.hour, parts.minute, parts.second], "instant \(instant)")
            }
        }
    }

    @Test("random instants from 1900 to 2100, before the epoch too, agree with Foundation's calendar")
    func randomInstants() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let instant = Int64.random(in: -2_208_988_800...4_102_444_800, using: &generator)
            let time = LocalTime(instant: instant), parts = expected(instant)
            #expect([time.year, time.month, time.day, time.hour, time.minute, time.second]
                    == [parts.year, parts.month, parts.day, parts.hour, parts.minute, parts.second], "instant \(instant)")
            #expect(CalendarDay(instant: instant) == CalendarDay(year: parts.year!, month: parts.month!, day: parts.day!))
        }
    }

    @Test("texts: day and minute, day and second, local ISO, with leading zeros")
    func texts() {
        let time = LocalTime(instant: 1_767_225_605)  // 2026-01-01 00:00:05 UTC = 01:00:05 in Rome
        #expect(time.dayAndMinute == "01/01/2026 01:00")
        #expect(time.dayAndSecond == "01/01/2026 01:00:05")
        #expect(time.isoLocal == "2026-01-01T01:00:05")
        #expect(LocalTime.pad(7) == "07" && LocalTime.pad(123) == "123" && LocalTime.pad(5, 4) == "0005")
    }

    @Test("UTC in ISO 8601 reads as ISO8601DateFormatter writes it, fractions of a second dropped")
    func isoUTC() {
        let formatter = ISO8601DateFormatter()
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let instant = Int64.random(in: 0...4_102_444_800, using: &generator)
            #expect(LocalTime.isoUTC(instant) == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(instant))))
            #expect(LocalTime.isoUTC(Date(timeIntervalSince1970: TimeInterval(instant) + 0.75)) == LocalTime.isoUTC(instant))
        }
    }
}
