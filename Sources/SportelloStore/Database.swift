import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLKit
import SQLiteKit
import SportelloCore
import Synchronization

/// Where the records live: an SQLite file (the default, for development and small installs) or PostgreSQL.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    /// `DATABASE_URL` when set (`postgres://…` or `sqlite:path`), else `data/sportello.sqlite`.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment,
                                       override: String? = nil) -> DatabaseLocation {
        guard let text = override ?? environment["DATABASE_URL"], !text.isEmpty else {
            return .sqlite(path: "data/sportello.sqlite")
        }
        return parse(text)
    }

    public static func parse(_ text: String) -> DatabaseLocation {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") { return .postgres(url: text) }
        if text.hasPrefix("sqlite://") { return .sqlite(path: String(text.dropFirst("sqlite://".count))) }
        if text.hasPrefix("sqlite:") { return .sqlite(path: String(text.dropFirst("sqlite:".count))) }
        return .sqlite(path: text)
    }

    /// Safe to print: a PostgreSQL password is masked.
    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite:\(path)"
        case .postgres(let url):
            guard var parts = URLComponents(string: url) else { return "postgres://…" }
            if parts.password != nil { parts.password = "***" }
            return parts.string ?? "postgres://…"
        }
    }
}

/// A storage failure with a stable code, for messages and for the API.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case cannotOpen = "cannot_open"
        case notMigrated = "not_migrated"
        case unknownMigrations = "unknown_migrations"
        case notFound = "not_found"
        case conflict = "conflict"
        case invalidInput = "invalid_input"
        /// The data key is missing, unreadable, or not the one this database was first used with.
        case dataKey = "data_key"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// The engine behind a `Database`.
public enum DatabaseEngine: String, Sendable {
    case sqlite, postgres
}

/// The records of every tenant, reachable only through a handle bound to one tenant (`read`/`write`).
///
/// On PostgreSQL each transaction also sets `sportello.tenant`, which the row-level security policies
/// compare with every row: a query that somehow lost its tenant predicate still sees one tenant only.
public final class Database: Sendable {
    public let engine: DatabaseEngine
    public let location: DatabaseLocation
    let logger: Logger
    private let backend: Backend
    private let changeLog = Mutex(ChangeLog())
    /// Encrypts the stored values that are shown again in clear (PIN and PUK); its key lives outside the database.
    public let sealer: FieldSealer
    /// The schema: the platform's tables and steps with those of the modules the database was opened with.
    let schema: SchemaHistory

    private enum Backend: Sendable {
        case sqlite(writer: ConnectionPool<SQLiteConnection>, readers: ConnectionPool<SQLiteConnection>)
        case postgres(client: PostgresClient, runner: Task<Void, Never>)
    }

    private init(engine: DatabaseEngine, location: DatabaseLocation, logger: Logger, backend: Backend,
                 environment: [String: String], modules: [StorageModule]) {
        self.engine = engine
        schema = SchemaHistory(modules: modules)
        self.location = location
        self.logger = logger
        self.backend = backend
        // Only SQLite draws a key by itself (next to its file); PostgreSQL is shared by hosts that must agree on one.
        sealer = FieldSealer(keyFile: Self.keyFile(for: location, environment: environment) ?? "",
                             environment: environment, createKeyFile: engine == .sqlite)
    }

    /// Where the data key lives unless `SPORTELLO_DATA_KEY` gives it: `SPORTELLO_DATA_KEY_FILE`, else next to
    /// an SQLite file (`<file>.key`); PostgreSQL has no default (nil).
    static func keyFile(for location: DatabaseLocation, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let file = environment["SPORTELLO_DATA_KEY_FILE"], !file.isEmpty { return file }
        if case .sqlite(let path) = location { return path + ".key" }
        return nil
    }

    /// On PostgreSQL the data key must be configured explicitly (every instance needs the same one).
    static func requireConfiguredKey(for location: DatabaseLocation, environment: [String: String]) throws {
        guard case .postgres = location else { return }
        let key = environment["SPORTELLO_DATA_KEY"] ?? "", file = environment["SPORTELLO_DATA_KEY_FILE"] ?? ""
        guard key.isEmpty && file.isEmpty else { return }
        throw StoreError(.dataKey, """
            with PostgreSQL the data key must be configured explicitly, the same on every instance: set SPORTELLO_DATA_KEY \
            to the base64 of 32 random bytes (openssl rand -base64 32), or SPORTELLO_DATA_KEY_FILE to a file holding it. \
            Keep a copy with your backups: without it, sealed values (SIM codes, queued e-mails) cannot be read.
            """)
    }

