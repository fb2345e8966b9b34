import SQLKit

// Required actions: table of migration `0018_required_actions`. One row per user and action (the latest
// completion; the audit log keeps every one), read by the gate with one indexed query for users the tenant asks
// something recorded of.

let requiredActionTables: [TableSpec] = [
    TableSpec(table: .requiredActionCompletions, columns: [
        req("user_id", .integer, references: .users), req("action_id", .text), col("version", .text), req("completed_at", .integer),
    ], uniques: [["tenant_id", "user_id", "action_id"]]),
]
