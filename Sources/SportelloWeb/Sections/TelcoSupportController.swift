import Foundation
import Hummingbird
import SportelloCore
import SportelloStore

/// TIM lines, offers, billed reports and online assistance.
struct TelcoSupportController {
    let services: PortalServices

    static let pages: [PortalPage] = []

    static let apiOperations: [APIOperation] = []

    static let apiSchemas: [String: JSONSchema] = [:]

    func addRoutes(to group: RouterGroup<UserContext>) {}
}
