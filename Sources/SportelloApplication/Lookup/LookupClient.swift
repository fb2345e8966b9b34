import Foundation
import SportelloCore
import Synchronization

/// A lookup that got no usable answer, with a stable code. Pages tell the customer the service is not available
/// now (in the tenant's language) and nothing is done as if it had answered.
public struct LookupError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The provider's system did not answer, refused (an HTTP error) or could not be reached.
        case unavailable = "lookup_unavailable"
        /// No complete answer within the manifest's request timeout.
        case timeout = "lookup_timeout"
        /// The circuit breaker is open after repeated failures: the provider was not called.
        case circuitOpen = "lookup_circuit_open"
        /// A 2xx answer the portal cannot read (or one that does not answer the question asked).
        case invalidResponse = "lookup_invalid_response"
        /// No lookup plugin is bound to the feature, or its endpoint or secret is not set.
        case notConfigured = "lookup_not_configured"
    }

    public var code: Code
    public var plugin: String
    public var message: String

    public init(_ code: Code, plugin: String, _ message: String) { self.code = code; self.plugin = plugin; self.message = message }

    public var description: String { "\(code.rawValue) (\(plugin)): \(message)" }
}

/// Consecutive failures open the circuit for the cooldown; then one trial call is let through (half open): its
/// success closes the circuit, its failure opens it again. The state lives in this process only (each instance of
/// the portal counts its own failures), and the clock is the caller's, so tests can move it.
public final class CircuitBreaker: Sendable {
    public enum State: Sendable, Equatable {
        case closed(failures: Int)
        case open(until: Int64)
        /// The cooldown passed and one trial call is under way; other calls are refused until it ends.
        case halfOpen
    }

    public let failureThreshold: Int
    public let cooldownSeconds: Int64
    private let state = Mutex<State>(.closed(failures: 0))

    public static let defaultFailures = 5
    public static let defaultCooldownSeconds: Int64 = 30

    public init(settings: CircuitBreakerSettings?) {
        failureThreshold = max(1, settings?.failures ?? Self.defaultFailures)
        cooldownSeconds = Int64(max(1, settings?.cooldown.seconds ?? Int(Self.defaultCooldownSeconds)))
    }

    public var current: State { state.withLock { $0 } }

    /// Whether a call may go out at `now`; moving an expired open circuit to half open lets exactly this call through.
    public func admit(now: Int64) -> Bool {
        state.withLock { state in
            switch state {
            case .closed: return true
            case .halfOpen: return false
            case .open(let until):
                guard now >= until else { return false }
                state = .halfOpen
                return true
            }
        }
    }

    public func recordSuccess() { state.withLock { $0 = .closed(failures: 0) } }

    public func recordFailure(now: Int64) {
        state.withLock { state in
            switch state {
            case .closed(let failures):
                state = failures + 1 >= failureThreshold ? .open(until: now + cooldownSeconds) : .closed(failures: failures + 1)
            case .halfOpen, .open:
                state = .open(until: now + cooldownSeconds)
            }
        }
    }
}

/// One connected lookup plugin: its manifest, base URL, signing key, HTTP with the manifest's timeouts and its
/// circuit breaker. `POST <endpoint>/<operation>` with a signed JSON body; the answer is JSON.
public struct LookupClient: Sendable {
    public let manifest: PluginManifest
    public let baseURL: String
    public let breaker: CircuitBreaker
    let http: PluginHTTPClient

    public var id: String { manifest.id }
    public var operation: LookupOperation? { manifest.lookup?.operation }
    /// A test double: every answer is shown as "sandbox"/"prova".
    public var isSandbox: Bool { manifest.isSandbox }

    public init(manifest: PluginManifest, baseURL: String, secret: String) {
        self.manifest = manifest
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        breaker = CircuitBreaker(settings: manifest.lookup?.circuitBreaker)
        http = PluginHTTPClient(timeouts: manifest.timeouts, signature: PluginSignature(secret: secret))
    }

