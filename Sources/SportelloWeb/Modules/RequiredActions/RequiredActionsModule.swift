import Foundation
import SportelloCore
import SportelloStore

extension PortalModule {
    /// Required actions (`required_actions:`, Keycloak's "required actions"): what users must complete after login
    /// before anything else opens (accept terms, confirm the customer's data, choose a new password, verify the
    /// e-mail address). No capability opens them: the tenant's YAML and the user's state do. Their pages and
    /// operations are the only ones a user with something pending reaches (see `RequiredActionsGate`).
    static let requiredActions = PortalModule("required_actions", controllers: [RequiredActionsController.self],
        storage: .requiredActions)
}
