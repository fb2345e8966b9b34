import Foundation
import Synchronization
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

private let fixedNow: Int64 = 1_790_000_000

/// Rows reused from one request to the next (`RecentReads`, `PageData`).
@Suite("Page data reuse")
struct PageDataTests {
    private final class Loads: Sendable {
        private let count = Atomic(0)
        func next() -> Int { count.add(1, ordering: .relaxed).newValue }
        var total: Int { count.load(ordering: .relaxed) }
    }

    @Test("a read kept at a data version is reused at that version only, and read again after a write of this process to what it depends on")
    func reusedAtItsVersionOnly() async throws {
        try await TestEngine.sqlite.withDatabase { database in
            let reads = RecentReads()
            let loads = Loads()
            func read(_ version: Int64?, now: Int64 = fixedNow) async throws -> Int? {
                try await reads.value(tenant: "t", key: "k", version: version, database: database, now: now) {
                    (loads.next(), ["table:invoices"])
                }
            }
            #expect(try await read(1) == 1)
            #expect(try await read(1) == 1, "same version: reused")
            #expect(try await read(1, now: fixedNow + 100) == 1, "a versioned read outlives the short lifetime")
            #expect(try await read(2) == 2, "another version: read again")
            #expect(try await read(1) == 3, "an older version is not served from a newer read")
            _ = try await database.write(tenant: "t", now: fixedNow) { try await $0.insertCustomer(sampleCustomerForPageData()) }
            #expect(try await read(1) == 3, "a write to a table the read does not depend on")
            try await database.write(tenant: "t", now: fixedNow) { transaction in
                try await transaction.update(.invoices).set("status", to: "paid").where("id", .equal, -1).run()
            }
            #expect(try await read(1) == 4, "this process wrote to invoices since: read again, even at the same version")
            #expect(try await read(1, now: fixedNow + reads.versionedLifetime) == 5, "kept no longer than its lifetime")
            #expect(try await read(nil) == 6)
            #expect(try await read(nil) == 6, "unversioned: reused within the short lifetime")
            #expect(try await read(nil, now: fixedNow + reads.lifetime) == 7)
            #expect(loads.total == 7)
        }
    }
}

private func sampleCustomerForPageData() -> CustomerRecord {
    CustomerRecord(customerType: "business", customerCode: "PD-\(UUID().uuidString.prefix(6))", companyName: "Page data", createdAt: fixedNow)
}
