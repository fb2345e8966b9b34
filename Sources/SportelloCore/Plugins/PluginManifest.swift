import Foundation

/// What a plugin does for the portal. Every plugin runs out of process and is reached over HTTP.
public enum PluginKind: String, Decodable, Sendable, CaseIterable {
    /// Events sent to a provider's URL, signed, retried with back-off.
    case webhook
    /// An SMS gateway: messages queued and retried like mail.
    case sms
    /// A payment service provider with a hosted payment page: the portal creates a payment, sends the customer to
    /// the provider's page, and marks the invoice paid only when the provider's signed notification arrives.
    case payments
    /// A synchronous question whose answer a page shows (domain availability, line diagnosis…).
    case lookup
}

/// A way of paying a payments plugin may offer (a tenant chooses among them per feature).
public enum PaymentMethod: String, Decodable, Sendable, CaseIterable {
    case card, paypal
    case bankTransfer = "bank_transfer"
    /// Charged to the customer's next bill ("addebito diretto in fattura"): the portal records it itself, no provider
    /// page and no money moved online. Only for recharges (a bill cannot be paid by charging it to the next one).
    case bill

    /// Whether the payments plugin's hosted page carries it out (every method but `bill`).
    public var needsProvider: Bool { self != .bill }

    /// The features' capability slots where `bill` may be bound (recharges of prepaid lines).
    public static let billSlots: Set<String> = ["recharges.online"]
}

/// What a synchronous lookup plugin answers.
public enum LookupOperation: String, Decodable, Sendable, CaseIterable {
    case domainAvailability = "domain_availability"
    case lineDiagnosis = "line_diagnosis"
    case optionCompatibility = "option_compatibility"
    case customerVerification = "customer_verification"
}

/// A plugin manifest, `plugins/<id>.yaml`: its kind, where it is reached, how long the portal waits for it and
/// which environment variables hold its secrets (never the secrets themselves).
public struct PluginManifest: Decodable, Sendable {
    public var id: String
    public var kind: PluginKind
    public var name: String
    public var description: LocalizedText?
    /// A test double (the repository's sandbox PSP): every outcome it produces is marked as sandbox wherever it appears.
    public var sandbox: Bool?
    public var endpoint: PluginEndpoint
    public var timeouts: PluginTimeouts?
    /// Secret name → environment variable that holds it (`signing_key: SPORTELLO_PSP_SECRET`).
    public var secrets: OrderedMap<String>?
    public var retry: PluginRetry?
    public var payments: PaymentsSettings?
    public var webhook: WebhookSettings?
    public var sms: SMSSettings?
    public var lookup: LookupSettings?

    public var isSandbox: Bool { sandbox ?? false }

    /// The environment variable that holds secret `name`, if the manifest declares it.
    public func secretVariable(_ name: String) -> String? { secrets?[name] }
}

/// Where a plugin is reached: a fixed URL, or the environment variable that holds it (which wins when set).
public struct PluginEndpoint: Decodable, Sendable {
    public var url: String?
    public var urlEnv: String?

    /// The base URL in `environment`: the variable's value when it is set and not empty, else `url`.
    public func resolve(in environment: [String: String]) -> String? {
        if let name = urlEnv, let value = environment[name]?.trimmingWhitespace, !value.isEmpty { return value }
        return url
    }
}

/// How long the portal waits for a plugin.
public struct PluginTimeouts: Decodable, Sendable {
    public var connect: DurationSpec?
    public var request: DurationSpec?

    public static let defaultConnectSeconds = 3
    public static let defaultRequestSeconds = 10

    public init(connect: DurationSpec? = nil, request: DurationSpec? = nil) { self.connect = connect; self.request = request }

    public var connectSeconds: Int { connect?.seconds ?? Self.defaultConnectSeconds }
    public var requestSeconds: Int { request?.seconds ?? Self.defaultRequestSeconds }
}

/// How often and how patiently the portal retries a plugin that failed (webhooks, SMS).
public struct PluginRetry: Decodable, Sendable {
    public var maxAttempts: Int?
    public var backoff: DurationSpec?
    public var maxBackoff: DurationSpec?

    public init(maxAttempts: Int? = nil, backoff: DurationSpec? = nil, maxBackoff: DurationSpec? = nil) {
        self.maxAttempts = maxAttempts; self.backoff = backoff; self.maxBackoff = maxBackoff
    }

    /// The schedule these settings give, each one left out taken from `defaults`.
    public func schedule(over defaults: RetrySchedule) -> RetrySchedule {
        RetrySchedule(firstDelay: backoff.map { Int64($0.seconds) } ?? defaults.firstDelay,
                      maximumDelay: maxBackoff.map { Int64($0.seconds) } ?? defaults.maximumDelay,
                      maxAttempts: maxAttempts ?? defaults.maxAttempts)
    }
}

