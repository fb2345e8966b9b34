import Foundation
import SportelloCore
import SportelloStore

extension PortalModule {
    static let requests = PortalModule("requests", capabilities: [.requests], controllers: [RequestsController.self])
}

extension Capability {
    static let requests = Capability("requests", "Requests and tickets from the tenant's own forms.", [
        .init("requests.view", "Every request of the customer, whatever form it came from."),
        .init("requests.create", "New requests from the generic forms."),
        .init("tickets.administration", "Administrative tickets."),
        .init("tickets.technical", "Technical support tickets."),
    ])
}
