import Foundation

/// A tenant definition ready to serve, with the locations of everything it says.
public struct LoadedTenant: Sendable {
    public var definition: TenantDefinition
    public var file: String
    public var locations: LocationIndex
}

/// The outcome of reading a set of definition files: the tenants that loaded and every problem found.
public struct LoadResult: Sendable {
    public var tenants: [LoadedTenant]
    /// The tenants' problems and the plugin manifests' (a broken manifest is an error of the deployment).
    public var diagnostics: [Diagnostic]
    /// The plugin manifests the tenants were checked against (what `serve` connects).
    public var plugins: PluginCatalogue = .none

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }
}

/// Reads tenant and fragment files, resolves `extends:`, checks structure and meaning.
public struct TenantLoader: Sendable {
    /// The plugin manifests tenants may use (`plugins/*.yaml`), and ids known without a manifest.
    public var plugins: PluginCatalogue
    /// Plugin ids that tenants may reference.
    public var knownPlugins: Set<String> { plugins.ids }
    /// Password policies below this length get a warning.
    public var passwordFloor: Int
    /// Keep every value's source position after loading (`explain` and `test` need them; serving does not).
    public var retainLocations: Bool
    /// The capabilities features may bind to and whose options tenants may choose (the portal's modules).
    public let capabilities: CapabilityCatalogue
    /// The named checks field validators may use (`check: iban`); a deployment registers its own on `.standard`.
    public let checks: FieldChecks
    private let schema: ObjectSchema

    /// A loader that knows plugins by id only (no manifest to compare bindings with).
    public init(capabilities: CapabilityCatalogue, checks: FieldChecks = .standard, knownPlugins: Set<String> = [],
                passwordFloor: Int = 8, retainLocations: Bool = true) {
        self.init(capabilities: capabilities, checks: checks, plugins: PluginCatalogue(extraIds: knownPlugins),
                  passwordFloor: passwordFloor, retainLocations: retainLocations)
    }

    /// A loader that checks tenants against the plugin manifests of `plugins` (`PluginCatalogue.load(directory:)`);
    /// the manifests' own problems are reported with the tenants'.
    public init(capabilities: CapabilityCatalogue, checks: FieldChecks = .standard, plugins: PluginCatalogue,
                passwordFloor: Int = 8, retainLocations: Bool = true) {
        self.capabilities = capabilities
        self.checks = checks
        self.plugins = plugins
        self.passwordFloor = passwordFloor
        self.retainLocations = retainLocations
        schema = TenantSchema.tenant(capabilities)
    }

