import Foundation
import SportelloStore
import Synchronization

/// The per-request check of a cached session's authority (role, toggles, status, customer type, logout),
/// answered for every request in flight by one query per tenant. A request joins the next query that has
/// not started yet, never one already running, so each answer was read after its request arrived and sees
/// every change committed before then, on any instance. Under load many requests share a query; alone, a
/// request costs one query as before.
final class SessionAuthorityChecks: Sendable {
    private typealias Waiter = (hash: String, continuation: CheckedContinuation<SessionCheck?, any Error>)

    private struct TenantQueue {
        var waiting: [Waiter] = []
        var running = false
    }

    /// Most sessions one query asks about (bind parameters are limited on both engines).
    static let largestBatch = 400

    private let queues = Mutex<[String: TenantQueue]>([:])

    /// The authority of session `tokenHash` of `tenant` as stored now, with the tenant's data version, or nil when the
    /// session is gone.
    func check(tenant: String, tokenHash: String, database: Database, now: @escaping @Sendable () -> Int64) async throws -> SessionCheck? {
        try await withCheckedThrowingContinuation { continuation in
            let startRunner = queues.withLock { all -> Bool in
                all[tenant, default: TenantQueue()].waiting.append((tokenHash, continuation))
                guard all[tenant]?.running == false else { return false }
                all[tenant]?.running = true
                return true
            }
            if startRunner {
                Task { await self.drain(tenant: tenant, database: database, now: now) }
            }
        }
    }

    /// Answers the tenant's waiting requests batch by batch until none is left.
    private func drain(tenant: String, database: Database, now: @Sendable () -> Int64) async {
        while true {
            let batch = queues.withLock { all -> [Waiter] in
                guard var queue = all[tenant] else { return [] }
                let taken = Array(queue.waiting.prefix(Self.largestBatch))
                queue.waiting.removeFirst(taken.count)
                if taken.isEmpty {
                    all[tenant] = nil
                } else {
                    all[tenant] = queue
                }
                return taken
            }
            guard !batch.isEmpty else { return }
            let hashes = Array(Set(batch.map(\.hash)))
            do {
                let found = try await database.readOneStatement(tenant: tenant, now: now()) {
                    try await $0.sessionChecks(tokenHashes: hashes)
                }
                for waiter in batch { waiter.continuation.resume(returning: found[waiter.hash]) }
            } catch {
                for waiter in batch { waiter.continuation.resume(throwing: error) }
            }
        }
    }
}
