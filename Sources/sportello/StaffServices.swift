import Foundation
import SportelloApplication
import SportelloCore
import SportelloMail
import SportelloStore
import SportelloWeb

/// One tenant and the use-case services as the staff commands use them (`invite`, `requests`, `chat`): the
/// database must be migrated; e-mail is composed from `templates` and queued in the outbox (links point at
/// the portal on `port`). No web server or web service is built.
func withStaffServices<T>(_ definition: TenantDefinition, _ database: DatabaseOptions, templates: String = "templates", port: Int = 8080,
                          _ body: (ServedTenant, ApplicationServices) async throws -> T) async throws -> T {
    let templatesURL = URL(fileURLWithPath: templates)
    return try await withDatabase(database) { db in
        try await db.requireMigrated()
        let authorization = AuthorizationModel(definition)
        let tenant = ServedTenant(definition: definition, authorization: authorization, windows: VisibilityWindows(tenant: definition),
                                  texts: try TenantTexts.load(root: templatesURL, tenantId: definition.id))
        let links = WebConfiguration(port: port, templatesDirectory: templatesURL)
        let services = ApplicationServices(
            database: db, passwords: BcryptPasswordHasher(), mail: try MailTemplates(root: templatesURL),
            portalAddress: { links.portalAddress(for: $0) }, paths: .portal,
            events: DomainEvents(PortalModules.all.flatMap(\.eventHandlers)))
        return try await body(tenant, services)
    }
}
