import Foundation

extension LookupOperation {
    /// The operation a lookup plugin bound to a capability slot must answer (`domains.register`: domain availability).
    /// A slot not listed takes any lookup.
    public static let bySlot: [String: LookupOperation] = [
        "domains.register": .domainAvailability,
        "support.line_diagnosis": .lineDiagnosis,
        "options.manage": .optionCompatibility,
    ]
}

// A tenant's lookup bindings (`plugins: {<id>: {features: {<feature>: {forms}}, flows}}`): what `SemanticValidator.checkPlugins`
// checks beyond features and kinds.

extension SemanticValidator {
    /// A lookup plugin bound to a feature answers the operation the feature's page asks; `forms` names request forms
    /// of that feature; `flows` (customer verification only) names flows with a `verify_customer` step.
    mutating func checkLookupBinding(_ id: String, _ binding: PluginBinding, manifest: PluginManifest?) {
        let path = "plugins/\(id)"
        guard let manifest else { return }  // unknown or known by id only: reported elsewhere
        let operation = manifest.lookup?.operation
        if let flows = binding.flows {
            if manifest.kind != .lookup || operation != .customerVerification {
                diagnostics.error("unknown-key", at: key("\(path)/flows"),
                                  "'flows' applies to lookup plugins answering customer_verification, and '\(id)' is \(manifest.kind == .lookup ? "a \(operation?.rawValue ?? "") lookup" : "a \(manifest.kind.rawValue) plugin")")
            } else {
                for (index, flowId) in flows.enumerated() {
                    guard let flow = definition.flows[flowId] else {
                        diagnostics.error("unknown-flow", at: at("\(path)/flows/\(index)"), "flow '\(flowId)' is not defined",
                                          hint: Suggest.hint(for: flowId, in: Array(definition.flows.keys)))
                        continue
                    }
                    if !flow.steps.contains(where: { $0.step == .verifyCustomer }) {
                        diagnostics.error("invalid-value", at: at("\(path)/flows/\(index)"), "flow '\(flowId)' has no verify_customer step for the CRM to answer")
                    }
                }
            }
        }
        for (featureId, featureBinding) in binding.features ?? OrderedMap() {
            guard let feature = definition.features[featureId] else { continue }
            let featurePath = "\(path)/features/\(featureId)"
            if manifest.kind != .lookup {
                if featureBinding.forms != nil {
                    diagnostics.error("unknown-key", at: key("\(featurePath)/forms"), "'forms' applies to lookup plugins, and '\(id)' is a \(manifest.kind.rawValue) plugin")
                }
                continue
            }
            let slot = feature.capability ?? featureId
            if let expected = LookupOperation.bySlot[slot], let operation, operation != expected {
                diagnostics.error("lookup-operation-mismatch", at: key(featurePath),
                                  "feature '\(featureId)' asks \(expected.rawValue), and plugin '\(id)' answers \(operation.rawValue)",
                                  hint: "bind a lookup plugin whose manifest says lookup: {operation: \(expected.rawValue)}")
            }
            let forms = (definition.requests ?? OrderedMap()).filter { $0.value.feature == featureId }.map(\.key)
            for (index, formId) in (featureBinding.forms ?? []).enumerated() where !forms.contains(formId) {
                diagnostics.error("unknown-form", at: at("\(featurePath)/forms/\(index)"), "'\(formId)' is not a request form of feature '\(featureId)'",
                                  hint: forms.isEmpty ? "the feature has no request form" : "its forms: \(forms.joined(separator: ", "))")
            }
        }
    }
}
