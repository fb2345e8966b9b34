/// A provider-written assertion that did not hold.
public struct TestFailure: Sendable, Hashable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String
    public var description: String { "\(location): error: \(message)" }
}

/// Runs the `tests:` a provider wrote in its definition against the authorization model.
public struct TenantTestRunner: Sendable {
    public let tenant: LoadedTenant
    public let model: AuthorizationModel

    public init(tenant: LoadedTenant) {
        self.tenant = tenant
        self.model = AuthorizationModel(tenant.definition)
    }

    public struct Outcome: Sendable {
        public var assertions: Int
        public var failures: [TestFailure]
    }

    public func run() -> Outcome {
        var assertions = 0
        var failures: [TestFailure] = []
        let definition = tenant.definition
        for (index, test) in (definition.tests ?? []).enumerated() {
            let path = "tests/\(index)"
            let title = test.name.map { "'\($0)': " } ?? ""
            func fail(_ subpath: String, _ message: String) {
                failures.append(TestFailure(location: tenant.locations.value("\(path)/\(subpath)"), message: title + message))
            }
            if test.form != nil {
                assertions += runFormTest(test, fail: fail)
            }
            guard let role = test.role else { continue }
            guard let principal = try? model.principal(role: role, toggles: Set(test.toggles ?? []), customerType: test.customerType) else {
                fail("role", "role '\(role)' does not exist")
                continue
            }
            let who = "role '\(role)'" + ((test.toggles ?? []).isEmpty ? "" : " with toggles \((test.toggles ?? []).joined(separator: ", "))")
            for (position, feature) in (test.can ?? []).enumerated() {
                assertions += 1
                if !model.isAllowed(principal, feature) { fail("can/\(position)", "expected \(who) to be allowed '\(feature)', but it is denied") }
            }
            for (position, feature) in (test.cannot ?? []).enumerated() {
                assertions += 1
                if model.isAllowed(principal, feature) { fail("cannot/\(position)", "expected \(who) to be denied '\(feature)', but it is allowed") }
            }
            for (feature, expected) in test.scope ?? OrderedMap() {
                assertions += 1
                let actual = model.scope(principal, feature)
                if actual != expected { fail("scope/\(feature)", "expected \(who) to see '\(feature)' with scope \(expected.rawValue), got \(actual?.rawValue ?? "no access")") }
            }
            func decide(_ action: String, _ target: String, createdBy: String) -> Bool? {
                guard let action = UserAction(rawValue: action) else { return nil }
                let user = ManagedUser(id: "target", role: target, toggles: [], createdBy: createdBy)
                if case .success = model.mayManage(actor: principal, actorID: "actor", action: action, target: user) { return true }
                return false
            }
            for (action, targets) in test.may ?? OrderedMap() {
                for (position, target) in targets.enumerated() {
                    assertions += 1
                    if decide(action, target, createdBy: "actor") != true { fail("may/\(action)/\(position)", "expected \(who) to be allowed to \(action) '\(target)', but it is denied") }
                }
            }
            for (action, targets) in test.mayNot ?? OrderedMap() {
                for (position, target) in targets.enumerated() {
                    assertions += 1
                    if decide(action, target, createdBy: "actor") != false { fail("may_not/\(action)/\(position)", "expected \(who) to be denied to \(action) '\(target)', but it is allowed") }
                }
            }
            for (action, targets) in test.creatorOnly ?? OrderedMap() {
                for (position, target) in targets.enumerated() {
                    assertions += 1
                    let own = decide(action, target, createdBy: "actor"), others = decide(action, target, createdBy: "someone-else")
                    if own != true || others != false {
                        fail("creator_only/\(action)/\(position)", "expected \(who) to \(action) '\(target)' only when they created it (own: \(own == true ? "allowed" : "denied"), others': \(others == true ? "allowed" : "denied"))")
                    }
                }
            }
            for (position, flow) in (test.canUseFlow ?? []).enumerated() {
                assertions += 1
                if !model.mayUseFlow(role: role, flow: flow) { fail("can_use_flow/\(position)", "expected \(who) to be allowed flow '\(flow)'") }
            }
            for (position, flow) in (test.cannotUseFlow ?? []).enumerated() {
                assertions += 1
                if model.mayUseFlow(role: role, flow: flow) { fail("cannot_use_flow/\(position)", "expected \(who) to be barred from flow '\(flow)'") }
            }
            let owners = RoleClosure(definition).exclusiveOwners
            for (position, feature) in (test.exclusive ?? []).enumerated() {
                assertions += 1
                if owners[feature] != role { fail("exclusive/\(position)", "expected '\(feature)' to be exclusive to '\(role)', owner is \(owners[feature].map { "'\($0)'" } ?? "nobody")") }
            }
            if let expected = test.changeableInPortal {
                assertions += 1
                if model.isChangeableInPortal(role: role) != expected { fail("changeable_in_portal", "expected \(who) to be \(expected ? "" : "not ")changeable in the portal") }
            }
        }
        return Outcome(assertions: assertions, failures: failures)
    }
}
