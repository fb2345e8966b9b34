import Foundation
import SQLKit
import SportelloCore

// Tunda services, hosting, domains, knowledge base and Unidata help: tables and columns of migration `hosting`.

extension StoredTable {
    public static let articles = StoredTable("articles")
    public static let hostingAccounts = StoredTable("hosting_accounts")
    public static let blockedAddresses = StoredTable("blocked_addresses")
    public static let domains = StoredTable("domains")
    public static let orders = StoredTable("orders")
}

let hostingTables: [TableSpec] = [
    // Help and knowledge-base articles, per collection (`knowledge_base`, `help`) and locale.
    TableSpec(table: .articles, columns: [
        req("collection", .text), req("category", .text), req("slug", .text), req("title", .text), col("summary", .text),
        req("body", .text), req("locale", .text), req("updated_on", .text), req("position", .integer),
    ], uniques: [["tenant_id", "collection", "locale", "slug"]], indexes: [["tenant_id", "collection", "locale", "position"]]),
    // Orders (products and domain registrations) with the pro-forma that pays them. Orders are deleted before
    // domains and hosting accounts, so they point at orders and not the other way round.
    TableSpec(table: .orders, columns: [
        req("customer_id", .integer, references: .customers), col("user_id", .integer, references: .users),
        req("number", .text), req("kind", .text), req("item_code", .text), req("title", .text), col("target", .text),
        col("billing_period", .text), req("quantity", .integer), req("net_cents", .integer), req("tax_cents", .integer),
        req("total_cents", .integer), req("status", .text), col("invoice_id", .integer, references: .invoices),
        req("created_at", .integer), col("activated_on", .text),
    ], uniques: [["tenant_id", "number"]], indexes: [["tenant_id", "customer_id", "created_at"], ["tenant_id", "status"]]),
    TableSpec(table: .hostingAccounts, columns: [
        req("customer_id", .integer, references: .customers), col("line_id", .integer, references: .lines),
        col("order_id", .integer, references: .orders), req("domain", .text), req("plan_code", .text), req("plan_title", .text),
        req("server", .text), req("username", .text), req("disk_used_mb", .integer), req("disk_quota_mb", .integer),
        req("traffic_used_mb", .integer), req("traffic_quota_mb", .integer), req("mailboxes", .integer),
        req("mailbox_quota", .integer), req("php_version", .text), req("status", .text), req("expires_on", .text),
        req("created_at", .integer),
    ], uniques: [["tenant_id", "username"]], indexes: [["tenant_id", "customer_id"]]),
    TableSpec(table: .blockedAddresses, columns: [
        req("customer_id", .integer, references: .customers), req("hosting_account_id", .integer, references: .hostingAccounts),
        req("address", .text), req("reason", .text), col("service", .text), req("blocked_at", .integer),
        col("unblocked_at", .integer), col("unblocked_by", .integer, references: .users),
    ], indexes: [["tenant_id", "customer_id", "address"], ["tenant_id", "hosting_account_id", "blocked_at"]]),
    // A name is registered once per tenant: the unique key is the availability check's last word.
    TableSpec(table: .domains, columns: [
        req("customer_id", .integer, references: .customers), col("order_id", .integer, references: .orders),
        req("name", .text), req("tld", .text), req("status", .text), col("registered_on", .text), col("expires_on", .text),
        req("auto_renew", .bool), req("created_at", .integer),
    ], uniques: [["tenant_id", "name"]], indexes: [["tenant_id", "customer_id"]]),
]

let hostingColumns: [(StoredTable, ColumnSpec)] = []

extension StorageModule {
    /// Hosting, shop, domains and help: articles, orders, hosting accounts, their firewall, domains.
    public static let hosting = StorageModule("hosting", tables: [.blockedAddresses, .hostingAccounts, .domains, .orders, .articles],
        migrations: [.adding(id: "0008_hosting", tables: hostingTables, columns: hostingColumns)],
        seed: DemoDataGenerator.seedHosting(in:),
        fill: DemoDataGenerator.fillHosting(_:random:in:))
}
