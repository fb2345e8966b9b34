import Foundation
import Crypto
import Testing
import SportelloCore
@_spi(Testing) @testable import SportelloStore

/// Every step of the schema's history, oldest first.
let allMigrationIds = ["0001_tables", "0002_row_level_security", "0003_flows", "0004_catalogue", "0005_line_products",
                       "0006_line_self_service", "0007_telco_support", "0008_hosting", "0009_personal_invoices",
                       "0010_shared_counters", "0011_sealed_outbox", "0012_request_numbers", "0014_simulated_markers", "0015_custom_fields",
                       "0016_tenant_records", "0017_verified_email", "0018_required_actions", "0019_totp_secret",
                       "0020_events", "0021_online_payments", "0022_notifications", "0023_recharge_payments",
                       "0024_roaming_and_payment_method", "0025_user_locale", "0026_data_versions"]

@Suite("Migrations")
struct MigrationTests {
    @Test("a new database lists every migration as pending and refuses use until migrated", arguments: TestEngine.available)
    func pendingBeforeMigrate(engine: TestEngine) async throws {
        guard engine == .sqlite else { return }  // the shared PostgreSQL database is migrated by other tests
        let database = try await openTestDatabase(try engine.location())
        defer { Task { await database.close() } }
        #expect(try await database.pendingMigrations() == allMigrationIds)
        let error = await #expect(throws: StoreError.self) { try await database.requireMigrated() }
        #expect(error?.code == .notMigrated)
        #expect(error?.message.contains("sportello migrate") == true)
    }

    @Test("migrate is safe to run twice and concurrently", arguments: TestEngine.available)
    func migrateTwice(engine: TestEngine) async throws {
        let location = try engine.location()
        let first = try await openTestDatabase(location)
        let second: Database
        do { second = try await openTestDatabase(location) } catch { await first.close(); throw error }
        // Closed whatever happens: a connection left open when a step throws would stop the whole test process.
        do {
            async let a = first.migrate()
            async let b = second.migrate()
            let (reportA, reportB) = try await (a, b)
            #expect(Set(reportA.applied + reportA.alreadyApplied) == Set(allMigrationIds))
            #expect(Set(reportB.applied + reportB.alreadyApplied) == Set(allMigrationIds))
            #expect(Set(reportA.applied).isDisjoint(with: reportB.applied))
            let again = try await first.migrate()
            #expect(again.applied.isEmpty)
            try await first.requireMigrated()
        } catch {
            await first.close()
            await second.close()
            throw error
        }
        await first.close()
        await second.close()
    }

    @Test("SQLite runs in WAL mode with foreign keys on")
    func sqlitePragmas() async throws {
        try await TestEngine.sqlite.withDatabase { database in
            let mode = try await database.withRawConnection { sql in
                try await sql.raw("PRAGMA journal_mode").first()?.decode(column: "journal_mode", as: String.self)
            }
            #expect(mode == "wal")
        }
    }
}

@Suite("Tenant fencing")
struct TenantFencingTests {
    /// Two tenants with a customer, a contract, a line, an invoice and usage each.
    func seedTwoTenants(_ database: Database) async throws -> (a: String, b: String, bCustomer: Int64, bLine: Int64) {
        let a = uniqueTenant("alpha"), b = uniqueTenant("beta")
        var ids: [String: (Int64, Int64)] = [:]
        for tenant in [a, b] {
            ids[tenant] = try await database.write(tenant: tenant, now: fixedNow) { t in
                let customer = try await t.insertCustomer(sampleCustomer("C-\(tenant)"))
                let contract = try await t.insertContract(ContractRecord(customerId: customer, code: "K1", offer: "Offerta", kind: "mobile", startsOn: "2024-01-01"))
                let line = try await t.insertLine(LineRecord(customerId: customer, contractId: contract, kind: "sim", identifier: "3331234567"))
                try await t.insertInvoice(InvoiceRecord(customerId: customer, number: "F-\(tenant)", issuedOn: "2026-10-05", dueOn: "2026-10-30",
                                                        netCents: 1000, taxCents: 220, totalCents: 1220, status: .paid))
                try await t.insertUsage([UsageRecord(customerId: customer, lineId: line, startedAt: fixedNow - 3600, kind: "call", durationSeconds: 60)])
                return (customer, line)
            }
        }
        return (a, b, ids[b]!.0, ids[b]!.1)
    }

