import AsyncHTTPClient
import Foundation
import NIOCore
import SportelloCore
import SportelloStore
import Synchronization

/// What one tenant sends to one webhook plugin (its `plugins: {<id>: {events, when, personal_data}}` binding).
public struct WebhookSubscription: Sendable {
    /// The event types sent; nil: every type.
    public var events: Set<String>?
    /// Conditions on the event's facts (the syntax of notification rules' `when`): all must hold.
    public var conditions: [NotificationCondition]
    /// Whether personal facts are sent (`WebhookEvents.isPersonal`).
    public var personalData: Bool

    public init(events: Set<String>? = nil, conditions: [NotificationCondition] = [], personalData: Bool = false) {
        self.events = events; self.conditions = conditions; self.personalData = personalData
    }

    /// The tenant's binding of `manifest`: the binding's events, else the manifest's, else every type. A condition
    /// that does not parse (validation refuses it) matches nothing.
    public init(binding: PluginBinding, manifest: PluginManifest) {
        let types = binding.events ?? manifest.webhook?.events
        let written = (binding.when ?? OrderedMap()).map { ($0.key, $0.value) }
        let conditions = written.compactMap { NotificationCondition(fact: $0.0, $0.1) }
        // A condition that does not parse (validation refuses it) sends nothing rather than more than asked.
        let events = conditions.count == written.count ? types.map(Set.init) : []
        self.init(events: events, conditions: conditions, personalData: binding.personalData ?? false)
    }

    /// Whether `event` is sent.
    public func matches(_ event: RecordedEvent) -> Bool {
        if let events, !events.contains(event.type.rawValue) { return false }
        return conditions.allSatisfy { $0.holds(for: Self.fact($0.fact, of: event)) }
    }

    /// A fact as a condition reads it: the event's facts, and its customer, subject, actor and id.
    static func fact(_ name: String, of event: RecordedEvent) -> NotificationFact? {
        switch name {
        case "customer_id": return event.customerId.map { .number($0) }
        case "subject_kind": return .text(event.subjectKind)
        case "subject_id": return event.subjectId.map { .number($0) }
        case "actor_user_id": return event.actorUserId.map { .number($0) }
        case "event_id": return .number(event.id)
        default: break
        }
        switch event.facts[name] {
        case .string(let value): return .text(value)
        case .integer(let value): return .number(value)
        case .bool(let value): return .flag(value)
        case .strings(let values): return .list(values)
        case .integers(let values): return .list(values.map(String.init))
        case .null, nil: return nil
        }
    }
}

/// One connected webhook plugin: an `EventConsumer` (id `webhook:<plugin id>`) that POSTs each event a tenant
/// subscribed to as JSON (`WebhookPayload`) to the plugin's URL, signed as `PluginSignature` says, with
/// `Idempotency-Key: <tenant>:<event id>`, within the manifest's timeouts.
///
/// The event dispatcher retries it with back-off and keeps a customer's events in order. A 2xx answer delivers the
/// event; no connection, a timeout, 408, 429 or 5xx is a failure worth retrying (`unreachable`, `timeout`,
/// `http_<status>`); any other status is a permanent refusal (`http_<status>`, the delivery is dead at once, listed by
/// `sportello events list --failed` and replayed by `sportello events replay --consumer webhook:<id>`). Failures name
/// the receiver's origin and status only: never the event's data.
public struct WebhookConsumer: EventConsumer {
    public static let idPrefix = "webhook:"

    public let id: String
    public let manifest: PluginManifest
    /// Where events are POSTed.
    public let url: String
    /// Tenant id → what it sends, at start (empty when each event's tenant is looked up as it is delivered).
    public let subscriptions: [String: WebhookSubscription]
    /// The tenants bound to it at start (what `summary` prints).
    public let subscriberIds: [String]
    /// What `tenant` sends now: from `subscriptions`, or from the tenant's current binding when tenants reload.
    let subscription: @Sendable (_ tenant: String) -> WebhookSubscription?
    let signature: PluginSignature
    let http: WebhookHTTP

