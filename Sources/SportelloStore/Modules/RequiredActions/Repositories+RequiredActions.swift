import Foundation
import SQLKit
import SportelloCore

extension TenantTransaction {
    /// The user's completions of required actions (the latest of each action), by the unique
    /// `(tenant_id, user_id, action_id)` index.
    public func requiredActionCompletions(userId: Int64) async throws -> [RequiredActionCompletion] {
        try await all(select(.requiredActionCompletions).column("*").where("user_id", .equal, userId).orderBy("id"),
                      as: RequiredActionCompletion.self)
    }

    /// Every completion of the tenant's users (the staff listing of pending actions).
    public func allRequiredActionCompletions() async throws -> [RequiredActionCompletion] {
        try await all(select(.requiredActionCompletions).column("*").orderBy("user_id").orderBy("id"), as: RequiredActionCompletion.self)
    }

    /// Records that the user completed action `actionId` now (with the version accepted), replacing their earlier
    /// completion of it.
    @discardableResult
    public func recordRequiredActionCompletion(userId: Int64, actionId: String, version: String?) async throws -> RequiredActionCompletion {
        invalidate("required_actions:\(userId)")
        try await delete(.requiredActionCompletions).where("user_id", .equal, userId).where("action_id", .equal, actionId).run()
        var completion = RequiredActionCompletion(userId: userId, actionId: actionId, version: version, completedAt: now)
        completion.id = try await insert(.requiredActionCompletions, completion)
        return completion
    }

    /// Forgets a user's completions (the user is being deleted); nothing when the database has no such table.
    public func forgetRequiredActionCompletions(ofUser userId: Int64) async throws {
        guard schema.modules.contains(where: { $0.id == StorageModule.requiredActions.id }) else { return }
        try await delete(.requiredActionCompletions).where("user_id", .equal, userId).run()
    }

    /// Every user of the tenant with their customer's type, by username (the staff listing of pending actions).
    public func usersWithCustomerTypes() async throws -> [(user: UserRecord, customerType: String)] {
        struct TypeRow: Decodable { var id: Int64; var customerType: String }
        let users = try await all(select(.users).column("*").orderBy("username_key"), as: UserRecord.self)
        let types = try await all(select(.customers).column("id").column("customer_type"), as: TypeRow.self)
        let byCustomer = Dictionary(types.map { ($0.id, $0.customerType) }, uniquingKeysWith: { first, _ in first })
        return users.map { ($0, byCustomer[$0.customerId] ?? "") }
    }
}
