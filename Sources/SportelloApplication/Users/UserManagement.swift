import Foundation
import SportelloCore
import SportelloStore

/// What a user may do to the other users of their customer, decided by the tenant's authorization
/// engine (`manages`, `creator_only`, `changeable_in_portal`, toggles, customer types) plus the role
/// cardinalities, and the changes themselves (each audited; blocking and deleting end the sessions).
/// The users page and `/api/v1/users` both go through here, so a control the page hides is refused
/// the same way when posted directly.
public struct UserManagement: Sendable {
    /// The user managing the others: their role's principal, their id, their customer and the language they read.
    public struct Manager: Sendable {
        public var principal: Principal
        public var userId: Int64?
        public var customer: CustomerRecord
        public var locale: String

        public init(principal: Principal, userId: Int64?, customer: CustomerRecord, locale: String) {
            self.principal = principal; self.userId = userId; self.customer = customer; self.locale = locale
        }
    }

    let services: ApplicationServices
    public let tenant: ServedTenant
    public let manager: Manager

    public init(services: ApplicationServices, tenant: ServedTenant, manager: Manager) {
        self.services = services; self.tenant = tenant; self.manager = manager
    }

    public var definition: TenantDefinition { tenant.definition }
    public var locale: String { manager.locale }
    public var customerId: Int64 { manager.customer.id ?? 0 }
    public var actorId: Int64? { manager.userId }

    /// Why a change was refused.
    public enum Refusal: Error {
        /// The authorization engine said no (`code` is its reason: `creator_only`, `self_management`…).
        case forbidden(code: String, message: String)
        /// Input problems, or a cardinality limit, reported next to the fields.
        case invalid([FieldProblem])
        case notFound
    }

    /// The actions of the users page other than `create`, in the order the page shows them.
    public static let userActions: [UserAction] = [.edit, .changeToggles, .changeRole, .block, .delete]

    public func text(_ key: String, _ values: [String: String] = [:]) -> String { tenant.texts.text(key, locale: locale, values) }

    /// A message in both languages, for field problems the API answers in the caller's language.
    public func localized(_ key: String, _ values: [String: String] = [:]) -> LocalizedText {
        var translations: [String: String] = [:]
        for code in definition.locales.available { translations[code] = tenant.texts.text(key, locale: code, values) }
        return LocalizedText(translations: translations)
    }

    public func roleLabel(_ role: String) -> String { definition.roles[role]?.label.resolve(locale) ?? role }

    // MARK: Decisions

    public func managed(_ user: UserRecord, role: String? = nil, toggles: Set<String>? = nil) -> ManagedUser {
        ManagedUser(id: user.id.map(String.init), role: role ?? user.role, toggles: toggles ?? Set(user.toggleList),
                    createdBy: user.creatorUserId.map(String.init))
    }

    /// The engine's answer for `action` on `user` (for `changeRole`, moving to `role`; for `changeToggles`,
    /// switching on exactly `toggles`).
    public func decide(_ action: UserAction, on user: UserRecord, role: String? = nil, toggles: Set<String>? = nil) -> Result<Void, AuthorizationError> {
        let target = managed(user, role: role, toggles: toggles)
        return tenant.authorization.mayManage(actor: manager.principal, actorID: actorId.map(String.init), action: action,
                                              target: target, previousRole: action == .changeRole ? user.role : nil)
    }

    /// Whether the action is available on the user at all (for `changeRole`: to at least one other role).
    public func allows(_ action: UserAction, on user: UserRecord) -> Bool {
        switch action {
        case .changeRole: return !roleChoices(for: user).isEmpty
        case .changeToggles:
            guard let toggles = definition.roles[user.role]?.toggles, !toggles.isEmpty else { return false }
            // Allowed when the actor may switch at least the user's current set (every switch is then checked again).
            return (try? decide(.changeToggles, on: user).get()) != nil
        default:
            return (try? decide(action, on: user).get()) != nil
        }
    }

