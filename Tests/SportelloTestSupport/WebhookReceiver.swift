import Foundation
import Testing
import SportelloApplication
import SportelloCore

/// The sandbox webhook receiver the test script starts (`scripts/webhook_receiver.py`, `start_webhook_receiver` in
/// scripts/lib/services.sh): found through `SPORTELLO_WEBHOOK_RECEIVER` (its base URL), `SPORTELLO_WEBHOOK_URL` and
/// `SPORTELLO_WEBHOOK_SECRET` (what `plugins/webhook_receiver.yaml` names). Without them webhook tests are skipped, unless
/// `SPORTELLO_REQUIRE_WEBHOOK=1` makes that a failure.
public enum WebhookReceiver {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }
    public static var baseURL: String? { environment["SPORTELLO_WEBHOOK_RECEIVER"].flatMap { $0.isEmpty ? nil : $0 } }
    public static var secret: String? { environment["SPORTELLO_WEBHOOK_SECRET"].flatMap { $0.isEmpty ? nil : $0 } }
    public static var isAvailable: Bool { baseURL != nil || environment["SPORTELLO_REQUIRE_WEBHOOK"] == "1" }

    /// The base URL (a failure when the receiver is not running).
    public static func url() throws -> String {
        try #require(baseURL, "SPORTELLO_REQUIRE_WEBHOOK=1 but SPORTELLO_WEBHOOK_RECEIVER is not set: run the tests through scripts/test (start_webhook_receiver)")
    }

    /// The environment `plugins/webhook_receiver.yaml` connects with.
    public static func pluginEnvironment() throws -> [String: String] {
        ["SPORTELLO_WEBHOOK_URL": try url() + "/hooks", "SPORTELLO_WEBHOOK_SECRET": try #require(secret, "SPORTELLO_WEBHOOK_SECRET is not set")]
    }

    /// One event as the receiver stored it.
    public struct Received {
        public var key: String
        public var tenant: String
        public var id: Int64
        public var type: String
        public var customerId: Int64?
        /// How many signed POSTs carried its key.
        public var deliveries: Int
        /// The JSON body, parsed.
        public var payload: [String: Any]
        /// The last delivery's exact body and its `Sportello-*` and `Idempotency-Key` headers.
        public var body: String
        public var headers: [String: String]
    }

    /// Every event the receiver stored for `tenant`, in the order received, and how many deliveries (of any tenant) it
    /// rejected for their signature or timestamp.
    public static func events(tenant: String) async throws -> (events: [Received], rejected: Int) {
        let json = try await SandboxPSP.send(.GET, try url() + "/events").json
        let events = (json["events"] as? [[String: Any]] ?? []).compactMap { item -> Received? in
            guard item["tenant"] as? String == tenant, let key = item["key"] as? String, let id = (item["id"] as? NSNumber)?.int64Value else { return nil }
            return Received(key: key, tenant: tenant, id: id, type: item["type"] as? String ?? "", customerId: (item["customer_id"] as? NSNumber)?.int64Value,
                            deliveries: (item["deliveries"] as? NSNumber)?.intValue ?? 0, payload: item["payload"] as? [String: Any] ?? [:],
                            body: item["body"] as? String ?? "", headers: item["headers"] as? [String: String] ?? [:])
        }
        return (events, (json["rejected"] as? NSNumber)?.intValue ?? 0)
    }

    /// Tells the receiver how to answer from now on: `ok`, `fail` (503, or `status`), `refuse` (422, or `status`) or
    /// `slow` (`delay` seconds before 200).
    public static func control(_ mode: String, status: Int? = nil, delay: Double? = nil) async throws {
        var body: [String: Any] = ["mode": mode]
        if let status { body["status"] = status }
        if let delay { body["delay"] = delay }
        let answer = try await SandboxPSP.send(.POST, try url() + "/control", json: try JSONSerialization.data(withJSONObject: body))
        #expect(answer.status == 200, "the receiver took mode \(mode)")
    }

    /// POSTs `body` to the receiver's /hooks with the given headers (to try forged deliveries); returns the status.
    public static func post(body: Data, headers: [(String, String)]) async throws -> Int {
        try await SandboxPSP.send(.POST, try url() + "/hooks", json: body, headers: headers).status
    }
}
