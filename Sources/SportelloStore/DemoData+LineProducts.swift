import Foundation
import SportelloCore

// Demo data for WINDTRE products (Giga Smart Share, devices, PIN/PUK, coverage).

extension DemoDataGenerator {
    /// Rows shared by every customer of the tenant (catalogue items, articles…), made once per tenant.
    func seedLineProducts(in transaction: TenantTransaction) async throws {}

    /// Rows of one demo customer.
    func fillLineProducts(_ account: DemoAccount, random: inout SplitMix64, in transaction: TenantTransaction) async throws {}
}
