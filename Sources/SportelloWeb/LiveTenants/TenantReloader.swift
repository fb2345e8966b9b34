import Crypto
import Foundation
import Logging
import SportelloApplication
import SportelloCore
import SportelloMail
import Synchronization

/// Where a server's tenants come from: definition files (and fragments), the plugin manifests they are checked
/// against (read once, at start: the plugins' connections are made then), and the templates folder.
public struct TenantSources: Sendable {
    /// Tenant files or directories of them (`tenants/`).
    public var paths: [String]
    public var plugins: PluginCatalogue
    /// `templates/`: `default/` and one folder per tenant (pages, strings, static files, e-mails).
    public var templates: URL
    public var catalog: PortalCatalog
    /// Where the tenant index is kept between starts (nil: only in memory, so a start validates every file).
    public var indexPath: String?
    /// How many tenants known from the index are held built at once; the others are built on their next request.
    public var residentLimit: Int

    public init(paths: [String], plugins: PluginCatalogue, templates: URL, catalog: PortalCatalog = .standard,
                indexPath: String? = nil, residentLimit: Int = 1_000) {
        self.paths = paths; self.plugins = plugins; self.templates = templates; self.catalog = catalog
        self.indexPath = indexPath; self.residentLimit = residentLimit
    }

    /// Every file a reload reads, with what identifies its version (size, modification time, inode): the watcher
    /// compares these every few seconds and reloads when one differs, appears or goes.
    public func fingerprint() -> String {
        var hasher = SHA256()
        var files: [String] = []
        for path in paths { files += Self.regularFiles(under: path, extensions: ["yaml", "yml"]) }
        files += Self.regularFiles(under: templates.path, extensions: nil)
        for file in files.sorted() {
            var info = stat()
            guard stat(file, &info) == 0 else { continue }
            hasher.update(data: Data("\(file)\u{0}\(info.st_size)\u{0}\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)\u{0}\(info.st_ino)\n".utf8))
        }
        return TenantIndex.hex(hasher.finalize())
    }

    /// Regular files at or below `path` (a file counts itself), optionally only those with one of `extensions`.
    static func regularFiles(under path: String, extensions: Set<String>?) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else { return [path] }
        var found: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: path)
        while let relative = enumerator?.nextObject() as? String {
            let full = (path as NSString).appendingPathComponent(relative)
            var directory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &directory), !directory.boolValue else { continue }
            if let extensions, !extensions.contains((relative as NSString).pathExtension.lowercased()) { continue }
            // Tenant directories are read flat (TenantLoader.definitionFiles); templates are read in depth.
            if extensions != nil, relative.contains("/") { continue }
            found.append(full)
        }
        return found
    }
}

/// What one reload did, for the log, `/ready`, the metrics and `sportello reload`.
public struct TenantReloadReport: Sendable, Encodable, Equatable {
    /// A tenant or fragment file that failed validation.
    public struct Rejection: Sendable, Encodable, Equatable {
        public var file: String
        /// The tenant the file serves (or served), when known.
        public var tenant: String?
        /// Whether the tenant's last good version goes on serving (false: the file never loaded here; its hosts get a 503).
        public var keptLastGood: Bool
        /// `FILE:LINE:COLUMN: error: …` lines.
        public var errors: [String]
    }

    /// What started it: `start`, `file change`, `SIGHUP`, `sportello reload`.
    public var trigger: String
    /// Tenants added or changed by this reload.
    public var applied: [String] = []
    public var unchanged: [String] = []
    public var removed: [String] = []
    public var rejected: [Rejection] = []
    /// The tenants served after the reload.
    public var served: [String] = []
    /// A digest of the served tenants' sources: two instances with the same digest serve the same tenant set.
    public var digest: String = ""
    /// The served tenants' warnings (`FILE:LINE:COLUMN: warning: …`), from the index for the files not parsed again.
    public var warnings: [String] = []
    /// How many tenant files this reload parsed and checked (the others were known unchanged from the tenant index).
    public var validatedFiles = 0

    public var changedAnything: Bool { !applied.isEmpty || !removed.isEmpty }
}

