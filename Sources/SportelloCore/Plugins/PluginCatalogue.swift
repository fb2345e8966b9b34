import Foundation

/// A manifest ready to use, with the locations of what it says.
public struct LoadedPlugin: Sendable {
    public var manifest: PluginManifest
    public var file: String
    public var locations: LocationIndex

    public var id: String { manifest.id }
}

/// The plugin manifests of a deployment (`plugins/*.yaml`), checked, with every problem found in them.
///
/// Tenants reference plugins by id; `TenantLoader` checks those references and the tenant's bindings against the
/// manifests (a feature bound to a plugin of the wrong kind, a method the provider does not offer).
public struct PluginCatalogue: Sendable {
    /// The manifests that loaded without errors, by id.
    public let manifests: [String: LoadedPlugin]
    /// Ids tenants may reference: the manifests' and `extraIds` (known without a manifest, as tests state them).
    public let ids: Set<String>
    public let diagnostics: [Diagnostic]

    public init(manifests: [LoadedPlugin] = [], extraIds: Set<String> = [], diagnostics: [Diagnostic] = []) {
        self.manifests = Dictionary(manifests.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        ids = extraIds.union(manifests.map(\.id))
        self.diagnostics = diagnostics
    }

    /// No plugins at all.
    public static let none = PluginCatalogue()

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// The manifest of `id`, nil when unknown (or known by id only).
    public subscript(id: String) -> PluginManifest? { manifests[id]?.manifest }

    /// The manifests of `kind`, by id.
    public func manifests(of kind: PluginKind) -> [PluginManifest] {
        manifests.values.map(\.manifest).filter { $0.kind == kind }.sorted { $0.id < $1.id }
    }

    /// Every `*.yaml`/`*.yml` manifest in `directory`; a missing directory is no plugins.
    public static func load(directory: String) -> PluginCatalogue {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return .none }
        let files = names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
        return load(sources: files.map { file in (file: file, text: try? String(contentsOfFile: file, encoding: .utf8)) })
    }

    /// Manifests from in-memory sources (nil text: the file could not be read).
    public static func load(sources: [(file: String, text: String?)]) -> PluginCatalogue {
        var bag = DiagnosticBag()
        var loaded: [LoadedPlugin] = []
        // A broken manifest is reported once, here: tenants naming it are not told it is unknown.
        var broken = Set<String>()
        for source in sources {
            let stem = ((source.file as NSString).lastPathComponent as NSString).deletingPathExtension
            guard let text = source.text else {
                bag.error("unreadable-file", at: SourceLocation(file: source.file, line: 1, column: 1), "cannot read the file as UTF-8 text")
                broken.insert(stem)
                continue
            }
            var local = DiagnosticBag()
            defer {
                if local.hasErrors {
                    broken.insert(stem)
                    var scratch = DiagnosticBag()
                    if let id = ConfigParser.parse(text, file: source.file, diagnostics: &scratch)?["id"]?.scalar { broken.insert(id) }
                }
            }
            if let plugin = loadManifest(text, file: source.file, diagnostics: &local) {
                if let first = loaded.first(where: { $0.id == plugin.id }) {
                    local.error("duplicate-plugin", at: plugin.locations.value("id"), "plugin id '\(plugin.id)' is already used by \(first.file)",
                                hint: "every manifest needs its own id")
                } else if !local.hasErrors {
                    loaded.append(plugin)
                }
            }
            bag.append(contentsOf: local.items)
        }
        return PluginCatalogue(manifests: loaded, extraIds: broken, diagnostics: bag.sorted)
    }

