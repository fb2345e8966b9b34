import Foundation
import SportelloCore

/// What a portal module keeps in the database: its tables (in deletion order, children first), the schema
/// steps that create and change them, and its demo data. Each module declares its own in its folder
/// (`Modules/<Module>/<Module>Storage.swift`); the portal's list of modules hands them to `Database.open`.
public struct StorageModule: Sendable {
    /// The module's id, also the name its demo data is seeded under.
    public let id: String
    /// Its tables in the order they are emptied (children first), before the platform's.
    let tables: [StoredTable]
    /// Its tables that platform tables point at (through a column the module added), emptied after those.
    let tablesReferencedByPlatform: [StoredTable]
    let migrations: [Migration]
    /// Rows the module needs once per tenant (catalogues, offers), before any customer.
    let seed: Seed?
    /// A demo customer's rows, from a random generator of the module's own (adding a module leaves the others' data as it was).
    let fill: Fill?

    /// A demo-data step of a module, as an unapplied method of `DemoDataGenerator` (`DemoDataGenerator.seedHosting(in:)`).
    typealias Seed = @Sendable (DemoDataGenerator) -> (TenantTransaction) async throws -> Void
    /// A demo customer's rows, as an unapplied method of `DemoDataGenerator` (`DemoDataGenerator.fillHosting(_:random:in:)`).
    typealias Fill = @Sendable (DemoDataGenerator) -> (DemoAccount, inout SplitMix64, TenantTransaction) async throws -> Void

    init(_ id: String, tables: [StoredTable], tablesReferencedByPlatform: [StoredTable] = [], migrations: [Migration], seed: Seed? = nil, fill: Fill? = nil) {
        self.id = id; self.tables = tables; self.tablesReferencedByPlatform = tablesReferencedByPlatform; self.migrations = migrations; self.seed = seed; self.fill = fill
    }
}

/// The platform's schema with the modules' steps: every step once, in the order of their ids (the history
/// is numbered: a module's new step takes the next free number).
struct SchemaHistory: Sendable {
    let modules: [StorageModule]
    let migrations: [Migration]
    /// Every table, children first (the order `deleteAllTenantData` empties them in).
    let tablesChildrenFirst: [StoredTable]

    init(modules: [StorageModule]) {
        self.modules = modules
        var seen = Set<String>()
        var steps: [Migration] = []
        for step in platformMigrations + modules.flatMap(\.migrations) {
            precondition(seen.insert(step.id).inserted, "two schema steps are called \(step.id)")
            steps.append(step)
        }
        migrations = steps.sorted { $0.id < $1.id }
        tablesChildrenFirst = platformTablesBeforeModules + modules.flatMap(\.tables) + platformTablesAfterModules
            + modules.flatMap(\.tablesReferencedByPlatform) + platformTablesLast
    }

    /// Every tenant table, parents first (what `rowCounts` reports).
    var allTables: [StoredTable] { tablesChildrenFirst.reversed() + [.flowStates, .sharedCounters] }
}
