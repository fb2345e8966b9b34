import Foundation
import Testing
@_spi(Testing) @testable import SportelloStore
@testable import SportelloCore

/// The portal's storage with the record kinds' module, listed once whether or not the portal lists it already.
let recordStorageModules: [StorageModule] = allStorageModules.contains { $0.id == StorageModule.tenantRecords.id }
    ? allStorageModules : allStorageModules + [.tenantRecords]

/// The engines the record kinds' storage is tested on: PostgreSQL only once the portal lists the module, so that
/// its schema step does not enter the shared PostgreSQL test database that other suites open with the portal's
/// own modules (they would find a migration they do not know).
let recordEngines: [TestEngine] = allStorageModules.contains { $0.id == StorageModule.tenantRecords.id } ? TestEngine.available : [.sqlite]

/// Opens and migrates a database with the record kinds' tables, runs `body`, closes it.
func withRecordDatabase<T>(_ engine: TestEngine, _ body: (Database) async throws -> T) async throws -> T {
    let database = try await openTestDatabase(try engine.location(), modules: recordStorageModules)
    do {
        do { _ = try await database.migrate() } catch { _ = try await database.migrate() }
        let result = try await body(database)
        await database.close()
        return result
    } catch {
        await database.close()
        throw error
    }
}

/// A draft of `kind` with values typed as a person would, validated by the kind's fields.
func draft(_ tenant: TenantDefinition, _ kind: String, customer: Int64, owner: Int64? = nil, user: Int64? = nil,
           _ entered: [String: String]) throws -> TenantRecordDraft {
    let definition = try #require(tenant.records?[kind])
    let context = FieldContext(locale: "en", defaultLocale: "it", today: CalendarDay(instant: fixedNow))
    let values = try definition.validate(entered, in: context).get()
    return try #require(TenantRecordDraft(kind: kind, of: definition, values: values, customerId: customer, ownerRecordId: owner, userId: user))
}

