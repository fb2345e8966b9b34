import Foundation
import Testing
import SportelloApplication
import SportelloCore
@testable import SportelloWeb
import SportelloTestSupport

/// The tenant index: unchanged files are served without being parsed again, built on their first request and
/// dropped beyond the resident limit; changed and broken files are checked and reported as without it.
@Suite("Tenant index")
struct TenantIndexTests {
    /// A tenants folder with `alfa`, `beta` and `gamma`, and the index path beside it.
    private func threeTenants() throws -> (LiveTenantFiles, String) {
        let files = try LiveTenantFiles()
        for name in ["alfa", "beta", "gamma"] { try files.write(name, title: "Portale \(name.capitalized)") }
        return (files, files.root.appendingPathComponent("index/tenant-index").path)
    }

    @Test("a start with the index parses no unchanged file, yet serves the same tenants, digest and warnings")
    func unchangedFilesComeFromTheIndex() async throws {
        let (files, index) = try threeTenants()
        defer { files.cleanUp() }
        let first = await files.reloader(TenantRegistry(), indexPath: index).reload(trigger: "start")
        #expect(first.validatedFiles == 3 && first.rejected.isEmpty)
        #expect(FileManager.default.fileExists(atPath: index))

        let registry = TenantRegistry()
        let second = await files.reloader(registry, indexPath: index).reload(trigger: "start")
        #expect(second.validatedFiles == 0)
        #expect(second.served == first.served && second.digest == first.digest && second.warnings == first.warnings)
        #expect(registry.residentCount == 0)
        let tenant = try #require(registry.tenant(forHost: files.host("beta")))
        #expect(tenant.id == files.id("beta") && tenant.definition.name == "Portale Beta")
        #expect(registry.residentCount == 1)
    }

    @Test("a changed file is validated again and a broken one is rejected with the errors a start without the index reports")
    func changedAndBrokenFilesAreChecked() async throws {
        let (files, index) = try threeTenants()
        defer { files.cleanUp() }
        await files.reloader(TenantRegistry(), indexPath: index).reload(trigger: "start")
        try files.write("alfa", title: "Alfa Nuova")
        try files.write("gamma", title: "Gamma Rotta", breaking: true)

        let registry = TenantRegistry()
        let report = await files.reloader(registry, indexPath: index).reload(trigger: "start")
        let plain = await files.reloader(TenantRegistry()).reload(trigger: "start")
        #expect(report.validatedFiles == 2)
        #expect(registry.tenant(forHost: files.host("alfa"))?.definition.name == "Alfa Nuova")
        #expect(registry.tenant(forHost: files.host("gamma")) == nil && registry.isUnavailable(host: files.host("gamma")))
        let rejection = try #require(report.rejected.first)
        #expect(report.rejected.count == 1 && rejection.file.hasSuffix("/gamma.yaml") && !rejection.keptLastGood)
        #expect(rejection.errors == plain.rejected.first?.errors && rejection.errors.contains { $0.contains("localez") })
        #expect(report.served == plain.served && report.warnings == plain.warnings)
    }

    @Test("a tenant served from the index keeps its last good version when its file breaks, even if it was never built")
    func lastGoodVersionComesFromTheKeptCopy() async throws {
        let (files, index) = try threeTenants()
        defer { files.cleanUp() }
        await files.reloader(TenantRegistry(), indexPath: index).reload(trigger: "start")
        let registry = TenantRegistry()
        let reloader = files.reloader(registry, indexPath: index)
        await reloader.reload(trigger: "start")
        try files.write("beta", title: "Beta Rotta", breaking: true)
        // Before the reload notices: the index's bytes, not the file's new ones.
        #expect(registry.tenant(forHost: files.host("beta"))?.definition.name == "Portale Beta")

        let report = await reloader.reload(trigger: "file change")
        #expect(report.rejected.map(\.keptLastGood) == [true] && report.validatedFiles == 1)
        #expect(registry.tenant(forHost: files.host("beta"))?.definition.name == "Portale Beta")
    }

    @Test("a tenant whose validated bytes are gone is never built from unchecked ones: its hosts answer 503 until the reload")
    func unbuildableTenantIsUnavailable() async throws {
        let (files, _) = try threeTenants()
        defer { files.cleanUp() }
        // The kept copies are gone (removed by hand): a tenant not built yet can only come from its file, while unchanged.
        let index = files.root.appendingPathComponent("index/tenant-index").path
        await files.reloader(TenantRegistry(), indexPath: index).reload(trigger: "start")
        try FileManager.default.removeItem(atPath: TenantIndex.copies(of: index))
        let registry = TenantRegistry()
        let reloader = files.reloader(registry, indexPath: index)
        await reloader.reload(trigger: "start")
        try files.write("gamma", title: "Gamma Cambiata")
        #expect(registry.tenant(forHost: files.host("gamma")) == nil && registry.isUnavailable(host: files.host("gamma")))
        #expect(registry.tenant(forHost: files.host("alfa"))?.definition.name == "Portale Alfa" && !registry.isUnavailable(host: "nessuno.test"))
        let report = await reloader.reload(trigger: "file change")
        #expect(report.applied == [files.id("gamma")] && report.validatedFiles == 1)
        #expect(registry.tenant(forHost: files.host("gamma"))?.definition.name == "Gamma Cambiata")
    }

