/// A mapping whose keys keep the order the provider wrote them in (roles, features, flows…).
public struct OrderedMap<Value: Sendable>: Sendable, Sequence {
    public private(set) var keys: [String] = []
    private var storage: [String: Value] = [:]

    public init() {}

    public init(_ pairs: [(String, Value)]) {
        for (key, value) in pairs { self[key] = value }
    }

    public subscript(key: String) -> Value? {
        get { storage[key] }
        set {
            if storage[key] == nil, newValue != nil { keys.append(key) }
            if newValue == nil { keys.removeAll { $0 == key } }
            storage[key] = newValue
        }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }
    public var values: [Value] { keys.map { storage[$0]! } }

    public func makeIterator() -> IndexingIterator<[(key: String, value: Value)]> {
        keys.map { (key: $0, value: storage[$0]!) }.makeIterator()
    }
}

extension OrderedMap: Decodable where Value: Decodable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        for key in container.allKeys {
            self[key.stringValue] = try container.decode(Value.self, forKey: key)
        }
    }
}

/// A coding key named at run time (a column, a tenant's field id).
public struct AnyCodingKey: CodingKey {
    public var stringValue: String
    public var intValue: Int?
    public init(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { self.stringValue = String(intValue); self.intValue = intValue }
}

/// Text in one or more languages: `label: Fatture` or `label: {it: Fatture, en: Invoices}`.
public struct LocalizedText: Decodable, Sendable, Hashable, CustomStringConvertible {
    /// Translations by locale; `*` holds text written without a locale.
    public var translations: [String: String]

    public init(_ text: String) { translations = ["*": text] }
    public init(translations: [String: String]) { self.translations = translations }

    public init(from decoder: Decoder) throws {
        let single = try decoder.singleValueContainer()
        if let text = try? single.decode(String.self) {
            translations = ["*": text]
        } else {
            translations = try single.decode([String: String].self)
        }
        if let interner = decoder.userInfo[.interner] as? Interner { self = interner.intern(self) }
    }

    /// The text for `locale`, falling back to the unmarked text, then Italian, then anything.
    public func resolve(_ locale: String) -> String {
        translations[locale] ?? translations["*"] ?? translations["it"] ?? translations.values.sorted().first ?? ""
    }

    public var description: String { resolve("it") }
}

/// A length of time written as a number and a unit: `90s`, `15m`, `12h`, `30d`, `2w`, `24mo`, `1y`.
public struct DurationSpec: Decodable, Sendable, Hashable, CustomStringConvertible {
    public enum Unit: String, Sendable, CaseIterable {
        case seconds = "s", minutes = "m", hours = "h", days = "d", weeks = "w", months = "mo", years = "y"
    }

    public var amount: Int
    public var unit: Unit

    public init(_ amount: Int, _ unit: Unit) {
        self.amount = amount
        self.unit = unit
    }

    /// Parses `30d`; nil when the text is not a duration.
    public init?(parsing text: String) {
        let trimmed = text.trimmingWhitespace
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let amount = Int(digits), amount >= 0,
              let unit = Unit(rawValue: String(trimmed.dropFirst(digits.count)).trimmingWhitespace) else { return nil }
        self.init(amount, unit)
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = DurationSpec(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not a duration"))
        }
        self = parsed
    }

    /// Approximate length in seconds (months as 30 days, years as 365), for comparisons and expiries of short tokens.
    public var seconds: Int {
        let unitSeconds: Int = switch unit {
        case .seconds: 1
        case .minutes: 60
        case .hours: 3600
        case .days: 86_400
        case .weeks: 7 * 86_400
        case .months: 30 * 86_400
        case .years: 365 * 86_400
        }
        let (product, overflow) = amount.multipliedReportingOverflow(by: unitSeconds)
        return overflow ? Int.max : product
    }

    /// The longest duration a definition may state (100 years); longer ones are surely typos.
    public static let longestSeconds = 100 * 365 * 86_400

    /// Whole calendar months when the unit is months or years, for "the last 24 months" windows.
    public var calendarMonths: Int? {
        switch unit {
        case .months: amount
        case .years: amount * 12
        default: nil
        }
    }

    public var description: String { "\(amount)\(unit.rawValue)" }
}

extension StringProtocol {
    var trimmingWhitespace: String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
