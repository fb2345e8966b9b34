import Foundation
import Logging
import SQLKit
import SQLiteKit
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A backup or restore refused, with a stable code.
public struct BackupError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The file to read does not exist.
        case notFound = "not_found"
        /// The file to write exists already.
        case exists = "exists"
        /// Another process has the database open (a running `serve`).
        case inUse = "in_use"
        /// `PRAGMA integrity_check` found damage, or the file is not an SQLite database.
        case integrity = "integrity"
        /// The backup holds no Sportello schema, or steps this build does not know (a newer Sportello wrote it).
        case schema = "schema"
        /// The data key that would serve the restored file is not the one the backup's database was used with.
        case dataKey = "data_key"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) { self.code = code; self.message = message }

    public var description: String { message }
}

/// What `SQLiteBackup.check` found in an SQLite file.
public struct SQLiteFileCheck: Sendable, Equatable {
    /// `ok`, or the first problems `PRAGMA integrity_check` lists.
    public var integrity: String
    /// Schema steps recorded in the file, oldest first.
    public var applied: [String]
    /// Steps of this build the file has not had (`sportello migrate` applies them after a restore).
    public var pending: [String]
    /// Steps recorded in the file that this build does not know (a newer Sportello wrote it).
    public var unknown: [String]
    /// The fingerprint of the data key the database was first used with (nil before migration `0011_sealed_outbox`).
    public var dataKeyFingerprint: String?
    /// The file's size in bytes.
    public var bytes: Int64

    public var isIntact: Bool { integrity == "ok" }
}

/// Backup and restore of an SQLite database file, online.
///
/// `backup` runs `VACUUM INTO` on its own connection: one statement that reads the source inside a read transaction
/// (a consistent snapshot, WAL included) and writes a compact copy, while `serve` goes on writing (in WAL mode a reader
/// never blocks the writer). SQLiteNIO does not expose the C `sqlite3_backup_*` API (its connection handle is internal,
/// and reaching the C module would mean depending on sqlite-nio's private target); `VACUUM INTO` gives the same
/// consistency in one call, and its copy is also defragmented. The copy is written next to the destination under a
/// temporary name, checked (`PRAGMA integrity_check`), then renamed, so a destination that exists is always complete.
///
/// The data key is not in the copy (only its fingerprint): keep the key (`<database>.key`, or `SPORTELLO_DATA_KEY`)
/// apart from the backups; `restore` refuses a file whose key fingerprint does not match the key that would serve it.
public enum SQLiteBackup {
    private static let logger = Logger(label: "sportello.backup")

    /// Copies the database at `source` into the new file `destination` (refused when it exists); returns the copy's check.
    public static func backup(_ source: String, to destination: String, modules: [StorageModule]) async throws -> SQLiteFileCheck {
        guard FileManager.default.fileExists(atPath: source) else {
            throw BackupError(.notFound, "no SQLite database at \(source)")
        }
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw BackupError(.exists, "\(destination) exists: give the backup a new name (backups are never overwritten)")
        }
        let folder = URL(fileURLWithPath: destination).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let partial = folder.appendingPathComponent(".\(URL(fileURLWithPath: destination).lastPathComponent).partial-\(UUID().uuidString)").path
        do {
            try await withConnection(source) { sql in
                try await sql.raw("PRAGMA busy_timeout = 10000").run()
                try await sql.raw("VACUUM INTO \(bind: partial)").run()
            }
            let check = try await check(partial, modules: modules)
            guard check.isIntact else { throw BackupError(.integrity, "the copy of \(source) is damaged: \(check.integrity)") }
            guard rename(partial, destination) == 0 else {
                throw BackupError(.exists, "cannot move the copy to \(destination): \(String(cString: strerror(errno)))")
            }
            return check
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }

