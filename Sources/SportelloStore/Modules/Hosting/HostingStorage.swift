import Foundation
import SportelloCore

extension StoredTable {
    public static let articles = StoredTable("articles")
    public static let hostingAccounts = StoredTable("hosting_accounts")
    public static let blockedAddresses = StoredTable("blocked_addresses")
    public static let domains = StoredTable("domains")
    public static let orders = StoredTable("orders")
}

extension StorageModule {
    /// Hosting, shop, domains and help: articles, orders, hosting accounts, their firewall, domains.
    public static let hosting = StorageModule(
        id: "hosting",
        tables: [.blockedAddresses, .hostingAccounts, .domains, .orders, .articles],
        migrations: [.adding(id: "0008_hosting", tables: hostingTables, columns: hostingColumns)],
        seed: { demo, transaction in try await demo.seedHosting(in: transaction) },
        fill: { demo, account, random, transaction in try await demo.fillHosting(account, random: &random, in: transaction) })
}
