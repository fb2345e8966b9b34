import Synchronization
import Foundation
import SQLKit
import SportelloCore

/// A transaction bound to one tenant: the only way to reach tenant data.
///
/// Every builder it hands out already carries `tenant_id = <tenant>` (selects, updates, deletes) or
/// sets it (inserts), and the raw connection is private, so a query without the tenant cannot be written
/// through it. On PostgreSQL the row-level security policies check the same column again.
public struct TenantTransaction: Sendable {
    public let tenant: String
    /// The clock reading for this transaction (Unix seconds), injected so tests control time.
    public let now: Int64
    public let engine: DatabaseEngine
    private let sql: any SQLDatabase
    /// What a write transaction changed (nil in read transactions), published when it ends.
    private let changes: ChangeRecorder?
    /// Seals and opens the values stored encrypted (see `FieldSealer`).
    let sealer: FieldSealer?
    /// The tables and steps of the platform and of the database's modules.
    let schema: SchemaHistory

    init(tenant: String, now: Int64, engine: DatabaseEngine, sql: any SQLDatabase, changes: ChangeRecorder? = nil,
         sealer: FieldSealer? = nil, schema: SchemaHistory) {
        self.tenant = tenant
        self.schema = schema
        self.now = now
        self.engine = engine
        self.sql = sql
        self.changes = changes
        self.sealer = sealer
    }

    /// Notes that this transaction changes `key` (`user:12`, `customer:3`…), so recently read copies that
    /// depend on it stop being used (see `Database.hasChanged`). Every write also notes `table:<name>`.
    public func invalidate(_ key: String) {
        changes?.record(key)
    }

    private func tenantColumn(_ table: StoredTable) -> SQLColumn {
        SQLColumn("tenant_id", table: table.rawValue)
    }

    /// `SELECT … FROM table WHERE table.tenant_id = tenant`; add columns, predicates, order and limit.
    func select(_ table: StoredTable) -> SQLSelectBuilder {
        sql.select().from(table.rawValue).where(tenantColumn(table), .equal, SQLBind(tenant))
    }

    /// Joins `table` on `condition` and fences it to the tenant too.
    func join(_ builder: SQLSelectBuilder, _ table: StoredTable, on condition: any SQLExpression) -> SQLSelectBuilder {
        builder.join(SQLIdentifier(table.rawValue), method: SQLJoinMethod.inner,
                     on: SQLBinaryExpression(condition, .and,
                                             SQLBinaryExpression(tenantColumn(table), .equal, SQLBind(tenant))))
    }

    func update(_ table: StoredTable) -> SQLUpdateBuilder {
        changes?.record(table)
        return sql.update(table.rawValue).where(tenantColumn(table), .equal, SQLBind(tenant))
    }

    func delete(_ table: StoredTable) -> SQLDeleteBuilder {
        changes?.record(table)
        return sql.delete(from: table.rawValue).where(tenantColumn(table), .equal, SQLBind(tenant))
    }

    /// The tenant's next request number (1, 2, 3… per tenant), race-free on both engines: SQLite runs one
    /// write transaction at a time; on PostgreSQL a per-tenant transaction lock orders concurrent writers
    /// (and the unique `(tenant_id, number)` index would refuse a duplicate anyway). Rows stored before
    /// numbering that the migration could not see (row-level security) are numbered first, by id.
    func nextRequestNumber() async throws -> Int64 {
        if engine == .postgres {
            try await sql.raw("SELECT pg_advisory_xact_lock(hashtext(\(bind: "sportello.request_number." + tenant)))").run()
        }
        changes?.record(.requests)
        try await sql.raw("""
            UPDATE requests SET number = (SELECT COUNT(*) FROM requests AS earlier
                                          WHERE earlier.tenant_id = requests.tenant_id AND earlier.id <= requests.id)
            WHERE tenant_id = \(bind: tenant) AND number IS NULL
            """).run()
        let row = try await sql.raw("SELECT COALESCE(MAX(number), 0) AS last FROM requests WHERE tenant_id = \(bind: tenant)").first()
        return (try row?.decode(column: "last", as: Int64.self) ?? 0) + 1
    }

