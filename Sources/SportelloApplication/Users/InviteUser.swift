import Foundation
import SportelloCore
import SportelloStore

/// Issuing invitations: by staff (`sportello invite`) or by a user allowed to create the role (the users page
/// and `/api/v1/users/invitations` decide that with the authorization engine before calling).
public struct Invitations: Sendable {
    let services: ApplicationServices
    let tenant: ServedTenant

    public init(services: ApplicationServices, tenant: ServedTenant) {
        self.services = services
        self.tenant = tenant
    }

    public struct InvitationError: Error, CustomStringConvertible {
        public var code: String
        public var message: String
        public var description: String { "\(code): \(message)" }
    }

    /// What an issued invitation produced: the link is shown once (to staff on the command line).
    public struct Issued: Sendable {
        public var invitationId: Int64
        public var link: String
        public var expiresAt: Int64
    }

    /// The registration flow that completes invitations for `role`.
    public func flowId(for role: String) -> String? {
        tenant.definition.flows.first { _, flow in
            flow.kind == .registration && flow.steps.first?.step == .invitation && (flow.role == nil || flow.role == role)
        }?.key
    }

    /// Issues (or re-issues, revoking the earlier pending ones for the same username) an invitation and
    /// queues its e-mail in the same transaction.
    public func issue(customerId: Int64, email: String, username: String?, role: String, createdBy: Int64?,
                      locale: String? = nil) async throws -> Issued {
        let definition = tenant.definition
        guard let flowId = flowId(for: role), let flow = definition.flows[flowId], let step = flow.steps.first else {
            throw InvitationError(code: "no_invitation_flow", message: "no registration flow of \(definition.id) starts with an invitation for role \(role)")
        }
        guard definition.roles[role] != nil else { throw InvitationError(code: "unknown_role", message: "unknown role \(role)") }
        if !UsernameRules.validateEmail(email, field: "email").isEmpty {
            throw InvitationError(code: "invalid_email", message: "not a valid e-mail address")
        }
        let assigned = flow.steps.contains { $0.step == .credentials && $0.username == .assigned }
        if assigned, (username ?? "").isEmpty {
            throw InvitationError(code: "username_required", message: "this flow pre-assigns the username: give one")
        }
        let now = services.now
        let lifetime = Int64(step.expires?.seconds ?? 7 * 86_400)
        let token = Secrets.token(using: services.random)
        let issued: Issued = try await services.database.write(tenant: definition.id, now: now) { transaction in
            guard let customer = try await transaction.customer(id: customerId) else {
                throw InvitationError(code: "unknown_customer", message: "no such customer")
            }
            if let types = definition.roles[role]?.customerTypes, !types.contains(customer.customerType) {
                throw InvitationError(code: "role_not_for_customer_type", message: "role \(role) is not available to \(customer.customerType) customers")
            }
            let earlierInvitations = try await transaction.invitations(customerId: customerId)
            if let username, !username.isEmpty {
                let key = UsernameRules.key(for: username, caseSensitive: definition.login.caseSensitive)
                if try await transaction.user(usernameKey: key) != nil {
                    throw InvitationError(code: "username_taken", message: "the username is already in use")
                }
                // A live invitation to someone else already reserves this username: completing both would fail.
                let reserved = earlierInvitations.contains { other in
                    other.acceptedAt == nil && other.revokedAt == nil && other.expiresAt > now
                        && UsernameRules.key(for: other.username, caseSensitive: definition.login.caseSensitive) == key
                        && other.email.lowercased() != email.lowercased()
                }
                if reserved { throw InvitationError(code: "username_taken", message: "a pending invitation already reserves the username") }
            }
            for earlier in earlierInvitations
            where earlier.acceptedAt == nil && earlier.revokedAt == nil && earlier.username == (username ?? "") && earlier.email.lowercased() == email.lowercased() {
                var revoked = earlier
                revoked.revokedAt = now
                try await transaction.updateInvitation(revoked)
            }
            let id = try await transaction.insertInvitation(InvitationRecord(
                customerId: customerId, email: email, username: username ?? "", role: role, tokenHash: token.hash,
                createdBy: createdBy, createdAt: now, expiresAt: now + lifetime))
            let link = services.portalAddress(definition) + services.paths.invitation(flowId, token.plain)
            var values = ["link": link,
                          "expires_on": Formatting.date(now + lifetime, locale: locale ?? definition.locales.default),
                          "role_label": definition.roles[role]?.label.resolve(locale ?? definition.locales.default) ?? role]
            // The mail says how the username comes about: given now, the e-mail address, or chosen at completion.
            switch flow.steps.first(where: { $0.step == .credentials || $0.step == .firstLoginCredentials })?.username ?? .email {
            case .assigned: values["username"] = username ?? ""
            case .email: values["username_is_email"] = "true"
            case .chosen: values["username_chosen"] = "true"
            }
            if let types = step.adminEmailFor, types.contains(customer.customerType), let note = step.message {
                values["admin_note"] = note.resolve(locale ?? definition.locales.default)
            }
            try await services.queueMail("invitation", to: email, values: values, locale: locale, tenant: definition, in: transaction)
            try await transaction.audit("invitation.issued", actorUserId: createdBy, targetKind: "invitation", targetId: String(id),
                                        detail: "role \(role)")
            try await transaction.recordEvent(.userInvited(invitationId: id, customerId: customerId, role: role, invitedBy: createdBy,
                                                           expiresAt: now + lifetime))
            return Issued(invitationId: id, link: link, expiresAt: now + lifetime)
        }
        services.mailQueued()
        return issued
    }

    /// Revokes a pending invitation of the customer: its link stops working. False when there is no such
    /// pending invitation (already accepted, revoked, or another customer's).
    public func revoke(invitationId: Int64, customerId: Int64, by actor: Int64?) async throws -> Bool {
        try await services.database.write(tenant: tenant.id, now: services.now) { transaction in
            guard var invitation = try await transaction.invitation(id: invitationId, customerId: customerId),
                  invitation.acceptedAt == nil, invitation.revokedAt == nil else { return false }
            invitation.revokedAt = transaction.now
            try await transaction.updateInvitation(invitation)
            try await transaction.audit("invitation.revoked", actorUserId: actor, targetKind: "invitation", targetId: String(invitationId),
                                        detail: "role \(invitation.role)")
            return true
        }
    }
}
