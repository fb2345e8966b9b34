import Foundation
import SQLKit
import SportelloCore

// Records of the tenants' own kinds. Every read names the customer (and, for the `own` scope, the user): a record of
// another customer is never found, whatever id is asked for. Writes check that owner records and users belong to the
// record's customer.

/// A `records` row.
struct RecordRow: Codable, Sendable {
    var id: Int64?
    var kind: String
    var externalId: String
    var customerId: Int64
    var ownerRecordId: Int64?
    var userId: Int64?
    var recordDate: String?
    var createdAt: Int64
    var updatedAt: Int64
}

/// A `record_field_values` row.
private struct RecordValueRow: Codable, Sendable {
    var recordId: Int64
    var field: String
    var value: String
    var number: Int64?
}

/// What an import needs to know of an existing record it names by external id.
struct RecordReference: Sendable {
    var id: Int64
    var customerId: Int64
    var userId: Int64?
}

extension TenantTransaction {
    private static let chunk = 500

    private func recordColumn(_ name: String) -> SQLColumn { SQLColumn(name, table: StoredTable.records.rawValue) }

    /// The records `query` asks for, before paging: kind, customer, scope, owner, visibility and filters.
    private func recordSelection(_ query: RecordQuery) -> SQLSelectBuilder {
        var builder = select(.records).where(recordColumn("kind"), .equal, SQLBind(query.kind))
            .where(recordColumn("customer_id"), .equal, SQLBind(query.customerId))
        if let userId = query.userId { builder = builder.where(recordColumn("user_id"), .equal, SQLBind(userId)) }
        if let owner = query.ownerRecordId { builder = builder.where(recordColumn("owner_record_id"), .equal, SQLBind(owner)) }
        if let from = query.visibleFrom {
            builder = builder.where { group in
                group.where(recordColumn("record_date"), .is, SQLLiteral.null)
                    .orWhere(recordColumn("record_date"), .greaterThanOrEqual, SQLBind(from.description))
            }
        }
        for filter in query.filters {
            builder = builder.where(recordColumn("id"), .in, SQLGroupExpression(recordsMatching(filter).select))
        }
        return builder
    }

    /// `SELECT record_id FROM record_field_values WHERE …` for one filter: text equality on the canonical value,
    /// ranges on the stored number (integers, decimals) or on the `yyyy-MM-dd` text (dates).
    private func recordsMatching(_ filter: RecordFilter) -> SQLSelectBuilder {
        var builder = select(.recordFieldValues).column("record_id").where("field", .equal, filter.field)
        switch filter {
        case .equals(_, let value):
            builder = builder.where("value", .equal, value)
        case .range(_, let minimum, let maximum):
            for (bound, comparison) in [(minimum, SQLBinaryOperator.greaterThanOrEqual), (maximum, .lessThanOrEqual)] {
                guard let bound else { continue }
                if let number = bound.storedNumber {
                    builder = builder.where("number", comparison, number)
                } else {
                    builder = builder.where("value", comparison, bound.canonical)
                }
            }
        }
        return builder
    }

    /// The values of these records, by record id then field id.
    private func recordValues(_ ids: [Int64]) async throws -> [Int64: [String: String]] {
        var result: [Int64: [String: String]] = [:]
        var start = 0
        while start < ids.count {
            let part = Array(ids[start..<min(ids.count, start + Self.chunk)])
            for row in try await all(select(.recordFieldValues).column("record_id").column("field").column("value").column("number")
                .where("record_id", .in, part), as: RecordValueRow.self) {
                result[row.recordId, default: [:]][row.field] = row.value
            }
            start += Self.chunk
        }
        return result
    }

    private func records(from rows: [RecordRow]) async throws -> [TenantRecord] {
        let values = try await recordValues(rows.compactMap(\.id))
        return rows.compactMap { row in
            guard let id = row.id else { return nil }
            return TenantRecord(id: id, kind: row.kind, externalId: row.externalId, customerId: row.customerId, ownerRecordId: row.ownerRecordId,
                                userId: row.userId, date: row.recordDate, values: values[id] ?? [:], createdAt: row.createdAt, updatedAt: row.updatedAt)
        }
    }

    // MARK: Reading

    /// One page of a customer's records of a kind, newest first (by date, undated last, then by id), and how many
    /// records the query matches in all.
    public func records(_ query: RecordQuery) async throws -> RecordPage {
        let total = try await count(recordSelection(query))
        let rows = try await all(recordSelection(query).column(SQLColumn(SQLLiteral.all, table: SQLIdentifier(StoredTable.records.rawValue)))
            .orderBy(SQLFunction("COALESCE", args: recordColumn("record_date"), SQLLiteral.string("")), SQLDirection.descending)
            .orderBy(recordColumn("id"), SQLDirection.descending)
            .limit(max(0, query.limit)).offset(max(0, query.offset)), as: RecordRow.self)
        return RecordPage(items: try await records(from: rows), total: total)
    }