    /// Property names to snake-case columns through `SnakeCaseColumns` (worked out once per name, as the decoder does;
    /// SQLKit's `.convertToSnakeCase` redid it for every field of every row: half of a million-row import).
    private static let encoder = SQLQueryEncoder(keyEncodingStrategy: .custom({ path in
        AnyCodingKey(stringValue: SnakeCaseColumns.column(for: path.last?.stringValue ?? ""))
    }), nilEncodingStrategy: .asNil)
    /// The columns of a record, without `id` (the database assigns it) and with the tenant first.
    private func columns(of record: some Encodable) throws -> [(String, any SQLExpression)] {
        [("tenant_id", SQLBind(tenant))] + (try Self.encoder.encode(record)).filter { $0.0 != "id" }
    }

    /// Inserts a record into `table` and returns its new id.
    @discardableResult
    func insert(_ table: StoredTable, _ record: some Encodable) async throws -> Int64 {
        let pairs = try columns(of: record)
        changes?.record(table)
        let row = try await sql.insert(into: table.rawValue)
            .columns(pairs.map { SQLIdentifier($0.0) })
            .values(pairs.map(\.1))
            .returning("id")
            .first()
        guard let row else { throw StoreError(.conflict, "insert into \(table.rawValue) returned no id") }
        return try row.decode(column: "id", as: Int64.self)
    }

    /// Inserts many records in as few statements as the engines' bind limits allow. With `upsertOn`,
    /// a row whose key already exists is updated in place (idempotent imports by external id).
    ///
    /// The statements run one after another on the transaction's connection, but the next one is built while the
    /// database executes the previous (encoding a million rows costs the client about what inserting them costs the
    /// server); at most one is in flight, and all have finished when this returns or throws.
    func insertMany<Record: Encodable>(_ table: StoredTable, _ records: [Record], upsertOn key: [String]? = nil) async throws {
        guard let first = records.first else { return }
        let names = try columns(of: first).map(\.0)
        changes?.record(table)
        let rowsPerStatement = max(1, 30_000 / names.count)
        let sql = sql
        var inFlight: Task<Void, any Error>?
        do {
            var start = 0
            while start < records.count {
                let end = min(records.count, start + rowsPerStatement)
                let builder = sql.insert(into: table.rawValue).columns(names.map { SQLIdentifier($0) })
                for record in records[start..<end] {
                    builder.values(try columns(of: record).map(\.1))
                }
                if let key {
                    let updated = names.filter { !key.contains($0) && $0 != "tenant_id" }
                    // Rows that would not change are left alone: a re-import of the same file writes nothing (on PostgreSQL
                    // an update that changes nothing still writes a new row version and its index entries).
                    let changed = SQLGroupExpression(SQLList(updated.map { name -> any SQLExpression in
                        SQLBinaryExpression(left: SQLColumn(SQLIdentifier(name), table: SQLIdentifier(table.rawValue)), op: SQLRaw("IS DISTINCT FROM"),
                                            right: SQLColumn(SQLIdentifier(name), table: SQLIdentifier("excluded")))
                    }, separator: SQLRaw(" OR ")))
                    builder.onConflict(with: key) { conflict in
                        for name in updated { conflict.set(excludedValueOf: name) }
                        return updated.isEmpty ? conflict : conflict.where(changed)
                    }
                }
                let statement = builder.insert
                try await inFlight?.value
                inFlight = Task { try await sql.execute(sql: statement) { _ in } }
                start = end
            }
            try await inFlight?.value
        } catch {
            // The statement in flight finishes (or fails) before the transaction is rolled back behind it.
            _ = try? await inFlight?.value
            throw error
        }
    }

    func all<T: Decodable>(_ builder: SQLSelectBuilder, as type: T.Type) async throws -> [T] {
        let decoder = RecordRowDecoder()
        return try await builder.all().map { try decoder.decode(T.self, from: $0) }
    }

    func first<T: Decodable>(_ builder: SQLSelectBuilder, as type: T.Type) async throws -> T? {
        try await builder.limit(1).first().map { try RecordRowDecoder().decode(T.self, from: $0) }
    }

    func count(_ builder: SQLSelectBuilder) async throws -> Int {
        let row = try await builder.column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").first()
        return try row?.decode(column: "n", as: Int.self) ?? 0
    }

    /// Runs raw SQL inside this transaction, bypassing the fenced builders: for tests that prove the
    /// PostgreSQL policies stop a query that forgot its tenant predicate.
    @_spi(Testing)
    public func unfencedCountForPolicyCheck(_ table: StoredTable) async throws -> Int {
        let row = try await sql.raw("SELECT COUNT(*) AS n FROM \(ident: table.rawValue)").first()
        return try row?.decode(column: "n", as: Int.self) ?? 0
    }

