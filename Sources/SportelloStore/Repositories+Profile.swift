import Foundation
import SQLKit
import SportelloCore

// Queries of the profile, billing-settings and notification-preference pages. Every builder comes from the
// transaction, so each one is fenced to the tenant; the customer and user ids narrow them further.

extension TenantTransaction {
    /// The customer's requests made with one of `forms` (newest first): the change requests the profile and
    /// billing pages record where a user may only ask for a change.
    public func requests(customerId: Int64, forms: [String]) async throws -> [RequestRecord] {
        guard !forms.isEmpty else { return [] }
        return try await all(select(.requests).column("*").where("customer_id", .equal, customerId).where("form", .in, forms)
            .orderBy("created_at", .descending).orderBy("id", .descending), as: RequestRecord.self)
    }

    /// Removes a user's notification choices, so the tenant's defaults apply again.
    public func deleteNotificationPreferences(userId: Int64) async throws {
        try await delete(.notificationPreferences).where("user_id", .equal, userId).run()
    }

    /// Other users of the tenant whose login key is `key` (an e-mail used as username must stay unique where
    /// the tenant says so).
    public func usernameKeyTaken(_ key: String, exceptUserId: Int64) async throws -> Bool {
        try await count(select(.users).where("username_key", .equal, key).where("id", .notEqual, exceptUserId)) > 0
    }
}
