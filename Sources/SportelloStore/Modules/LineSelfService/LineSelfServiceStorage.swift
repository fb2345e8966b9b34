import Foundation
import SQLKit
import SportelloCore

// WINDTRE self-service (line activation, SIM association, promotions, automatic recharge): tables and columns of migration `line_self_service`.
// Promotions live in the shared `catalog_items` (kind `promotion`). User ids in these tables are plain
// integers, not foreign keys: deleting a Telco Manager must not fail on, nor erase, the history.

extension StoredTable {
    public static let lineActivations = StoredTable("line_activations")
    public static let simAssignments = StoredTable("sim_assignments")
    public static let automaticRecharges = StoredTable("automatic_recharges")
}

let lineSelfServiceTables: [TableSpec] = [
    TableSpec(table: .lineActivations, columns: [
        col("external_id", .text), req("customer_id", .integer, references: .customers),
        col("line_id", .integer, references: .lines), col("contract_id", .integer, references: .contracts),
        req("kind", .text), col("identifier", .text), req("offer", .text), col("site", .text),
        req("requested_on", .text), col("expected_on", .text), req("progress", .integer), req("stage", .text),
        req("status", .text), req("updated_at", .integer), col("completed_on", .text),
    ], uniques: [["tenant_id", "external_id"]], indexes: [["tenant_id", "customer_id", "status"]]),
    TableSpec(table: .simAssignments, columns: [
        req("customer_id", .integer, references: .customers), req("line_id", .integer, references: .lines),
        col("user_id", .integer), req("user_name", .text), req("action", .text), req("at", .integer),
        col("actor_user_id", .integer), col("note", .text),
    ], indexes: [["tenant_id", "customer_id", "at"], ["tenant_id", "line_id", "at"]]),
    TableSpec(table: .automaticRecharges, columns: [
        req("customer_id", .integer, references: .customers), req("line_id", .integer, references: .lines),
        req("mode", .text), req("amount_cents", .integer), col("threshold_cents", .integer), col("day_of_month", .integer),
        req("payment_method", .text), col("card_last_four", .text), col("card_expiry", .text), req("status", .text),
        req("created_at", .integer), req("updated_at", .integer), col("created_by_user_id", .integer), col("cancelled_at", .integer),
    ], indexes: [["tenant_id", "customer_id", "line_id"]]),
]

let lineSelfServiceColumns: [(StoredTable, ColumnSpec)] = []

extension StorageModule {
    /// Line self-service: offer activations, SIM assignments and automatic recharges.
    public static let lineSelfService = StorageModule("line_self_service", tables: [.simAssignments, .lineActivations, .automaticRecharges],
        migrations: [.adding(id: "0006_line_self_service", tables: lineSelfServiceTables, columns: lineSelfServiceColumns)],
        seed: DemoDataGenerator.seedLineSelfService(in:),
        fill: DemoDataGenerator.fillLineSelfService(_:random:in:))
}
