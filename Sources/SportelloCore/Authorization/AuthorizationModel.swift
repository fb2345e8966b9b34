import Foundation

/// A set of features as bits, indexed by the tenant's feature order. Checking one is a shift and a mask. The first 128
/// features live in the value itself, so a decision reads no other memory than the principal it is given.
public struct FeatureSet: Hashable, Sendable {
    private var low: UInt64 = 0
    private var high: UInt64 = 0
    /// Words for features 128 and up (empty, and never read, for tenants with fewer features).
    private var rest: [UInt64]

    init(capacity: Int) { rest = [UInt64](repeating: 0, count: max(0, (capacity + 63) / 64 - 2)) }

    @inline(__always)
    public func contains(_ index: Int) -> Bool {
        let bit: UInt64 = 1 &<< UInt64(index & 63)
        switch index &>> 6 {
        case 0: return low & bit != 0
        case 1: return high & bit != 0
        case let word: return rest[word - 2] & bit != 0
        }
    }

    mutating func insert(_ index: Int) {
        let bit: UInt64 = 1 << UInt64(index & 63)
        switch index >> 6 {
        case 0: low |= bit
        case 1: high |= bit
        case let word: rest[word - 2] |= bit
        }
    }

    func isSubset(of other: FeatureSet) -> Bool {
        low & ~other.low == 0 && high & ~other.high == 0 && zip(rest, other.rest).allSatisfy { $0 & ~$1 == 0 }
    }

    func union(_ other: FeatureSet) -> FeatureSet {
        var result = self
        result.low |= other.low
        result.high |= other.high
        for index in result.rest.indices { result.rest[index] |= other.rest[index] }
        return result
    }
}

/// A feature resolved once (at route registration) so decisions avoid string lookups.
public struct FeatureRef: Hashable, Sendable {
    public let index: Int
    public let id: String
}

/// Who is asking: a role, the toggles switched on for this user, and the customer's type.
public struct Principal: Sendable, Hashable {
    public let role: String
    public let toggles: Set<String>
    public let customerType: String?
    /// Every feature this user may use, computed once when the user is loaded.
    public let features: FeatureSet
    let roleIndex: Int
}

/// A user someone wants to act on (create, edit, block, delete…).
public struct ManagedUser: Sendable, Hashable {
    public var id: String?
    public var role: String
    public var toggles: Set<String>
    public var createdBy: String?

    public init(id: String? = nil, role: String, toggles: Set<String> = [], createdBy: String? = nil) {
        self.id = id
        self.role = role
        self.toggles = toggles
        self.createdBy = createdBy
    }
}

/// Why an authorization question was denied, with a stable code for the web layer.
public struct AuthorizationError: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: String
    public var message: String
    public var description: String { "\(code): \(message)" }
}

/// A tenant's roles and features compiled for fast decisions: "may this user do this to that?"
public struct AuthorizationModel: Sendable {
    public let tenantID: String
    public let featureIDs: [String]
    let featureIndex: [String: Int]
    let roleIndex: [String: Int]
    let roles: [CompiledRole]
    let exclusiveOwner: [Int: String]
    let flows: [String: Set<String>]

    struct CompiledRole: Sendable {
        var id: String
        var base: FeatureSet
        var toggles: [String: FeatureSet]
        var scopes: [Int: FeatureScope]
        var customerTypes: Set<String>?
        var manages: [String: Management]
        var changeable: Bool
        var cardinality: Cardinality?
    }