    public func allowedActions(on user: UserRecord) -> [UserAction] { Self.userActions.filter { allows($0, on: user) } }

    /// Roles `user` may be moved to by the actor.
    public func roleChoices(for user: UserRecord) -> [String] {
        definition.roles.keys.filter { role in
            guard role != user.role else { return false }
            if let types = definition.roles[role]?.customerTypes, !types.contains(manager.customer.customerType) { return false }
            return (try? decide(.changeRole, on: user, role: role, toggles: defaultToggles(of: role)).get()) != nil
        }
    }

    public func defaultToggles(of role: String) -> Set<String> {
        Set(definition.roles[role]?.toggles?.compactMap { id, toggle in (toggle.default ?? false) ? id : nil } ?? [])
    }

    /// Roles the actor may invite (the engine allows `create` and a registration flow starts with an invitation).
    public func invitableRoles() -> [String] {
        let invitations = Invitations(services: services, tenant: tenant)
        return definition.roles.keys.filter { role in
            if let types = definition.roles[role]?.customerTypes, !types.contains(manager.customer.customerType) { return false }
            guard invitations.flowId(for: role) != nil else { return false }
            let target = ManagedUser(role: role, toggles: defaultToggles(of: role), createdBy: actorId.map(String.init))
            guard case .success = tenant.authorization.mayManage(actor: manager.principal, actorID: actorId.map(String.init),
                                                                  action: .create, target: target) else { return false }
            return true
        }
    }

    /// Whether the role's invitation flow pre-assigns the username (Unidata).
    public func invitationAssignsUsername(_ role: String) -> Bool {
        let invitations = Invitations(services: services, tenant: tenant)
        return invitations.flowId(for: role).flatMap { definition.flows[$0] }?
            .steps.contains { $0.step == .credentials && $0.username == .assigned } ?? false
    }

    /// The refusal for an engine decision, in the user's language (the role's `change_hint` when the role
    /// cannot be changed in the portal).
    public func refusal(_ error: AuthorizationError, user: UserRecord?, role: String? = nil) -> Refusal {
        let code = error.code.replacingOccurrences(of: "-", with: "_")
        if code == "role_not_changeable" {
            let fixed = [user?.role, role].compactMap { $0 }.first { !tenant.authorization.isChangeableInPortal(role: $0) }
            if let fixed, let hint = definition.roles[fixed]?.changeHint {
                return .forbidden(code: code, message: hint.resolve(locale))
            }
            return .forbidden(code: code, message: text("users.refused.role_not_changeable", ["role": roleLabel(fixed ?? "")]))
        }
        let known = ["self_management", "not_delegated", "creator_only", "customer_type", "elevation", "unknown_toggle", "unknown_role"]
        return .forbidden(code: code, message: text("users.refused.\(known.contains(code) ? code : "not_delegated")",
                                                    ["role": roleLabel(role ?? user?.role ?? "")]))
    }

    // MARK: Cardinality

    /// Users (and live invitations) of `role` already counted by the role's cardinality for this customer.
    private func existing(role: String, per: CardinalityScope, in transaction: TenantTransaction) async throws -> Int {
        let customer = manager.customer
        let invited = try await transaction.pendingInvitationCount(role: role, customerId: customerId)
        switch per {
        case .vatNumber:
            if let vat = customer.vatNumber, !vat.isEmpty { return try await transaction.userCount(role: role, vatNumber: vat) + invited }
            return try await transaction.userCount(role: role, customerId: customerId) + invited
        case .customer, .contract:
            return try await transaction.userCount(role: role, customerId: customerId) + invited
        }
    }