    /// Opens the database; for SQLite, creates the file (and its folder) when missing. `environment` gives the
    /// data key (`SPORTELLO_DATA_KEY`, `SPORTELLO_DATA_KEY_FILE`): PostgreSQL refuses to open without one, and
    /// either engine refuses a key other than the one the database was first used with. `modules` are the storage
    /// parts of the portal's modules (their tables, schema steps and demo data): the portal passes all of its own.
    public static func open(_ location: DatabaseLocation, modules: [StorageModule], readers: Int = 4,
                            logger: Logger = Logger(label: "sportello.store"),
                            environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> Database {
        try requireConfiguredKey(for: location, environment: environment)
        let database = try await connect(location, readers: readers, logger: logger, environment: environment, modules: modules)
        do {
            try await database.verifyDataKey()
        } catch {
            await database.close()
            throw error
        }
        return database
    }

    private static func connect(_ location: DatabaseLocation, readers: Int, logger: Logger,
                                environment: [String: String], modules: [StorageModule]) async throws -> Database {
        switch location {
        case .sqlite(let path):
            let url = URL(fileURLWithPath: path)
            try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            @Sendable func connect() async throws -> SQLiteConnection {
                let connection: SQLiteConnection
                do {
                    connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
                } catch {
                    throw StoreError(.cannotOpen, "cannot open SQLite database \(path): \(error)")
                }
                let sql = connection.sql(queryLogLevel: nil)
                do {
                    // The busy timeout first: switching a new file to WAL needs a lock another instance may hold.
                    try await sql.raw("PRAGMA busy_timeout = 10000").run()
                    // WAL: readers never block the writer; FULL: a commit is on disk before it is acknowledged.
                    try await sql.raw("PRAGMA journal_mode = WAL").run()
                    try await sql.raw("PRAGMA synchronous = FULL").run()
                    try await sql.raw("PRAGMA foreign_keys = ON").run()
                } catch {
                    try? await connection.close()
                    throw error
                }
                return connection
            }
            let writerConnections = [try await connect()]
            var readerConnections: [SQLiteConnection] = []
            for _ in 0..<max(1, readers) { readerConnections.append(try await connect()) }
            return Database(engine: .sqlite, location: location, logger: logger,
                            backend: .sqlite(writer: ConnectionPool(writerConnections, abandon: closeAbandoned),
                                                readers: ConnectionPool(readerConnections, abandon: closeAbandoned)),
                            environment: environment, modules: modules)
        case .postgres(let url):
            guard let configuration = try? SQLPostgresConfiguration(url: url) else {
                throw StoreError(.cannotOpen, "DATABASE_URL is not a valid postgres:// URL")
            }
            var clientConfiguration = PostgresClient.Configuration(
                host: configuration.coreConfiguration.host ?? "127.0.0.1",
                port: configuration.coreConfiguration.port ?? 5432,
                username: configuration.coreConfiguration.username,
                password: configuration.coreConfiguration.password,
                database: configuration.coreConfiguration.database,
                tls: .disable)
            if let socket = configuration.coreConfiguration.unixSocketPath {
                clientConfiguration = PostgresClient.Configuration(
                    unixSocketPath: socket, username: configuration.coreConfiguration.username,
                    password: configuration.coreConfiguration.password, database: configuration.coreConfiguration.database)
            }
            if url.contains("sslmode=require") {
                clientConfiguration.tls = .require(.makeClientConfiguration())
            }
            clientConfiguration.options.maximumConnections = 16
            // No keep-alive queries: with no minimum of connections, the pool closes every connection idle for its idle
            // timeout (60 s) anyway, and a connection the server closes is noticed by its channel. Each park of a
            // connection armed a 30 s keep-alive timer whose cancelled sleep stays in memory until its deadline (tens
            // of megabytes under load).
            clientConfiguration.options.keepAliveBehavior = nil
            var poolLogger = logger
            // The pool warns when leased before `run()` is scheduled, which is harmless right after start-up.
            poolLogger.logLevel = .error
            let client = PostgresClient(configuration: clientConfiguration, backgroundLogger: poolLogger)
            let runner = Task { await client.run() }
            let database = Database(engine: .postgres, location: location, logger: logger,
                                    backend: .postgres(client: client, runner: runner), environment: environment, modules: modules)
            do {
                try await database.withRawConnection { sql in try await sql.raw("SELECT 1").run() }
            } catch {
                runner.cancel()
                throw StoreError(.cannotOpen, "cannot connect to PostgreSQL at \(location): \(String(reflecting: error))")
            }
            return database
        }
    }

    /// Closes every connection. The database must not be used afterwards.
    /// Runs `body` again while SQLite answers "database is locked" after its busy timeout, up to about two minutes:
    /// for one-off work such as migrations, where another instance starting at the same time holds the write lock
    /// for as long as its own step takes (seconds on a loaded machine). Other errors, and PostgreSQL's, pass through.
    static func retryingWhileSQLiteBusy<T>(_ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await body()
            } catch let error as SQLiteError where error.reason == .busy && attempt < 12 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(100 * attempt))
            }
        }
    }

    public func close() async {
        switch backend {
        case .sqlite(let writer, let readers):
            for connection in await writer.drain() + readers.drain() { try? await connection.close() }
        case .postgres(_, let runner):
            runner.cancel()
            _ = await runner.value
        }
    }

    /// The number of write transactions this process has finished: read it before reading rows you mean
    /// to keep, then ask `hasChanged(_:tenant:since:)` whether a later write touched them.
    public var changeSequence: UInt64 { changeLog.withLock { $0.sequence } }

    /// Whether a write transaction of `tenant` that ended after `sequence` changed any of `keys`
    /// (`table:<name>` for any write to a table, or a key a repository noted, such as `user:12`).
    /// Only this process's writes are known: caches must also expire on their own.
    public func hasChanged(_ keys: [String], tenant: String, since sequence: UInt64) -> Bool {
        changeLog.withLock { $0.hasChanged(keys, tenant: tenant, since: sequence) }
    }

    /// Runs `body` in a read-only transaction of `tenant`: a consistent snapshot, never blocked by writers.
    public func read<T: Sendable>(tenant: String, now: Int64 = Int64(Date().timeIntervalSince1970),
                                  _ body: @Sendable (TenantTransaction) async throws -> T) async throws -> T {
        try await transaction(tenant: tenant, now: now, writing: false, body)
    }

    /// Runs `body`, which issues a single read statement, as cheaply as the engine allows: on SQLite without
    /// BEGIN/COMMIT (one statement is its own consistent snapshot), on PostgreSQL in a read-only transaction
    /// (the tenant setting that row-level security reads must be set first). For per-request checks.
    public func readOneStatement<T: Sendable>(tenant: String, now: Int64 = Int64(Date().timeIntervalSince1970),
                                              _ body: @Sendable (TenantTransaction) async throws -> T) async throws -> T {
        precondition(!tenant.isEmpty, "a tenant read needs a tenant")
        guard case .sqlite(_, let readers) = backend else { return try await read(tenant: tenant, now: now, body) }
        return try await readers.withConnection { connection in
            try await body(TenantTransaction(tenant: tenant, now: now, engine: .sqlite, sql: connection.sql(queryLogLevel: nil),
                                             changes: nil, sealer: self.sealer, schema: self.schema))
        }
    }

    /// Runs `body` in a read-write transaction of `tenant`: all of it commits, or none of it.
    public func write<T: Sendable>(tenant: String, now: Int64 = Int64(Date().timeIntervalSince1970),
                                   _ body: @Sendable (TenantTransaction) async throws -> T) async throws -> T {
        try await transaction(tenant: tenant, now: now, writing: true, body)
    }

    private func transaction<T: Sendable>(tenant: String, now: Int64, writing: Bool,
                                          _ body: @Sendable (TenantTransaction) async throws -> T) async throws -> T {
        precondition(!tenant.isEmpty, "a tenant transaction needs a tenant")
        guard writing else { return try await run(tenant: tenant, now: now, changes: nil, body) }
        let changes = ChangeRecorder()
        // Published when the transaction ends, committed or not, so a read that started earlier counts as stale.
        defer {
            let keys = changes.recorded
            changeLog.withLock { $0.publish(keys, tenant: tenant, at: now) }
        }
        return try await run(tenant: tenant, now: now, changes: changes) { transaction in
            let result = try await body(transaction)
            if DataVersion.isMoved(by: changes.recorded) { try await transaction.advanceDataVersion() }
            return result
        }
    }

    private func run<T: Sendable>(tenant: String, now: Int64, changes: ChangeRecorder?,
                                  _ body: @Sendable (TenantTransaction) async throws -> T) async throws -> T {
        let writing = changes != nil
        switch backend {
        case .sqlite(let writer, let readers):
            let pool = writing ? writer : readers
            return try await pool.withConnection { connection in
                let sql = connection.sql(queryLogLevel: nil)
                return try await Self.inTransaction(sql, begin: writing ? "BEGIN IMMEDIATE" : "BEGIN") {
                    try await body(TenantTransaction(tenant: tenant, now: now, engine: .sqlite, sql: sql, changes: changes, sealer: self.sealer, schema: self.schema))
                }
            }
        case .postgres(let client, _):
            return try await client.withConnection { connection in
                let sql = connection.sql(queryLogLevel: nil)
                return try await Self.inTransaction(sql, begin: writing ? "BEGIN" : "BEGIN READ ONLY") {
                    try await sql.raw("SELECT set_config('sportello.tenant', \(bind: tenant), true)").run()
                    return try await body(TenantTransaction(tenant: tenant, now: now, engine: .postgres, sql: sql, changes: changes, sealer: self.sealer, schema: self.schema))
                }
            }
        }
    }

    static func inTransaction<T>(_ sql: any SQLDatabase, begin: String,
                                 _ body: () async throws -> T) async throws -> T {
        try await sql.raw(SQLQueryString(begin)).run()
        let result: T
        do {
            result = try await body()
        } catch {
            try? await sql.raw("ROLLBACK").run()
            throw error
        }
        try await sql.raw("COMMIT").run()
        return result
    }

    /// A connection outside any tenant, for migrations and health checks only.
    func withRawConnection<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        switch backend {
        case .sqlite(let writer, _):
            return try await writer.withConnection { try await body($0.sql(queryLogLevel: nil)) }
        case .postgres(let client, _):
            return try await client.withConnection { try await body($0.sql(queryLogLevel: nil)) }
        }
    }

    /// Whether the database answers a trivial query (for health checks).
    public func isReachable() async -> Bool {
        (try? await withRawConnection { sql in try await sql.raw("SELECT 1").run() }) != nil
    }

    /// On PostgreSQL, whether the connected role is subject to row-level security (not a superuser and
    /// without BYPASSRLS); SQLite has no such wall and answers false.
    public func rowLevelSecurityApplies() async throws -> Bool {
        guard engine == .postgres else { return false }
        return try await withRawConnection { sql in
            let row = try await sql.raw("SELECT (rolsuper OR rolbypassrls) AS bypass FROM pg_roles WHERE rolname = current_user").first()
            return try !(row?.decode(column: "bypass", as: Bool.self) ?? true)
        }
    }
}

