import Foundation
import NIOHTTP1
import Testing
import SportelloApplication
import SportelloCore

/// The sandbox lookup service the test script starts (`scripts/lookup_service.py`, `start_lookup_service` in
/// scripts/lib/services.sh): found through `SPORTELLO_LOOKUP_URL` and `SPORTELLO_LOOKUP_SECRET`, the variables the
/// manifests `plugins/sandbox_{domains,line_diagnosis,option_compatibility,crm}.yaml` name. Without them lookup tests
/// are skipped, unless `SPORTELLO_REQUIRE_LOOKUP=1` makes that a failure.
///
/// Each test asks through a scope of its own (`<url>/s/<scope>`): the service counts the questions per scope and can
/// be told to fail or be slow in one scope without disturbing tests running at the same time.
public enum SandboxLookup {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }
    public static var url: String? { environment["SPORTELLO_LOOKUP_URL"].flatMap { $0.isEmpty ? nil : $0 } }
    public static var secret: String? { environment["SPORTELLO_LOOKUP_SECRET"].flatMap { $0.isEmpty ? nil : $0 } }
    public static var isAvailable: Bool { url != nil || environment["SPORTELLO_REQUIRE_LOOKUP"] == "1" }

    /// A fresh scope name.
    public static func newScope() -> String { "t" + UUID().uuidString.prefix(12).lowercased() }

    /// The repository's lookup plugins connected to `scope` of the running service (a failure when it is not running).
    /// `adjust` changes a manifest first (a shorter timeout, a circuit breaker that opens sooner).
    public static func services(scope: String, adjust: (inout PluginManifest) -> Void = { _ in }) throws -> LookupServices {
        let url = try #require(url, "SPORTELLO_REQUIRE_LOOKUP=1 but SPORTELLO_LOOKUP_URL is not set: run the tests through scripts/test (start_lookup_service)")
        let secret = try #require(secret, "SPORTELLO_LOOKUP_SECRET is not set")
        let catalogue = SandboxPSP.catalogue()
        let clients = catalogue.manifests(of: .lookup).map { manifest in
            var manifest = manifest
            adjust(&manifest)
            return LookupClient(manifest: manifest, baseURL: "\(url)/s/\(scope)", secret: secret)
        }
        try #require(clients.count >= 4, "plugins/ should hold the four sandbox lookup manifests: \(catalogue.diagnostics)")
        return LookupServices(clients: clients)
    }

    /// Tells the service how to answer in `scope`: `ok`, `fail` (503) or `slow` (after `delay` seconds).
    public static func control(_ scope: String, mode: String, delay: Double = 5) async throws {
        let body = try JSONSerialization.data(withJSONObject: ["mode": mode, "delay": delay])
        let answer = try await SandboxPSP.send(.POST, try #require(url) + "/_control/\(scope)", json: body)
        try #require(answer.status == 200, "the lookup service refused the control: \(answer.body)")
    }

    /// Questions the service received in `scope` (all operations, also refused ones).
    public static func requests(_ scope: String) async throws -> Int {
        let answer = try await SandboxPSP.send(.GET, try #require(url) + "/_stats/\(scope)")
        return answer.json["requests"] as? Int ?? -1
    }
}

extension PortalHarness {
    /// A harness whose portal asks the sandbox lookup service through `scope` (`SandboxLookup.services`), closed after `body`.
    public static func with(engine: TestEngine, tenant: String, lookupScope scope: String, adjust: (inout PluginManifest) -> Void = { _ in },
                            _ body: (PortalHarness) async throws -> Void) async throws {
        let lookups = try SandboxLookup.services(scope: scope, adjust: adjust)
        let portal = try await PortalHarness(engine: engine, tenant: tenant, lookups: lookups)
        do {
            try await body(portal)
        } catch {
            await portal.close()
            throw error
        }
        await portal.close()
    }
}
