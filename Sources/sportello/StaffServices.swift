import Foundation
import SportelloCore
import SportelloMail
import SportelloStore
import SportelloWeb

/// One tenant's portal and services as the staff commands use them (`invite`, `requests`, `chat`): the
/// database must be migrated; e-mail is composed from `templates` and queued in the outbox.
func withStaffServices<T>(_ definition: TenantDefinition, _ database: DatabaseOptions, templates: String = "templates", port: Int = 8080,
                          _ body: (PortalTenant, PortalServices) async throws -> T) async throws -> T {
    let templatesURL = URL(fileURLWithPath: templates)
    return try await withDatabase(database) { db in
        try await db.requireMigrated()
        let tenant = PortalTenant(definition: definition, theme: try PortalTheme.load(root: templatesURL, tenantId: definition.id))
        let services = PortalServices(configuration: WebConfiguration(port: port, templatesDirectory: templatesURL), database: db,
                                      tenants: TenantRegistry([tenant]), mail: try MailTemplates(root: templatesURL))
        return try await body(tenant, services)
    }
}