    /// The problem when one more user of `role` would exceed its `cardinality: {max: …}`.
    public func cardinalityProblem(adding role: String, in transaction: TenantTransaction) async throws -> FieldProblem? {
        guard let cardinality = tenant.authorization.cardinality(of: role), let maximum = cardinality.max else { return nil }
        let count = try await existing(role: role, per: cardinality.per, in: transaction)
        guard case .failure = tenant.authorization.cardinalityAllowsAnother(role: role, existing: count) else { return nil }
        return FieldProblem(field: "role", code: "cardinality",
                            message: localized("users.cardinality.max_\(cardinality.per.rawValue)", ["role": roleLabel(role), "max": String(maximum)]))
    }

    /// The problem when removing one user of `role` would leave fewer than its `cardinality: {min: …}`.
    public func minimumProblem(removing role: String, in transaction: TenantTransaction) async throws -> FieldProblem? {
        guard let cardinality = tenant.authorization.cardinality(of: role), let minimum = cardinality.min, minimum > 0 else { return nil }
        let count = try await transaction.userCount(role: role, customerId: customerId)
        guard count - 1 < minimum else { return nil }
        return FieldProblem(field: "role", code: "cardinality_min",
                            message: localized("users.cardinality.min", ["role": roleLabel(role), "min": String(minimum)]))
    }

    // MARK: Changes

    /// Loads the customer's user `id` inside `transaction`, or refuses with not-found.
    private func load(_ id: Int64, in transaction: TenantTransaction) async throws -> UserRecord {
        guard let user = try await transaction.user(id: id, customerId: customerId) else { throw Refusal.notFound }
        return user
    }

    private func check(_ result: Result<Void, AuthorizationError>, user: UserRecord, role: String? = nil) throws {
        if case .failure(let error) = result { throw refusal(error, user: user, role: role) }
    }

    /// One change to a user, as the page's forms and `PATCH /api/v1/users/{id}` ask for it.
    public enum Change: Sendable {
        case edit(firstName: String?, lastName: String?, email: String?)
        case role(String)
        case toggles([String])
        case blocked(Bool)
    }

    /// Applies the changes in order, all or none (one transaction): each is checked by the engine first.
    @discardableResult
    public func apply(_ changes: [Change], to userId: Int64) async throws -> UserRecord {
        try await services.database.write(tenant: tenant.id, now: services.now) { transaction in
            var user = try await load(userId, in: transaction)
            for change in changes {
                switch change {
                case .edit(let first, let last, let email): try await edit(&user, firstName: first, lastName: last, email: email, in: transaction)
                case .role(let role): try await changeRole(&user, to: role, in: transaction)
                case .toggles(let toggles): try await setToggles(&user, toggles: toggles, in: transaction)
                case .blocked(let blocked): try await setBlocked(&user, blocked, in: transaction)
                }
            }
            return user
        }
    }

    /// Switches on exactly `toggles` for the user.
    private func setToggles(_ user: inout UserRecord, toggles requested: [String], in transaction: TenantTransaction) async throws {
        // Permission first (on the current switches), then the input: a refused user learns nothing more.
        try check(decide(.changeToggles, on: user, toggles: []), user: user)
        let known = definition.roles[user.role]?.toggles?.keys ?? []
        let unknown = requested.filter { !known.contains($0) }
        if !unknown.isEmpty {
            throw Refusal.invalid([FieldProblem(field: "toggles", code: "unknown_toggle",
                                                message: localized("users.unknown_toggle", ["toggles": unknown.joined(separator: ", ")]))])
        }
        let wanted = Set(requested)
        try check(decide(.changeToggles, on: user, toggles: wanted), user: user)
        let before = Set(user.toggleList)
        guard before != wanted else { return }
        user.toggles = known.filter { wanted.contains($0) }.joined(separator: ",")
        try await transaction.updateUser(user)
        let on = wanted.subtracting(before).sorted(), off = before.subtracting(wanted).sorted()
        try await transaction.audit("user.toggles_changed", actorUserId: actorId, targetKind: "user", targetId: String(user.id ?? 0),
                                    detail: "on: \(on.joined(separator: ",")); off: \(off.joined(separator: ","))")
    }

