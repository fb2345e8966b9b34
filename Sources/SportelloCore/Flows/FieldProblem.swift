import Foundation

/// One thing wrong with one field of a registration or recovery form, ready to show next to it.
public struct FieldProblem: Error, Sendable, Equatable, Hashable {
    /// The HTML form field name the problem belongs to (`tax_code`, `password`, `password_confirmation`…).
    public var field: String
    /// A stable snake_case code (`required`, `too_short`, `missing_digit`, `invalid_tax_code`, `mismatch`…).
    public var code: String
    /// What to tell the customer, in Italian and English.
    public var message: LocalizedText

    public init(field: String, code: String, message: LocalizedText) {
        self.field = field
        self.code = code
        self.message = message
    }

    /// A problem whose message is given in Italian and English.
    public init(field: String, code: String, it: String, en: String) {
        self.init(field: field, code: code, message: LocalizedText(translations: ["it": it, "en": en]))
    }
}

/// Every problem a form submission has; validation collects them all instead of stopping at the first.
public struct FieldProblems: Error, Sendable, Equatable {
    /// The problems in the order the form shows its fields.
    public var problems: [FieldProblem]

    public init(_ problems: [FieldProblem] = []) {
        self.problems = problems
    }

    public var isEmpty: Bool { problems.isEmpty }
    public var count: Int { problems.count }

    /// The fields that have at least one problem, each once, in form order.
    public var fields: [String] {
        var seen = Set<String>()
        return problems.map(\.field).filter { seen.insert($0).inserted }
    }

    /// The problems of one field.
    public func problems(for field: String) -> [FieldProblem] {
        problems.filter { $0.field == field }
    }

    /// The codes of one field's problems, for tests and for the web layer's CSS classes.
    public func codes(for field: String) -> [String] {
        problems(for: field).map(\.code)
    }

    public mutating func append(_ problem: FieldProblem) { problems.append(problem) }
    public mutating func append(contentsOf more: [FieldProblem]) { problems.append(contentsOf: more) }
}

/// One input a registration page shows: its form name, label, HTML type and whether it must be filled in.
public struct FormInput: Sendable, Equatable, Hashable {
    /// The HTML `name` (and the key of the entered values: `first_name`, `tax_id`, `postal_code`…).
    public var name: String
    public var label: LocalizedText
    /// The HTML input type: `text`, `email`, `tel` or `date`.
    public var type: String
    /// The HTML `autocomplete` token, when browsers know the field (`given-name`, `email`, `postal-code`…).
    public var autocomplete: String?
    public var required: Bool
    /// A short explanation shown under the input, when the label alone is not enough.
    public var hint: LocalizedText?
    /// The longest value accepted, for the `maxlength` attribute.
    public var maxLength: Int?

    public init(name: String, label: LocalizedText, type: String = "text", autocomplete: String? = nil,
                required: Bool, hint: LocalizedText? = nil, maxLength: Int? = nil) {
        self.name = name
        self.label = label
        self.type = type
        self.autocomplete = autocomplete
        self.required = required
        self.hint = hint
        self.maxLength = maxLength
    }
}

/// Text normalisation shared by the flow validators (pure string functions).
enum FlowText {
    /// Surrounding whitespace and newlines removed.
    static func trimmed(_ s: String) -> String {
        s.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Trimmed, with every run of whitespace turned into one space.
    static func collapsed(_ s: String) -> String {
        s.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// Lower-cased with accents and letter widths folded: `Società` → `societa`.
    static func folded(_ s: String) -> String {
        s.folding(options: [.diacriticInsensitive, .caseInsensitive, .widthInsensitive], locale: nil).lowercased()
    }

    /// Folded and reduced to letters and digits: `Società Rossi S.r.l.` → `societarossisrl`, `D’Angelo` → `dangelo`.
    static func nameKey(_ s: String) -> String {
        String(folded(s).filter { $0.isLetter || $0.isNumber })
    }

    /// Upper-cased ASCII letters and digits only: ` rss mra-85t10 ` → `RSSMRA85T10`.
    static func alphanumericUpper(_ s: String) -> String {
        String(s.uppercased().filter { $0.isASCII && ($0.isLetter || $0.isNumber) })
    }

    /// A partita IVA as its digits, an `IT` prefix dropped: `IT 004 884 100 10` → `00488410010`.
    static func vatDigits(_ s: String) -> String {
        var code = alphanumericUpper(s)
        if code.hasPrefix("IT") { code.removeFirst(2) }
        return code
    }

    /// A phone number as digits, without separators and without the `+39`/`0039` prefix.
    static func phoneDigits(_ s: String) -> String {
        var number = String(trimmed(s).filter { $0.isASCII && ($0.isNumber || $0 == "+") })
        if number.hasPrefix("+39") {
            number.removeFirst(3)
        } else if number.hasPrefix("0039") {
            number.removeFirst(4)
        }
        return String(number.filter { $0.isASCII && $0.isNumber })
    }

    /// An ISO `yyyy-mm-dd` date from `dd/mm/yyyy`, `d/m/yyyy`, `dd-mm-yyyy`, `dd.mm.yyyy` or `yyyy-mm-dd`
    /// (day first unless the year comes first);
    /// nil unless it is a real calendar day between the years 1000 and 9999.
    static func isoDate(_ s: String) -> String? {
        let text = trimmed(s)
        let parts = text.split(whereSeparator: { $0 == "/" || $0 == "-" || $0 == "." }).map(String.init)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else {
            return nil
        }
        let year: Int, month: Int, day: Int
        if parts[0].count == 4, parts[1].count <= 2, parts[2].count <= 2 {
            guard let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]) else { return nil }
            (year, month, day) = (y, m, d)
        } else if parts[0].count <= 2, parts[1].count <= 2, parts[2].count == 4 {
            guard let d = Int(parts[0]), let m = Int(parts[1]), let y = Int(parts[2]) else { return nil }
            (year, month, day) = (y, m, d)
        } else {
            return nil
        }
        guard (1000...9999).contains(year), (1...12).contains(month), (1...CalendarDay.daysIn(year: year, month: month)).contains(day)
        else { return nil }
        return CalendarDay(year: year, month: month, day: day).description
    }

    /// A value in both languages.
    static func text(_ it: String, _ en: String) -> LocalizedText {
        LocalizedText(translations: ["it": it, "en": en])
    }
}
