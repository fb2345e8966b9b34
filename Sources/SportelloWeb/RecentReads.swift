import Foundation
import SportelloStore
import Synchronization

/// Rows read a moment ago, reused instead of asking the database again: the session, user and customer
/// every page needs, per-customer facts such as overdue invoices. An entry is used while none of the
/// keys it depends on changed in this process since it was read (`Database.hasChanged`) and for at
/// most `lifetime` seconds, which bounds how long another process's write can go unseen. An entry read at a
/// data version (`value(tenant:key:version:…)`) is used only at that same version, which every instance reads
/// anew for each request, so no instance's write goes unseen; it may live `versionedLifetime` seconds.
final class RecentReads: Sendable {
    private struct Entry: Sendable {
        var value: any Sendable
        var dependencies: [String]
        var sequence: UInt64
        var readAt: Int64
        var expiresAt: Int64
        /// The tenant's data version the value was read at (nil: kept for `lifetime` only).
        var version: Int64?
    }

    let lifetime: Int64
    let versionedLifetime: Int64
    let capacity: Int
    private let entries = Mutex<[String: Entry]>([:])

    init(lifetime: Int64 = 2, versionedLifetime: Int64 = 120, capacity: Int = 20_000) {
        self.lifetime = lifetime
        self.versionedLifetime = versionedLifetime
        self.capacity = capacity
    }

    /// The value stored under `key` for `tenant` if it is still fresh, else what `load` reads now (kept
    /// when `load` names its dependencies; a nil from `load` is not kept).
    func value<T: Sendable>(tenant: String, key: String, database: Database, now: Int64,
                            load: () async throws -> (value: T, dependencies: [String])?) async throws -> T? {
        try await value(tenant: tenant, key: key, version: nil, database: database, now: now, load: load)
    }

    /// The value stored under `key` for `tenant` if it was read at data `version` (see `DataVersion`) and nothing it
    /// depends on changed in this process since, else what `load` reads now, kept under `version`.
    func value<T: Sendable>(tenant: String, key: String, version: Int64?, database: Database, now: Int64,
                            load: () async throws -> (value: T, dependencies: [String])?) async throws -> T? {
        let fullKey = tenant + "|" + key
        if let entry = entries.withLock({ $0[fullKey] }), now >= entry.readAt, now < entry.expiresAt, entry.version == version,
           !database.hasChanged(entry.dependencies, tenant: tenant, since: entry.sequence), let value = entry.value as? T {
            return value
        }
        // Read before loading: a write that ends while we read counts as newer than what we read.
        let sequence = database.changeSequence
        guard let loaded = try await load() else {
            entries.withLock { _ = $0.removeValue(forKey: fullKey) }
            return nil
        }
        let entry = Entry(value: loaded.value, dependencies: loaded.dependencies, sequence: sequence, readAt: now,
                          expiresAt: now + (version == nil ? lifetime : versionedLifetime), version: version)
        let capacity = self.capacity
        entries.withLock { all in
            if all.count >= capacity {
                all = all.filter { now < $0.value.expiresAt }
                if all.count >= capacity { all.removeAll(keepingCapacity: true) }
            }
            all[fullKey] = entry
        }
        return loaded.value
    }

    /// Forgets `key` of `tenant` (after this process changed what it holds).
    func forget(tenant: String, key: String) {
        entries.withLock { _ = $0.removeValue(forKey: tenant + "|" + key) }
    }
}
