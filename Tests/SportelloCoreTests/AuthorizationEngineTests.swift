import Foundation
import Testing
@testable import SportelloCore

/// The engine on a small synthetic tenant whose every rule is visible in the test.
@Suite("Authorization engine")
struct AuthorizationEngineTests {
    static let yaml = """
    id: acme
    name: Acme
    hosts: [acme.localhost]
    locales: {default: it, available: [it]}
    branding: {primary_color: "#123456"}
    customer_types:
      person: {label: Privato, kind: person, required_fields: [first_name]}
      business: {label: Azienda, kind: business, required_fields: [company_name]}
    login:
      identifiers: [username]
      case_sensitive: true
      password: {min_length: 8}
      lockout: {max_attempts: 5, window: 15m, duration: 15m}
      session: {idle_timeout: 15m, absolute_timeout: 8h}
    sections:
      main: {label: Main}
    features:
      a: {label: A, section: main}
      b: {label: B, section: main}
      c: {label: C, section: main, scopes: [own_line, all_lines]}
      boss: {label: Boss only, section: main}
      users: {label: Users, section: main}
    roles:
      owner:
        label: Owner
        inherits: [manager]
        exclusive: [boss]
        changeable_in_portal: false
        change_hint: Call us
        manages: {manager: {actions: [create, change_role, delete]}, member: {actions: [create, change_toggles, block, delete]}}
      manager:
        label: Manager
        inherits: [member]
        grants: [a, b, users]
        manages: {member: {actions: [create, block, delete], creator_only: [delete]}}
        cardinality: {max: 2, per: customer}
      member:
        label: Member
        grants: [c]
        scopes: {c: own_line}
        customer_types: [business]
        toggles:
          extra: {label: Extra, features: [a]}
    flows:
      reset:
        kind: recovery
        purpose: reset_password
        label: Reset
        excluded_roles: [member]
        steps: [{step: reset_link, expires: 1h}, {step: password}]
    """

    let model: AuthorizationModel

