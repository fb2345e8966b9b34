import Foundation
import Testing
@testable import SportelloCore
import SportelloTestSupport

/// The repository's tenants with `tenant`'s file edited (exact-text edits; one that does not apply fails the test).
private func loadEdited(_ tenant: String, _ edits: (String, String)..., sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> LoadResult {
    let files = try TenantLoader.definitionFiles(in: [repositoryRoot.appendingPathComponent("tenants").path])
    let sources = try files.map { file -> (file: String, text: String) in
        var text = try String(contentsOfFile: file, encoding: .utf8)
        if (file as NSString).lastPathComponent == "\(tenant).yaml" {
            for (old, new) in edits {
                #expect(text.components(separatedBy: old).count == 2, "edit '\(old)' applies once", sourceLocation: sourceLocation)
                text = text.replacingOccurrences(of: old, with: new)
            }
        }
        return (file, text)
    }
    return TenantLoader(capabilities: .portal, plugins: PluginCatalogue.load(directory: repositoryRoot.appendingPathComponent("plugins").path))
        .load(sources: sources)
}

private func errors(_ result: LoadResult) -> [(code: String, message: String, line: Int)] {
    result.diagnostics.filter { $0.severity == .error }.map { ($0.code, $0.message, $0.location.line) }
}

@Suite("Lookup plugin bindings in tenant files")
struct LookupBindingTests {
    @Test("the repository's lookup manifests load and the tenants bind them to the features whose pages ask them")
    func repository() throws {
        let result = try loadEdited("tunda")
        #expect(errors(result).isEmpty, "\(errors(result))")
        let catalogue = PluginCatalogue.load(directory: repositoryRoot.appendingPathComponent("plugins").path)
        #expect(Set(catalogue.manifests(of: .lookup).compactMap(\.lookup?.operation)) == Set(LookupOperation.allCases))
        #expect(catalogue.manifests(of: .lookup).allSatisfy { $0.isSandbox && $0.secretVariable("signing_key") == "SPORTELLO_LOOKUP_SECRET" })
        let windtre = try #require(result.tenants.first { $0.definition.id == "windtre" }?.definition)
        #expect(windtre.plugins?["sandbox_option_compatibility"]?.features?["options.manage"]?.forms == ["options_activation"])
    }

    @Test("a lookup answering another operation, a form of another feature, and flows on the wrong plugin or without verification are located errors")
    func mistakes() throws {
        let wrongOperation = try loadEdited("tunda", ("  sandbox_domains:\n    features:\n      domains.register: {}",
                                                "  sandbox_line_diagnosis:\n    features:\n      domains.register: {}"))
        #expect(errors(wrongOperation).contains { $0.code == "lookup-operation-mismatch" && $0.message.contains("domain_availability") })
        let wrongForm = try loadEdited("windtre", ("options.manage: {forms: [options_activation]}", "options.manage: {forms: [sim_replacement]}"))
        #expect(errors(wrongForm).contains { $0.code == "unknown-form" && $0.message.contains("sim_replacement") })
        let flowsOnDomains = try loadEdited("tunda", ("      domains.register: {}\n", "      domains.register: {}\n    flows: [registration]\n"))
        #expect(errors(flowsOnDomains).contains { $0.code == "unknown-key" && $0.message.contains("'flows'") })
        let crm = try loadEdited("unogas", ("\ntests:\n", "\nplugins:\n  sandbox_crm: {flows: [registration, password_recovery, nowhere]}\n\ntests:\n"))
        let found = errors(crm)
        #expect(found.contains { $0.code == "unknown-flow" && $0.message.contains("nowhere") })
        #expect(found.contains { $0.code == "invalid-value" && $0.message.contains("password_recovery") })
        #expect(!found.contains { $0.message.contains("'registration'") }, "the registration flow verifies the customer")
    }
}