    @Test("a request that found its tenant just before a reload gets that version, though the file already holds a later one")
    func tenantFoundBeforeAReloadKeepsItsVersion() async throws {
        let files = try LiveTenantFiles()
        defer { files.cleanUp() }
        try files.write("alfa", title: "Alfa Uno")
        let registry = TenantRegistry()
        let reloader = files.reloader(registry)
        _ = await reloader.reload(trigger: "start")
        let found = try #require(registry.slot(forHost: files.host("alfa")))
        try files.write("alfa", title: "Alfa Due")
        #expect(await reloader.reload(trigger: "test").applied == [files.id("alfa")])
        try files.write("alfa", title: "Alfa Tre")
        #expect(found.tenant?.definition.name == "Alfa Uno")
        #expect(registry.tenant(forHost: files.host("alfa"))?.definition.name == "Alfa Due")
    }

    @Test("beyond the resident limit the least used tenants are dropped and built again when asked for")
    func residentLimitDropsAndRebuilds() async throws {
        let (files, index) = try threeTenants()
        defer { files.cleanUp() }
        let firstRegistry = TenantRegistry()
        await files.reloader(firstRegistry, indexPath: index, residentLimit: 1).reload(trigger: "start")
        #expect(firstRegistry.residentCount == 1)

        let registry = TenantRegistry()
        await files.reloader(registry, indexPath: index, residentLimit: 1).reload(trigger: "start")
        for round in 0..<3 {
            for name in ["alfa", "beta", "gamma"] {
                let tenant = try #require(registry.tenant(forHost: files.host(name)), "round \(round), \(name)")
                #expect(tenant.definition.name == "Portale \(name.capitalized)")
                #expect(registry.residentCount == 1)
            }
        }
        #expect(registry.count == 3 && registry.ids == ["alfa", "beta", "gamma"].map(files.id).sorted())
    }

    @Test("the webhooks learn which tenants bind them from the index, without building any tenant")
    func pluginBindingsComeFromTheIndex() async throws {
        let files = try LiveTenantFiles()
        defer { files.cleanUp() }
        for name in ["_telco-it.yaml", "unidata.yaml", "unogas.yaml", "tim.yaml"] {
            try files.writeRaw(name, try String(contentsOf: repositoryRoot.appendingPathComponent("tenants/\(name)"), encoding: .utf8))
        }
        let index = files.root.appendingPathComponent("tenant-index").path
        let first = await files.reloader(TenantRegistry(), indexPath: index).reload(trigger: "start")
        #expect(first.rejected.isEmpty && first.served == ["tim", "unidata", "unogas"])
        let registry = TenantRegistry()
        await files.reloader(registry, indexPath: index).reload(trigger: "start")
        #expect(registry.ids(binding: "webhook_receiver") == ["unidata"] && registry.ids(binding: "crm_events").isEmpty)
        #expect(registry.ids(binding: "sandbox_psp") == ["tim", "unidata"])
        let webhooks = WebhookConsumers(subscribers: ["webhook_receiver": registry.ids(binding: "webhook_receiver")], plugins: PluginCatalogue.load(directory: repositoryRoot.appendingPathComponent("plugins").path),
                                        environment: ["SPORTELLO_WEBHOOK_URL": "http://127.0.0.1:9/", "SPORTELLO_WEBHOOK_SECRET": "s"],
                                        currentTenant: { registry.tenant(id: $0)?.definition })
        #expect(webhooks.summary.contains { $0.hasSuffix("for unidata") })
        #expect(registry.residentCount == 0, "no tenant was built to learn its bindings")
    }

    @Test("an index from another build, a damaged one or none at all means every file is validated")
    func unusableIndexFilesAreIgnored() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tenant-index-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("index").path
        let warning = Diagnostic(.warning, code: "odd-value", at: SourceLocation(file: "/t/a\tb.yaml", line: 3, column: 7),
                                 "two\nlines and a \\ backslash", hint: "a\thint")
        let entry = TenantIndexEntry(file: "/t/a\tb.yaml", contentKey: "k1", id: "alfa", hosts: ["a.test", "b.test"],
                                     plugins: ["sandbox_psp", "crm_webhook"], templatesDigest: "t1", warnings: [warning])
        try TenantIndex.write([entry], environment: "build-1", to: path)
        #expect(TenantIndex.read(path: path, environment: "build-1") == [entry.file: entry])
        #expect(TenantIndex.read(path: path, environment: "build-2").isEmpty)
        #expect(TenantIndex.read(path: path + "-missing", environment: "build-1").isEmpty)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try String(text.dropLast(2)).write(toFile: path, atomically: true, encoding: .utf8)
        #expect(TenantIndex.read(path: path, environment: "build-1").isEmpty)
    }
}