    /// Files named by `paths`: YAML files directly, or every `*.yaml`/`*.yml` inside a directory.
    public static func definitionFiles(in paths: [String]) throws -> [String] {
        var files: [String] = []
        let manager = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw LoaderError(code: "path-not-found", message: "\(path): no such file or directory")
            }
            if isDirectory.boolValue {
                let names = try manager.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
                files += names.map { (path as NSString).appendingPathComponent($0) }
            } else {
                files.append(path)
            }
        }
        return files
    }

    /// Reads plugin ids from `plugins/*.yaml` manifests (`id: <name>`), or file names when absent (for tools that do
    /// not check manifests; `PluginCatalogue.load(directory:)` reads and checks them).
    public static func pluginIDs(in directory: String) -> Set<String> {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var ids = Set<String>()
        for name in names where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            let path = (directory as NSString).appendingPathComponent(name)
            var bag = DiagnosticBag()
            if let text = try? String(contentsOfFile: path, encoding: .utf8), let node = ConfigParser.parse(text, file: path, diagnostics: &bag), let id = node["id"]?.scalar {
                ids.insert(id)
            } else {
                ids.insert((name as NSString).deletingPathExtension)
            }
        }
        return ids
    }

    /// Loads files from disk. Unreadable files become diagnostics, never crashes.
    public func load(files: [String]) -> LoadResult { load(inputs: files.map { Input(file: $0, text: nil) }) }

    /// Loads definitions from in-memory sources (used by tests, the fuzzer and the benchmark).
    public func load(sources: [(file: String, text: String)]) -> LoadResult { load(inputs: sources.map { Input(file: $0.file, text: $0.text) }) }

    private struct Input: Sendable {
        var file: String
        var text: String?

        func read() -> String? { text ?? (try? String(contentsOfFile: file, encoding: .utf8)) }
    }

    /// What loading one file produced.
    private struct Outcome: Sendable {
        var tenant: LoadedTenant?
        var diagnostics: [Diagnostic] = []
    }

    /// The fragment files among `files`, parsed and resolved once: `load(tenantFiles:sharing:)` then loads tenant
    /// files a few at a time (the tenant index, a tenant loaded on its first request) without reading them again.
    public func resolveFragments(files: [String]) -> ResolvedFragments {
        let texts = files.map { Input(file: $0, text: nil) }
        let (fragments, _, diagnostics) = scan(texts, keepingTenants: false)
        return fragments.with(diagnostics)
    }

    /// Loads tenant files (no fragment among them) against fragments resolved before; the result's diagnostics are
    /// the tenants' own (the fragments' are in `fragments.diagnostics`), with the same cross-file checks as `load`.
    public func load(tenantFiles: [String], sharing fragments: ResolvedFragments) -> LoadResult {
        var bag = DiagnosticBag()
        return loadTenants(tenantFiles.map { Input(file: $0, text: nil) }, fragments: fragments, bag: &bag)
    }

    /// The same from texts in hand (a tenant built again from the copy its index kept), named as their files.
    public func load(tenantSources: [(file: String, text: String)], sharing fragments: ResolvedFragments) -> LoadResult {
        var bag = DiagnosticBag()
        return loadTenants(tenantSources.map { Input(file: $0.file, text: $0.text) }, fragments: fragments, bag: &bag)
    }

    /// Fragments are found and resolved first; then every tenant file is read, parsed, checked and
    /// decoded on its own, in parallel, so memory holds one file's tree per core rather than all of them.
    private func load(inputs: [Input]) -> LoadResult {
        var (fragments, tenantInputs, bag) = scan(inputs, keepingTenants: true)
        return loadTenants(tenantInputs, fragments: fragments, bag: &bag)
    }

    private func workers(for count: Int) -> Int { max(1, min(ProcessInfo.processInfo.activeProcessorCount, count / 16)) }

    /// Reads every input far enough to tell fragments from tenants, and resolves the fragments' `extends:`.
    private func scan(_ inputs: [Input], keepingTenants: Bool) -> (ResolvedFragments, [Input], DiagnosticBag) {
        var bag = DiagnosticBag()
        let scanned = parallelMap(inputs, workers: workers(for: inputs.count)) { input, _ -> (isFragment: Bool, node: ConfigNode?, diagnostics: [Diagnostic]) in
            guard let text = input.read() else {
                return (false, nil, [Diagnostic(.error, code: "unreadable-file", at: SourceLocation(file: input.file, line: 1, column: 1), "cannot read the file as UTF-8 text")])
            }
            guard Self.declaresFragment(text) else { return (false, nil, []) }
            var local = DiagnosticBag()
            return (true, ConfigParser.parse(text, file: input.file, diagnostics: &local), local.items)
        }
        var fragments: [String: ConfigNode] = [:]
        var tenantInputs: [Input] = []
        for (input, scan) in zip(inputs, scanned) {
            bag.append(contentsOf: scan.diagnostics)
            if !scan.isFragment {
                if keepingTenants && scan.diagnostics.isEmpty { tenantInputs.append(input) }
                continue
            }
            guard let node = scan.node, let fragmentNode = node["fragment"] else { continue }
            guard let name = fragmentNode.scalar, StringFormat.identifier.accepts(name) else {
                bag.error("invalid-value", at: fragmentNode.location, "'fragment' must be an id, found \(fragmentNode.kindName)")
                continue
            }
            if fragments[name] != nil {
                bag.error("duplicate-fragment", at: fragmentNode.location, "fragment '\(name)' is defined twice")
                continue
            }
            fragments[name] = node
        }
        var resolved: [String: ConfigNode] = [:]
        for name in fragments.keys.sorted() {
            _ = resolveFragment(name, chain: [], fragments: fragments, resolved: &resolved, diagnostics: &bag)
        }
        return (ResolvedFragments(nodes: resolved, diagnostics: []), tenantInputs, bag)
    }

    private func loadTenants(_ tenantInputs: [Input], fragments: ResolvedFragments, bag: inout DiagnosticBag) -> LoadResult {
        let resolvedFragments = fragments.nodes
        let outcomes = parallelMap(tenantInputs, workers: workers(for: tenantInputs.count)) { input, interner -> Outcome in
            self.loadTenant(input, fragments: resolvedFragments, interner: interner)
        }
        var loaded: [LoadedTenant] = []
        for outcome in outcomes {
            bag.append(contentsOf: outcome.diagnostics)
            if let tenant = outcome.tenant { loaded.append(tenant) }
        }
        crossTenantChecks(loaded, diagnostics: &bag)
        let filesWithErrors = Set(bag.items.filter { $0.severity == .error }.map(\.location.file))
        let valid = loaded.filter { !filesWithErrors.contains($0.file) }
        bag.append(contentsOf: plugins.diagnostics)
        return LoadResult(tenants: valid, diagnostics: bag.sorted, plugins: plugins)
    }

    /// A fragment names itself with a top-level `fragment:` key, written at the start of a line.
    public static func declaresFragment(_ text: String) -> Bool {
        // Bytes, not `String.contains`: Foundation's substring search cost a tenth of loading 10,000 tenants.
        let key = Array("fragment:".utf8)
        return text.utf8.withContiguousStorageIfAvailable { bytes in
            var lineStart = 0
            while lineStart + key.count <= bytes.count {
                if bytes[lineStart] == key[0], bytes[lineStart..<(lineStart + key.count)].elementsEqual(key) { return true }
                guard let newline = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) else { return false }
                lineStart = newline + 1
            }
            return false
        } ?? (text.hasPrefix("fragment:") || text.contains("\nfragment:"))
    }

    private func loadTenant(_ input: Input, fragments: [String: ConfigNode], interner: Interner) -> Outcome {
        var bag = DiagnosticBag()
        guard let text = input.read() else { return Outcome() }
        guard let node = ConfigParser.parse(text, file: input.file, interner: interner, diagnostics: &bag) else { return Outcome(diagnostics: bag.items) }
        guard node.entries != nil else {
            bag.error("type-mismatch", at: node.location, "a definition must be a mapping of keys, found \(node.kindName)",
                      hint: "start the file with 'id: <tenant>' or 'fragment: <name>'")
            return Outcome(diagnostics: bag.items)
        }
        if let fragmentKey = node.entries?.first(where: { $0.key == "fragment" }) {
            bag.error("misplaced-fragment", at: fragmentKey.keyLocation, "'fragment:' must start a line at the top of the file",
                      hint: "write the fragment in block style, not inside { }")
            return Outcome(diagnostics: bag.items)
        }
        let merged = mergeExtends(node, fragments: fragments, diagnostics: &bag)
        var walker = SchemaWalker(file: input.file)
        let normalized = walker.walk(merged, .object(schema), path: "")
        bag.append(contentsOf: walker.diagnostics.items)
        guard let normalized else { return Outcome(diagnostics: bag.items) }
        let definition: TenantDefinition
        do {
            definition = try ConfigDecoder.decode(TenantDefinition.self, from: normalized, interner: interner)
        } catch {
            if !walker.diagnostics.hasErrors {
                bag.error("internal", at: SourceLocation(file: input.file, line: 1, column: 1), "definition could not be read: \(error)")
            }
            return Outcome(diagnostics: bag.items)
        }
        var tenant = LoadedTenant(definition: definition, file: input.file, locations: walker.locations)
        var checker = SemanticValidator(tenant: tenant, plugins: plugins, passwordFloor: passwordFloor, capabilities: capabilities, checks: checks)
        checker.run()
        bag.append(contentsOf: checker.diagnostics.items)
        tenant.definition.bindSlotNamedFeatures(in: capabilities)
        if !retainLocations { tenant.locations = tenant.locations.withoutPositions }
        return Outcome(tenant: tenant, diagnostics: bag.items)
    }

    /// Resolves one fragment's own `extends:` chain, reporting unknown names and cycles once.
    private func resolveFragment(_ name: String, chain: [String], fragments: [String: ConfigNode],
                                 resolved: inout [String: ConfigNode], diagnostics: inout DiagnosticBag) -> ConfigNode? {
        if let done = resolved[name] { return done }
        guard let fragment = fragments[name] else { return nil }
        var base: ConfigNode?
        for (parent, location) in extendsNames(fragment) {
            if chain.contains(parent) || parent == name {
                diagnostics.error("extends-cycle", at: location, "'extends' forms a cycle: \((chain + [name, parent]).joined(separator: " → "))",
                                  hint: "a fragment cannot extend itself, directly or through others")
                continue
            }
            guard fragments[parent] != nil else {
                diagnostics.error("unknown-fragment", at: location, "unknown fragment '\(parent)' in 'extends'",
                                  hint: Suggest.hint(for: parent, in: fragments.keys) ?? "a fragment is a file with 'fragment: \(parent)'")
                continue
            }
            if let parentNode = resolveFragment(parent, chain: chain + [name], fragments: fragments, resolved: &resolved, diagnostics: &diagnostics) {
                base = base.map { parentNode.merged(over: $0) } ?? parentNode
            }
        }
        let own = ConfigNode(.mapping((fragment.entries ?? []).filter { $0.key != "fragment" && $0.key != "extends" }), at: fragment.location)
        let result = base.map { own.merged(over: $0) } ?? own
        resolved[name] = result
        return result
    }

    private func extendsNames(_ node: ConfigNode) -> [(String, SourceLocation)] {
        guard let extendsNode = node["extends"] else { return [] }
        switch extendsNode.value {
        case .sequence(let items): return items.compactMap { item in item.scalar.map { ($0, item.location) } }
        case .scalar(let name, _): return [(name, extendsNode.location)]
        default: return []
        }
    }

    /// Merges the (already resolved) fragments named in `extends:` underneath a tenant.
    private func mergeExtends(_ node: ConfigNode, fragments: [String: ConfigNode], diagnostics: inout DiagnosticBag) -> ConfigNode {
        var base: ConfigNode?
        for (name, location) in extendsNames(node) {
            guard let fragment = fragments[name] else {
                diagnostics.error("unknown-fragment", at: location, "unknown fragment '\(name)' in 'extends'",
                                  hint: Suggest.hint(for: name, in: fragments.keys) ?? "a fragment is a file with 'fragment: \(name)'")
                continue
            }
            base = base.map { fragment.merged(over: $0) } ?? fragment
        }
        return base.map { node.merged(over: $0) } ?? node
    }

    private func crossTenantChecks(_ tenants: [LoadedTenant], diagnostics: inout DiagnosticBag) {
        var ids: [String: LoadedTenant] = [:]
        var hosts: [String: LoadedTenant] = [:]
        for tenant in tenants {
            let id = tenant.definition.id
            if let first = ids[id] {
                diagnostics.error("duplicate-tenant", at: tenant.locations.value("id"), "tenant id '\(id)' is already used by \(first.file)",
                                  hint: "every tenant needs its own id")
            } else {
                ids[id] = tenant
            }
            for (index, host) in tenant.definition.hosts.enumerated() {
                let key = host.lowercased()
                if let first = hosts[key], first.file != tenant.file || first.definition.id != id {
                    diagnostics.error("duplicate-host", at: tenant.locations.value("hosts/\(index)"),
                                      "host '\(host)' is already claimed by tenant '\(first.definition.id)' (\(first.file))",
                                      hint: "a host name can serve only one tenant")
                } else {
                    hosts[key] = tenant
                }
            }
        }
    }
}

