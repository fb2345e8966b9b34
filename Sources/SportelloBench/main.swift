// sportello-bench: figures for tenant loading and authorization decisions.
//
//   sportello-bench [tenants-dir] [--count N] [--skip-auth] [--load-only]
//
// Prints readable lines with "target met"/"target missed"; it asserts nothing.
// Run through scripts/bench, which builds in release mode first.
import Foundation
import SportelloCore
import SportelloWeb
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

// MARK: - A start as `serve` does it, in a process of its own

/// `--index-start TENANTS-DIR INDEX-FILE TEMPLATES PLUGINS [--change-one]`: starts a `TenantReloader` (with the tenant
/// index at INDEX-FILE) the way `serve` does, in this fresh process, asks for one tenant by host as a first request
/// would, and prints one line of figures for the parent bench to read.
if CommandLine.arguments.count >= 6, CommandLine.arguments[1] == "--index-start" {
    let arguments = CommandLine.arguments
    let sources = TenantSources(paths: [arguments[2]], plugins: PluginCatalogue.load(directory: arguments[5]),
                                templates: URL(fileURLWithPath: arguments[4]), indexPath: arguments[3])
    let startClock = ContinuousClock()
    let start = startClock.now
    let registry = TenantRegistry()
    let reloader = TenantReloader(sources: sources, registry: registry, capabilities: PortalModules.capabilities)
    let report = runBlocking { await reloader.reload(trigger: "start") }
    let ready = startClock.now
    let readyStatus = processMemory()
    let firstHost = registry.ids.first.flatMap { registry.tenant(id: $0)?.definition.hosts.first }
    // A host that is not built yet: the last tenant's.
    let lastId = registry.ids.last ?? ""
    let probeStart = startClock.now
    let built = registry.tenant(id: lastId) != nil
    let firstRequest = startClock.now - probeStart
    var line = "ready \(durationSeconds(ready - start)) peak \(readyStatus.peak) rss \(readyStatus.rss) validated \(report.validatedFiles)"
    line += " served \(registry.count) rejected \(report.rejected.count) resident \(registry.residentCount) first \(durationSeconds(firstRequest) * 1e6) built \(built) host \(firstHost ?? "-")"
    if arguments.contains("--change-one"), let file = try? TenantLoader.definitionFiles(in: [arguments[2]]).first(where: { !($0 as NSString).lastPathComponent.hasPrefix("_") }),
       let handle = FileHandle(forWritingAtPath: file) {
        handle.seekToEndOfFile()
        handle.write(Data("\n# changed by the bench\n".utf8))
        try? handle.close()
        let reloadStart = startClock.now
        let again = runBlocking { await reloader.reload(trigger: "file change") }
        line += " reload \(durationSeconds(startClock.now - reloadStart)) revalidated \(again.validatedFiles)"
    }
    print(line)
    exit(0)
}

/// Runs `body` to completion from synchronous top-level code.
func runBlocking<Value: Sendable>(_ body: @escaping @Sendable () async -> Value) -> Value {
    let result = Mutex<Value?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        let value = await body()
        result.withLock { $0 = value }
        done.signal()
    }
    done.wait()
    return result.withLock { $0! }
}

func durationSeconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// VmRSS and VmHWM (peak) of this process, in bytes, from /proc/self/status.
func processMemory() -> (rss: Int, peak: Int) {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (0, 0) }
    var rss = 0, peak = 0
    for line in text.split(separator: "\n") {
        let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count >= 2, let kilobytes = Int(parts[1]) else { continue }
        if parts[0] == "VmRSS:" { rss = kilobytes * 1024 }
        if parts[0] == "VmHWM:" { peak = kilobytes * 1024 }
    }
    return (rss, peak)
}

// MARK: - Arguments

var tenantsDirectory = "tenants"
var variantCount = 10_000
var skipAuth = false
var loadOnly = false
do {
    var arguments = CommandLine.arguments.dropFirst()
    while let argument = arguments.popFirst() {
        switch argument {
        case "--count": variantCount = Int(arguments.popFirst() ?? "") ?? variantCount
        case "--skip-auth": skipAuth = true
        case "--load-only": loadOnly = true; skipAuth = true
        default: tenantsDirectory = argument
        }
    }
}