    /// Moves the user to `role` (the new role's default toggles apply).
    private func changeRole(_ user: inout UserRecord, to role: String, in transaction: TenantTransaction) async throws {
        guard definition.roles[role] != nil else {
            // Permission first: a user whose role the actor may not change at all gets the refusal, not the input problem.
            if roleChoices(for: user).isEmpty {
                try check(decide(.changeRole, on: user, role: user.role, toggles: []), user: user)
                throw Refusal.forbidden(code: "not_delegated", message: text("users.refused.not_delegated", ["role": roleLabel(user.role)]))
            }
            throw Refusal.invalid([FieldProblem(field: "role", code: "unknown_role", message: localized("users.unknown_role"))])
        }
        if role == user.role { return }
        if let types = definition.roles[role]?.customerTypes, !types.contains(manager.customer.customerType) {
            throw Refusal.forbidden(code: "customer_type", message: text("users.refused.customer_type", ["role": roleLabel(role)]))
        }
        try check(decide(.changeRole, on: user, role: role, toggles: defaultToggles(of: role)), user: user, role: role)
        var problems: [FieldProblem] = []
        if let problem = try await cardinalityProblem(adding: role, in: transaction) { problems.append(problem) }
        if let problem = try await minimumProblem(removing: user.role, in: transaction) { problems.append(problem) }
        guard problems.isEmpty else { throw Refusal.invalid(problems) }
        let previous = user.role
        user.role = role
        let defaults = defaultToggles(of: role)
        user.toggles = (definition.roles[role]?.toggles?.keys ?? []).filter { defaults.contains($0) }.joined(separator: ",")
        try await transaction.updateUser(user)
        try await transaction.audit("user.role_changed", actorUserId: actorId, targetKind: "user", targetId: String(user.id ?? 0),
                                    detail: "\(previous) -> \(role)")
        try await transaction.recordEvent(.userRoleChanged(user, from: previous, actorUserId: actorId))
    }

    /// Blocks (ending every session of the user) or unblocks.
    private func setBlocked(_ user: inout UserRecord, _ blocked: Bool, in transaction: TenantTransaction) async throws {
        try check(decide(.block, on: user), user: user)
        if blocked == (user.status == .blocked) { return }
        if blocked {
            user.status = .blocked
        } else {
            user.status = user.passwordHash == nil ? .pendingActivation : .active
            user.failedLogins = 0
            user.lockedUntil = nil
            user.firstFailedLoginAt = nil
        }
        try await transaction.updateUser(user)
        let userId = user.id ?? 0
        if blocked { try await transaction.deleteSessions(userId: userId) }
        try await transaction.audit(blocked ? "user.blocked" : "user.unblocked", actorUserId: actorId, targetKind: "user",
                                    targetId: String(userId), detail: "role \(user.role)")
        try await transaction.recordEvent(.userBlocked(user, blocked: blocked, actorUserId: actorId))
    }

    /// Changes the user's name and (where it is not the login name) e-mail.
    private func edit(_ user: inout UserRecord, firstName: String?, lastName: String?, email: String?, in transaction: TenantTransaction) async throws {
        try check(decide(.edit, on: user), user: user)
        var problems: [FieldProblem] = []
        let first = firstName?.trimmingCharacters(in: .whitespacesAndNewlines)
        let last = lastName?.trimmingCharacters(in: .whitespacesAndNewlines)
        for (field, value) in [("first_name", first), ("last_name", last)] {
            if (value?.count ?? 0) > 100 {
                problems.append(FieldProblem(field: field, code: "too_long", message: localized("users.too_long", ["max": "100"])))
            } else if let value, let problem = NameText.problem(field: field, value: value) {
                problems.append(problem)
            }
        }
        var changed: [String] = []
        if let email {
            let trimmed = email.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed != (user.email ?? "") {
                if !emailEditable {
                    problems.append(FieldProblem(field: "email", code: "email_is_username", message: localized("users.email_is_username")))
                } else {
                    let emailProblems = UsernameRules.validateEmail(trimmed, field: "email")
                    problems += emailProblems
                    if emailProblems.isEmpty { user.email = trimmed; changed.append("email") }
                }
            }
        }
        guard problems.isEmpty else { throw Refusal.invalid(problems) }
        if let first, first != (user.firstName ?? "") { user.firstName = first.isEmpty ? nil : first; changed.append("first_name") }
        if let last, last != (user.lastName ?? "") { user.lastName = last.isEmpty ? nil : last; changed.append("last_name") }
        guard !changed.isEmpty else { return }
        try await transaction.updateUser(user)
        try await transaction.audit("user.edited", actorUserId: actorId, targetKind: "user", targetId: String(user.id ?? 0),
                                    detail: "fields: \(changed.joined(separator: ","))")
    }

