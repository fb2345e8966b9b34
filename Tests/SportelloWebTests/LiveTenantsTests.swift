import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing
import SportelloApplication
import SportelloCore
@testable import SportelloWeb
import SportelloTestSupport

/// A tenants folder and a templates folder of a test's own: tenants written from `tenants/unogas.yaml` under new ids,
/// names, hosts and colours; `templates/default` is the repository's.
struct LiveTenantFiles {
    let root: URL
    let suffix = UUID().uuidString.prefix(8).lowercased()

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("live-tenants-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("tenants"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("templates"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("templates/default"),
                                                   withDestinationURL: repositoryRoot.appendingPathComponent("templates/default"))
    }

    var tenants: String { root.appendingPathComponent("tenants").path }
    var templates: URL { root.appendingPathComponent("templates") }

    func id(_ name: String) -> String { "\(name)-\(suffix)" }
    func host(_ name: String) -> String { "\(name)-\(suffix).test" }

    /// `tenants/<name>.yaml`: Unogas's definition as tenant `id(name)` on `host(name)`, called `title`.
    func write(_ name: String, title: String, colour: String = "#f39200", breaking: Bool = false) throws {
        var text = try String(contentsOf: repositoryRoot.appendingPathComponent("tenants/unogas.yaml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "\nid: unogas\n", with: "\nid: \(id(name))\n")
            .replacingOccurrences(of: "\nname: Unogas Energia\n", with: "\nname: \(title)\n")
            .replacingOccurrences(of: "hosts: [unogas.localhost]", with: "hosts: [\(host(name))]")
            .replacingOccurrences(of: "primary_color: \"#f39200\"", with: "primary_color: \"\(colour)\"")
        // A misspelt key, as a provider's typo would be.
        if breaking { text = text.replacingOccurrences(of: "\nlocales:\n", with: "\nlocalez:\n") }
        try writeRaw("\(name).yaml", text)
    }

    /// Writes atomically, as a deployment does (the watcher never reads half a file).
    func writeRaw(_ file: String, _ text: String) throws {
        try text.write(toFile: (tenants as NSString).appendingPathComponent(file), atomically: true, encoding: .utf8)
    }

    func remove(_ name: String) throws {
        try FileManager.default.removeItem(atPath: (tenants as NSString).appendingPathComponent("\(name).yaml"))
    }

    /// `templates/<id(name)>/<path>`.
    func writeTemplate(_ name: String, _ path: String, _ text: String) throws {
        let url = templates.appendingPathComponent(id(name)).appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    func reloader(_ registry: TenantRegistry, indexPath: String? = nil, residentLimit: Int = 1_000) -> TenantReloader {
        TenantReloader(sources: TenantSources(paths: [tenants], plugins: PluginCatalogue.load(directory: repositoryRoot.appendingPathComponent("plugins").path),
                                              templates: templates, indexPath: indexPath, residentLimit: residentLimit),
                       registry: registry, capabilities: PortalModules.capabilities)
    }

    func cleanUp() { try? FileManager.default.removeItem(at: root) }
}

/// Runs `body` with a live portal whose tenants come from `files` through a reloader.
private func withLivePortal(_ files: LiveTenantFiles,
                            _ body: @escaping @Sendable (_ port: Int, _ reloader: TenantReloader, _ operations: Operations,
                                                         _ services: PortalServices) async throws -> Void) async throws {
    defer { files.cleanUp() }
    try await PortalHarness.with(engine: .sqlite, tenant: "unogas") { portal in
        let reloader = files.reloader(portal.services.tenants)
        let operations = Operations(services: portal.services, options: .quiet)
        operations.attach(reloader)
        await reloader.reload(trigger: "start")
        try await buildApplication(services: portal.services, operations: operations).test(.live) { client in
            try await body(try #require(client.port), reloader, operations, portal.services)
        }
    }
}

/// Tells load-making tasks to stop.
private final class StopFlag: Sendable {
    private let flag = Mutex(false)
    var isSet: Bool { flag.withLock { $0 } }
    func set() { flag.withLock { $0 = true } }
}

@Suite("Live tenants: files added, changed and removed while serving")
struct LiveTenantsTests {
    @Test("a changed file serves its new version, an added file a new portal, a removed file's hosts 404; unchanged tenants keep their instance")
    func addChangeRemove() async throws {
        let files = try LiveTenantFiles()
        try files.write("alfa", title: "Alfa Energia")
        try files.write("beta", title: "Beta Luce")
        try await withLivePortal(files) { port, reloader, _, _ in
            func login(_ name: String) async throws -> HostClient.Answer { try await HostClient.get(port: port, host: files.host(name), "/login") }
            #expect(try await login("alfa").body.contains("Alfa Energia"))
            #expect(try await login("beta").body.contains("Beta Luce"))
            #expect(try await login("gamma").status == 404)
            let betaBefore = try #require(reloader.registry.tenant(id: files.id("beta")))

            try files.write("alfa", title: "Alfa Energia e Gas")
            try files.write("gamma", title: "Gamma Servizi")
            try files.remove("beta")
            let report = try #require(await reloader.reloadIfChanged(trigger: "file change"))
            #expect(report.applied.sorted() == [files.id("alfa"), files.id("gamma")])
            #expect(report.removed == [files.id("beta")] && report.rejected.isEmpty)
            #expect(try await login("alfa").body.contains("Alfa Energia e Gas"))
            #expect(try await login("gamma").body.contains("Gamma Servizi"))
            #expect(try await login("beta").status == 404)
            #expect(await reloader.reloadIfChanged(trigger: "file change") == nil, "nothing changed since")

            // A tenant whose sources did not change keeps the instance it had (its caches, its prepared pages).
            try files.write("beta", title: "Beta Luce")
            _ = await reloader.reload(trigger: "test")
            let betaAgain = try #require(reloader.registry.tenant(id: files.id("beta")))
            try files.write("alfa", title: "Alfa Energia e Gas")
            let quiet = await reloader.reload(trigger: "test")
            #expect(quiet.applied.isEmpty && quiet.unchanged.count == 3)
            #expect(reloader.registry.tenant(id: files.id("beta")) === betaAgain)
            #expect(betaAgain !== betaBefore, "a removed and re-added tenant is built anew")
        }
    }

    @Test("a tenant's own templates and strings reload with it")
    func templatesReload() async throws {
        let files = try LiveTenantFiles()
        try files.write("alfa", title: "Alfa Energia")
        try await withLivePortal(files) { port, reloader, _, _ in
            let before = try await HostClient.get(port: port, host: files.host("alfa"), "/login")
            #expect(!before.body.contains("Entra nell'area Alfa"))
            try files.writeTemplate("alfa", "i18n/it.yaml", "login:\n  submit: \"Entra nell'area Alfa\"\n")
            let report = try #require(await reloader.reloadIfChanged(trigger: "file change"))
            #expect(report.applied == [files.id("alfa")])
            let after = try await HostClient.get(port: port, host: files.host("alfa"), "/login").body
            #expect(after.contains("Entra nell&#39;area Alfa") || after.contains("Entra nell&#x27;area Alfa") || after.contains("Entra nell'area Alfa"))
        }
    }

    @Test("a change that fails validation keeps the last good version serving and is reported: the report, /ready's detail, the metric")
    func brokenChangeKeepsLastGood() async throws {
        let files = try LiveTenantFiles()
        try files.write("alfa", title: "Alfa Energia")
        try await withLivePortal(files) { port, reloader, operations, _ in
            let rejectedBefore = metricValue(PortalMetrics.render(), OperationsMetrics.Name.reloads,
                                             [("tenant", files.id("alfa")), ("outcome", "rejected")])
            try files.write("alfa", title: "Alfa Rotta", breaking: true)
            let report = try #require(await reloader.reloadIfChanged(trigger: "file change"))
            let rejection = try #require(report.rejected.first)
            #expect(rejection.file.hasSuffix("/alfa.yaml") && rejection.keptLastGood && rejection.tenant == files.id("alfa"))
            #expect(rejection.errors.contains { $0.contains("alfa.yaml:") && $0.contains("localez") }, "file:line:column and the key: \(rejection.errors)")
            #expect(report.served == [files.id("alfa")])
            let page = try await HostClient.get(port: port, host: files.host("alfa"), "/login")
            #expect(page.status == 200 && page.body.contains("Alfa Energia") && !page.body.contains("Alfa Rotta"))

            let ready = try await HostClient.get(port: port, host: files.host("alfa"), "/ready")
            #expect(ready.status == 200, "the other tenants and the last good version serve: still ready")
            #expect(ready.body.contains("alfa.yaml") && ready.body.contains("last good version serving"), "\(ready.body)")
            let rejectedAfter = metricValue(PortalMetrics.render(), OperationsMetrics.Name.reloads,
                                            [("tenant", files.id("alfa")), ("outcome", "rejected")])
            #expect(rejectedAfter == rejectedBefore + 1)

            try files.write("alfa", title: "Alfa Riparata")
            let fixed = try #require(await reloader.reloadIfChanged(trigger: "file change"))
            #expect(fixed.applied == [files.id("alfa")] && fixed.rejected.isEmpty)
            #expect(try await HostClient.get(port: port, host: files.host("alfa"), "/login").body.contains("Alfa Riparata"))
            #expect(!(try await HostClient.get(port: port, host: files.host("alfa"), "/ready").body.contains("rejected")))
            #expect(operations.readiness.names.contains("tenants"))
        }
    }

    @Test("a file broken from the start: the other tenants serve, its hosts answer 503 with Retry-After; fixed, it serves")
    func brokenAtStart() async throws {
        let files = try LiveTenantFiles()
        try files.write("alfa", title: "Alfa Energia")
        try files.write("rotto", title: "Portale Rotto", breaking: true)
        try await withLivePortal(files) { port, reloader, _, _ in
            #expect(try await HostClient.get(port: port, host: files.host("alfa"), "/login").status == 200)
            let broken = try await HostClient.get(port: port, host: files.host("rotto"), "/login")
            #expect(broken.status == 503 && broken.headers["retry-after"] != nil)
            #expect(!broken.body.contains("Portale Rotto") && !broken.body.contains("localez"), "the page names no cause")
            #expect(try await HostClient.get(port: port, host: "nobody-\(files.suffix).test", "/login").status == 404)
            let start = try #require(reloader.report)
            #expect(start.rejected.map(\.keptLastGood) == [false])

            try files.write("rotto", title: "Portale Riparato")
            _ = try #require(await reloader.reloadIfChanged(trigger: "file change"))
            #expect(try await HostClient.get(port: port, host: files.host("rotto"), "/login").body.contains("Portale Riparato"))
        }
    }

    @Test("brand.css and static files revalidate: an ETag, 304 while unchanged, the new colour at once after a reload")
    func brandAndStaticRevalidate() async throws {
        let files = try LiveTenantFiles()
        try files.write("alfa", title: "Alfa Energia", colour: "#123456")
        try files.writeTemplate("alfa", "static/extra.css", "body { margin: 0 }\n")
        try await withLivePortal(files) { port, reloader, _, _ in
            let host = files.host("alfa")
            let first = try await HostClient.get(port: port, host: host, "/brand.css")
            let etag = try #require(first.headers["etag"])
            #expect(first.body.contains("#123456") && first.headers["cache-control"] == "no-cache")
            let again = try await HostClient.get(port: port, host: host, "/brand.css", headers: [("If-None-Match", etag)])
            #expect(again.status == 304 && again.body.isEmpty)
            let staticFile = try await HostClient.get(port: port, host: host, "/static/extra.css")
            let staticTag = try #require(staticFile.headers["etag"])
            #expect(try await HostClient.get(port: port, host: host, "/static/extra.css", headers: [("If-None-Match", staticTag)]).status == 304)

            try files.write("alfa", title: "Alfa Energia", colour: "#654321")
            try files.writeTemplate("alfa", "static/extra.css", "body { margin: 1px }\n")
            _ = try #require(await reloader.reloadIfChanged(trigger: "file change"))
            let changed = try await HostClient.get(port: port, host: host, "/brand.css", headers: [("If-None-Match", etag)])
            #expect(changed.status == 200 && changed.body.contains("#654321") && changed.headers["etag"] != etag)
            let changedStatic = try await HostClient.get(port: port, host: host, "/static/extra.css", headers: [("If-None-Match", staticTag)])
            #expect(changedStatic.status == 200 && changedStatic.body.contains("1px"))
        }
    }

    @Test("reloading under load: no request fails, and every page is wholly one version or the other")
    func reloadUnderLoad() async throws {
        let files = try LiveTenantFiles()
        try files.write("alfa", title: "Alfa Versione Uno")
        try files.write("beta", title: "Beta Stabile")
        try await withLivePortal(files) { port, reloader, _, _ in
            let stop = StopFlag()
            let (served, failures) = try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
                for worker in 0..<6 {
                    group.addTask {
                        var count = 0, failures: [String] = []
                        while !stop.isSet {
                            let name = worker.isMultiple(of: 2) ? "alfa" : "beta"
                            do {
                                let page = try await HostClient.get(port: port, host: files.host(name), "/login")
                                let whole = name == "beta" ? page.body.contains("Beta Stabile")
                                    : page.body.contains("Alfa Versione Uno") != page.body.contains("Alfa Versione Due")
                                if page.status != 200 || !whole { failures.append("\(name): \(page.status)") }
                            } catch {
                                failures.append("\(name): \(error)")
                            }
                            count += 1
                        }
                        return (count, failures)
                    }
                }
                group.addTask {
                    for round in 0..<12 {
                        try files.write("alfa", title: round.isMultiple(of: 2) ? "Alfa Versione Due" : "Alfa Versione Uno")
                        let report = await reloader.reload(trigger: "test")
                        if report.applied != [files.id("alfa")] { return (0, ["round \(round): \(report.applied) \(report.rejected)"]) }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    stop.set()
                    return (0, [])
                }
                var served = 0, failures: [String] = []
                for try await (count, failed) in group { served += count; failures += failed }
                return (served, failures)
            }
            #expect(failures.isEmpty, "\(failures.prefix(5))")
            #expect(served >= 30, "requests were made during the reloads: \(served)")
        }
    }

    @Test("the watcher picks up a changed file within its interval, without SIGHUP or a command")
    func watcherReloadsOnChange() async throws {
        let files = try LiveTenantFiles()
        try files.write("alfa", title: "Alfa Energia")
        try await withLivePortal(files) { port, reloader, _, _ in
            let watcher = TenantWatcher(reloader: reloader, interval: .milliseconds(200), handlesHangup: false)
            let task = Task { try await watcher.run() }
            defer { task.cancel() }
            try files.write("alfa", title: "Alfa Osservata")
            var seen = false
            for _ in 0..<50 where !seen {
                try await Task.sleep(for: .milliseconds(100))
                seen = try await HostClient.get(port: port, host: files.host("alfa"), "/login").body.contains("Alfa Osservata")
            }
            #expect(seen, "the change served within 5 s")
            #expect(reloader.report?.trigger == "file change")
        }
    }

    @Test("POST /reload on the operations listener reloads now and answers the report")
    func reloadEndpoint() async throws {
        let files = try LiveTenantFiles()
        try files.write("alfa", title: "Alfa Energia")
        try await withLivePortal(files) { _, _, operations, services in
            try files.write("alfa", title: "Alfa Comandata")
            try files.write("rotto", title: "Rotto", breaking: true)
            let answer = try await Application(router: buildOperationsRouter(services: services, operations: operations))
                .test(.router) { client in
                    try await client.execute(uri: "/reload", method: .post) { ($0.status, String(buffer: $0.body)) }
                }
            #expect(answer.0 == .ok)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(answer.1.utf8)) as? [String: Any])
            #expect(json["applied"] as? [String] == [files.id("alfa")])
            #expect(json["trigger"] as? String == "sportello reload")
            let rejected = try #require(json["rejected"] as? [[String: Any]])
            #expect(rejected.count == 1 && rejected.first?["kept_last_good"] as? Bool == false)
        }
    }
}