// MARK: - Helpers


/// Gives freed heap back to the system so VmRSS reflects what is still held.
func trimHeap() {
    #if canImport(Glibc)
    // malloc_trim is not in the Glibc module map; look it up at run time (RTLD_DEFAULT is NULL on glibc).
    if let symbol = dlsym(nil, "malloc_trim") {
        typealias MallocTrim = @convention(c) (Int) -> Int32
        _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
    }
    #endif
}

/// Resets VmHWM to the current RSS (Linux: "5" > /proc/self/clear_refs), so the next peak belongs to the next phase.
func resetPeakRSS() -> Bool {
    guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
    defer { try? handle.close() }
    do { try handle.write(contentsOf: Data("5".utf8)); return true } catch { return false }
}

func mb(_ bytes: Int) -> String { String(format: "%.0f MB", Double(bytes) / 1_048_576) }

func nanoseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
}
func verdict(_ met: Bool) -> String { met ? "target met" : "target missed" }
func f(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }

/// Keeps a value alive as far as the optimiser can tell.
@inline(never) func blackHole<T>(_ value: T) { withExtendedLifetime(value) {} }

let clock = ContinuousClock()
let fileManager = FileManager.default

// MARK: - Sources

let plugins = TenantLoader.pluginIDs(in: ((tenantsDirectory as NSString).deletingLastPathComponent as NSString).appendingPathComponent("plugins"))
let loader = TenantLoader(capabilities: PortalModules.capabilities, knownPlugins: plugins)
let realFiles: [String]
do {
    realFiles = try TenantLoader.definitionFiles(in: [tenantsDirectory])
} catch {
    print("cannot list \(tenantsDirectory): \(error)")
    exit(2)
}
let fragmentFiles = realFiles.filter { (($0 as NSString).lastPathComponent).hasPrefix("_") }
let tenantFiles = realFiles.filter { !fragmentFiles.contains($0) }

print("sportello-bench — \(ProcessInfo.processInfo.activeProcessorCount) cores, \(tenantFiles.count) real tenants + \(fragmentFiles.count) fragment(s) from \(tenantsDirectory)")
print("")

// MARK: - 1. Tenant loading

print("== 1. tenant loading (TenantLoader.load(files:))")

// Baseline: the real tenants (plus fragment), repeated, median.
var realResult = loader.load(files: realFiles)
if realResult.hasErrors {
    print("real tenants have errors:")
    for error in realResult.errors { print("  \(error)") }
}
var baselineTimes: [Double] = []
for _ in 0..<21 {
    let start = clock.now
    let result = loader.load(files: realFiles)
    baselineTimes.append(durationSeconds(start.duration(to: clock.now)))
    blackHole(result)
}
baselineTimes.sort()
let baseline = baselineTimes[baselineTimes.count / 2]
let baselinePerTenant = baseline / Double(realResult.tenants.count)
print("load \(realResult.tenants.count) real tenants: \(f(baseline * 1000, 2)) ms median of \(baselineTimes.count) (\(f(baselinePerTenant * 1e6, 0)) µs/tenant), errors \(realResult.errors.count), warnings \(realResult.warnings.count)")

// Authorization decisions for the 5 real tenants, measured now (reported in section 2).
struct Request {
    var host: String
    var principal: Principal
    var feature: FeatureRef
}

/// Every principal a tenant can produce (each role without toggles and with all of them), and every feature.
func principalsAndFeatures(_ definition: TenantDefinition, _ model: AuthorizationModel) -> ([Principal], [FeatureRef]) {
    var principals: [Principal] = []
    for (roleID, role) in definition.roles {
        let toggles = Set(role.toggles?.keys ?? [])
        if let plain = try? model.principal(role: roleID) { principals.append(plain) }
        if !toggles.isEmpty, let full = try? model.principal(role: roleID, toggles: toggles) { principals.append(full) }
    }
    return (principals, model.featureIDs.compactMap { model.feature($0) })
}

struct Tenants {
    var models: [String: AuthorizationModel] = [:]
    /// What the portal's `TenantRegistry` looks hosts up in: host → position in `list`.
    var index = HostIndex([])
    var list: [AuthorizationModel] = []
    var requests: [Request] = []
}