    /// Whether a user's e-mail can be edited here: not where it is the login name (Tunda).
    public var emailEditable: Bool { definition.login.identifiers != [.email] }

    /// Deletes the user for good, ending their sessions.
    public func delete(userId: Int64) async throws {
        try await services.database.write(tenant: tenant.id, now: services.now) { transaction in
            let user = try await load(userId, in: transaction)
            try check(decide(.delete, on: user), user: user)
            if let problem = try await minimumProblem(removing: user.role, in: transaction) { throw Refusal.invalid([problem]) }
            try await transaction.deleteSessions(userId: userId)
            try await transaction.deleteUser(id: userId, customerId: customerId)
            try await transaction.audit("user.deleted", actorUserId: actorId, targetKind: "user", targetId: String(userId),
                                        detail: "role \(user.role)")
        }
    }

    /// Invites a new user of `role` (the engine must allow `create`; the role's cardinality must allow one more).
    public func invite(role: String, email rawEmail: String, username rawUsername: String?) async throws -> Invitations.Issued {
        let email = rawEmail.trimmingCharacters(in: .whitespacesAndNewlines)
        guard definition.roles[role] != nil else {
            throw Refusal.invalid([FieldProblem(field: "role", code: "unknown_role", message: localized("users.unknown_role"))])
        }
        if !invitableRoles().contains(role) {
            let target = ManagedUser(role: role, toggles: defaultToggles(of: role), createdBy: actorId.map(String.init))
            if case .failure(let error) = tenant.authorization.mayManage(actor: manager.principal, actorID: actorId.map(String.init),
                                                                         action: .create, target: target) {
                throw refusal(error, user: nil, role: role)
            }
            throw Refusal.forbidden(code: "no_invitation_flow", message: text("users.invite_error.no_invitation_flow"))
        }
        var problems = UsernameRules.validateEmail(email, field: "email")
        let assigned = invitationAssignsUsername(role)
        let username = rawUsername?.trimmingCharacters(in: .whitespacesAndNewlines)
        if assigned { problems += UsernameRules.validateChosen(username ?? "") }
        if let problem = try await services.database.read(tenant: tenant.id, now: services.now, { try await cardinalityProblem(adding: role, in: $0) }) {
            problems.insert(problem, at: 0)
        }
        guard problems.isEmpty else { throw Refusal.invalid(problems) }
        try await MailLimits(services: services, tenant: tenant).spend(.invitation, userId: actorId, customerId: customerId, recipient: email)
        do {
            return try await Invitations(services: services, tenant: tenant).issue(
                customerId: customerId, email: email, username: assigned ? username : nil, role: role, createdBy: actorId, locale: locale)
        } catch let error as Invitations.InvitationError {
            let field = error.code == "username_taken" || error.code == "username_required" ? "username" : (error.code == "invalid_email" ? "email" : "role")
            throw Refusal.invalid([FieldProblem(field: field, code: error.code, message: localized("users.invite_error.\(error.code)"))])
        }
    }
}
