import Foundation
import SQLKit
import SportelloCore

// MARK: - Lines, their services and prepaid credit

extension TenantTransaction {
    /// One of the customer's lines; nil for another customer's.
    public func line(id: Int64, customerId: Int64) async throws -> LineRecord? {
        try await first(select(.lines).column("*").where("id", .equal, id).where("customer_id", .equal, customerId), as: LineRecord.self)
    }

    public func updateLine(_ line: LineRecord) async throws {
        guard let id = line.id else { throw StoreError(.invalidInput, "line without id") }
        try await update(.lines).set(model: line, with: .init(keyEncodingStrategy: .convertToSnakeCase, nilEncodingStrategy: .asNil))
            .where("id", .equal, id).where("customer_id", .equal, line.customerId).run()
    }

    /// Services (options) attached to one line.
    public func services(lineId: Int64) async throws -> [ServiceRecord] {
        try await all(select(.services).column("*").where("line_id", .equal, lineId).orderBy("name"), as: ServiceRecord.self)
    }

    public func updateService(_ service: ServiceRecord) async throws {
        guard let id = service.id else { throw StoreError(.invalidInput, "service without id") }
        try await update(.services).set(model: service, with: .init(keyEncodingStrategy: .convertToSnakeCase, nilEncodingStrategy: .asNil))
            .where("id", .equal, id).run()
    }

    /// Prepaid credit of a line: completed recharges minus charged usage, in cents.
    public func prepaidCredit(lineId: Int64, customerId: Int64) async throws -> (recharged: Int64, spent: Int64) {
        let recharged = try await select(.recharges).column(SQLRaw("CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT)"), as: "total")
            .where("line_id", .equal, lineId).where("customer_id", .equal, customerId).where("status", .equal, RechargeStatus.completed.rawValue).first()
        let spent = try await select(.usageRecords).column(SQLRaw("CAST(COALESCE(SUM(cost_cents), 0) AS BIGINT)"), as: "total")
            .where("line_id", .equal, lineId).where("customer_id", .equal, customerId).first()
        return (try recharged?.decode(column: "total", as: Int64.self) ?? 0, try spent?.decode(column: "total", as: Int64.self) ?? 0)
    }

    /// A line's usage per calendar month (Europe/Rome) of `period`, which must lie inside the window: every
    /// month the period touches, oldest first, months without traffic included as zeros. At most the last
    /// `maximumMonths` months are summed. One query, grouped by a `CASE` over the months' first instants
    /// (exact across daylight saving time on both engines).
    public func usageByMonth(lineId: Int64, period: TimeRange?, kinds: [String] = [], windows: VisibilityWindows,
                             maximumMonths: Int = 36) async throws -> [UsageMonth] {
        var range = try windows.resolve(.usage, requested: period, now: now)
        let last = CalendarDay(instant: range.to - 1)
        var months = [CalendarDay(year: last.year, month: last.month, day: 1)]
        let first = CalendarDay(instant: range.from)
        while months.count < max(maximumMonths, 1), let earliest = months.first,
              (earliest.year, earliest.month) > (first.year, first.month) {
            months.insert(earliest.adding(months: -1), at: 0)
        }
        range.from = max(range.from, months[0].startInstant)
        // Month i holds started_at < start of month i + 1; literals are computed integers, never input.
        let bucket = months.count == 1 ? "0" : "CASE " + months.dropFirst().enumerated()
            .map { "WHEN started_at < \($0.element.startInstant) THEN \($0.offset)" }.joined(separator: " ") + " ELSE \(months.count - 1) END"
        var builder = select(.usageRecords)
            .column(SQLRaw("CAST(\(bucket) AS BIGINT)"), as: "month_index")
            .column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .column(Self.sum("duration_seconds"), as: "duration")
            .column(Self.sum("volume_bytes"), as: "volume")
            .column(Self.sum("cost_cents"), as: "cost")
            .where("line_id", .equal, lineId)
            .where("started_at", .greaterThanOrEqual, range.from).where("started_at", .lessThan, range.to)
        if !kinds.isEmpty { builder = builder.where("kind", .in, kinds) }
        if months.count > 1 { builder = builder.groupBy(SQLRaw("CAST(\(bucket) AS BIGINT)")) }
        var result = months.map { UsageMonth(year: $0.year, month: $0.month) }
        for row in try await builder.all() {
            let index = Int(try row.decode(column: "month_index", as: Int64.self))
            guard result.indices.contains(index) else { continue }
            result[index].count = try row.decode(column: "n", as: Int.self)
            result[index].durationSeconds = try row.decode(column: "duration", as: Int64.self)
            result[index].volumeBytes = try row.decode(column: "volume", as: Int64.self)
            result[index].costCents = try row.decode(column: "cost", as: Int64.self)
        }
        return result
    }
}

/// A line's usage in one calendar month: how many events, how long, how much data, what they cost.
public struct UsageMonth: Sendable, Equatable {
    public var year: Int
    public var month: Int
    public var count = 0
    public var durationSeconds: Int64 = 0
    public var volumeBytes: Int64 = 0
    public var costCents: Int64 = 0

    public init(year: Int, month: Int, count: Int = 0, durationSeconds: Int64 = 0, volumeBytes: Int64 = 0, costCents: Int64 = 0) {
        self.year = year
        self.month = month
        self.count = count
        self.durationSeconds = durationSeconds
        self.volumeBytes = volumeBytes
        self.costCents = costCents
    }
}
