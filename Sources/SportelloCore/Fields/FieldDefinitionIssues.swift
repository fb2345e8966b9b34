import Foundation

/// A mistake in one field definition, addressed relative to the field (`validators/1/pattern`), so every place
/// fields are defined (customer and user fields, record kinds, request forms) reports it at its own location.
public struct FieldDefinitionIssue: Sendable, Equatable {
    public var severity: Diagnostic.Severity
    /// A stable code such as `unknown-check` or `invalid-pattern`.
    public var code: String
    /// The path below the field (`validators/0/check`); empty for the field itself.
    public var path: String
    /// Point at the key that introduces `path` rather than at its value.
    public var atKey: Bool
    public var message: String
    public var hint: String?
}

extension FieldDefinition {
    /// Every mistake in this definition of field `id`: options and scale on the wrong type, validator entries with
    /// no rule or several, rules the type does not take, bounds that are not values of the type or are reversed,
    /// patterns that do not compile, unknown checks and problem codes, messages missing one of `locales`
    /// (warnings), examples that fail the field's own validation (on `today`), and fields demo data cannot fill
    /// (warnings).
    public func issues(id: String, checks: FieldChecks, locales: [String], today: CalendarDay) -> [FieldDefinitionIssue] {
        var found: [FieldDefinitionIssue] = []
        func error(_ code: String, _ path: String, _ message: String, hint: String? = nil, atKey: Bool = false) {
            found.append(FieldDefinitionIssue(severity: .error, code: code, path: path, atKey: atKey, message: message, hint: hint))
        }
        func warning(_ code: String, _ path: String, _ message: String, hint: String? = nil, atKey: Bool = false) {
            found.append(FieldDefinitionIssue(severity: .warning, code: code, path: path, atKey: atKey, message: message, hint: hint))
        }
        let textual = "text, email and phone", ordered = "integer, decimal and date"

        if type == .enumeration, (options ?? OrderedMap()).isEmpty {
            error("missing-key", "", "enum field '\(id)' needs 'options'", hint: "for example options: {car: Auto, motorbike: Moto}", atKey: true)
        }
        if options != nil, type != .enumeration {
            error("invalid-option", "options", "options apply only to enum fields, and '\(id)' is \(type.rawValue)", atKey: true)
        }
        if scale != nil, type != .decimal {
            error("invalid-option", "scale", "scale applies only to decimal fields, and '\(id)' is \(type.rawValue)", atKey: true)
        }
        if normalize != nil, !type.isTextual {
            error("invalid-option", "normalize", "normalize applies only to \(textual) fields, and '\(id)' is \(type.rawValue)", atKey: true)
        }

        var brokenValidators = Set<Int>()
        for (index, validator) in (validators ?? []).enumerated() {
            let path = "validators/\(index)"
            let name = "validator \(index + 1) of field '\(id)'"
            let before = found.count
            defer { if found[before...].contains(where: { $0.severity == .error }) { brokenValidators.insert(index) } }
            if validator.ruleKeys.count > 1 {
                error("invalid-validator", "\(path)/\(validator.ruleKeys[1])", "\(name) has both '\(validator.ruleKeys[0])' and '\(validator.ruleKeys[1])'",
                      hint: "write one rule per entry, each on its own '- ' line", atKey: true)
                continue
            }
            switch validator.rule {
            case nil:
                error("invalid-validator", path, "\(name) states no rule", hint: "write one of pattern, length, range or check")
            case .pattern(let pattern):
                if !type.isTextual {
                    error("invalid-option", "\(path)/pattern", "pattern applies only to \(textual) fields, and '\(id)' is \(type.rawValue)", atKey: true)
                } else if validator.compiledPattern == nil {
                    error("invalid-pattern", "\(path)/pattern", "pattern '\(pattern)' of field '\(id)' is not a valid regular expression",
                          hint: Self.patternHint(pattern))
                }
            case .length(let bounds):
                if !type.isTextual {
                    error("invalid-option", "\(path)/length", "length applies only to \(textual) fields, and '\(id)' is \(type.rawValue)", atKey: true)
                } else if bounds.min == nil, bounds.max == nil {
                    error("invalid-validator", "\(path)/length", "length of field '\(id)' needs min, max or both", hint: "for example length: {min: 7, max: 7}")
                } else if let minimum = bounds.min, let maximum = bounds.max, minimum > maximum {
                    error("impossible-range", "\(path)/length/min", "length of field '\(id)' needs at least \(minimum) characters but allows at most \(maximum)")
                }
            case .range(let bounds):
                guard type.isOrdered else {
                    error("invalid-option", "\(path)/range", "range applies only to \(ordered) fields, and '\(id)' is \(type.rawValue)",
                          hint: type.isTextual ? "limit the number of characters with length: {min, max}" : nil, atKey: true)
                    break
                }
                if bounds.min == nil, bounds.max == nil {
                    error("invalid-validator", "\(path)/range", "range of field '\(id)' needs min, max or both",
                          hint: type == .date ? "for example range: {max: today}" : "for example range: {min: 0}")
                }
                var parsed: [FieldBound] = []
                for (key, text) in [("min", bounds.min), ("max", bounds.max)] {
                    guard let text else { continue }
                    if let bound = FieldBound(text, type: type, scale: decimalScale) {
                        parsed.append(bound)
                    } else {
                        error("invalid-value", "\(path)/range/\(key)", "range \(key) '\(text)' of field '\(id)' is not \(boundExpectation)",
                              hint: boundHint(text))
                    }
                }
                if parsed.count == 2, let minimum = bounds.min, let maximum = bounds.max,
                   let comparison = Self.order(parsed[0].value(today: today), parsed[1].value(today: today)), comparison == .orderedDescending {
                    error("impossible-range", "\(path)/range/min", "range of field '\(id)' starts at \(minimum), after its end \(maximum)")
                }
            case .check(let checkName):
                guard let check = checks[checkName] else {
                    error("unknown-check", "\(path)/check", "'\(checkName)' is not a known check",
                          hint: checks.suggestion(for: checkName).map { "did you mean '\($0)'?" } ?? "available: \(checks.names.joined(separator: ", "))")
                    break
                }
                if !check.types.contains(type) {
                    let types = FieldType.allCases.filter(check.types.contains).map(\.rawValue).joined(separator: ", ")
                    error("invalid-option", "\(path)/check", "check '\(checkName)' applies to \(types) fields, and '\(id)' is \(type.rawValue)")
                }
            }
            if let message = validator.message {
                missingTranslations(message, of: "message of \(name)", at: "\(path)/message", locales: locales, into: &found)
            }
        }

        let codes = FieldProblemCode.all + checkNames.compactMap { checks[$0]?.code }
        for (code, message) in messages ?? OrderedMap() {
            if !codes.contains(code) {
                error("unknown-problem-code", "messages/\(code)", "'\(code)' is not a problem field '\(id)' can have",
                      hint: Suggest.hint(for: code, in: codes) ?? "problem codes: \(codes.joined(separator: ", "))", atKey: true)
            } else {
                missingTranslations(message, of: "message '\(code)' of field '\(id)'", at: "messages/\(code)", locales: locales, into: &found)
            }
        }

        if let generator {
            let keys = [("template", generator.template != nil), ("check", generator.check != nil)].filter(\.1).map(\.0)
            if keys.count != 1 {
                error("invalid-generator", "generator", "the generator of field '\(id)' needs exactly one of template or check",
                      hint: "for example generator: {template: \"@@###@@\"}")
            }
            if let name = generator.check {
                if checks[name] == nil {
                    error("unknown-check", "generator/check", "'\(name)' is not a known check",
                          hint: checks.suggestion(for: name).map { "did you mean '\($0)'?" } ?? "available: \(checks.names.joined(separator: ", "))")
                } else if checks[name]?.generate == nil {
                    error("invalid-generator", "generator/check", "check '\(name)' cannot make demo values", hint: "use generator: {template: …}")
                }
            }
            if generator.template != nil, !type.isTextual {
                error("invalid-option", "generator/template", "a template applies only to \(textual) fields, and '\(id)' is \(type.rawValue)", atKey: true)
            }
        }

        guard !found.contains(where: { $0.severity == .error && !$0.path.hasPrefix("validators/") && !$0.path.hasPrefix("messages/") })
        else { return found }
        let context = FieldContext(locale: "en", defaultLocale: "en", today: today, checks: checks)
        for (index, example) in (examples ?? []).enumerated() {
            let evaluation = evaluate(example, in: context)
            for failure in evaluation.failures where !(failure.validator.map(brokenValidators.contains) ?? false) {
                let reason = message(failure, in: context)
                if let validator = failure.validator, let rule = validators?[validator] {
                    error("invalid-example", "examples/\(index)", "example '\(example)' of field '\(id)' fails validator \(validator + 1) (\(rule.summary)): \(reason)",
                          hint: "correct the example or the validator")
                } else {
                    error("invalid-example", "examples/\(index)", "example '\(example)' of field '\(id)' is not valid: \(reason)",
                          hint: failure.code == FieldProblemCode.required ? "give a value" : "correct the example")
                }
            }
        }
        if (examples ?? []).isEmpty, brokenValidators.isEmpty, !found.contains(where: { $0.severity == .error }) {
            var random = SplitMix64(seed: 0x5EED)
            if (0..<3).allSatisfy({ _ in demoValue(today: today, checks: checks, random: &random) == nil }) {
                warning("no-demo-values", "", "demo data cannot make a value of field '\(id)' that passes its validators",
                        hint: "add examples: [...] or generator: {template: \"…\"}", atKey: true)
            }
        }
        return found
    }

