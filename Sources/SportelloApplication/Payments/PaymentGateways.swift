import Foundation
import SportelloCore

/// What the portal asks a payments plugin to create (`POST <endpoint>/payments`, signed).
public struct PaymentCreationRequest: Encodable, Sendable {
    /// The portal's id of the payment, echoed in every notification.
    public var reference: String
    public var amountCents: Int64
    public var currency: String
    public var method: String
    /// What is paid, in the customer's language ("Fattura 2026/000123").
    public var description: String
    public var locale: String
    /// Where the provider's page sends the customer back (the portal shows the payment's status there).
    public var returnUrl: String
    /// Where the provider POSTs its signed notifications.
    public var notifyUrl: String
    public var merchant: Merchant

    public struct Merchant: Encodable, Sendable {
        /// The tenant's id and display name (shown on the provider's page).
        public var id: String
        public var name: String
    }

    enum CodingKeys: String, CodingKey {
        case reference, currency, method, description, locale, merchant
        case amountCents = "amount_cents", returnUrl = "return_url", notifyUrl = "notify_url"
    }
}

/// The provider's answer: its id of the payment and the page to send the customer to.
public struct CreatedPayment: Decodable, Sendable, Equatable {
    public var id: String
    public var redirectUrl: String

    enum CodingKeys: String, CodingKey {
        case id
        case redirectUrl = "redirect_url"
    }
}

/// One connected payments plugin: its manifest, the base URL and signing key read from the environment, and HTTP.
public struct PaymentGateway: Sendable {
    public let manifest: PluginManifest
    public let baseURL: String
    public let signature: PluginSignature
    let http: PluginHTTPClient

    public var id: String { manifest.id }
    public var isSandbox: Bool { manifest.isSandbox }
    public var replayWindowSeconds: Int { manifest.payments?.replayWindowSeconds ?? PaymentsSettings.defaultReplayWindowSeconds }
    public var currencies: [String] { manifest.payments?.acceptedCurrencies ?? ["EUR"] }

    public init(manifest: PluginManifest, baseURL: String, secret: String) {
        self.manifest = manifest
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        signature = PluginSignature(secret: secret)
        http = PluginHTTPClient(timeouts: manifest.timeouts, signature: signature)
    }

    /// Creates the payment at the provider; the same `idempotencyKey` gives the same payment there. Throws
    /// `PluginCallError` when the provider does not answer, refuses, or answers without an id and an http(s) page.
    public func create(_ request: PaymentCreationRequest, idempotencyKey: String) async throws -> CreatedPayment {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = try encoder.encode(request)
        let answer = try await http.postJSON(baseURL + "/payments", body: body, headers: [("Idempotency-Key", idempotencyKey)])
        guard let created = try? JSONDecoder().decode(CreatedPayment.self, from: answer.body), !created.id.isEmpty, created.id.count <= 200,
              let page = URLComponents(string: created.redirectUrl), ["http", "https"].contains(page.scheme?.lowercased() ?? ""), page.host != nil else {
            throw PluginCallError(.invalidResponse, "\(PluginHTTPClient.origin(baseURL)) answered without a payment id and an http(s) page")
        }
        return created
    }
}

/// The deployment's payments plugins: the connected ones, and why the others are not (an environment variable
/// that is not set). Built once at start from the manifests and the environment.
public struct PaymentGateways: Sendable {
    public let gateways: [String: PaymentGateway]
    /// Plugin id → why it is not connected.
    public let unavailable: [String: String]

