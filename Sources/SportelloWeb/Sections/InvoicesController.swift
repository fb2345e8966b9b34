import Foundation
import Hummingbird
import SportelloCore
import SportelloStore

/// The invoices pages and their `/api/v1` operations.
struct InvoicesController {
    let services: PortalServices

    static let pages: [PortalPage] = []
    static let apiOperations: [APIOperation] = []
    static let apiSchemas: [String: JSONSchema] = [:]

    func addRoutes(to group: RouterGroup<UserContext>) {}
}
