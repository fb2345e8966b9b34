import Foundation
import SportelloStore

extension PortalModule {
    static let invoices = PortalModule(
        id: "invoices",
        pages: InvoicesController.pages,
        apiOperations: InvoicesController.apiOperations,
        apiSchemas: InvoicesController.apiSchemas,
        routes: { services, group in InvoicesController(services: services).addRoutes(to: group) })
}
