import Foundation
import SQLKit
import SportelloCore

// WINDTRE products (Giga Smart Share, devices, PIN/PUK, coverage): tables and columns of migration `line_products`.

extension StoredTable {
    public static let sharePlans = StoredTable("share_plans")
    public static let devices = StoredTable("devices")
}

let lineProductTables: [TableSpec] = [
    // A Giga Smart Share package: Giga shared by the SIMs whose `lines.share_plan_id` points here.
    // `package_code` names the `gss_package` catalogue item it was bought as; `extra_giga` is bought on top, for the
    // month `extra_giga_month` (`YYYY-MM`) only.
    TableSpec(table: .sharePlans, columns: [
        req("customer_id", .integer, references: .customers), col("contract_id", .integer, references: .contracts),
        req("code", .text), req("package_code", .text), req("package_title", .text), req("giga_allowance", .integer),
        req("extra_giga", .integer), col("extra_giga_month", .text), col("referent_name", .text), req("referent_phone", .text), req("status", .text),
        req("activated_on", .text), req("updated_at", .integer),
    ], uniques: [["tenant_id", "code"]], indexes: [["tenant_id", "customer_id"]]),
    // A device bought from or rented through the provider: phones by IMEI, routers and the rest by serial number.
    TableSpec(table: .devices, columns: [
        req("customer_id", .integer, references: .customers), col("line_id", .integer, references: .lines),
        req("kind", .text), req("brand", .text), req("model", .text), req("identifier_kind", .text), req("identifier", .text),
        req("account_name", .text), req("purchased_on", .text), req("instalment_count", .integer), req("instalments_paid", .integer),
        req("instalment_cents", .integer), col("maintenance_plan", .text), req("maintenance_interventions", .integer),
        req("maintenance_interventions_used", .integer), col("maintenance_expires_on", .text), req("status", .text),
    ], uniques: [["tenant_id", "identifier"]], indexes: [["tenant_id", "customer_id"], ["tenant_id", "line_id"]]),
]

/// A SIM's card number and codes, and the Giga Smart Share package it draws from (at most one: a column, not a table).
let lineProductColumns: [(StoredTable, ColumnSpec)] = [
    (.lines, col("iccid", .text)),
    (.lines, col("pin", .text)),
    (.lines, col("puk", .text)),
    (.lines, col("share_plan_id", .integer, references: .sharePlans)),
]

extension StorageModule {
    /// WINDTRE products: Giga Smart Share plans and devices (the SIM codes are columns of `lines`).
    public static let lineProducts = StorageModule("line_products", tables: [.devices],
        tablesReferencedByPlatform: [.sharePlans],
        migrations: [.adding(id: "0005_line_products", tables: lineProductTables, columns: lineProductColumns)],
        seed: DemoDataGenerator.seedLineProducts(in:),
        fill: DemoDataGenerator.fillLineProducts(_:random:in:))
}
