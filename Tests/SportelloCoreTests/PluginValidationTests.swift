import Foundation
import Testing
@testable import SportelloCore
import SportelloTestSupport

/// The manifests of `sources` (file → text), as `sportello validate` reads `plugins/`.
private func manifests(_ sources: [(String, String)]) -> PluginCatalogue {
    PluginCatalogue.load(sources: sources.map { (file: $0.0, text: Optional($0.1)) })
}

/// The reference's example tenant with `binding` under `plugins:` (inserted before `retention:`), checked against `catalogue`.
private func tenant(binding: String, catalogue: PluginCatalogue) -> LoadResult {
    let text = SchemaExport.exampleTenant.replacingOccurrences(of: "retention:\n", with: "plugins:\n\(binding)retention:\n")
    return TenantLoader(capabilities: .portal, plugins: catalogue).load(sources: [(file: "example.yaml", text: text)])
}

/// The line of the example tenant where the first binding line lands (errors below are located from it).
private let bindingLine: Int = {
    let lines = SchemaExport.exampleTenant.components(separatedBy: "\n")
    return (lines.firstIndex(of: "retention:") ?? 0) + 2
}()

private let hookManifest = """
id: crm_hook
kind: webhook
name: CRM
endpoint: {url_env: SPORTELLO_CRM_HOOK_URL}
secrets: {signing_key: SPORTELLO_CRM_HOOK_SECRET}
webhook:
  events: [invoice.issued, invoice.paid, request.created]

"""

private let lookupManifest = "id: domains\nkind: lookup\nname: Registro\nendpoint: {url: \"https://rdap.example.it\"}\nlookup: {operation: domain_availability}\n"

@Suite("validate checks webhook manifests and tenants' plugin references, each error located")
struct PluginValidationTests {
    @Test("the repository's webhook manifests load clean")
    func repositoryManifests() throws {
        let repository = PluginCatalogue.load(directory: repositoryRoot.appendingPathComponent("plugins").path)
        #expect(repository.diagnostics.isEmpty, "\(repository.diagnostics)")
        let receiver = try #require(repository["webhook_receiver"])
        #expect(receiver.kind == .webhook && receiver.isSandbox && receiver.secretVariable("signing_key") == "SPORTELLO_WEBHOOK_SECRET")
        #expect(receiver.endpoint.resolve(in: ["SPORTELLO_WEBHOOK_URL": "http://127.0.0.1:9/hooks"]) == "http://127.0.0.1:9/hooks")
        let crm = try #require(repository["crm_events"])
        #expect(crm.kind == .webhook && !crm.isSandbox && crm.endpoint.url == nil, "a real provider's URL comes from the environment only")
    }

