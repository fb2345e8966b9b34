import Foundation
import Testing
import SportelloCore
@testable import SportelloStore

@Suite("Import")
struct ImportTests {
    static let jsonLines = """
    {"type":"customer","external_id":"CUST-1","customer_type":"business","customer_code":"U000001","company_name":"Rossi Impianti S.r.l.","vat_number":"07643520567","email":"info@rossi.example","postal_code":"00184"}
    {"type":"contract","external_id":"CTR-1","customer":"CUST-1","code":"K-1","offer":"Fibra Business","kind":"fixed","starts_on":"2023-04-01"}

    {"type":"line","external_id":"LIN-1","contract":"CTR-1","kind":"sim","identifier":"3351234567"}
    {"type":"invoice","external_id":"INV-1","customer":"CUST-1","contract":"CTR-1","number":"2026/0001","issued_on":"2026-10-05","due_on":"2026-10-30","net_cents":10000,"tax_cents":2200,"total_cents":12200,"status":"unpaid"}
    {"type":"usage","external_id":"USG-1","line":"LIN-1","started_at":"2026-11-20T10:15:00+01:00","kind":"call","counterpart":"3401112222","duration_seconds":125,"cost_cents":0}
    {"type":"usage","external_id":"USG-2","line":"LIN-1","started_at":"2026-11-20 18:00:00","kind":"data","volume_bytes":52428800}
    {"type":"recharge","external_id":"RIC-1","line":"LIN-1","recharged_at":1795000000,"amount_cents":1500,"channel":"app"}
    {"type":"payment","external_id":"PAY-1","customer":"CUST-1","invoice":"INV-1","paid_on":"2026-10-28","amount_cents":12200,"method":"sepa"}
    """

    func counts(_ database: Database, _ tenant: String) async throws -> [StoredTable: Int] {
        try await database.read(tenant: tenant) { t in Dictionary(uniqueKeysWithValues: try await t.rowCounts()) }
    }

