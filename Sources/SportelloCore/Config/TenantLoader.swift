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
    public var diagnostics: [Diagnostic]

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }
}

/// Reads tenant and fragment files, resolves `extends:`, checks structure and meaning.
public struct TenantLoader: Sendable {
    /// Plugin ids that tenants may reference (manifests found under `plugins/`).
    public var knownPlugins: Set<String>
    /// Password policies below this length get a warning.
    public var passwordFloor: Int

    public init(knownPlugins: Set<String> = [], passwordFloor: Int = 8) {
        self.knownPlugins = knownPlugins
        self.passwordFloor = passwordFloor
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

    /// Reads plugin ids from `plugins/*.yaml` manifests (`id: <name>`), or file names when absent.
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
    public func load(files: [String]) -> LoadResult {
        var sources: [(file: String, text: String)] = []
        var bag = DiagnosticBag()
        for file in files {
            do {
                sources.append((file, try String(contentsOfFile: file, encoding: .utf8)))
            } catch {
                bag.error("unreadable-file", at: SourceLocation(file: file, line: 1, column: 1), "cannot read the file as UTF-8 text")
            }
        }
        var result = load(sources: sources)
        result.diagnostics = (bag.items + result.diagnostics)
        return result
    }

    /// Loads definitions from in-memory sources (used by tests, the fuzzer and the benchmark).
    public func load(sources: [(file: String, text: String)]) -> LoadResult {
        var bag = DiagnosticBag()
        var fragments: [String: ConfigNode] = [:]
        var tenantNodes: [(file: String, node: ConfigNode)] = []

        for source in sources {
            guard let node = ConfigParser.parse(source.text, file: source.file, diagnostics: &bag) else { continue }
            guard node.entries != nil else {
                bag.error("type-mismatch", at: node.location, "a definition must be a mapping of keys, found \(node.kindName)",
                          hint: "start the file with 'id: <tenant>' or 'fragment: <name>'")
                continue
            }
            if let fragmentNode = node["fragment"] {
                guard let name = fragmentNode.scalar, StringFormat.identifier.accepts(name) else {
                    bag.error("invalid-value", at: fragmentNode.location, "'fragment' must be an id, found \(fragmentNode.kindName)")
                    continue
                }
                if fragments[name] != nil {
                    bag.error("duplicate-fragment", at: fragmentNode.location, "fragment '\(name)' is defined twice")
                    continue
                }
                fragments[name] = node
            } else {
                tenantNodes.append((source.file, node))
            }
        }

        var fragmentCache: [String: ConfigNode] = [:]
        var loaded: [LoadedTenant] = []
        for (file, node) in tenantNodes {
            let merged = resolveExtends(node, chain: [], fragments: fragments, cache: &fragmentCache, diagnostics: &bag)
            var walker = SchemaWalker(file: file)
            let normalized = walker.walk(merged, .object(TenantSchema.tenant), path: "")
            bag.append(contentsOf: walker.diagnostics.items)
            guard let normalized else { continue }
            let definition: TenantDefinition
            do {
                definition = try ConfigDecoder.decode(TenantDefinition.self, from: normalized)
            } catch {
                if !walker.diagnostics.hasErrors {
                    bag.error("internal", at: SourceLocation(file: file, line: 1, column: 1), "definition could not be read: \(error)")
                }
                continue
            }
            let tenant = LoadedTenant(definition: definition, file: file, locations: walker.locations)
            var checker = SemanticValidator(tenant: tenant, knownPlugins: knownPlugins, passwordFloor: passwordFloor)
            checker.run()
            bag.append(contentsOf: checker.diagnostics.items)
            loaded.append(tenant)
        }
        crossTenantChecks(loaded, diagnostics: &bag)
        let valid = loaded.filter { tenant in !bag.items.contains { $0.severity == .error && $0.location.file == tenant.file } }
        return LoadResult(tenants: valid, diagnostics: bag.sorted)
    }

    /// Merges the fragments named in `extends:` underneath `node`, reporting unknown names and cycles.
    private func resolveExtends(_ node: ConfigNode, chain: [String], fragments: [String: ConfigNode],
                                cache: inout [String: ConfigNode], diagnostics: inout DiagnosticBag) -> ConfigNode {
        guard let extendsNode = node["extends"] else { return node }
        let names: [(String, SourceLocation)]
        switch extendsNode.value {
        case .sequence(let items): names = items.compactMap { item in item.scalar.map { ($0, item.location) } }
        case .scalar(let name, _): names = [(name, extendsNode.location)]
        default: return node
        }
        var base: ConfigNode?
        for (name, location) in names {
            if chain.contains(name) {
                diagnostics.error("extends-cycle", at: location, "'extends' forms a cycle: \((chain + [name]).joined(separator: " → "))",
                                  hint: "a fragment cannot extend itself, directly or through others")
                continue
            }
            guard let fragment = fragments[name] else {
                diagnostics.error("unknown-fragment", at: location, "unknown fragment '\(name)' in 'extends'",
                                  hint: Suggest.hint(for: name, in: fragments.keys) ?? "a fragment is a file with 'fragment: \(name)'")
                continue
            }
            let resolved: ConfigNode
            if let cached = cache[name], chain.isEmpty {
                resolved = cached
            } else {
                resolved = resolveExtends(fragment, chain: chain + [name], fragments: fragments, cache: &cache, diagnostics: &diagnostics)
                if chain.isEmpty { cache[name] = resolved }
            }
            let stripped = ConfigNode(.mapping((resolved.entries ?? []).filter { $0.key != "fragment" && $0.key != "extends" }), at: resolved.location)
            base = base.map { stripped.merged(over: $0) } ?? stripped
        }
        guard let base else { return node }
        return node.merged(over: base)
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

/// A failure that stops loading altogether (a path that does not exist).
public struct LoaderError: Error, CustomStringConvertible {
    public var code: String
    public var message: String
    public var description: String { message }
}
