import SQLKit
import SportelloCore

/// How much work waits in one of a tenant's queues, for `/metrics`.
public struct QueueStats: Sendable, Equatable {
    /// Items not yet done (pending mail; pending event deliveries).
    public var pending: Int
    /// When the oldest of them was created (Unix seconds), nil when there is none.
    public var oldestCreatedAt: Int64?

    public init(pending: Int, oldestCreatedAt: Int64?) {
        self.pending = pending; self.oldestCreatedAt = oldestCreatedAt
    }
}

extension TenantTransaction {
    /// The tenant's pending e-mails: one indexed aggregate (tenant, status), no body read or opened.
    public func outboxQueueStats() async throws -> QueueStats {
        try await queueStats(.outbox, status: OutboxStatus.pending.rawValue)
    }

    /// The tenant's pending event deliveries (to any consumer).
    public func eventQueueStats() async throws -> QueueStats {
        try await queueStats(.eventDeliveries, status: EventDeliveryStatus.pending.rawValue)
    }

    private func queueStats(_ table: StoredTable, status: String) async throws -> QueueStats {
        let row = try await select(table).column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .column(SQLFunction("MIN", args: SQLColumn("created_at")), as: "oldest")
            .where("status", .equal, status).first()
        return QueueStats(pending: try row?.decode(column: "n", as: Int.self) ?? 0,
                          oldestCreatedAt: try row?.decode(column: "oldest", as: Int64?.self) ?? nil)
    }
}