    @Test("JSON Lines import writes every kind, and importing it again changes nothing", arguments: TestEngine.available)
    func idempotentJSONLines(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = renamed(try provider("unidata"), to: uniqueTenant("unidata"))
            let importer = Importer(database: database, tenant: tenant)
            let report = try await importer.importData(Data(Self.jsonLines.utf8), format: .jsonLines, kind: nil, now: fixedNow)
            #expect(report.total == 8)
            let first = try await counts(database, tenant.id)
            #expect(first[.customers] == 1 && first[.usageRecords] == 2 && first[.recharges] == 1 && first[.payments] == 1)
            let changed = Self.jsonLines.replacingOccurrences(of: "Rossi Impianti S.r.l.", with: "Rossi Impianti S.p.A.")
            _ = try await importer.importData(Data(changed.utf8), format: .jsonLines, kind: nil, now: fixedNow)
            #expect(try await counts(database, tenant.id) == first)
            let customer = try await database.read(tenant: tenant.id) { try await $0.customer(code: "U000001") }
            #expect(customer?.companyName == "Rossi Impianti S.p.A.")
            let usage = try await database.read(tenant: tenant.id, now: fixedNow) { t in
                let customerId = try #require(customer?.id)
                let line = try #require(try await t.lines(customerId: customerId).first?.id)
                return try await t.usage(UsageQuery(lineId: line), windows: VisibilityWindows(tenant: tenant))
            }
            // 10:15 at +01:00 is 09:15 UTC; 18:00 without an offset is Italian time (CET in November).
            #expect(usage.items.map(\.startedAt).sorted() == [1_795_166_100, 1_795_194_000])
        }
    }

    @Test("CSV with quotes, semicolons and the kind from the file name", arguments: TestEngine.available)
    func csvImport(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = renamed(try provider("tunda"), to: uniqueTenant("tunda"))
            let csv = """
            external_id;customer_type;customer_code;company_name;vat_number;street
            T-1;business;TU-1;"Bianchi; Figli S.n.c.";00743110157;"Via Roma 1
            scala B"
            T-2;private;TU-2;;;Corso Italia 3
            """
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let path = folder.appendingPathComponent("customers.csv").path
            try Data(csv.utf8).write(to: URL(fileURLWithPath: path))
            let error = await #expect(throws: ImportRejected.self) {
                _ = try await Importer(database: database, tenant: tenant).importFile(at: path, now: fixedNow)
            }
            // Line 4, not 3: the quoted street spans two physical lines.
            #expect(error?.problems == [ImportProblem(line: 4, message: "a customer needs company_name, or first_name and last_name")])
            try Data(csv.replacingOccurrences(of: "TU-2;;;", with: "TU-2;;;").replacingOccurrences(of: "T-2;private;TU-2;;;Corso Italia 3", with: "T-2;private;TU-2;Verdi Anna;;Corso Italia 3").utf8)
                .write(to: URL(fileURLWithPath: path))
            let report = try await Importer(database: database, tenant: tenant).importFile(at: path, now: fixedNow)
            #expect(report.written[.customer] == 2)
            let customer = try await database.read(tenant: tenant.id) { try await $0.customer(code: "TU-1") }
            #expect(customer?.companyName == "Bianchi; Figli S.n.c.")
            #expect(customer?.street == "Via Roma 1\nscala B")
        }
    }

    @Test("every bad line is reported with its number and nothing is written", arguments: TestEngine.available)
    func badLinesWriteNothing(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = renamed(try provider("unidata"), to: uniqueTenant("unidata"))
            let broken = Self.jsonLines
                .replacingOccurrences(of: "\"07643520567\"", with: "\"07643520568\"")
                .replacingOccurrences(of: "\"duration_seconds\":125", with: "\"duraton_seconds\":125")
                .replacingOccurrences(of: "\"net_cents\":10000", with: "\"net_cents\":\"cento\"")
                + "\n{not json}\n{\"type\":\"sim\"}"
            let error = await #expect(throws: ImportRejected.self) {
                _ = try await Importer(database: database, tenant: tenant).importData(Data(broken.utf8), format: .jsonLines, kind: nil, now: fixedNow)
            }
            let problems = try #require(error?.problems)
            #expect(problems.map(\.line) == [1, 5, 6, 10, 11])
            #expect(problems[0].message.contains("not a valid partita IVA"))
            #expect(problems[1].message.contains("net_cents 'cento' is not a whole number"))
            #expect(problems.contains { $0.line == 6 && $0.message == "unknown field 'duraton_seconds' for a usage (did you mean 'duration_seconds'?)" })
            #expect(problems.last?.message.hasPrefix("unknown type 'sim'") == true)
            #expect(try await counts(database, tenant.id).values.allSatisfy { $0 == 0 })
        }
    }

    @Test("an unknown status is reported on its line with the statuses allowed, and nothing is written", arguments: TestEngine.available)
    func unknownStatus(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = renamed(try provider("unidata"), to: uniqueTenant("unidata"))
            let broken = Self.jsonLines
                .replacingOccurrences(of: "\"status\":\"unpaid\"", with: "\"status\":\"pagata\"")
                .replacingOccurrences(of: "\"channel\":\"app\"", with: "\"channel\":\"app\",\"status\":\"ok\"")
            let error = await #expect(throws: ImportRejected.self) {
                _ = try await Importer(database: database, tenant: tenant).importData(Data(broken.utf8), format: .jsonLines, kind: nil, now: fixedNow)
            }
            let problems = try #require(error?.problems)
            #expect(problems.map(\.line) == [5, 8])
            #expect(problems.first?.message == "status 'pagata' is not one of paid, unpaid, overdue, partially_paid")
            #expect(problems.last?.message == "status 'ok' is not one of completed, pending, failed")
            #expect(try await counts(database, tenant.id).values.allSatisfy { $0 == 0 })
        }
    }

    @Test("a reference to a record that exists nowhere rolls back the whole batch", arguments: TestEngine.available)
    func unresolvedReferenceRollsBack(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = renamed(try provider("unidata"), to: uniqueTenant("unidata"))
            let file = Self.jsonLines.replacingOccurrences(of: "\"line\":\"LIN-1\",\"started_at\":\"2026-11-20 18", with: "\"line\":\"LIN-9\",\"started_at\":\"2026-11-20 18")
            let error = await #expect(throws: ImportRejected.self) {
                _ = try await Importer(database: database, tenant: tenant).importData(Data(file.utf8), format: .jsonLines, kind: nil, now: fixedNow)
            }
            #expect(error?.problems == [ImportProblem(line: 7, message: "line 'LIN-9' does not exist (neither in this file nor already imported)")])
            #expect(try await counts(database, tenant.id).values.allSatisfy { $0 == 0 }, "customers written before the failure were rolled back")
        }
    }

    @Test("rows beyond one statement go in several; a statement failing after others ran leaves nothing written", arguments: TestEngine.available)
    func multiStatementWritesAreAllOrNothing(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = renamed(try provider("unidata"), to: uniqueTenant("unidata"))
            _ = try await Importer(database: database, tenant: tenant).importData(Data(Self.jsonLines.utf8), format: .jsonLines, kind: nil, now: fixedNow)
            let (customerId, lineId) = try await database.read(tenant: tenant.id) { t in
                let customer = try #require(try await t.customer(code: "U000001")?.id)
                return (customer, try #require(try await t.lines(customerId: customer).first?.id))
            }
            func rows(_ prefix: String, _ count: Int) -> [UsageRecord] {
                (0..<count).map { UsageRecord(externalId: "\(prefix)-\($0)", customerId: customerId, lineId: lineId, startedAt: fixedNow - Int64($0),
                                              kind: "call", durationSeconds: 60) }
            }
            // Several statements (the bind limit allows about two thousand usage rows in one), all written.
            let first = rows("OK", 5_000), later = rows("LATER", 3)
            try await database.write(tenant: tenant.id, now: fixedNow) { try await $0.insertMany(.usageRecords, first) }
            #expect(try await counts(database, tenant.id)[.usageRecords] == 5_002)
            // The last statement repeats an external id: the ones before it ran, and are rolled back with it.
            let clashing = rows("NEW", 4_500) + [UsageRecord(externalId: "OK-1", customerId: customerId, lineId: lineId, startedAt: fixedNow, kind: "call", durationSeconds: 1)]
            await #expect(throws: (any Error).self) {
                try await database.write(tenant: tenant.id, now: fixedNow) { try await $0.insertMany(.usageRecords, clashing) }
            }
            #expect(try await counts(database, tenant.id)[.usageRecords] == 5_002)
            // The database is usable afterwards (nothing left running on the connection).
            try await database.write(tenant: tenant.id, now: fixedNow) { try await $0.insertMany(.usageRecords, later) }
            #expect(try await counts(database, tenant.id)[.usageRecords] == 5_005)
        }
    }

    @Test("an import cannot reach another tenant's records by external id", arguments: TestEngine.available)
    func referencesAreFenced(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let owner = renamed(try provider("unidata"), to: uniqueTenant("unidata"))
            let intruder = renamed(try provider("unidata"), to: uniqueTenant("unidata"))
            _ = try await Importer(database: database, tenant: owner).importData(Data(Self.jsonLines.utf8), format: .jsonLines, kind: nil, now: fixedNow)
            let usageOnly = #"{"type":"usage","external_id":"X-1","line":"LIN-1","started_at":1795000000,"kind":"sms"}"#
            let error = await #expect(throws: ImportRejected.self) {
                _ = try await Importer(database: database, tenant: intruder).importData(Data(usageOnly.utf8), format: .jsonLines, kind: nil, now: fixedNow)
            }
            #expect(error?.problems.first?.message.contains("'LIN-1' does not exist") == true)
        }
    }
}

