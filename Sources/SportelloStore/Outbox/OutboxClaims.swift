import Foundation
import SQLKit
import SportelloCore

/// A row of an outbox table (`outbox`, `sms_outbox`): pending until delivered or given up, with its attempts and the
/// time of its next one in columns `status`, `attempts` and `next_attempt_at`.
protocol OutboxRow: Decodable {
    var id: Int64? { get }
    var attempts: Int { get set }
    var nextAttemptAt: Int64 { get set }
}

extension OutboxRecord: OutboxRow {}
extension SMSRecord: OutboxRow {}

extension TenantTransaction {
    /// Pending rows of `table` whose next attempt is due, oldest first, as stored.
    func dueRows<Row: OutboxRow>(_ table: StoredTable, limit: Int) async throws -> [Row] {
        try await all(select(table).column("*").where("status", .equal, "pending").where("next_attempt_at", .lessThanOrEqual, now)
            .orderBy("next_attempt_at").orderBy("id").limit(limit), as: Row.self)
    }

    /// Takes up to `limit` due rows of `table` for `lease` seconds: each one's attempts + 1 and next attempt at the
    /// lease's end. A row is taken only if no other worker changed it since it was read (`UPDATE … WHERE attempts = ?
    /// AND next_attempt_at <= now`), so two workers never send the same row, on SQLite or PostgreSQL.
    func claimDueRows<Row: OutboxRow>(_ table: StoredTable, limit: Int, lease: Int64) async throws -> [Row] {
        var claimed: [Row] = []
        for var row in try await dueRows(table, limit: limit) as [Row] {
            guard let id = row.id else { continue }
            let taken = try await update(table).set("attempts", to: row.attempts + 1).set("next_attempt_at", to: now + lease)
                .where("id", .equal, id).where("status", .equal, "pending").where("attempts", .equal, row.attempts)
                .where("next_attempt_at", .lessThanOrEqual, now).returning("id").all()
            guard !taken.isEmpty else { continue }
            row.attempts += 1
            row.nextAttemptAt = now + lease
            claimed.append(row)
        }
        return claimed
    }
}
