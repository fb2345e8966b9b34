/// Resolves what each role holds by name: its grants, its exclusives, inherited grants and toggles.
/// Used by validation and as the first stage of compiling an `AuthorizationModel`.
struct RoleClosure {
    let definition: TenantDefinition
    private(set) var inheritedGrants: [String: Set<String>] = [:]

    init(_ definition: TenantDefinition) {
        self.definition = definition
        for id in definition.roles.keys { inheritedGrants[id] = grantsThrough(id, visiting: []) }
    }

    /// Grants of the role and, transitively, of the roles it inherits — exclusives excluded.
    private func grantsThrough(_ id: String, visiting: Set<String>) -> Set<String> {
        guard let role = definition.roles[id], !visiting.contains(id) else { return [] }
        var result = Set(role.grants ?? [])
        for parent in role.inherits ?? [] { result.formUnion(grantsThrough(parent, visiting: visiting.union([id]))) }
        return result
    }

    /// Exclusive features of every role, by feature.
    var exclusiveOwners: [String: String] {
        var owners: [String: String] = [:]
        for (id, role) in definition.roles { for feature in role.exclusive ?? [] where owners[feature] == nil { owners[feature] = id } }
        return owners
    }

    /// Features the role holds with no toggles switched on.
    func baseFeatures(of id: String) -> Set<String> {
        var result = inheritedGrants[id] ?? []
        result.formUnion(definition.roles[id]?.exclusive ?? [])
        let owners = exclusiveOwners
        return result.filter { owners[$0] == nil || owners[$0] == id }
    }

    /// Features the role can reach with every toggle on.
    func maximumFeatures(of id: String) -> Set<String> {
        var result = baseFeatures(of: id)
        for toggle in definition.roles[id]?.toggles?.values ?? [] { result.formUnion(toggle.features) }
        return result
    }
}
