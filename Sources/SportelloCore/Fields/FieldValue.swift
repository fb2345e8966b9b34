import Foundation

/// A validated value of a tenant-defined field, typed, with the canonical text it is stored as.
public enum FieldValue: Sendable, Hashable, CustomStringConvertible {
    /// Text, e-mail and phone fields, normalised (`AB123CD`, `mario.rossi@example.it`, `3331234567`).
    case text(String)
    case integer(Int64)
    /// An exact decimal in whole units of its scale: `12.5` at scale 2 is 1250 hundredths.
    case decimal(ScaledDecimal)
    case date(CalendarDay)
    case boolean(Bool)
    /// The id of an `enum` field's option.
    case option(String)

    /// The text to store: text as normalised, integers in base 10, decimals with exactly `scale` places and a point
    /// (`12.50`), dates as `yyyy-MM-dd`, booleans as `true`/`false`, options as their id.
    public var canonical: String {
        switch self {
        case .text(let text): text
        case .integer(let value): String(value)
        case .decimal(let value): value.description
        case .date(let day): day.description
        case .boolean(let value): value ? "true" : "false"
        case .option(let id): id
        }
    }

    public var description: String { canonical }
}

/// An exact decimal number: whole `units` of 10^-`scale` (`12.50` is 1250 units at scale 2). Never rounded:
/// input with more decimal places than the scale is refused, not cut.
public struct ScaledDecimal: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var units: Int64
    public var scale: Int

    public init(units: Int64, scale: Int) {
        self.units = units
        self.scale = scale
    }

    /// Why text is not a decimal at a scale.
    public enum ParseError: Error, Sendable, Equatable {
        /// Not a number: letters, two separators, thousands separators, nothing after the sign.
        case malformed
        /// More decimal places than the scale keeps (trailing zeros excepted).
        case tooManyDecimals
        /// Too large to hold exactly (more than 18 digits).
        case tooLarge
    }

    /// Reads `12`, `12.5`, `12,5`, `-0.05`, `+3` at `scale` places: one `.` or `,` separates the decimals, there
    /// are no thousands separators, and extra decimal places must be zeros (`12.500` at scale 2 is 12.50).
    public static func parse(_ text: String, scale: Int) -> Result<ScaledDecimal, ParseError> {
        var body = Substring(text.trimmingWhitespace)
        var negative = false
        if let sign = body.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            body = body.dropFirst()
        }
        let parts = body.split(omittingEmptySubsequences: false) { $0 == "." || $0 == "," }
        guard parts.count <= 2, let whole = parts.first,
              !(whole.isEmpty && (parts.count == 1 || parts[1].isEmpty)),
              parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }) else { return .failure(.malformed) }
        var fraction = parts.count == 2 ? String(parts[1]) : ""
        if parts.count == 2, fraction.isEmpty { return .failure(.malformed) }
        while fraction.count > scale, fraction.last == "0" { fraction.removeLast() }
        guard fraction.count <= scale else { return .failure(.tooManyDecimals) }
        fraction += String(repeating: "0", count: scale - fraction.count)
        let digits = (String(whole) + fraction).drop { $0 == "0" }
        guard digits.count <= 18, let magnitude = Int64(digits.isEmpty ? "0" : String(digits)) else { return .failure(.tooLarge) }
        return .success(ScaledDecimal(units: negative ? -magnitude : magnitude, scale: scale))
    }

    /// The value with exactly `scale` places and a point: `12.50`, `-0.05`, `7` at scale 0.
    public var description: String { formatted(separator: ".") }

    /// The value with `separator` before the decimals (`12,50` for Italian).
    public func formatted(separator: String) -> String {
        let magnitude = units.magnitude
        guard scale > 0 else { return (units < 0 ? "-" : "") + String(magnitude) }
        var digits = String(magnitude)
        if digits.count <= scale { digits = String(repeating: "0", count: scale - digits.count + 1) + digits }
        let split = digits.index(digits.endIndex, offsetBy: -scale)
        return (units < 0 ? "-" : "") + digits[..<split] + separator + digits[split...]
    }

    /// The value as a Foundation `Decimal`, for arithmetic.
    public var decimal: Decimal { Decimal(sign: units < 0 ? .minus : .plus, exponent: -scale, significand: Decimal(units.magnitude)) }

    /// Compares values of the same scale by units (values of different scales are compared exactly too).
    public static func < (lhs: ScaledDecimal, rhs: ScaledDecimal) -> Bool {
        if lhs.scale == rhs.scale { return lhs.units < rhs.units }
        return lhs.decimal < rhs.decimal
    }
}

/// Reading typed values from what was typed.
enum FieldParsing {
    /// An optional sign and base-10 digits, within `Int64`.
    static func integer(_ text: String) -> Int64? {
        let text = text.trimmingWhitespace
        var body = Substring(text)
        if let sign = body.first, sign == "-" || sign == "+" { body = body.dropFirst() }
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64(text.hasPrefix("+") ? String(text.dropFirst()) : text)
    }

    /// `dd/mm/yyyy`, `d/m/yyyy`, `dd-mm-yyyy`, `dd.mm.yyyy` or `yyyy-mm-dd`, a real calendar day.
    static func date(_ text: String) -> CalendarDay? {
        FlowText.isoDate(text).flatMap(CalendarDay.init)
    }

    static let trueWords: Set<String> = ["true", "yes", "y", "1", "on", "si", "sì", "vero"]
    static let falseWords: Set<String> = ["false", "no", "n", "0", "off", "falso"]

    /// `true`, `yes`, `sì`, `1`, `on` or `vero`; `false`, `no`, `0`, `off` or `falso` (any case).
    static func boolean(_ text: String) -> Bool? {
        let word = text.trimmingWhitespace.lowercased()
        if trueWords.contains(word) { return true }
        if falseWords.contains(word) { return false }
        return nil
    }

    /// The option `text` names: its id (any case), else its label in any language (accents and case ignored).
    static func option(_ text: String, in options: OrderedMap<LocalizedText>) -> String? {
        if options[text] != nil { return text }
        let folded = FlowText.folded(text)
        if let id = options.keys.first(where: { FlowText.folded($0) == folded }) { return id }
        return options.first { $0.value.translations.values.contains { FlowText.folded($0) == folded } }?.key
    }
}
