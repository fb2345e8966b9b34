import Foundation
import SportelloCore

extension StoredTable {
    /// The records of the tenants' own kinds (`records:`), one row each.
    public static let records = StoredTable("records")
    /// Their field values, one row per field set, canonical.
    public static let recordFieldValues = StoredTable("record_field_values")
}

extension StorageModule {
    /// The tenants' own record kinds (`records:` in YAML): records and their field values, demo records of every
    /// kind for every demo customer. Emptied after the platform's tables, so that platform rows (a request that
    /// names a record) may point at them.
    public static let tenantRecords = StorageModule(
        id: "tenant_records",
        tables: [],
        tablesReferencedByPlatform: [.recordFieldValues, .records],
        migrations: [.adding(id: "0016_tenant_records", tables: tenantRecordTables)],
        fill: { demo, account, random, transaction in try await demo.fillTenantRecords(account, random: &random, in: transaction) })
}
