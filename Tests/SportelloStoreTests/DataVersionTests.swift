import Foundation
import Testing
import SportelloCore
@testable import SportelloStore

/// The tenant's data version: what lets any instance reuse rows it read for a page while nothing page-visible changed.
@Suite("Data version")
struct DataVersionTests {
    private struct Abort: Error {}

    private func version(_ database: Database, _ tenant: String) async throws -> Int64 {
        try await database.read(tenant: tenant, now: fixedNow) { try await $0.dataVersion() }
    }

    @Test("every committed write to data a page may show moves the tenant's version on; sessions, counters, audit and rolled-back writes do not",
          arguments: TestEngine.available)
    func movesWithVersionedWrites(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = "dv-\(UUID().uuidString.prefix(8))", other = "dv-other-\(UUID().uuidString.prefix(8))"
            #expect(try await version(database, tenant) == 0)
            let customer = try await database.write(tenant: tenant, now: fixedNow) { try await $0.insertCustomer(sampleCustomer("DV-1")) }
            #expect(try await version(database, tenant) == 1)
            try await database.write(tenant: tenant, now: fixedNow) { transaction in
                _ = try await transaction.insertInvoice(InvoiceRecord(customerId: customer, number: "DV-F1", issuedOn: "2026-10-05", dueOn: "2026-10-30",
                                                                      netCents: 100, taxCents: 22, totalCents: 122, status: .unpaid))
                _ = try await transaction.insertInvoice(InvoiceRecord(customerId: customer, number: "DV-F2", issuedOn: "2026-10-06", dueOn: "2026-10-30",
                                                                      netCents: 100, taxCents: 22, totalCents: 122, status: .unpaid))
            }
            #expect(try await version(database, tenant) == 2, "one step per transaction, however many rows")
            try await database.write(tenant: tenant, now: fixedNow) { transaction in
                try await transaction.audit("dv.check")
                _ = try await transaction.addCounterHits(key: "dv", bucket: fixedNow, expiresAt: fixedNow + 60)
            }
            #expect(try await version(database, tenant) == 2, "the audit log and shared counters are not page data")
            await #expect(throws: Abort.self) {
                try await database.write(tenant: tenant, now: fixedNow) { transaction in
                    _ = try await transaction.insertCustomer(sampleCustomer("DV-2"))
                    throw Abort()
                }
            }
            #expect(try await version(database, tenant) == 2, "a rolled-back write moves nothing")
            #expect(try await version(database, other) == 0, "each tenant has its own version")
            _ = try await database.write(tenant: other, now: fixedNow) { try await $0.insertCustomer(sampleCustomer("DV-3")) }
            #expect(try await version(database, other) == 1)
            #expect(try await version(database, tenant) == 2)
        }
    }

    @Test("the per-request session check reads the data version in the same statement", arguments: TestEngine.available)
    func sessionCheckCarriesVersion(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = "dv-s-\(UUID().uuidString.prefix(8))"
            let hash = String(repeating: "a", count: 64)
            try await database.write(tenant: tenant, now: fixedNow) { transaction in
                let customer = try await transaction.insertCustomer(sampleCustomer("DV-S"))
                let user = try await transaction.insertUser(UserRecord(customerId: customer, username: "dv.user", usernameKey: "dv.user",
                                                                       passwordHash: "x", role: "member", createdAt: fixedNow))
                _ = try await transaction.insertSession(SessionRecord(tokenHash: hash, userId: user, createdAt: fixedNow, lastSeenAt: fixedNow,
                                                                  expiresAt: fixedNow + 3_600, csrfTokenHash: "c"))
            }
            let before = try await database.read(tenant: tenant, now: fixedNow) { try await $0.sessionChecks(tokenHashes: [hash]) }
            #expect(before[hash]?.dataVersion == 1, "the customer, user and session were written in one transaction")
            _ = try await database.write(tenant: tenant, now: fixedNow) { try await $0.insertCustomer(sampleCustomer("DV-S2")) }
            let after = try await database.read(tenant: tenant, now: fixedNow) { try await $0.sessionChecks(tokenHashes: [hash]) }
            #expect(after[hash]?.dataVersion == 2)
            #expect(after[hash]?.authority == before[hash]?.authority)
        }
    }
}