    /// A consumer for the tenants of `subscriptions`; with `currentTenant`, each event's tenant is looked up when it
    /// is delivered instead, so a tenant added or changed while serving sends what its file binds now.
    public init(manifest: PluginManifest, url: String, secret: String, subscriptions: [String: WebhookSubscription],
                subscriberIds: [String]? = nil, currentTenant: (@Sendable (String) -> TenantDefinition?)? = nil,
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        id = Self.idPrefix + manifest.id
        self.manifest = manifest
        self.url = url
        self.subscriptions = subscriptions
        self.subscriberIds = subscriberIds ?? subscriptions.keys.sorted()
        if let currentTenant {
            subscription = { tenant in
                currentTenant(tenant)?.plugins?[manifest.id].map { WebhookSubscription(binding: $0, manifest: manifest) }
            }
        } else {
            subscription = { subscriptions[$0] }
        }
        signature = PluginSignature(secret: secret)
        http = WebhookHTTP(timeouts: manifest.timeouts, clock: clock)
    }

    public func accepts(_ event: RecordedEvent) -> Bool {
        subscription(event.tenant)?.matches(event) ?? false
    }

    /// The manifest's `retry:` (`max_attempts`, `backoff`, `max_backoff`), each key left out from `defaults`.
    public func retrySchedule(over defaults: RetrySchedule) -> RetrySchedule {
        manifest.retry?.schedule(over: defaults) ?? defaults
    }

    public func deliver(_ event: RecordedEvent) async throws {
        let personal = subscription(event.tenant)?.personalData ?? false
        let body = WebhookPayload.body(for: event, personalData: personal)
        try await http.post(url, body: body, signature: signature, headers: [
            ("Idempotency-Key", WebhookPayload.idempotencyKey(for: event)),
            ("Sportello-Event-Id", String(event.id)),
            ("Sportello-Event-Type", event.type.rawValue),
            ("Sportello-Tenant", event.tenant),
        ])
    }
}

/// The HTTP side of a webhook: one signed POST, its answer classified for the dispatcher.
struct WebhookHTTP: Sendable {
    let connectSeconds: Int
    let requestSeconds: Int
    let clock: @Sendable () -> Int64

    init(timeouts: PluginTimeouts?, clock: @escaping @Sendable () -> Int64) {
        connectSeconds = timeouts?.connectSeconds ?? PluginTimeouts.defaultConnectSeconds
        requestSeconds = timeouts?.requestSeconds ?? PluginTimeouts.defaultRequestSeconds
        self.clock = clock
    }

    /// Statuses worth trying again besides 5xx: the receiver timed out reading, or asks to slow down.
    static let retriedStatuses: Set<Int> = [408, 429]

    func post(_ url: String, body: Data, signature: PluginSignature, headers extra: [(String, String)]) async throws {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        // Signed at each attempt: a retry hours later still falls within the receiver's replay window.
        let timestamp = clock()
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Sportello/\(SportelloCoreInfo.version)")
        request.headers.add(name: PluginSignature.timestampHeader, value: String(timestamp))
        request.headers.add(name: PluginSignature.signatureHeader, value: signature.sign(timestamp: timestamp, body: body))
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let origin = Self.origin(url)
        let response: HTTPClientResponse
        do {
            response = try await PluginHTTPClient.client(connectSeconds: connectSeconds).execute(request, timeout: .seconds(Int64(requestSeconds)))
            // The answer's body is not used; read (at most 64 KiB) so the connection can be reused.
            _ = try? await response.body.collect(upTo: 1 << 16)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw EventDeliveryFailure(code: "timeout", message: "no answer from \(origin) within \(requestSeconds)s")
        } catch let error as HTTPClientError where error == .connectTimeout {
            throw EventDeliveryFailure(code: "unreachable", message: "\(origin): no connection within \(connectSeconds)s")
        } catch {
            throw EventDeliveryFailure(code: "unreachable", message: "\(origin): \(String(describing: type(of: error))) \(Self.short(error))")
        }
        let status = Int(response.status.code)
        if (200..<300).contains(status) { return }
        let retried = status >= 500 || Self.retriedStatuses.contains(status)
        throw EventDeliveryFailure(code: "http_\(status)",
                                   message: "\(origin) answered \(status)" + (retried ? "" : ": refused for good (replay after fixing the receiver)"),
                                   isPermanent: !retried)
    }

    /// A connection error's words without anything of the event: NIO's errors name the address, never the body.
    static func short(_ error: any Error) -> String { String(String(describing: error).prefix(120)) }

