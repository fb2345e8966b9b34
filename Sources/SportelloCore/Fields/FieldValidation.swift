import Foundation

/// What validating a field's value needs besides the field: the language to answer in, the tenant's default
/// language (the fallback for messages), the day relative date bounds count from, and the named checks.
public struct FieldContext: Sendable {
    /// The customer's language: messages are written in it when the tenant or the platform has it.
    public var locale: String
    /// The tenant's default language, used when neither the provider nor the platform has `locale`.
    public var defaultLocale: String
    /// The day of validation in the tenant's time zone (`range: {max: -18y}` counts from it).
    public var today: CalendarDay
    /// The library `check:` names refer to (the one the tenant was loaded with).
    public var checks: FieldChecks

    public init(locale: String, defaultLocale: String, today: CalendarDay, checks: FieldChecks = .standard) {
        self.locale = locale
        self.defaultLocale = defaultLocale
        self.today = today
        self.checks = checks
    }

    /// A context for `tenant`'s customers: its default language as the fallback.
    public init(locale: String, tenant: TenantDefinition, today: CalendarDay, checks: FieldChecks = .standard) {
        self.init(locale: locale, defaultLocale: tenant.locales.default, today: today, checks: checks)
    }
}

/// The stable codes of the problems field validation reports, besides `invalid_<check>` for a failed named check.
public enum FieldProblemCode {
    /// Nothing entered in a required field.
    public static let required = "required"
    /// Control, bidirectional or zero-width characters (see `NameText`).
    public static let invalidCharacters = "invalid_characters"
    public static let invalidInteger = "invalid_integer"
    public static let invalidDecimal = "invalid_decimal"
    /// More decimal places than the field's `scale`.
    public static let tooManyDecimals = "too_many_decimals"
    public static let invalidDate = "invalid_date"
    public static let invalidBoolean = "invalid_boolean"
    /// Not one of an `enum` field's options.
    public static let invalidOption = "invalid_option"
    /// An `email` field's value is not an e-mail address.
    public static let invalidEmail = "invalid_email"
    /// A `phone` field's value is not a phone number.
    public static let invalidPhone = "invalid_phone"
    /// A `pattern` validator failed.
    public static let patternMismatch = "pattern_mismatch"
    /// A `length` validator failed.
    public static let tooShort = "too_short", tooLong = "too_long"
    /// A `range` validator of a number failed.
    public static let belowMinimum = "below_minimum", aboveMaximum = "above_maximum"
    /// A `range` validator of a date failed.
    public static let tooEarly = "too_early", tooLate = "too_late"

    /// Every code above, in that order.
    public static let all = [required, invalidCharacters, invalidInteger, invalidDecimal, tooManyDecimals, invalidDate,
                             invalidBoolean, invalidOption, invalidEmail, invalidPhone, patternMismatch, tooShort, tooLong,
                             belowMinimum, aboveMaximum, tooEarly, tooLate]
}

/// One way a value failed, before its message is chosen and written.
struct FieldFailure: Error, Sendable {
    var code: String
    /// The validator that failed (index in `validators`); nil for the type's own problems.
    var validator: Int?
    /// The platform's message (`{label}`, `{min}`, `{max}`, `{scale}`, `{example}` filled in later).
    var platform: LocalizedText
    var minimum: FieldValue?
    var maximum: FieldValue?
}

/// The outcome of checking one raw input, with the failures still unlocalised.
struct FieldEvaluation: Sendable {
    var value: FieldValue?
    var failures: [FieldFailure]
}

extension FieldDefinition {
    /// Validates and normalises what was typed into the field `id`.
    ///
    /// Surrounding whitespace is trimmed and runs of whitespace become one space; text, e-mail and phone values then
    /// go through `normalize` and through the normalisation of each named check they use. An empty value is `nil`
    /// (or the problem `required`). A value of the wrong type gives one problem; otherwise every failing validator
    /// gives one, in order. Each problem's message is in `context.locale`: the provider's (`message:` of the
    /// validator, else `messages:` of the field) when it has that language, else the platform's, else the
    /// provider's in the default language, else the platform's in the default language, else English.
    public func validate(_ raw: String?, field id: String, in context: FieldContext) -> Result<FieldValue?, FieldProblems> {
        let evaluation = evaluate(raw, in: context)
        guard evaluation.failures.isEmpty else {
            return .failure(FieldProblems(evaluation.failures.map { problem($0, field: id, in: context) }))
        }
        return .success(evaluation.value)
    }