    @Test("a session of tenant A never reads tenant B's rows", arguments: TestEngine.available)
    func readsAreFenced(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let (a, _, bCustomer, bLine) = try await seedTwoTenants(database)
            try await database.read(tenant: a, now: fixedNow) { t in
                #expect(try await t.customer(id: bCustomer) == nil)
                #expect(try await t.line(id: bLine) == nil)
                #expect(try await t.customers().allSatisfy { $0.customerCode == "C-\(a)" })
                #expect(try await t.invoices(customerId: bCustomer, windows: VisibilityWindows(tenant: try provider("unidata"))).isEmpty)
                let page = try await t.usage(UsageQuery(lineId: bLine), windows: VisibilityWindows(tenant: try provider("unidata")))
                #expect(page.items.isEmpty)
                for (table, count) in try await t.rowCounts() where count > 0 {
                    #expect([.customers, .contracts, .lines, .invoices, .usageRecords].contains(table))
                    #expect(count == 1, "\(table.rawValue) of \(a) should hold A's row only")
                }
            }
        }
    }

    @Test("tenant A cannot change or point at tenant B's rows", arguments: TestEngine.available)
    func writesAreFenced(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let (a, b, bCustomer, _) = try await seedTwoTenants(database)
            try await database.write(tenant: a, now: fixedNow) { t in
                var stolen = sampleCustomer("HIJACK")
                stolen.id = bCustomer
                try await t.updateCustomer(stolen)
            }
            let untouched = try await database.read(tenant: b) { try await $0.customer(id: bCustomer) }
            #expect(untouched?.customerCode == "C-\(b)")
            // A contract of A that names B's customer breaks the (tenant_id, customer_id) foreign key.
            await #expect(throws: (any Error).self) {
                try await database.write(tenant: a, now: fixedNow) { t in
                    try await t.insertContract(ContractRecord(customerId: bCustomer, code: "X", offer: "X", kind: "mobile", startsOn: "2025-01-01"))
                }
            }
        }
    }

    @Test("on PostgreSQL, row-level security hides other tenants from a query without a tenant predicate")
    func rowLevelSecurity() async throws {
        guard TestEngine.available.contains(.postgres) else { return }
        try await TestEngine.postgres.withDatabase { database in
            #expect(try await database.rowLevelSecurityApplies(), "the test role must be subject to row-level security")
            let (a, b, _, _) = try await seedTwoTenants(database)
            for tenant in [a, b] {
                try await database.read(tenant: tenant) { t in
                    for table in [StoredTable.customers, .invoices, .usageRecords] {
                        let visible = try await t.unfencedCountForPolicyCheck(table)
                        #expect(visible == 1, "\(table.rawValue) seen by \(tenant)")
                    }
                }
            }
            // Writing a row for another tenant is refused by the policy's WITH CHECK.
            let other = b
            await #expect(throws: (any Error).self) {
                try await database.write(tenant: a) { t in
                    try await t.insertForPolicyCheck(.auditLog, tenantOverride: other)
                }
            }
        }
    }
}

