import Foundation
import Hummingbird
import SportelloCore
import SportelloStore

/// The users pages and their `/api/v1` operations.
struct AccountUsersController {
    let services: PortalServices

    static let pages: [PortalPage] = []
    static let apiOperations: [APIOperation] = []
    static let apiSchemas: [String: JSONSchema] = [:]

    func addRoutes(to group: RouterGroup<UserContext>) {}
}
