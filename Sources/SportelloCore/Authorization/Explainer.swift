/// One rule that contributed to a decision, with where the provider wrote it.
public struct ExplanationStep: Sendable, Hashable {
    public var message: String
    public var location: SourceLocation
}

/// The answer to "may this role use this feature?" and the chain of rules that decided it.
public struct Explanation: Sendable {
    public var allowed: Bool
    public var scope: FeatureScope?
    public var steps: [ExplanationStep]

    public var rendered: String {
        var lines = ["\(allowed ? "ALLOWED" : "DENIED")\(scope.map { " (scope: \($0.rawValue))" } ?? "")"]
        for step in steps { lines.append("  - \(step.message)  [\(step.location)]") }
        return lines.joined(separator: "\n")
    }
}

/// Explains feature decisions of a loaded tenant by walking the same rules the model compiles.
public struct Explainer: Sendable {
    public let tenant: LoadedTenant
    public let model: AuthorizationModel

    public init(tenant: LoadedTenant) {
        self.tenant = tenant
        self.model = AuthorizationModel(tenant.definition)
    }

    private var definition: TenantDefinition { tenant.definition }
    private func at(_ path: String) -> SourceLocation { tenant.locations.value(path) }

    public func explain(role: String, toggles: Set<String> = [], customerType: String? = nil, feature: String) throws(AuthorizationError) -> Explanation {
        guard let roleDefinition = definition.roles[role] else {
            throw AuthorizationError(code: "unknown-role", message: "no role '\(role)' in tenant '\(definition.id)'" + (Suggest.hint(for: role, in: definition.roles.keys).map { " (\($0))" } ?? ""))
        }
        guard definition.features[feature] != nil else {
            throw AuthorizationError(code: "unknown-feature", message: "no feature '\(feature)' in tenant '\(definition.id)'" + (Suggest.hint(for: feature, in: definition.features.keys).map { " (\($0))" } ?? ""))
        }
        for toggle in toggles where roleDefinition.toggles?[toggle] == nil {
            throw AuthorizationError(code: "unknown-toggle", message: "role '\(role)' has no toggle '\(toggle)'" + (Suggest.hint(for: toggle, in: roleDefinition.toggles?.keys ?? []).map { " (\($0))" } ?? ""))
        }
        let principal = try model.principal(role: role, toggles: toggles, customerType: customerType)
        let allowed = model.isAllowed(principal, feature)
        var steps: [ExplanationStep] = []

        if let types = roleDefinition.customerTypes, let customerType, !types.contains(customerType) {
            steps.append(.init(message: "role '\(role)' is offered only to customer types \(types.joined(separator: ", ")), not '\(customerType)'", location: at("roles/\(role)/customer_types")))
            return Explanation(allowed: allowed, scope: nil, steps: steps)
        }
        let closure = RoleClosure(definition)
        if let owner = closure.exclusiveOwners[feature] {
            let index = definition.roles[owner]?.exclusive?.firstIndex(of: feature) ?? 0
            steps.append(.init(message: owner == role ? "'\(feature)' is exclusive to role '\(role)'" : "'\(feature)' is exclusive to role '\(owner)'; no other role may hold it, even by inheritance",
                               location: at("roles/\(owner)/exclusive/\(index)")))
        } else if let path = grantPath(from: role, feature: feature) {
            for (from, to) in zip(path, path.dropFirst()) {
                let index = definition.roles[from]?.inherits?.firstIndex(of: to) ?? 0
                steps.append(.init(message: "role '\(from)' inherits role '\(to)'", location: at("roles/\(from)/inherits/\(index)")))
            }
            let granter = path.last!
            let index = definition.roles[granter]?.grants?.firstIndex(of: feature) ?? 0
            steps.append(.init(message: "role '\(granter)' grants '\(feature)'", location: at("roles/\(granter)/grants/\(index)")))
        } else {
            steps.append(.init(message: "no grant of '\(feature)' in role '\(role)'\(inheritanceNote(role))", location: at("roles/\(role)")))
        }
        for (toggleID, toggle) in roleDefinition.toggles ?? OrderedMap() {
            guard let index = toggle.features.firstIndex(of: feature) else { continue }
            let on = toggles.contains(toggleID)
            steps.append(.init(message: "per-user toggle '\(toggleID)' \(on ? "is on and enables" : "would enable (it is off)") '\(feature)'",
                               location: at("roles/\(role)/toggles/\(toggleID)/features/\(index)")))
        }
        let scope = model.scope(principal, feature)
        if allowed, let scope {
            let explicit = roleDefinition.scopes?[feature] != nil
            steps.append(.init(message: explicit ? "role '\(role)' limits '\(feature)' to \(scope.rawValue)" : "scope \(scope.rawValue), the widest '\(feature)' supports",
                               location: explicit ? at("roles/\(role)/scopes/\(feature)") : at("features/\(feature)/scopes")))
        }
        return Explanation(allowed: allowed, scope: scope, steps: steps)
    }

    /// Shortest chain role → … → role that grants the feature, or nil.
    private func grantPath(from role: String, feature: String) -> [String]? {
        var queue: [[String]] = [[role]]
        var seen: Set<String> = [role]
        while !queue.isEmpty {
            let path = queue.removeFirst()
            let current = path.last!
            if definition.roles[current]?.grants?.contains(feature) == true { return path }
            for parent in definition.roles[current]?.inherits ?? [] where seen.insert(parent).inserted { queue.append(path + [parent]) }
        }
        return nil
    }

    private func inheritanceNote(_ role: String) -> String {
        let parents = definition.roles[role]?.inherits ?? []
        return parents.isEmpty ? "" : " or the roles it inherits (\(parents.joined(separator: ", ")))"
    }
}
