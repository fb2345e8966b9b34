import Foundation
import Synchronization
import Testing
import SportelloCore
@_spi(Testing) @testable import SportelloStore

/// Backups: SQLite copied online while writes go on and restored with its checks; PostgreSQL dumped by a backup role
/// that bypasses row-level security and restored into a fresh database (docs/OPERATIONS-BACKUP.md).
@Suite("Backup and restore")
struct BackupTests {
    static let key = ["SPORTELLO_DATA_KEY": testDataKey]

    static func folder() -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sportello-backup-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    /// The audit actions `tenant` holds, oldest first.
    static func actions(_ database: Database, _ tenant: String) async throws -> [String] {
        try await database.read(tenant: tenant) { try await $0.auditLog(limit: 100_000) }.reversed().map(\.action)
    }

    @Test("an SQLite backup taken while another task writes is a consistent copy; restored into a new file it serves the same data")
    func sqliteBackupWhileWriting() async throws {
        let dir = Self.folder(), source = dir + "/live.sqlite", backup = dir + "/backup.sqlite", restored = dir + "/restored.sqlite"
        let database = try await Database.open(.sqlite(path: source), modules: allStorageModules, environment: Self.key)
        _ = try await database.migrate()
        let tenant = uniqueTenant("backup")
        try await database.write(tenant: tenant) { t in
            _ = try await t.insertCustomer(CustomerRecord(customerType: "privato", customerCode: "B-1", firstName: "Anna", createdAt: 0))
            // A pending mail's body is sealed with the data key: reading it back proves the key came along.
            try await t.enqueueMail(OutboxRecord(createdAt: 0, kind: "welcome", recipient: "anna@example.it", subject: "Benvenuta",
                                                 bodyText: "Ciao Anna"))
        }
        // Numbered writes, one transaction each, until told to stop.
        let stop = Atomic<Bool>(false)
        let writer = Task {
            var written = 0
            while !stop.load(ordering: .relaxed) {
                let action = "write.\(written)"
                try await database.write(tenant: tenant) { try await $0.audit(action) }
                written += 1
            }
            return written
        }
        while try await Self.actions(database, tenant).count < 50 { try await Task.sleep(for: .milliseconds(10)) }
        let check = try await SQLiteBackup.backup(source, to: backup, modules: allStorageModules)
        try await Task.sleep(for: .milliseconds(100))
        stop.store(true, ordering: .relaxed)
        let written = try await writer.value
        #expect(check.isIntact && check.pending.isEmpty && check.unknown.isEmpty)
        #expect(check.dataKeyFingerprint == (try database.sealer.fingerprint()))
        await #expect(throws: BackupError.self, "an existing backup is never overwritten") {
            try await SQLiteBackup.backup(source, to: backup, modules: allStorageModules)
        }

