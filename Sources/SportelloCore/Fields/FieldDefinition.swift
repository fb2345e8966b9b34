import Foundation

/// What a tenant-defined field holds. `email` and `phone` are text with a format of their own.
public enum FieldType: String, Decodable, Sendable, CaseIterable {
    case text, integer, decimal, date, boolean
    /// One of the field's `options`.
    case enumeration = "enum"
    case email, phone

    /// Types whose value is text: patterns, lengths, checks and `normalize` apply to them.
    public var isTextual: Bool { self == .text || self == .email || self == .phone }

    /// Types whose values are ordered: ranges apply to them.
    public var isOrdered: Bool { self == .integer || self == .decimal || self == .date }
}

/// A change made to what was typed before it is checked and stored (after surrounding whitespace is trimmed and
/// runs of whitespace are turned into one space, which always happens).
public enum FieldNormalization: String, Decodable, Sendable, CaseIterable {
    case uppercase, lowercase
    /// Every space removed: `AB 123 CD` → `AB123CD`.
    case removeSpaces = "remove_spaces"
    /// Spaces, `-`, `.` and `/` removed: `AB-123.CD` → `AB123CD`.
    case removeSeparators = "remove_separators"

    func apply(_ text: String) -> String {
        switch self {
        case .uppercase: text.uppercased()
        case .lowercase: text.lowercased()
        case .removeSpaces: text.filter { !$0.isWhitespace }
        case .removeSeparators: text.filter { !$0.isWhitespace && !"-./".contains($0) }
        }
    }
}

/// A field a tenant defines for its customers or users (`customer_fields:`, `user_fields:`), and the shape the
/// fields of tenant-defined record kinds and typed request forms share: its label, type, and the validators its
/// values must pass. `validate(_:field:in:)` turns typed input into a `FieldValue`; `demoValue` makes one up.
public struct FieldDefinition: Decodable, Sendable {
    public var label: LocalizedText
    public var type: FieldType
    /// Decimal places of a `decimal` field (default 2): `12.5` with scale 2 is stored as 1250 hundredths.
    public var scale: Int?
    /// An `enum` field's choices: option id → label.
    public var options: OrderedMap<LocalizedText>?
    /// Must be filled in wherever the field appears (a customer type's `required_fields` can also require it).
    public var required: Bool?
    /// A short explanation shown under the input.
    public var help: LocalizedText?
    /// A sample shown inside the empty input.
    public var placeholder: LocalizedText?
    /// Changes made to what was typed, in order, before validation (text, email and phone fields).
    public var normalize: [FieldNormalization]?
    /// Rules the value must meet, checked in order; every failing one is reported.
    public var validators: [FieldValidator]?
    /// The provider's own messages for the problems the type itself finds, by problem code (`required`,
    /// `invalid_date`…); validators carry their own `message`.
    public var messages: OrderedMap<LocalizedText>?
    /// Values that pass the field's validators, as a customer would type them; demo data uses them first.
    public var examples: [String]?
    /// How demo data makes values when there are no examples.
    public var generator: FieldGenerator?

    public init(label: LocalizedText, type: FieldType, scale: Int? = nil, options: OrderedMap<LocalizedText>? = nil,
                required: Bool? = nil, help: LocalizedText? = nil, placeholder: LocalizedText? = nil,
                normalize: [FieldNormalization]? = nil, validators: [FieldValidator]? = nil,
                messages: OrderedMap<LocalizedText>? = nil, examples: [String]? = nil, generator: FieldGenerator? = nil) {
        self.label = label
        self.type = type
        self.scale = scale
        self.options = options
        self.required = required
        self.help = help
        self.placeholder = placeholder
        self.normalize = normalize
        self.validators = validators
        self.messages = messages
        self.examples = examples
        self.generator = generator
    }

    /// Whether the field must be filled in wherever it appears.
    public var isRequired: Bool { required ?? false }

    /// The decimal places a `decimal` value keeps (`scale`, else 2); 0 for other types.
    public var decimalScale: Int { type == .decimal ? (scale ?? 2) : 0 }

    /// The fewest characters the length validators allow, for the `minlength` attribute.
    public var minLength: Int? { (validators ?? []).compactMap { $0.length?.min }.max() }

    /// The most characters the length validators allow, for the `maxlength` attribute.
    public var maxLength: Int? { (validators ?? []).compactMap { $0.length?.max }.min() }

    /// The `check:` names the field's validators use, in order.
    public var checkNames: [String] { (validators ?? []).compactMap(\.check) }
}

