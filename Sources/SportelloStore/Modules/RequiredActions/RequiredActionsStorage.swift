import Foundation
import SportelloCore

extension StoredTable {
    /// The latest completion of each required action by each user (`required_actions:`).
    public static let requiredActionCompletions = StoredTable("required_action_completions")
}

extension StorageModule {
    /// Required actions: what each user completed, and when (the version of the terms they accepted). Emptied
    /// before the users it points at.
    public static let requiredActions = StorageModule(
        id: "required_actions",
        tables: [.requiredActionCompletions],
        migrations: [.adding(id: "0018_required_actions", tables: requiredActionTables)],
        // Demo users have already done what the tenant asks after login, so the demo opens on their dashboards;
        // a user registered in the demo meets the actions as a real customer would.
        fill: { demo, account, _, transaction in
            for userId in account.users {
                guard let user = try await transaction.user(id: userId, customerId: account.customerId) else { continue }
                for (id, action) in RequiredActionRules.applicable(in: demo.tenant, role: user.role, customerType: account.customer.customerType)
                where action.type.isRecorded {
                    _ = try await transaction.recordRequiredActionCompletion(userId: userId, actionId: id, version: action.version)
                }
            }
        })
}