    @Test("a broken webhook manifest: unknown and repeated event types, a replay window too long, credentials in the URL, a secret written as a value, no signing key")
    func brokenWebhookManifest() {
        let result = manifests([
            ("plugins/crm_hook.yaml", """
            id: crm_hook
            kind: webhook
            name: CRM
            endpoint: {url: "https://ops:hunter2@crm.example.it/hooks"}
            secrets: {signing_key: "hunter2-really"}
            webhook:
              events: [invoice.issued, invoice.payed, invoice.issued]
              replay_window: 3h

            """),
            ("plugins/bare_hook.yaml", "id: bare_hook\nkind: webhook\nname: Bare\nendpoint: {url: \"https://crm.example.it/hooks\"}\n"),
            ("plugins/no_url.yaml", "id: no_url\nkind: webhook\nname: No URL\nendpoint: {}\nsecrets: {signing_key: SPORTELLO_NO_URL_SECRET}\n"),
            ("plugins/odd.yaml", "id: odd\nkind: webhooks\nname: Odd\nendpoint: {url: \"https://crm.example.it/hooks\"}\n"),
        ])
        #expect(result.diagnostics.map(\.description) == [
            "plugins/bare_hook.yaml:2:1: error: a webhook plugin needs the secret 'signing_key' (webhook deliveries are signed) (for example: secrets: {signing_key: SPORTELLO_BARE_HOOK_SECRET})",
            "plugins/crm_hook.yaml:4:17: error: 'url' carries credentials ('user:password@'): secrets never go in the manifest (name the environment variable that holds the whole URL instead: url_env: SPORTELLO_CRM_HOOK_URL)",
            "plugins/crm_hook.yaml:5:24: error: secret 'signing_key' must name an environment variable (uppercase letters, digits and '_'), found 'hun…' (secrets are read from the environment, never written in the manifest: e.g. SPORTELLO_CRM_HOOK_SECRET)",
            "plugins/crm_hook.yaml:7:28: error: event type 'invoice.payed' is not one the portal records (did you mean 'invoice.paid'?)",
            "plugins/crm_hook.yaml:7:43: error: event type 'invoice.issued' is listed twice",
            "plugins/crm_hook.yaml:8:18: error: 'replay_window' must be between 1s and 1h, found 3h (a longer window lets an intercepted delivery be replayed for longer)",
            "plugins/no_url.yaml:4:1: error: the endpoint needs 'url' or 'url_env' (for example: endpoint: {url_env: SPORTELLO_PSP_URL})",
            "plugins/odd.yaml:2:7: error: unknown kind 'webhooks' (did you mean 'webhook'?)",
        ])
        #expect(!result.diagnostics.map(\.description).joined().contains("hunter2"), "no secret is echoed")
        #expect(result.manifests.isEmpty && result.ids.isSuperset(of: ["crm_hook", "bare_hook", "no_url", "odd"]),
                "broken manifests are not connected, and tenants naming them are not told they are unknown")
    }

    @Test("a tenant's webhook binding: events that exist (did-you-mean), among the manifest's, conditions well written on facts the events carry, personal data")
    func webhookBindings() throws {
        let catalogue = manifests([("plugins/crm_hook.yaml", hookManifest), ("plugins/sandbox_psp.yaml", PluginSchema.exampleManifest),
                                   ("plugins/domains.yaml", lookupManifest)])
        #expect(catalogue.diagnostics.isEmpty, "\(catalogue.diagnostics)")
        let good = tenant(binding: "  crm_hook:\n    events: [invoice.issued]\n    when: {source: \"import|order\", total_cents: \">=100\"}\n    personal_data: true\n",
                          catalogue: catalogue)
        #expect(good.diagnostics.isEmpty, "\(good.diagnostics)")
        let binding = try #require(good.tenants.first?.definition.plugins?["crm_hook"])
        #expect(binding.events == ["invoice.issued"] && binding.when?["source"] == "import|order" && binding.personalData == true)
        #expect(tenant(binding: "  crm_hook: {}\n", catalogue: catalogue).diagnostics.isEmpty, "enabled with the manifest's events")

        let broken = tenant(binding: """
              crm_hook:
                events: [invoice.isued, request.created, user.blocked, request.created]
                when: {status: open, number: ">=many", stauts: x}
              sandbox_psp:
                events: [invoice.paid]
                personal_data: true
              domains:
                features:
                  invoices.pay: {methods: [card]}
              crm_hok: {}

            """, catalogue: catalogue)
        let line = bindingLine
        // Which capabilities take a lookup plugin grows with the modules: the list after "carry out" is not compared.
        let described = broken.diagnostics.map(\.description).map { text in
            text.range(of: "(lookup plugins carry out ").map { String(text[..<$0.upperBound]) + "…)" } ?? text
        }
        #expect(described == [
            "example.yaml:\(line + 1):14: error: event type 'invoice.isued' is not one the portal records (did you mean 'invoice.issued'?)",
            "example.yaml:\(line + 1):46: error: plugin 'crm_hook' does not take 'user.blocked' events (its manifest's webhook.events) (it takes invoice.issued, invoice.paid, request.created)",
            "example.yaml:\(line + 1):60: error: event type 'request.created' is listed twice",
            "example.yaml:\(line + 2):34: error: condition '>=many' on 'number' needs a whole number after >= or <= (for example number: \">=80\")",
            "example.yaml:\(line + 2):44: error: no event type sent carries the fact 'stauts' (did you mean 'status'?)",
            "example.yaml:\(line + 4):5: error: 'events' applies to webhook plugins, and 'sandbox_psp' is a payments plugin (bind a payments plugin to features: {features: {invoices.pay: {methods: [card]}}})",
            "example.yaml:\(line + 5):5: error: 'personal_data' applies to webhook plugins, and 'sandbox_psp' is a payments plugin (bind a payments plugin to features: {features: {invoices.pay: {methods: [card]}}})",
            "example.yaml:\(line + 8):7: error: feature 'invoices.pay' (capability invoices.pay) takes a payments plugin, not the lookup plugin 'domains' (lookup plugins carry out …)",
            "example.yaml:\(line + 9):3: error: plugin 'crm_hok' is not a known plugin (did you mean 'crm_hook'?)",
        ])
    }

    @Test("a feature bound to a webhook plugin, an unknown feature and a method the provider does not offer are located")
    func featureReferences() {
        let catalogue = manifests([("plugins/crm_hook.yaml", hookManifest), ("plugins/sandbox_psp.yaml", PluginSchema.exampleManifest)])
        let broken = tenant(binding: """
              crm_hook:
                features:
                  invoices.pay: {}
              sandbox_psp:
                features:
                  proforma.pays: {methods: [card]}
                  invoice.pay: {methods: [card]}

            """, catalogue: catalogue)
        let line = bindingLine
        #expect(broken.diagnostics.map(\.description) == [
            "example.yaml:\(line + 2):7: error: feature 'invoices.pay' (capability invoices.pay) takes a payments plugin, not the webhook plugin 'crm_hook'",
            "example.yaml:\(line + 5):7: error: feature 'proforma.pays' is not a known feature",
            "example.yaml:\(line + 6):7: error: feature 'invoice.pay' is not a known feature (did you mean 'invoices.pay'?)",
        ])
        let methods = tenant(binding: "  sandbox_psp:\n    features:\n      invoices.pay: {methods: [card, bank_transfer]}\n", catalogue: catalogue)
        #expect(methods.diagnostics.map(\.description) == [
            "example.yaml:\(line + 2):38: error: plugin 'sandbox_psp' does not offer the method 'bank_transfer' (it offers card, paypal)",
        ])
    }
}