func buildTenants(_ definitions: [TenantDefinition], requestCount: Int, seed: UInt64) -> Tenants {
    var tenants = Tenants()
    var catalogue: [(host: String, principals: [Principal], features: [FeatureRef])] = []
    for definition in definitions {
        let model = AuthorizationModel(definition)
        for host in definition.hosts { tenants.models[host] = model }
        let (principals, features) = principalsAndFeatures(definition, model)
        guard !principals.isEmpty, !features.isEmpty else { continue }
        for host in definition.hosts { catalogue.append((host, principals, features)) }
    }
    var hosts: [String] = []
    for definition in definitions {
        guard let model = definition.hosts.first.flatMap({ tenants.models[$0] }) else { continue }
        for host in definition.hosts {
            hosts.append(host)
            tenants.list.append(model)
        }
    }
    tenants.index = HostIndex(hosts)
    var random = SplitMix64(seed: seed)
    tenants.requests.reserveCapacity(requestCount)
    for _ in 0..<requestCount {
        let entry = catalogue[Int.random(in: 0..<catalogue.count, using: &random)]
        // The host string as it would arrive in a request: a fresh copy, not the dictionary's key.
        let host = String(decoding: Array(entry.host.utf8), as: UTF8.self)
        tenants.requests.append(Request(host: host,
                                        principal: entry.principals[Int.random(in: 0..<entry.principals.count, using: &random)],
                                        feature: entry.features[Int.random(in: 0..<entry.features.count, using: &random)]))
    }
    return tenants
}

let batch = 1_000
let samples = 2_000
let warmup = 200
let requestPool = 16_384 // power of two; samples walk through it

struct Figures { var median: Double; var p99: Double; var checksum: Int }

/// Runs `samples` batches of `batch` decisions through `body` (which returns how many were allowed).
func measure(_ requests: [Request], _ body: (ArraySlice<Request>) -> Int) -> Figures {
    var checksum = 0
    var perDecision: [Double] = []
    perDecision.reserveCapacity(samples)
    let slices = requests.count / batch
    for sample in 0..<(warmup + samples) {
        let offset = (sample % slices) * batch
        let slice = requests[offset..<(offset + batch)]
        let start = clock.now
        checksum &+= body(slice)
        let elapsed = start.duration(to: clock.now)
        if sample >= warmup { perDecision.append(nanoseconds(elapsed) / Double(batch)) }
    }
    perDecision.sort()
    blackHole(checksum)
    return Figures(median: perDecision[perDecision.count / 2], p99: perDecision[min(perDecision.count - 1, Int(Double(perDecision.count) * 0.99))], checksum: checksum)
}

// The loops read each request in place through an unsafe buffer so the harness itself adds no
// retain/release per request; what remains is the lookup and the decision.

@inline(never) func decideBare(_ model: AuthorizationModel, _ slice: ArraySlice<Request>) -> Int {
    // The bit test alone (model in hand): no lookup by host.
    slice.withUnsafeBufferPointer { requests in
        var allowed = 0
        for index in requests.indices where model.isAllowed(requests[index].principal, requests[index].feature) { allowed &+= 1 }
        return allowed
    }
}

@inline(never) func decideByHost(_ models: [String: AuthorizationModel], _ slice: ArraySlice<Request>) -> Int {
    slice.withUnsafeBufferPointer { requests in
        var allowed = 0
        for index in requests.indices {
            guard let model = models[requests[index].host] else { continue }
            if model.isAllowed(requests[index].principal, requests[index].feature) { allowed &+= 1 }
        }
        return allowed
    }
}

@inline(never) func decideByHostIndex(_ tenants: Tenants, _ slice: ArraySlice<Request>) -> Int {
    tenants.list.withUnsafeBufferPointer { models in
        slice.withUnsafeBufferPointer { requests in
            var allowed = 0
            for index in requests.indices {
                guard let position = tenants.index.position(forHost: requests[index].host) else { continue }
                if models[position].isAllowed(requests[index].principal, requests[index].feature) { allowed &+= 1 }
            }
            return allowed
        }
    }
}

