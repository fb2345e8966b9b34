import Foundation
import SportelloCore

extension StoredTable {
    /// Payments made through a payments plugin (a PSP's hosted page): one row per attempt, from its creation to the
    /// provider's verdict.
    public static let onlinePayments = StoredTable("online_payments")
    /// Every signed notification a payments plugin sent, once each (its id), with what the portal did with it.
    public static let paymentNotifications = StoredTable("payment_notifications")
}

extension StorageModule {
    /// Online payments and the notifications that settle them. Emptied before the platform's tables (they point at
    /// invoices, customers and users; notifications point at payments).
    public static let payments = StorageModule(
        id: "payments",
        tables: [.paymentNotifications, .onlinePayments],
        migrations: [.adding(id: "0021_online_payments", tables: onlinePaymentTables),
                     // Recharges of prepaid lines paid through the plugin: the line a payment tops up.
                     .adding(id: "0023_recharge_payments", tables: [], columns: [(.onlinePayments, col("line_id", .integer, references: .lines))])])
}
