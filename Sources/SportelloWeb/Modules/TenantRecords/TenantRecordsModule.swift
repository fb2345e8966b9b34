import Foundation
import SportelloCore
import SportelloStore

extension PortalModule {
    /// The tenant's own record kinds (`records:` in its YAML): their tables, import and demo data. Their pages and
    /// API operations are generated from the YAML and join this module next.
    static let tenantRecords = PortalModule(
        id: "tenant_records",
        capabilities: [],
        storage: .tenantRecords,
        routes: { _, _ in })
}