    /// What the authority of each of these sessions rests on, in one indexed statement (sessions by token hash,
    /// their users and customers by primary key), by token hash, with the tenant's data version read in the same
    /// statement; a session that no longer exists (logged out, expired, user deleted) is absent.
    public func sessionChecks(tokenHashes: [String]) async throws -> [String: SessionCheck] {
        guard !tokenHashes.isEmpty else { return [:] }
        let rows = try await sql.raw("""
            SELECT s.token_hash AS token_hash, s.user_id AS user_id, u.status AS status, u.role AS role, u.toggles AS toggles,
                   u.customer_id AS customer_id, c.customer_type AS customer_type,
                   (SELECT d.version FROM data_versions d WHERE d.tenant_id = s.tenant_id) AS data_version
            FROM sessions s
            JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
            JOIN customers c ON c.tenant_id = u.tenant_id AND c.id = u.customer_id
            WHERE s.tenant_id = \(bind: tenant) AND s.token_hash IN (\(binds: tokenHashes)) AND s.expires_at > \(bind: now)
            """).all()
        var result: [String: SessionCheck] = [:]
        for row in rows {
            let authority = SessionAuthority(
                userId: try row.decode(column: "user_id", as: Int64.self), status: try row.decode(column: "status", as: UserStatus.self),
                role: try row.decode(column: "role", as: String.self), toggles: try row.decode(column: "toggles", as: String.self),
                customerId: try row.decode(column: "customer_id", as: Int64.self),
                customerType: try row.decode(column: "customer_type", as: String.self))
            result[try row.decode(column: "token_hash", as: String.self)] = SessionCheck(
                authority: authority, dataVersion: try row.decode(column: "data_version", as: Int64?.self) ?? 0)
        }
        return result
    }

    // MARK: Data version (see `DataVersion`)

    /// Moves the tenant's data version on; called by `Database.write` as a transaction's last statement, so the row
    /// lock it takes on PostgreSQL is held only until the commit.
    func advanceDataVersion() async throws {
        try await sql.raw("""
            INSERT INTO data_versions (tenant_id, version) VALUES (\(bind: tenant), 1)
            ON CONFLICT (tenant_id) DO UPDATE SET version = data_versions.version + 1
            """).run()
    }

    /// The tenant's data version now (0 before its first versioned write).
    public func dataVersion() async throws -> Int64 {
        let row = try await sql.raw("SELECT version FROM data_versions WHERE tenant_id = \(bind: tenant)").first()
        return try row?.decode(column: "version", as: Int64.self) ?? 0
    }

    // MARK: Shared counters (not noted as changes: no cached read depends on them)

    /// Adds `amount` hits to `key` in the bucket starting at `bucket` (kept until `expiresAt`); returns the bucket's total.
    public func addCounterHits(key: String, bucket: Int64, amount: Int64 = 1, expiresAt: Int64) async throws -> Int64 {
        let row = try await sql.raw("""
            INSERT INTO shared_counters (tenant_id, counter_key, bucket, hits, expires_at)
            VALUES (\(bind: tenant), \(bind: key), \(bind: bucket), \(bind: amount), \(bind: expiresAt))
            ON CONFLICT (tenant_id, counter_key, bucket) DO UPDATE SET hits = shared_counters.hits + \(bind: amount)
            RETURNING hits
            """).first()
        return try row?.decode(column: "hits", as: Int64.self) ?? amount
    }

    /// Hits of `key` in buckets starting at or after `since`.
    public func counterHits(key: String, since: Int64) async throws -> Int64 {
        let row = try await sql.raw("""
            SELECT CAST(COALESCE(SUM(hits), 0) AS BIGINT) AS n FROM shared_counters
            WHERE tenant_id = \(bind: tenant) AND counter_key = \(bind: key) AND bucket >= \(bind: since)
            """).first()
        return try row?.decode(column: "n", as: Int64.self) ?? 0
    }

    /// Forgets every bucket of `key`.
    public func resetCounter(key: String) async throws {
        try await sql.delete(from: StoredTable.sharedCounters.rawValue).where("tenant_id", .equal, SQLBind(tenant))
            .where("counter_key", .equal, SQLBind(key)).run()
    }

    /// Deletes expired buckets of the tenant.
    public func purgeCounters() async throws {
        try await sql.delete(from: StoredTable.sharedCounters.rawValue).where("tenant_id", .equal, SQLBind(tenant))
            .where("expires_at", .lessThan, SQLBind(now)).run()
    }

