import Foundation
import SportelloCore
import SportelloStore

/// What a page reads for the signed-in customer, reused from one request to the next while the tenant's data version
/// is the one this request's session check read (`DataVersion`): a write committed on any instance before the request
/// arrived is seen, as if the rows were read now. Reuse is per tenant load, per day (windows count in days) and per
/// key, so the key must name every other input of the read (customer, user, filters); a read that depends on the time
/// of day must not go through here.
enum PageData {
    /// The rows `body` reads from `tables` under `key`; reused when the request knows the data version, read anew
    /// otherwise (an API call with a bearer token).
    static func read<T: Sendable>(_ key: String, tables: [StoredTable], context: UserContext, services: PortalServices,
                                  _ body: @escaping @Sendable (TenantTransaction) async throws -> T) async throws -> T {
        let tenant = context.tenant, now = services.now, database = services.database
        let load = { () async throws -> T in try await database.read(tenant: tenant.id, now: now, body) }
        guard let version = context.session.dataVersion else { return try await load() }
        precondition(tables.allSatisfy(DataVersion.covers), "a reused read depends on a table that does not move the data version")
        // Never nil: `RecentReads` answers nil only for a load that found nothing, and this one always returns rows.
        return try await services.recentReads.value(
            tenant: tenant.id, key: "page|\(tenant.generation)|\(CalendarDay(instant: now))|" + key, version: version, database: database, now: now
        ) { () async throws -> (value: T, dependencies: [String])? in
            (try await load(), tables.map { "table:" + $0.rawValue })
        }!
    }
}
