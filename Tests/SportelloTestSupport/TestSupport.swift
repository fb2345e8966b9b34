import Foundation
import Testing
import SportelloCore
import SportelloStore
import SportelloWeb

/// The repository root, found from this file so tests run from any working directory.
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Loads `tenants/` and `plugins/` exactly as `sportello validate` does.
public func loadRepositoryTenants() throws -> LoadResult {
    let files = try TenantLoader.definitionFiles(in: [repositoryRoot.appendingPathComponent("tenants").path])
    return TenantLoader(capabilities: .portal, plugins: PluginCatalogue.load(directory: repositoryRoot.appendingPathComponent("plugins").path))
        .load(files: files)
}

extension CapabilityCatalogue {
    /// The portal's capabilities (`PortalModules.capabilities`), for loaders in every test target.
    public static let portal = PortalModules.capabilities
}

/// The five provider definitions, loaded once.
public let providerTenants: [String: TenantDefinition] = {
    let result = (try? loadRepositoryTenants())
    return Dictionary(uniqueKeysWithValues: (result?.tenants ?? []).map { ($0.definition.id, $0.definition) })
}()

public func provider(_ id: String) throws -> TenantDefinition {
    try #require(providerTenants[id], "tenant \(id) did not load")
}

/// The engines every storage test runs on. PostgreSQL joins when the test script started one
/// (`SPORTELLO_TEST_POSTGRES_URL`); with `SPORTELLO_REQUIRE_POSTGRES=1` it is always listed, so a
/// missing server fails the suite instead of skipping half of it.
public enum TestEngine: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    public static var available: [TestEngine] {
        let environment = ProcessInfo.processInfo.environment
        if environment["SPORTELLO_TEST_POSTGRES_URL"] != nil || environment["SPORTELLO_REQUIRE_POSTGRES"] == "1" {
            return [.sqlite, .postgres]
        }
        return [.sqlite]
    }

    public var testDescription: String { rawValue }

    /// A fresh SQLite file, or the shared PostgreSQL test database (tests there use unique tenant ids).
    public func location() throws -> DatabaseLocation {
        switch self {
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sportello-tests-\(UUID().uuidString)")
            return .sqlite(path: folder.appendingPathComponent("test.sqlite").path)
        case .postgres:
            let url = try #require(ProcessInfo.processInfo.environment["SPORTELLO_TEST_POSTGRES_URL"],
                                   "SPORTELLO_REQUIRE_POSTGRES=1 but SPORTELLO_TEST_POSTGRES_URL is not set")
            return .postgres(url: url)
        }
    }

    /// Opens and migrates a database, runs `body`, closes it.
    public func withDatabase<T>(_ body: (Database) async throws -> T) async throws -> T {
        let database = try await openTestDatabase(try location())
        do {
            do {
                _ = try await database.migrate()
            } catch {
                // `migrate` creates its bookkeeping table before taking its lock, so the first migrations of
                // suites running side by side on a fresh PostgreSQL database can collide; the second finds the table.
                _ = try await database.migrate()
            }
            let result = try await body(database)
            await database.close()
            return result
        } catch {
            await database.close()
            throw error
        }
    }
}

/// A tenant id no other test uses, so tests can share one PostgreSQL database.
public func uniqueTenant(_ base: String) -> String {
    "\(base)-\(UUID().uuidString.prefix(8).lowercased())"
}

/// A tenant definition with another id (same rules), for isolation tests on a shared database.
public func renamed(_ tenant: TenantDefinition, to id: String) -> TenantDefinition {
    var copy = tenant
    copy.id = id
    return copy
}

/// An e-mail address no other test uses.
public func uniqueEmail(_ local: String) -> String { "\(local)-\(UUID().uuidString.prefix(8).lowercased())@example.it" }

/// The storage of every portal module (what `sportello` opens its database with).
public var allStorageModules: [StorageModule] { PortalModules.storage }

/// Opens a test database. PostgreSQL refuses to open without a configured data key, so when the
/// environment gives none (a run outside scripts/test) a fixed test key is used; the shared test
/// database remembers the first key it saw, so every suite of a run must use the same one.
public func openTestDatabase(_ location: DatabaseLocation, modules: [StorageModule] = PortalModules.storage) async throws -> Database {
    var environment = ProcessInfo.processInfo.environment
    if case .postgres = location, (environment["SPORTELLO_DATA_KEY"] ?? "").isEmpty, (environment["SPORTELLO_DATA_KEY_FILE"] ?? "").isEmpty {
        environment["SPORTELLO_DATA_KEY"] = testDataKey
    }
    return try await Database.open(location, modules: modules, environment: environment)
}

/// The data key of PostgreSQL test runs that do not set one (base64 of "sportello-tests-only-data-key-01").
public let testDataKey = "c3BvcnRlbGxvLXRlc3RzLW9ubHktZGF0YS1rZXktMDE="
