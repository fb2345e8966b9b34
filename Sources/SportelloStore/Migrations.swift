import Foundation
import SQLKit

/// One step of the schema's history, applied once per database and recorded in `sportello_migrations`.
struct Migration: Sendable {
    var id: String
    var apply: @Sendable (any SQLDatabase, DatabaseEngine) async throws -> Void
    /// For steps that need the database itself (its data key), after `apply`.
    var applyWithDatabase: (@Sendable (any SQLDatabase, Database) async throws -> Void)?

    init(id: String, apply: @escaping @Sendable (any SQLDatabase, DatabaseEngine) async throws -> Void) {
        self.id = id
        self.apply = apply
    }

    /// A step that needs the database (for example its sealer), run on the migration's connection.
    static func usingDatabase(id: String, _ apply: @escaping @Sendable (any SQLDatabase, Database) async throws -> Void) -> Migration {
        var migration = Migration(id: id) { _, _ in }
        migration.applyWithDatabase = apply
        return migration
    }
}

/// The platform's part of the schema's history, oldest first; modules add their own steps (`StorageModule`),
/// and `SchemaHistory` applies all of them in the order of their ids. Never edit an applied step: add a new one.
let platformMigrations: [Migration] = [
    Migration(id: "0001_tables") { sql, _ in
        for table in schemaVersion1 { try await table.create(on: sql) }
    },
    Migration(id: "0002_row_level_security") { sql, engine in
        guard engine == .postgres else { return }
        for table in schemaVersion1 { try await table.enableRowLevelSecurity(on: sql) }
    },
    Migration(id: "0003_flows") { sql, engine in
        for table in schemaVersion2Tables {
            try await table.create(on: sql)
            if engine == .postgres { try await table.enableRowLevelSecurity(on: sql) }
        }
        for (table, column) in schemaVersion2Columns {
            try await sql.alter(table: table.rawValue).column(column.name, type: column.kind.dataType).run()
        }
    },
    .adding(id: "0004_catalogue", tables: schemaVersion4Tables),
    // TIM's Dual Billing: personal invoices name the user they are addressed to.
    .adding(id: "0009_personal_invoices", tables: [], columns: [(.invoices, col("holder_user_id", .integer))]),
    // Throttle, lockout and mail-limit counters shared by every instance (they were in each process's memory).
    .adding(id: "0010_shared_counters", tables: sharedCounterTables),
    // Outbox bodies sealed until sent, redacted after; the data key's fingerprint (see OutboxSealing.swift).
    .sealedOutbox,
    // Request numbers per tenant (1, 2, 3… for each provider), unique within the tenant; existing rows numbered by id.
    Migration(id: "0012_request_numbers") { sql, _ in
        try await sql.alter(table: StoredTable.requests.rawValue).column("number", type: .bigint).run()
        try await sql.raw("""
            UPDATE requests SET number = (SELECT COUNT(*) FROM requests AS earlier
                                          WHERE earlier.tenant_id = requests.tenant_id AND earlier.id <= requests.id)
            """).run()
        try await sql.create(index: "requests_number_unique").on(StoredTable.requests.rawValue).column("tenant_id").column("number")
            .unique().run()
    },
    // Nothing simulated passes for real: rows written by a demo integration (the simulated card payment,
    // a demo recharge or purchase) say so.
    .adding(id: "0014_simulated_markers", tables: [], columns: [
        (.invoices, col("simulated", .bool)), (.payments, col("simulated", .bool)), (.statementEntries, col("simulated", .bool)),
        (.recharges, col("simulated", .bool)), (.lineDiagnoses, col("simulated", .bool)),
    ]),
    // The tenant's own customer and user fields.
    .adding(id: "0015_custom_fields", tables: customFieldTables),
    // The e-mail address a user proved and when (`UserRecord.verifiedEmail`, read by the `verify_email` required
    // action). Every user already stored counts as verified with the address they have now: before this step the
    // portal never recorded a proof, and a tenant publishing `verify_email` must not lock its existing users out at
    // their next request. Users created from now on are verified only by a flow that proved the address or by an
    // invitation sent to it.
    Migration(id: "0017_verified_email") { sql, engine in
        try await sql.alter(table: StoredTable.users.rawValue).column("verified_email", type: ColumnKind.text.dataType).run()
        try await sql.alter(table: StoredTable.users.rawValue).column("email_verified_at", type: ColumnKind.integer.dataType).run()
        // Users are fenced per tenant even for their owner; the backfill spans every tenant, so the fence is lifted
        // inside this transaction only (DDL is transactional on PostgreSQL).
        if engine == .postgres { try await sql.raw("ALTER TABLE users NO FORCE ROW LEVEL SECURITY").run() }
        try await sql.raw("UPDATE users SET verified_email = email, email_verified_at = created_at WHERE email IS NOT NULL AND email <> ''").run()
        if engine == .postgres { try await sql.raw("ALTER TABLE users FORCE ROW LEVEL SECURITY").run() }
    },
    // The secret of a user's authenticator app, sealed (`UserRecord.totpSecret`, the `enrol_totp` required action).
    .adding(id: "0019_totp_secret", tables: [], columns: [(.users, col("totp_secret", .text))]),
    // WINDTRE's roaming data threshold (a SIM's allowance abroad, which usage was abroad) and a payment method that
    // no longer works (issue 18 §2).
    .adding(id: "0024_roaming_and_payment_method", tables: [], columns: [
        (.lines, col("roaming_data_threshold_bytes", .integer)), (.usageRecords, col("roaming", .bool)),
        (.customers, col("payment_method_problem", .text)),
    ]),
    // The language a user chose (`UserRecord.locale`): their pages on a new device, and the messages rules send them.
    .adding(id: "0025_user_locale", tables: [], columns: [(.users, col("locale", .text))]),
    // Each tenant's data version, which the per-request session check reads so that every instance knows at once
    // whether what it read for a page earlier is still current (`DataVersion`).
    .adding(id: "0026_data_versions", tables: dataVersionTables),
]

