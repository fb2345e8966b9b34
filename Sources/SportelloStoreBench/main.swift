// sportello-store-bench: storage figures on SQLite and PostgreSQL, in one run.
//
//   sportello-store-bench [--rows N] [--import-rows N] [--postgres URL] [--sqlite PATH]
//
// For each engine: fills a tenant with N usage rows (default 10 million) spread over 1,000 lines and
// a year, then times the 180-day call detail of one line (first page, newest first, Unidata's window)
// against a trivial query on the same connection (the baseline), prints p50/p95/p99 and the query plan;
// then imports a JSON Lines file of M usage rows (default 1 million) through `sportello import`'s code.
// Prints "target met"/"target missed"; asserts nothing.
import Foundation
import SportelloCore
import SportelloWeb
@_spi(Testing) import SportelloStore

var usageRows = 10_000_000
var importRows = 1_000_000
var postgresURL = ProcessInfo.processInfo.environment["SPORTELLO_TEST_POSTGRES_URL"]
var sqlitePath = FileManager.default.temporaryDirectory.appendingPathComponent("sportello-bench-\(getpid()).sqlite").path
do {
    var arguments = CommandLine.arguments.dropFirst()
    while let argument = arguments.popFirst() {
        switch argument {
        case "--rows": usageRows = Int(arguments.popFirst() ?? "") ?? usageRows
        case "--import-rows": importRows = Int(arguments.popFirst() ?? "") ?? importRows
        case "--postgres": postgresURL = arguments.popFirst()
        case "--sqlite": sqlitePath = arguments.popFirst() ?? sqlitePath
        default: print("unknown argument \(argument)"); exit(2)
        }
    }
}

/// Unbuffered output, so figures printed before a failure are not lost.
func print(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }
func f(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }
func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e3 + Double(duration.components.attoseconds) / 1e15
}
func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

let clock = ContinuousClock()
let now = Int64(Date().timeIntervalSince1970)
let unidata: TenantDefinition = {
    let files = (try? TenantLoader.definitionFiles(in: ["tenants"])) ?? []
    guard let tenant = TenantLoader(capabilities: PortalModules.capabilities, plugins: PluginCatalogue.load(directory: "plugins")).load(files: files).tenants.first(where: { $0.definition.id == "unidata" })?.definition else {
        print("run from the repository root (tenants/unidata.yaml and plugins/ are needed)"); exit(2)
    }
    return tenant
}()
let windows = VisibilityWindows(tenant: unidata)

/// Writes `rows` usage lines for the lines `BENCH-L0…` as JSON Lines; returns the file's path.
func writeImportFile(rows: Int, lines: Int) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("sportello-import-\(getpid()).jsonl").path
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    var chunk = ""
    chunk.reserveCapacity(1 << 20)
    for n in 0..<rows {
        let kind = ["call", "sms", "data", "call"][n % 4]
        chunk += #"{"type":"usage","external_id":"IMP-\#(n)","line":"BENCH-L\#(n % lines)","started_at":\#(now - Int64(n % 15_000_000)),"kind":"\#(kind)","counterpart":"3401234567","duration_seconds":\#(n % 900),"cost_cents":\#(n % 40)}"# + "\n"
        if chunk.utf8.count > 1 << 20 {
            handle.write(Data(chunk.utf8))
            chunk.removeAll(keepingCapacity: true)
        }
    }
    handle.write(Data(chunk.utf8))
    try handle.close()
    return path
}