    /// The raw connection, for the benchmark's bulk generation only.
    var sqlForBenchmark: any SQLDatabase { sql }

    /// Inserts an audit row for `other` tenant straight through SQL: the PostgreSQL policy must refuse it.
    @_spi(Testing)
    public func insertRawForPolicyCheck(table: StoredTable, tenant other: String) async throws {
        precondition(table == .auditLog, "only the audit log has a minimal row")
        try await sql.raw("INSERT INTO \(ident: table.rawValue) (tenant_id, at, action) VALUES (\(bind: other), \(bind: now), 'policy.check')").run()
    }

    /// Runs an `EXPLAIN` of a fenced select, for the benchmark's printed query plans.
    @_spi(Testing)
    public func explain(_ build: (TenantTransaction) -> SQLSelectBuilder) async throws -> [String] {
        let builder = build(self)
        let (text, binds) = sql.serialize(builder.select)
        let prefix = engine == .sqlite ? "EXPLAIN QUERY PLAN " : "EXPLAIN (ANALYZE, BUFFERS) "
        var rendered = text
        // Binds inlined as literals so the plan matches the real query.
        for (index, bind) in binds.enumerated().reversed() {
            let placeholder = engine == .sqlite ? "?\(index + 1)" : "$\(index + 1)"
            let literal: String = switch bind {
            case let value as String: "'\(value.replacingOccurrences(of: "'", with: "''"))'"
            case let value as Int64: String(value)
            case let value as Int: String(value)
            default: "'\(bind)'"
            }
            rendered = rendered.replacingOccurrences(of: placeholder, with: literal)
        }
        let rows = try await sql.raw(SQLQueryString(prefix + rendered)).all()
        return rows.map { row in
            if engine == .sqlite { return (try? row.decode(column: "detail", as: String.self)) ?? "" }
            return (try? row.decode(column: "QUERY PLAN", as: String.self)) ?? ""
        }
    }
}

/// The snake_case column of each Swift property name, cached (the set of names is small and fixed).
enum SnakeCaseColumns {
    private static let cache = Mutex<[String: String]>([:])

    static func column(for property: String) -> String {
        if let known = cache.withLock({ $0[property] }) { return known }
        var column = ""
        for character in property {
            if character.isUppercase {
                if !column.isEmpty { column.append("_") }
                column.append(contentsOf: character.lowercased())
            } else {
                column.append(character)
            }
        }
        cache.withLock { $0[property] = column }
        return column
    }
}

/// The keys a write transaction changed, collected while it runs.
final class ChangeRecorder: Sendable {
    private let keys = Mutex<Set<String>>([])

    func record(_ key: String) { _ = keys.withLock { $0.insert(key) } }
    func record(_ table: StoredTable) { record("table:" + table.rawValue) }
    var recorded: Set<String> { keys.withLock { $0 } }
}

/// When each key last changed in this process, by a sequence number that grows with every write
/// transaction; keys unchanged for longer than any recent read may live are forgotten.
struct ChangeLog {
    private(set) var sequence: UInt64 = 0
    private var lastChange: [String: (sequence: UInt64, at: Int64)] = [:]
    /// Longer than any cache keeps a read (seconds).
    static let memory: Int64 = 120

    mutating func publish(_ keys: Set<String>, tenant: String, at now: Int64) {
        sequence &+= 1
        for key in keys { lastChange[tenant + "|" + key] = (sequence, now) }
        if lastChange.count > 50_000 { lastChange = lastChange.filter { now - $0.value.at < Self.memory } }
    }

    func hasChanged(_ keys: [String], tenant: String, since sequence: UInt64) -> Bool {
        keys.contains { (lastChange[tenant + "|" + $0]?.sequence ?? 0) > sequence }
    }
}

/// What the per-request check of a session read: its authority and the tenant's data version (`DataVersion`).
public struct SessionCheck: Sendable {
    public var authority: SessionAuthority
    public var dataVersion: Int64
}

/// The facts a logged-in request's permissions come from (see `TenantTransaction.sessionChecks`).
public struct SessionAuthority: Sendable, Equatable {
    public var userId: Int64
    public var status: UserStatus
    public var role: String
    public var toggles: String
    public var customerId: Int64
    public var customerType: String

    public init(userId: Int64, status: UserStatus, role: String, toggles: String, customerId: Int64, customerType: String) {
        self.userId = userId; self.status = status; self.role = role; self.toggles = toggles
        self.customerId = customerId; self.customerType = customerType
    }
}