    public init(_ definition: TenantDefinition) {
        tenantID = definition.id
        featureIDs = definition.features.keys
        var featureIndex: [String: Int] = [:]
        for (index, id) in featureIDs.enumerated() { featureIndex[id] = index }
        // The platform asks by capability slot; a tenant may name the feature bound to it as it likes.
        for (index, id) in featureIDs.enumerated() {
            if let slot = definition.features[id]?.capability, featureIndex[slot] == nil { featureIndex[slot] = index }
        }
        self.featureIndex = featureIndex
        let closure = RoleClosure(definition)
        let count = featureIDs.count
        func bits(_ names: some Sequence<String>) -> FeatureSet {
            var set = FeatureSet(capacity: count)
            for name in names { if let index = featureIndex[name] { set.insert(index) } }
            return set
        }
        var roleIndex: [String: Int] = [:]
        var roles: [CompiledRole] = []
        for (id, role) in definition.roles {
            roleIndex[id] = roles.count
            var toggles: [String: FeatureSet] = [:]
            let owners = closure.exclusiveOwners
            for (toggleID, toggle) in role.toggles ?? OrderedMap() {
                toggles[toggleID] = bits(toggle.features.filter { owners[$0] == nil || owners[$0] == id })
            }
            var scopes: [Int: FeatureScope] = [:]
            for (index, featureID) in featureIDs.enumerated() {
                if let scope = Self.scope(of: featureID, role: id, in: definition) { scopes[index] = scope }
            }
            roles.append(CompiledRole(
                id: id, base: bits(closure.baseFeatures(of: id)), toggles: toggles, scopes: scopes,
                customerTypes: role.customerTypes.map(Set.init), manages: Dictionary(uniqueKeysWithValues: (role.manages ?? OrderedMap()).map { ($0.key, $0.value) }),
                changeable: role.changeableInPortal ?? true, cardinality: role.cardinality))
        }
        self.roleIndex = roleIndex
        self.roles = roles
        var exclusiveOwner: [Int: String] = [:]
        for (feature, owner) in closure.exclusiveOwners { if let index = featureIndex[feature] { exclusiveOwner[index] = owner } }
        self.exclusiveOwner = exclusiveOwner
        var flows: [String: Set<String>] = [:]
        for (id, flow) in definition.flows { flows[id] = Set(flow.excludedRoles ?? []) }
        self.flows = flows
    }

    /// The role's scope for a feature: its own setting, else the widest the feature supports.
    /// Scopes are not inherited: a role built on a narrower one is not narrowed by it.
    static func scope(of feature: String, role id: String, in definition: TenantDefinition) -> FeatureScope? {
        guard let supported = definition.features[feature]?.scopes, !supported.isEmpty else { return nil }
        return definition.roles[id]?.scopes?[feature] ?? supported.max()
    }

    public var roleIDs: [String] { roles.map(\.id) }

    /// Resolves a feature id once; nil when the tenant has no such feature.
    public func feature(_ id: String) -> FeatureRef? { featureIndex[id].map { FeatureRef(index: $0, id: id) } }

    /// Builds the principal for a user. Unknown toggles are ignored; a role not offered to the
    /// customer's type yields a principal with no features.
    public func principal(role: String, toggles: Set<String> = [], customerType: String? = nil) throws(AuthorizationError) -> Principal {
        guard let index = roleIndex[role] else {
            throw AuthorizationError(code: "unknown-role", message: "tenant '\(tenantID)' has no role '\(role)'")
        }
        let compiled = roles[index]
        var features = FeatureSet(capacity: featureIDs.count)
        if compiled.customerTypes.map({ customerType == nil || $0.contains(customerType!) }) ?? true {
            features = compiled.base
            for toggle in toggles { if let extra = compiled.toggles[toggle] { features = features.union(extra) } }
        }
        return Principal(role: role, toggles: toggles.intersection(compiled.toggles.keys), customerType: customerType, features: features, roleIndex: index)
    }

    /// The hot path: one bit test.
    @inline(__always)
    public func isAllowed(_ principal: Principal, _ feature: FeatureRef) -> Bool { principal.features.contains(feature.index) }

    /// Same decision by feature id; false for unknown features.
    public func isAllowed(_ principal: Principal, _ feature: String) -> Bool {
        guard let index = featureIndex[feature] else { return false }
        return principal.features.contains(index)
    }