    /// A record of the customer by id: nil when it is another customer's, of another kind than `kind` (a page of one
    /// kind never shows a record of another), or (with `userId`, the `own` scope) not assigned to that user.
    public func record(id: Int64, customerId: Int64, kind: String, userId: Int64? = nil) async throws -> TenantRecord? {
        var builder = select(.records).column("*").where("id", .equal, id).where("customer_id", .equal, customerId)
            .where("kind", .equal, kind)
        if let userId { builder = builder.where("user_id", .equal, userId) }
        guard let row = try await first(builder, as: RecordRow.self) else { return nil }
        return try await records(from: [row]).first
    }

    /// The customer's records of `kind` among `ids` (another customer's and another kind's are not found).
    public func records(ids: Set<Int64>, customerId: Int64, kind: String) async throws -> [TenantRecord] {
        let list = Array(ids)
        var rows: [RecordRow] = []
        var start = 0
        while start < list.count {
            let part = Array(list[start..<min(list.count, start + Self.chunk)])
            rows += try await all(select(.records).column("*").where("id", .in, part).where("customer_id", .equal, customerId)
                .where("kind", .equal, kind), as: RecordRow.self)
            start += Self.chunk
        }
        return try await records(from: rows)
    }

    /// The customer's record of `kind` with this external id (nil for another customer's).
    public func record(kind: String, externalId: String, customerId: Int64) async throws -> TenantRecord? {
        guard let row = try await first(select(.records).column("*").where("kind", .equal, kind).where("external_id", .equal, externalId)
            .where("customer_id", .equal, customerId), as: RecordRow.self) else { return nil }
        return try await records(from: [row]).first
    }

    /// The customers that have a record of `kind` whose field `field` holds exactly `value` (canonical): how a
    /// `verify_customer` step finds the customer a person names by an identifier on a document (`policies.policy_number`).
    public func customers(withRecordOf kind: String, field: String, equalTo value: String) async throws -> [Int64] {
        struct Row: Codable { var customerId: Int64 }
        let values = StoredTable.recordFieldValues.rawValue
        let builder = join(select(.records).distinct().column(recordColumn("customer_id")), .recordFieldValues,
                           on: SQLBinaryExpression(SQLColumn("record_id", table: values), .equal, recordColumn("id")))
            .where(recordColumn("kind"), .equal, SQLBind(kind))
            .where(SQLColumn("field", table: values), .equal, SQLBind(field))
            .where(SQLColumn("value", table: values), .equal, SQLBind(value))
            .orderBy(recordColumn("customer_id"))
        return try await all(builder, as: Row.self).map(\.customerId)
    }

    /// Whether the customer has a record of `kind` whose field `field` holds exactly `value` (canonical): how a
    /// `verify_customer` step that found the customer by another field checks a record field it also matches on.
    public func customer(_ customerId: Int64, hasRecordOf kind: String, field: String, equalTo value: String) async throws -> Bool {
        let values = StoredTable.recordFieldValues.rawValue
        let builder = join(select(.records), .recordFieldValues, on: SQLBinaryExpression(SQLColumn("record_id", table: values), .equal, recordColumn("id")))
            .where(recordColumn("customer_id"), .equal, SQLBind(customerId))
            .where(recordColumn("kind"), .equal, SQLBind(kind))
            .where(SQLColumn("field", table: values), .equal, SQLBind(field))
            .where(SQLColumn("value", table: values), .equal, SQLBind(value))
        return try await count(builder) > 0
    }

