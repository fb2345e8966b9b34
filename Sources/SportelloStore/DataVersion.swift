/// A tenant's data version: a number stored with the tenant's data that every committed write changing data a page
/// may show moves on, in the same transaction. The per-request session check reads it with the session (one
/// statement, after the request arrived), so any instance can tell whether rows it read for an earlier request are
/// still what the database holds, whichever instance wrote since: equal versions, nothing page-visible changed.
public enum DataVersion {
    /// Tables written on every login, page view or delivery attempt that no reused read may depend on: a transaction
    /// that writes only these leaves the version where it is.
    public static let unversionedTables: Set<StoredTable> = [
        .sessions, .sharedCounters, .outbox, .auditLog, .oneTimeTokens, .flowStates, .eventDeliveries, .smsOutbox, .dataVersions,
    ]

    /// Whether a write to `table` moves the version on (reads that are reused may depend only on such tables).
    public static func covers(_ table: StoredTable) -> Bool { !unversionedTables.contains(table) }

    private static let unversionedKeys = Set(unversionedTables.map { "table:" + $0.rawValue })

    /// Whether a transaction that changed `keys` (see `ChangeRecorder`) must move the version on.
    static func isMoved(by keys: Set<String>) -> Bool {
        keys.contains { $0.hasPrefix("table:") && !unversionedKeys.contains($0) }
    }
}
