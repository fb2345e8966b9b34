import Foundation
import SportelloCore

// Demo data for TIM lines, offers, billed reports and online assistance.

extension DemoDataGenerator {
    /// Rows shared by every customer of the tenant (catalogue items, articles…), made once per tenant.
    func seedTelcoSupport(in transaction: TenantTransaction) async throws {}

    /// Rows of one demo customer.
    func fillTelcoSupport(_ account: DemoAccount, random: inout SplitMix64, in transaction: TenantTransaction) async throws {}
}