@Suite("Record kinds: storage fenced by tenant, customer and scope; filters, charts, retention")
struct TenantRecordStorageTests {
    @Test("a record of customer A is never found for customer B, nor in another tenant", arguments: recordEngines)
    func fencedByCustomerAndTenant(engine: TestEngine) async throws {
        try await withRecordDatabase(engine) { database in
            let a = try fleetTenant("fleet-a"), b = renamed(a, to: uniqueTenant("fleet-b"))
            let (first, second, firstRecord, secondRecord) = try await database.write(tenant: a.id, now: fixedNow) { (t) async throws in
                let first = try await t.insertCustomer(sampleCustomer("A1", type: "privato"))
                let second = try await t.insertCustomer(sampleCustomer("A2", type: "privato"))
                let ids = try await t.upsertRecords([
                    try draft(a, "vehicles", customer: first, ["plate": "AB123CD", "fuel": "petrol"]),
                    try draft(a, "vehicles", customer: first, ["plate": "FG456HL"]),
                    try draft(a, "vehicles", customer: second, ["plate": "GH789JK"]),
                ])
                return (first, second, ids[0], ids[2])
            }
            let other = try await database.write(tenant: b.id, now: fixedNow) { (t) async throws in
                let customer = try await t.insertCustomer(sampleCustomer("B1", type: "privato"))
                // The same plate in another tenant is another record.
                try await t.upsertRecord(try draft(b, "vehicles", customer: customer, ["plate": "AB123CD"]))
                return customer
            }
            try await database.read(tenant: a.id, now: fixedNow) { (t) async throws in
                #expect(try await t.records(RecordQuery(kind: "vehicles", customerId: first)).items.map(\.externalId) == ["FG456HL", "AB123CD"])
                #expect(try await t.records(RecordQuery(kind: "vehicles", customerId: second)).items.map(\.externalId) == ["GH789JK"])
                #expect(try await t.record(id: firstRecord, customerId: first, kind: "vehicles")?.values == ["plate": "AB123CD", "fuel": "petrol"])
                #expect(try await t.record(id: secondRecord, customerId: first, kind: "vehicles") == nil)
                #expect(try await t.record(id: firstRecord, customerId: second, kind: "vehicles") == nil)
                #expect(try await t.record(id: firstRecord, customerId: first, kind: "maintenance") == nil)
                #expect(try await t.record(kind: "vehicles", externalId: "GH789JK", customerId: first) == nil)
                #expect(try await t.record(kind: "vehicles", externalId: "GH789JK", customerId: second)?.id == secondRecord)
                #expect(try await t.customers(withRecordOf: "vehicles", field: "plate", equalTo: "AB123CD") == [first])
                #expect(try await t.customers(withRecordOf: "vehicles", field: "plate", equalTo: "ab123cd").isEmpty)
                #expect(try await t.customers(withRecordOf: "maintenance", field: "plate", equalTo: "AB123CD").isEmpty)
                #expect(try await t.customer(first, hasRecordOf: "vehicles", field: "plate", equalTo: "AB123CD"))
                #expect(try await !t.customer(second, hasRecordOf: "vehicles", field: "plate", equalTo: "AB123CD"))
                #expect(try await !t.customer(first, hasRecordOf: "vehicles", field: "fuel", equalTo: "AB123CD"))
                if engine == .postgres {
                    // The wall behind the fence: a query that forgot its tenant still sees only this tenant's rows.
                    #expect(try await t.unfencedCountForPolicyCheck(.records) == 3)
                }
            }
            try await database.read(tenant: b.id, now: fixedNow) { (t) async throws in
                #expect(try await t.record(id: firstRecord, customerId: first, kind: "vehicles") == nil)
                #expect(try await t.records(RecordQuery(kind: "vehicles", customerId: first)) == RecordPage(items: [], total: 0))
                #expect(try await t.customers(withRecordOf: "vehicles", field: "plate", equalTo: "AB123CD") == [other])
                #expect(try await !t.customer(first, hasRecordOf: "vehicles", field: "plate", equalTo: "AB123CD"))
                if engine == .postgres { #expect(try await t.unfencedCountForPolicyCheck(.records) == 1) }
            }
        }
    }

    @Test("lists filter numbers as numbers and dates as days, cut at the visible window, page newest first, and narrow to a user or an owner",
          arguments: recordEngines)
    func listsFilterScopeAndPage(engine: TestEngine) async throws {
        try await withRecordDatabase(engine) { database in
            let tenant = try fleetTenant()
            try await database.write(tenant: tenant.id, now: fixedNow) { (t) async throws in
                let customer = try await t.insertCustomer(sampleCustomer("L1", type: "privato"))
                let anna = try await t.insertUser(UserRecord(customerId: customer, username: "anna", usernameKey: "anna", role: "admin", createdAt: fixedNow))
                let luca = try await t.insertUser(UserRecord(customerId: customer, username: "luca", usernameKey: "luca", role: "admin", createdAt: fixedNow))
                let ids = try await t.upsertRecords([
                    try draft(tenant, "vehicles", customer: customer, user: anna, ["plate": "AA111AA", "registered_on": "2024-01-10", "fuel": "petrol", "value": "9.50", "seats": "2"]),
                    try draft(tenant, "vehicles", customer: customer, user: luca, ["plate": "BB222BB", "registered_on": "2025-06-01", "fuel": "electric", "value": "10", "seats": "5"]),
                    try draft(tenant, "vehicles", customer: customer, user: anna, ["plate": "CC333CC", "registered_on": "2026-02-01", "fuel": "petrol", "value": "120", "seats": "9"]),
                    try draft(tenant, "vehicles", customer: customer, ["plate": "DD444DD", "fuel": "electric", "value": "-5", "seats": "12"]),
                ])
                try await t.upsertRecord(try draft(tenant, "maintenance", customer: customer, owner: ids[1], ["job": "J-1", "done_on": "2026-01-05"]))
                func plates(_ query: RecordQuery) async throws -> [String] { try await t.records(query).items.map(\.externalId) }
                func query(_ filters: [RecordFilter] = [], userId: Int64? = nil, from: CalendarDay? = nil, limit: Int = 25, offset: Int = 0) -> RecordQuery {
                    RecordQuery(kind: "vehicles", customerId: customer, userId: userId, filters: filters, visibleFrom: from, limit: limit, offset: offset)
                }
                // Newest first, the undated last.
                #expect(try await plates(query()) == ["CC333CC", "BB222BB", "AA111AA", "DD444DD"])
                #expect(try await plates(query([.equals(field: "fuel", value: "petrol")])) == ["CC333CC", "AA111AA"])
                // 9.50 ≤ value: "10.00" and "120.00" sort before "9.50" as text; as numbers they are above it.
                #expect(try await plates(query([.range(field: "value", min: .decimal(ScaledDecimal(units: 950, scale: 2)), max: nil)]))
                        == ["CC333CC", "BB222BB", "AA111AA"])
                #expect(try await plates(query([.range(field: "value", min: nil, max: .decimal(ScaledDecimal(units: 0, scale: 2)))])) == ["DD444DD"])
                #expect(try await plates(query([.range(field: "seats", min: .integer(5), max: .integer(10))])) == ["CC333CC", "BB222BB"])
                #expect(try await plates(query([.range(field: "registered_on", min: .date(CalendarDay(year: 2025, month: 1, day: 1)),
                                                       max: .date(CalendarDay(year: 2025, month: 12, day: 31)))])) == ["BB222BB"])
                #expect(try await plates(query([.equals(field: "fuel", value: "electric"), .range(field: "seats", min: .integer(6), max: nil)])) == ["DD444DD"])
                // Records dated before the window are hidden; undated ones are shown.
                #expect(try await plates(query(from: CalendarDay(year: 2025, month: 1, day: 1))) == ["CC333CC", "BB222BB", "DD444DD"])
                #expect(try await plates(query(userId: anna)) == ["CC333CC", "AA111AA"])
                let page = try await t.records(query(limit: 2, offset: 2))
                #expect(page.items.map(\.externalId) == ["AA111AA", "DD444DD"] && page.total == 4)
                #expect(try await t.records(query([.equals(field: "fuel", value: "petrol")], limit: 1)).total == 2)
                #expect(try await t.records(RecordQuery(kind: "maintenance", customerId: customer, ownerRecordId: ids[1])).items.map(\.externalId) == ["J-1"])
                #expect(try await t.records(RecordQuery(kind: "maintenance", customerId: customer, ownerRecordId: ids[0])).items.isEmpty)
                // A job with no user of its own is its vehicle's user's.
                #expect(try await t.records(RecordQuery(kind: "maintenance", customerId: customer, userId: luca)).items.map(\.externalId) == ["J-1"])
                #expect(try await t.record(id: ids[1], customerId: customer, kind: "vehicles", userId: anna) == nil)
                #expect(try await t.record(id: ids[1], customerId: customer, kind: "vehicles", userId: luca)?.date == "2025-06-01")
                // Deleting a user leaves their records with the customer, unassigned.
                try await t.releaseRecords(ofUser: anna)
                #expect(try await plates(query(userId: anna)).isEmpty)
                #expect(try await plates(query()).count == 4)
            }
        }
    }

    @Test("an upsert replaces the record in full and keeps its creation time; records never move between customers, nor take another customer's owner or user",
          arguments: recordEngines)
    func upsertsReplaceAndRefuse(engine: TestEngine) async throws {
        try await withRecordDatabase(engine) { database in
            let tenant = try fleetTenant()
            let (first, second, vehicle) = try await database.write(tenant: tenant.id, now: fixedNow) { (t) async throws in
                let first = try await t.insertCustomer(sampleCustomer("U1", type: "privato"))
                let second = try await t.insertCustomer(sampleCustomer("U2", type: "privato"))
                let vehicle = try await t.upsertRecord(try draft(tenant, "vehicles", customer: first,
                                                                 ["plate": "AB123CD", "fuel": "petrol", "value": "10", "registered_on": "2020-02-02"]))
                return (first, second, vehicle)
            }
            let later = fixedNow + 3600
            try await database.write(tenant: tenant.id, now: later) { (t) async throws in
                #expect(try await t.upsertRecord(try draft(tenant, "vehicles", customer: first, ["plate": "ab 123 cd", "seats": "4"])) == vehicle)
                let record = try #require(try await t.record(id: vehicle, customerId: first, kind: "vehicles"))
                #expect(record.values == ["plate": "AB123CD", "seats": "4"] && record.date == nil)
                #expect(record.createdAt == fixedNow && record.updatedAt == later)
            }
            await #expect(throws: StoreError.self) {
                try await database.write(tenant: tenant.id, now: later) { (t) async throws in
                    try await t.upsertRecord(try draft(tenant, "vehicles", customer: second, ["plate": "AB123CD"]))
                }
            }
            let refused = await #expect(throws: StoreError.self) {
                try await database.write(tenant: tenant.id, now: later) { (t) async throws in
                    try await t.upsertRecord(try draft(tenant, "maintenance", customer: second, owner: vehicle, ["job": "J-9"]))
                }
            }
            #expect(refused?.code == .invalidInput)
            let user = try await database.write(tenant: tenant.id, now: later) { (t) async throws in
                try await t.insertUser(UserRecord(customerId: second, username: "eva", usernameKey: "eva", role: "admin", createdAt: later))
            }
            await #expect(throws: StoreError.self) {
                try await database.write(tenant: tenant.id, now: later) { (t) async throws in
                    try await t.upsertRecord(try draft(tenant, "vehicles", customer: first, user: user, ["plate": "FG456HL"]))
                }
            }
            try await database.read(tenant: tenant.id) { (t) async throws in
                #expect(try await t.records(RecordQuery(kind: "vehicles", customerId: second)).total == 0)
                #expect(try await t.records(RecordQuery(kind: "maintenance", customerId: second)).total == 0)
                #expect(try await t.records(RecordQuery(kind: "vehicles", customerId: first)).items.map(\.externalId) == ["AB123CD"])
            }
        }
    }

    @Test("retention deletes records dated before delete_after with the records they own and every value", arguments: recordEngines)
    func retentionDeletesOwnedRecordsToo(engine: TestEngine) async throws {
        try await withRecordDatabase(engine) { database in
            let tenant = try fleetTenant()
            let customer = try await database.write(tenant: tenant.id, now: fixedNow) { (t) async throws in
                let customer = try await t.insertCustomer(sampleCustomer("R1", type: "privato"))
                let old = try await t.upsertRecord(try draft(tenant, "vehicles", customer: customer, ["plate": "AA111AA", "registered_on": "2010-05-05"]))
                let recent = try await t.upsertRecord(try draft(tenant, "vehicles", customer: customer, ["plate": "BB222BB", "registered_on": "2024-05-05"]))
                try await t.upsertRecord(try draft(tenant, "vehicles", customer: customer, ["plate": "CC333CC"]))
                try await t.upsertRecords([
                    try draft(tenant, "maintenance", customer: customer, owner: old, ["job": "J-1", "done_on": "2011-01-01", "cost": "10"]),
                    try draft(tenant, "maintenance", customer: customer, owner: old, ["job": "J-2", "done_on": "2025-01-01"]),
                    try draft(tenant, "maintenance", customer: customer, owner: recent, ["job": "J-3", "done_on": "2025-02-01"]),
                ])
                return customer
            }
            let deleted = try await database.write(tenant: tenant.id, now: fixedNow) { (t) async throws in
                try await t.deleteExpiredRecords(of: tenant, today: CalendarDay(instant: fixedNow))
            }
            #expect(deleted == ["vehicles": 3])
            try await database.read(tenant: tenant.id) { (t) async throws in
                #expect(try await t.records(RecordQuery(kind: "vehicles", customerId: customer)).items.map(\.externalId) == ["BB222BB", "CC333CC"])
                #expect(try await t.records(RecordQuery(kind: "maintenance", customerId: customer)).items.map(\.externalId) == ["J-3"])
                let counts = Dictionary(uniqueKeysWithValues: try await t.rowCounts())
                #expect(counts[.records] == 3 && counts[.recordFieldValues] == 2 + 1 + 2)
            }
        }
    }

    @Test("chart sums are exact per month or day, over the records the list shows", arguments: recordEngines)
    func chartSums(engine: TestEngine) async throws {
        try await withRecordDatabase(engine) { database in
            let tenant = try fleetTenant()
            let maintenance = try #require(tenant.records?["maintenance"])
            let vehicles = try #require(tenant.records?["vehicles"])
            try await database.write(tenant: tenant.id, now: fixedNow) { (t) async throws in
                let customer = try await t.insertCustomer(sampleCustomer("C1", type: "privato"))
                let other = try await t.insertCustomer(sampleCustomer("C2", type: "privato"))
                let user = try await t.insertUser(UserRecord(customerId: customer, username: "anna", usernameKey: "anna", role: "admin", createdAt: fixedNow))
                let car = try await t.upsertRecord(try draft(tenant, "vehicles", customer: customer, user: user,
                                                             ["plate": "AA111AA", "registered_on": "2026-01-10", "inspected_on": "2026-03-01", "value": "0.10", "seats": "4"]))
                try await t.upsertRecord(try draft(tenant, "vehicles", customer: customer,
                                                   ["plate": "BB222BB", "registered_on": "2026-01-20", "inspected_on": "2026-04-01", "value": "0.20", "seats": "5"]))
                let theirs = try await t.upsertRecord(try draft(tenant, "vehicles", customer: other, ["plate": "CC333CC", "registered_on": "2026-01-15", "value": "100"]))
                try await t.upsertRecords([
                    try draft(tenant, "maintenance", customer: customer, owner: car, ["job": "J-1", "done_on": "2026-01-05", "cost": "10.10", "km": "100"]),
                    try draft(tenant, "maintenance", customer: customer, owner: car, ["job": "J-2", "done_on": "2026-01-25", "cost": "20.20"]),
                    try draft(tenant, "maintenance", customer: customer, owner: car, ["job": "J-3", "done_on": "2026-02-03", "cost": "0.05", "km": "7"]),
                    try draft(tenant, "maintenance", customer: customer, owner: car, ["job": "J-4", "cost": "1000"]),
                    try draft(tenant, "maintenance", customer: other, owner: theirs, ["job": "J-5", "done_on": "2026-01-05", "cost": "99"]),
                ])
                let monthly = try await t.recordSums(RecordQuery(kind: "maintenance", customerId: customer), chart: try #require(maintenance.chart), of: maintenance)
                #expect(monthly == [
                    RecordSums(period: "2026-01", sums: ["cost": .decimal(ScaledDecimal(units: 3030, scale: 2)), "km": .integer(100)], count: 2),
                    RecordSums(period: "2026-02", sums: ["cost": .decimal(ScaledDecimal(units: 5, scale: 2)), "km": .integer(7)], count: 1),
                ])
                var daily = try #require(maintenance.chart)
                daily.period = .day
                let byDay = try await t.recordSums(RecordQuery(kind: "maintenance", customerId: customer,
                                                               filters: [.range(field: "done_on", min: .date(CalendarDay(year: 2026, month: 1, day: 20)), max: nil)]),
                                                   chart: daily, of: maintenance)
                #expect(byDay.map(\.period) == ["2026-01-25", "2026-02-03"] && byDay.first?.sums == ["cost": .decimal(ScaledDecimal(units: 2020, scale: 2))])
                // Along another date field than the kind's own, and only the user's records for the `own` scope.
                let alongInspection = RecordChart(kind: .bar, x: "inspected_on", series: [RecordChartSeries(field: "value")])
                #expect(try await t.recordSums(RecordQuery(kind: "vehicles", customerId: customer), chart: alongInspection, of: vehicles).map(\.period)
                        == ["2026-03", "2026-04"])
                let own = try await t.recordSums(RecordQuery(kind: "vehicles", customerId: customer, userId: user), chart: try #require(vehicles.chart), of: vehicles)
                #expect(own == [RecordSums(period: "2026-01", sums: ["value": .decimal(ScaledDecimal(units: 10, scale: 2)), "seats": .integer(4)], count: 1)])
            }
        }
    }
}