    /// The text a value shows on a page in `locale`: decimals with a comma except in English, dates as
    /// `dd/mm/yyyy`, booleans as Sì/No or Yes/No, options by their label.
    public func display(_ value: FieldValue, locale: String) -> String {
        switch value {
        case .text(let text): text
        case .integer(let number): String(number)
        case .decimal(let number): number.formatted(separator: locale == "en" ? "." : ",")
        case .date(let day): LocalTime.pad(day.day) + "/" + LocalTime.pad(day.month) + "/" + LocalTime.pad(day.year, 4)
        case .boolean(let flag): locale == "it" ? (flag ? "Sì" : "No") : (flag ? "Yes" : "No")
        case .option(let id): options?[id]?.resolve(locale) ?? id
        }
    }

    /// The value a stored canonical text stands for (the inverse of `FieldValue.canonical`); nil when it does not
    /// fit the field's type.
    public func value(fromCanonical text: String) -> FieldValue? {
        switch type {
        case .text, .email, .phone: return .text(text)
        case .integer: return Int64(text).map(FieldValue.integer)
        case .decimal:
            guard case .success(let number) = ScaledDecimal.parse(text, scale: decimalScale) else { return nil }
            return .decimal(number)
        case .date: return CalendarDay(text).map(FieldValue.date)
        case .boolean: return text == "true" ? .boolean(true) : text == "false" ? .boolean(false) : nil
        case .enumeration: return text.isEmpty ? nil : .option(text)
        }
    }

    // MARK: Evaluation

    func evaluate(_ raw: String?, in context: FieldContext) -> FieldEvaluation {
        var text = FlowText.collapsed(raw ?? "")
        if type.isTextual { for step in normalize ?? [] { text = step.apply(text) } }
        guard !text.isEmpty else {
            return FieldEvaluation(value: nil, failures: isRequired ? [typeFailure(FieldProblemCode.required)] : [])
        }
        if NameText.hasForbiddenCharacters(text) {
            return FieldEvaluation(value: nil, failures: [typeFailure(FieldProblemCode.invalidCharacters)])
        }
        let value: FieldValue
        switch typed(text, in: context) {
        case .success(let typedValue): value = typedValue
        case .failure(let failure): return FieldEvaluation(value: nil, failures: [failure])
        }
        var failures: [FieldFailure] = []
        for (index, validator) in (validators ?? []).enumerated() {
            if let failure = apply(validator, index: index, to: value, in: context) { failures.append(failure) }
        }
        return FieldEvaluation(value: value, failures: failures)
    }

    /// The value of the field's type that `text` (non-empty, normalised) stands for.
    private func typed(_ text: String, in context: FieldContext) -> Result<FieldValue, FieldFailure> {
        switch type {
        case .text, .email, .phone:
            var value = text
            if type == .email {
                guard let email = ItalianIdentifiers.normalizedEmail(value) else { return .failure(typeFailure(FieldProblemCode.invalidEmail)) }
                value = email
            }
            if type == .phone {
                guard let phone = FieldParsing.phone(value) else { return .failure(typeFailure(FieldProblemCode.invalidPhone)) }
                value = phone
            }
            for name in checkNames {
                if let check = context.checks[name], check.types.contains(type) { value = check.normalize(value) }
            }
            return .success(.text(value))
        case .integer:
            guard let number = FieldParsing.integer(text) else { return .failure(typeFailure(FieldProblemCode.invalidInteger)) }
            return .success(.integer(number))
        case .decimal:
            switch ScaledDecimal.parse(text, scale: decimalScale) {
            case .success(let number): return .success(.decimal(number))
            case .failure(.tooManyDecimals): return .failure(typeFailure(FieldProblemCode.tooManyDecimals))
            case .failure: return .failure(typeFailure(FieldProblemCode.invalidDecimal))
            }
        case .date:
            guard let day = FieldParsing.date(text) else { return .failure(typeFailure(FieldProblemCode.invalidDate)) }
            return .success(.date(day))
        case .boolean:
            guard let flag = FieldParsing.boolean(text) else { return .failure(typeFailure(FieldProblemCode.invalidBoolean)) }
            return .success(.boolean(flag))
        case .enumeration:
            guard let options, let id = FieldParsing.option(text, in: options) else { return .failure(typeFailure(FieldProblemCode.invalidOption)) }
            return .success(.option(id))
        }
    }

