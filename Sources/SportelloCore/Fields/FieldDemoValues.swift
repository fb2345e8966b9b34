import Foundation

extension FieldDefinition {
    /// A value for demo data that passes the field's own validation on `today`: one of `examples` when there are
    /// any, else one made by `generator` (a template or a named check), else by the generator of the first named
    /// check the validators use, else from the type and the length and range validators. Nil when no candidate
    /// passes (a pattern with neither examples nor a generator). The same seed gives the same value.
    public func demoValue(today: CalendarDay, checks: FieldChecks = .standard, random: inout SplitMix64) -> FieldValue? {
        let context = FieldContext(locale: "en", defaultLocale: "en", today: today, checks: checks)
        func accepted(_ raw: String) -> FieldValue? {
            let evaluation = evaluate(raw, in: context)
            return evaluation.failures.isEmpty ? evaluation.value : nil
        }
        if let examples, !examples.isEmpty {
            for example in examples.shuffled(using: &random) {
                if let value = accepted(example) { return value }
            }
        }
        for _ in 0..<32 {
            guard let raw = candidate(checks: checks, today: today, random: &random) else { return nil }
            if let value = accepted(raw) { return value }
        }
        return nil
    }

    /// One raw value to try; nil when the field gives nothing to make one from.
    private func candidate(checks: FieldChecks, today: CalendarDay, random: inout SplitMix64) -> String? {
        if let template = generator?.template { return FieldGenerator.expand(template, random: &random) }
        if let name = generator?.check, let generate = checks[name]?.generate { return generate(&random) }
        if let generate = checkNames.lazy.compactMap({ checks[$0]?.generate }).first { return generate(&random) }
        switch type {
        case .text:
            guard !(validators ?? []).contains(where: { $0.pattern != nil }) else { return nil }
            let shortest = minLength ?? 1, longest = maxLength ?? max(shortest, 12)
            let low = max(shortest, min(6, longest)), high = max(low, min(longest, max(low, 12)))
            return Self.word(length: Int.random(in: low...high, using: &random), random: &random)
        case .email:
            return FieldCheck.email.generate?(&random)
        case .phone:
            return FieldCheck.italianMobile.generate?(&random)
        case .boolean:
            return Bool.random(using: &random) ? "true" : "false"
        case .enumeration:
            return options?.keys.randomElement(using: &random)
        case .integer:
            let (low, high) = numericBounds(today: today, unitsPerWhole: 1)
            return low <= high ? String(Int64.random(in: low...high, using: &random)) : nil
        case .decimal:
            let unitsPerWhole = (0..<decimalScale).reduce(Int64(1)) { product, _ in product * 10 }
            let (low, high) = numericBounds(today: today, unitsPerWhole: unitsPerWhole)
            return low <= high ? ScaledDecimal(units: Int64.random(in: low...high, using: &random), scale: decimalScale).description : nil
        case .date:
            let (low, high) = dateBounds(today: today)
            let span = Self.days(from: low, to: high)
            return span >= 0 ? low.adding(days: Int.random(in: 0...span, using: &random)).description : nil
        }
    }

    /// The tightest range of the range validators, in units (integers: 1), defaulting to 0…1000 around what is given.
    private func numericBounds(today: CalendarDay, unitsPerWhole: Int64) -> (Int64, Int64) {
        var low: Int64?, high: Int64?
        for bounds in rangeBounds {
            if let minimum = bounds.min.flatMap({ FieldBound($0, type: type, scale: decimalScale) }), let units = Self.units(minimum) {
                low = Swift.max(low ?? units, units)
            }
            if let maximum = bounds.max.flatMap({ FieldBound($0, type: type, scale: decimalScale) }), let units = Self.units(maximum) {
                high = Swift.min(high ?? units, units)
            }
        }
        let span = 1000 * unitsPerWhole
        switch (low, high) {
        case let (low?, high?): return (low, high)
        case let (low?, nil): return (low, low.addingReportingOverflow(span).overflow ? Int64.max : low + span)
        case let (nil, high?): return (high.subtractingReportingOverflow(span).overflow ? Int64.min : high - span, high)
        case (nil, nil): return (0, span)
        }
    }

    /// The tightest range of days the range validators allow on `today`, defaulting to the three years up to today
    /// (from a lower bound only: up to today, or three years on when it is in the future; from an upper bound only:
    /// the three years before it).
    private func dateBounds(today: CalendarDay) -> (CalendarDay, CalendarDay) {
        var low: CalendarDay?, high: CalendarDay?
        for bounds in rangeBounds {
            if let minimum = bounds.min.flatMap(DateBound.init)?.resolve(today: today) { low = Swift.max(low ?? minimum, minimum) }
            if let maximum = bounds.max.flatMap(DateBound.init)?.resolve(today: today) { high = Swift.min(high ?? maximum, maximum) }
        }
        switch (low, high) {
        case let (low?, high?): return (low, high)
        case let (low?, nil): return (low, low <= today ? today : low.adding(months: 36))
        case let (nil, high?): return (high.adding(months: -36), high)
        case (nil, nil): return (today.adding(months: -36), today)
        }
    }

    private var rangeBounds: [RangeBounds] { (validators ?? []).compactMap(\.range) }

    private static func units(_ bound: FieldBound) -> Int64? {
        switch bound {
        case .integer(let value): value
        case .decimal(let value): value.units
        case .date: nil
        }
    }

    /// Whole days from `start` to `end` (negative when `end` comes first).
    static func days(from start: CalendarDay, to end: CalendarDay) -> Int {
        Int(((Double(end.startInstant - start.startInstant)) / 86_400).rounded())
    }

    /// A pronounceable capitalised word of `length` letters: `Dabeto`.
    private static func word(length: Int, random: inout SplitMix64) -> String {
        let consonants = Array("bcdfglmnprstvz"), vowels = Array("aeiou")
        var word = ""
        for index in 0..<length {
            word.append((index % 2 == 0 ? consonants : vowels).randomElement(using: &random)!)
        }
        return word.prefix(1).uppercased() + word.dropFirst()
    }
}
