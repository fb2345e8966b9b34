import Foundation
import Testing
@testable import SportelloCore

@Suite("Tenant language")
struct LanguageTests {
    @Test func exampleInTheReferenceLoadsClean() throws {
        let result = load(SchemaExport.exampleTenant, file: "example.yaml")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let tenant = try #require(result.tenants.first)
        #expect(tenant.definition.id == "example")
        #expect(tenant.definition.roles.keys == ["admin", "member"])
        #expect(tenant.definition.flows["registration"]?.steps.first?.expires == DurationSpec(30, .days))
    }

    @Test func keysKeepTheOrderTheProviderWrote() throws {
        let tenant = try #require(load(SchemaExport.exampleTenant, file: "example.yaml").tenants.first)
        #expect(tenant.definition.features.keys == ["invoices.view", "invoices.pay", "users.manage"])
        #expect(tenant.definition.sections.keys == ["invoices", "users"])
    }

    @Test(arguments: [("30d", 30, DurationSpec.Unit.days), ("24mo", 24, .months), ("15m", 15, .minutes), ("12h", 12, .hours), ("1y", 1, .years), ("90s", 90, .seconds), ("2w", 2, .weeks)])
    func durationsParse(text: String, amount: Int, unit: DurationSpec.Unit) {
        #expect(DurationSpec(parsing: text) == DurationSpec(amount, unit))
    }

    @Test(arguments: ["", "d", "30", "thirty days", "-5d", "5 days", "1.5h"])
    func nonDurationsAreRejected(text: String) {
        #expect(DurationSpec(parsing: text) == nil)
    }

    @Test func calendarWindowsUseMonths() {
        #expect(DurationSpec(24, .months).calendarMonths == 24)
        #expect(DurationSpec(1, .years).calendarMonths == 12)
        #expect(DurationSpec(180, .days).calendarMonths == nil)
        #expect(DurationSpec(180, .days).seconds == 180 * 86_400)
    }

    @Test func localizedTextFallsBackSensibly() {
        let text = LocalizedText(translations: ["it": "Fatture", "en": "Invoices"])
        #expect(text.resolve("en") == "Invoices")
        #expect(text.resolve("de") == "Fatture")
        #expect(LocalizedText("Fatture").resolve("en") == "Fatture")
    }

    @Test func aFileIsAFragmentOnlyWhenALineStartsWithTheFragmentKey() {
        #expect(TenantLoader.declaresFragment("fragment: base\nroles: {}\n"))
        #expect(TenantLoader.declaresFragment("# shared roles\nfragment: base\n"))
        #expect(TenantLoader.declaresFragment("# shared roles\r\nfragment: base\r\n"))
        #expect(!TenantLoader.declaresFragment("id: acme\n  fragment: base\n"))
        #expect(!TenantLoader.declaresFragment("id: acme\nextends: [fragment: base]\nmyfragment: x\n"))
        #expect(!TenantLoader.declaresFragment("fragment"))
        #expect(!TenantLoader.declaresFragment(""))
    }

    @Test func fragmentsMergeUnderneathAndTheTenantWins() throws {
        let fragment = """
        fragment: base
        locales: {default: it, available: [it, en]}
        branding: {primary_color: "#111111", logo: /base.svg}
        sections:
          invoices: {label: Fatture}
        """
        var tenant = SchemaExport.exampleTenant.replacingOccurrences(of: "locales: {default: it, available: [it, en]}\n", with: "extends: [base]\n")
        tenant = tenant.replacingOccurrences(of: "branding: {primary_color: \"#0a3d91\", logo: /static/example/logo.svg}", with: "branding: {primary_color: \"#222222\"}")
        let result = TenantLoader(capabilities: .portal).load(sources: [(file: "base.yaml", text: fragment), (file: "example.yaml", text: tenant)])
        #expect(result.errors.isEmpty, "\(result.errors)")
        let definition = try #require(result.tenants.first).definition
        #expect(definition.locales.available == ["it", "en"])
        #expect(definition.branding.primaryColor == "#222222")
        #expect(definition.branding.logo == "/base.svg")
        #expect(definition.sections.keys.contains("users"))
    }

