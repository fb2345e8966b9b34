import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// The users pages and their `/api/v1` operations: the customer's users (role, status, last login),
/// invitations (how users are created), and per-user changes — name and e-mail, toggles, role,
/// block/unblock, delete — exactly as the tenant's authorization engine allows (see `UserManagement`).
struct AccountUsersController: ModuleController {
    let services: PortalServices

    /// Unidata and WINDTRE: `users.create`/`users.manage`; TIM: `users.create`/`users.change_role`;
    /// Tunda: `sub_accounts.manage`.
    static let pages: [PortalPage] = [
        PortalPage(route: Routes.users, titleKey: "users.title",
                   features: ["users.manage", "users.create", "users.change_role", "sub_accounts.manage"]),
    ]

    /// Every operation once per feature that opens the users page, so each tenant's OpenAPI document lists
    /// them under the feature it defines (the document keeps one entry per path and method).
    static let apiOperations: [APIOperation] = pages[0].features.flatMap { feature -> [APIOperation] in
        let idParameter = APIOperation.Parameter("id", in: "path", required: true, description: "User id", schema: .integer)
        return [
            APIOperation("GET", Routes.users, summary: "The customer's users, pending invitations and the roles the caller may invite; "
                         + "each user lists the actions the caller may take on it", feature: feature, success: (200, "UserList")),
            APIOperation("GET", Routes.user, summary: "One user of the customer", feature: feature, parameters: [idParameter],
                         success: (200, "User")),
            APIOperation("POST", Routes.usersInvitations, summary: "Invite a new user (the invitation e-mail completes the registration)",
                         feature: feature, requestBody: "InvitationRequest", success: (201, "Invitation")),
            APIOperation("DELETE", Routes.usersInvitation, summary: "Revoke a pending invitation (its link stops working)",
                         feature: feature,
                         parameters: [.init("id", in: "path", required: true, description: "Invitation id", schema: .integer)],
                         success: (204, nil)),
            APIOperation("PATCH", Routes.user, summary: "Change a user's name or e-mail, toggles, role or status (all or nothing; "
                         + "each change as the role's rules allow)", feature: feature, parameters: [idParameter],
                         requestBody: "UserChange", success: (200, "User")),
            APIOperation("DELETE", Routes.user, summary: "Delete a user (their sessions end)", feature: feature,
                         parameters: [idParameter], success: (204, nil)),
        ]
    }

    static let apiSchemas: [String: JSONSchema] = [
        "User": .object([
            "id": .integer, "username": .string(), "email": .nullable(.string(format: "email")),
            "first_name": .nullable(.string()), "last_name": .nullable(.string()),
            "role": .string(), "role_label": .string(),
            "status": .enumeration(UserStatus.allCases.map(\.rawValue)),
            "status_label": .string(),
            "toggles": .array(.reference("UserToggle")),
            "last_login_at": .nullable(.integer), "created_at": .integer,
            "is_you": .boolean,
            "actions": .array(.enumeration(["edit", "change_toggles", "change_role", "block", "delete"])),
            "role_choices": .array(.string(description: "Roles the caller may move this user to")),
            "notes": .array(.string(description: "Why some actions are not available (the role's change hint, creator-only rules)")),
        ], required: ["id", "username", "role", "role_label", "status", "status_label", "toggles", "created_at", "is_you", "actions",
                      "role_choices", "notes"]),
        "UserToggle": .object(["id": .string(), "label": .string(), "on": .boolean], required: ["id", "label", "on"]),
        "UserList": .object([
            "users": .array(.reference("User")),
            "invitations": .array(.reference("Invitation")),
            "invitable_roles": .array(.object(["role": .string(), "label": .string(), "assigns_username": .boolean],
                                              required: ["role", "label", "assigns_username"])),
        ], required: ["users", "invitations", "invitable_roles"]),
        "Invitation": .object([
            "id": .integer, "email": .string(format: "email"), "username": .nullable(.string()), "role": .string(),
            "role_label": .string(), "created_at": .integer, "expires_at": .integer, "expired": .boolean,
        ], required: ["id", "email", "role", "role_label", "created_at", "expires_at", "expired"]),
        "InvitationRequest": .object([
            "role": .string(), "email": .string(format: "email"),
            "username": .string(description: "Required when the role's registration pre-assigns the username (Unidata)"),
        ], required: ["role", "email"]),
        "UserChange": .object([
            "first_name": .string(), "last_name": .string(),
            "email": .string(format: "email", description: "Not where the e-mail is the login name"),
            "role": .string(), "toggles": .array(.string(description: "Exactly the toggles to switch on")),
            "status": .enumeration([UserStatus.active, .blocked].map(\.rawValue)),
        ]),
    ]