@Suite("Record kinds: import of each kind and of customers' own fields")
struct TenantRecordImportTests {
    static let file = """
    {"type":"customer","external_id":"C-1","customer_type":"privato","customer_code":"P1","first_name":"Anna","last_name":"Rossi","fleet_code":"fl0001"}
    {"type":"customer","external_id":"C-2","customer_type":"privato","customer_code":"P2","first_name":"Luca","last_name":"Bianchi"}
    {"type":"maintenance","owner":"AB123CD","job":"J-1","done_on":"2026-01-05","cost":"12,50","km":1200}
    {"type":"vehicles","customer":"C-1","plate":"ab 123 cd","registered_on":"31/01/2020","fuel":"Benzina","value":"9.5","seats":5}
    {"type":"vehicles","customer":"C-2","plate":"FG456HL","fuel":"electric"}
    """

    func counts(_ database: Database, _ tenant: String) async throws -> [StoredTable: Int] {
        try await database.read(tenant: tenant) { t in Dictionary(uniqueKeysWithValues: try await t.rowCounts()) }
    }

    @Test("JSON Lines import writes customers' own fields and records of every kind with their owners, and a second run changes nothing",
          arguments: recordEngines)
    func importIsIdempotent(engine: TestEngine) async throws {
        try await withRecordDatabase(engine) { database in
            let tenant = try fleetTenant()
            let importer = Importer(database: database, tenant: tenant)
            let report = try await importer.importData(Data(Self.file.utf8), format: .jsonLines, kind: nil, now: fixedNow)
            #expect(report.written[.customer] == 2 && report.written[.record("vehicles")] == 2 && report.written[.record("maintenance")] == 1)
            #expect(report.total == 5)
            let first = try await counts(database, tenant.id)
            #expect(first[.records] == 3 && first[.customerFieldValues] == 1)
            _ = try await importer.importData(Data(Self.file.utf8), format: .jsonLines, kind: nil, now: fixedNow + 60)
            #expect(try await counts(database, tenant.id) == first)
            try await database.read(tenant: tenant.id) { (t) async throws in
                let anna = try #require(try await t.customer(code: "P1")?.id)
                let luca = try #require(try await t.customer(code: "P2")?.id)
                #expect(try await t.customFieldValues(of: .customer(anna)) == ["fleet_code": "FL0001"])
                #expect(try await t.customFieldValues(of: .customer(luca)).isEmpty)
                let car = try #require(try await t.records(RecordQuery(kind: "vehicles", customerId: anna)).items.first)
                #expect(car.externalId == "AB123CD" && car.date == "2020-01-31")
                #expect(car.values == ["plate": "AB123CD", "registered_on": "2020-01-31", "fuel": "petrol", "value": "9.50", "seats": "5"])
                let job = try #require(try await t.records(RecordQuery(kind: "maintenance", customerId: anna)).items.first)
                #expect(job.ownerRecordId == car.id && job.customerId == anna && job.values["cost"] == "12.50")
                #expect(try await t.records(RecordQuery(kind: "vehicles", customerId: luca)).items.map(\.externalId) == ["FG456HL"])
                #expect(try await t.records(RecordQuery(kind: "maintenance", customerId: luca)).total == 0)
            }
        }
    }