@inline(never) func decideByHostString(_ models: [String: AuthorizationModel], _ slice: ArraySlice<Request>) -> Int {
    slice.withUnsafeBufferPointer { requests in
        var allowed = 0
        for index in requests.indices {
            guard let model = models[requests[index].host] else { continue }
            if model.isAllowed(requests[index].principal, requests[index].feature.id) { allowed &+= 1 }
        }
        return allowed
    }
}

/// Reference only: the same models behind a class reference, so a dictionary lookup copies one
/// pointer instead of the model struct's eight reference-counted fields.
final class ModelBox: Sendable {
    let model: AuthorizationModel
    init(_ model: AuthorizationModel) { self.model = model }
}

@inline(never) func decideByHostBoxed(_ models: [String: ModelBox], _ slice: ArraySlice<Request>) -> Int {
    slice.withUnsafeBufferPointer { requests in
        var allowed = 0
        for index in requests.indices {
            guard let box = models[requests[index].host] else { continue }
            if box.model.isAllowed(requests[index].principal, requests[index].feature) { allowed &+= 1 }
        }
        return allowed
    }
}

func report(_ label: String, _ figures: Figures, target: Bool = true) {
    let met = figures.median < 200
    print("\(label): median \(f(figures.median)) ns, p99 \(f(figures.p99)) ns per decision\(target ? " — target median <200 ns: \(verdict(met))" : "") [checksum \(figures.checksum)]")
}

// 5 real tenants.
let smallStart = clock.now
let small = buildTenants(realResult.tenants.map(\.definition), requestCount: requestPool, seed: 42)
let smallBuilt = ("built \(Set(small.models.values.map(\.tenantID)).count) models (\(small.models.count) hosts) in \(f(durationSeconds(smallStart.duration(to: clock.now)) * 1000, 2)) ms; \(samples) samples × \(batch) decisions each (measured before the big load, on a clean heap)")
let smallBare = measure(small.requests) { decideBare(small.models.values.first!, $0) }
let smallRef = measure(small.requests) { decideByHostIndex(small, $0) }
let smallDictionary = measure(small.requests) { decideByHost(small.models, $0) }
let smallString = measure(small.requests) { decideByHostString(small.models, $0) }
let smallBoxes = small.models.mapValues(ModelBox.init)
let smallBoxed = measure(small.requests) { decideByHostBoxed(smallBoxes, $0) }

// Generate variants of the real tenants in a temporary directory.
struct Template {
    var id: String
    var lines: [Substring]
    var idLine: Int, nameLine: Int, hostsLine: Int
    var name: String
}
var templates: [Template] = []
for file in tenantFiles {
    guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard let idLine = lines.firstIndex(where: { $0.hasPrefix("id:") }),
          let nameLine = lines.firstIndex(where: { $0.hasPrefix("name:") }),
          let hostsLine = lines.firstIndex(where: { $0.hasPrefix("hosts:") }) else {
        print("skipping \(file): no top-level id/name/hosts line")
        continue
    }
    func value(_ line: Substring) -> String {
        var rest = line.drop(while: { $0 != ":" }).dropFirst()
        if let hash = rest.range(of: " #") { rest = rest[..<hash.lowerBound] }
        return rest.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
    }
    templates.append(Template(id: value(lines[idLine]), lines: lines, idLine: idLine, nameLine: nameLine, hostsLine: hostsLine, name: value(lines[nameLine])))
}

let temporary = (NSTemporaryDirectory() as NSString).appendingPathComponent("sportello-bench-\(ProcessInfo.processInfo.processIdentifier)")
try? fileManager.removeItem(atPath: temporary)
try fileManager.createDirectory(atPath: temporary, withIntermediateDirectories: true)
defer { try? fileManager.removeItem(atPath: temporary) }