    /// Scheme, host and port of `url` (never its path or query, which may carry a token).
    static func origin(_ url: String) -> String { PluginHTTPClient.origin(url, unknown: "the receiver") }
}

/// The deployment's webhook consumers: one per webhook plugin that some tenant binds and whose URL and signing key
/// are set in the environment, and why the others are not connected. Built once at start, like `PaymentGateways`.
public struct WebhookConsumers: Sendable {
    public let consumers: [WebhookConsumer]
    /// Plugin id → why it is not connected (a variable that is not set).
    public let unavailable: [String: String]

    public init(consumers: [WebhookConsumer] = [], unavailable: [String: String] = [:]) {
        self.consumers = consumers; self.unavailable = unavailable
    }

    public static let none = WebhookConsumers()

    /// The webhook plugins of `plugins` bound by some of `tenants`, connected with `environment`. With
    /// `currentTenant` (a server whose tenants reload), every webhook plugin whose variables are set is connected,
    /// and each event goes where its tenant's file binds it when it is delivered.
    public init(tenants: [TenantDefinition], plugins: PluginCatalogue, environment: [String: String] = ProcessInfo.processInfo.environment,
                currentTenant: (@Sendable (String) -> TenantDefinition?)? = nil,
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        self.init(plugins: plugins, environment: environment, currentTenant: currentTenant, clock: clock) { manifest in
            var subscriptions: [String: WebhookSubscription] = [:]
            for tenant in tenants {
                if let binding = tenant.plugins?[manifest.id] { subscriptions[tenant.id] = WebhookSubscription(binding: binding, manifest: manifest) }
            }
            return (subscriptions, subscriptions.keys.sorted())
        }
    }

    /// The same for a server whose tenants reload, knowing only which tenants bind each plugin (`subscribers`: plugin
    /// id → tenant ids): every event's binding is read from `currentTenant` when it is delivered, so no tenant is
    /// built here.
    public init(subscribers: [String: [String]], plugins: PluginCatalogue, environment: [String: String] = ProcessInfo.processInfo.environment,
                currentTenant: @escaping @Sendable (String) -> TenantDefinition?,
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        self.init(plugins: plugins, environment: environment, currentTenant: currentTenant, clock: clock) { manifest in
            ([:], (subscribers[manifest.id] ?? []).sorted())
        }
    }

    private init(plugins: PluginCatalogue, environment: [String: String], currentTenant: (@Sendable (String) -> TenantDefinition?)?,
                 clock: @escaping @Sendable () -> Int64,
                 subscribers: (PluginManifest) -> (subscriptions: [String: WebhookSubscription], ids: [String])) {
        var connected: [WebhookConsumer] = []
        var missing: [String: String] = [:]
        for manifest in plugins.manifests(of: .webhook) {
            let (subscriptions, ids) = subscribers(manifest)
            guard !ids.isEmpty || currentTenant != nil else { continue }
            guard let url = manifest.endpoint.resolve(in: environment) else {
                if ids.isEmpty { continue }
                missing[manifest.id] = "\(manifest.endpoint.urlEnv ?? "the endpoint URL") is not set"
                continue
            }
            let secretName = manifest.secretVariable("signing_key")
            guard let secret = secretName.flatMap({ environment[$0] }), !secret.isEmpty else {
                if ids.isEmpty { continue }
                missing[manifest.id] = "\(secretName ?? "signing_key") is not set"
                continue
            }
            connected.append(WebhookConsumer(manifest: manifest, url: url, secret: secret, subscriptions: subscriptions,
                                             subscriberIds: ids, currentTenant: currentTenant, clock: clock))
        }
        self.init(consumers: connected, unavailable: missing)
    }

    /// What `serve` and `events deliver` print about the webhooks.
    public var summary: [String] {
        consumers.map { consumer in
            let tenants = consumer.subscriberIds.joined(separator: ", ")
            return "webhooks: \(consumer.id) → \(WebhookHTTP.origin(consumer.url)) for \(tenants.isEmpty ? "no tenant yet" : tenants)"
        }
            + unavailable.sorted { $0.key < $1.key }.map { "webhooks: \($0.key) not connected (\($0.value)) — its events are not sent" }
    }
}
