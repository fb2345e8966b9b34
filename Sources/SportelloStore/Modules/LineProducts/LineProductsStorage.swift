import Foundation
import SportelloCore

extension StoredTable {
    public static let sharePlans = StoredTable("share_plans")
    public static let devices = StoredTable("devices")
}

extension StorageModule {
    /// WINDTRE products: Giga Smart Share plans and devices (the SIM codes are columns of `lines`).
    public static let lineProducts = StorageModule(
        id: "line_products",
        tables: [.devices],
        tablesReferencedByPlatform: [.sharePlans],
        migrations: [.adding(id: "0005_line_products", tables: lineProductTables, columns: lineProductColumns)],
        seed: { demo, transaction in try await demo.seedLineProducts(in: transaction) },
        fill: { demo, account, random, transaction in try await demo.fillLineProducts(account, random: &random, in: transaction) })
}
