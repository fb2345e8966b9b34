import Foundation
import Hummingbird
import SportelloCore
import SportelloStore

/// The contracts pages and their `/api/v1` operations.
struct ContractsController {
    let services: PortalServices

    static let pages: [PortalPage] = []
    static let apiOperations: [APIOperation] = []
    static let apiSchemas: [String: JSONSchema] = [:]

    func addRoutes(to group: RouterGroup<UserContext>) {}
}