    static func loadManifest(_ text: String, file: String, diagnostics: inout DiagnosticBag) -> LoadedPlugin? {
        var parse = DiagnosticBag()
        guard let node = ConfigParser.parse(text, file: file, diagnostics: &parse) else {
            diagnostics.append(contentsOf: parse.items.map { item in
                var copy = item
                if copy.code == "empty-file" { copy.hint = "a plugin manifest starts with 'id:' and 'kind:'" }
                return copy
            })
            return nil
        }
        var walker = SchemaWalker(file: file)
        let normalized = walker.walk(node, PluginSchema.manifestShape, path: "")
        diagnostics.append(contentsOf: walker.diagnostics.items)
        guard let normalized else { return nil }
        let manifest: PluginManifest
        do {
            manifest = try ConfigDecoder.decode(PluginManifest.self, from: normalized)
        } catch {
            // What the walker dropped was already reported; otherwise this is the platform's fault.
            if !walker.diagnostics.hasErrors {
                diagnostics.error("internal", at: SourceLocation(file: file, line: 1, column: 1), "manifest could not be read: \(error)")
            }
            return nil
        }
        let plugin = LoadedPlugin(manifest: manifest, file: file, locations: walker.locations)
        var checker = ManifestChecker(plugin: plugin)
        checker.run()
        diagnostics.append(contentsOf: checker.diagnostics.items)
        return plugin
    }

    /// Whether `name` is written like an environment variable (`SPORTELLO_PSP_SECRET`).
    public static func isEnvironmentName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("A"..."Z").contains(first) || first == "_" else { return false }
        return name.count <= 128 && name.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}

/// What a structurally valid manifest must also mean.
private struct ManifestChecker {
    let plugin: LoadedPlugin
    var diagnostics = DiagnosticBag()

    var manifest: PluginManifest { plugin.manifest }
    func at(_ path: String) -> SourceLocation { plugin.locations.value(path) }
    func key(_ path: String) -> SourceLocation { plugin.locations.key(path) }

    static let longestTimeoutSeconds = 120

    mutating func run() {
        let stem = ((plugin.file as NSString).lastPathComponent as NSString).deletingPathExtension
        if stem != manifest.id {
            diagnostics.error("plugin-id-mismatch", at: at("id"), "plugin id '\(manifest.id)' differs from its file name '\(stem)'",
                              hint: "name the file plugins/\(manifest.id).yaml, or set id: \(stem)")
        }
        checkEndpoint()
        checkTimeouts()
        checkSecrets()
        checkRetry()
        switch manifest.kind {
        case .payments: checkPayments()
        case .webhook: checkWebhook()
        case .lookup:
            if manifest.lookup == nil {
                diagnostics.error("missing-key", at: key("kind"), "a lookup plugin needs a 'lookup' section", hint: "for example: lookup: {operation: domain_availability}")
            }
        case .sms: break
        }
    }

    private mutating func checkEndpoint() {
        let endpoint = manifest.endpoint
        if endpoint.url == nil && endpoint.urlEnv == nil {
            diagnostics.error("missing-endpoint", at: key("endpoint"), "the endpoint needs 'url' or 'url_env'",
                              hint: "for example: endpoint: {url_env: SPORTELLO_PSP_URL}")
        }
        if let url = endpoint.url, let components = URLComponents(string: url), components.user != nil || components.password != nil {
            diagnostics.error("secret-in-manifest", at: at("endpoint/url"), "'url' carries credentials ('user:password@'): secrets never go in the manifest",
                              hint: "name the environment variable that holds the whole URL instead: url_env: SPORTELLO_\(manifest.id.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined())_URL")
        } else if let url = endpoint.url, !Self.isHTTPURL(url) {
            diagnostics.error("invalid-url", at: at("endpoint/url"), "'url' must be an http:// or https:// address, found '\(url)'")
        }
        if let name = endpoint.urlEnv { checkVariable(name, at: "endpoint/url_env", what: "url_env") }
    }

    static func isHTTPURL(_ text: String) -> Bool {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty else { return false }
        return components.query == nil && components.fragment == nil
    }

    private mutating func checkTimeouts() {
        for (name, value) in [("connect", manifest.timeouts?.connect), ("request", manifest.timeouts?.request)] {
            guard let value else { continue }
            if value.seconds < 1 || value.seconds > Self.longestTimeoutSeconds {
                diagnostics.error("out-of-range", at: at("timeouts/\(name)"), "timeout '\(name)' must be between 1s and \(Self.longestTimeoutSeconds)s, found \(value)",
                                  hint: "a page waits for the plugin: keep it short")
            }
        }
    }

