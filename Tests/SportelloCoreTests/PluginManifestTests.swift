import Foundation
import Testing
@testable import SportelloCore
import SportelloTestSupport

/// The manifests of `sources` (file → text), as `sportello validate --plugins` reads a folder.
private func manifests(_ sources: [(String, String)]) -> PluginCatalogue {
    PluginCatalogue.load(sources: sources.map { (file: $0.0, text: Optional($0.1)) })
}

/// `PluginSchema.exampleManifest` with exact-text edits (an edit that does not apply fails the test).
private func manifest(_ edits: (String, String)..., sourceLocation: Testing.SourceLocation = #_sourceLocation) -> String {
    var text = PluginSchema.exampleManifest
    for (old, new) in edits {
        #expect(text.components(separatedBy: old).count == 2, "edit '\(old)' applies once", sourceLocation: sourceLocation)
        text = text.replacingOccurrences(of: old, with: new)
    }
    return text
}

/// The example tenant binding `plugins:` (inserted before `retention:`), checked against `catalogue`.
private func tenant(binding: String, catalogue: PluginCatalogue) -> LoadResult {
    let text = SchemaExport.exampleTenant.replacingOccurrences(of: "retention:\n", with: "plugins:\n\(binding)retention:\n")
    return TenantLoader(capabilities: .portal, plugins: catalogue).load(sources: [(file: "example.yaml", text: text)])
}

@Suite("Plugin manifests and tenants' plugin bindings")
struct PluginManifestTests {
    @Test("the reference's example manifest and the repository's plugins/ load clean; the tenants' bindings check against them")
    func examplesLoad() throws {
        let example = manifests([("plugins/sandbox_psp.yaml", PluginSchema.exampleManifest)])
        #expect(example.diagnostics.isEmpty, "\(example.diagnostics)")
        let psp = try #require(example["sandbox_psp"])
        #expect(psp.kind == .payments && psp.isSandbox && psp.payments?.methods == [.card, .paypal])
        #expect(psp.secretVariable("signing_key") == "SPORTELLO_PSP_SECRET" && psp.payments?.replayWindowSeconds == 300)
        #expect(psp.endpoint.resolve(in: ["SPORTELLO_PSP_URL": "http://127.0.0.1:9"]) == "http://127.0.0.1:9")
        #expect(psp.endpoint.resolve(in: [:]) == nil, "no URL without its variable")

        let repository = PluginCatalogue.load(directory: repositoryRoot.appendingPathComponent("plugins").path)
        #expect(repository.diagnostics.isEmpty, "\(repository.diagnostics)")
        #expect(repository["sandbox_psp"]?.kind == .payments)
        let tenants = try loadRepositoryTenants()
        #expect(!tenants.hasErrors, "\(tenants.errors)")
        let tunda = try #require(tenants.tenants.first { $0.definition.id == "tunda" }?.definition)
        #expect(tunda.paymentBinding(for: "proforma.pay")?.plugin == "sandbox_psp")
        #expect(tunda.paymentBinding(for: "proforma.pay")?.methods == [.paypal], "seed 002: pro-formas are paid with PayPal only")
        #expect(tenants.tenants.first { $0.definition.id == "windtre" }?.definition.paymentBinding(for: "invoices.pay") == nil)
    }

