import Foundation
import Logging
import ServiceLifecycle
import SportelloCore
import SportelloStore

/// What one retention pass deleted (or, on a dry run, would delete), by tenant and category, and the tenants that failed.
public struct RetentionReport: Sendable, Equatable, CustomStringConvertible {
    /// Rows by tenant id then category: the platform's (`sessions`, `tokens`, `flows`, `invitations`, `mail`, `sms`,
    /// `events`, `audit`, see `RetentionCategory`) and `records.<kind>` for tenant records past their kind's
    /// `delete_after` (each count with the records they own). Categories and tenants with nothing are absent.
    public var deleted: [String: [String: Int]] = [:]
    /// Tenants whose pass failed part-way (what was deleted before the failure is in `deleted`; the next pass goes on).
    public var failed: [String] = []
    /// True when nothing was deleted: the counts are what a pass would delete.
    public var dryRun = false

    public init(dryRun: Bool = false) { self.dryRun = dryRun }

    /// How many rows the pass deleted (or would delete) in all.
    public var total: Int { deleted.values.reduce(0) { $0 + $1.values.reduce(0, +) } }

    /// `category=count` pairs of one tenant in name order, as the audit entry's detail (counts only, never a value).
    public func detail(for tenant: String) -> String {
        (deleted[tenant] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }

    public var description: String {
        var parts = deleted.keys.sorted().map { "\($0): \(detail(for: $0))" }
        if !failed.isEmpty { parts.append("failed: \(failed.joined(separator: ", "))") }
        return parts.isEmpty ? "nothing expired" : parts.joined(separator: "; ")
    }
}

/// Applies the platform's retention policy (`RetentionPolicy`: expired sessions, tokens, flows and invitations, sent
/// mail and SMS, delivered events, old audit entries) and every tenant's record `retention.delete_after` (through
/// `RecordRetentionJob`'s purge) to every served tenant: once when the server starts, then every `interval` (a day),
/// until the service group shuts down. Deletions go in batches (`RetentionPolicy.batchSize` rows per write transaction);
/// a tenant that fails is logged and skipped and the others go on. Each tenant's pass that deleted anything is audited
/// in that tenant as `retention.purged` with the counts per category (never a row's content). Logs name tenants,
/// categories and counts only.
///
/// `purge(now:dryRun:)` runs one pass (tests, `sportello purge`); with `dryRun` it deletes nothing and reports counts.
public struct PlatformRetentionJob: Service {
    /// The audit action of a pass that deleted something.
    public static let auditAction = "retention.purged"

    private let database: Database
    private let tenants: TenantDirectory
    private let policy: RetentionPolicy
    private let clock: any WallClock
    private let interval: Duration
    private let logger: Logger
    private let recordPurge: RecordRetentionJob.Purge

    /// - Parameters:
    ///   - tenants: the tenants to purge, asked at every pass (tenants added or reloaded at run time are included).
    ///   - policy: the platform's limits (the documented defaults unless a test shortens them).
    ///   - interval: the time between passes after the first (a day).
    ///   - recordPurge: how one tenant's expired records are deleted (`RecordRetentionJob.standardPurge`; tests replace
    ///     it to make a tenant fail).
    public init(database: Database, tenants: TenantDirectory, policy: RetentionPolicy = .standard,
                clock: any WallClock = SystemWallClock(), interval: Duration = .seconds(86_400),
                logger: Logger = Logger(label: "sportello.retention"),
                recordPurge: @escaping RecordRetentionJob.Purge = RecordRetentionJob.standardPurge) {
        self.database = database; self.tenants = tenants; self.policy = policy; self.clock = clock; self.interval = interval
        self.logger = logger; self.recordPurge = recordPurge
    }

    /// The job for every tenant the portal serves (asked at every pass), on the portal's database and clock.
    public init(services: PortalServices, policy: RetentionPolicy = .standard, interval: Duration = .seconds(86_400)) {
        let registry = services.tenants
        self.init(database: services.database, tenants: TenantDirectory(registry: registry), policy: policy, clock: services.clock,
                  interval: interval)
    }

    /// A pass at once, then one every `interval`, until the task is cancelled or the service group shuts down.
    public func run() async throws {
        logger.info("retention started", metadata: ["interval": "\(interval)"])
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                _ = await purge()
                do { try await Task.sleep(for: interval) } catch { break }
            }
        }
        logger.info("retention stopped")
    }

    /// One pass over every tenant at `now` (default: the clock): the platform's categories, then the records past their
    /// kind's `delete_after` on that day (in the tenants' time zone). With `dryRun` nothing is deleted or audited: the
    /// platform's categories are counted, and the record purge is run in a transaction that is rolled back.
    @discardableResult
    public func purge(now: Date? = nil, dryRun: Bool = false) async -> RetentionReport {
        let instant = Int64((now ?? clock.now()).timeIntervalSince1970.rounded(.down))
        let today = CalendarDay(instant: instant)
        var report = RetentionReport(dryRun: dryRun)
        for await tenant in tenants {
            if Task.isCancelled { break }
            var counts: [String: Int] = [:]
            do {
                for (category, count) in try await database.applyRetention(tenant: tenant.id, policy: policy, now: instant, dryRun: dryRun) {
                    counts[category.rawValue] = count
                }
                if tenant.recordKinds.values.contains(where: { $0.retention?.deleteAfter != nil }) {
                    let records = dryRun
                        ? try await database.rehearse(tenant: tenant.id, now: today.startInstant) { try await $0.deleteExpiredRecords(of: tenant, today: today) }
                        : try await recordPurge(database, tenant, today)
                    for (kind, count) in records where count > 0 { counts["records." + kind] = count }
                }
            } catch {
                report.failed.append(tenant.id)
                // Not `String(reflecting:)`: a database error's details can quote bound values.
                logger.error("retention failed for a tenant", metadata: ["tenant": "\(tenant.id)", "error": "\(error)"])
            }
            guard !counts.isEmpty else { continue }
            report.deleted[tenant.id] = counts
            let detail = report.detail(for: tenant.id)
            if dryRun {
                logger.info("retention dry run", metadata: ["tenant": "\(tenant.id)", "would_delete": "\(detail)"])
                continue
            }
            logger.info("expired data deleted", metadata: ["tenant": "\(tenant.id)", "deleted": "\(detail)"])
            do {
                try await database.write(tenant: tenant.id, now: instant) { transaction in
                    try await transaction.audit(Self.auditAction, targetKind: "tenant", targetId: tenant.id, detail: detail)
                }
            } catch {
                if !report.failed.contains(tenant.id) { report.failed.append(tenant.id) }
                logger.error("retention audit failed for a tenant", metadata: ["tenant": "\(tenant.id)", "error": "\(error)"])
            }
        }
        return report
    }
}