extension Migration {
    /// A step that creates `tables` (with row-level security on PostgreSQL) and adds `columns` to existing ones.
    static func adding(id: String, tables: [TableSpec], columns: [(StoredTable, ColumnSpec)] = []) -> Migration {
        Migration(id: id) { sql, engine in
            for table in tables {
                try await table.create(on: sql)
                if engine == .postgres { try await table.enableRowLevelSecurity(on: sql) }
            }
            for (table, column) in columns {
                try await sql.alter(table: table.rawValue).column(column.name, type: column.kind.dataType).run()
            }
        }
    }
}

/// What `migrate` did.
public struct MigrationReport: Sendable {
    public var applied: [String]
    public var alreadyApplied: [String]
}

extension Database {
    private func ensureMigrationTable(_ sql: any SQLDatabase) async throws {
        try await sql.create(table: "sportello_migrations").ifNotExists()
            .column("id", type: .text, .primaryKey(autoIncrement: false))
            .column("applied_at", type: .bigint, .notNull)
            .run()
    }

    private func appliedMigrationIds(_ sql: any SQLDatabase) async throws -> [String] {
        try await sql.select().column("id").from("sportello_migrations").orderBy("id").all()
            .map { try $0.decode(column: "id", as: String.self) }
    }

    /// Migrations not yet applied, oldest first (empty when the database is up to date).
    public func pendingMigrations() async throws -> [String] {
        try await withRawConnection { sql in
            let exists: Bool
            switch self.engine {
            case .sqlite:
                exists = try await sql.raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'sportello_migrations'").first() != nil
            case .postgres:
                exists = try await sql.raw("SELECT to_regclass('sportello_migrations') IS NOT NULL AS present").first()?
                    .decode(column: "present", as: Bool.self) ?? false
            }
            let applied = exists ? Set(try await self.appliedMigrationIds(sql)) : []
            let unknown = applied.subtracting(self.schema.migrations.map(\.id))
            if !unknown.isEmpty {
                throw StoreError(.unknownMigrations, "the database has migrations this build does not know (\(unknown.sorted().joined(separator: ", "))): it was migrated by a newer Sportello")
            }
            return self.schema.migrations.map(\.id).filter { !applied.contains($0) }
        }
    }

    /// Throws `not_migrated` with the command to run when migrations are pending.
    public func requireMigrated() async throws {
        let pending = try await pendingMigrations()
        guard pending.isEmpty else {
            throw StoreError(.notMigrated, "the database at \(location) needs \(pending.count) migration(s) (\(pending.joined(separator: ", "))): run 'sportello migrate' or start with 'serve --migrate'")
        }
    }

    /// Applies pending migrations, each in its own transaction; safe to run twice or concurrently.
    public func migrate(now: Int64 = Int64(Date().timeIntervalSince1970)) async throws -> MigrationReport {
        let report = try await applyMigrations(now: now)
        try await verifyDataKey(now: now)
        return report
    }

    private func applyMigrations(now: Int64) async throws -> MigrationReport {
        try await withRawConnection { sql in
            if self.engine == .postgres {
                // Creating the bookkeeping table races too (CREATE … IF NOT EXISTS is not atomic on PostgreSQL).
                try await Database.inTransaction(sql, begin: "BEGIN") {
                    try await sql.raw("SELECT pg_advisory_xact_lock(7216354)").run()
                    try await self.ensureMigrationTable(sql)
                }
            } else {
                try await Database.retryingWhileSQLiteBusy { try await self.ensureMigrationTable(sql) }
            }
            var report = MigrationReport(applied: [], alreadyApplied: [])
            for migration in self.schema.migrations {
                let begin = self.engine == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN"
                let applied: Bool = try await Database.retryingWhileSQLiteBusy { try await Database.inTransaction(sql, begin: begin) {
                    if self.engine == .postgres {
                        // Two processes migrating at once: the second waits, then finds the step done.
                        try await sql.raw("SELECT pg_advisory_xact_lock(7216354)").run()
                    }
                    if try await sql.select().column("id").from("sportello_migrations")
                        .where("id", .equal, migration.id).first() != nil {
                        return false
                    }
                    try await migration.apply(sql, self.engine)
                    try await migration.applyWithDatabase?(sql, self)
                    try await sql.insert(into: "sportello_migrations").columns("id", "applied_at")
                        .values(migration.id, now).run()
                    return true
                } }
                if applied { report.applied.append(migration.id) } else { report.alreadyApplied.append(migration.id) }
            }
            return report
        }
    }
}