    @Test("a broken manifest: every problem located with its line and column, hints and did-you-mean; secrets never written in it")
    func brokenManifest() {
        let text = manifest(
            ("sandbox: true", "sandbox: yes"),
            ("endpoint: {url_env: SPORTELLO_PSP_URL}", "endpoint: {url: \"ftp://psp.example.it\", url_env: psp_url}"),
            ("timeouts: {connect: 2s, request: 10s}", "timeouts: {connect: 5m, request: 10s}"),
            ("secrets: {signing_key: SPORTELLO_PSP_SECRET}", "secrets: {signing_key: \"c2VncmV0bw==\"}"),
            ("  methods: [card, paypal]", "  methods: [card, paypall]"),
            ("  currencies: [EUR]", "  currencies: [eur]"),
            ("  replay_window: 5m", "  replay_window: 2h\nwebhook: {events: [invoice.paid]}"))
        let result = manifests([("plugins/sandbox_psp.yaml", text)])
        #expect(result.diagnostics.map(\.description) == [
            "plugins/sandbox_psp.yaml:5:10: error: 'sandbox' must be true or false, found the text 'yes' (write true or false)",
            "plugins/sandbox_psp.yaml:6:17: error: 'url' must be an http:// or https:// address, found 'ftp://psp.example.it'",
            "plugins/sandbox_psp.yaml:6:50: error: url_env must name an environment variable (uppercase letters, digits and '_'), found 'psp…' (e.g. SPORTELLO_SANDBOX_PSP_URL)",
            "plugins/sandbox_psp.yaml:7:21: error: timeout 'connect' must be between 1s and 120s, found 5m (a page waits for the plugin: keep it short)",
            "plugins/sandbox_psp.yaml:8:24: error: secret 'signing_key' must name an environment variable (uppercase letters, digits and '_'), found 'c2V…' (secrets are read from the environment, never written in the manifest: e.g. SPORTELLO_SANDBOX_PSP_SECRET)",
            "plugins/sandbox_psp.yaml:10:19: error: 'methods' must be one of card, paypal, bank_transfer, found 'paypall' (did you mean 'paypal'?)",
            "plugins/sandbox_psp.yaml:11:16: error: 'eur' is not an ISO 4217 currency code (for example EUR)",
            "plugins/sandbox_psp.yaml:12:18: error: 'replay_window' must be between 1s and 1h, found 2h (a longer window lets an intercepted notification be replayed for longer)",
            "plugins/sandbox_psp.yaml:13:1: error: option 'webhook' does not apply to kind 'payments' (options of 'payments': id, name, description, sandbox, endpoint, timeouts, secrets, payments)",
        ])
        #expect(!result.diagnostics.map(\.description).joined().contains("c2VncmV0bw=="), "a value written as a secret is never echoed whole")
        #expect(result.manifests.isEmpty, "a broken manifest is not connected")
        #expect(result.ids.contains("sandbox_psp"), "but tenants naming it are not told it is unknown")
    }

    @Test("kinds, ids, endpoints and sections: an unknown kind, a file named after another id, no endpoint, no signing key, no payments section")
    func manifestShapes() {
        let result = manifests([
            ("plugins/crm.yaml", "id: crm\nkind: webhok\nname: CRM\nendpoint: {url: \"https://crm.example.it/hooks\"}\n"),
            ("plugins/psp.yaml", "id: nexi\nkind: payments\nname: Nexi\nendpoint: {}\n"),
            ("plugins/hook.yaml", "id: hook\nkind: webhook\nname: Hook\nendpoint: {url: \"https://crm.example.it/hooks\"}\nretry: {backoff: 2h, max_backoff: 1h}\n"),
            ("plugins/domains.yaml", "id: domains\nkind: lookup\nname: Registro\nendpoint: {url: \"https://rdap.example.it\"}\nlookup: {operation: domain_availability, circuit_breaker: {failures: 5, cooldown: 30s}}\n"),
        ])
        #expect(result.diagnostics.map(\.description) == [
            "plugins/crm.yaml:2:7: error: unknown kind 'webhok' (did you mean 'webhook'?)",
            "plugins/hook.yaml:2:1: error: a webhook plugin needs the secret 'signing_key' (webhook deliveries are signed) (for example: secrets: {signing_key: SPORTELLO_HOOK_SECRET})",
            "plugins/hook.yaml:5:18: error: 'backoff' (2h) is longer than 'max_backoff' (1h)",
            "plugins/psp.yaml:1:5: error: plugin id 'nexi' differs from its file name 'psp' (name the file plugins/nexi.yaml, or set id: psp)",
            "plugins/psp.yaml:2:1: error: a payments plugin needs a 'payments' section (for example: payments: {methods: [card]})",
            "plugins/psp.yaml:2:1: error: a payments plugin needs the secret 'signing_key' (payment requests are signed and notifications verified with it) (for example: secrets: {signing_key: SPORTELLO_NEXI_SECRET})",
            "plugins/psp.yaml:4:1: error: the endpoint needs 'url' or 'url_env' (for example: endpoint: {url_env: SPORTELLO_PSP_URL})",
        ])
        #expect(result["domains"]?.lookup?.operation == .domainAvailability && result["domains"]?.lookup?.circuitBreaker?.failures == 5)
    }

    @Test("tenant bindings: unknown plugin and feature with did-you-mean, a feature that takes no plugin, a method the provider lacks, a feature bound twice")
    func bindings() {
        let catalogue = manifests([
            ("plugins/sandbox_psp.yaml", PluginSchema.exampleManifest),
            ("plugins/other_psp.yaml", manifest(("id: sandbox_psp", "id: other_psp"))),
            ("plugins/domains.yaml", "id: domains\nkind: lookup\nname: Registro\nendpoint: {url: \"https://rdap.example.it\"}\nlookup: {operation: domain_availability}\n"),
        ])
        #expect(catalogue.diagnostics.isEmpty, "\(catalogue.diagnostics)")
        let good = tenant(binding: "  sandbox_psp:\n    features:\n      invoices.pay: {methods: [paypal, card]}\n", catalogue: catalogue)
        #expect(good.diagnostics.isEmpty, "\(good.diagnostics)")
        #expect(good.tenants.first?.definition.paymentBinding(for: "invoices.pay")?.methods == [.paypal, .card], "in the tenant's order")
        #expect(tenant(binding: "  domains: {}\n", catalogue: catalogue).diagnostics.isEmpty, "enabled without binding a feature")

        let broken = tenant(binding: """
              sandbox_pps: {}
              sandbox_psp:
                features:
                  invoices.pay: {methods: [card, bank_transfer, card]}
                  invoices.view: {methods: [card]}
                  invoice.pay: {methods: [card]}
              other_psp:
                features:
                  invoices.pay: {methods: [card]}
              domains:
                features:
                  invoices.pay: {methods: [card]}

            """, catalogue: catalogue)
        #expect(broken.diagnostics.map(\.description) == [
            "example.yaml:44:3: error: plugin 'sandbox_pps' is not a known plugin (did you mean 'sandbox_psp'?)",
            "example.yaml:47:38: error: plugin 'sandbox_psp' does not offer the method 'bank_transfer' (it offers card, paypal)",
            "example.yaml:47:53: error: method 'card' is listed twice",
            "example.yaml:48:7: error: feature 'invoices.view' (capability invoices.view) takes no plugin, not the payments plugin 'sandbox_psp' (payments plugins carry out invoices.pay, proforma.pay, recharges.online)",
            "example.yaml:49:7: error: feature 'invoice.pay' is not a known feature (did you mean 'invoices.pay'?)",
            "example.yaml:52:7: error: feature 'invoices.pay' is already bound to plugin 'sandbox_psp' (a feature is carried out by one plugin)",
            "example.yaml:55:7: error: feature 'invoices.pay' is already bound to plugin 'sandbox_psp' (a feature is carried out by one plugin)",
        ])
        let missing = tenant(binding: "  sandbox_psp:\n    features:\n      invoices.pay: {}\n", catalogue: catalogue)
        #expect(missing.diagnostics.map(\.description) == [
            "example.yaml:46:7: error: binding a payments plugin needs 'methods' (plugin 'sandbox_psp' offers card, paypal: for example {methods: [card]})",
        ])
    }

    @Test("the reference documents the manifest language next to the tenant's")
    func referenceDocumentsManifests() {
        let reference = SchemaExport.reference(.portal)
        #expect(reference.contains("# Plugin manifests") && reference.contains("## plugin manifest") && reference.contains("## payments settings"))
        #expect(reference.contains("`signing_key`") && reference.contains("```yaml\n\(PluginSchema.exampleManifest)```"))
        #expect(reference.contains("## plugin binding") && reference.contains("- `payments`: `id`, `name`"))
    }
}
