import Foundation
import SportelloCore

// Demo data for Tunda services, hosting, domains, knowledge base and Unidata help.

extension DemoDataGenerator {
    /// Rows shared by every customer of the tenant (catalogue items, articles…), made once per tenant.
    func seedHosting(in transaction: TenantTransaction) async throws {}

    /// Rows of one demo customer.
    func fillHosting(_ account: DemoAccount, random: inout SplitMix64, in transaction: TenantTransaction) async throws {}
}
