import ArgumentParser
import Foundation
import SportelloStore
import SportelloWeb

/// What `backup` and `restore` print for PostgreSQL, where `pg_dump`/`pg_restore` do the work (docs/OPERATIONS-BACKUP.md).
private let postgresProcedure = """
    PostgreSQL is backed up with pg_dump by a dedicated role that bypasses row-level security (the application role
    sees one tenant per transaction, so its pg_dump fails or misses rows). In short:
      1. once, as an administrator:  CREATE ROLE sportello_backup LOGIN PASSWORD '…' BYPASSRLS;
         GRANT CONNECT ON DATABASE <db> TO sportello_backup; GRANT USAGE ON SCHEMA public TO sportello_backup;
         GRANT SELECT ON ALL TABLES IN SCHEMA public TO sportello_backup;
         GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO sportello_backup;
         ALTER DEFAULT PRIVILEGES FOR ROLE <app role> IN SCHEMA public GRANT SELECT ON TABLES TO sportello_backup;
         ALTER DEFAULT PRIVILEGES FOR ROLE <app role> IN SCHEMA public GRANT SELECT ON SEQUENCES TO sportello_backup;
      2. backup:   pg_dump -Fc --no-owner --no-privileges -U sportello_backup -d <db> -f sportello-YYYYMMDD.dump
      3. restore:  createdb -O <app role> <new db>
                   pg_restore --no-owner --no-privileges --exit-on-error -U <app role> -d <new db> sportello-YYYYMMDD.dump
                   (as the application role, the new database's owner: its tables and fences come back as they were)
      4. check:    sportello migrate --database postgres://<app role>@…/<new db>   (applies nothing: "0 applied")
    Keep SPORTELLO_DATA_KEY apart from the dumps, and restore with the same key: sealed values need it.
    The full procedure: docs/OPERATIONS-BACKUP.md
    """

/// `sportello backup --to FILE`: an online, consistent copy of the SQLite database.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the SQLite database into a new file, consistent while 'serve' runs (PostgreSQL: prints the pg_dump procedure).",
        discussion: "The copy is made with SQLite's VACUUM INTO (one read transaction: a consistent snapshot that never blocks "
            + "the server's writes), checked with PRAGMA integrity_check, then moved to FILE; an existing FILE is never "
            + "overwritten. The data key is not in the copy: keep <database>.key (or SPORTELLO_DATA_KEY) apart from the backups. "
            + "See docs/OPERATIONS-BACKUP.md.")

    @Option(name: .customLong("to"), help: "The backup file to create.")
    var destination: String

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        guard case .sqlite(let path) = database.location else {
            printError(postgresProcedure)
            throw ExitCode(1)
        }
        do {
            let check = try await SQLiteBackup.backup(path, to: destination, modules: PortalModules.storage)
            print("backed up \(path) to \(destination) (\(check.bytes) bytes, integrity ok, \(check.applied.count) schema steps)")
            let keyFile = ProcessInfo.processInfo.environment["SPORTELLO_DATA_KEY"].map { _ in "SPORTELLO_DATA_KEY" }
                ?? ProcessInfo.processInfo.environment["SPORTELLO_DATA_KEY_FILE"] ?? path + ".key"
            print("the data key is not in the backup: keep a copy of \(keyFile) apart from it (restoring needs the same key)")
        } catch let error as BackupError {
            printError("error: \(error.message)")
            throw ExitCode(1)
        }
    }
}

/// `sportello restore --from FILE`: puts an SQLite backup in place of the database, after checking it.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Replace the SQLite database with a backup, after checking it (PostgreSQL: prints the pg_restore procedure).",
        discussion: "The backup must pass PRAGMA integrity_check, hold a Sportello schema this version knows, and match the data "
            + "key that will serve the database (<database>.key, SPORTELLO_DATA_KEY or SPORTELLO_DATA_KEY_FILE). A database "
            + "open in another process (a running 'serve') is not replaced unless --force. After the restore, 'sportello "
            + "migrate' applies the schema steps the backup predates, if any.")

    @Option(name: .customLong("from"), help: "The backup file to restore.")
    var source: String

    @Flag(help: "Replace the database even while another process has it open (stop 'serve' instead whenever you can).")
    var force = false

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        guard case .sqlite(let path) = database.location else {
            printError(postgresProcedure)
            throw ExitCode(1)
        }
        do {
            let check = try await SQLiteBackup.restore(source, to: path, modules: PortalModules.storage, force: force)
            print("restored \(source) to \(path) (\(check.bytes) bytes, integrity ok, \(check.applied.count) schema steps)")
            if !check.pending.isEmpty {
                print("the backup predates \(check.pending.count) schema step(s) (\(check.pending.joined(separator: ", "))): run 'sportello migrate'")
            }
        } catch let error as BackupError {
            printError("error: \(error.message)")
            throw ExitCode(1)
        }
    }
}
