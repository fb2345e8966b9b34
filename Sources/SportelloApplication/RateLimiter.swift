import Foundation
import SportelloStore
import Synchronization

/// Counters per key in fixed windows (per-IP login throttle, verification attempts, mail limits).
///
/// With a database they live in its `shared_counters` table, so every instance on the same database counts
/// the same hits (a window of `window` seconds starts at a multiple of `window`); without one (unit tests
/// of pure logic) they live in this process's memory.
public final class RateLimiter: Sendable {
    let database: Database?
    private let memory = Mutex<[String: (bucket: Int64, hits: Int64)]>([:])
    private let lastPurge = Mutex<[String: Int64]>([:])

    public init(database: Database? = nil) {
        self.database = database
    }

    static func bucket(_ now: Int64, _ window: Int64) -> Int64 { now - ((now % max(window, 1)) + max(window, 1)) % max(window, 1) }

    /// Seconds until the window of `now` ends (for `Retry-After`).
    public static func retryAfter(window: Int64, now: Int64) -> Int64 { max(1, bucket(now, window) + max(window, 1) - now) }

    /// Records a hit of `key` and returns false when the window already had `limit` hits (refused hits count too,
    /// so a client that keeps trying stays refused until the window ends).
    public func allow(tenant: String, key: String, limit: Int, window: Int64, now: Int64) async throws -> Bool {
        try await add(tenant: tenant, key: key, window: window, now: now) <= Int64(clamping: limit)
    }

    /// Records a hit and returns the window's total including it.
    public func add(tenant: String, key: String, window: Int64, now: Int64) async throws -> Int64 {
        let bucket = Self.bucket(now, window)
        guard let database else {
            return memory.withLock { all in
                let fullKey = tenant + "|" + key
                let current = all[fullKey].flatMap { $0.bucket == bucket ? $0.hits : nil } ?? 0
                all[fullKey] = (bucket, current + 1)
                return current + 1
            }
        }
        let purge = lastPurge.withLock { seen -> Bool in
            guard now - (seen[tenant] ?? 0) >= 300 else { return false }
            seen[tenant] = now
            return true
        }
        return try await database.write(tenant: tenant, now: now) { transaction in
            if purge { try await transaction.purgeCounters() }
            return try await transaction.addCounterHits(key: key, bucket: bucket, expiresAt: bucket + max(window, 1))
        }
    }

    /// Hits of `key` in the current window, without recording one.
    public func count(tenant: String, key: String, window: Int64, now: Int64) async throws -> Int {
        let bucket = Self.bucket(now, window)
        guard let database else {
            return Int(memory.withLock { $0[tenant + "|" + key].flatMap { $0.bucket == bucket ? $0.hits : nil } ?? 0 })
        }
        return Int(try await database.read(tenant: tenant, now: now) { try await $0.counterHits(key: key, since: bucket) })
    }

    public func reset(tenant: String, key: String) async throws {
        guard let database else { _ = memory.withLock { $0.removeValue(forKey: tenant + "|" + key) }; return }
        try await database.write(tenant: tenant) { try await $0.resetCounter(key: key) }
    }

    // Keys of the form `kind|<tenant>|…` (or `audit|kind|<tenant>|…`): the tenant is read from the key.
    // A database failure falls back to this process's memory rather than failing the request.

    public func allow(_ key: String, limit: Int, window: Int64, now: Int64) async -> Bool {
        let tenant = Self.tenant(of: key)
        if let allowed = try? await allow(tenant: tenant, key: key, limit: limit, window: window, now: now) { return allowed }
        return memoryOnly.allowSync(tenant: tenant, key: key, limit: limit, window: window, now: now)
    }

    public func count(_ key: String, window: Int64, now: Int64) async -> Int {
        let tenant = Self.tenant(of: key)
        return (try? await count(tenant: tenant, key: key, window: window, now: now))
            ?? memoryOnly.countSync(tenant: tenant, key: key, window: window, now: now)
    }

    public func reset(_ key: String) async {
        let tenant = Self.tenant(of: key)
        try? await reset(tenant: tenant, key: key)
        memoryOnly.memory.withLock { _ = $0.removeValue(forKey: tenant + "|" + key) }
    }

    private var memoryOnly: RateLimiter { database == nil ? self : fallback }
    private static let fallbackLimiter = RateLimiter()
    private var fallback: RateLimiter { Self.fallbackLimiter }

    private func allowSync(tenant: String, key: String, limit: Int, window: Int64, now: Int64) -> Bool {
        let bucket = Self.bucket(now, window)
        return memory.withLock { all in
            let fullKey = tenant + "|" + key
            let current = all[fullKey].flatMap { $0.bucket == bucket ? $0.hits : nil } ?? 0
            all[fullKey] = (bucket, current + 1)
            return current + 1 <= Int64(clamping: limit)
        }
    }

    private func countSync(tenant: String, key: String, window: Int64, now: Int64) -> Int {
        let bucket = Self.bucket(now, window)
        return Int(memory.withLock { $0[tenant + "|" + key].flatMap { $0.bucket == bucket ? $0.hits : nil } ?? 0 })
    }

    static func tenant(of key: String) -> String {
        let parts = key.split(separator: "|", omittingEmptySubsequences: false)
        let index = parts.first == "audit" ? 2 : 1
        return parts.count > index && !parts[index].isEmpty ? String(parts[index]) : "-"
    }
}
