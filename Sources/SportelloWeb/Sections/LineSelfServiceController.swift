import Foundation
import Hummingbird
import SportelloCore
import SportelloStore

/// WINDTRE self-service (line activation, SIM association, promotions, automatic recharge).
struct LineSelfServiceController {
    let services: PortalServices

    static let pages: [PortalPage] = []

    static let apiOperations: [APIOperation] = []

    static let apiSchemas: [String: JSONSchema] = [:]

    func addRoutes(to group: RouterGroup<UserContext>) {}
}
