import Foundation
import SQLKit
import SportelloCore

// Online payments: tables of migration `0021_online_payments` (`0023_recharge_payments` adds `line_id`, the prepaid line a
// payment with purpose `recharge` tops up).
//
// An `online_payments` row is written before the provider is asked (status `created`), gets the provider's reference
// and page when the provider accepts it (`pending`), and is settled only by a verified notification (`paid`, `failed`,
// `cancelled`, later `refunded`). `problem` says why a payment needs staff (an amount that does not match, an invoice
// paid twice, a provider that did not answer). `payment_notifications` keeps each notification id once, so a repeated
// delivery changes nothing.

extension StoredTable {
    /// Payments made through a payments plugin (a PSP's hosted page): one row per attempt, from its creation to the
    /// provider's verdict.
    public static let onlinePayments = StoredTable("online_payments")
    /// Every signed notification a payments plugin sent, once each (its id), with what the portal did with it.
    public static let paymentNotifications = StoredTable("payment_notifications")
}

let onlinePaymentTables: [TableSpec] = [
    TableSpec(table: .onlinePayments, columns: [
        req("customer_id", .integer, references: .customers), col("user_id", .integer, references: .users),
        col("invoice_id", .integer, references: .invoices), req("purpose", .text), req("feature", .text), req("plugin", .text),
        req("method", .text), req("amount_cents", .integer), req("currency", .text), req("status", .text), req("sandbox", .bool),
        col("psp_reference", .text), col("redirect_url", .text), col("problem", .text), col("detail", .text), req("locale", .text),
        req("created_at", .integer), req("updated_at", .integer), col("confirmed_at", .integer), col("refunded_at", .integer),
        req("attempt_key", .text),
    ], uniques: [["tenant_id", "plugin", "psp_reference"]],
       indexes: [["tenant_id", "invoice_id", "created_at"], ["tenant_id", "customer_id", "created_at"], ["tenant_id", "status"]]),
    TableSpec(table: .paymentNotifications, columns: [
        req("plugin", .text), req("notification_id", .text), col("online_payment_id", .integer, references: .onlinePayments),
        req("type", .text), req("outcome", .text), col("detail", .text), req("received_at", .integer),
    ], uniques: [["tenant_id", "plugin", "notification_id"]], indexes: [["tenant_id", "online_payment_id"]]),
]

extension StorageModule {
    /// Online payments and the notifications that settle them. Emptied before the platform's tables (they point at
    /// invoices, customers and users; notifications point at payments).
    public static let payments = StorageModule("payments", tables: [.paymentNotifications, .onlinePayments],
        migrations: [.adding(id: "0021_online_payments", tables: onlinePaymentTables),
                     // Recharges of prepaid lines paid through the plugin: the line a payment tops up.
                     .adding(id: "0023_recharge_payments", tables: [], columns: [(.onlinePayments, col("line_id", .integer, references: .lines))])])
}