    public init(gateways: [PaymentGateway] = [], unavailable: [String: String] = [:]) {
        self.gateways = Dictionary(gateways.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.unavailable = unavailable
    }

    /// No payments plugin: every payment page says online payment is not available.
    public static let none = PaymentGateways()

    /// Connects every payments manifest of `plugins` whose endpoint and `signing_key` are set in `environment`.
    public init(plugins: PluginCatalogue, environment: [String: String] = ProcessInfo.processInfo.environment) {
        var connected: [PaymentGateway] = []
        var missing: [String: String] = [:]
        for manifest in plugins.manifests(of: .payments) {
            let secretName = manifest.secretVariable("signing_key")
            let secret = secretName.flatMap { environment[$0] }.flatMap { $0.isEmpty ? nil : $0 }
            guard let url = manifest.endpoint.resolve(in: environment) else {
                missing[manifest.id] = "\(manifest.endpoint.urlEnv ?? "the endpoint URL") is not set"
                continue
            }
            guard let secret else {
                missing[manifest.id] = "\(secretName ?? "signing_key") is not set"
                continue
            }
            connected.append(PaymentGateway(manifest: manifest, baseURL: url, secret: secret))
        }
        self.init(gateways: connected, unavailable: missing)
    }

    public subscript(id: String) -> PaymentGateway? { gateways[id] }
}

/// How a feature of a tenant is paid online: the plugin bound to it, its methods, and the gateway when connected.
public struct PaymentOffer: Sendable {
    /// The tenant's feature (`proforma.pay`).
    public var feature: String
    /// `invoice` or `proforma`.
    public var purpose: String
    /// The bound plugin, nil when the feature is bound to none.
    public var plugin: String?
    public var methods: [PaymentMethod]
    /// The connected plugin; nil when not bound or not configured (the page says online payment is not available).
    public var gateway: PaymentGateway?

    public var isAvailable: Bool { gateway != nil && !methods.isEmpty }
}

extension PaymentGateways {
    /// The slots a customer pays invoices through, and what each pays.
    public static let paymentSlots: [(slot: String, purpose: String)] = [("proforma.pay", "proforma"), ("invoices.pay", "invoice")]

    /// How `acting` pays in `tenant`: the first payment feature the role may use (a bound one first), with its plugin.
    /// Nil when the role may use none.
    public func offer(tenant: ServedTenant, acting: Acting) -> PaymentOffer? {
        let usable = Self.paymentSlots.compactMap { entry -> (feature: String, purpose: String)? in
            guard let feature = tenant.definition.boundFeatureId(entry.slot), acting.may(feature, in: tenant) else { return nil }
            return (feature, entry.purpose)
        }
        guard let first = usable.first else { return nil }
        let chosen = usable.first { tenant.definition.paymentBinding(for: $0.feature) != nil } ?? first
        guard let binding = tenant.definition.paymentBinding(for: chosen.feature) else {
            return PaymentOffer(feature: chosen.feature, purpose: chosen.purpose, plugin: nil, methods: [], gateway: nil)
        }
        return PaymentOffer(feature: chosen.feature, purpose: chosen.purpose, plugin: binding.plugin, methods: binding.methods,
                            gateway: self[binding.plugin])
    }
}

extension PaymentGateways {
    /// How a prepaid line is recharged online in `tenant` through `feature` (`recharges.online`): the methods bound to it
    /// (`card` through the plugin's hosted page, `bill` charged on the next bill by the portal itself) and the gateway
    /// when the plugin is connected. Methods are empty when no payments plugin is bound to the feature.
    public func rechargeOffer(tenant: ServedTenant, feature: String) -> PaymentOffer {
        guard let binding = tenant.definition.paymentBinding(for: feature) else {
            return PaymentOffer(feature: feature, purpose: "recharge", plugin: nil, methods: [], gateway: nil)
        }
        return PaymentOffer(feature: feature, purpose: "recharge", plugin: binding.plugin, methods: binding.methods, gateway: self[binding.plugin])
    }
}

extension PaymentOffer {
    /// Whether `method` can be used now: offered, and (but for `bill`) the plugin is connected.
    public func isUsable(_ method: PaymentMethod) -> Bool {
        methods.contains(method) && (!method.needsProvider || gateway != nil)
    }
}