    func addRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.users) { request, context in try await list(request, context: context) }
        group.post(Routes.usersInvite) { request, context in try await invite(request, context: context) }
        group.post(Routes.usersInvitationRevoke) { request, context in try await revokeInvitation(request, context: context) }
        group.post(Routes.usersInvitationResend) { request, context in try await resendInvitation(request, context: context) }
        group.get(Routes.user) { request, context in try await detail(request, context: context) }
        group.post(Routes.userAction) { request, context in try await change(request, context: context) }

        group.get(Routes.users.api) { _, context in try await apiList(context: context) }
        group.get(Routes.user.api) { _, context in try await apiUser(context: context) }
        group.post(Routes.usersInvitations.api) { request, context in try await apiInvite(request, context: context) }
        group.delete(Routes.usersInvitation.api) { request, context in try await apiRevoke(request, context: context) }
        group.patch(Routes.user.api) { request, context in try await apiPatch(request, context: context) }
        group.delete(Routes.user.api) { request, context in try await apiDelete(request, context: context) }
    }

    // MARK: Shared

    private func management(_ context: UserContext) throws -> UserManagement {
        try context.require(page: Self.pages[0])
        return UserManagement(services: services.application, tenant: context.tenant.served,
                              manager: .init(principal: context.session.principal, userId: context.user.id, customer: context.customer,
                                             locale: context.locale))
    }

    private func load(_ context: UserContext) async throws -> (users: [UserRecord], invitations: [InvitationRecord]) {
        let customerId = context.customer.id ?? 0
        return try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
            (try await transaction.users(customerId: customerId), try await transaction.invitations(customerId: customerId))
        }
    }

    private func pending(_ invitations: [InvitationRecord]) -> [InvitationRecord] {
        invitations.filter { $0.acceptedAt == nil && $0.revokedAt == nil }
    }

    /// Notes on what cannot be done to `user` and why: the role's `change_hint` for roles fixed outside the
    /// portal, and the engine's reason for actions the actor's `manages` rule lists but refuses (creator-only).
    private func notes(for user: UserRecord, _ management: UserManagement) -> [String] {
        let tenant = management.tenant
        var notes: [String] = []
        if !tenant.authorization.isChangeableInPortal(role: user.role) {
            notes.append(management.definition.roles[user.role]?.changeHint?.resolve(management.locale)
                         ?? management.text("users.refused.role_not_changeable", ["role": management.roleLabel(user.role)]))
            return notes
        }
        if user.id == management.actorId {
            notes.append(management.text("users.refused.self_management"))
            return notes
        }
        let rule = management.definition.roles[management.manager.principal.role]?.manages?[user.role]
        for action in rule?.actions ?? [] where action != .create && action != .changeRole && action != .changeToggles {
            if case .failure(let error) = management.decide(action, on: user),
               case .forbidden(_, let message) = management.refusal(error, user: user), !notes.contains(message) {
                notes.append(message)
            }
        }
        return notes
    }

    // MARK: Pages

    private func statusLabel(_ status: UserStatus, _ management: UserManagement) -> String {
        management.text("user.status.\(status.rawValue)")
    }

    private func toggleSummary(_ user: UserRecord, _ management: UserManagement) -> String {
        guard let toggles = management.definition.roles[user.role]?.toggles, !toggles.isEmpty else { return "" }
        let on = toggles.filter { user.toggleList.contains($0.key) }.map { $0.value.label.resolve(management.locale) }
        return on.isEmpty ? management.text("users.no_toggles") : on.joined(separator: ", ")
    }

    private func userName(_ user: UserRecord) -> String {
        [user.firstName, user.lastName].compactMap { $0 }.joined(separator: " ")
    }

    /// What the users page shows. Text that may be empty is nil then (the page tests it with a section).
    struct ListModel: Encodable {
        struct User: Encodable {
            var id, username: String
            var name, email: String?
            var role, status: String
            var blocked: Bool
            var toggles: String?
            var lastLogin: String
            var isYou, manageable: Bool
        }
        struct Invitation: Encodable {
            var id, email: String
            var username: String?
            var role, expires: String
            var expired, canManage: Bool
        }
        struct Role: Encodable {
            var id, label: String
            var selected, assignsUsername: Bool
            var description: String?
        }
        var users: [User]
        var invitations: [Invitation]
        var hasInvitations: Bool
        var roles: [Role]
        var canInvite, usernameNeeded: Bool
        var formEmail, formUsername: String?
        var userCount: String
        var notice, singleRole: String?
    }

    private func list(_ request: Request, context: UserContext, problems: [FieldProblem] = [], form: SubmittedForm? = nil,
                      notice: String? = nil) async throws -> Response {
        let management = try management(context)
        let (users, invitations) = try await load(context)
        let now = services.now
        let invitable = management.invitableRoles()
        let noticeKey = notice ?? request.uri.queryParameters["done"].map(String.init).flatMap { key in
            ["deleted", "revoked", "resent"].contains(key) ? management.text("users.done.\(key)") : nil
        }
        let open = pending(invitations)
        let model = ListModel(
            users: users.map { user in
                ListModel.User(
                    id: String(user.id ?? 0), username: user.username, name: userName(user).nonEmpty, email: user.email?.nonEmpty,
                    role: management.roleLabel(user.role), status: statusLabel(user.status, management),
                    blocked: user.status == .blocked, toggles: toggleSummary(user, management).nonEmpty,
                    lastLogin: user.lastLoginAt.map { Formatting.dateTime($0, locale: context.locale) } ?? management.text("users.never"),
                    isYou: user.id == context.user.id, manageable: !management.allowedActions(on: user).isEmpty)
            },
            invitations: open.map { invitation in
                ListModel.Invitation(
                    id: String(invitation.id ?? 0), email: invitation.email, username: invitation.username.nonEmpty,
                    role: management.roleLabel(invitation.role),
                    expires: Formatting.date(invitation.expiresAt, locale: context.locale), expired: invitation.expiresAt <= now,
                    canManage: invitable.contains(invitation.role))
            },
            hasInvitations: !open.isEmpty,
            roles: invitable.map { role in
                ListModel.Role(id: role, label: management.roleLabel(role), selected: role == form?["role"],
                               assignsUsername: management.invitationAssignsUsername(role),
                               description: management.definition.roles[role]?.description?.resolve(context.locale).nonEmpty)
            },
            canInvite: !invitable.isEmpty,
            usernameNeeded: invitable.contains { management.invitationAssignsUsername($0) },
            formEmail: form?["email"].nonEmpty, formUsername: form?["username"].nonEmpty,
            userCount: String(users.count),
            notice: noticeKey?.nonEmpty, singleRole: invitable.count == 1 ? management.roleLabel(invitable[0]).nonEmpty : nil)
        return Pages.render("users", model, errors: problems, title: management.text("users.title"), context: context,
                            status: problems.isEmpty ? .ok : .unprocessableContent)
    }

    private func invite(_ request: Request, context: UserContext) async throws -> Response {
        let management = try management(context)
        let form = try await SubmittedForm.read(request, context: context)
        do {
            let email = form["email"].trimmingCharacters(in: .whitespacesAndNewlines)
            _ = try await management.invite(role: form["role"], email: email, username: form.value("username"))
            return try await list(request, context: context, notice: management.text("users.invite_sent", ["email": email]))
        } catch let refusal as UserManagement.Refusal {
            switch refusal {
            case .invalid(let problems): return try await list(request, context: context, problems: problems, form: form)
            case .forbidden(_, let message): return forbiddenPage(message, context: context)
            case .notFound: throw PortalError.notFound
            }
        }
    }

    /// The pending invitation the path names, for a form whose token checks out; a page refusing it when the user may not
    /// invite its role; not found when it is not pending or not the customer's.
    private func pendingInvitation(_ request: Request, context: UserContext) async throws -> Result<InvitationRecord, RefusalPage> {
        let management = try management(context)
        _ = try await SubmittedForm.read(request, context: context)
        let invitationId = try context.pathId()
        let invitation = try await services.database.read(tenant: context.tenant.id, now: services.now) {
            try await $0.invitation(id: invitationId, customerId: context.customer.id ?? 0)
        }
        guard let invitation, invitation.acceptedAt == nil, invitation.revokedAt == nil else { throw PortalError.notFound }
        guard management.invitableRoles().contains(invitation.role) else {
            return .failure(RefusalPage(response: forbiddenPage(management.text("users.refused.not_delegated", ["role": management.roleLabel(invitation.role)]),
                                                                context: context)))
        }
        return .success(invitation)
    }

    /// A page answering a refused action, carried through a `Result`.
    struct RefusalPage: Error { var response: Response }

    private func revokeInvitation(_ request: Request, context: UserContext) async throws -> Response {
        let invitation: InvitationRecord
        switch try await pendingInvitation(request, context: context) {
        case .success(let found): invitation = found
        case .failure(let refusal): return refusal.response
        }
        let invitationId = invitation.id ?? 0
        guard try await Invitations(services: services.application, tenant: context.tenant.served)
            .revoke(invitationId: invitationId, customerId: context.customer.id ?? 0, by: context.user.id) else { throw PortalError.notFound }
        return Pages.redirect(Routes.users.done("revoked"))
    }

    private func resendInvitation(_ request: Request, context: UserContext) async throws -> Response {
        let invitation: InvitationRecord
        switch try await pendingInvitation(request, context: context) {
        case .success(let found): invitation = found
        case .failure(let refusal): return refusal.response
        }
        // Re-issuing revokes the earlier link and sends a new one with a fresh expiry.
        try await MailLimits(services: services.application, tenant: context.tenant.served)
            .spend(.invitation, userId: context.user.id, customerId: invitation.customerId, recipient: invitation.email)
        _ = try await Invitations(services: services.application, tenant: context.tenant.served).issue(
            customerId: invitation.customerId, email: invitation.email, username: invitation.username.isEmpty ? nil : invitation.username,
            role: invitation.role, createdBy: context.user.id, locale: context.locale)
        return Pages.redirect(Routes.users.done("resent"))
    }

    /// The error page with the engine's reason.
    struct ForbiddenModel: Encodable {
        var message: String
        var code = "forbidden"
        var status = 403
    }

    private func forbiddenPage(_ message: String, context: UserContext) -> Response {
        Pages.render("error", ForbiddenModel(message: message),
                     title: context.tenant.theme.text("error.forbidden.title", locale: context.locale), context: context, status: .forbidden)
    }

    /// What a user's page shows. Text that may be empty is nil then (the page tests it with a section).
    struct DetailModel: Encodable {
        struct Member: Encodable {
            var id, username: String
            var name, email, firstName, lastName, formEmail: String?
            var role: String
            var roleDescription: String?
            var status: String
            var blocked: Bool
            var lastLogin, created: String
            var isYou: Bool
        }
        struct Toggle: Encodable {
            var id, label: String
            var on: Bool
        }
        struct RoleChoice: Encodable {
            var id, label: String
            var selected: Bool
            var description: String?
        }
        var member: Member
        var toggles: [Toggle]
        var hasToggles: Bool
        var canEdit, emailEditable, canToggle, canChangeRole: Bool
        var roleChoices: [RoleChoice]
        var canBlock, canDelete: Bool
        var notes: [String]
        var hasNotes, noActions: Bool
        var notice: String?
    }

    private func detail(_ request: Request, context: UserContext, problems: [FieldProblem] = [], form: SubmittedForm? = nil,
                        failedAction: String? = nil) async throws -> Response {
        let management = try management(context)
        let userId = try context.pathId()
        guard let user = try await services.database.read(tenant: context.tenant.id, now: services.now, {
            try await $0.user(id: userId, customerId: context.customer.id ?? 0)
        }) else { throw PortalError.notFound }
        let actions = management.allowedActions(on: user)
        let role = management.definition.roles[user.role]
        let toggles = (role?.toggles ?? OrderedMap()).map { id, toggle in
            DetailModel.Toggle(id: id, label: toggle.label.resolve(context.locale),
                               on: failedAction == "toggles" ? form?.fields["toggle_\(id)"] != nil : user.toggleList.contains(id))
        }
        let saved = request.uri.queryParameters["done"].map(String.init).flatMap { key in
            ["edited", "toggles", "role", "blocked", "unblocked"].contains(key) ? management.text("users.done.\(key)") : nil
        }
        let userNotes = notes(for: user, management)
        let model = DetailModel(
            member: .init(
                id: String(userId), username: user.username, name: userName(user).nonEmpty, email: user.email?.nonEmpty,
                firstName: (form?.fields["first_name"] ?? user.firstName)?.nonEmpty, lastName: (form?.fields["last_name"] ?? user.lastName)?.nonEmpty,
                formEmail: (form?.fields["email"] ?? user.email)?.nonEmpty,
                role: management.roleLabel(user.role), roleDescription: role?.description?.resolve(context.locale).nonEmpty,
                status: statusLabel(user.status, management), blocked: user.status == .blocked,
                lastLogin: user.lastLoginAt.map { Formatting.dateTime($0, locale: context.locale) } ?? management.text("users.never"),
                created: Formatting.date(user.createdAt, locale: context.locale),
                isYou: user.id == context.user.id),
            toggles: toggles,
            hasToggles: !toggles.isEmpty,
            canEdit: actions.contains(.edit), emailEditable: management.emailEditable,
            canToggle: actions.contains(.changeToggles),
            canChangeRole: actions.contains(.changeRole),
            roleChoices: management.roleChoices(for: user).map { id in
                .init(id: id, label: management.roleLabel(id), selected: form?["role"] == id,
                      description: management.definition.roles[id]?.description?.resolve(context.locale).nonEmpty)
            },
            canBlock: actions.contains(.block),
            canDelete: actions.contains(.delete),
            notes: userNotes,
            hasNotes: !userNotes.isEmpty,
            noActions: actions.isEmpty,
            notice: saved?.nonEmpty)
        return Pages.render("users_detail", model, errors: problems, title: management.text("users.detail_title", ["username": user.username]),
                            context: context, status: problems.isEmpty ? .ok : .unprocessableContent)
    }

    /// `POST /users/{id}/{edit|toggles|role|block|unblock|delete}`.
    private func change(_ request: Request, context: UserContext) async throws -> Response {
        let management = try management(context)
        let userId = try context.pathId()
        let action = context.parameters.get("action") ?? ""
        guard ["edit", "toggles", "role", "block", "unblock", "delete"].contains(action) else { throw PortalError.notFound }
        let form = try await SubmittedForm.read(request, context: context)
        do {
            switch action {
            case "edit":
                try await management.apply([.edit(firstName: form["first_name"], lastName: form["last_name"],
                                                  email: management.emailEditable ? form["email"] : nil)], to: userId)
            case "toggles":
                let chosen = form.fields.keys.filter { $0.hasPrefix("toggle_") }.map { String($0.dropFirst("toggle_".count)) }.sorted()
                try await management.apply([.toggles(chosen)], to: userId)
            case "role":
                try await management.apply([.role(form["role"])], to: userId)
            case "block", "unblock":
                try await management.apply([.blocked(action == "block")], to: userId)
            default:
                guard form["confirm"] == "yes" else {
                    return try await detail(request, context: context, problems: [FieldProblem(
                        field: "confirm", code: "confirmation_required", message: management.localized("users.delete_confirm_required"))],
                                            form: form, failedAction: action)
                }
                try await management.delete(userId: userId)
                return Pages.redirect(Routes.users.done("deleted"))
            }
        } catch let refusal as UserManagement.Refusal {
            switch refusal {
            case .invalid(let problems): return try await detail(request, context: context, problems: problems, form: form, failedAction: action)
            case .forbidden(_, let message): return forbiddenPage(message, context: context)
            case .notFound: throw PortalError.notFound
            }
        }
        let done = action == "toggles" ? "toggles" : (action == "edit" ? "edited" : (action == "role" ? "role" : "\(action)ed"))
        return Pages.redirect(Routes.user.done(done, userId))
    }

    // MARK: API

    struct UserJSON: Encodable {
        struct Toggle: Encodable { var id, label: String; var on: Bool }
        var id: Int64
        var username: String
        var email, firstName, lastName: String?
        var role, roleLabel, status, statusLabel: String
        var toggles: [Toggle]
        var lastLoginAt: Int64?
        var createdAt: Int64
        var isYou: Bool
        var actions: [String]
        var roleChoices: [String]
        var notes: [String]
    }

    struct InvitationJSON: Encodable {
        var id: Int64
        var email: String
        var username: String?
        var role, roleLabel: String
        var createdAt, expiresAt: Int64
        var expired: Bool
    }

    struct InvitableRole: Encodable { var role, label: String; var assignsUsername: Bool }
    struct UserList: Encodable { var users: [UserJSON]; var invitations: [InvitationJSON]; var invitableRoles: [InvitableRole] }

    struct InvitationRequest: Decodable { var role: String; var email: String; var username: String? }

    struct UserChange: Decodable {
        var firstName, lastName, email, role, status: String?
        var toggles: [String]?
    }

    private func json(_ user: UserRecord, _ management: UserManagement) -> UserJSON {
        let toggles = (management.definition.roles[user.role]?.toggles ?? OrderedMap()).map { id, toggle in
            UserJSON.Toggle(id: id, label: toggle.label.resolve(management.locale), on: user.toggleList.contains(id))
        }
        return UserJSON(id: user.id ?? 0, username: user.username, email: user.email, firstName: user.firstName, lastName: user.lastName,
                        role: user.role, roleLabel: management.roleLabel(user.role), status: user.status.rawValue,
                        statusLabel: statusLabel(user.status, management), toggles: toggles, lastLoginAt: user.lastLoginAt,
                        createdAt: user.createdAt, isYou: user.id == management.actorId,
                        actions: management.allowedActions(on: user).map(\.rawValue), roleChoices: management.roleChoices(for: user),
                        notes: notes(for: user, management))
    }

    private func json(_ invitation: InvitationRecord, _ management: UserManagement) -> InvitationJSON {
        InvitationJSON(id: invitation.id ?? 0, email: invitation.email, username: invitation.username.isEmpty ? nil : invitation.username,
                       role: invitation.role, roleLabel: management.roleLabel(invitation.role), createdAt: invitation.createdAt,
                       expiresAt: invitation.expiresAt, expired: invitation.expiresAt <= services.now)
    }

    /// A refusal as the API answers it: 403 `forbidden` naming the engine's reason, 422 with every field problem.
    private func apiError(_ refusal: UserManagement.Refusal, context: UserContext) throws -> Response {
        switch refusal {
        case .invalid(let problems): throw PortalError.invalid(problems)
        case .notFound: throw PortalError.notFound
        case .forbidden(let code, let message):
            return API.json(APIErrorBody(error: .init(code: "forbidden", message: message,
                                                      fields: [.init(field: "action", code: code, message: message)])), status: .forbidden)
        }
    }

    private func apiList(context: UserContext) async throws -> Response {
        let management = try management(context)
        let (users, invitations) = try await load(context)
        let invitable = management.invitableRoles()
        return API.json(UserList(users: users.map { json($0, management) },
                                 invitations: pending(invitations).map { json($0, management) },
                                 invitableRoles: invitable.map { InvitableRole(role: $0, label: management.roleLabel($0),
                                                                               assignsUsername: management.invitationAssignsUsername($0)) }))
    }

    private func apiUser(context: UserContext) async throws -> Response {
        let management = try management(context)
        let userId = try context.pathId()
        guard let user = try await services.database.read(tenant: context.tenant.id, now: services.now, {
            try await $0.user(id: userId, customerId: context.customer.id ?? 0)
        }) else { throw PortalError.notFound }
        return API.json(json(user, management))
    }

    private func apiInvite(_ request: Request, context: UserContext) async throws -> Response {
        let management = try management(context)
        let body = try await API.decode(InvitationRequest.self, from: request, context: context)
        do {
            let issued = try await management.invite(role: body.role, email: body.email, username: body.username)
            let invitation = try await services.database.read(tenant: context.tenant.id, now: services.now) {
                try await $0.invitation(id: issued.invitationId, customerId: context.customer.id ?? 0)
            }
            guard let invitation else { throw PortalError.notFound }
            return API.json(json(invitation, management), status: .created)
        } catch let refusal as UserManagement.Refusal {
            return try apiError(refusal, context: context)
        }
    }

    private func apiRevoke(_ request: Request, context: UserContext) async throws -> Response {
        let management = try management(context)
        try API.checkCSRF(request, context: context)
        let invitationId = try context.pathId()
        let invitation = try await services.database.read(tenant: context.tenant.id, now: services.now) {
            try await $0.invitation(id: invitationId, customerId: context.customer.id ?? 0)
        }
        guard let invitation, invitation.acceptedAt == nil, invitation.revokedAt == nil else { throw PortalError.notFound }
        guard management.invitableRoles().contains(invitation.role) else {
            return try apiError(.forbidden(code: "not_delegated", message: management.text("users.refused.not_delegated",
                                                                                          ["role": management.roleLabel(invitation.role)])),
                                context: context)
        }
        guard try await Invitations(services: services.application, tenant: context.tenant.served)
            .revoke(invitationId: invitationId, customerId: context.customer.id ?? 0, by: context.user.id) else { throw PortalError.notFound }
        return API.noContent()
    }

    private func apiPatch(_ request: Request, context: UserContext) async throws -> Response {
        let management = try management(context)
        let userId = try context.pathId()
        let body = try await API.decode(UserChange.self, from: request, context: context)
        var changes: [UserManagement.Change] = []
        if body.firstName != nil || body.lastName != nil || body.email != nil {
            changes.append(.edit(firstName: body.firstName, lastName: body.lastName, email: body.email))
        }
        if let role = body.role { changes.append(.role(role)) }
        if let toggles = body.toggles { changes.append(.toggles(toggles)) }
        if let status = body.status {
            guard let wanted = UserStatus(rawValue: status), wanted == .active || wanted == .blocked else {
                throw PortalError.invalid([FieldProblem(field: "status", code: "invalid_status", message: management.localized("users.invalid_status"))])
            }
            changes.append(.blocked(wanted == .blocked))
        }
        guard !changes.isEmpty else {
            throw PortalError.invalid([FieldProblem(field: "_body", code: "nothing_to_change", message: management.localized("users.nothing_to_change"))])
        }
        do {
            let user = try await management.apply(changes, to: userId)
            return API.json(json(user, management))
        } catch let refusal as UserManagement.Refusal {
            return try apiError(refusal, context: context)
        }
    }

    private func apiDelete(_ request: Request, context: UserContext) async throws -> Response {
        let management = try management(context)
        try API.checkCSRF(request, context: context)
        let userId = try context.pathId()
        do {
            try await management.delete(userId: userId)
            return API.noContent()
        } catch let refusal as UserManagement.Refusal {
            return try apiError(refusal, context: context)
        }
    }
}