    private mutating func checkSecrets() {
        for (name, variable) in manifest.secrets ?? OrderedMap() {
            checkVariable(variable, at: "secrets/\(name)", what: "secret '\(name)'")
        }
    }

    private mutating func checkVariable(_ name: String, at path: String, what: String) {
        guard !PluginCatalogue.isEnvironmentName(name) else { return }
        let stem = "SPORTELLO_" + manifest.id.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
        diagnostics.error("invalid-env-name", at: at(path), "\(what) must name an environment variable (uppercase letters, digits and '_'), found '\(Self.redacted(name))'",
                          hint: path.hasPrefix("secrets/") ? "secrets are read from the environment, never written in the manifest: e.g. \(stem)_SECRET"
                                                           : "e.g. \(stem)_URL")
    }

    /// A value written where an environment variable's name belongs may be a secret: show only its start.
    static func redacted(_ value: String) -> String {
        value.count <= 6 ? value : String(value.prefix(3)) + "…"
    }

    private mutating func requireSecret(_ name: String, reason: String) {
        if manifest.secretVariable(name) == nil {
            diagnostics.error("missing-secret", at: manifest.secrets == nil ? key("kind") : key("secrets"), "a \(manifest.kind.rawValue) plugin needs the secret '\(name)' (\(reason))",
                              hint: "for example: secrets: {\(name): SPORTELLO_\(manifest.id.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined())_SECRET}")
        }
    }

    /// A webhook signs its deliveries, names event types that exist, and states a sensible replay window.
    private mutating func checkWebhook() {
        requireSecret("signing_key", reason: "webhook deliveries are signed")
        let known = WebhookEvents.types
        var seen = Set<String>()
        for (index, type) in (manifest.webhook?.events ?? []).enumerated() {
            if !known.contains(type) {
                diagnostics.error("unknown-event-type", at: at("webhook/events/\(index)"), "event type '\(type)' is not one the portal records",
                                  hint: Suggest.hint(for: type, in: known) ?? "event types: \(known.joined(separator: ", "))")
            } else if !seen.insert(type).inserted {
                diagnostics.error("duplicate-value", at: at("webhook/events/\(index)"), "event type '\(type)' is listed twice")
            }
        }
        if let window = manifest.webhook?.replayWindow, window.seconds < 1 || window.seconds > 3600 {
            diagnostics.error("out-of-range", at: at("webhook/replay_window"), "'replay_window' must be between 1s and 1h, found \(window)",
                              hint: "a longer window lets an intercepted delivery be replayed for longer")
        }
    }

    private mutating func checkRetry() {
        guard let retry = manifest.retry, let backoff = retry.backoff, let longest = retry.maxBackoff else { return }
        if backoff.seconds > longest.seconds {
            diagnostics.error("out-of-range", at: at("retry/backoff"), "'backoff' (\(backoff)) is longer than 'max_backoff' (\(longest))")
        }
    }

    private mutating func checkPayments() {
        requireSecret("signing_key", reason: "payment requests are signed and notifications verified with it")
        guard let payments = manifest.payments else {
            diagnostics.error("missing-key", at: key("kind"), "a payments plugin needs a 'payments' section", hint: "for example: payments: {methods: [card]}")
            return
        }
        for (index, currency) in (payments.currencies ?? []).enumerated() {
            let valid = currency.count == 3 && currency.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) }
            if !valid {
                diagnostics.error("invalid-value", at: at("payments/currencies/\(index)"), "'\(currency)' is not an ISO 4217 currency code", hint: "for example EUR")
            }
        }
        var seen = Set<PaymentMethod>()
        for (index, method) in payments.methods.enumerated() where !seen.insert(method).inserted {
            diagnostics.error("duplicate-value", at: at("payments/methods/\(index)"), "method '\(method.rawValue)' is listed twice")
        }
        if let window = payments.replayWindow, window.seconds < 1 || window.seconds > 3600 {
            diagnostics.error("out-of-range", at: at("payments/replay_window"), "'replay_window' must be between 1s and 1h, found \(window)",
                              hint: "a longer window lets an intercepted notification be replayed for longer")
        }
    }
}
