import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import Logging
import ServiceLifecycle
import Testing
import SportelloApplication
import SportelloCore
import SportelloWeb

/// The sandbox payment service provider the test script starts (`scripts/sandbox_psp.py`, `start_sandbox_psp` in
/// scripts/lib/services.sh): found through `SPORTELLO_PSP_URL` and `SPORTELLO_PSP_SECRET`, the variables the manifest
/// `plugins/sandbox_psp.yaml` names. Without them payment tests are skipped, unless `SPORTELLO_REQUIRE_PSP=1` makes that
/// a failure.
public enum SandboxPSP {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }
    public static var url: String? { environment["SPORTELLO_PSP_URL"].flatMap { $0.isEmpty ? nil : $0 } }
    public static var secret: String? { environment["SPORTELLO_PSP_SECRET"].flatMap { $0.isEmpty ? nil : $0 } }
    public static var isAvailable: Bool { url != nil || environment["SPORTELLO_REQUIRE_PSP"] == "1" }

    /// The repository's plugin manifests (what `sportello serve` reads).
    public static func catalogue() -> PluginCatalogue {
        PluginCatalogue.load(directory: repositoryRoot.appendingPathComponent("plugins").path)
    }

    /// The repository's payments plugins connected to the running sandbox PSP (a failure when it is not running).
    public static func gateways() throws -> PaymentGateways {
        let url = try #require(url, "SPORTELLO_REQUIRE_PSP=1 but SPORTELLO_PSP_URL is not set: run the tests through scripts/test (start_sandbox_psp)")
        let secret = try #require(secret, "SPORTELLO_PSP_SECRET is not set")
        let gateways = PaymentGateways(plugins: catalogue(), environment: ["SPORTELLO_PSP_URL": url, "SPORTELLO_PSP_SECRET": secret])
        try #require(gateways["sandbox_psp"] != nil, "plugins/sandbox_psp.yaml did not connect: \(gateways.unavailable)")
        return gateways
    }

    /// A client that shows redirects instead of following them (the hosted page answers 303 to the portal).
    static let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                                   configuration: .init(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5))))

    /// An HTTP answer of the PSP.
    public struct Answer: Sendable {
        public var status: Int
        public var location: String?
        public var body: String

        public var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]) ?? [:] }
    }

    /// A request to the PSP (or to any URL: a hosted page is an absolute URL the portal got from it).
    public static func send(_ method: HTTPMethod, _ url: String, form: [String: String]? = nil, json: Data? = nil,
                            headers: [(String, String)] = []) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let form {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            let body = form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
            request.body = .bytes(ByteBuffer(string: body))
        } else if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: json))
        }
        let response = try await client.execute(request, timeout: .seconds(15))
        let body = try await response.body.collect(upTo: 1 << 22)
        return Answer(status: Int(response.status.code), location: response.headers.first(name: "Location"), body: String(buffer: body))
    }

    /// The payment `id` as the PSP keeps it.
    public static func payment(_ id: String) async throws -> [String: Any] {
        try await send(.GET, try #require(url) + "/api/payments/\(id)").json
    }

    /// Every notification of payment `id` (PSP reference) with its delivery state, oldest first.
    public static func notifications(ofPayment id: String) async throws -> [[String: Any]] {
        let all = try await send(.GET, try #require(url) + "/api/notifications").json["notifications"] as? [[String: Any]] ?? []
        return all.filter { $0["payment"] as? String == id }
    }

    /// Waits until `condition` holds for the payment's notifications (at most `seconds`).
    @discardableResult
    public static func waitForNotifications(ofPayment id: String, seconds: Double = 20,
                                            _ condition: ([[String: Any]]) -> Bool) async throws -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(seconds)
        var last: [[String: Any]] = []
        while Date() < deadline {
            last = try await notifications(ofPayment: id)
            if condition(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the sandbox PSP's notifications of \(id) never met the condition: \(last)")
        return last
    }

    /// The tester's choice on the hosted page (as the page's form posts it): `approve`, `decline` or `cancel`, with the
    /// amount to confirm. Returns where the customer is sent (the portal's return URL).
    public static func decide(pageURL: String, action: String, amountCents: Int64? = nil) async throws -> Answer {
        var form = ["action": action]
        if let amountCents { form["amount_cents"] = String(amountCents) }
        return try await send(.POST, pageURL, form: form)
    }
}

/// The portal served over a real TCP port (the sandbox PSP calls it back), from the same services a `PortalHarness`
/// tests through its router. Stopping it takes the portal down; starting another on the same port brings it back.
public final class LivePortal: Sendable {
    let task: Task<Void, any Error>
    let group: ServiceGroup
    public let port: Int

    private init(task: Task<Void, any Error>, group: ServiceGroup, port: Int) { self.task = task; self.group = group; self.port = port }

    /// A free TCP port on the loopback interface.
    public static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
        try #require(bound == 0, "no free port")
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Serves `services` on `services.configuration.port` and returns once it answers.
    public static func start(_ services: PortalServices) async throws -> LivePortal {
        let app = buildApplication(services: services)
        let group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "sportello.tests.live-portal")))
        let task = Task { try await group.run() }
        let port = services.configuration.port
        let portal = LivePortal(task: task, group: group, port: port)
        for _ in 0..<200 {
            if let answer = try? await SandboxPSP.send(.GET, "http://127.0.0.1:\(port)/health"), answer.status == 200 { return portal }
            try await Task.sleep(for: .milliseconds(50))
        }
        await portal.stop()
        Issue.record("the portal did not start on port \(port)")
        throw PortalError.notFound
    }

    /// Stops serving (the port refuses connections afterwards).
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }
}
