import Foundation

/// The rules of one request form, as pure decisions: which fields a submission shows (conditions), how a typed
/// field validates (integer, decimal, date bounds, options of a tenant enum), whether the form is open at an
/// instant (opening windows) and whether a date is past its deadline. Pages, the API and `sportello test` all
/// decide through it.
public struct RequestFormRules: Sendable {
    public let form: RequestForm
    public let definition: TenantDefinition

    public init(form: RequestForm, definition: TenantDefinition) {
        self.form = form
        self.definition = definition
    }

    /// The tenant's time zone (`time_zone:`, default Europe/Rome).
    public var timeZone: TimeZone { definition.calendarTimeZone }

    // MARK: Conditions

    /// The names of the fields a submission with `values` shows: those without `when`, and those whose condition
    /// holds on a field that is itself shown. `values` are canonical values by field name, with
    /// `<record field>.<field>` for the fields of a picked record.
    public func shownFields(_ values: [String: String]) -> Set<String> {
        var shown = Set<String>()
        var decided = [String: Bool]()
        let byName = Dictionary(form.fields.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        func isShown(_ name: String, depth: Int) -> Bool {
            if let known = decided[name] { return known }
            guard let field = byName[name], depth < 32 else { return false }
            var result = true
            if let condition = field.when {
                let base = Self.baseField(of: condition.field)
                result = isShown(base, depth: depth + 1) && condition.holds(in: values)
            }
            decided[name] = result
            return result
        }
        for field in form.fields where isShown(field.name, depth: 0) { shown.insert(field.name) }
        return shown
    }

    /// Whether `condition` holds for a submission, the field it looks at being shown.
    public func holds(_ condition: FormCondition, _ values: [String: String]) -> Bool {
        let base = Self.baseField(of: condition.field)
        return shownFields(values).contains(base) && condition.holds(in: values)
    }

    /// `vehicle` for `vehicle.fuel`: the form field a condition looks at.
    public static func baseField(of path: String) -> String {
        path.split(separator: ".", maxSplits: 1).first.map(String.init) ?? path
    }

    // MARK: Windows

    public var schedule: OpeningSchedule { OpeningSchedule(form.open ?? []) }

    /// Whether the form takes a submission with `values` at `instant`; with `values` nil (the forms list, a page not
    /// filled in yet) every window counts, so the form shows as open when any branch of it is.
    public func status(at instant: Date, values: [String: String]?) -> OpeningSchedule.Status {
        schedule.status(at: instant, in: timeZone) { condition in
            guard let values else { return true }
            return holds(condition, values)
        }
    }

    // MARK: Typed fields

    /// The field definition a typed form field validates with (integer, decimal, boolean, date, and `choice` with
    /// `options_from`); nil for the form's other types, which the requests module checks itself.
    public func typedDefinition(of field: FormField) -> FieldDefinition? {
        let bounds = (field.min != nil || field.max != nil) ? [FieldValidator(range: RangeBounds(min: field.min, max: field.max))] : nil
        switch field.type {
        case .integer:
            return FieldDefinition(label: field.label, type: .integer, required: field.required, help: field.help, validators: bounds)
        case .decimal:
            return FieldDefinition(label: field.label, type: .decimal, scale: field.scale ?? 2, required: field.required, help: field.help,
                                   validators: bounds)
        case .boolean:
            return FieldDefinition(label: field.label, type: .boolean, required: field.required, help: field.help)
        case .date where bounds != nil:
            return FieldDefinition(label: field.label, type: .date, required: field.required, help: field.help, validators: bounds)
        case .choice:
            guard let source = field.optionsFrom, let options = enumOptions(source) else { return nil }
            return FieldDefinition(label: field.label, type: .enumeration, options: options, required: field.required, help: field.help)
        default:
            return nil
        }
    }

    /// The options of the tenant `enum` field `source` names: `<record kind>.<field>` or a customer field id.
    public func enumOptions(_ source: String) -> OrderedMap<LocalizedText>? {
        Self.enumField(source, in: definition)?.options
    }

    /// The `enum` field `source` names, nil when it names none.
    public static func enumField(_ source: String, in definition: TenantDefinition) -> FieldDefinition? {
        let parts = source.split(separator: ".", maxSplits: 1).map(String.init)
        let field = parts.count == 2 ? definition.recordKinds[parts[0]]?.fields[parts[1]] : definition.customerFields?[source]
        guard let field, field.type == .enumeration else { return nil }
        return field
    }

    // MARK: Deadlines

    /// A deadline a submission misses: the date field, and the last day the form could be sent for it.
    public struct MissedDeadline: Sendable, Equatable {
        public var field: String
        public var lastDay: CalendarDay
        public var message: LocalizedText?
    }

    /// The deadlines `values` miss on `today` (the tenant's calendar day), for the shown date fields that hold a date.
    public func missedDeadlines(_ values: [String: String], today: CalendarDay) -> [MissedDeadline] {
        let shown = shownFields(values)
        return (form.deadlines ?? []).compactMap { deadline in
            guard shown.contains(deadline.field), let text = values[deadline.field], let day = CalendarDay(text),
                  let last = Self.lastDay(after: day, within: deadline.within), today > last else { return nil }
            return MissedDeadline(field: deadline.field, lastDay: last, message: deadline.message)
        }
    }

    /// The last day within `within` of `day`: calendar days, weeks, months or years later (nil for shorter units,
    /// which `validate` refuses on a date).
    public static func lastDay(after day: CalendarDay, within: DurationSpec) -> CalendarDay? {
        switch within.unit {
        case .days: day.adding(days: within.amount)
        case .weeks: day.adding(days: 7 * within.amount)
        case .months: day.adding(months: within.amount)
        case .years: day.adding(months: 12 * within.amount)
        case .seconds, .minutes, .hours: nil
        }
    }

    // MARK: Statuses

    /// A lifecycle status's label in `locale` from the form's `status_labels`, nil when the form gives none.
    public func statusLabel(_ status: String, locale: String) -> String? {
        form.statusLabels?[status]?.resolve(locale)
    }
}

extension TenantDefinition {
    /// The time zone the tenant's calendar rules are read in (`time_zone:`, default Europe/Rome).
    public var calendarTimeZone: TimeZone {
        timeZone.flatMap(TimeZone.init(identifier:)) ?? CalendarDay.timeZone
    }

    /// The calendar day `instant` falls on in the tenant's time zone.
    public func calendarDay(at instant: Date) -> CalendarDay {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = calendarTimeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: instant)
        return CalendarDay(year: parts.year ?? 1970, month: parts.month ?? 1, day: parts.day ?? 1)
    }
}