    /// Per month or day of the chart's date field, the sums of its series over the records `query` selects (paging
    /// ignored), oldest period first; records without that date are left out. Sums are exact: integers, and
    /// decimals at their field's scale.
    public func recordSums(_ query: RecordQuery, chart: RecordChart, of definition: RecordKindDefinition) async throws -> [RecordSums] {
        guard let xField = chart.xField(of: definition) else { return [] }
        let period = chart.resolvedPeriod.prefixLength
        let fields = chart.series.map(\.field).filter { definition.fields[$0]?.type == .integer || definition.fields[$0]?.type == .decimal }
        let values = SQLIdentifier("v"), axis = SQLIdentifier("x")
        func aliased(_ builder: SQLSelectBuilder, _ alias: SQLIdentifier, field: String?) -> SQLSelectBuilder {
            var condition: any SQLExpression = SQLBinaryExpression(
                SQLBinaryExpression(SQLColumn(SQLIdentifier("record_id"), table: alias), .equal, recordColumn("id")), .and,
                SQLBinaryExpression(SQLColumn(SQLIdentifier("tenant_id"), table: alias), .equal, SQLBind(tenant)))
            if let field {
                condition = SQLBinaryExpression(condition, .and, SQLBinaryExpression(SQLColumn(SQLIdentifier("field"), table: alias), .equal, SQLBind(field)))
            }
            return builder.join(SQLAlias(SQLIdentifier(StoredTable.recordFieldValues.rawValue), as: alias), method: SQLJoinMethod.inner, on: condition)
        }
        /// The records' period, from `record_date` when the axis is the kind's date, else from the axis field's value.
        func withPeriod(_ builder: SQLSelectBuilder) -> (SQLSelectBuilder, any SQLExpression) {
            let day: any SQLExpression
            var builder = builder
            if xField == definition.date {
                day = recordColumn("record_date")
                builder = builder.where(recordColumn("record_date"), .isNot, SQLLiteral.null)
            } else {
                builder = aliased(builder, axis, field: xField)
                day = SQLColumn(SQLIdentifier("value"), table: axis)
            }
            return (builder, SQLFunction("SUBSTR", args: day, SQLLiteral.numeric("1"), SQLLiteral.numeric(String(period))))
        }

        struct CountRow: Codable { var period: String; var n: Int64 }
        var selection = recordSelection(query)
        let (counted, countPeriod) = withPeriod(selection)
        let counts = try await all(counted.column(countPeriod, as: "period").column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .groupBy(countPeriod), as: CountRow.self)
        var result: [String: RecordSums] = [:]
        for row in counts { result[row.period] = RecordSums(period: row.period, sums: [:], count: Int(row.n)) }

        if !fields.isEmpty {
            struct SumRow: Codable { var period: String; var field: String; var total: Int64? }
            selection = aliased(recordSelection(query), values, field: nil)
            let (summed, sumPeriod) = withPeriod(selection)
            let rows = try await all(summed.column(sumPeriod, as: "period").column(SQLColumn(SQLIdentifier("field"), table: values), as: "field")
                .column(SQLRaw("CAST(SUM(v.number) AS BIGINT)"), as: "total")
                .where(SQLColumn(SQLIdentifier("field"), table: values), .in, SQLBind.group(fields))
                .where(SQLColumn(SQLIdentifier("number"), table: values), .isNot, SQLLiteral.null)
                .groupBy(sumPeriod).groupBy(SQLColumn(SQLIdentifier("field"), table: values)), as: SumRow.self)
            for row in rows {
                guard let total = row.total, let field = definition.fields[row.field] else { continue }
                let sum: FieldValue = field.type == .decimal ? .decimal(ScaledDecimal(units: total, scale: field.decimalScale)) : .integer(total)
                result[row.period, default: RecordSums(period: row.period, sums: [:], count: 0)].sums[row.field] = sum
            }
        }
        return result.values.sorted { $0.period < $1.period }
    }

    /// Existing records of `kind` by external id (the tenant's, any customer), for imports.
    func recordReferences(kind: String, externalIds: Set<String>) async throws -> [String: RecordReference] {
        struct Row: Codable { var id: Int64; var externalId: String; var customerId: Int64; var userId: Int64? }
        var found: [String: RecordReference] = [:]
        let ids = Array(externalIds)
        var start = 0
        while start < ids.count {
            let part = Array(ids[start..<min(ids.count, start + Self.chunk)])
            for row in try await all(select(.records).column("id").column("external_id").column("customer_id").column("user_id")
                .where("kind", .equal, kind).where("external_id", .in, part), as: Row.self) {
                found[row.externalId] = RecordReference(id: row.id, customerId: row.customerId, userId: row.userId)
            }
            start += Self.chunk
        }
        return found
    }

    // MARK: Writing

    /// Writes one record (see `upsertRecords`); returns its id.
    @discardableResult
    public func upsertRecord(_ draft: TenantRecordDraft) async throws -> Int64 {
        try await upsertRecords([draft])[0]
    }

