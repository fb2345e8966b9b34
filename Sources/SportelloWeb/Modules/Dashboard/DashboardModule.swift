import Foundation

extension PortalModule {
    /// The home page (`/`): it is every user's landing page, so it is no `PortalPage` of the navigation.
    static let dashboard = PortalModule(
        id: "dashboard",
        routes: { services, group in DashboardController(services: services).addRoutes(to: group) })
}
