import Foundation

/// The plugin-manifest language (`plugins/<id>.yaml`) and the tenant's `plugins:` bindings: one description
/// drives `sportello validate`, `sportello schema` and `docs/REFERENCE.md`, as for tenant files.
public enum PluginSchema {
    /// Keys every manifest may use, whatever its kind.
    static let commonKeys = ["id", "name", "description", "sandbox", "endpoint", "timeouts", "secrets"]

    public static let endpoint = ObjectSchema("plugin endpoint", "Where the plugin is reached: a fixed base URL, or the environment variable that holds it (which wins when set). At least one of the two.", [
        .optional("url", .string(.path), "Base URL (http:// or https://).", example: "https://psp.example.it/v1"),
        .optional("url_env", .string, "Environment variable holding the base URL (uppercase letters, digits and '_').", example: "SPORTELLO_PSP_URL"),
    ])

    public static let timeouts = ObjectSchema("plugin timeouts", "How long the portal waits for the plugin (at most 2 minutes each).", [
        .optional("connect", .duration, "To open a connection (default \(PluginTimeouts.defaultConnectSeconds)s).", example: "2s"),
        .optional("request", .duration, "For a whole request and its answer (default \(PluginTimeouts.defaultRequestSeconds)s).", example: "10s"),
    ])

    public static let retry = ObjectSchema("plugin retry", "How the portal retries a delivery the plugin did not accept.", [
        .optional("max_attempts", .integer(min: 1, max: 100), "Attempts before the delivery is dead (listed for ops to replay).", example: "8"),
        .optional("backoff", .duration, "Wait after the first failure; doubled after each one.", example: "30s"),
        .optional("max_backoff", .duration, "Longest wait between two attempts.", example: "1h"),
    ])

    public static let payments = ObjectSchema("payments settings", "A payment service provider with a hosted payment page. The portal creates each payment with a signed request, sends the customer to the provider's page, and marks the invoice or pro-forma paid only when the provider's signed notification (HMAC-SHA256 over `<timestamp>.<body>` with the `signing_key` secret) arrives with the expected amount and currency.", [
        .required("methods", .list(.choice(PaymentMethod.allCases.filter(\.needsProvider).map(\.rawValue)), minItems: 1), "Methods the provider's page offers.", example: "[card, paypal]"),
        .optional("currencies", .list(.string), "ISO 4217 codes it accepts (default [EUR]).", example: "[EUR]"),
        .optional("replay_window", .duration, "How far a notification's timestamp may be from the portal's clock (default 5m, at most 1h); older ones are refused.", example: "5m"),
    ])

    public static let webhook = ObjectSchema("webhook settings", "Events POSTed as JSON to the endpoint URL, signed with the `signing_key` secret (HMAC-SHA256 over `<timestamp>.<body>`, headers `Sportello-Timestamp` and `Sportello-Signature: sha256=<hex>`), with `Idempotency-Key: <tenant>:<event id>`. A 2xx answer delivers the event; a timeout, no connection, 408, 429 or 5xx is retried with back-off; any other answer is a permanent refusal: the delivery is dead until replayed (`sportello events replay --consumer webhook:<id>`).", [
        .optional("events", .list(.identifier), "Event types the receiver takes (default: every type); a tenant may choose among them.", example: "[invoice.paid, request.created]"),
        .optional("replay_window", .duration, "The receiver's replay window, stated for its developers (default 5m, at most 1h).", example: "5m"),
    ])

    public static let sms = ObjectSchema("sms settings", "An SMS gateway reached over HTTP.", [
        .optional("sender", .string, "Sender name or number shown on the phone.", example: "WINDTRE"),
    ])

    public static let lookup = ObjectSchema("lookup settings", "A synchronous question whose answer a page shows.", [
        .required("operation", .choice(LookupOperation.allCases.map(\.rawValue)), "What the service answers."),
        .optional("circuit_breaker", .object(ObjectSchema("circuit breaker", "When the portal stops calling a failing service for a while (the page says the service is unavailable).", [
            .required("failures", .integer(min: 1, max: 1000), "Consecutive failures that open the circuit.", example: "5"),
            .required("cooldown", .duration, "How long it stays open before one call is tried again.", example: "30s"),
        ])), "Circuit breaker."),
    ])