    /// Creates each record, or replaces the tenant's record of the same kind and external id in full (its values
    /// too: fields a draft leaves out are cleared); returns the ids in the drafts' order. A record with an owner and
    /// no user of its own is assigned to its owner's user. Refuses (`conflict`) a draft whose record belongs to
    /// another customer (records never move between customers), and (`invalid_input`) an owner record or user that
    /// is not the draft's customer's.
    @discardableResult
    public func upsertRecords(_ drafts: [TenantRecordDraft]) async throws -> [Int64] {
        guard !drafts.isEmpty else { return [] }
        var drafts = drafts
        let owners = try await checkBelonging(drafts)
        for index in drafts.indices where drafts[index].userId == nil {
            if let owner = drafts[index].ownerRecordId { drafts[index].userId = owners[owner] ?? nil }
        }
        var ids: [String: [String: Int64]] = [:]
        for kind in Set(drafts.map(\.kind)).sorted() {
            var latest: [String: TenantRecordDraft] = [:]
            for draft in drafts where draft.kind == kind { latest[draft.externalId] = draft }
            let existing = try await recordReferences(kind: kind, externalIds: Set(latest.keys))
            let createdAt = try await recordCreationTimes(existing.values.map(\.id))
            // What the records were, to tell `record.changed` from a write that changes nothing.
            let previousRows = recordsEvents ? try await recordRows(ids: existing.values.map(\.id)) : [:]
            let previousValues = recordsEvents ? try await recordValues(existing.values.map(\.id)) : [:]
            var rows: [RecordRow] = []
            for (externalId, draft) in latest.sorted(by: { $0.key < $1.key }) {
                if let found = existing[externalId], found.customerId != draft.customerId {
                    throw StoreError(.conflict, "\(kind) record '\(externalId)' belongs to another customer: a record cannot move between customers")
                }
                rows.append(RecordRow(kind: kind, externalId: externalId, customerId: draft.customerId, ownerRecordId: draft.ownerRecordId,
                                      userId: draft.userId, recordDate: draft.date,
                                      createdAt: existing[externalId].flatMap { createdAt[$0.id] } ?? now, updatedAt: now))
            }
            try await insertMany(.records, rows, upsertOn: ["tenant_id", "kind", "external_id"])
            let written = try await recordReferences(kind: kind, externalIds: Set(latest.keys))
            ids[kind] = written.mapValues(\.id)
            let recordIds = Array(written.values.map(\.id))
            var start = 0
            while start < recordIds.count {
                try await delete(.recordFieldValues).where("record_id", .in, Array(recordIds[start..<min(recordIds.count, start + Self.chunk)])).run()
                start += Self.chunk
            }
            var values: [RecordValueRow] = []
            for (externalId, draft) in latest.sorted(by: { $0.key < $1.key }) {
                guard let id = written[externalId]?.id else { continue }
                for (field, value) in draft.values.sorted(by: { $0.key < $1.key }) where !value.canonical.isEmpty {
                    values.append(RecordValueRow(recordId: id, field: field, value: value.canonical, number: value.storedNumber))
                }
            }
            try await insertMany(.recordFieldValues, values)
            if recordsEvents {
                try await recordEvents(latest.sorted(by: { $0.key < $1.key }).compactMap { externalId, draft in
                    guard let id = written[externalId]?.id else { return nil }
                    let current = draft.values.compactMapValues { $0.canonical.isEmpty ? nil : $0.canonical }
                    guard let before = previousRows[id] else {
                        return .record(created: true, id: id, kind: kind, externalId: externalId, customerId: draft.customerId,
                                       ownerRecordId: draft.ownerRecordId, userId: draft.userId, date: draft.date, values: current, changedFields: [])
                    }
                    let old = previousValues[id] ?? [:]
                    var changed = Set(current.keys).union(old.keys).filter { current[$0] != old[$0] }
                    if before.recordDate != draft.date { changed.insert("date") }
                    if before.ownerRecordId != draft.ownerRecordId { changed.insert("owner_record_id") }
                    if before.userId != draft.userId { changed.insert("user_id") }
                    guard !changed.isEmpty else { return nil }
                    return .record(created: false, id: id, kind: kind, externalId: externalId, customerId: draft.customerId,
                                   ownerRecordId: draft.ownerRecordId, userId: draft.userId, date: draft.date, values: current,
                                   changedFields: Array(changed))
                })
            }
        }
        return try drafts.map { draft in
            guard let id = ids[draft.kind]?[draft.externalId] else {
                throw StoreError(.conflict, "\(draft.kind) record '\(draft.externalId)' was not written")
            }
            return id
        }
    }

    /// The rows of these records, by id.
    private func recordRows(ids: [Int64]) async throws -> [Int64: RecordRow] {
        var result: [Int64: RecordRow] = [:]
        var start = 0
        while start < ids.count {
            let part = Array(ids[start..<min(ids.count, start + Self.chunk)])
            for row in try await all(select(.records).column("*").where("id", .in, part), as: RecordRow.self) {
                if let id = row.id { result[id] = row }
            }
            start += Self.chunk
        }
        return result
    }

