import Foundation
import Hummingbird
import SportelloCore
import SportelloStore

/// WINDTRE products (Giga Smart Share, devices, PIN/PUK, coverage).
struct LineProductsController {
    let services: PortalServices

    static let pages: [PortalPage] = []

    static let apiOperations: [APIOperation] = []

    static let apiSchemas: [String: JSONSchema] = [:]

    func addRoutes(to group: RouterGroup<UserContext>) {}
}