    /// The manifest: the common keys, and the section of its kind.
    public static let manifest = ObjectSchema("plugin manifest", "A plugin: `plugins/<id>.yaml`, named after its id. It runs out of process and is reached over HTTP; secrets come from environment variables only, never from the file.", [
        .required("id", .identifier, "Plugin id, the file's name; tenants name it under `plugins:`.", example: "sandbox_psp"),
        .required("kind", .choice(PluginKind.allCases.map(\.rawValue)), "webhook, sms, payments or lookup: decides which section below applies."),
        .required("name", .string, "Name shown to ops and, for payments, on the payment page.", example: "Sandbox PSP"),
        .optional("description", .text, "What the plugin connects to."),
        .optional("sandbox", .boolean, "true for a test double: everything it produces says sandbox (page, record, e-mail, API)."),
        .required("endpoint", .object(endpoint), "Where the plugin is reached."),
        .optional("timeouts", .object(timeouts), "How long the portal waits."),
        .optional("secrets", .map(.string), "Secret name → the environment variable that holds it (`signing_key` signs requests and verifies notifications). Values are never written here.", example: "{signing_key: SPORTELLO_PSP_SECRET}"),
        .optional("retry", .object(retry), "Retries of deliveries (webhook, sms)."),
        .optional("payments", .object(payments), "Settings of a payments plugin (required with `kind: payments`)."),
        .optional("webhook", .object(webhook), "Settings of a webhook plugin."),
        .optional("sms", .object(sms), "Settings of an sms plugin."),
        .optional("lookup", .object(lookup), "Settings of a lookup plugin (required with `kind: lookup`)."),
    ])

    /// Which keys apply to each kind.
    static let variants: [(String, [String])] = [
        (PluginKind.webhook.rawValue, commonKeys + ["retry", "webhook"]),
        (PluginKind.sms.rawValue, commonKeys + ["retry", "sms"]),
        (PluginKind.payments.rawValue, commonKeys + ["payments"]),
        (PluginKind.lookup.rawValue, commonKeys + ["lookup"]),
    ]

    static let manifestShape = Shape.tagged(discriminator: "kind", object: manifest, variants: variants)

    /// What a tenant says about one plugin it uses (`plugins: {<id>: {…}}`).
    public static let binding = ObjectSchema("plugin binding", "A plugin the tenant uses and the features it carries out. `{}` enables it without binding a feature.", [
        .optional("features", .map(.object(ObjectSchema("plugin feature binding", "What the plugin does for one of the tenant's features; the feature's capability slot must take a plugin of this kind (payments: `invoices.pay`, `proforma.pay`, `recharges.online`).", [
            .optional("methods", .list(.choice(PaymentMethod.allCases.map(\.rawValue)), minItems: 1), "Payments: the methods offered for this feature, among the plugin's, in the order the page lists them; `bill` (recharges only: charged on the next bill) is the portal's own and needs no provider.", example: "[paypal]"),
            .optional("forms", .list(.identifier, minItems: 1), "Lookup plugins: the feature's request forms whose submission asks the plugin first (default: every form of the feature).", example: "[options_activation]"),
        ]))), "Feature id → what the plugin does for it.", example: "{proforma.pay: {methods: [paypal]}}"),
        .optional("events", .list(.identifier, minItems: 1), "Webhook plugins: the event types sent for this tenant, among the manifest's `webhook.events` (default: those, else every type).", example: "[invoice.issued, invoice.paid]"),
        .optional("when", .map(.string), "Webhook plugins: conditions on the event's facts, all of which must hold, written as notification rules' `when`: `value` (equal), `a|b` (one of), `!value` (not equal), `>=80` / `<=80` (numbers).", example: "{source: import, total_cents: \">=10000\"}"),
        .optional("personal_data", .boolean, "Webhook plugins: also send free text and personal values (request subjects, notes, operator names, line numbers, phone numbers, e-mail addresses, record values); default false: they are left out of `data` and named in `redacted`."),
        .optional("flows", .list(.identifier, minItems: 1), "Lookup plugins answering `customer_verification`: the flows whose `verify_customer` step asks the provider's CRM instead of the portal's customer records.", example: "[user_admin_registration]"),
    ])

    /// The manifest's keys per kind, for the reference.
    static var variantsReference: String {
        variants.map { kind, keys in "- `\(kind)`: \(keys.map { "`\($0)`" }.joined(separator: ", "))" }.joined(separator: "\n")
    }

    /// A manifest, also loaded by the tests so the reference never shows a broken example.
    public static let exampleManifest = """
    id: sandbox_psp
    kind: payments
    name: Sandbox PSP
    description: {it: "Servizio di pagamento di prova: nessun addebito reale.", en: "Test payment service: no real charge."}
    sandbox: true
    endpoint: {url_env: SPORTELLO_PSP_URL}
    timeouts: {connect: 2s, request: 10s}
    secrets: {signing_key: SPORTELLO_PSP_SECRET}
    payments:
      methods: [card, paypal]
      currencies: [EUR]
      replay_window: 5m

    """
}