    private func recordCreationTimes(_ ids: [Int64]) async throws -> [Int64: Int64] {
        struct Row: Codable { var id: Int64; var createdAt: Int64 }
        var result: [Int64: Int64] = [:]
        var start = 0
        while start < ids.count {
            let part = Array(ids[start..<min(ids.count, start + Self.chunk)])
            for row in try await all(select(.records).column("id").column("created_at").where("id", .in, part), as: Row.self) {
                result[row.id] = row.createdAt
            }
            start += Self.chunk
        }
        return result
    }

    /// Owner records and users must be the draft's customer's; returns each owner record's user.
    private func checkBelonging(_ drafts: [TenantRecordDraft]) async throws -> [Int64: Int64?] {
        struct Row: Codable { var id: Int64; var customerId: Int64; var userId: Int64? }
        var ownerUsers: [Int64: Int64?] = [:]
        for (table, ids, what) in [(StoredTable.records, Set(drafts.compactMap(\.ownerRecordId)), "owner record"),
                                   (StoredTable.users, Set(drafts.compactMap(\.userId)), "user")] where !ids.isEmpty {
            var customers: [Int64: Int64] = [:]
            let list = Array(ids)
            var start = 0
            while start < list.count {
                let part = Array(list[start..<min(list.count, start + Self.chunk)])
                var builder = select(table).column("id").column("customer_id").where("id", .in, part)
                if table == .records { builder = builder.column("user_id") }
                for row in try await all(builder, as: Row.self) {
                    customers[row.id] = row.customerId
                    if table == .records { ownerUsers[row.id] = row.userId }
                }
                start += Self.chunk
            }
            for draft in drafts {
                guard let id = table == .records ? draft.ownerRecordId : draft.userId else { continue }
                if customers[id] != draft.customerId {
                    throw StoreError(.invalidInput, "\(draft.kind) record '\(draft.externalId)': \(what) \(id) is not the customer's")
                }
            }
        }
        return ownerUsers
    }

    /// Deletes the records of `kind` dated before `day`, the records they own (of any kind, at any depth), and all
    /// their values; returns how many records were deleted.
    @discardableResult
    public func deleteRecords(kind: String, datedBefore day: CalendarDay) async throws -> Int {
        struct Row: Codable { var id: Int64 }
        var level = try await all(select(.records).column("id").where("kind", .equal, kind)
            .where("record_date", .isNot, SQLLiteral.null).where("record_date", .lessThan, day.description), as: Row.self).map(\.id)
        var levels: [[Int64]] = []
        var seen = Set<Int64>()
        while !level.isEmpty {
            level = level.filter { seen.insert($0).inserted }
            guard !level.isEmpty else { break }
            levels.append(level)
            var children: [Int64] = []
            var start = 0
            while start < level.count {
                let part = Array(level[start..<min(level.count, start + Self.chunk)])
                children += try await all(select(.records).column("id").where("owner_record_id", .in, part), as: Row.self).map(\.id)
                start += Self.chunk
            }
            level = children
        }
        for ids in levels.reversed() {
            var start = 0
            while start < ids.count {
                let part = Array(ids[start..<min(ids.count, start + Self.chunk)])
                try await delete(.recordFieldValues).where("record_id", .in, part).run()
                try await delete(.records).where("id", .in, part).run()
                start += Self.chunk
            }
        }
        return seen.count
    }

    /// Applies every record kind's `retention.delete_after` on `today` (see `deleteRecords(kind:datedBefore:)`);
    /// returns how many records were deleted per kind (kinds with none deleted are absent).
    @discardableResult
    public func deleteExpiredRecords(of tenant: TenantDefinition, today: CalendarDay) async throws -> [String: Int] {
        var deleted: [String: Int] = [:]
        for (id, kind) in tenant.recordKinds {
            guard let before = kind.deleteBefore(today: today) else { continue }
            let count = try await deleteRecords(kind: id, datedBefore: before)
            if count > 0 { deleted[id] = count }
        }
        return deleted
    }

    /// Unassigns a user's records (before the user is deleted); nothing when the database has no record kinds' tables.
    public func releaseRecords(ofUser userId: Int64) async throws {
        guard schema.modules.contains(where: { $0.id == StorageModule.tenantRecords.id }) else { return }
        try await update(.records).set("user_id", to: SQLLiteral.null).where("user_id", .equal, userId).run()
    }
}
