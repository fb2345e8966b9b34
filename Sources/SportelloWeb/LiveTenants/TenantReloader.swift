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

    public init(paths: [String], plugins: PluginCatalogue, templates: URL, catalog: PortalCatalog = .standard) {
        self.paths = paths; self.plugins = plugins; self.templates = templates; self.catalog = catalog
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
        return TenantReloader.hex(hasher.finalize())
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

    public var changedAnything: Bool { !applied.isEmpty || !removed.isEmpty }
}

/// Loads the tenants from their sources and swaps them into the registry, keeping the last good version of a file
/// that fails validation (or whose templates fail to load).
///
/// A reload reads every file, validates it, and builds a new `PortalTenant` only for the tenants whose sources (the
/// file, the fragments, the default templates and the tenant's own) changed; the others keep their instance. The
/// registry is swapped once, whole: a request holds the `PortalTenant` it started with, so in-flight requests finish
/// on the version they began on. Reloads run one at a time.
public actor TenantReloader {
    private struct Entry {
        var tenant: PortalTenant
        var file: String
        var digest: String
    }

    public nonisolated let sources: TenantSources
    public nonisolated let registry: TenantRegistry
    private let mail: ReloadableMailTemplates?
    private let logger: Logger
    private let loader: TenantLoader
    /// Served tenants by file.
    private var entries: [String: Entry] = [:]
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
    }

    /// The last reload's report (nil before the first).
    public nonisolated var report: TenantReloadReport? { lastReport.withLock { $0 } }

    /// Reloads when the sources' fingerprint differs from the last reload's; nil when nothing changed.
    public func reloadIfChanged(trigger: String) -> TenantReloadReport? {
        let fingerprint = sources.fingerprint()
        guard fingerprint != lastFingerprint else { return nil }
        return reload(trigger: trigger, fingerprint: fingerprint)
    }

    /// Reads, validates and swaps in the tenants now.
    @discardableResult
    public func reload(trigger: String) -> TenantReloadReport {
        reload(trigger: trigger, fingerprint: sources.fingerprint())
    }

    private func reload(trigger: String, fingerprint: String) -> TenantReloadReport {
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
            report.served = entries.values.map(\.tenant.id).sorted()
            report.digest = Self.setDigest(entries.values.map(\.digest))
            return report
        }
        let texts = Dictionary(files.map { ($0, (try? String(contentsOfFile: $0, encoding: .utf8)) ?? "") }, uniquingKeysWith: { first, _ in first })
        let result = loader.load(sources: files.map { (file: $0, text: texts[$0] ?? "") })
        let errorsByFile = Dictionary(grouping: result.errors, by: \.location.file)

        // What every tenant shares: its fragments and the default templates.
        var shared = SHA256()
        for file in files.sorted() where TenantLoader.declaresFragment(texts[file] ?? "") { shared.update(data: Data((texts[file] ?? "").utf8)) }
        shared.update(data: Data(Self.contentDigest(of: sources.templates.appendingPathComponent("default").path).utf8))
        let sharedDigest = Self.hex(shared.finalize())
        let mailTemplates: MailTemplates?
        var mailError: String?
        do { mailTemplates = mail == nil ? nil : try MailTemplates(root: sources.templates) } catch {
            mailTemplates = nil
            mailError = "\(error)"
        }

        var next: [String: Entry] = [:]
        for loaded in result.tenants {
            let id = loaded.definition.id
            var hasher = SHA256()
            hasher.update(data: Data((texts[loaded.file] ?? "").utf8))
            hasher.update(data: Data(sharedDigest.utf8))
            hasher.update(data: Data(Self.contentDigest(of: sources.templates.appendingPathComponent(id).path).utf8))
            let digest = Self.hex(hasher.finalize())
            if let old = entries[loaded.file], old.digest == digest, old.tenant.id == id {
                next[loaded.file] = old
                report.unchanged.append(id)
                continue
            }
            do {
                let theme = try PortalTheme.load(root: sources.templates, tenantId: id)
                next[loaded.file] = Entry(tenant: PortalTenant(definition: loaded.definition, theme: theme, catalog: sources.catalog),
                                          file: loaded.file, digest: digest)
                report.applied.append(id)
            } catch {
                let old = entries[loaded.file]
                if let old { next[loaded.file] = old }
                report.rejected.append(.init(file: loaded.file, tenant: id, keptLastGood: old != nil, errors: ["\(error)"]))
            }
        }
        var unavailable: [String: String] = [:]
        for file in files.sorted() where errorsByFile[file] != nil && next[file] == nil {
            let text = texts[file] ?? ""
            let old = entries[file]
            if let old { next[file] = old }
            let errors = errorsByFile[file]?.map(\.description) ?? []
            if TenantLoader.declaresFragment(text) {
                report.rejected.append(.init(file: file, tenant: nil, keptLastGood: true, errors: errors))
                continue
            }
            let (id, hosts) = Self.declaredIdentity(text, file: file)
            report.rejected.append(.init(file: file, tenant: old?.tenant.id ?? id, keptLastGood: old != nil, errors: errors))
            if old == nil { for host in hosts { unavailable[host] = file } }
        }
        // Two files serving one id (a file renamed while the old one stays): the one loaded first keeps it.
        var seen = Set<String>()
        for file in next.keys.sorted() {
            guard let entry = next[file] else { continue }
            if !seen.insert(entry.tenant.id).inserted { next[file] = nil }
        }
        let servedIds = Set(next.values.map(\.tenant.id))
        report.removed = Set(entries.values.map(\.tenant.id)).subtracting(servedIds).sorted()
        report.served = servedIds.sorted()
        report.digest = Self.setDigest(next.values.map(\.digest))
        if let mailError { report.rejected.append(.init(file: sources.templates.path, tenant: nil, keptLastGood: true, errors: [mailError])) }
        entries = next
        registry.replaceAll(next.values.map(\.tenant), unavailable: unavailable)
        if let mailTemplates { mail?.replace(mailTemplates) }
        return report
    }

    private nonisolated func record(_ report: TenantReloadReport) {
        lastReport.withLock { $0 = report }
        for id in report.applied { OperationsMetrics.reload(outcome: .applied, tenant: id) }
        for rejection in report.rejected { OperationsMetrics.reload(outcome: .rejected, tenant: rejection.tenant ?? "*") }
        if !report.changedAnything && report.rejected.isEmpty { OperationsMetrics.reload(outcome: .unchanged) }
        OperationsMetrics.tenantFilesRejected(report.rejected.count)
        let metadata: Logger.Metadata = [
            "trigger": "\(report.trigger)", "served": "\(report.served.count)", "applied": "\(report.applied.joined(separator: ","))",
            "removed": "\(report.removed.joined(separator: ","))", "rejected": "\(report.rejected.count)", "digest": "\(report.digest.prefix(12))",
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
        return hex(hasher.finalize())
    }

    static func setDigest(_ digests: [String]) -> String {
        var hasher = SHA256()
        for digest in digests.sorted() { hasher.update(data: Data(digest.utf8)) }
        return hex(hasher.finalize())
    }

    static func hex(_ digest: SHA256.Digest) -> String { digest.map { String(format: "%02x", $0) }.joined() }
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
