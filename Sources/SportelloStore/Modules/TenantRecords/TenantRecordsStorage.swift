import Foundation
import SQLKit
import SportelloCore

// The tenants' own record kinds: tables of migration `tenant_records`.

extension StoredTable {
    /// The records of the tenants' own kinds (`records:`), one row each.
    public static let records = StoredTable("records")
    /// Their field values, one row per field set, canonical.
    public static let recordFieldValues = StoredTable("record_field_values")
}

let tenantRecordTables: [TableSpec] = [
    // A record of a kind a tenant defines, always a customer's (directly, or through `owner_record_id`, whose
    // customer it copies so every query is fenced by customer the same way). `record_date` is the kind's `date`
    // field (`yyyy-MM-dd`), which orders lists, drives retention and charts.
    TableSpec(table: .records, columns: [
        req("kind", .text), req("external_id", .text), req("customer_id", .integer, references: .customers),
        col("owner_record_id", .integer, references: .records), col("user_id", .integer, references: .users),
        col("record_date", .text), req("created_at", .integer), req("updated_at", .integer),
    ], uniques: [["tenant_id", "kind", "external_id"]],
       indexes: [["tenant_id", "customer_id", "kind", "record_date"], ["tenant_id", "owner_record_id"], ["tenant_id", "user_id"]]),
    // One value per record and field, in the field's canonical form; `number` holds integers, and decimals in units
    // of their scale (12.50 at scale 2 is 1250), so ranges and sums are exact on both engines.
    TableSpec(table: .recordFieldValues, columns: [
        req("record_id", .integer, references: .records), req("field", .text), req("value", .text), col("number", .integer),
    ], uniques: [["tenant_id", "record_id", "field"]], indexes: [["tenant_id", "field", "value"]]),
]

extension StorageModule {
    /// The tenants' own record kinds (`records:` in YAML): records and their field values, demo records of every
    /// kind for every demo customer. Emptied after the platform's tables, so that platform rows (a request that
    /// names a record) may point at them.
    public static let tenantRecords = StorageModule("tenant_records", tables: [],
        tablesReferencedByPlatform: [.recordFieldValues, .records],
        migrations: [.adding(id: "0016_tenant_records", tables: tenantRecordTables)],
        fill: DemoDataGenerator.fillTenantRecords(_:random:in:))
}