/// One rule a field's value must meet: exactly one of `pattern`, `length`, `range` or `check`, and optionally the
/// provider's message for when it fails.
public struct FieldValidator: Decodable, Sendable {
    /// A regular expression the whole value must match.
    public var pattern: String? {
        didSet { compiledPattern = Self.compile(pattern) }
    }
    /// Allowed number of characters.
    public var length: LengthBounds?
    /// Allowed values of a number or date, as written (`0`, `99.99`, `2020-01-01`, `-18y`, `today`).
    public var range: RangeBounds?
    /// The name of a check from the platform's library (`FieldChecks`).
    public var check: String?
    /// The provider's message when the rule fails; else the platform's.
    public var message: LocalizedText?
    /// `pattern` anchored at both ends and compiled; nil when there is none or it does not compile.
    public private(set) var compiledPattern: NSRegularExpression?

    /// The rule an entry states.
    public enum Rule: Sendable {
        case pattern(String)
        case length(LengthBounds)
        case range(RangeBounds)
        case check(String)
    }

    public init(pattern: String? = nil, length: LengthBounds? = nil, range: RangeBounds? = nil, check: String? = nil,
                message: LocalizedText? = nil) {
        self.pattern = pattern
        self.length = length
        self.range = range
        self.check = check
        self.message = message
        compiledPattern = Self.compile(pattern)
    }

    private enum CodingKeys: String, CodingKey { case pattern, length, range, check, message }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(pattern: try container.decodeIfPresent(String.self, forKey: .pattern),
                  length: try container.decodeIfPresent(LengthBounds.self, forKey: .length),
                  range: try container.decodeIfPresent(RangeBounds.self, forKey: .range),
                  check: try container.decodeIfPresent(String.self, forKey: .check),
                  message: try container.decodeIfPresent(LocalizedText.self, forKey: .message))
    }

    /// The YAML keys of the rules this entry states (more than one, or none, is a mistake `validate` reports).
    public var ruleKeys: [String] {
        [("pattern", pattern != nil), ("length", length != nil), ("range", range != nil), ("check", check != nil)]
            .filter(\.1).map(\.0)
    }

    /// The rule, nil when the entry states none or several.
    public var rule: Rule? {
        guard ruleKeys.count == 1 else { return nil }
        if let pattern { return .pattern(pattern) }
        if let length { return .length(length) }
        if let range { return .range(range) }
        return check.map { .check($0) }
    }

    /// The rule as the provider wrote it, for messages: `check: iban`, `length: {min: 7}`.
    public var summary: String {
        switch rule {
        case .pattern(let pattern): "pattern: '\(pattern)'"
        case .length(let bounds): "length: {\(bounds.summary)}"
        case .range(let bounds): "range: {\(bounds.summary)}"
        case .check(let name): "check: \(name)"
        case nil: ruleKeys.isEmpty ? "no rule" : ruleKeys.joined(separator: " + ")
        }
    }

    /// `pattern` wrapped so it must match the whole value (`\A(?:…)\z`). A pattern that does not compile on its own
    /// gives nil even when the wrapped form would (`a)(b`).
    static func compile(_ pattern: String?) -> NSRegularExpression? {
        guard let pattern, (try? NSRegularExpression(pattern: pattern)) != nil else { return nil }
        return try? NSRegularExpression(pattern: "\\A(?:\(pattern))\\z")
    }
}

/// `length: {min, max}`: the number of characters (after normalisation) a value may have.
public struct LengthBounds: Decodable, Sendable, Hashable {
    public var min: Int?
    public var max: Int?

    public init(min: Int? = nil, max: Int? = nil) {
        self.min = min
        self.max = max
    }

    var summary: String { [min.map { "min: \($0)" }, max.map { "max: \($0)" }].compactMap { $0 }.joined(separator: ", ") }
}

/// `range: {min, max}`: the smallest and largest value of a number or date, as written in YAML. What they mean
/// depends on the field's type (see `FieldBound`).
public struct RangeBounds: Decodable, Sendable, Hashable {
    public var min: String?
    public var max: String?

    public init(min: String? = nil, max: String? = nil) {
        self.min = min
        self.max = max
    }

    var summary: String { [min.map { "min: \($0)" }, max.map { "max: \($0)" }].compactMap { $0 }.joined(separator: ", ") }
}