@Suite("Visibility windows in queries")
struct VisibilityWindowTests {
    func seedInvoicesAndUsage(_ database: Database, tenant: String) async throws -> (customer: Int64, line: Int64) {
        try await database.write(tenant: tenant, now: fixedNow) { t in
            let customer = try await t.insertCustomer(sampleCustomer("W-\(tenant)"))
            let contract = try await t.insertContract(ContractRecord(customerId: customer, code: "K", offer: "O", kind: "mobile", startsOn: "2020-01-01"))
            let line = try await t.insertLine(LineRecord(customerId: customer, contractId: contract, kind: "sim", identifier: "3470000000"))
            let today = CalendarDay(instant: fixedNow)
            for monthsAgo in 0..<30 {
                let issued = today.adding(months: -monthsAgo)
                try await t.insertInvoice(InvoiceRecord(customerId: customer, number: "F\(monthsAgo)", issuedOn: issued.description,
                                                        dueOn: issued.adding(days: 20).description, netCents: 100, taxCents: 22,
                                                        totalCents: 122, status: .paid))
            }
            try await t.insertUsage((0..<365).map { daysAgo in
                UsageRecord(customerId: customer, lineId: line, startedAt: fixedNow - Int64(daysAgo) * 86_400, kind: daysAgo % 2 == 0 ? "call" : "data")
            })
            return (customer, line)
        }
    }

    @Test("Unidata and WINDTRE show invoices of the last 24 months only", arguments: TestEngine.available, ["unidata", "windtre"])
    func invoicesWindow(engine: TestEngine, providerId: String) async throws {
        try await engine.withDatabase { database in
            let tenant = uniqueTenant(providerId)
            let windows = VisibilityWindows(tenant: try provider(providerId))
            let (customer, _) = try await seedInvoicesAndUsage(database, tenant: tenant)
            try await database.read(tenant: tenant, now: fixedNow) { t in
                let invoices = try await t.invoices(customerId: customer, windows: windows)
                #expect(invoices.count == 25)  // today back to the same day 24 months ago, inclusive
                #expect(invoices.last?.issuedOn == "2024-11-21")
                #expect(invoices.first?.issuedOn == "2026-11-21")
                let error = await #expect(throws: VisibilityError.self) {
                    _ = try await t.invoices(customerId: customer, windows: windows, issuedFrom: CalendarDay(year: 2024, month: 10, day: 1))
                }
                #expect(error?.code == .beforeVisibilityWindow)
                #expect(error?.earliestDay == CalendarDay(year: 2024, month: 11, day: 21))
                let old = try #require(try await t.invoices(customerId: customer, windows: VisibilityWindows(tenant: try provider("tunda"))).last)
                #expect(try await t.invoice(id: old.id!, customerId: customer, windows: windows) == nil, "an invoice outside the window is not found by id either")
            }
        }
    }

    @Test("Unidata call detail covers the last 180 days; earlier is an error", arguments: TestEngine.available)
    func unidataUsageWindow(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = uniqueTenant("unidata")
            let windows = VisibilityWindows(tenant: try provider("unidata"))
            let (_, line) = try await seedInvoicesAndUsage(database, tenant: tenant)
            try await database.read(tenant: tenant, now: fixedNow) { t in
                let page = try await t.usage(UsageQuery(lineId: line, limit: 1_000), windows: windows)
                #expect(page.items.count == 181)
                #expect(page.items.allSatisfy { $0.startedAt >= CalendarDay(year: 2026, month: 5, day: 25).startInstant })
                let tooEarly = TimeRange(from: CalendarDay(year: 2026, month: 5, day: 1).startInstant, to: fixedNow)
                let error = await #expect(throws: VisibilityError.self) {
                    _ = try await t.usage(UsageQuery(lineId: line, period: tooEarly), windows: windows)
                }
                #expect(error?.code == .beforeVisibilityWindow)
            }
        }
    }

    @Test("WINDTRE traffic goes 3 months back and an export spans at most 90 days", arguments: TestEngine.available)
    func windtreUsageWindow(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = uniqueTenant("windtre")
            let windows = VisibilityWindows(tenant: try provider("windtre"))
            let (_, line) = try await seedInvoicesAndUsage(database, tenant: tenant)
            try await database.read(tenant: tenant, now: fixedNow) { t in
                let all = try await t.usage(UsageQuery(lineId: line, limit: 1_000), windows: windows)
                #expect(all.items.count == 93)  // 21 August to 21 November inclusive
                let ninety = TimeRange(from: CalendarDay(year: 2026, month: 8, day: 23).startInstant, to: CalendarDay(year: 2026, month: 11, day: 21).startInstant)
                let exported = try await t.usageExport(lineId: line, period: ninety, windows: windows)
                #expect(exported.count == 90)
                let ninetyOne = TimeRange(from: CalendarDay(year: 2026, month: 8, day: 22).startInstant, to: ninety.to)
                let error = await #expect(throws: VisibilityError.self) {
                    _ = try await t.usageExport(lineId: line, period: ninetyOne, windows: windows)
                }
                #expect(error?.code == .exportRangeTooLong)
                #expect(error?.maximumDays == 90)
                let kinds = try await t.usage(UsageQuery(lineId: line, kinds: ["data"], limit: 1_000), windows: windows)
                #expect(kinds.items.allSatisfy { $0.kind == "data" } && kinds.items.count == 46)
            }
        }
    }

    @Test("usage pages are newest first and cover every row exactly once", arguments: TestEngine.available)
    func keysetPaging(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = uniqueTenant("paging")
            let (_, line) = try await seedInvoicesAndUsage(database, tenant: tenant)
            try await database.write(tenant: tenant, now: fixedNow) { t in
                // Ties on started_at must not lose or repeat rows.
                try await t.insertUsage((0..<7).map { _ in UsageRecord(customerId: 1, lineId: line, startedAt: fixedNow - 7200, kind: "sms") }
                    .map { record in var copy = record; copy.customerId = 0; return copy })
            }
            let windows = VisibilityWindows(tenant: try provider("tunda"))
            var seen: [Int64] = []
            var cursor: UsageCursor?
            var previous = Int64.max
            repeat {
                let query = UsageQuery(lineId: line, after: cursor, limit: 10)
                let page = try await database.read(tenant: tenant, now: fixedNow) { t in
                    try await t.usage(query, windows: windows)
                }
                for item in page.items {
                    #expect(item.startedAt <= previous)
                    previous = item.startedAt
                    seen.append(item.id!)
                }
                cursor = page.next
            } while cursor != nil
            #expect(seen.count == 372)
            #expect(Set(seen).count == seen.count)
        }
    }
}

