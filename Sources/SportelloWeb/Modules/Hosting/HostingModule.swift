import Foundation
import SportelloApplication
import SportelloCore
import SportelloStore

extension PortalModule {
    static let hosting = PortalModule("hosting", capabilities: [.hosting, .help], controllers: [HostingController.self],
        storage: .hosting,
        eventHandlers: HostingProvisioning.handlers)
}

extension Capability {
    static let hosting = Capability("hosting", "Hosting services, the shop and domains.", [
        .init("services.view", "Services with their status and expiry."),
        .init("services.buy", "Buy services (pro-forma first)."),
        .init("domains.register", "Search and register domains. Availability is asked of the lookup plugin (operation domain_availability) bound to the feature; unbound or not answering, the page says the check is not available and nothing is ordered.", plugin: .lookup),
        .init("hosting.manage", "Manage shared hosting accounts."),
        .init("hosting.unblock_ip", "Unblock an IP address blocked by the firewall."),
    ])

    static let help = Capability("help", "Help pages and the knowledge base.", [
        .init("help.view", "Online help."),
        .init("knowledge_base.view", "Knowledge base articles."),
    ])
}