/// `generator:`: how demo data makes a value when the field gives no examples; exactly one of `template` or `check`.
public struct FieldGenerator: Decodable, Sendable, Hashable {
    /// `#` a digit, `@` a capital letter, `*` a capital letter or a digit, `\` takes the next character as it is,
    /// anything else is written as it is: `POL-########`, `@@###@@`.
    public var template: String?
    /// A check from the library whose generator makes the values.
    public var check: String?

    public init(template: String? = nil, check: String? = nil) {
        self.template = template
        self.check = check
    }

    /// A value made from `template`.
    public static func expand(_ template: String, random: inout SplitMix64) -> String {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), digits = Array("0123456789")
        var result = ""
        var escaped = false
        for character in template {
            if escaped {
                result.append(character)
                escaped = false
                continue
            }
            switch character {
            case "\\": escaped = true
            case "#": result.append(digits.randomElement(using: &random)!)
            case "@": result.append(letters.randomElement(using: &random)!)
            case "*": result.append((letters + digits).randomElement(using: &random)!)
            default: result.append(character)
            }
        }
        return result
    }
}

/// A bound of a `range:` read for a field's type.
public enum FieldBound: Sendable, Hashable {
    case integer(Int64)
    case decimal(ScaledDecimal)
    case date(DateBound)

    /// `text` read as a bound of a field of `type` (decimals at `scale` places); nil when it is not one.
    public init?(_ text: String, type: FieldType, scale: Int) {
        switch type {
        case .integer:
            guard let value = FieldParsing.integer(text) else { return nil }
            self = .integer(value)
        case .decimal:
            guard case .success(let value) = ScaledDecimal.parse(text, scale: scale) else { return nil }
            self = .decimal(value)
        case .date:
            guard let bound = DateBound(text) else { return nil }
            self = .date(bound)
        default:
            return nil
        }
    }

    /// The bound as a value on `today` (relative dates resolved).
    public func value(today: CalendarDay) -> FieldValue {
        switch self {
        case .integer(let value): .integer(value)
        case .decimal(let value): .decimal(value)
        case .date(let bound): .date(bound.resolve(today: today))
        }
    }
}

/// A date bound: a day (`2020-01-01`), or a distance from the day of validation (`today`, `-18y`, `+30d`, `-6mo`,
/// `-2w`), so "at least 18 years old" is `range: {max: -18y}`.
public enum DateBound: Sendable, Hashable, CustomStringConvertible {
    case day(CalendarDay)
    /// Today moved by whole months, then by days.
    case relative(months: Int, days: Int)

    /// Parses `yyyy-mm-dd`, `today`, or a sign, a number and one of `d`, `w`, `mo`, `y`.
    public init?(_ text: String) {
        let text = text.trimmingWhitespace
        if text == "today" {
            self = .relative(months: 0, days: 0)
            return
        }
        if let day = CalendarDay(text) {
            self = .day(day)
            return
        }
        guard let sign = text.first, sign == "-" || sign == "+",
              let duration = DurationSpec(parsing: String(text.dropFirst())) else { return nil }
        let amount = sign == "-" ? -duration.amount : duration.amount
        switch duration.unit {
        case .days: self = .relative(months: 0, days: amount)
        case .weeks: self = .relative(months: 0, days: amount * 7)
        case .months: self = .relative(months: amount, days: 0)
        case .years: self = .relative(months: amount * 12, days: 0)
        case .seconds, .minutes, .hours: return nil
        }
    }

    /// The day this bound stands for when validating on `today`.
    public func resolve(today: CalendarDay) -> CalendarDay {
        switch self {
        case .day(let day): day
        case .relative(let months, let days): today.adding(days: days, months: months)
        }
    }

    public var description: String {
        switch self {
        case .day(let day): day.description
        case .relative(0, 0): "today"
        case .relative(let months, 0) where months % 12 == 0: "\(months < 0 ? "-" : "+")\(abs(months / 12))y"
        case .relative(let months, 0): "\(months < 0 ? "-" : "+")\(abs(months))mo"
        case .relative(_, let days): "\(days < 0 ? "-" : "+")\(abs(days))d"
        }
    }
}

/// Whose data a tenant-defined field extends.
public enum FieldOwner: String, Sendable, CaseIterable {
    case customer, user

    /// Ids a tenant's own field of this owner may not take: the platform's fields and the names its forms, API and
    /// import files already use for that owner.
    public var reservedNames: Set<String> {
        switch self {
        case .customer:
            CustomerField.reservedNames
        case .user:
            ["id", "customer", "customer_id", "username", "email", "first_name", "last_name", "name", "password",
             "password_confirmation", "role", "toggles", "status", "security_question", "security_answer", "created_at"]
        }
    }
}
