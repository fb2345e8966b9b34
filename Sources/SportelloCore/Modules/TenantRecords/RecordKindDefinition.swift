import Foundation

/// A kind of record a tenant defines under `records:` (vehicles, policies, meters, readings…): its names, its
/// fields, whose it is, how it is found again on import, how long it is shown and kept, who sees it, and how its
/// list and chart look. The platform serves every kind with the same pages, API, export, import and demo data.
public struct RecordKindDefinition: Decodable, Sendable {
    /// One record, in every language of the tenant: `Veicolo`.
    public var label: LocalizedText
    /// Several records, in every language of the tenant: `Veicoli` (page titles, navigation).
    public var labelPlural: LocalizedText
    /// `customer` (the default), or the id of another kind whose records own these (a reading belongs to a meter).
    public var owner: String?
    /// The section (from `sections:`) whose navigation lists the kind's pages.
    public var section: String
    /// The kind's fields, by id, in the order pages show them.
    public var fields: OrderedMap<FieldDefinition>
    /// The id of the field whose value identifies a record of this kind within the tenant (upserts on import).
    public var externalId: String
    /// The id of a `date` field that orders the list, drives retention and is the default x axis of the chart.
    public var date: String?
    /// How long records stay visible and when they are deleted, counted from `date`.
    public var retention: RetentionRule?
    /// Which features open the kind, and how much of it each shows.
    public var access: [RecordAccess]?
    /// The list page's columns, filters and page size.
    public var list: RecordListSettings?
    /// A chart of numeric fields over time above the list.
    public var chart: RecordChart?

    public init(label: LocalizedText, labelPlural: LocalizedText, owner: String? = nil, section: String,
                fields: OrderedMap<FieldDefinition>, externalId: String, date: String? = nil, retention: RetentionRule? = nil,
                access: [RecordAccess]?, list: RecordListSettings? = nil, chart: RecordChart? = nil) {
        self.label = label
        self.labelPlural = labelPlural
        self.owner = owner
        self.section = section
        self.fields = fields
        self.externalId = externalId
        self.date = date
        self.retention = retention
        self.access = access
        self.list = list
        self.chart = chart
    }

    /// The word `owner:` uses for the customer.
    public static let customerOwner = "customer"

    /// The kind whose records own these, nil when the customer owns them directly.
    public var ownerKind: String? {
        guard let owner, owner != Self.customerOwner else { return nil }
        return owner
    }

    /// The features that open the kind (`access:`), in order.
    public var features: [String] { (access ?? []).map(\.feature) }

    /// The list's columns: `list.columns`, else the first four fields.
    public var listColumns: [String] { list?.columns ?? Array(fields.keys.prefix(4)) }

    /// The fields the list can be filtered by (`list.filters`, else none).
    public var listFilters: [String] { list?.filters ?? [] }

    /// Records per page (`list.page_size`, else 25).
    public var pageSize: Int { list?.pageSize ?? 25 }

    /// The first day whose records are shown on `today` (`retention.visible_for` counted back from `date`), nil when
    /// every record is shown. Records without a date are always shown.
    public func visibleFrom(today: CalendarDay) -> CalendarDay? {
        retention?.visibleFor.map { Self.day($0, before: today) }
    }

    /// Records dated before this day are deleted on `today` (`retention.delete_after`); nil when none are.
    public func deleteBefore(today: CalendarDay) -> CalendarDay? {
        retention?.deleteAfter.map { Self.day($0, before: today) }
    }

    /// `today` moved back by `duration`: whole calendar months for `mo` and `y`, else days (at least one).
    static func day(_ duration: DurationSpec, before today: CalendarDay) -> CalendarDay {
        if let months = duration.calendarMonths { return today.adding(months: -months) }
        return today.adding(days: -max(0, min(duration.seconds, DurationSpec.longestSeconds) / 86_400))
    }

    // MARK: Values

    /// Validates what was entered (or imported) for the kind's fields, as `OrderedMap.validate` does; the external
    /// id's field is always required.
    public func validate(_ entered: [String: String], in context: FieldContext) -> Result<[String: FieldValue], FieldProblems> {
        var required = fields
        if var identifier = required[externalId], !identifier.isRequired {
            identifier.required = true
            required[externalId] = identifier
        }
        return required.validate(entered, in: context)
    }