    /// The failure of `validator` on `value`, nil when it passes or does not apply.
    private func apply(_ validator: FieldValidator, index: Int, to value: FieldValue, in context: FieldContext) -> FieldFailure? {
        func failure(_ code: String, _ platform: LocalizedText, minimum: FieldValue? = nil, maximum: FieldValue? = nil) -> FieldFailure {
            FieldFailure(code: code, validator: index, platform: platform, minimum: minimum, maximum: maximum)
        }
        switch validator.rule {
        case .pattern:
            guard case .text(let text) = value, let regex = validator.compiledPattern else { return nil }
            let matched = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
            return matched ? nil : failure(FieldProblemCode.patternMismatch, FieldMessages.patternMismatch(hasExample: !(examples ?? []).isEmpty))
        case .length(let bounds):
            guard case .text(let text) = value else { return nil }
            let exact = bounds.min != nil && bounds.min == bounds.max
            let minimum = bounds.min.map { FieldValue.integer(Int64($0)) }, maximum = bounds.max.map { FieldValue.integer(Int64($0)) }
            if let least = bounds.min, text.count < least {
                return failure(FieldProblemCode.tooShort, exact ? FieldMessages.exactLength : FieldMessages.tooShort, minimum: minimum, maximum: maximum)
            }
            if let most = bounds.max, text.count > most {
                return failure(FieldProblemCode.tooLong, exact ? FieldMessages.exactLength : FieldMessages.tooLong, minimum: minimum, maximum: maximum)
            }
            return nil
        case .range(let bounds):
            let minimum = bounds.min.flatMap { FieldBound($0, type: type, scale: decimalScale) }?.value(today: context.today)
            let maximum = bounds.max.flatMap { FieldBound($0, type: type, scale: decimalScale) }?.value(today: context.today)
            let isDate = type == .date
            if let minimum, Self.compare(value, minimum) == .orderedAscending {
                return isDate ? failure(FieldProblemCode.tooEarly, FieldMessages.tooEarly, minimum: minimum, maximum: maximum)
                    : failure(FieldProblemCode.belowMinimum, FieldMessages.belowMinimum, minimum: minimum, maximum: maximum)
            }
            if let maximum, Self.compare(value, maximum) == .orderedDescending {
                return isDate ? failure(FieldProblemCode.tooLate, FieldMessages.tooLate, minimum: minimum, maximum: maximum)
                    : failure(FieldProblemCode.aboveMaximum, FieldMessages.aboveMaximum, minimum: minimum, maximum: maximum)
            }
            return nil
        case .check(let name):
            guard case .text(let text) = value, let check = context.checks[name], check.types.contains(type) else { return nil }
            return check.accepts(text) ? nil : failure(check.code, check.message)
        case nil:
            return nil
        }
    }

    private static func compare(_ lhs: FieldValue, _ rhs: FieldValue) -> ComparisonResult? {
        func order<T: Comparable>(_ a: T, _ b: T) -> ComparisonResult { a < b ? .orderedAscending : a > b ? .orderedDescending : .orderedSame }
        switch (lhs, rhs) {
        case (.integer(let a), .integer(let b)): return order(a, b)
        case (.decimal(let a), .decimal(let b)): return order(a, b)
        case (.date(let a), .date(let b)): return order(a, b)
        default: return nil
        }
    }

    private func typeFailure(_ code: String) -> FieldFailure {
        FieldFailure(code: code, validator: nil, platform: FieldMessages.platform(code), minimum: nil, maximum: nil)
    }

    // MARK: Messages

    /// The problem a failure is shown as, its message chosen and filled in for `context.locale`.
    func problem(_ failure: FieldFailure, field id: String, in context: FieldContext) -> FieldProblem {
        FieldProblem(field: id, code: failure.code, message: LocalizedText(translations: [context.locale: message(failure, in: context)]))
    }

    /// The message of `failure` in `context.locale`, following the fallbacks `validate` describes.
    func message(_ failure: FieldFailure, in context: FieldContext) -> String {
        let own = failure.validator.flatMap { validators?[$0].message } ?? messages?[failure.code]
        let locale = context.locale, fallback = context.defaultLocale
        let choices: [(LocalizedText?, String, String)] = [
            (own, locale, locale), (own, "*", locale), (failure.platform, locale, locale),
            (own, fallback, fallback), (failure.platform, fallback, fallback), (failure.platform, "en", "en"),
        ]
        for (text, key, writtenIn) in choices {
            if let template = text?.translations[key] { return fill(template, failure: failure, locale: writtenIn) }
        }
        return fill(own?.resolve(locale) ?? failure.code, failure: failure, locale: locale)
    }

    private func fill(_ template: String, failure: FieldFailure, locale: String) -> String {
        guard template.contains("{") else { return template }
        var text = template.replacingOccurrences(of: "{label}", with: label.resolve(locale))
        text = text.replacingOccurrences(of: "{scale}", with: String(decimalScale))
        text = text.replacingOccurrences(of: "{example}", with: examples?.first ?? "")
        text = text.replacingOccurrences(of: "{min}", with: failure.minimum.map { display($0, locale: locale) } ?? "")
        return text.replacingOccurrences(of: "{max}", with: failure.maximum.map { display($0, locale: locale) } ?? "")
    }
}

