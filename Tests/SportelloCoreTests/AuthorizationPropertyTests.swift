import PropertyBased
import Testing
@testable import SportelloCore

/// Random tenants (roles, inheritance without cycles, grants, exclusives, toggles, delegation) and
/// random users: the engine's guarantees must hold for all of them, not only for the five providers.
@Suite("Authorization properties")
struct AuthorizationPropertyTests {
    struct RandomTenant {
        let definition: TenantDefinition
        let grantedSomewhere: Set<String>
    }

    /// Builds a random tenant from a seed; delegation rules are random too, so some would fail
    /// validation — the runtime must still refuse every elevation.
    static func randomTenant(seed: Int) -> RandomTenant? {
        var random = SplitMix64(seed: UInt64(seed))
        // Mostly small tenants; one in four with more features than a FeatureSet keeps inline (128).
        let featureCount = Int.random(in: 0..<4, using: &random) == 0 ? Int.random(in: 120...200, using: &random) : Int.random(in: 3...20, using: &random)
        let roleCount = Int.random(in: 1...6, using: &random)
        let features = (0..<featureCount).map { "f\($0)" }
        var granted = Set<String>()
        var yaml = """
        id: random
        name: Random
        hosts: [random.localhost]
        locales: {default: it, available: [it]}
        branding: {primary_color: "#000000"}
        customer_types:
          person: {label: P, kind: person, required_fields: [first_name]}
        login:
          identifiers: [username]
          case_sensitive: false
          password: {min_length: 8}
          session: {idle_timeout: 15m, absolute_timeout: 8h}
        sections:
          s: {label: S}
        features:

        """
        for feature in features { yaml += "  \(feature): {label: \(feature), section: s}\n" }
        yaml += "roles:\n"
        var exclusiveTaken = Set<String>()
        for role in 0..<roleCount {
            let grants = features.filter { _ in Int.random(in: 0..<3, using: &random) == 0 }
            let parents = (0..<role).filter { _ in Bool.random(using: &random) }.map { "r\($0)" }
            let exclusive = features.filter { !exclusiveTaken.contains($0) && !grants.contains($0) && Int.random(in: 0..<8, using: &random) == 0 }
            exclusiveTaken.formUnion(exclusive)
            granted.formUnion(grants)
            granted.formUnion(exclusive)
            yaml += "  r\(role):\n    label: R\(role)\n    grants: [\(grants.joined(separator: ", "))]\n"
            if !parents.isEmpty { yaml += "    inherits: [\(parents.joined(separator: ", "))]\n" }
            if !exclusive.isEmpty { yaml += "    exclusive: [\(exclusive.joined(separator: ", "))]\n" }
            let toggleCount = Int.random(in: 0...3, using: &random)
            if toggleCount > 0 {
                yaml += "    toggles:\n"
                for toggle in 0..<toggleCount {
                    let enabled = [features.randomElement(using: &random)!] + features.filter { _ in Int.random(in: 0..<6, using: &random) == 0 }
                    granted.formUnion(enabled)
                    yaml += "      t\(toggle): {label: T, features: [\(Set(enabled).sorted().joined(separator: ", "))]}\n"
                }
            }
            let managed = (0..<roleCount).filter { _ in Bool.random(using: &random) }
            if !managed.isEmpty {
                yaml += "    manages:\n"
                for target in managed { yaml += "      r\(target): {actions: [create, change_toggles, change_role, delete]}\n" }
            }
        }
        yaml += """
        flows:
          reset:
            kind: recovery
            purpose: reset_password
            label: Reset
            steps: [{step: reset_link, expires: 1h}, {step: password}]

        """
        guard let definition = decodeIgnoringSemantics(yaml) else { return nil }
        return RandomTenant(definition: definition, grantedSomewhere: granted.subtracting(exclusiveTaken.subtracting(granted)).union(exclusiveTaken))
    }

    static func randomToggles(_ definition: TenantDefinition, role: String, using random: inout SplitMix64) -> Set<String> {
        Set((definition.roles[role]?.toggles?.keys ?? []).filter { _ in Bool.random(using: &random) } + (Bool.random(using: &random) ? ["not-a-toggle"] : []))
    }

    @Test func noRoleAndToggleCombinationEverAllowsAFeatureGrantedNowhere() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...1_000_000)) { seed in
            guard let tenant = Self.randomTenant(seed: seed) else {
                Issue.record("generated tenant \(seed) did not decode")
                return
            }
            let model = AuthorizationModel(tenant.definition)
            var random = SplitMix64(seed: UInt64(seed) &+ 1)
            for role in tenant.definition.roles.keys {
                for _ in 0..<4 {
                    let toggles = Self.randomToggles(tenant.definition, role: role, using: &random)
                    guard let principal = try? model.principal(role: role, toggles: toggles) else { continue }
                    let allowed = Set(model.features(of: principal))
                    #expect(allowed.isSubset(of: tenant.grantedSomewhere), "seed \(seed): \(role) \(toggles) got \(allowed.subtracting(tenant.grantedSomewhere))")
                    for feature in allowed {
                        let owner = RoleClosure(tenant.definition).exclusiveOwners[feature]
                        #expect(owner == nil || owner == role, "seed \(seed): exclusive \(feature) of \(owner ?? "") leaked to \(role)")
                    }
                }
            }
        }
    }

    @Test func noDelegationYieldsAUserWithMoreThanTheDelegatorHolds() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...1_000_000)) { seed in
            guard let tenant = Self.randomTenant(seed: seed) else {
                Issue.record("generated tenant \(seed) did not decode")
                return
            }
            let model = AuthorizationModel(tenant.definition)
            var random = SplitMix64(seed: UInt64(seed) &+ 2)
            let roles = tenant.definition.roles.keys
            for _ in 0..<20 {
                let actorRole = roles.randomElement(using: &random)!
                let targetRole = roles.randomElement(using: &random)!
                guard let actor = try? model.principal(role: actorRole, toggles: Self.randomToggles(tenant.definition, role: actorRole, using: &random)) else { continue }
                let targetToggles = Set((tenant.definition.roles[targetRole]?.toggles?.keys ?? []).filter { _ in Bool.random(using: &random) })
                let action = [UserAction.create, .changeToggles, .changeRole].randomElement(using: &random)!
                let target = ManagedUser(id: "t", role: targetRole, toggles: targetToggles, createdBy: "a")
                guard case .success = model.mayManage(actor: actor, actorID: "a", action: action, target: target, previousRole: action == .changeRole ? actorRole : nil) else { continue }
                let resulting = try! model.principal(role: targetRole, toggles: targetToggles)
                let extra = Set(model.features(of: resulting)).subtracting(model.features(of: actor))
                #expect(extra.isEmpty, "seed \(seed): \(actorRole) could \(action) a \(targetRole) holding \(extra)")
            }
        }
    }
}
