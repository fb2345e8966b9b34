import Foundation
import Logging
import ServiceLifecycle
import SportelloCore
import SportelloStore

/// What one retention pass deleted, by tenant and record kind, and the tenants whose purge failed.
public struct RecordPurgeReport: Sendable, Equatable, CustomStringConvertible {
    /// Records deleted, by tenant id then the kind whose retention expired (each count with the records they owned, of
    /// any kind); kinds and tenants with nothing deleted are absent.
    public var deleted: [String: [String: Int]] = [:]
    /// Tenants whose purge failed (their records are left as they were; the next pass tries again).
    public var failed: [String] = []

    public init() {}

    /// How many records the pass deleted in all.
    public var total: Int { deleted.values.reduce(0) { $0 + $1.values.reduce(0, +) } }

    public var description: String {
        var parts = deleted.keys.sorted().map { tenant in
            "\(tenant): " + (deleted[tenant] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        }
        if !failed.isEmpty { parts.append("failed: \(failed.joined(separator: ", "))") }
        return parts.isEmpty ? "nothing expired" : parts.joined(separator: "; ")
    }
}

/// Applies `retention.delete_after` of every record kind (`records:`) of every served tenant: once when the server
/// starts, then every `interval` (a day), until the service group shuts down. Each tenant is purged in a
/// transaction of its own, so a tenant whose purge fails is logged and skipped and the others go on. Logs name
/// tenants, kinds and counts only, never a record or a value.
///
/// `purgeExpired(now:)` runs one pass (tests, `sportello records purge`).
public struct RecordRetentionJob: Service {
    /// Deletes one tenant's expired records on `today` and returns the counts per kind.
    public typealias Purge = @Sendable (Database, TenantDefinition, CalendarDay) async throws -> [String: Int]

    private let database: Database
    private let tenants: TenantDirectory
    private let clock: any WallClock
    private let interval: Duration
    private let logger: Logger
    private let purge: Purge

    /// The purge of a tenant: one write transaction applying `deleteExpiredRecords(of:today:)`.
    public static let standardPurge: Purge = { database, tenant, today in
        try await database.write(tenant: tenant.id, now: today.startInstant) { transaction in
            try await transaction.deleteExpiredRecords(of: tenant, today: today)
        }
    }

    /// - Parameters:
    ///   - tenants: the tenants to purge, asked at every pass (tenants come and go at run time).
    ///   - interval: the time between passes after the first (a day).
    ///   - purge: how one tenant is purged (tests replace it to make a tenant fail).
    public init(database: Database, tenants: TenantDirectory, clock: any WallClock = SystemWallClock(),
                interval: Duration = .seconds(86_400), logger: Logger = Logger(label: "sportello.retention"),
                purge: @escaping Purge = RecordRetentionJob.standardPurge) {
        self.database = database; self.tenants = tenants; self.clock = clock; self.interval = interval; self.logger = logger
        self.purge = purge
    }

    /// The job for every tenant the portal serves, on the portal's database and clock.
    public init(services: PortalServices, interval: Duration = .seconds(86_400)) {
        let registry = services.tenants
        self.init(database: services.database, tenants: TenantDirectory(registry: registry), clock: services.clock,
                  interval: interval)
    }

    /// A pass at once, then one every `interval`, until the task is cancelled or the service group shuts down.
    public func run() async throws {
        logger.info("record retention started", metadata: ["interval": "\(interval)"])
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                _ = await purgeExpired()
                do { try await Task.sleep(for: interval) } catch { break }
            }
        }
        logger.info("record retention stopped")
    }

    /// One pass over every tenant with record kinds that delete: what expired on the day of `now` (default: the clock)
    /// in the tenants' time zone is deleted, with the records it owns.
    @discardableResult
    public func purgeExpired(now: Date? = nil) async -> RecordPurgeReport {
        let today = CalendarDay(instant: Int64((now ?? clock.now()).timeIntervalSince1970.rounded(.down)))
        var report = RecordPurgeReport()
        for await tenant in tenants where tenant.recordKinds.values.contains(where: { $0.retention?.deleteAfter != nil }) {
            if Task.isCancelled { break }
            do {
                let deleted = try await purge(database, tenant, today)
                guard !deleted.isEmpty else { continue }
                report.deleted[tenant.id] = deleted
                for (kind, count) in deleted.sorted(by: { $0.key < $1.key }) {
                    logger.info("expired records deleted", metadata: ["tenant": "\(tenant.id)", "kind": "\(kind)", "count": "\(count)"])
                }
            } catch {
                report.failed.append(tenant.id)
                // Not `String(reflecting:)`: a database error's details can quote bound values.
                logger.error("record retention failed for a tenant", metadata: ["tenant": "\(tenant.id)", "error": "\(error)"])
            }
        }
        return report
    }
}