    /// Asks `request`'s operation; `now` (the portal's clock, seconds) drives the circuit breaker. Throws `LookupError`.
    public func ask<Request: LookupRequest>(_ request: Request, now: Int64) async throws -> Request.Answer {
        guard operation == Request.operation else {
            throw LookupError(.notConfigured, plugin: id, "plugin \(id) answers \(operation?.rawValue ?? "nothing"), not \(Request.operation.rawValue)")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body: Data
        do { body = try encoder.encode(request) } catch {
            throw LookupError(.invalidResponse, plugin: id, "the question could not be written: \(error)")
        }
        guard breaker.admit(now: now) else {
            throw LookupError(.circuitOpen, plugin: id, "the circuit is open after repeated failures; the provider was not called")
        }
        let answer: Data
        do {
            answer = try await http.postJSON(baseURL + "/" + Request.operation.rawValue, body: body).body
        } catch let error as PluginCallError {
            breaker.recordFailure(now: now)
            throw LookupError(error.code == .timeout ? .timeout : error.code == .invalidResponse ? .invalidResponse : .unavailable,
                              plugin: id, error.message)
        } catch {
            breaker.recordFailure(now: now)
            throw LookupError(.unavailable, plugin: id, "\(error)")
        }
        guard let decoded = try? JSONDecoder().decode(Request.Answer.self, from: answer), decoded.isValid(for: request) else {
            breaker.recordFailure(now: now)
            throw LookupError(.invalidResponse, plugin: id, "\(PluginHTTPClient.origin(baseURL)) answered something that is not a \(Request.operation.rawValue) answer")
        }
        breaker.recordSuccess()
        return decoded
    }
}

/// The deployment's lookup plugins: the connected ones (with their circuit breakers, for the life of the process)
/// and why the others are not. Built once at start from the manifests and the environment.
public struct LookupServices: Sendable {
    public let clients: [String: LookupClient]
    /// Plugin id → why it is not connected.
    public let unavailable: [String: String]

    public init(clients: [LookupClient] = [], unavailable: [String: String] = [:]) {
        self.clients = Dictionary(clients.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.unavailable = unavailable
    }

    /// No lookup plugin: pages that need one say the service is not available.
    public static let none = LookupServices()

    /// Connects every lookup manifest of `plugins` whose endpoint and `signing_key` are set in `environment`.
    public init(plugins: PluginCatalogue, environment: [String: String] = ProcessInfo.processInfo.environment) {
        var connected: [LookupClient] = []
        var missing: [String: String] = [:]
        for manifest in plugins.manifests(of: .lookup) {
            let secretName = manifest.secretVariable("signing_key")
            guard let url = manifest.endpoint.resolve(in: environment) else {
                missing[manifest.id] = "\(manifest.endpoint.urlEnv ?? "the endpoint URL") is not set"
                continue
            }
            guard let secret = secretName.flatMap({ environment[$0] }).flatMap({ $0.isEmpty ? nil : $0 }) else {
                missing[manifest.id] = "\(secretName ?? "signing_key") is not set"
                continue
            }
            connected.append(LookupClient(manifest: manifest, baseURL: url, secret: secret))
        }
        self.init(clients: connected, unavailable: missing)
    }

    public subscript(id: String) -> LookupClient? { clients[id] }

    /// The lookup bound to `featureId` in `tenant` that answers `operation`: `.bound(client)` when connected,
    /// `.notConnected(plugin)` when bound but its endpoint or secret is missing, `.unbound` when no lookup plugin is bound.
    public func binding(for featureId: String, operation: LookupOperation, in tenant: TenantDefinition) -> LookupBinding {
        for (plugin, binding) in tenant.plugins ?? OrderedMap() where binding.features?[featureId] != nil {
            if let client = clients[plugin] {
                if client.operation == operation { return .bound(client) }
                continue
            }
            if unavailable[plugin] != nil { return .notConnected(plugin: plugin) }
        }
        return .unbound
    }
}

/// Whether a feature of a tenant asks a lookup plugin.
public enum LookupBinding: Sendable {
    /// Bound and connected.
    case bound(LookupClient)
    /// Bound, but the plugin's endpoint or secret is not set in this deployment: the service is not available.
    case notConnected(plugin: String)
    /// No lookup plugin is bound to the feature.
    case unbound

    public var client: LookupClient? { if case .bound(let client) = self { client } else { nil } }
    public var isBound: Bool { if case .unbound = self { false } else { true } }
}
