import Foundation
import SportelloCore
import SportelloStore

extension PortalModule {
    /// The tenant's own record kinds (`records:` in its YAML): for each kind a list page with filters, paging, a
    /// chart and CSV/Excel export, a detail page with the records it owns, and `/api/v1` operations with schemas
    /// built from the kind's fields; their tables, import and demo data. No capability: a kind's `access:` names the
    /// features that open it.
    static let tenantRecords = PortalModule("tenant_records", controllers: [TenantRecordsController.self],
        storage: .tenantRecords,
        tenantSurface: TenantRecordsSurface.surface(for:))
}