    private var boundExpectation: String {
        switch type {
        case .integer: "a whole number"
        case .decimal: "a number with at most \(decimalScale) decimal places"
        default: "a date (yyyy-mm-dd) or a distance from today such as today, -18y or +30d"
        }
    }

    private func boundHint(_ text: String) -> String? {
        switch type {
        case .decimal where ScaledDecimal.parse(text, scale: decimalScale) == .failure(.tooManyDecimals): "the field's scale is \(decimalScale): raise it or round the bound"
        case .date where text.first?.isNumber == true && DurationSpec(parsing: text) != nil: "give the direction: -\(text) (past) or +\(text) (future)"
        default: nil
        }
    }

    private static func patternHint(_ pattern: String) -> String {
        let opened = pattern.filter { $0 == "(" }.count, closed = pattern.filter { $0 == ")" }.count
        if opened != closed { return "it opens \(opened) '(' but closes \(closed) ')'" }
        let squareOpened = pattern.filter { $0 == "[" }.count, squareClosed = pattern.filter { $0 == "]" }.count
        if squareOpened != squareClosed { return "it opens \(squareOpened) '[' but closes \(squareClosed) ']'" }
        return "check brackets, quantifiers and escapes; write the pattern in single quotes so backslashes stay as written"
    }

    private static func order(_ lhs: FieldValue, _ rhs: FieldValue) -> ComparisonResult? {
        switch (lhs, rhs) {
        case (.integer(let a), .integer(let b)): a < b ? .orderedAscending : a > b ? .orderedDescending : .orderedSame
        case (.decimal(let a), .decimal(let b)): a < b ? .orderedAscending : a > b ? .orderedDescending : .orderedSame
        case (.date(let a), .date(let b)): a < b ? .orderedAscending : a > b ? .orderedDescending : .orderedSame
        default: nil
        }
    }

    /// A warning when `text`, written per language, lacks one of `locales` (plain text serves every language).
    private func missingTranslations(_ text: LocalizedText, of what: String, at path: String, locales: [String],
                                     into found: inout [FieldDefinitionIssue]) {
        guard text.translations["*"] == nil else { return }
        let missing = locales.filter { text.translations[$0] == nil }
        guard !missing.isEmpty else { return }
        found.append(FieldDefinitionIssue(
            severity: .warning, code: "missing-translation", path: path, atKey: true,
            message: "\(what) has no text in \(missing.joined(separator: ", "))",
            hint: "customers using \(missing.joined(separator: ", ")) see the platform's message instead; add \(missing.map { "\($0): …" }.joined(separator: ", "))"))
    }
}