    @Test("CSV rows of a kind take the kind from the file name or --kind, and may assign a record to one of its customer's users",
          arguments: recordEngines)
    func csvWithKindAndUser(engine: TestEngine) async throws {
        try await withRecordDatabase(engine) { database in
            let tenant = try fleetTenant()
            let importer = Importer(database: database, tenant: tenant)
            _ = try await importer.importData(Data(Self.file.utf8), format: .jsonLines, kind: nil, now: fixedNow)
            let (anna, user) = try await database.write(tenant: tenant.id, now: fixedNow) { (t) async throws in
                let anna = try #require(try await t.customer(code: "P1")?.id)
                let user = try await t.insertUser(UserRecord(customerId: anna, username: "anna.rossi", usernameKey: "anna.rossi", role: "admin", createdAt: fixedNow))
                return (anna, user)
            }
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let path = folder.appendingPathComponent("vehicles.csv").path
            try Data("customer;plate;fuel;value;user\nC-1;GH 789 JK;Elettrica;\"1.000,5\";anna.rossi\nC-1;KL012MN;;;\n".utf8).write(to: URL(fileURLWithPath: path))
            let rejected = await #expect(throws: ImportRejected.self) { _ = try await importer.importFile(at: path, now: fixedNow) }
            // "1.000,5" has a thousands separator, which a decimal field refuses.
            #expect(rejected?.problems.map(\.line) == [2])
            try Data("customer;plate;fuel;value;user\nC-1;GH 789 JK;Elettrica;1000,5;anna.rossi\nC-1;KL012MN;;;\n".utf8).write(to: URL(fileURLWithPath: path))
            let report = try await importer.importFile(at: path, now: fixedNow)
            #expect(report.written[.record("vehicles")] == 2 && report.total == 2)
            let other = folder.appendingPathComponent("flotta.csv").path
            try Data("owner,job,done_on\nGH789JK,J-7,2026-02-02\n".utf8).write(to: URL(fileURLWithPath: other))
            #expect(try await importer.importFile(at: other, kind: .record("maintenance"), now: fixedNow).written[.record("maintenance")] == 1)
            try await database.read(tenant: tenant.id) { (t) async throws in
                let mine = try await t.records(RecordQuery(kind: "vehicles", customerId: anna, userId: user)).items
                #expect(mine.map(\.externalId) == ["GH789JK"] && mine.first?.values["value"] == "1000.50")
                // A job inherits its vehicle's user.
                #expect(try await t.records(RecordQuery(kind: "maintenance", customerId: anna, userId: user)).items.map(\.externalId) == ["J-7"])
            }
        }
    }