extension TenantTransaction {
    /// Inserts an audit row claiming another tenant, straight through SQL, to prove the policy refuses it.
    func insertForPolicyCheck(_ table: StoredTable, tenantOverride: String) async throws {
        try await insertRawForPolicyCheck(table: table, tenant: tenantOverride)
    }
}

@Suite("Change tracking for recently read rows")
struct ChangeTrackingTests {
    @Test("a write marks the tables it touched and the keys it noted, for its tenant only, once it ends", arguments: TestEngine.available)
    func writesMarkKeys(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let a = uniqueTenant("alpha"), b = uniqueTenant("beta")
            let before = database.changeSequence
            let customerId = try await database.write(tenant: a, now: fixedNow) { t in
                let id = try await t.insertCustomer(sampleCustomer("C-\(a)"))
                // Not yet visible while the transaction runs.
                #expect(!database.hasChanged(["table:customers"], tenant: a, since: before))
                return id
            }
            #expect(database.hasChanged(["table:customers"], tenant: a, since: before))
            #expect(!database.hasChanged(["table:customers"], tenant: b, since: before))
            #expect(!database.hasChanged(["table:invoices", "customer:\(customerId)"], tenant: a, since: before))

            let afterInsert = database.changeSequence
            var customer = try #require(try await database.read(tenant: a, now: fixedNow) { try await $0.customer(id: customerId) })
            customer.email = "nuova@example.it"
            let edited = customer
            try await database.write(tenant: a, now: fixedNow) { try await $0.updateCustomer(edited) }
            #expect(database.hasChanged(["customer:\(customerId)"], tenant: a, since: afterInsert))
            #expect(!database.hasChanged(["customer:\(customerId + 1)", "user:\(customerId)"], tenant: a, since: afterInsert))
            #expect(!database.hasChanged(["customer:\(customerId)"], tenant: a, since: database.changeSequence))
        }
    }

    @Test("a write that fails still counts as a change (readers that overlapped it read again)", arguments: TestEngine.available)
    func failedWritesCount(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = uniqueTenant("alpha")
            let before = database.changeSequence
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await database.write(tenant: tenant, now: fixedNow) { t in
                    t.invalidate("user:7")
                    throw Abort()
                }
            }
            #expect(database.hasChanged(["user:7"], tenant: tenant, since: before))
        }
    }
}