extension FieldParsing {
    /// A phone number as `+` and digits when it started with `+` or `00`, else as digits: digits, spaces and
    /// `- . / ( )` only, a `+` only first, 6 to 15 digits. Nil otherwise.
    static func phone(_ text: String) -> String? {
        let body = text.hasPrefix("+") ? text.dropFirst() : Substring(text)
        guard body.allSatisfy({ $0.isASCII && ($0.isNumber || " -./()".contains($0)) }) else { return nil }
        var digits = body.filter(\.isNumber)
        var international = text.hasPrefix("+")
        if !international, digits.hasPrefix("00") {
            digits.removeFirst(2)
            international = true
        }
        guard (6...15).contains(digits.count) else { return nil }
        return (international ? "+" : "") + digits
    }
}

/// The platform's messages for the problems the field types and the generic validators find.
enum FieldMessages {
    static func text(_ it: String, _ en: String) -> LocalizedText { LocalizedText(translations: ["it": it, "en": en]) }

    static func platform(_ code: String) -> LocalizedText {
        switch code {
        case FieldProblemCode.required: text("Compila il campo «{label}».", "Please fill in “{label}”.")
        case FieldProblemCode.invalidCharacters:
            text("«{label}» contiene caratteri non ammessi (caratteri di controllo o invisibili): scrivilo di nuovo senza incollarlo.",
                 "“{label}” contains characters that are not allowed (control or invisible characters): please type it again rather than pasting it.")
        case FieldProblemCode.invalidInteger: text("«{label}» deve essere un numero intero, ad esempio 42.", "“{label}” must be a whole number, for example 42.")
        case FieldProblemCode.invalidDecimal:
            text("«{label}» deve essere un numero, con la virgola prima dei decimali e senza separatori delle migliaia.",
                 "“{label}” must be a number, with a point before the decimals and no thousands separators.")
        case FieldProblemCode.tooManyDecimals: text("«{label}» può avere al massimo {scale} cifre decimali.", "“{label}” can have at most {scale} decimal places.")
        case FieldProblemCode.invalidDate:
            text("«{label}» non è una data valida: usa il formato gg/mm/aaaa, ad esempio 05/03/1980.",
                 "“{label}” is not a valid date: please use dd/mm/yyyy, for example 05/03/1980.")
        case FieldProblemCode.invalidBoolean: text("«{label}»: rispondi sì o no.", "“{label}”: please answer yes or no.")
        case FieldProblemCode.invalidOption: text("«{label}»: scegli una delle opzioni proposte.", "“{label}”: please choose one of the options offered.")
        case FieldProblemCode.invalidEmail:
            text("«{label}» non sembra un indirizzo e-mail valido: controlla che abbia la forma nome@dominio.it.",
                 "“{label}” does not look like a valid e-mail address: please check it looks like name@domain.com.")
        case FieldProblemCode.invalidPhone:
            text("«{label}» non sembra un numero di telefono valido: scrivi le cifre, con il prefisso internazionale se non è italiano.",
                 "“{label}” does not look like a valid phone number: please write its digits, with the country code if it is not Italian.")
        default: text("«{label}» non è valido.", "“{label}” is not valid.")
        }
    }

    static func patternMismatch(hasExample: Bool) -> LocalizedText {
        hasExample ? text("«{label}» non è nel formato richiesto, ad esempio {example}.", "“{label}” is not in the expected format, for example {example}.")
            : text("«{label}» non è nel formato richiesto.", "“{label}” is not in the expected format.")
    }

    static let tooShort = text("«{label}» deve avere almeno {min} caratteri.", "“{label}” must have at least {min} characters.")
    static let tooLong = text("«{label}» può avere al massimo {max} caratteri.", "“{label}” can have at most {max} characters.")
    static let exactLength = text("«{label}» deve avere esattamente {min} caratteri.", "“{label}” must have exactly {min} characters.")
    static let belowMinimum = text("«{label}» deve essere almeno {min}.", "“{label}” must be at least {min}.")
    static let aboveMaximum = text("«{label}» può essere al massimo {max}.", "“{label}” can be at most {max}.")
    static let tooEarly = text("«{label}» non può essere prima del {min}.", "“{label}” cannot be before {min}.")
    static let tooLate = text("«{label}» non può essere dopo il {max}.", "“{label}” cannot be after {max}.")
}

extension OrderedMap where Value == FieldDefinition {
    /// Validates the values entered for every field of this map (keyed by field id; missing keys are empty),
    /// collecting every problem in field order. The result holds the non-empty values only.
    public func validate(_ entered: [String: String], in context: FieldContext) -> Result<[String: FieldValue], FieldProblems> {
        var values: [String: FieldValue] = [:]
        var problems = FieldProblems()
        for (id, field) in self {
            switch field.validate(entered[id], field: id, in: context) {
            case .success(let value): values[id] = value
            case .failure(let found): problems.append(contentsOf: found.problems)
            }
        }
        return problems.isEmpty ? .success(values) : .failure(problems)
    }
}
