import Foundation
import SportelloCore

/// Dates, times and amounts as shown to people (Europe/Rome, Italian or English conventions).
public enum Formatting {
    /// `dd/MM/yyyy HH:mm` in Europe/Rome (the same in Italian and English).
    public static func dateTime(_ instant: Int64, locale: String) -> String {
        LocalTime(instant: instant).dayAndMinute
    }

    /// `dd/MM/yyyy` in Europe/Rome.
    public static func date(_ instant: Int64, locale: String) -> String {
        LocalTime(instant: instant).dayText
    }

    /// An instant as a weekday, day, month, year and time in `timeZone`: "lunedì 1 dicembre 2026, 09:00" in Italian,
    /// "Monday 1 December 2026, 09:00" in English (when a form opens next).
    public static func longDateTime(_ instant: Date, timeZone: TimeZone, locale: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: locale == "en" ? "en_GB" : "it_IT")
        formatter.timeZone = timeZone
        formatter.dateFormat = "EEEE d MMMM yyyy, HH:mm"
        return formatter.string(from: instant)
    }

    /// A stored `YYYY-MM-DD` day as `dd/MM/yyyy`; anything else unchanged.
    public static func day(_ stored: String?) -> String {
        guard let stored else { return "" }
        // The common `YYYY-MM-DD` by bytes, into one new string; other shapes (a longer year, one-digit parts) as the
        // general rule reads them.
        let direct = stored.utf8.withContiguousStorageIfAvailable { bytes -> String? in
            let dash = UInt8(ascii: "-"), slash = UInt8(ascii: "/")
            guard bytes.count == 10, bytes[4] == dash, bytes[7] == dash,
                  !bytes[0..<4].contains(dash), bytes[5] != dash, bytes[6] != dash, bytes[8] != dash, bytes[9] != dash else { return nil }
            return String(unsafeUninitializedCapacity: 10) { out in
                out[0] = bytes[8]; out[1] = bytes[9]; out[2] = slash; out[3] = bytes[5]; out[4] = bytes[6]; out[5] = slash
                for index in 0..<4 { out[6 + index] = bytes[index] }
                return 10
            }
        }
        if let formatted = direct ?? nil { return formatted }
        let parts = stored.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4 else { return stored }
        return "\(parts[2])/\(parts[1])/\(parts[0])"
    }

    /// An amount in cents: `1.234,56 €` in Italian, `€1,234.56` in English.
    public static func money(_ cents: Int64, locale: String) -> String {
        let negative = cents < 0
        let magnitude = cents.magnitude
        let whole = grouped(magnitude / 100, locale: locale)
        let decimals = LocalTime.pad(Int(magnitude % 100))
        let sign = negative ? "-" : ""
        return locale == "en" ? "\(sign)€\(whole).\(decimals)" : "\(sign)\(whole),\(decimals) €"
    }

    /// A number with `fractionDigits` decimals (rounded half away from zero), grouped by thousands:
    /// `1.234,5` in Italian, `1,234.5` in English; never `-0`.
    public static func decimal(_ value: Double, fractionDigits: Int, locale: String) -> String {
        let digits = min(max(fractionDigits, 0), 9)
        var scale: UInt64 = 1
        for _ in 0..<digits { scale *= 10 }
        guard value.isFinite, abs(value) * Double(scale) < 9e18 else { return String(value) }
        let scaled = UInt64((abs(value) * Double(scale)).rounded())
        let whole = grouped(scaled / scale, locale: locale)
        let sign = value < 0 && scaled > 0 ? "-" : ""
        guard digits > 0 else { return sign + whole }
        let fraction = String(scaled % scale)
        let padded = String(repeating: "0", count: digits - fraction.count) + fraction
        return "\(sign)\(whole)\(locale == "en" ? "." : ",")\(padded)"
    }

    /// `units` with the locale's thousands separator.
    private static func grouped(_ units: UInt64, locale: String) -> String {
        let separator = locale == "en" ? UInt8(ascii: ",") : UInt8(ascii: ".")
        var digits = String(units)
        return digits.withUTF8 { digits in
            let count = digits.count, length = count + (count - 1) / 3
            return String(unsafeUninitializedCapacity: length) { out in
                var position = length
                for (offset, digit) in digits.reversed().enumerated() {
                    if offset > 0 && offset % 3 == 0 { position -= 1; out[position] = separator }
                    position -= 1
                    out[position] = digit
                }
                return length
            }
        }
    }
}