        // Restore refusals: a damaged file, another data key, a database open in this process.
        let damaged = dir + "/damaged.sqlite"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: backup))
        bytes.replaceSubrange(0..<16, with: Data(repeating: 0x41, count: 16))
        try bytes.write(to: URL(fileURLWithPath: damaged))
        await #expect { try await SQLiteBackup.restore(damaged, to: restored, modules: allStorageModules, environment: Self.key) }
            throws: { ($0 as? BackupError)?.code == .integrity }
        let otherKey = ["SPORTELLO_DATA_KEY": Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()]
        await #expect { try await SQLiteBackup.restore(backup, to: restored, modules: allStorageModules, environment: otherKey) }
            throws: { ($0 as? BackupError)?.code == .dataKey }
        // The live database is open (in this process: the check runs in another, as `sportello restore` does).
        let binary = try #require(DurabilityTests.sportelloBinary, "build the sportello executable first (swift build)")
        let busy = try Self.run(binary.path, ["restore", "--database", source, "--from", backup], environment: Self.key)
        #expect(busy.status == 1 && busy.output.contains("is open in another process"), "\(busy.output)")
        await database.close()
        #expect(!SQLiteBackup.isInUse(source), "closed, the file is free again")

        _ = try await SQLiteBackup.restore(backup, to: restored, modules: allStorageModules, environment: Self.key)
        #expect(!FileManager.default.fileExists(atPath: restored + "-wal"), "no WAL of a replaced file is left to replay")
        let copy = try await Database.open(.sqlite(path: restored), modules: allStorageModules, environment: Self.key)
        #expect(try await copy.pendingMigrations().isEmpty, "the restored database needs no migration")
        let actions = try await Self.actions(copy, tenant)
        // Consistent: the copy holds the first n writes, without a gap, for some n the writer had reached.
        #expect(actions.count >= 50 && actions.count <= written)
        #expect(actions == (0..<actions.count).map { "write.\($0)" })
        let mail = try await copy.read(tenant: tenant) { try await $0.outbox(status: .pending) }
        #expect(mail.map(\.bodyText) == ["Ciao Anna"])
        #expect(try await copy.read(tenant: tenant) { try await $0.rowCounts() }.first { $0.0 == .customers }?.1 == 1)
        await copy.close()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Runs a command-line tool and returns its exit status and output (standard output and error together).
    static func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func toolsPresent() -> Bool {
        ["pg_dump", "pg_restore", "psql"].allSatisfy { (try? run("which", [$0]).status) == 0 }
    }

    /// `url` with another database name (and, when given, another user and password).
    static func url(_ url: String, database: String, user: String? = nil, password: String? = nil) throws -> String {
        var parts = try #require(URLComponents(string: url))
        parts.path = "/" + database
        if let user { parts.user = user; parts.password = password }
        return try #require(parts.string)
    }

    @Test("PostgreSQL: the application role cannot dump under row-level security; a BYPASSRLS backup role's pg_dump, restored into a fresh database, serves the same rows and needs no migration",
          .enabled(if: ProcessInfo.processInfo.environment["SPORTELLO_TEST_POSTGRES_ADMIN_URL"] != nil && BackupTests.toolsPresent()))
    func postgresProcedure() async throws {
        let environment = ProcessInfo.processInfo.environment
        let admin = try #require(environment["SPORTELLO_TEST_POSTGRES_ADMIN_URL"]), app = try #require(environment["SPORTELLO_TEST_POSTGRES_URL"])
        let appRole = try #require(URLComponents(string: app)?.user)
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let sourceName = "sportello_bk_\(suffix)", targetName = "sportello_rs_\(suffix)", backupRole = "sportello_backup_\(suffix)"
        let password = "backup-\(suffix)"
        let dumpFile = Self.folder() + "/sportello.dump"
        func psql(_ url: String, _ sql: String) throws {
            let result = try Self.run("psql", ["-v", "ON_ERROR_STOP=1", "-q", "-d", url, "-c", sql])
            #expect(result.status == 0, "\(sql): \(result.output)")
        }
        defer {
            try? psql(admin, "DROP DATABASE IF EXISTS \(sourceName) WITH (FORCE)")
            try? psql(admin, "DROP DATABASE IF EXISTS \(targetName) WITH (FORCE)")
            try? psql(admin, "DROP ROLE IF EXISTS \(backupRole)")
        }
        try psql(admin, "CREATE DATABASE \(sourceName) OWNER \(appRole)")
        let sourceURL = try Self.url(app, database: sourceName), targetURL = try Self.url(app, database: targetName)

        // The application's data: two tenants, fenced by row-level security, one with a sealed pending mail.
        let tenants = [uniqueTenant("pg-a"), uniqueTenant("pg-b")]
        let source = try await openTestDatabase(.postgres(url: sourceURL))
        _ = try await source.migrate()
        for (index, tenant) in tenants.enumerated() {
            try await source.write(tenant: tenant) { t in
                _ = try await t.insertCustomer(CustomerRecord(customerType: "privato", customerCode: "P-\(index)", firstName: "Anna", createdAt: 0))
                try await t.audit("seeded.\(index)")
                try await t.enqueueMail(OutboxRecord(createdAt: 0, kind: "welcome", recipient: "anna@example.it", subject: "Ciao",
                                                     bodyText: "Benvenuta \(index)"))
            }
        }
        var before: [String: [String]] = [:]
        for tenant in tenants { before[tenant] = try await Self.actions(source, tenant) }
        await source.close()

        // pg_dump as the application role stops at the first fenced table.
        let refused = try Self.run("pg_dump", ["-Fc", "-d", sourceURL, "-f", dumpFile + ".app"])
        #expect(refused.status != 0 && refused.output.contains("row-level security"), "\(refused.output)")

        // The backup role (docs/OPERATIONS-BACKUP.md): BYPASSRLS, read-only grants.
        try psql(admin, "CREATE ROLE \(backupRole) LOGIN PASSWORD '\(password)' BYPASSRLS")
        try psql(admin, "GRANT CONNECT ON DATABASE \(sourceName) TO \(backupRole)")
        let adminOnSource = try Self.url(admin, database: sourceName)
        try psql(adminOnSource, """
            GRANT USAGE ON SCHEMA public TO \(backupRole); GRANT SELECT ON ALL TABLES IN SCHEMA public TO \(backupRole);
            GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO \(backupRole);
            """)
        let backupURL = try Self.url(app, database: sourceName, user: backupRole, password: password)
        let dumped = try Self.run("pg_dump", ["-Fc", "--no-owner", "--no-privileges", "-d", backupURL, "-f", dumpFile])
        #expect(dumped.status == 0, "\(dumped.output)")
        let cannotWrite = try Self.run("psql", ["-d", backupURL, "-c", "DELETE FROM audit_log"])
        #expect(cannotWrite.status != 0, "the backup role only reads")

        // Restore into a fresh database owned by the application role, as that role.
        try psql(admin, "CREATE DATABASE \(targetName) OWNER \(appRole)")
        let restoredRun = try Self.run("pg_restore", ["--no-owner", "--no-privileges", "--exit-on-error", "-d", targetURL, dumpFile])
        #expect(restoredRun.status == 0, "\(restoredRun.output)")

        let target = try await openTestDatabase(.postgres(url: targetURL))
        let report = try await target.migrate()
        #expect(report.applied.isEmpty, "sportello migrate has nothing to do on the restored database")
        #expect(try await target.rowLevelSecurityApplies(), "the application role is still fenced in the restored database")
        for (index, tenant) in tenants.enumerated() {
            #expect(try await Self.actions(target, tenant) == before[tenant])
            let mail = try await target.read(tenant: tenant) { try await $0.outbox(status: .pending) }
            #expect(mail.map(\.bodyText) == ["Benvenuta \(index)"], "sealed values open with the same data key")
            let policyCount = try await target.read(tenant: tenant) { try await $0.unfencedCountForPolicyCheck(.customers) }
            #expect(policyCount == 1, "row-level security fences the restored tables too")
        }
        await target.close()
    }
}
