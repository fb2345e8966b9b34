import Foundation
import SportelloCore

/// What the portal sends an SMS gateway (`POST <endpoint>/messages`, signed, `Authorization: Bearer <api_key>`).
public struct SMSSubmission: Codable, Sendable, Equatable {
    /// The portal's id of the message (`<tenant>-<outbox id>`), also sent as `Idempotency-Key`: a gateway that sees it
    /// twice (a retry after a lost answer) sends it once.
    public var id: String
    public var to: String
    /// The sender name or number (the manifest's `sms.sender`).
    public var from: String?
    public var text: String

    public init(id: String, to: String, from: String?, text: String) {
        self.id = id; self.to = to; self.from = from; self.text = text
    }
}

/// Something that sends SMS: the HTTP gateway of an sms plugin, or a test double.
public protocol SMSSending: Sendable {
    /// The plugin id.
    var id: String { get }
    /// True for a test gateway (the sandbox sink): no real phone receives what it takes.
    var isSandbox: Bool { get }
    /// Sends one message; returns the gateway's id for it. Throws `SMSSendError`.
    func send(_ message: SMSSubmission) async throws -> String
    /// When a message the gateway did not take is tried again and given up: the worker's `defaults`, or the
    /// manifest's `retry:`.
    func retrySchedule(over defaults: RetrySchedule) -> RetrySchedule
}

extension SMSSending {
    public func retrySchedule(over defaults: RetrySchedule) -> RetrySchedule { defaults }
}

/// Why a gateway did not take a message (`unreachable`, `timeout`, `http_503`, `invalid_response`…; permanent when
/// the gateway refused this message: a malformed number), in words safe to store (no number, no text).
public typealias SMSSendError = DeliveryFailure

/// An sms plugin reached over HTTP (`plugins/<id>.yaml` of kind `sms`).
public struct HTTPSMSGateway: SMSSending {
    public let manifest: PluginManifest
    public let baseURL: String
    let apiKey: String
    let http: PluginHTTPClient

    public var id: String { manifest.id }
    public var isSandbox: Bool { manifest.isSandbox }

    public func retrySchedule(over defaults: RetrySchedule) -> RetrySchedule { manifest.retry?.schedule(over: defaults) ?? defaults }

    public init(manifest: PluginManifest, baseURL: String, apiKey: String) {
        self.manifest = manifest
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        http = PluginHTTPClient(timeouts: manifest.timeouts, signature: PluginSignature(secret: apiKey))
    }

    struct Answer: Decodable { var id: String }

    public func send(_ message: SMSSubmission) async throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var body = message
        if body.from == nil { body.from = manifest.sms?.sender }
        let answer: (status: Int, body: Data)
        do {
            answer = try await http.postJSON(baseURL + "/messages", body: try encoder.encode(body),
                                             headers: [("Authorization", "Bearer \(apiKey)"), ("Idempotency-Key", message.id)])
        } catch let error as PluginCallError {
            switch error.code {
            case .refused:
                // "<origin> answered <status>": a 4xx other than 408/429 refuses this message for good.
                let status = Int(error.message.split(separator: " ").last ?? "") ?? 0
                let permanent = (400..<500).contains(status) && status != 408 && status != 429 && status != 401 && status != 403
                throw SMSSendError(code: "http_\(status)", message: error.message, isPermanent: permanent)
            default:
                throw SMSSendError(code: error.code.rawValue, message: error.message)
            }
        }
        guard let decoded = try? JSONDecoder().decode(Answer.self, from: answer.body), !decoded.id.isEmpty, decoded.id.count <= 200 else {
            throw SMSSendError(code: "invalid_response", message: "\(PluginHTTPClient.origin(baseURL)) answered without a message id")
        }
        return decoded.id
    }
}

/// The deployment's sms plugins: the connected ones (endpoint and `api_key` set in the environment) and why the others
/// are not. A tenant uses the sms plugin it lists under `plugins:`.
public struct SMSGateways: Sendable {
    public let gateways: [String: any SMSSending]
    /// Plugin id → why it is not connected.
    public let unavailable: [String: String]

    public init(gateways: [any SMSSending] = [], unavailable: [String: String] = [:]) {
        self.gateways = Dictionary(gateways.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.unavailable = unavailable
    }

    public static let none = SMSGateways()

    /// Connects every sms manifest of `plugins` whose endpoint and `api_key` secret are set in `environment`.
    public init(plugins: PluginCatalogue, environment: [String: String] = ProcessInfo.processInfo.environment) {
        var connected: [any SMSSending] = []
        var missing: [String: String] = [:]
        for manifest in plugins.manifests(of: .sms) {
            let secretName = manifest.secretVariable("api_key")
            guard let url = manifest.endpoint.resolve(in: environment) else {
                missing[manifest.id] = "\(manifest.endpoint.urlEnv ?? "the endpoint URL") is not set"
                continue
            }
            guard let key = secretName.flatMap({ environment[$0] }), !key.isEmpty else {
                missing[manifest.id] = "\(secretName ?? "api_key") is not set"
                continue
            }
            connected.append(HTTPSMSGateway(manifest: manifest, baseURL: url, apiKey: key))
        }
        self.init(gateways: connected, unavailable: missing)
    }

    public subscript(id: String) -> (any SMSSending)? { gateways[id] }

    /// The sms plugin `tenant` binds: the first listed under `plugins:` that is an sms plugin of this deployment
    /// (connected or not: messages for a plugin not connected wait in the outbox).
    public func plugin(for tenant: TenantDefinition) -> String? {
        (tenant.plugins ?? OrderedMap()).keys.first { gateways[$0] != nil || unavailable[$0] != nil }
    }
}
