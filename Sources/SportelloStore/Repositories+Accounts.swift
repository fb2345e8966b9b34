import Foundation
import SQLKit
import SportelloCore

// Queries of the users page and the requests pages. Like every repository method they go through the
// tenant-fenced builders, and each one also names the customer, so an id from another customer (or
// tenant) finds nothing.

extension TenantTransaction {
    // MARK: Users

    /// One user of the customer, or nil when the id belongs to someone else.
    public func user(id: Int64, customerId: Int64) async throws -> UserRecord? {
        try await first(select(.users).column("*").where("id", .equal, id).where("customer_id", .equal, customerId),
                        as: UserRecord.self)
    }

    /// Pending (not accepted, not revoked, not expired) invitations for `role` of the customer: they count
    /// against a role's cardinality like the users they will become.
    public func pendingInvitationCount(role: String, customerId: Int64) async throws -> Int {
        try await count(select(.invitations).where("customer_id", .equal, customerId).where("role", .equal, role)
            .where("accepted_at", .is, SQLLiteral.null).where("revoked_at", .is, SQLLiteral.null)
            .where("expires_at", .greaterThan, now))
    }

    /// One invitation of the customer, or nil when the id belongs to someone else.
    public func invitation(id: Int64, customerId: Int64) async throws -> InvitationRecord? {
        try await first(select(.invitations).column("*").where("id", .equal, id).where("customer_id", .equal, customerId),
                        as: InvitationRecord.self)
    }

    /// Deletes a user of the customer for good: sessions, one-time secrets and notification choices go
    /// with it; records that outlive the user (requests, their history, lines, invitations, users it
    /// created) keep existing and stop pointing at it. Returns false when no such user exists.
    @discardableResult
    public func deleteUser(id: Int64, customerId: Int64) async throws -> Bool {
        guard try await user(id: id, customerId: customerId) != nil else { return false }
        invalidate("user:\(id)")
        try await delete(.sessions).where("user_id", .equal, id).run()
        try await delete(.oneTimeTokens).where("user_id", .equal, id).run()
        try await delete(.notificationPreferences).where("user_id", .equal, id).run()
        try await delete(.userFieldValues).where("user_id", .equal, id).run()
        try await forgetRequiredActionCompletions(ofUser: id)
        try await releaseRecords(ofUser: id)
        try await update(.users).set("creator_user_id", to: SQLLiteral.null).where("creator_user_id", .equal, id).run()
        try await update(.lines).set("assigned_user_id", to: SQLLiteral.null).where("assigned_user_id", .equal, id).run()
        try await update(.requests).set("user_id", to: SQLLiteral.null).where("user_id", .equal, id).run()
        try await update(.requestEvents).set("actor_user_id", to: SQLLiteral.null).where("actor_user_id", .equal, id).run()
        try await update(.invitations).set("created_by", to: SQLLiteral.null).where("created_by", .equal, id).run()
        try await delete(.users).where("id", .equal, id).where("customer_id", .equal, customerId).run()
        return true
    }

    // MARK: Authenticator apps (TOTP)

    /// The one-time token purpose of an authenticator enrolment in progress (its data: the secret, sealed).
    static let totpEnrolmentPurpose = "totp_enrolment"

    /// Keeps `secret` as the user's authenticator enrolment in progress for `lifetime` seconds (sealed, replacing an
    /// earlier one): it becomes the user's only once a code from the app proves it was copied (`enrolTOTP`).
    public func stageTOTPSecret(_ secret: String, userId: Int64, lifetime: Int64) async throws {
        try await revokeTokens(userId: userId, purpose: Self.totpEnrolmentPurpose)
        try await insertToken(OneTimeTokenRecord(userId: userId, purpose: Self.totpEnrolmentPurpose, tokenHash: Secrets.hash(secret, salt: "totp"),
                                                 createdAt: now, expiresAt: now + lifetime, data: try sealer?.seal(secret) ?? secret))
    }

    /// The secret of the user's enrolment in progress, opened; nil when there is none or it expired.
    public func stagedTOTPSecret(userId: Int64) async throws -> String? {
        guard let data = try await liveToken(userId: userId, purpose: Self.totpEnrolmentPurpose)?.data else { return nil }
        return try sealer?.open(data) ?? data
    }

    /// Stores `secret` (sealed) as the user's authenticator and ends the enrolment in progress.
    public func enrolTOTP(_ secret: String, userId: Int64) async throws {
        invalidate("user:\(userId)")
        try await update(.users).set("totp_secret", to: try sealer?.seal(secret) ?? secret).where("id", .equal, userId).run()
        try await revokeTokens(userId: userId, purpose: Self.totpEnrolmentPurpose)
    }

    /// Records the language the user chose (`UserRecord.locale`).
    public func setUserLocale(_ locale: String, userId: Int64) async throws {
        invalidate("user:\(userId)")
        try await update(.users).set("locale", to: locale).where("id", .equal, userId).run()
    }

    /// The user's authenticator secret, opened; nil when the user has none.
    public func totpSecret(of user: UserRecord) throws -> String? {
        guard let stored = user.totpSecret, !stored.isEmpty else { return nil }
        return try sealer?.open(stored) ?? stored
    }

    // MARK: Requests

    /// One request of the customer, or nil when the id belongs to someone else.
    /// A request of any customer of the tenant (staff tools).
    public func request(id: Int64) async throws -> RequestRecord? {
        try await first(select(.requests).column("*").where("id", .equal, id), as: RequestRecord.self)
    }

    public func request(id: Int64, customerId: Int64) async throws -> RequestRecord? {
        try await first(select(.requests).column("*").where("id", .equal, id).where("customer_id", .equal, customerId),
                        as: RequestRecord.self)
    }

    /// The customer's requests that are still open in a group (or, with no group, of one form): every
    /// status except the `terminal` ones counts as open. Newest first.
    public func openRequests(customerId: Int64, group: String?, form: String, terminal: [String]) async throws -> [RequestRecord] {
        var builder = select(.requests).column("*").where("customer_id", .equal, customerId)
        if let group {
            builder = builder.where("form_group", .equal, group)
        } else {
            builder = builder.where("form", .equal, form)
        }
        if !terminal.isEmpty { builder = builder.where("status", .notIn, terminal) }
        return try await all(builder.orderBy("created_at", .descending).orderBy("id", .descending), as: RequestRecord.self)
    }

    /// Replaces a request's submitted fields (attachments get their document ids once stored).
    public func updateRequestPayload(id: Int64, customerId: Int64, payload: String) async throws {
        try await update(.requests).set("payload", to: payload).where("id", .equal, id).where("customer_id", .equal, customerId).run()
    }

    /// The attachments of a request, without their content (for listing).
    public func requestAttachments(requestId: Int64) async throws -> [DocumentRecord] {
        try await documents(ownerKind: "request", ownerId: requestId)
    }

    /// One attachment, only if it belongs to a request of the customer.
    public func requestAttachment(id: Int64, requestId: Int64, customerId: Int64) async throws -> DocumentRecord? {
        guard try await request(id: requestId, customerId: customerId) != nil else { return nil }
        return try await first(select(.documents).column("*").where("id", .equal, id).where("owner_kind", .equal, "request")
            .where("owner_id", .equal, requestId), as: DocumentRecord.self)
    }
}