    /// Checks an SQLite file without changing it: integrity, schema steps against this build's (`modules`), data key.
    public static func check(_ path: String, modules: [StorageModule]) async throws -> SQLiteFileCheck {
        guard FileManager.default.fileExists(atPath: path) else { throw BackupError(.notFound, "no file at \(path)") }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
        let known = SchemaHistory(modules: modules).migrations.map(\.id)
        return try await withConnection("file:\(path)?mode=ro") { sql in
            let integrity: [String]
            do {
                integrity = try await sql.raw("PRAGMA integrity_check(5)").all().map { try $0.decode(column: "integrity_check", as: String.self) }
            } catch {
                throw BackupError(.integrity, "\(path) is not a readable SQLite database: \(error)")
            }
            func exists(_ table: String) async throws -> Bool {
                try await sql.raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name = \(bind: table)").first() != nil
            }
            let applied = try await exists("sportello_migrations")
                ? try await sql.raw("SELECT id FROM sportello_migrations ORDER BY id").all().map { try $0.decode(column: "id", as: String.self) }
                : []
            let fingerprint = try await exists(Database.dataKeyTable)
                ? try await sql.raw("SELECT fingerprint FROM \(ident: Database.dataKeyTable) WHERE name = 'data'").first()?
                    .decode(column: "fingerprint", as: String.self)
                : nil
            return SQLiteFileCheck(integrity: integrity.joined(separator: "; "), applied: applied,
                                   pending: known.filter { !applied.contains($0) }, unknown: applied.filter { !known.contains($0) },
                                   dataKeyFingerprint: fingerprint, bytes: bytes)
        }
    }

    /// Whether another process has the database at `path` open: every connection to a WAL database holds a shared lock
    /// on a byte of its `-shm` file for as long as it is open (SQLite's "dead man switch", byte 128), idle or not.
    /// Ask it only from a process that does not have the database open itself: POSIX locks are per process (its own do
    /// not show), and closing the descriptor this opens would drop the locks its own connections hold on the file.
    public static func isInUse(_ path: String) -> Bool {
        let fd = open(path + "-shm", O_RDONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_start = 128
        lock.l_len = 1
        guard fcntl(fd, F_GETLK, &lock) == 0 else { return false }
        return lock.l_type != Int16(F_UNLCK)
    }

    /// Replaces the database at `target` with the backup file `source`, after checking the backup (intact, a Sportello
    /// schema this build knows) and the data key: the key that will serve `target` (`environment`'s
    /// `SPORTELLO_DATA_KEY` or `SPORTELLO_DATA_KEY_FILE`, else `<target>.key`) must be the one the backup's database was
    /// used with. Refused while another process has `target` open unless `force`. The old file's WAL and shared-memory
    /// files are removed with it (they belong to the replaced database). Returns the backup's check (its `pending` steps
    /// are what `sportello migrate` will apply).
    public static func restore(_ source: String, to target: String, modules: [StorageModule], force: Bool = false,
                               environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> SQLiteFileCheck {
        let check = try await check(source, modules: modules)
        guard check.isIntact else { throw BackupError(.integrity, "\(source) is damaged: \(check.integrity)") }
        guard !check.applied.isEmpty else { throw BackupError(.schema, "\(source) holds no Sportello database (no schema steps recorded)") }
        guard check.unknown.isEmpty else {
            throw BackupError(.schema, "\(source) was written by a newer Sportello (steps \(check.unknown.joined(separator: ", "))): restore it with that version")
        }
        if let stored = check.dataKeyFingerprint {
            let keyFile = Database.keyFile(for: .sqlite(path: target), environment: environment) ?? ""
            let sealer = FieldSealer(keyFile: keyFile, environment: environment, createKeyFile: false)
            let mine = try? sealer.fingerprint()
            guard mine == stored else {
                throw BackupError(.dataKey, """
                    the data key that would serve \(target) (\(sealer.sourceDescription)) \(mine == nil ? "cannot be read" : "is not the one this backup's database was used with") \
                    (the backup expects fingerprint \(stored.prefix(12))…): put the key kept with the backup at \(keyFile.isEmpty ? "\(target).key" : keyFile) \
                    or set SPORTELLO_DATA_KEY, then restore again; without it, sealed values (SIM codes, queued e-mails) cannot be read
                    """)
            }
        }
        if isInUse(target) && !force {
            throw BackupError(.inUse, "\(target) is open in another process (a running 'sportello serve'?): stop it first, or pass --force")
        }
        let folder = URL(fileURLWithPath: target).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let partial = folder.appendingPathComponent(".\(URL(fileURLWithPath: target).lastPathComponent).restore-\(UUID().uuidString)").path
        do {
            try FileManager.default.copyItem(atPath: source, toPath: partial)
            guard rename(partial, target) == 0 else {
                throw BackupError(.exists, "cannot move the restored copy to \(target): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
        // A WAL left by the replaced database would be replayed into the restored one.
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: target + suffix) }
        return check
    }

    /// Runs `body` on a connection of its own to `path` (a file path or an SQLite `file:` URI), closed afterwards.
    private static func withConnection<T: Sendable>(_ path: String, _ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        do {
            let result = try await body(connection.sql(queryLogLevel: nil))
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