let generateStart = clock.now
var generatedFiles: [String] = []
var generatedBytes = 0
for file in fragmentFiles {
    let target = (temporary as NSString).appendingPathComponent((file as NSString).lastPathComponent)
    try fileManager.copyItem(atPath: file, toPath: target)
    generatedFiles.append(target)
}
for index in 0..<variantCount {
    let template = templates[index % templates.count]
    let id = "\(template.id)-\(String(format: "%05d", index))"
    var lines = template.lines
    lines[template.idLine] = "id: \(id)"
    lines[template.nameLine] = "name: \(template.name) \(index)"
    lines[template.hostsLine] = "hosts: [\(id).localhost]"
    let text = lines.joined(separator: "\n")
    generatedBytes += text.utf8.count
    let path = (temporary as NSString).appendingPathComponent("\(id).yaml")
    guard fileManager.createFile(atPath: path, contents: Data(text.utf8)) else {
        print("cannot write \(path)")
        exit(2)
    }
    generatedFiles.append(path)
}
print("generated \(variantCount) tenant files (\(f(Double(generatedBytes) / 1_048_576, 0)) MB of YAML) in \(f(durationSeconds(generateStart.duration(to: clock.now)), 2)) s")

// Starts as `serve` does (TenantReloader with the tenant index), each in a fresh process: the first with no index
// (every file parsed and checked), then a cold start with the index the first one wrote: the target's figure.
func indexStart(_ label: String, tenantsDirectory: String, temporary: String, indexFile: String, changeOne: Bool = false) -> [String: String] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    let root = (tenantsDirectory as NSString).deletingLastPathComponent
    process.arguments = ["--index-start", temporary, indexFile, (root as NSString).appendingPathComponent("templates"),
                         (root as NSString).appendingPathComponent("plugins")] + (changeOne ? ["--change-one"] : [])
    let pipe = Pipe()
    process.standardOutput = pipe
    do { try process.run() } catch {
        print("\(label): cannot start \(process.executableURL?.path ?? "?"): \(error)")
        return [:]
    }
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    // The child's figures are its one line starting "ready " (its log goes to the same output).
    let figuresLine = output.split(separator: "\n").last { $0.hasPrefix("ready ") } ?? ""
    let words = figuresLine.split(separator: " ").map(String.init)
    var figures: [String: String] = [:]
    for index in stride(from: 0, to: words.count - 1, by: 2) { figures[words[index]] = words[index + 1] }
    return figures
}
let indexFile = (temporary as NSString).appendingPathComponent("tenant-index")
print("")
print("start as serve does (TenantReloader + tenant index at \(indexFile)), each in a fresh process:")
let firstStart = indexStart("first start", tenantsDirectory: tenantsDirectory, temporary: temporary, indexFile: indexFile)
let coldStart = indexStart("cold start", tenantsDirectory: tenantsDirectory, temporary: temporary, indexFile: indexFile, changeOne: true)
func figure(_ figures: [String: String], _ key: String) -> Double { Double(figures[key] ?? "") ?? .nan }
let coldTime = figure(coldStart, "ready"), coldPeak = figure(coldStart, "peak")
print("  first start, no index: ready in \(f(figure(firstStart, "ready"), 2)) s, peak RSS \(mb(Int(figure(firstStart, "peak")))), \(firstStart["validated"] ?? "?") files parsed and checked, \(firstStart["served"] ?? "?") served, \(firstStart["resident"] ?? "?") built (resident limit 1000)")
print("  cold start with the index: ready in \(f(coldTime, 2)) s, peak RSS \(mb(Int(coldPeak))), \(coldStart["validated"] ?? "?") files parsed, \(coldStart["served"] ?? "?") served, \(coldStart["rejected"] ?? "?") rejected — target <3 s, <300 MB: \(verdict(coldTime < 3 && coldPeak < 300 * 1_048_576))")
print("  first request to a tenant not built yet (built from its file): \(f(figure(coldStart, "first") / 1000, 2)) ms")
print("  reload after one file changed: \(f(figure(coldStart, "reload"), 2)) s, \(coldStart["revalidated"] ?? "?") file(s) parsed")
print("")
print("parse and check every file in this process (reference: what a start without the index does):")

