import Foundation
import NIOHTTP1
import Testing
import SportelloApplication
import SportelloCore

/// The sandbox SMS sink the test script starts (`scripts/sms_sink.py`, `start_sms_sink` in scripts/lib/services.sh):
/// found through `SPORTELLO_SMS_URL` and `SPORTELLO_SMS_API_KEY`, the variables `plugins/sms_sink.yaml` names. Without
/// them SMS tests are skipped, unless `SPORTELLO_REQUIRE_SMS=1` makes that a failure.
public enum SMSSink {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }
    public static var url: String? { environment["SPORTELLO_SMS_URL"].flatMap { $0.isEmpty ? nil : $0 } }
    public static var apiKey: String? { environment["SPORTELLO_SMS_API_KEY"].flatMap { $0.isEmpty ? nil : $0 } }
    public static var isAvailable: Bool { url != nil || environment["SPORTELLO_REQUIRE_SMS"] == "1" }

    /// The repository's sms plugins connected to the running sink (a failure when it is not running).
    public static func gateways(adjust: (inout PluginManifest) -> Void = { _ in }) throws -> SMSGateways {
        let url = try #require(url, "SPORTELLO_REQUIRE_SMS=1 but SPORTELLO_SMS_URL is not set: run the tests through scripts/test (start_sms_sink)")
        let key = try #require(apiKey, "SPORTELLO_SMS_API_KEY is not set")
        let gateways = SMSGateways(plugins: SandboxPSP.catalogue(), environment: ["SPORTELLO_SMS_URL": url, "SPORTELLO_SMS_API_KEY": key])
        var manifest = try #require((gateways["sms_sink"] as? HTTPSMSGateway)?.manifest, "plugins/sms_sink.yaml did not connect: \(gateways.unavailable)")
        adjust(&manifest)
        return SMSGateways(gateways: [HTTPSMSGateway(manifest: manifest, baseURL: url, apiKey: key)])
    }

    /// One SMS the sink took.
    public struct Message: Sendable, Equatable {
        public var id: String
        public var to: String
        public var text: String
        public var sandbox: Bool
    }

    /// Every SMS the sink took for `number`, oldest first.
    public static func messages(to number: String) async throws -> [Message] {
        let answer = try await SandboxPSP.send(.GET, try #require(url) + "/messages", headers: [("Authorization", "Bearer \(try #require(apiKey))")])
        let all = answer.json["messages"] as? [[String: Any]] ?? []
        return all.compactMap { item in
            guard let to = item["to"] as? String, to == number else { return nil }
            return Message(id: item["id"] as? String ?? "", to: to, text: item["text"] as? String ?? "", sandbox: item["sandbox"] as? Bool ?? false)
        }
    }

    /// Takes the sink down (it answers 503 to every SMS) or brings it back.
    public static func setDown(_ down: Bool) async throws {
        let body = Data("{\"down\": \(down)}".utf8)
        let answer = try await SandboxPSP.send(.POST, try #require(url) + "/control", json: body,
                                               headers: [("Authorization", "Bearer \(try #require(apiKey))")])
        try #require(answer.status == 200, "the SMS sink refused the control request: \(answer.status)")
    }
}