/// Loads the tenants from their sources and swaps them into the registry, keeping the last good version of a file
/// that fails validation (or whose templates fail to load).
///
/// A reload reads every file and its digest; a file whose digest (with the fragments', the templates', the plugins'
/// and the platform build's) is in the tenant index is not parsed again: its tenant is served from the index and built
/// on its first request. The others are parsed and checked as `validate` does. The registry is swapped once, whole: a
/// request holds the `PortalTenant` it started with, so in-flight requests finish on the version they began on.
/// Reloads run one at a time.
public actor TenantReloader {
    private struct Entry {
        var slot: TenantSlot
        var index: TenantIndexEntry
    }

    /// What one tenant file validated now produced.
    private struct Validated: Sendable {
        var file: String
        var entry: TenantIndexEntry?
        /// The built tenant, kept when fewer than the resident limit were built by this reload.
        var tenant: PortalTenant?
        var diagnostics: [Diagnostic]
        /// Why the templates of the tenant `themeTenant` did not load.
        var themeError: String?
        var themeTenant: String?
    }

    public nonisolated let sources: TenantSources
    public nonisolated let registry: TenantRegistry
    private let mail: ReloadableMailTemplates?
    private let logger: Logger
    private let loader: TenantLoader
    private let environment: String
    private let resident: ResidentTenants
    /// Served tenants by file.
    private var entries: [String: Entry] = [:]
    /// The index file's entries, read at the first reload.
    private var stored: [String: TenantIndexEntry]?
    private let lastReport = Mutex<TenantReloadReport?>(nil)
    private var lastFingerprint: String?

    /// `mail`: the e-mail templates to reload with the pages (nil: e-mails are not reloaded).
    public init(sources: TenantSources, registry: TenantRegistry, mail: ReloadableMailTemplates? = nil,
                capabilities: CapabilityCatalogue, logger: Logger = Logger(label: "sportello.tenants")) {
        self.sources = sources
        self.registry = registry
        self.mail = mail
        self.logger = logger
        loader = TenantLoader(capabilities: capabilities, plugins: sources.plugins, retainLocations: false)
        environment = TenantIndex.environment(plugins: sources.plugins, loader: loader)
        // Without an index on disk there is nothing to build a dropped tenant from but its file, which may have changed:
        // every tenant stays built, as before the index.
        resident = ResidentTenants(limit: sources.indexPath == nil ? Int.max : sources.residentLimit)
    }

    /// The last reload's report (nil before the first).
    public nonisolated var report: TenantReloadReport? { lastReport.withLock { $0 } }

    /// Reloads when the sources' fingerprint differs from the last reload's; nil when nothing changed.
    public func reloadIfChanged(trigger: String) async -> TenantReloadReport? {
        await oneAtATime {
            let fingerprint = sources.fingerprint()
            guard fingerprint != lastFingerprint else { return nil }
            return await reload(trigger: trigger, fingerprint: fingerprint)
        }
    }

    /// Reads, validates and swaps in the tenants now.
    @discardableResult
    public func reload(trigger: String) async -> TenantReloadReport {
        await oneAtATime { await reload(trigger: trigger, fingerprint: sources.fingerprint()) }
    }

    /// Whether a reload is running, and the reloads waiting for it: the reading and checking run off the actor (and
    /// off Swift's cooperative threads, which serve requests meanwhile), so the actor alone would not keep them apart.
    private var reloading = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    private func oneAtATime<T: Sendable>(_ body: () async -> T) async -> T {
        if reloading {
            await withCheckedContinuation { waiting.append($0) }
        } else {
            reloading = true
        }
        defer {
            if waiting.isEmpty { reloading = false } else { waiting.removeFirst().resume() }
        }
        return await body()
    }

    /// Runs `work` on a dispatch thread: reading and parsing thousands of files must not hold one of the few
    /// cooperative threads every request and timer waits for.
    private static func offloaded<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: work()) }
        }
    }

    private func reload(trigger: String, fingerprint: String) async -> TenantReloadReport {
        var report = TenantReloadReport(trigger: trigger)
        defer {
            lastFingerprint = fingerprint
            record(report)
        }
        let files: [String]
        do {
            files = try TenantLoader.definitionFiles(in: sources.paths)
        } catch {
            // The folder itself is gone or unreadable: keep serving everything, say why.
            report.rejected = [.init(file: sources.paths.joined(separator: ", "), tenant: nil, keptLastGood: true, errors: ["\(error)"])]
            report.served = entries.values.map(\.slot.id).sorted()
            report.digest = Self.setDigest(entries.values.map(\.index.digest))
            return report
        }
        let scans = await Self.offloaded { Self.scan(files) }
        let fragmentFiles = files.indices.filter { scans[$0].isFragment }.map { files[$0] }

        // What every tenant shares: the platform build and plugins, its fragments and the default templates.
        var shared = SHA256()
        shared.update(data: Data(environment.utf8))
        for index in files.indices where scans[index].isFragment { shared.update(data: Data("\(files[index])\u{0}\(scans[index].digest ?? "")\n".utf8)) }
        shared.update(data: Data(Self.contentDigest(of: sources.templates.appendingPathComponent("default").path).utf8))
        let sharedDigest = TenantIndex.hex(shared.finalize())
        let fragments = loader.resolveFragments(files: fragmentFiles)
        let themes = SharedThemes(templates: sources.templates)
        let mailTemplates: MailTemplates?
        var mailError: String?
        do { mailTemplates = mail == nil ? nil : try MailTemplates(root: sources.templates) } catch {
            mailTemplates = nil
            mailError = "\(error)"
        }

        // Files the index knows unchanged are served from it; the others are parsed and checked.
        if stored == nil { stored = sources.indexPath.map { TenantIndex.read(path: $0, environment: environment) } ?? [:] }
        var known = stored ?? [:]
        for (file, entry) in entries { known[file] = entry.index }
        var good: [String: TenantIndexEntry] = [:]
        var misses: [(file: String, key: String)] = []
        var templateDigests: [String: String] = [:]
        func templatesDigest(_ id: String) -> String {
            if let digest = templateDigests[id] { return digest }
            let digest = Self.contentDigest(of: sources.templates.appendingPathComponent(id).path)
            templateDigests[id] = digest
            return digest
        }
        for (index, file) in files.enumerated() where !scans[index].isFragment {
            let key = TenantIndex.contentKey(fileDigest: scans[index].digest ?? "", shared: sharedDigest)
            if scans[index].digest != nil, let entry = known[file], entry.contentKey == key, entry.templatesDigest == templatesDigest(entry.id) {
                good[file] = entry
            } else {
                misses.append((file, key))
            }
        }
        report.validatedFiles = misses.count
        let missed = misses.map(\.file)
        let validated = await Self.offloaded { [self] in validate(missed, fragments: fragments, themes: themes, shared: sharedDigest) }
        var diagnostics = fragments.diagnostics
        var built: [String: PortalTenant] = [:]
        var themeErrors: [String: (id: String, error: String)] = [:]
        for outcome in validated {
            diagnostics += outcome.diagnostics
            if let entry = outcome.entry {
                good[outcome.file] = entry
                built[outcome.file] = outcome.tenant
            } else if let error = outcome.themeError, let id = outcome.themeTenant {
                themeErrors[outcome.file] = (id, error)
            }
        }
        diagnostics += crossFileProblems(files: files, good: &good)
        let errorsByFile = Dictionary(grouping: diagnostics.filter { $0.severity == .error }, by: \.location.file)

        var next: [String: Entry] = [:]
        for file in files {
            guard let entry = good[file], errorsByFile[file] == nil else { continue }
            if let old = entries[file], old.index.digest == entry.digest, old.slot.id == entry.id {
                next[file] = old
                report.unchanged.append(entry.id)
                continue
            }
            next[file] = Entry(slot: makeSlot(entry, built: built[file], fragments: fragments, shared: sharedDigest, themes: themes), index: entry)
            report.applied.append(entry.id)
        }
        for (file, failure) in themeErrors.sorted(by: { $0.key < $1.key }) where next[file] == nil {
            let old = entries[file]
            if let old { next[file] = old }
            report.rejected.append(.init(file: file, tenant: failure.id, keptLastGood: old != nil, errors: [failure.error]))
        }
        var unavailable: [String: String] = [:]
        for file in files.sorted() where errorsByFile[file] != nil && next[file] == nil {
            let old = entries[file]
            if let old { next[file] = old }
            let errors = errorsByFile[file]?.map(\.description) ?? []
            if let index = files.firstIndex(of: file), scans[index].isFragment {
                report.rejected.append(.init(file: file, tenant: nil, keptLastGood: true, errors: errors))
                continue
            }
            let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            let (id, hosts) = Self.declaredIdentity(text, file: file)
            report.rejected.append(.init(file: file, tenant: old?.slot.id ?? id, keptLastGood: old != nil, errors: errors))
            if old == nil { for host in hosts { unavailable[host] = file } }
        }
        // Two files serving one id (a file renamed while the old one stays): the one loaded first keeps it.
        var seen = Set<String>()
        for file in next.keys.sorted() {
            guard let entry = next[file] else { continue }
            if !seen.insert(entry.slot.id).inserted { next[file] = nil }
        }
        let servedIds = Set(next.values.map(\.slot.id))
        report.removed = Set(entries.values.map(\.slot.id)).subtracting(servedIds).sorted()
        report.served = servedIds.sorted()
        report.digest = Self.setDigest(next.values.map(\.index.digest))
        var warnings = diagnostics.filter { $0.severity == .warning }
        let validatedFiles = Set(validated.map(\.file))
        for (file, entry) in next where !validatedFiles.contains(file) { warnings += entry.index.warnings }
        var unique = DiagnosticBag()
        unique.append(contentsOf: warnings)
        report.warnings = unique.sorted.map(\.description)
        if let mailError { report.rejected.append(.init(file: sources.templates.path, tenant: nil, keptLastGood: true, errors: [mailError])) }
        let indexed = Dictionary(uniqueKeysWithValues: next.map { ($0.key, $0.value.index) })
        let indexChanged = indexed != stored
        entries = next
        let slots = next.values.map(\.slot)
        resident.keep(only: slots)
        registry.replace(slots, unavailable: unavailable)
        if let mailTemplates { mail?.replace(mailTemplates) }
        if indexChanged, let path = sources.indexPath {
            do {
                try TenantIndex.write(next.values.map(\.index), environment: environment, to: path)
                TenantIndex.removeCopies(except: Set(next.values.map(\.index.contentKey)), in: path)
                stored = indexed
            } catch {
                logger.warning("tenant index not saved: the next start validates every file again", metadata: ["path": "\(path)", "error": "\(error)"])
            }
        }
        return report
    }

    /// Each file's SHA-256 and whether it is a fragment, read in parallel (nil digest: unreadable).
    private static func scan(_ files: [String]) -> [(digest: String?, isFragment: Bool)] {
        let results = Mutex([(digest: String?, isFragment: Bool)](repeating: (nil, false), count: files.count))
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, files.count / 64))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var index = worker
            while index < files.count {
                if let data = FileManager.default.contents(atPath: files[index]) {
                    let digest = TenantIndex.digest(of: data)
                    let isFragment = TenantLoader.declaresFragment(String(decoding: data, as: UTF8.self))
                    results.withLock { $0[index] = (digest, isFragment) }
                }
                index += workers
            }
        }
        return results.withLock { $0 }
    }

    /// Parses and checks `misses` one file at a time on every core, building each valid tenant to be sure its
    /// templates load; at most the resident limit of built tenants are kept. With an index on disk, each valid file's
    /// bytes are kept beside it (`TenantIndex.keepCopy`).
    private nonisolated func validate(_ misses: [String], fragments: ResolvedFragments, themes: SharedThemes, shared: String) -> [Validated] {
        let results = Mutex([Validated?](repeating: nil, count: misses.count))
        let kept = Mutex(0)
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, misses.count))
        let (loader, sources, limit) = (loader, sources, resident.limit)
        let pluginDiagnostics = Set(sources.plugins.diagnostics)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var index = worker
            while index < misses.count {
                let file = misses[index]
                let data = FileManager.default.contents(atPath: file)
                let key = data.map { TenantIndex.contentKey(of: $0, shared: shared) }
                let result = if let data, let text = String(data: data, encoding: .utf8) {
                    loader.load(tenantSources: [(file, text)], sharing: fragments)
                } else {
                    loader.load(tenantFiles: [file], sharing: fragments)
                }
                var outcome = Validated(file: file, diagnostics: result.diagnostics.filter { !pluginDiagnostics.contains($0) })
                if let definition = result.tenants.first?.definition, let data, let key {
                    do {
                        let theme = try themes.theme(for: definition.id)
                        let tenant = PortalTenant(definition: definition, theme: theme, catalog: sources.catalog)
                        outcome.entry = TenantIndexEntry(
                            file: file, contentKey: key, id: definition.id, hosts: definition.hosts,
                            plugins: (definition.plugins?.keys).map { Array($0).sorted() } ?? [],
                            templatesDigest: Self.contentDigest(of: sources.templates.appendingPathComponent(definition.id).path),
                            warnings: outcome.diagnostics.filter { $0.severity == .warning })
                        if let indexPath = sources.indexPath { TenantIndex.keepCopy(data, key: key, in: indexPath) }
                        let keep = kept.withLock { count in
                            count += 1
                            return count <= limit
                        }
                        if keep { outcome.tenant = tenant }
                    } catch {
                        outcome.themeError = "\(error)"
                        outcome.themeTenant = definition.id
                    }
                }
                results.withLock { $0[index] = outcome }
                index += workers
            }
        }
        return results.withLock { $0 }.compactMap { $0 }
    }

    /// Ids and hosts claimed twice. Files from the index carry no source positions, so when a clash involves one,
    /// every file is loaded as `validate` does and its clash errors are taken (the same messages and positions).
    private func crossFileProblems(files: [String], good: inout [String: TenantIndexEntry]) -> [Diagnostic] {
        var ids = Set<String>(), hosts = Set<String>()
        var clash = false
        for file in files {
            guard let entry = good[file] else { continue }
            if !ids.insert(entry.id).inserted { clash = true }
            for host in Set(entry.hosts.map { $0.lowercased() }) where !hosts.insert(host).inserted { clash = true }
        }
        guard clash else { return [] }
        let clashes = loader.load(files: files).errors.filter { $0.code == "duplicate-tenant" || $0.code == "duplicate-host" }
        for diagnostic in clashes { good[diagnostic.location.file] = nil }
        return clashes
    }

    /// A slot serving `entry`, built now when `built` is given, else on its first request from the bytes the index
    /// validated: the copy kept beside the index, else the file while it still has them (never from unchecked bytes).
    private func makeSlot(_ entry: TenantIndexEntry, built: PortalTenant?, fragments: ResolvedFragments, shared: String,
                          themes: SharedThemes) -> TenantSlot {
        let (loader, sources) = (loader, sources)
        return TenantSlot(id: entry.id, hosts: entry.hosts, plugins: entry.plugins, built: built, pool: resident) {
            let candidates = (sources.indexPath.map { [TenantIndex.copyPath(entry.contentKey, in: $0)] } ?? []) + [entry.file]
            let text = candidates.lazy.compactMap { path -> String? in
                guard let data = FileManager.default.contents(atPath: path),
                      TenantIndex.contentKey(of: data, shared: shared) == entry.contentKey
                else { return nil }
                return String(data: data, encoding: .utf8)
            }.first
            guard let text,
                  let definition = loader.load(tenantSources: [(entry.file, text)], sharing: fragments).tenants.first?.definition,
                  definition.id == entry.id,
                  let theme = try? themes.theme(for: entry.id)
            else { return nil }
            return PortalTenant(definition: definition, theme: theme, catalog: sources.catalog)
        }
    }

    private nonisolated func record(_ report: TenantReloadReport) {
        lastReport.withLock { $0 = report }
        for id in report.applied { OperationsMetrics.reload(outcome: .applied, tenant: id) }
        for rejection in report.rejected { OperationsMetrics.reload(outcome: .rejected, tenant: rejection.tenant ?? "*") }
        if !report.changedAnything && report.rejected.isEmpty { OperationsMetrics.reload(outcome: .unchanged) }
        OperationsMetrics.tenantFilesRejected(report.rejected.count)
        let metadata: Logger.Metadata = [
            "trigger": "\(report.trigger)", "served": "\(report.served.count)", "applied": "\(Self.listed(report.applied))",
            "removed": "\(Self.listed(report.removed))", "validated": "\(report.validatedFiles)", "rejected": "\(report.rejected.count)", "digest": "\(report.digest.prefix(12))",
        ]
        // A reload asked for (start, SIGHUP, `sportello reload`) is always logged; the watcher's only when it did something.
        if report.changedAnything || !report.rejected.isEmpty || report.trigger != "file change" {
            logger.info("tenants loaded", metadata: metadata)
        }
        for rejection in report.rejected {
            logger.error("tenant file rejected", metadata: [
                "file": "\(rejection.file)", "tenant": "\(rejection.tenant ?? "-")",
                "serving": "\(rejection.keptLastGood ? "last good version" : "nothing (503)")",
                "errors": "\(rejection.errors.prefix(5).joined(separator: " | "))",
            ])
        }
    }

    /// Ids for a log line: all of a few, the first of many with how many more (a start of 10,000 tenants logs one line).
    static func listed(_ ids: [String], limit: Int = 20) -> String {
        ids.count <= limit ? ids.joined(separator: ",") : ids.prefix(limit).joined(separator: ",") + ",… (\(ids.count - limit) more)"
    }

    /// The `id:` and `hosts:` a broken file declares, read leniently (the hosts then answer 503 rather than 404).
    /// A file that is not even YAML is read line by line for a top-level `hosts: [a, b]` or `hosts:` with `- a` items.
    static func declaredIdentity(_ text: String, file: String) -> (id: String?, hosts: [String]) {
        var bag = DiagnosticBag()
        if let node = ConfigParser.parse(text, file: file, diagnostics: &bag) {
            return (node["id"]?.scalar, node["hosts"]?.items?.compactMap(\.scalar) ?? [])
        }
        func clean(_ value: Substring) -> String {
            value.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var id: String?, hosts: [String] = []
        for (index, line) in lines.enumerated() {
            if line.hasPrefix("id:") { id = clean(line.dropFirst(3)) }
            guard line.hasPrefix("hosts:") else { continue }
            let rest = line.dropFirst("hosts:".count).trimmingCharacters(in: .whitespaces)
            if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
                hosts = rest[rest.index(after: rest.startIndex)..<close].split(separator: ",").map(clean).filter { !$0.isEmpty }
            } else if rest.isEmpty {
                for item in lines[(index + 1)...] {
                    let trimmed = item.trimmingCharacters(in: .whitespaces)
                    guard trimmed.hasPrefix("- ") else { break }
                    hosts.append(clean(trimmed.dropFirst(2)))
                }
            }
        }
        return (id, hosts)
    }

    /// A digest of every file's bytes below `path` (empty folder or none: a constant).
    static func contentDigest(of path: String) -> String {
        var hasher = SHA256()
        for file in TenantSources.regularFiles(under: path, extensions: nil).sorted() {
            hasher.update(data: Data(file.utf8))
            if let data = FileManager.default.contents(atPath: file) { hasher.update(data: data) }
        }
        return TenantIndex.hex(hasher.finalize())
    }

    static func setDigest(_ digests: [String]) -> String {
        var hasher = SHA256()
        for digest in digests.sorted() { hasher.update(data: Data(digest.utf8)) }
        return TenantIndex.hex(hasher.finalize())
    }

}