@MainActor
func bench(_ location: DatabaseLocation, label: String) async throws {
    print("\n== \(label): \(location)")
    let database = try await Database.open(location, modules: PortalModules.storage)
    _ = try await database.migrate()
    let tenant = "bench-\(getpid())"
    let lineCount = 1_000

    let setup = try await database.write(tenant: tenant, now: now) { t -> (customer: Int64, lines: ClosedRange<Int64>) in
        let customer = try await t.insertCustomer(CustomerRecord(externalId: "BENCH-C", customerType: "business", customerCode: "BENCH",
                                                                  companyName: "Benchmark S.r.l.", createdAt: now))
        let contract = try await t.insertContract(ContractRecord(externalId: "BENCH-K", customerId: customer, code: "BENCH", offer: "Bench", kind: "mobile", startsOn: "2020-01-01"))
        var ids: [Int64] = []
        for index in 0..<lineCount {
            ids.append(try await t.insertLine(LineRecord(externalId: "BENCH-L\(index)", customerId: customer, contractId: contract,
                                                         kind: "sim", identifier: "33\(String(format: "%08d", index))")))
        }
        guard let low = ids.min(), let high = ids.max(), high - low + 1 == Int64(lineCount) else {
            throw StoreError(.conflict, "line ids are not contiguous")
        }
        return (customer, low...high)
    }

    let fillStart = clock.now
    let perBatch = 1_000_000
    var generated = 0
    while generated < usageRows {
        let rows = min(perBatch, usageRows - generated)
        try await database.write(tenant: tenant, now: now) { t in
            try await t.generateUsageForBenchmark(customerId: setup.customer, lineIds: setup.lines, rows: rows,
                                                  from: now - 365 * 86_400, to: now)
        }
        generated += rows
    }
    if database.engine == .postgres {
        try await database.write(tenant: tenant) { try await $0.rawForBenchmark("ANALYZE usage_records") }
    } else {
        try await database.write(tenant: tenant) { try await $0.rawForBenchmark("ANALYZE") }
    }
    print("filled \(usageRows) usage rows over \(lineCount) lines and a year in \(f(milliseconds(clock.now - fillStart) / 1000, 1)) s (in-database generation)")

    // The 180-day call detail of one line, first page, newest first.
    var random = SplitMix64(seed: 42)
    func randomLine() -> Int64 { setup.lines.lowerBound + Int64(random.next() % UInt64(lineCount)) }
    for _ in 0..<50 {  // warm-up
        let line = randomLine()
        _ = try await database.read(tenant: tenant, now: now) { try await $0.usage(UsageQuery(lineId: line), windows: windows) }
    }
    var pageTimes: [Double] = []
    var baseTimes: [Double] = []
    var rowsPerPage = 0
    for _ in 0..<500 {
        let line = randomLine()
        let started = clock.now
        let page = try await database.read(tenant: tenant, now: now) { try await $0.usage(UsageQuery(lineId: line), windows: windows) }
        pageTimes.append(milliseconds(clock.now - started))
        rowsPerPage = page.items.count
        let baseStarted = clock.now
        _ = try await database.read(tenant: tenant, now: now) { try await $0.line(id: line) }
        baseTimes.append(milliseconds(clock.now - baseStarted))
    }
    pageTimes.sort()
    baseTimes.sort()
    let p95 = percentile(pageTimes, 0.95)
    print("call detail, 180 days, first page (\(rowsPerPage) rows), 500 random lines: p50 \(f(percentile(pageTimes, 0.5))) ms, p95 \(f(p95)) ms, p99 \(f(percentile(pageTimes, 0.99))) ms — target p95 < 20 ms: \(p95 < 20 ? "target met" : "target missed")")
    print("baseline (one line by id, same transaction path): p50 \(f(percentile(baseTimes, 0.5))) ms, p95 \(f(percentile(baseTimes, 0.95))) ms; ratio call-detail/baseline p95 \(f(p95 / max(percentile(baseTimes, 0.95), 0.001), 1))")
    let planLine = randomLine()
    let plan = try await database.read(tenant: tenant, now: now) { t in
        try await t.explainUsagePage(UsageQuery(lineId: planLine), windows: windows)
    }
    print("query plan:")
    for line in plan { print("  \(line)") }

    // Import through the same code as `sportello import`.
    let file = try writeImportFile(rows: importRows, lines: lineCount)
    let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
    let importStart = clock.now
    let report = try await Importer(database: database, tenant: renamed(unidata, tenant)).importFile(at: file, now: now)
    let importSeconds = milliseconds(clock.now - importStart) / 1000
    print("import \(report.total) usage rows from JSON Lines (\(size / 1_048_576) MB): \(f(importSeconds, 1)) s, \(Int(Double(report.total) / importSeconds)) rows/s — target < 60 s: \(importSeconds < 60 ? "target met" : "target missed")")
    let againStart = clock.now
    _ = try await Importer(database: database, tenant: renamed(unidata, tenant)).importFile(at: file, now: now)
    print("the same file again (idempotent upsert, nothing changes): \(f(milliseconds(clock.now - againStart) / 1000, 1)) s")
    try? FileManager.default.removeItem(atPath: file)
    await database.close()
}

func renamed(_ tenant: TenantDefinition, _ id: String) -> TenantDefinition {
    var copy = tenant
    copy.id = id
    return copy
}

print("sportello-store-bench: \(usageRows) usage rows, import of \(importRows)")
try await bench(.sqlite(path: sqlitePath), label: "SQLite")
for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: sqlitePath + suffix) }
if let postgresURL {
    try await bench(.postgres(url: postgresURL), label: "PostgreSQL")
} else {
    print("\n(PostgreSQL skipped: no --postgres URL and no SPORTELLO_TEST_POSTGRES_URL; scripts/bench starts one)")
}