    @Test("every bad row is reported on its line and nothing is written, records included", arguments: recordEngines)
    func badRowsWriteNothing(engine: TestEngine) async throws {
        try await withRecordDatabase(engine) { database in
            let tenant = try fleetTenant()
            let importer = Importer(database: database, tenant: tenant)
            let broken = Self.file
                .replacingOccurrences(of: "\"fleet_code\":\"fl0001\"", with: "\"fleet_code\":\"F1\"")
                .replacingOccurrences(of: "\"plate\":\"FG456HL\"", with: "\"plate\":\"FG456H\"")
                .replacingOccurrences(of: "\"km\":1200", with: "\"km\":-3")
                + "\n{\"type\":\"maintenance\",\"owner\":\"ZZ999ZZ\",\"job\":\"J-2\"}"
                + "\n{\"type\":\"vehicles\",\"customer\":\"C-9\",\"plate\":\"HH111HH\"}"
                + "\n{\"type\":\"vehicle\",\"customer\":\"C-1\",\"plate\":\"HH222HH\"}"
            let error = await #expect(throws: ImportRejected.self) {
                _ = try await importer.importData(Data(broken.utf8), format: .jsonLines, kind: nil, now: fixedNow)
            }
            #expect(error?.problems.map(\.description) == [
                "line 1: fleet_code 'F1': “Fleet code” is not in the expected format.",
                "line 3: km '-3': “Km” must be at least 0.",
                "line 5: plate 'FG456H': “Number plate” is not a valid number plate: two letters, three digits, two letters, for example AB123CD.",
                "line 8: unknown type 'vehicle' (expected one of customer, contract, line, invoice, payment, usage, recharge, vehicles, maintenance) (did you mean 'vehicles'?)",
            ])
            // The references are checked once the rows are valid: nothing of them is written either.
            let unresolved = Self.file + "\n{\"type\":\"maintenance\",\"owner\":\"ZZ999ZZ\",\"job\":\"J-2\"}"
                + "\n{\"type\":\"vehicles\",\"customer\":\"C-9\",\"plate\":\"HH111HH\"}"
                + "\n{\"type\":\"vehicles\",\"customer\":\"C-1\",\"plate\":\"HH222HH\",\"user\":\"nobody\"}"
            let references = await #expect(throws: ImportRejected.self) {
                _ = try await importer.importData(Data(unresolved.utf8), format: .jsonLines, kind: nil, now: fixedNow)
            }
            #expect(references?.problems.map(\.description) == [
                "line 6: vehicles record 'ZZ999ZZ' does not exist (neither in this file nor already imported)",
                "line 7: customer 'C-9' does not exist (neither in this file nor already imported)",
                "line 8: user 'nobody' is not a user of the record's customer",
            ])
            #expect(try await counts(database, tenant.id).values.allSatisfy { $0 == 0 })
            // A record imported for one customer is not taken over by another one's row.
            _ = try await importer.importData(Data(Self.file.utf8), format: .jsonLines, kind: nil, now: fixedNow)
            let before = try await counts(database, tenant.id)
            let move = await #expect(throws: ImportRejected.self) {
                _ = try await importer.importData(Data("{\"type\":\"vehicles\",\"customer\":\"C-2\",\"plate\":\"AB123CD\"}".utf8),
                                                  format: .jsonLines, kind: nil, now: fixedNow)
            }
            #expect(move?.problems.map(\.description) == ["line 1: vehicles record 'AB123CD' already belongs to another customer: a record cannot move between customers"])
            #expect(try await counts(database, tenant.id) == before)
        }
    }
}

