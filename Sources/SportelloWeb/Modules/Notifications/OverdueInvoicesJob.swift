import Foundation
import Logging
import ServiceLifecycle
import SportelloCore
import SportelloStore

/// The scheduled check that makes "overdue invoice" notifications possible: once an hour (and at start), in each tenant
/// with a notification rule `on: invoice.overdue`, the unpaid invoices whose due day has passed become `overdue` and
/// record `invoice.overdue` (`markOverdueInvoices`), which the rules then act on. Tenants without such a rule are left
/// as they are (their pages compute "overdue" from the due day).
public struct OverdueInvoicesJob: Service {
    private let database: Database
    private let tenants: TenantDirectory
    private let clock: any WallClock
    private let interval: Duration
    private let logger: Logger

    public init(database: Database, tenants: TenantDirectory, clock: any WallClock = SystemWallClock(),
                interval: Duration = .seconds(3600), logger: Logger = Logger(label: "sportello.overdue")) {
        self.database = database; self.tenants = tenants; self.clock = clock; self.interval = interval; self.logger = logger
    }

    /// The job for every tenant the portal serves, on the portal's database and clock.
    public init(services: PortalServices, interval: Duration = .seconds(3600)) {
        let registry = services.tenants
        self.init(database: services.database, tenants: TenantDirectory(registry: registry), clock: services.clock, interval: interval)
    }

    public func run() async throws {
        logger.info("overdue invoice check started", metadata: ["interval": "\(interval)"])
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                _ = await check()
                do { try await Task.sleep(for: interval) } catch { break }
            }
        }
        logger.info("overdue invoice check stopped")
    }

    /// One pass at `now` (default: the clock): tenant id → ids of the invoices marked overdue (tenants with none absent).
    @discardableResult
    public func check(now: Date? = nil) async -> [String: [Int64]] {
        let instant = Int64((now ?? clock.now()).timeIntervalSince1970.rounded(.down))
        let today = CalendarDay(instant: instant)
        var marked: [String: [Int64]] = [:]
        for await tenant in tenants where (tenant.notifications ?? OrderedMap()).values.contains(where: { $0.on == "invoice.overdue" }) {
            if Task.isCancelled { break }
            do {
                let ids = try await database.write(tenant: tenant.id, now: instant) { try await $0.markOverdueInvoices(today: today) }
                if !ids.isEmpty {
                    marked[tenant.id] = ids
                    logger.info("invoices now overdue", metadata: ["tenant": "\(tenant.id)", "count": "\(ids.count)"])
                }
            } catch {
                logger.error("overdue invoice check failed for a tenant", metadata: ["tenant": "\(tenant.id)", "error": "\(String(describing: type(of: error)))"])
            }
        }
        return marked
    }
}
