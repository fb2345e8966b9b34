import Foundation
import Hummingbird
import SportelloCore
import SportelloStore

/// The notifications pages and their `/api/v1` operations.
struct NotificationsController {
    let services: PortalServices

    static let pages: [PortalPage] = []
    static let apiOperations: [APIOperation] = []
    static let apiSchemas: [String: JSONSchema] = [:]

    func addRoutes(to group: RouterGroup<UserContext>) {}
}
