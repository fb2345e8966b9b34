import Foundation
import SportelloApplication
import SportelloCore
import SportelloStore

extension PortalModule {
    static let hosting = PortalModule(
        id: "hosting",
        capabilities: [.hosting, .help],
        pages: HostingController.pages,
        apiOperations: HostingController.apiOperations,
        apiSchemas: HostingController.apiSchemas,
        storage: .hosting,
        eventHandlers: HostingProvisioning.handlers,
        routes: { services, group in HostingController(services: services).addRoutes(to: group) })
}

extension Capability {
    static let hosting = Capability("hosting", "Hosting services, the shop and domains.", [
        .init("services.view", "Services with their status and expiry."),
        .init("services.buy", "Buy services (pro-forma first)."),
        .init("domains.register", "Search and register domains (availability is a demo until a registrar plugin is bound)."),
        .init("hosting.manage", "Manage shared hosting accounts."),
        .init("hosting.unblock_ip", "Unblock an IP address blocked by the firewall."),
    ])

    static let help = Capability("help", "Help pages and the knowledge base.", [
        .init("help.view", "Online help."),
        .init("knowledge_base.view", "Knowledge base articles."),
    ])
}