@Suite("Record kinds: demo data")
struct TenantRecordDemoTests {
    static let now = CalendarDay(year: 2026, month: 11, day: 21).startInstant + 12 * 3600

    /// Every demo customer's records: (customer code, kind, external id, owner's external id, values).
    func demoRecords(_ database: Database, _ tenant: TenantDefinition) async throws -> [String] {
        try await database.read(tenant: tenant.id) { (t) async throws in
            var lines: [String] = []
            for customer in try await t.customers() {
                guard let id = customer.id else { continue }
                for kind in tenant.recordKindsOwnersFirst {
                    let page = try await t.records(RecordQuery(kind: kind, customerId: id, limit: 1000))
                    for record in page.items {
                        var owner = "-"
                        if let ownerId = record.ownerRecordId { owner = try await t.record(id: ownerId, customerId: id, kind: "vehicles")?.externalId ?? "?" }
                        lines.append("\(customer.customerCode) \(kind) \(record.externalId) \(owner) \(record.values.sorted { $0.key < $1.key })")
                    }
                }
            }
            return lines
        }
    }

    @Test("every demo customer gets records of every kind, owned ones under their owners, with values that pass their fields, dated over the last months")
    func demoRecordsFollowTheDefinition() async throws {
        try await withRecordDatabase(.sqlite) { database in
            let tenant = try fleetTenant()
            _ = try await DemoDataGenerator(tenant: tenant, now: Self.now, hasher: BcryptPasswordHasher(cost: 4)).generate(into: database)
            let today = CalendarDay(instant: Self.now)
            let context = FieldContext(locale: "en", defaultLocale: "it", today: today)
            try await database.read(tenant: tenant.id) { (t) async throws in
                let customers = try await t.customers()
                #expect(customers.count == 3)
                var months = Set<String>()
                var assigned = 0
                for customer in customers {
                    let id = try #require(customer.id)
                    let vehicles = try await t.records(RecordQuery(kind: "vehicles", customerId: id, limit: 100)).items
                    #expect((4...7).contains(vehicles.count))
                    for vehicle in vehicles {
                        let definition = try #require(tenant.records?["vehicles"])
                        #expect(throws: Never.self) { try definition.validate(vehicle.values, in: context).get() }
                        #expect(vehicle.date.flatMap(CalendarDay.init).map { $0 > today.adding(months: -13) && $0 <= today } == true)
                        months.insert(String(vehicle.date?.prefix(7) ?? ""))
                        if vehicle.userId != nil { assigned += 1 }
                        let jobs = try await t.records(RecordQuery(kind: "maintenance", customerId: id, ownerRecordId: vehicle.id, limit: 100)).items
                        #expect((3...6).contains(jobs.count))
                        #expect(jobs.allSatisfy { $0.userId == vehicle.userId && $0.customerId == id })
                        for job in jobs {
                            #expect(throws: Never.self) { try #require(tenant.records?["maintenance"]).validate(job.values, in: context).get() }
                        }
                    }
                }
                #expect(months.count >= 4)
                #expect(assigned > 0)
                let sums = try await t.recordSums(RecordQuery(kind: "maintenance", customerId: try #require(customers.first?.id)),
                                                  chart: try #require(tenant.records?["maintenance"]?.chart), of: try #require(tenant.records?["maintenance"]))
                #expect(sums.count >= 3)
            }
        }
    }

    @Test("the same seed gives the same records")
    func demoRecordsAreDeterministic() async throws {
        let tenant = try fleetTenant()
        var runs: [[String]] = []
        for _ in 0..<2 {
            runs.append(try await withRecordDatabase(.sqlite) { database in
                _ = try await DemoDataGenerator(tenant: tenant, now: Self.now, hasher: BcryptPasswordHasher(cost: 4)).generate(into: database)
                return try await demoRecords(database, tenant)
            })
        }
        #expect(!runs[0].isEmpty)
        #expect(runs[0] == runs[1])
    }
}