@Suite("Password hashing threads")
struct PasswordHashingThreadTests {
    #if os(Linux)
    @Test("bcrypt runs on threads of the idle scheduling class, so requests always go first")
    func hashingThreadsGiveWay() async throws {
        let hasher = BcryptPasswordHasher(cost: 4)
        _ = try await hasher.hash("Sportello2026!")
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")
        let policies = tasks.compactMap { task -> Int? in
            guard let stat = try? String(contentsOfFile: "/proc/self/task/\(task)/stat", encoding: .utf8),
                  let end = stat.lastIndex(of: ")") else { return nil }
            // Fields after the command name start at field 3 (state); the scheduling policy is field 41.
            let fields = stat[stat.index(after: end)...].split(separator: " ")
            return fields.count > 38 ? Int(fields[38]) : nil
        }
        let idle = 5  // SCHED_IDLE
        #expect(policies.filter { $0 == idle }.count == max(1, ProcessInfo.processInfo.activeProcessorCount - 1))
        #expect(policies.contains(0), "the other threads keep the normal policy")
    }
    #endif
}

@Suite("Sealed values (PIN and PUK)")
struct SealedValuesTests {
    @Test("sealing round-trips, hides the value, refuses another key and reads values stored before sealing as they are")
    func sealing() throws {
        let sealer = FieldSealer(key: SymmetricKey(size: .bits256))
        let sealed = try sealer.seal("12345678")
        #expect(sealed.hasPrefix("sealed:v1:") && !sealed.contains("12345678"))
        #expect(try sealer.seal("12345678") != sealed, "a fresh nonce every time")
        #expect(try sealer.open(sealed) == "12345678")
        #expect(try sealer.open("1234") == "1234")
        #expect(throws: (any Error).self) { try FieldSealer(key: SymmetricKey(size: .bits256)).open(sealed) }
    }

    @Test("a SIM's codes are stored sealed and read in clear; the key is a file of its own, readable by its owner only",
          arguments: TestEngine.available)
    func storedSealed(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = uniqueTenant("windtre")
            let (customer, line) = try await database.write(tenant: tenant, now: fixedNow) { t in
                let customer = try await t.insertCustomer(sampleCustomer("C-\(tenant)"))
                let contract = try await t.insertContract(ContractRecord(customerId: customer, code: "K1", offer: "Offerta", kind: "mobile", startsOn: "2024-01-01"))
                let line = try await t.insertLine(LineRecord(customerId: customer, contractId: contract, kind: "sim", identifier: "3331234567"))
                try await t.setSimDetails(lineId: line, customerId: customer, iccid: "8939880000000000001", pin: "4321", puk: "87654321")
                return (customer, line)
            }
            try await database.read(tenant: tenant, now: fixedNow) { t in
                let stored = try #require(try await t.first(t.select(.lines).columns(["pin", "puk"]).where("id", .equal, line), as: SimCodes.self))
                #expect(stored.pin?.hasPrefix("sealed:v1:") == true && stored.puk?.hasPrefix("sealed:v1:") == true)
                #expect(stored.pin?.contains("4321") == false && stored.puk?.contains("87654321") == false)
                #expect(try await t.simCodes(lineId: line, customerId: customer) == SimCodes(pin: "4321", puk: "87654321"))
            }
            if case .sqlite(let path) = database.location, ProcessInfo.processInfo.environment["SPORTELLO_DATA_KEY"] == nil {
                let attributes = try FileManager.default.attributesOfItem(atPath: path + ".key")
                #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            }
        }
    }
}