    init() throws {
        let result = load(Self.yaml, file: "acme.yaml")
        #expect(result.errors.isEmpty, "\(result.errors)")
        model = AuthorizationModel(try #require(result.tenants.first).definition)
    }

    @Test func grantsAreInheritedTransitively() throws {
        let owner = try model.principal(role: "owner")
        #expect(model.features(of: owner) == ["a", "b", "c", "boss", "users"])
    }

    @Test func exclusivesAreNotInherited() throws {
        #expect(!model.isAllowed(try model.principal(role: "manager"), "boss"))
        #expect(model.isAllowed(try model.principal(role: "owner"), "boss"))
    }

    @Test func togglesAddFeaturesOnlyWhenOn() throws {
        #expect(!model.isAllowed(try model.principal(role: "member", customerType: "business"), "a"))
        #expect(model.isAllowed(try model.principal(role: "member", toggles: ["extra"], customerType: "business"), "a"))
        #expect(try model.principal(role: "manager", toggles: ["extra"]).toggles.isEmpty, "toggles belong to the role that declares them")
    }

    @Test func customerTypeGatingRemovesEveryFeature() throws {
        let person = try model.principal(role: "member", toggles: ["extra"], customerType: "person")
        #expect(model.features(of: person).isEmpty)
    }

    @Test func scopeIsNarrowedOnlyByTheRoleItself() throws {
        #expect(model.scope(try model.principal(role: "member", customerType: "business"), "c") == .ownLine)
        #expect(model.scope(try model.principal(role: "manager"), "c") == .allLines)
        #expect(model.scope(try model.principal(role: "manager"), "b") == nil)
    }

    @Test func unknownRolesAndFeaturesAreNotSilentlyAllowed() throws {
        #expect(throws: AuthorizationError.self) { try model.principal(role: "ghost") }
        #expect(!model.isAllowed(try model.principal(role: "owner"), "no.such.feature"))
        #expect(model.feature("no.such.feature") == nil)
    }

    @Test func delegationFollowsManagesAndCreatorOnly() throws {
        let manager = try model.principal(role: "manager")
        let ownMember = ManagedUser(id: "m1", role: "member", createdBy: "boss-1")
        let othersMember = ManagedUser(id: "m2", role: "member", createdBy: "boss-2")
        #expect(isSuccess(model.mayManage(actor: manager, actorID: "boss-1", action: .delete, target: ownMember)))
        #expect(failureCode(model.mayManage(actor: manager, actorID: "boss-1", action: .delete, target: othersMember)) == "creator-only")
        #expect(failureCode(model.mayManage(actor: manager, actorID: "boss-1", action: .changeToggles, target: ownMember)) == "not-delegated")
        #expect(failureCode(model.mayManage(actor: manager, actorID: "boss-1", action: .create, target: ManagedUser(role: "manager"))) == "not-delegated")
    }

    @Test func nobodyHandsOutMoreThanTheyHoldEvenWhenTheModelWouldAllowIt() throws {
        let unsafe = Self.yaml.replacingOccurrences(of: "grants: [a, b, users]", with: "grants: [b, users]")
        #expect(load(unsafe, file: "acme.yaml").errors.map(\.code) == ["delegation-elevation", "delegation-elevation"])
        let model = AuthorizationModel(try #require(decodeIgnoringSemantics(unsafe)))
        let owner = try model.principal(role: "owner")
        let withExtra = ManagedUser(id: "m", role: "member", toggles: ["extra"], createdBy: "o")
        #expect(failureCode(model.mayManage(actor: owner, actorID: "o", action: .changeToggles, target: withExtra)) == "elevation")
        #expect(failureCode(model.mayManage(actor: owner, actorID: "o", action: .create, target: withExtra)) == "elevation")
        #expect(isSuccess(model.mayManage(actor: owner, actorID: "o", action: .create, target: ManagedUser(role: "member", createdBy: "o"))))
    }

    @Test func unchangeableRolesCannotBeTouched() throws {
        let owner = try model.principal(role: "owner")
        #expect(failureCode(model.mayManage(actor: owner, actorID: "o", action: .changeRole, target: ManagedUser(id: "x", role: "manager"), previousRole: "owner")) == "role-not-changeable")
        #expect(!model.isChangeableInPortal(role: "owner"))
    }

    @Test func usersCannotReconfigureThemselves() throws {
        let owner = try model.principal(role: "owner")
        #expect(failureCode(model.mayManage(actor: owner, actorID: "same", action: .delete, target: ManagedUser(id: "same", role: "manager", createdBy: "same"))) == "self-management")
    }

    @Test func cardinalityIsCountedPerScope() {
        #expect(isSuccess(model.cardinalityAllowsAnother(role: "manager", existing: 1)))
        #expect(failureCode(model.cardinalityAllowsAnother(role: "manager", existing: 2)) == "cardinality")
        #expect(isSuccess(model.cardinalityAllowsAnother(role: "member", existing: 1000)))
    }

    @Test func flowsHonourExcludedRoles() {
        #expect(model.mayUseFlow(role: "manager", flow: "reset"))
        #expect(!model.mayUseFlow(role: "member", flow: "reset"))
        #expect(!model.mayUseFlow(role: "manager", flow: "no-such-flow"))
    }

    @Test func explanationNamesTheRulesAndTheirLines() throws {
        let tenant = try #require(load(Self.yaml, file: "acme.yaml").tenants.first)
        let explainer = Explainer(tenant: tenant)
        let inherited = try explainer.explain(role: "owner", feature: "c")
        #expect(inherited.allowed)
        #expect(inherited.steps.map(\.message) == ["role 'owner' inherits role 'manager'", "role 'manager' inherits role 'member'", "role 'member' grants 'c'", "scope all_lines, the widest 'c' supports"])
        #expect(inherited.steps[0].location.description == "acme.yaml:26:16")
        let exclusive = try explainer.explain(role: "manager", feature: "boss")
        #expect(!exclusive.allowed)
        #expect(exclusive.steps.first?.message == "'boss' is exclusive to role 'owner'; no other role may hold it, even by inheritance")
        #expect(exclusive.steps.first?.location.description == "acme.yaml:27:17")
        let toggle = try explainer.explain(role: "member", customerType: "business", feature: "a")
        #expect(!toggle.allowed)
        #expect(toggle.steps.last?.message == "per-user toggle 'extra' would enable (it is off) 'a'")
        #expect(throws: AuthorizationError.self) { try explainer.explain(role: "member", feature: "aa.b") }
    }

    @Test func matrixMarksExclusivesScopesAndToggles() throws {
        let definition = try #require(load(Self.yaml, file: "acme.yaml").tenants.first).definition
        let csv = FeatureMatrix(definition).render(.csv)
        #expect(csv.contains("Main,boss,Boss only,yes (excl.),-,-"))
        #expect(csv.contains("Main,a,A,yes,yes,toggle: extra"))
        #expect(csv.contains("Main,c,C,yes,yes,\"yes, own line\""))
        #expect(FeatureMatrix(definition).render(.html).contains("<th scope=\"col\">Owner</th>"))
        #expect(FeatureMatrix(definition).render(.markdown).contains("| Main | Boss only (`boss`) | yes (excl.) |"))
    }

    @Test("feature sets hold features on both sides of the 128 kept inline: membership, union and subset as a Set<Int> says")
    func featureSetsBeyondTheInlineWords() {
        let indices = [0, 1, 63, 64, 65, 127, 128, 129, 191, 192, 199]
        var random = SplitMix64(seed: 7)
        for _ in 0..<200 {
            let left = Set(indices.filter { _ in Bool.random(using: &random) })
            let right = Set(indices.filter { _ in Bool.random(using: &random) })
            var a = FeatureSet(capacity: 200), b = FeatureSet(capacity: 200)
            for index in left { a.insert(index) }
            for index in right { b.insert(index) }
            let union = a.union(b)
            for index in 0..<200 {
                #expect(a.contains(index) == left.contains(index))
                #expect(union.contains(index) == left.union(right).contains(index))
            }
            #expect(a.isSubset(of: b) == left.isSubset(of: right))
            #expect(a.isSubset(of: union) && b.isSubset(of: union))
            #expect((a == b) == (left == right))
        }
    }
}

func isSuccess(_ result: Result<Void, AuthorizationError>) -> Bool {
    if case .success = result { return true }
    return false
}

func failureCode(_ result: Result<Void, AuthorizationError>) -> String? {
    if case .failure(let error) = result { return error.code }
    return nil
}