    /// How much data the principal sees through an allowed feature (nil when the feature has no scopes or is denied).
    public func scope(_ principal: Principal, _ feature: String) -> FeatureScope? {
        guard let index = featureIndex[feature], principal.features.contains(index) else { return nil }
        return roles[principal.roleIndex].scopes[index]
    }

    /// Whether users of `role` may use the flow (WINDTRE Telco Managers may not reset their password).
    public func mayUseFlow(role: String, flow: String) -> Bool {
        guard let excluded = flows[flow] else { return false }
        return !excluded.contains(role)
    }

    /// Whether users of the role may be created, changed or removed in the portal at all.
    public func isChangeableInPortal(role: String) -> Bool { roleIndex[role].map { roles[$0].changeable } ?? false }

    public func cardinality(of role: String) -> Cardinality? { roleIndex[role].flatMap { roles[$0].cardinality } }

    /// Features the role holds with the given toggles, by id.
    public func features(of principal: Principal) -> [String] {
        featureIDs.enumerated().filter { principal.features.contains($0.offset) }.map(\.element)
    }

    /// Decides whether `actor` (user `actorID`) may perform `action` on `target`.
    /// For `create`, `change_role` and `change_toggles`, `target` is the user as it would be afterwards.
    public func mayManage(actor: Principal, actorID: String?, action: UserAction, target: ManagedUser, previousRole: String? = nil) -> Result<Void, AuthorizationError> {
        guard let targetIndex = roleIndex[target.role] else {
            return .failure(.init(code: "unknown-role", message: "no role '\(target.role)'"))
        }
        if let actorID, let targetID = target.id, actorID == targetID, action != .edit {
            return .failure(.init(code: "self-management", message: "users cannot \(action.rawValue) their own account"))
        }
        for role in [target.role, previousRole].compactMap({ $0 }) where !isChangeableInPortal(role: role) {
            return .failure(.init(code: "role-not-changeable", message: "role '\(role)' cannot be changed in the portal"))
        }
        let rules = roles[actor.roleIndex].manages
        for role in [target.role, previousRole].compactMap({ $0 }) {
            guard let rule = rules[role], rule.actions.contains(action) else {
                return .failure(.init(code: "not-delegated", message: "role '\(actor.role)' may not \(action.rawValue) users with role '\(role)'"))
            }
            if rule.creatorOnly?.contains(action) == true, target.createdBy == nil || target.createdBy != actorID {
                return .failure(.init(code: "creator-only", message: "only the user who created this '\(role)' may \(action.rawValue) it"))
            }
        }
        if [.create, .changeRole, .changeToggles].contains(action) {
            let compiled = roles[targetIndex]
            var resulting = compiled.base
            for toggle in target.toggles {
                guard let extra = compiled.toggles[toggle] else {
                    return .failure(.init(code: "unknown-toggle", message: "role '\(target.role)' has no toggle '\(toggle)'"))
                }
                resulting = resulting.union(extra)
            }
            if let types = compiled.customerTypes, let customerType = actor.customerType, !types.contains(customerType) {
                return .failure(.init(code: "customer-type", message: "role '\(target.role)' is not available to customers of type '\(customerType)'"))
            }
            if !resulting.isSubset(of: actor.features) {
                let extra = featureIDs.enumerated().filter { resulting.contains($0.offset) && !actor.features.contains($0.offset) }.map(\.element)
                return .failure(.init(code: "elevation", message: "cannot give features you do not hold: \(extra.joined(separator: ", "))"))
            }
        }
        return .success(())
    }

    /// Whether one more user of `role` fits, given how many already exist in the cardinality's scope.
    public func cardinalityAllowsAnother(role: String, existing: Int) -> Result<Void, AuthorizationError> {
        guard let cardinality = cardinality(of: role), let maximum = cardinality.max else { return .success(()) }
        if existing >= maximum {
            return .failure(.init(code: "cardinality", message: "at most \(maximum) user\(maximum == 1 ? "" : "s") with role '\(role)' per \(cardinality.per.rawValue.replacingOccurrences(of: "_", with: " "))"))
        }
        return .success(())
    }
}