/// The themes of one reload: every tenant without a templates folder of its own has the same theme (the default
/// one), loaded once and shared, rather than its own copy of every page compiled again.
final class SharedThemes: Sendable {
    let templates: URL
    private let defaultTheme = Mutex<Result<PortalTheme, any Error>?>(nil)

    init(templates: URL) { self.templates = templates }

    func theme(for tenantId: String) throws -> PortalTheme {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: templates.appendingPathComponent(tenantId).path, isDirectory: &isDirectory) {
            return try PortalTheme.load(root: templates, tenantId: tenantId)
        }
        return try defaultTheme.withLock { cached in
            if let cached { return try cached.get() }
            let loaded = Result<PortalTheme, any Error> { try PortalTheme.load(root: templates, tenantId: tenantId) }
            cached = loaded
            return try loaded.get()
        }
    }
}

/// The e-mail templates, replaced whole by a reload (a `MailComposer` whose templates can change under it).
public final class ReloadableMailTemplates: MailComposer {
    private let current: Mutex<MailTemplates>

    public init(_ templates: MailTemplates) { current = Mutex(templates) }

    public var templates: MailTemplates { current.withLock { $0 } }

    func replace(_ templates: MailTemplates) { current.withLock { $0 = templates } }

    public func compose(kind: String, tenant: TenantDefinition, locale: String, recipient: String,
                        values: [String: String], createdAt: Int64) throws -> OutboxRecord {
        try templates.compose(kind: kind, tenant: tenant, locale: locale, recipient: recipient, values: values, createdAt: createdAt)
    }
}