/// Closes a SQLite connection left open by a pool that went away (the close runs on the driver's thread pool,
/// which keeps the connection until then).
private let closeAbandoned: @Sendable (SQLiteConnection) -> Void = { connection in _ = connection.close() }

/// A fixed set of connections handed out one at a time; callers wait (in order) when all are busy.
actor ConnectionPool<Connection: Sendable> {
    private var idle: [Connection]
    private var waiters: [CheckedContinuation<Connection, Never>] = []
    /// Called for each connection still idle when the pool goes away without `drain` (a database dropped without
    /// `close`, as by a test that failed before closing it): SQLite's connections must be closed before they go.
    private let abandon: (@Sendable (Connection) -> Void)?

    init(_ connections: [Connection], abandon: (@Sendable (Connection) -> Void)? = nil) {
        idle = connections
        self.abandon = abandon
    }

    deinit {
        if let abandon { for connection in idle { abandon(connection) } }
    }

    private func acquire() async -> Connection {
        if let connection = idle.popLast() { return connection }
        return await withCheckedContinuation { waiters.append($0) }
    }

    private func release(_ connection: Connection) {
        if waiters.isEmpty {
            idle.append(connection)
        } else {
            waiters.removeFirst().resume(returning: connection)
        }
    }

    nonisolated func withConnection<T: Sendable>(_ body: (Connection) async throws -> T) async throws -> T {
        let connection = await acquire()
        do {
            let result = try await body(connection)
            await release(connection)
            return result
        } catch {
            await release(connection)
            throw error
        }
    }

    func drain() -> [Connection] {
        defer { idle.removeAll() }
        return idle
    }
}
