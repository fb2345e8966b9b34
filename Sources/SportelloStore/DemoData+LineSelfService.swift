import Foundation
import SportelloCore

// Demo data for WINDTRE self-service (line activation, SIM association, promotions, automatic recharge).

extension DemoDataGenerator {
    /// Rows shared by every customer of the tenant (catalogue items, articles…), made once per tenant.
    func seedLineSelfService(in transaction: TenantTransaction) async throws {}

    /// Rows of one demo customer.
    func fillLineSelfService(_ account: DemoAccount, random: inout SplitMix64, in transaction: TenantTransaction) async throws {}
}