/// When a failed delivery is tried again: `firstDelay` × 2^(attempt − 1), at most `maximumDelay`, plus up to 10 %
/// jitter; given up (dead, listed for ops to replay) after `maxAttempts` attempts, never when that is nil.
public struct RetrySchedule: Sendable, Equatable {
    public var firstDelay: Int64
    public var maximumDelay: Int64
    public var maxAttempts: Int?

    public init(firstDelay: Int64 = 30, maximumDelay: Int64 = 3600, maxAttempts: Int? = nil) {
        self.firstDelay = firstDelay; self.maximumDelay = maximumDelay; self.maxAttempts = maxAttempts
    }

    /// Seconds to wait after failed attempt number `attempt` (1 for the first); `jitter` in [0, 1) scales the 10 %.
    public func delay(afterAttempt attempt: Int, jitter: Double) -> Int64 {
        let exponent = min(max(attempt - 1, 0), 30)
        let base = max(1, min(firstDelay << exponent, maximumDelay))
        return base + Int64(Double(base) * 0.1 * min(max(jitter, 0), 1))
    }

    /// Whether a delivery that failed its attempt number `attempt` is given up.
    public func givesUp(afterAttempt attempt: Int) -> Bool { maxAttempts.map { attempt >= $0 } ?? false }
}

/// A payment service provider's settings.
public struct PaymentsSettings: Decodable, Sendable {
    /// The methods its hosted page offers.
    public var methods: [PaymentMethod]
    /// ISO 4217 codes it accepts (default EUR).
    public var currencies: [String]?
    /// How old a signed notification may be (its timestamp against the portal's clock, either way); default 5 minutes.
    public var replayWindow: DurationSpec?

    public static let defaultReplayWindowSeconds = 300

    public var replayWindowSeconds: Int { replayWindow?.seconds ?? Self.defaultReplayWindowSeconds }
    public var acceptedCurrencies: [String] { currencies ?? ["EUR"] }
}

/// A webhook receiver's settings.
public struct WebhookSettings: Decodable, Sendable {
    /// The event types sent (`invoice.paid`); absent, every event.
    public var events: [String]?
    public var replayWindow: DurationSpec?
}

/// An SMS gateway's settings.
public struct SMSSettings: Decodable, Sendable {
    /// The sender name or number shown on the phone.
    public var sender: String?
}

/// A lookup service's settings.
public struct LookupSettings: Decodable, Sendable {
    public var operation: LookupOperation
    public var circuitBreaker: CircuitBreakerSettings?
}

/// When the portal stops calling a failing lookup for a while.
public struct CircuitBreakerSettings: Decodable, Sendable {
    /// Consecutive failures that open the circuit.
    public var failures: Int
    /// How long it stays open before one call is tried again.
    public var cooldown: DurationSpec

    public init(failures: Int, cooldown: DurationSpec) { self.failures = failures; self.cooldown = cooldown }
}

/// A tenant's use of one plugin (`plugins: {<id>: {…}}` in the tenant file): which of its features the plugin
/// carries out, and how.
public struct PluginBinding: Decodable, Sendable {
    /// Feature id → what the plugin does for it.
    public var features: OrderedMap<PluginFeatureBinding>?

    // MARK: webhook bindings (see Webhooks in SportelloApplication)
    /// Webhook plugins: the event types sent for this tenant (default: the manifest's `webhook.events`, else every type).
    public var events: [String]?
    /// Webhook plugins: fact → condition, in the syntax of notification rules' `when` (`NotificationCondition`):
    /// an event is sent only when every condition holds.
    public var when: OrderedMap<String>?
    /// Webhook plugins: whether free text and personal values (`WebhookPayload.personalFacts`) are sent (default false).
    public var personalData: Bool?

    // MARK: lookup bindings (see Lookup in SportelloApplication)
    /// Lookup plugins answering `customer_verification`: the flows whose `verify_customer` step asks the provider's CRM
    /// instead of the portal's customer records.
    public var flows: [String]?
}

/// What a plugin does for one of the tenant's features.
public struct PluginFeatureBinding: Decodable, Sendable {
    /// Payments plugins: the methods offered for this feature, in the order the page lists them.
    public var methods: [PaymentMethod]?
    /// Lookup plugins: the request forms of the feature whose submission asks the plugin first (default: every form
    /// of the feature). WINDTRE's `options_activation`, not `options_deactivation`.
    public var forms: [String]?
}

extension TenantDefinition {
    /// The payments plugin bound to `featureId` and the methods it offers there, nil when none is bound.
    public func paymentBinding(for featureId: String) -> (plugin: String, methods: [PaymentMethod])? {
        for (plugin, binding) in plugins ?? OrderedMap() {
            if let feature = binding.features?[featureId] { return (plugin, feature.methods ?? []) }
        }
        return nil
    }
}
