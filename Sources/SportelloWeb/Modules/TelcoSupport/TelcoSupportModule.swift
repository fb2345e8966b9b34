import Foundation
import SportelloStore

extension PortalModule {
    static let telcoSupport = PortalModule(
        id: "telco_support",
        pages: TelcoSupportController.pages,
        apiOperations: TelcoSupportController.apiOperations,
        apiSchemas: TelcoSupportController.apiSchemas,
        storage: .telcoSupport,
        routes: { services, group in TelcoSupportController(services: services).addRoutes(to: group) })
}
