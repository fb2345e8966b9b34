import Foundation
import SQLKit
import SportelloCore

// Required actions: table of migration `0018_required_actions`. One row per user and action (the latest
// completion; the audit log keeps every one), read by the gate with one indexed query for users the tenant asks
// something recorded of.

extension StoredTable {
    /// The latest completion of each required action by each user (`required_actions:`).
    public static let requiredActionCompletions = StoredTable("required_action_completions")
}

let requiredActionTables: [TableSpec] = [
    TableSpec(table: .requiredActionCompletions, columns: [
        req("user_id", .integer, references: .users), req("action_id", .text), col("version", .text), req("completed_at", .integer),
    ], uniques: [["tenant_id", "user_id", "action_id"]]),
]

extension StorageModule {
    /// Required actions: what each user completed, and when (the version of the terms they accepted). Emptied
    /// before the users it points at.
    public static let requiredActions = StorageModule("required_actions", tables: [.requiredActionCompletions],
        migrations: [.adding(id: "0018_required_actions", tables: requiredActionTables)],
        fill: DemoDataGenerator.fillRequiredActionCompletions(_:random:in:))
}

extension DemoDataGenerator {
    /// Demo users have already done what the tenant asks after login, so the demo opens on their dashboards; a user
    /// registered in the demo meets the actions as a real customer would.
    func fillRequiredActionCompletions(_ account: DemoAccount, random _: inout SplitMix64, in transaction: TenantTransaction) async throws {
        for userId in account.users {
            guard let user = try await transaction.user(id: userId, customerId: account.customerId) else { continue }
            for (id, action) in RequiredActionRules.applicable(in: tenant, role: user.role, customerType: account.customer.customerType)
            where action.type.isRecorded {
                _ = try await transaction.recordRequiredActionCompletion(userId: userId, actionId: id, version: action.version)
            }
        }
    }
}