// The measured load.
let before = processMemory()
let peakReset = resetPeakRSS()
let loadStart = clock.now
var bigResult: LoadResult? = loader.load(files: generatedFiles)
let loadTime = durationSeconds(loadStart.duration(to: clock.now))
let after = processMemory()
let peak = peakReset ? after.peak : max(after.peak, before.peak)
let loadedCount = bigResult!.tenants.count
let errors = bigResult!.errors
let rate = Double(variantCount) / loadTime
let perTenant = loadTime / Double(variantCount)
print("load \(variantCount) tenants: \(f(loadTime, 2)) s (\(f(rate, 0)) tenants/s), peak RSS \(mb(peak)) holding every definition")
print("  RSS before \(mb(before.rss)) (peak so far \(mb(before.peak))), after \(mb(after.rss)) holding the result; peak \(peakReset ? "measured from the load's start (VmHWM reset)" : "is the process-wide VmHWM")")
print("  loaded \(loadedCount) tenants, errors \(errors.count), warnings \(bigResult!.warnings.count)")
for error in errors.prefix(20) { print("  error: \(error)") }
if errors.count > 20 { print("  … \(errors.count - 20) more errors") }
print("  retained by the result: \(f(Double(after.rss - before.rss) / Double(max(loadedCount, 1)) / 1024, 0)) KB/tenant (RSS after − before)")
print("  per tenant: \(f(perTenant * 1e6, 0)) µs at \(variantCount) vs \(f(baselinePerTenant * 1e6, 0)) µs at \(realResult.tenants.count) — ratio \(f(perTenant / baselinePerTenant, 2)) (≈1 means linear)")
try? fileManager.removeItem(atPath: temporary)

if loadOnly { exit(0) }
if skipAuth { exit(0) }

// MARK: - 2. Authorization decisions

print("")
print("== 2. authorization decisions (AuthorizationModel.isAllowed)")
print(smallBuilt)

// 10,000 generated tenants.
let bigDefinitions = bigResult!.tenants.map(\.definition)
bigResult = nil
realResult.diagnostics = []
trimHeap()
print("RSS holding only the \(bigDefinitions.count) TenantDefinitions (LocationIndex and diagnostics released, heap trimmed): \(mb(processMemory().rss))")
let bigStart = clock.now
let big = buildTenants(bigDefinitions, requestCount: requestPool, seed: 42)
let bigBuild = durationSeconds(bigStart.duration(to: clock.now))
print("built \(bigDefinitions.count) models (\(big.models.count) hosts) in \(f(bigBuild, 2)) s; RSS now \(mb(processMemory().rss))")
let bigRef = measure(big.requests) { decideByHostIndex(big, $0) }
let bigDictionary = measure(big.requests) { decideByHost(big.models, $0) }
let bigString = measure(big.requests) { decideByHostString(big.models, $0) }
let bigBoxes = big.models.mapValues(ModelBox.init)
let bigBoxed = measure(big.requests) { decideByHostBoxed(bigBoxes, $0) }

report("isAllowed(principal, FeatureRef), model in hand (bit test only)", smallBare, target: false)
report("decide by host (HostIndex, as TenantRegistry) + FeatureRef, 5 tenants", smallRef)
report("decide by host (HostIndex, as TenantRegistry) + FeatureRef, \(bigDefinitions.count) tenants", bigRef)
print("  ratio \(bigDefinitions.count)/5 (median): \(f(bigRef.median / smallRef.median, 2)) — target ≈1 (≤1.5): \(verdict(bigRef.median / smallRef.median <= 1.5))")
report("decide by host ([String: AuthorizationModel], reference) + FeatureRef, 5 tenants", smallDictionary, target: false)
report("decide by host ([String: AuthorizationModel], reference) + FeatureRef, \(bigDefinitions.count) tenants", bigDictionary, target: false)
print("  ratio \(bigDefinitions.count)/5 (median): \(f(bigDictionary.median / smallDictionary.median, 2))")
report("decide by host + \"feature.id\" string (reference), 5 tenants", smallString, target: false)
report("decide by host + \"feature.id\" string (reference), \(bigDefinitions.count) tenants", bigString, target: false)
print("  ratio \(bigDefinitions.count)/5 (median): \(f(bigString.median / smallString.median, 2))")
report("decide by host + FeatureRef, models boxed in a class (reference), 5 tenants", smallBoxed, target: false)
report("decide by host + FeatureRef, models boxed in a class (reference), \(bigDefinitions.count) tenants", bigBoxed, target: false)
print("  ratio \(bigDefinitions.count)/5 (median): \(f(bigBoxed.median / smallBoxed.median, 2))")
print("")
print("final RSS \(mb(processMemory().rss)), process peak \(mb(processMemory().peak))")