/// Fragment files parsed and resolved (`TenantLoader.resolveFragments(files:)`), with the problems found in them.
public struct ResolvedFragments: Sendable {
    let nodes: [String: ConfigNode]
    public let diagnostics: [Diagnostic]

    func with(_ bag: DiagnosticBag) -> ResolvedFragments { ResolvedFragments(nodes: nodes, diagnostics: bag.items) }
}

/// A failure that stops loading altogether (a path that does not exist).
public struct LoaderError: Error, CustomStringConvertible {
    public var code: String
    public var message: String
    public var description: String { message }
}

/// Maps `items` on `workers` threads, each with its own `Interner`, keeping the input order.
func parallelMap<Item: Sendable, Result: Sendable>(_ items: [Item], workers: Int, _ transform: @Sendable (Item, Interner) -> Result) -> [Result] {
    let results = ResultSlots<Result>(count: items.count)
    let chunk = (items.count + workers - 1) / max(workers, 1)
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
        let interner = Interner()
        // More workers than chunks (5 items on 4 workers: chunks of 2) leaves the last ones nothing to do.
        let range = min(items.count, worker * chunk)..<min(items.count, (worker + 1) * chunk)
        for index in range { results.store(transform(items[index], interner), at: index) }
    }
    return results.values
}

/// Output slots written by `parallelMap`.
private final class ResultSlots<Value>: @unchecked Sendable {  // each slot is written by exactly one worker, read after all finish
    private let buffer: UnsafeMutablePointer<Value?>
    private let count: Int

    init(count: Int) {
        self.count = count
        buffer = .allocate(capacity: max(count, 1))
        buffer.initialize(repeating: nil, count: count)
    }

    deinit {
        buffer.deinitialize(count: count)
        buffer.deallocate()
    }

    func store(_ value: Value, at index: Int) { buffer[index] = value }
    var values: [Value] { (0..<count).map { buffer[$0]! } }
}