    /// Stored canonical values read back as typed values; a value that no longer fits its field (the definition
    /// changed since it was stored) and values of fields the kind no longer has are left out.
    public func values(fromCanonical stored: [String: String]) -> [String: FieldValue] {
        var result: [String: FieldValue] = [:]
        for (id, text) in stored {
            if let value = fields[id]?.value(fromCanonical: text) { result[id] = value }
        }
        return result
    }

    /// The text of field `id` of `record` shown in `locale` (empty when the record has no value for it).
    public func display(_ id: String, of record: TenantRecord, locale: String) -> String {
        guard let field = fields[id], let text = record.values[id], let value = field.value(fromCanonical: text) else { return "" }
        return field.display(value, locale: locale)
    }

    // MARK: Filters

    /// A filter "field `id` is `raw`" (enum, boolean and text fields; the value normalised as the field stores it).
    public func filter(_ id: String, equals raw: String, in context: FieldContext) -> Result<RecordFilter?, FieldProblems> {
        guard var field = fields[id] else { return .success(nil) }
        field.required = false
        switch field.validate(raw, field: id, in: context) {
        case .success(let value): return .success(value.map { .equals(field: id, value: $0.canonical) })
        case .failure(let problems): return .failure(problems)
        }
    }

    /// A filter "field `id` lies between `from` and `to`, both included" (date, integer and decimal fields; either
    /// bound may be empty). Only the type is checked, not the field's validators: a bound need not be a valid value.
    public func filter(_ id: String, from: String?, to: String?, in context: FieldContext) -> Result<RecordFilter?, FieldProblems> {
        guard let field = fields[id], field.type.isOrdered else { return .success(nil) }
        let typeOnly = FieldDefinition(label: field.label, type: field.type, scale: field.scale, messages: field.messages)
        var problems = FieldProblems()
        var bounds: [FieldValue?] = []
        for raw in [from, to] {
            switch typeOnly.validate(raw, field: id, in: context) {
            case .success(let value): bounds.append(value)
            case .failure(let found): problems.append(contentsOf: found.problems); bounds.append(nil)
            }
        }
        guard problems.isEmpty else { return .failure(problems) }
        guard bounds[0] != nil || bounds[1] != nil else { return .success(nil) }
        return .success(.range(field: id, min: bounds[0], max: bounds[1]))
    }

    // MARK: Access

    /// How much of the kind `principal` sees: the widest scope among the `access:` entries whose feature it holds,
    /// an `all` entry narrowed to `own` when the role limits that feature to `own_line`. Nil: the kind is closed to it.
    public func scope(for principal: Principal, in model: AuthorizationModel) -> RecordScope? {
        var widest: RecordScope?
        for entry in access ?? [] where model.isAllowed(principal, entry.feature) {
            var scope = entry.scope ?? .all
            if scope == .all, model.scope(principal, entry.feature) == .ownLine { scope = .own }
            if widest == nil || scope == .all { widest = scope }
        }
        return widest
    }

    // MARK: Names

    /// Ids a tenant's record kind may not take: the platform's own kinds of data (singular and plural), and the
    /// names its pages, API and import already use.
    public static let reservedKindIds: Set<String> = {
        var names = Set(RecordKind.allCases.map(\.rawValue))
        for kind in ImportKind.builtIn { names.insert(kind.rawValue); names.insert(kind.rawValue + "s") }
        names.formUnion(["customers", "users", "user", "services", "service", "documents", "document", "notifications", "orders",
                         "domains", "hosting", "records", "record", "profile", "dashboard", "sections", "statement",
                         "usage_records", "articles", "api", "static"])
        return names
    }()

    /// Field ids a record kind may not use: what import rows, the API, the list's query (`page`, `limit`, `format`) and
    /// the record itself already call something.
    public static let reservedFieldIds: Set<String> = [
        "id", "type", "kind", "customer", "customer_id", "owner", "owner_id", "owner_record_id", "user", "user_id",
        "external_id", "record_date", "created_at", "updated_at", "page", "limit", "format", "date", "fields", "assigned_to_me",
    ]
}