@Suite("Demo data")
struct DemoDataTests {
    @Test("every tenant gets customers of every type, users for every role and data inside and outside its windows", arguments: TestEngine.available)
    func demoForEveryTenant(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            for providerId in ["unidata", "unogas", "tunda", "windtre", "tim"] {
                let tenant = renamed(try provider(providerId), to: uniqueTenant(providerId))
                let summary = try await DemoDataGenerator(tenant: tenant, now: fixedNow, hasher: BcryptPasswordHasher(cost: 4)).generate(into: database)
                let counts = Dictionary(uniqueKeysWithValues: summary.counts)
                #expect(counts[.customers] == tenant.customerTypes.count * 3)
                let rolesWithUsers = Set(summary.logins.map(\.role))
                #expect(rolesWithUsers == Set(tenant.roles.keys), "\(providerId): a login for every role")
                #expect((counts[.requests] ?? 0) > 0 && (counts[.invoices] ?? 0) >= (providerId == "tunda" ? 2 : 30))
                try await database.read(tenant: tenant.id, now: fixedNow) { t in
                    for customer in try await t.customers() {
                        if let taxCode = customer.taxCode { #expect(ItalianIdentifiers.isValidCodiceFiscale(taxCode), "\(taxCode)") }
                        if let vat = customer.vatNumber { #expect(ItalianIdentifiers.isValidPartitaIVA(vat), "\(vat)") }
                        if let iban = customer.iban { #expect(ItalianIdentifiers.isValidIBAN(iban)) }
                        let all = try await t.invoices(customerId: customer.id!, windows: VisibilityWindows(tenant: try provider("tunda")))
                        if providerId == "tunda" {
                            #expect((2...3).contains(all.count), "hosting plans are sold by the year: one invoice a year")
                        } else {
                            #expect(all.count == 31, "30 months back and this month")
                        }
                        let requests = try await t.requests(customerId: customer.id!)
                        #expect(requests.contains { $0.closedAt == nil } && requests.contains { $0.closedAt != nil }, "open and closed requests")
                    }
                    if providerId == "unidata" || providerId == "windtre" {
                        let first = try #require(try await t.customers().first)
                        let visible = try await t.invoices(customerId: first.id!, windows: VisibilityWindows(tenant: tenant))
                        #expect(visible.count == 24, "the 24-month window shows fewer invoices than exist")
                    }
                }
                let user = try #require(summary.logins.first)
                let stored = try await database.read(tenant: tenant.id) { t in
                    try await t.user(usernameKey: tenant.login.caseSensitive ? user.username : user.username.lowercased())
                }
                #expect(try await BcryptPasswordHasher().verify(DemoDataGenerator.password, against: try #require(stored?.passwordHash)))
            }
        }
    }
}
