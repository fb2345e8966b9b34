import Foundation
import Hummingbird
import SportelloCore
import SportelloStore

/// The logged-in portal: dashboard and the users page (invitations).
struct PortalController {
    let services: PortalServices

    func addRoutes(to group: RouterGroup<UserContext>) {
        group.get("/") { _, context in try await dashboard(context: context) }
        group.get("/users") { _, context in try await usersPage(context: context, problems: [], form: nil) }
        group.post("/users/invite") { request, context in try await invite(request, context: context) }
    }

    private func dashboard(context: UserContext) async throws -> Response {
        let tenant = context.tenant
        // The home page is every user's landing page; a tenant that lists it as a feature decides who sees it.
        if tenant.definition.features["dashboard.view"] != nil { try context.require("dashboard.view") }
        let customer = context.customer
        let overdue = try await services.database.read(tenant: tenant.id, now: services.now) {
            try await $0.hasOverdueInvoices(customerId: customer.id ?? 0)
        }
        var values: [String: Any] = [
            "customer": [
                "name": customer.displayName, "code": customer.customerCode,
                "type": tenant.definition.customerTypes[customer.customerType]?.label.resolve(context.locale) ?? customer.customerType,
                "tax_code": customer.taxCode ?? "", "vat_number": customer.vatNumber ?? "", "email": customer.email ?? "",
            ],
        ]
        if context.may("account_status.view") || tenant.definition.features["account_status.view"] == nil {
            values["administrative_status"] = overdue
                ? tenant.theme.text("dashboard.status_overdue", locale: context.locale)
                : tenant.theme.text("dashboard.status_regular", locale: context.locale)
            values["overdue"] = overdue
        }
        return Pages.render("dashboard", values, title: tenant.theme.text("dashboard.title", locale: context.locale), context: context)
    }

    /// Roles this user may invite (the authorization engine decides), each with its flow.
    private func invitableRoles(context: UserContext) -> [(id: String, label: String)] {
        let tenant = context.tenant
        let invitations = Invitations(services: services, tenant: tenant)
        return tenant.definition.roles.compactMap { id, role in
            if let types = role.customerTypes, !types.contains(context.customer.customerType) { return nil }
            guard invitations.flowId(for: id) != nil else { return nil }
            let target = ManagedUser(role: id)
            guard case .success = tenant.authorization.mayManage(actor: context.session.principal, actorID: context.user.id.map(String.init),
                                                                  action: .create, target: target) else { return nil }
            return (id, role.label.resolve(context.locale))
        }
    }

    private func usersPage(context: UserContext, problems: [FieldProblem], form: SubmittedForm?, issued: String? = nil) async throws -> Response {
        let roles = invitableRoles(context: context)
        guard !roles.isEmpty || context.may("users.manage") else { throw PortalError.forbidden(feature: "users.manage") }
        let tenant = context.tenant
        let (users, invitations) = try await services.database.read(tenant: tenant.id, now: services.now) { transaction in
            (try await transaction.users(customerId: context.customer.id ?? 0),
             try await transaction.invitations(customerId: context.customer.id ?? 0))
        }
        let now = services.now
        var values: [String: Any] = [
            "users": users.map { user -> [String: Any] in
                ["username": user.username, "email": user.email ?? "", "status": tenant.theme.text("user.status.\(user.status)", locale: context.locale),
                 "role": tenant.definition.roles[user.role]?.label.resolve(context.locale) ?? user.role]
            },
            "invitations": invitations.filter { $0.acceptedAt == nil && $0.revokedAt == nil }.map { invitation -> [String: Any] in
                ["email": invitation.email, "username": invitation.username,
                 "role": tenant.definition.roles[invitation.role]?.label.resolve(context.locale) ?? invitation.role,
                 "expires": Formatting.date(invitation.expiresAt, locale: context.locale), "expired": invitation.expiresAt <= now]
            },
            "roles": roles.map { ["id": $0.id, "label": $0.label, "selected": $0.id == form?["role"]] as [String: Any] },
            "can_invite": !roles.isEmpty,
            "form_email": form?["email"] ?? "", "form_username": form?["username"] ?? "",
        ]
        if let issued { values["notice"] = issued }
        values.merge(Pages.errorValues(problems, locale: context.locale)) { $1 }
        return Pages.render("users", values, title: tenant.theme.text("users.title", locale: context.locale), context: context,
                            status: problems.isEmpty ? .ok : .unprocessableContent)
    }

    private func invite(_ request: Request, context: UserContext) async throws -> Response {
        let form = try await SubmittedForm.read(request, context: context)
        let role = form["role"]
        guard invitableRoles(context: context).contains(where: { $0.id == role }) else { throw PortalError.forbidden(feature: "users.create") }
        let tenant = context.tenant
        let invitations = Invitations(services: services, tenant: tenant)
        let email = form.value("email") ?? ""
        var problems = UsernameRules.validateEmail(email, field: "email")
        let needsUsername = invitations.flowId(for: role).flatMap { tenant.definition.flows[$0] }?
            .steps.contains { $0.step == .credentials && $0.username == .assigned } ?? false
        let username = form.value("username")
        if needsUsername { problems += UsernameRules.validateChosen(username ?? "") }
        guard problems.isEmpty else { return try await usersPage(context: context, problems: problems, form: form) }
        do {
            _ = try await invitations.issue(customerId: context.customer.id ?? 0, email: email, username: needsUsername ? username : nil,
                                            role: role, createdBy: context.user.id, locale: context.locale)
        } catch let error as Invitations.InvitationError {
            let field = error.code == "username_taken" ? "username" : "email"
            let message = tenant.theme.text("users.invite_error.\(error.code)", locale: context.locale)
            return try await usersPage(context: context, problems: [FieldProblem(field: field, code: error.code,
                                                                                 message: LocalizedText(translations: [context.locale: message]))], form: form)
        }
        return try await usersPage(context: context, problems: [], form: nil,
                                   issued: tenant.theme.text("users.invite_sent", locale: context.locale, ["email": email]))
    }
}