    @Test func theTenantsOrderWinsAndTheFragmentsOwnEntriesFollow() throws {
        let fragment = """
        fragment: base
        locales: {default: it, available: [it, en]}
        sections:
          support: {label: Assistenza}
          invoices: {label: Fatture}
        """
        let tenant = SchemaExport.exampleTenant.replacingOccurrences(of: "locales: {default: it, available: [it, en]}\n", with: "extends: [base]\n")
        let result = TenantLoader(capabilities: .portal).load(sources: [(file: "base.yaml", text: fragment), (file: "example.yaml", text: tenant)])
        #expect(result.errors.isEmpty, "\(result.errors)")
        let definition = try #require(result.tenants.first).definition
        // The tenant lists invoices then users; the fragment's support comes after them.
        #expect(definition.sections.keys == ["invoices", "users", "support"])
        #expect(definition.sections["invoices"]?.label.resolve("it") == "Fatture")
    }

    @Test func errorsInsideAFragmentPointAtTheFragmentFile() throws {
        let fragment = "fragment: base\nlocales: {default: it, available: [it, en]}\nbranding: {primary_color: blue}\n"
        let tenant = SchemaExport.exampleTenant.replacingOccurrences(of: "branding: {primary_color: \"#0a3d91\", logo: /static/example/logo.svg}\n", with: "extends: [base]\n")
        let result = TenantLoader(capabilities: .portal).load(sources: [(file: "base.yaml", text: fragment), (file: "example.yaml", text: tenant)])
        let error = try #require(result.errors.first)
        #expect(error.description == "base.yaml:3:27: error: 'primary_color' must be a colour such as #0a3d91, found 'blue'")
    }

    @Test func jsonSchemaIsValidJSONAndDescribesEveryTopLevelKey() throws {
        let data = Data(SchemaExport.jsonSchema(.portal).utf8)
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let variants = try #require(root["oneOf"] as? [[String: Any]])
        let tenant = try #require(variants.first?["properties"] as? [String: Any])
        for property in TenantSchema.tenantProperties(.portal) { #expect(tenant[property.key] != nil, "missing \(property.key)") }
        #expect((variants.first?["required"] as? [String])?.contains("id") == true)
        #expect((variants.last?["required"] as? [String]) == ["fragment"])
    }

    @Test func referenceDocumentsEveryObjectAndStep() {
        let reference = SchemaExport.reference(.portal)
        for name in ["## tenant", "## role", "## flow step", "## retention rule", "## request form", "## tenant test"] {
            #expect(reference.contains(name), "\(name) missing")
        }
        for step in StepKind.allCases { #expect(reference.contains("- `\(step.rawValue)`"), "step \(step.rawValue) undocumented") }
    }

    @Test func suggestionsFindCloseNamesOnly() {
        #expect(Suggest.closest(to: "invoice.pay", in: ["invoices.pay", "usage.view"]) == "invoices.pay")
        #expect(Suggest.closest(to: "amministratore-full", in: ["amministratore_full", "utilizzatore"]) == "amministratore_full")
        #expect(Suggest.closest(to: "xyz", in: ["invoices.pay"]) == nil)
    }
}

@Suite("Parallel loading")
struct ParallelLoadingTests {
    @Test("every item is mapped once, in order, whatever the number of workers (more workers than chunks included)",
          arguments: [(5, 4), (1, 3), (0, 2), (17, 4), (64, 8), (3, 1)])
    func mapsEveryItemInOrder(count: Int, workers: Int) {
        let items = Array(0..<count)
        #expect(parallelMap(items, workers: workers) { item, _ in item * 2 } == items.map { $0 * 2 })
    }
}