/// One entry of a record kind's `access:`: a feature that opens the kind and how much it shows.
public struct RecordAccess: Decodable, Sendable, Hashable {
    /// A feature (from `features:`).
    public var feature: String
    /// `all` (the default) or `own`.
    public var scope: RecordScope?

    public init(feature: String, scope: RecordScope? = nil) {
        self.feature = feature
        self.scope = scope
    }
}

/// How many of a customer's records of a kind a user sees.
public enum RecordScope: String, Decodable, Sendable, CaseIterable, Comparable {
    /// Only the records assigned to the user (as `own_line` for lines).
    case own
    /// Every record of the user's customer.
    case all

    public static func < (lhs: RecordScope, rhs: RecordScope) -> Bool { lhs == .own && rhs == .all }
}

/// `list:` of a record kind.
public struct RecordListSettings: Decodable, Sendable {
    /// Field ids shown as columns, in order.
    public var columns: [String]?
    /// Field ids the list can be filtered by: equality for enum, boolean and text fields, a range for dates and numbers.
    public var filters: [String]?
    /// Records per page (default 25).
    public var pageSize: Int?

    public init(columns: [String]? = nil, filters: [String]? = nil, pageSize: Int? = nil) {
        self.columns = columns
        self.filters = filters
        self.pageSize = pageSize
    }
}

/// `chart:` of a record kind: sums of numeric fields per month or day.
public struct RecordChart: Decodable, Sendable {
    /// Bars or a line per series.
    public var kind: RecordChartKind
    /// The `date` field along the x axis (default: the kind's `date`).
    public var x: String?
    /// The numeric fields summed, one series each.
    public var series: [RecordChartSeries]
    /// `month` (the default) or `day`.
    public var period: RecordChartPeriod?

    public init(kind: RecordChartKind, x: String? = nil, series: [RecordChartSeries], period: RecordChartPeriod? = nil) {
        self.kind = kind
        self.x = x
        self.series = series
        self.period = period
    }
}

/// How a chart draws its series: bars side by side per period, or a line through the periods.
public enum RecordChartKind: String, Decodable, Sendable, CaseIterable { case bar, line }

/// How records are grouped along a chart's x axis.
public enum RecordChartPeriod: String, Decodable, Sendable, CaseIterable {
    case month, day

    /// How many leading characters of a `yyyy-MM-dd` day name its period (`2026-03` or `2026-03-15`).
    public var prefixLength: Int { self == .month ? 7 : 10 }
}

/// One series of a chart: a numeric field, and its legend (default: the field's label).
public struct RecordChartSeries: Decodable, Sendable {
    /// An integer or decimal field of the kind.
    public var field: String
    /// The legend; nil: the field's label.
    public var label: LocalizedText?

    public init(field: String, label: LocalizedText? = nil) {
        self.field = field
        self.label = label
    }
}

extension RecordChart {
    /// The date field along the x axis: `x`, else the kind's `date`.
    public func xField(of kind: RecordKindDefinition) -> String? { x ?? kind.date }

    /// The grouping period (default: month).
    public var resolvedPeriod: RecordChartPeriod { period ?? .month }
}

extension TenantDefinition {
    /// The tenant's record kinds (`records:`), empty when it declares none.
    public var recordKinds: OrderedMap<RecordKindDefinition> { records ?? OrderedMap() }

    /// The record kinds in an order where every owner kind comes before the kinds it owns (kinds in an owner cycle,
    /// which `validate` refuses, come last).
    public var recordKindsOwnersFirst: [String] {
        var ordered: [String] = []
        var placed = Set<String>()
        var remaining = recordKinds.keys
        while !remaining.isEmpty {
            let ready = remaining.filter { id in
                guard let owner = recordKinds[id]?.ownerKind, recordKinds[owner] != nil else { return true }
                return placed.contains(owner)
            }
            guard !ready.isEmpty else { return ordered + remaining }
            ordered += ready
            placed.formUnion(ready)
            remaining.removeAll { placed.contains($0) }
        }
        return ordered
    }

    /// The kinds whose records `kind`'s records own, directly.
    public func recordKinds(ownedBy kind: String) -> [String] {
        recordKinds.filter { $0.value.ownerKind == kind }.map(\.key)
    }
}
