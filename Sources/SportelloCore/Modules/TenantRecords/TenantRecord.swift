import Foundation

/// One record of a tenant-defined kind, as stored: always a customer's (directly, or through the record that owns
/// it), optionally assigned to one of the customer's users (the `own` scope), with its field values in canonical form.
public struct TenantRecord: Sendable, Equatable {
    public var id: Int64
    /// The kind's id under `records:`.
    public var kind: String
    /// The value of the kind's `external_id` field (canonical), unique per tenant and kind.
    public var externalId: String
    public var customerId: Int64
    /// The record that owns this one (a reading's meter); nil when the customer owns it directly.
    public var ownerRecordId: Int64?
    /// The user it is assigned to; users with the `own` scope see only their records.
    public var userId: Int64?
    /// The value of the kind's `date` field (`yyyy-MM-dd`), nil when the kind has none or the record leaves it empty.
    public var date: String?
    /// Field values by field id, canonical (`FieldValue.canonical`); fields left empty are absent.
    public var values: [String: String]
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(id: Int64, kind: String, externalId: String, customerId: Int64, ownerRecordId: Int64? = nil, userId: Int64? = nil,
                date: String? = nil, values: [String: String], createdAt: Int64, updatedAt: Int64) {
        self.id = id
        self.kind = kind
        self.externalId = externalId
        self.customerId = customerId
        self.ownerRecordId = ownerRecordId
        self.userId = userId
        self.date = date
        self.values = values
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A record to write: created, or replaced in full when the tenant already has one of its kind and external id
/// (values it does not name are removed). The customer, owner and user are ids the caller has checked belong
/// together (the repository checks again and refuses otherwise).
public struct TenantRecordDraft: Sendable, Equatable {
    public var kind: String
    public var externalId: String
    public var customerId: Int64
    public var ownerRecordId: Int64?
    public var userId: Int64?
    public var date: String?
    /// Validated values by field id (stored canonical; integers and decimals also as numbers for ranges and sums).
    public var values: [String: FieldValue]

    public init(kind: String, externalId: String, customerId: Int64, ownerRecordId: Int64? = nil, userId: Int64? = nil,
                date: String? = nil, values: [String: FieldValue]) {
        self.kind = kind
        self.externalId = externalId
        self.customerId = customerId
        self.ownerRecordId = ownerRecordId
        self.userId = userId
        self.date = date
        self.values = values
    }

    /// A draft of a record of kind `id` (`definition`) from validated values, its external id and date read from
    /// them; nil when the external id's field has no value.
    public init?(kind id: String, of definition: RecordKindDefinition, values: [String: FieldValue], customerId: Int64,
                 ownerRecordId: Int64? = nil, userId: Int64? = nil) {
        guard let identifier = values[definition.externalId] else { return nil }
        self.init(kind: id, externalId: identifier.canonical, customerId: customerId, ownerRecordId: ownerRecordId, userId: userId,
                  date: definition.date.flatMap { values[$0]?.canonical }, values: values)
    }
}

extension FieldValue {
    /// The number stored next to the canonical text, for exact ranges and sums: an integer, or a decimal in units of
    /// its scale (12.50 at scale 2 is 1250); nil for other types.
    public var storedNumber: Int64? {
        switch self {
        case .integer(let value): value
        case .decimal(let value): value.units
        default: nil
        }
    }
}

/// A condition on one field of a record kind, built from what a customer entered with
/// `RecordKindDefinition.filter(_:equals:in:)` or `filter(_:from:to:in:)`.
public enum RecordFilter: Sendable, Hashable {
    /// The field holds exactly this canonical value.
    case equals(field: String, value: String)
    /// The field's date or number lies between the bounds (both included; nil: open).
    case range(field: String, min: FieldValue?, max: FieldValue?)

    public var field: String {
        switch self {
        case .equals(let field, _), .range(let field, _, _): field
        }
    }
}

/// Which records of one kind of one customer a list asks for.
public struct RecordQuery: Sendable {
    public var kind: String
    /// Always the logged-in user's customer: records of any other customer are never found.
    public var customerId: Int64
    /// The `own` scope: only records assigned to this user. Nil: every record of the customer.
    public var userId: Int64?
    /// Only the records this one owns (a meter's readings).
    public var ownerRecordId: Int64?
    public var filters: [RecordFilter]
    /// Records dated before this day are not shown (the kind's `retention.visible_for`); undated records are.
    public var visibleFrom: CalendarDay?
    public var limit: Int
    public var offset: Int

    public init(kind: String, customerId: Int64, userId: Int64? = nil, ownerRecordId: Int64? = nil, filters: [RecordFilter] = [],
                visibleFrom: CalendarDay? = nil, limit: Int = 25, offset: Int = 0) {
        self.kind = kind
        self.customerId = customerId
        self.userId = userId
        self.ownerRecordId = ownerRecordId
        self.filters = filters
        self.visibleFrom = visibleFrom
        self.limit = limit
        self.offset = offset
    }
}

/// One page of a list, newest first (by date, then by id), and how many records match in all.
public struct RecordPage: Sendable, Equatable {
    public var items: [TenantRecord]
    public var total: Int

    public init(items: [TenantRecord], total: Int) {
        self.items = items
        self.total = total
    }
}

/// The sums of a chart's numeric fields in one period.
public struct RecordSums: Sendable, Equatable {
    /// `yyyy-MM` for months, `yyyy-MM-dd` for days.
    public var period: String
    /// Sum per field id, exact (decimals at their field's scale); fields with no value in the period are absent.
    public var sums: [String: FieldValue]
    /// How many records fall in the period.
    public var count: Int

    public init(period: String, sums: [String: FieldValue], count: Int) {
        self.period = period
        self.sums = sums
        self.count = count
    }
}
