import Foundation
import SportelloStore

extension PortalModule {
    static let hosting = PortalModule(
        id: "hosting",
        pages: HostingController.pages,
        apiOperations: HostingController.apiOperations,
        apiSchemas: HostingController.apiSchemas,
        storage: .hosting,
        eventHandlers: HostingProvisioning.handlers,
        routes: { services, group in HostingController(services: services).addRoutes(to: group) })
}
