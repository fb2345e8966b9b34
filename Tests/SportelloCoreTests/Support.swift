import Foundation
@_exported import SportelloTestSupport  // every file of the target sees the shared helpers
@testable import SportelloCore

func load(_ yaml: String, file: String = "test.yaml", plugins: Set<String> = []) -> LoadResult {
    TenantLoader(capabilities: .portal, knownPlugins: plugins).load(sources: [(file: file, text: yaml)])
}

/// Decodes a definition even when semantic checks fail, so the runtime engine can be tested on bad models.
func decodeIgnoringSemantics(_ yaml: String) -> TenantDefinition? {
    var bag = DiagnosticBag()
    guard let node = ConfigParser.parse(yaml, file: "generated.yaml", diagnostics: &bag) else { return nil }
    var walker = SchemaWalker(file: "generated.yaml")
    guard let normalized = walker.walk(node, .object(TenantSchema.tenant(.portal)), path: "") else { return nil }
    var definition = try? ConfigDecoder.decode(TenantDefinition.self, from: normalized)
    definition?.bindSlotNamedFeatures(in: .portal)
    return definition
}
