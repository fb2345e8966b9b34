import Foundation

/// Dates, times and amounts as shown to people (Europe/Rome, Italian or English conventions).
public enum Formatting {
    public static func dateTime(_ instant: Int64, locale: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: locale == "en" ? "en_GB" : "it_IT")
        formatter.timeZone = TimeZone(identifier: "Europe/Rome")
        formatter.dateFormat = "dd/MM/yyyy HH:mm"
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(instant)))
    }

    public static func date(_ instant: Int64, locale: String) -> String {
        String(dateTime(instant, locale: locale).prefix(10))
    }

    /// A stored `YYYY-MM-DD` day as `dd/MM/yyyy`; anything else unchanged.
    public static func day(_ stored: String?) -> String {
        guard let stored else { return "" }
        let parts = stored.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4 else { return stored }
        return "\(parts[2])/\(parts[1])/\(parts[0])"
    }

    /// An amount in cents: `1.234,56 €` in Italian, `€1,234.56` in English.
    public static func money(_ cents: Int64, locale: String) -> String {
        let negative = cents < 0
        let magnitude = cents.magnitude
        let units = String(magnitude / 100)
        let decimals = String(format: "%02d", Int(magnitude % 100))
        let separator: Character = locale == "en" ? "," : "."
        var grouped = ""
        for (offset, digit) in units.reversed().enumerated() {
            if offset > 0 && offset % 3 == 0 { grouped.append(separator) }
            grouped.append(digit)
        }
        let whole = String(grouped.reversed())
        let sign = negative ? "-" : ""
        return locale == "en" ? "\(sign)€\(whole).\(decimals)" : "\(sign)\(whole),\(decimals) €"
    }
}
