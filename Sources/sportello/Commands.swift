import ArgumentParser
import Foundation
import SportelloCore
import SportelloWeb

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check tenant definitions and report every problem as FILE:LINE:COLUMN.")

    @OptionGroup var definitions: DefinitionOptions

    func run() throws {
        let result = try definitions.load()
        for diagnostic in result.diagnostics { printError(diagnostic.description) }
        for tenant in result.tenants { print(summary(tenant)) }
        for plugin in result.plugins.manifests.values.sorted(by: { $0.id < $1.id }) {
            let users = result.tenants.filter { $0.definition.plugins?[plugin.id] != nil }.map(\.definition.id)
            print("plugin \(plugin.id): \(plugin.manifest.kind.rawValue)\(plugin.manifest.isSandbox ? " (sandbox)" : "")"
                  + " — used by \(users.isEmpty ? "no tenant" : users.joined(separator: ", ")) (\(plugin.file))")
        }
        let errors = result.errors.count, warnings = result.warnings.count
        print("\(result.tenants.count) tenant\(result.tenants.count == 1 ? "" : "s") valid, \(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
        if result.hasErrors { throw ExitCode(1) }
    }
}

struct Test: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the assertions providers write under 'tests:' in their definitions.")

    @OptionGroup var definitions: DefinitionOptions

    func run() throws {
        let result = try definitions.load()
        for diagnostic in result.errors { printError(diagnostic.description) }
        var failed = result.hasErrors
        var total = 0, failures = 0
        for tenant in result.tenants {
            let outcome = TenantTestRunner(tenant: tenant).run()
            for failure in outcome.failures { printError(failure.description) }
            total += outcome.assertions
            failures += outcome.failures.count
            print("\(tenant.definition.id): \(outcome.assertions - outcome.failures.count) passed, \(outcome.failures.count) failed")
            if !outcome.failures.isEmpty { failed = true }
        }
        print("\(total - failures) passed, \(failures) failed")
        if failed { throw ExitCode(1) }
    }
}

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Say whether a role may use a feature, and which rules decided it.")

    @OptionGroup var tenant: TenantOption

    @Option(help: "Role id.")
    var role: String

    @Option(help: "Per-user toggles switched on, comma-separated.")
    var toggles: String?

    @Option(help: "Customer type of the user.")
    var customerType: String?

    @Option(help: "Feature id.")
    var feature: String

    func run() throws {
        let loaded = try tenant.load()
        let toggleSet = Set((toggles ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        do {
            let explanation = try Explainer(tenant: loaded).explain(role: role, toggles: toggleSet, customerType: customerType, feature: feature)
            print("\(loaded.definition.id): role '\(role)'\(toggleSet.isEmpty ? "" : " + toggles \(toggleSet.sorted().joined(separator: ","))") → '\(feature)': \(explanation.rendered)")
        } catch {
            throw ValidationError(error.message)
        }
    }
}

struct Matrix: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the role × feature table of a tenant.")

    @OptionGroup var tenant: TenantOption

    @Option(help: "text, markdown, csv or html.")
    var format: String = "text"

    @Option(help: "Language of labels.")
    var locale: String = "it"

    func run() throws {
        guard let chosen = FeatureMatrix.Format(rawValue: format) else {
            throw ValidationError("unknown format '\(format)'; use text, markdown, csv or html")
        }
        print(FeatureMatrix(try tenant.load().definition, locale: locale).render(chosen), terminator: "")
    }
}

struct Schema: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the JSON Schema of the tenant language (for yaml-language-server).")

    func run() { print(SchemaExport.jsonSchema(PortalModules.capabilities), terminator: "") }
}

struct Reference: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the Markdown reference of every key (docs/REFERENCE.md).")

    func run() { print(SchemaExport.reference(PortalModules.capabilities) + CapabilityReference.markdown(), terminator: "") }
}

