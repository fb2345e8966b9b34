import Foundation
import Hummingbird
import SportelloCore
import SportelloStore

/// Tunda services, hosting, domains, knowledge base and Unidata help.
struct HostingController {
    let services: PortalServices

    static let pages: [PortalPage] = []

    static let apiOperations: [APIOperation] = []

    static let apiSchemas: [String: JSONSchema] = [:]

    func addRoutes(to group: RouterGroup<UserContext>) {}
}
