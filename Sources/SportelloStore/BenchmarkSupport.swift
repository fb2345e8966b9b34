import SQLKit
import SportelloCore

extension TenantTransaction {
    /// Generates `rows` synthetic usage records inside the database (no client round trips), spread
    /// evenly over `lineIds` and over `[from, to)`: the benchmark's 10-million-row table.
    @_spi(Testing)
    public func generateUsageForBenchmark(customerId: Int64, lineIds: ClosedRange<Int64>, rows: Int, from: Int64, to: Int64) async throws {
        let lines = lineIds.count
        let span = to - from
        let last = String(rows - 1)
        let prefix: SQLQueryString = engine == .sqlite
            ? "WITH RECURSIVE numbers(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM numbers WHERE n < \(unsafeRaw: last)) "
            : ""
        let source: SQLQueryString = engine == .sqlite ? "numbers" : "generate_series(0::bigint, \(unsafeRaw: last)) AS numbers(n)"
        let generator: SQLQueryString = """
            \(prefix)INSERT INTO usage_records (tenant_id, customer_id, line_id, started_at, kind, counterpart, duration_seconds, volume_bytes, cost_cents)
            SELECT \(bind: tenant), \(bind: customerId), \(unsafeRaw: String(lineIds.lowerBound)) + (n % \(unsafeRaw: String(lines))),
                   \(unsafeRaw: String(from)) + ((n * 7919) % \(unsafeRaw: String(span))),
                   CASE n % 4 WHEN 0 THEN 'call' WHEN 1 THEN 'sms' WHEN 2 THEN 'data' ELSE 'call' END,
                   '3331234567', n % 900, (n % 4) * 1048576, n % 50
            FROM \(source)
            """
        try await rawForBenchmark(generator)
    }

    @_spi(Testing)
    public func rawForBenchmark(_ query: SQLQueryString) async throws {
        try await sqlForBenchmark.raw(query).run()
    }
}

extension TenantTransaction {
    /// The query plan of the call-detail page as `usage(_:windows:)` runs it.
    @_spi(Testing)
    public func explainUsagePage(_ query: UsageQuery, windows: VisibilityWindows) async throws -> [String] {
        let range = try windows.resolve(.usage, requested: query.period, now: now)
        return try await explain { $0.usageSelect(query, range: range) }
    }
}
