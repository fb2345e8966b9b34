import ArgumentParser
import Foundation
import SportelloApplication
import SportelloCore
import SportelloMail
import SportelloStore
import SportelloWeb

/// Staff invitations (Unidata's Customer Care pre-assigns username and role and sends the link).
struct InviteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invite",
        abstract: "Invite a customer's user: queues the e-mail and prints the link (again to re-issue).")

    @OptionGroup var tenantOption: TenantOption
    @OptionGroup var database: DatabaseOptions

    @Option(help: "Customer code.")
    var customer: String

    @Option(help: "E-mail address the invitation goes to.")
    var email: String

    @Option(help: "Pre-assigned username (flows with `username: assigned`).")
    var username: String?

    @Option(help: "Role (default: the role of the tenant's staff-issued invitation flow).")
    var role: String?

    @Option(help: "Templates folder.")
    var templates: String = "templates"

    @Option(help: "Port used in the printed link.")
    var port: Int = 8080

    func run() async throws {
        let definition = try tenantOption.load().definition
        let staffFlow = definition.flows.first { _, flow in
            flow.kind == .registration && flow.steps.first?.step == .invitation && flow.steps.first?.issuedBy != .user
        }?.value
        guard let role = role ?? staffFlow?.role else {
            printError("error: \(definition.id) has no staff-issued invitation flow: pass --role")
            throw ExitCode(1)
        }
        try await withStaffServices(definition, database, templates: templates, port: port) { tenant, services in
            guard let record = try await services.database.read(tenant: definition.id, { try await $0.customer(code: customer) }), let id = record.id else {
                printError("error: no customer \(customer) in \(definition.id)")
                throw ExitCode(1)
            }
            do {
                let issued = try await Invitations(services: services, tenant: tenant)
                    .issue(customerId: id, email: email, username: username, role: role, createdBy: nil)
                print("invitation \(issued.invitationId) for \(record.displayName) queued; link (shown once): \(issued.link)")
            } catch let error as Invitations.InvitationError {
                printError("error: \(error.message) [\(error.code)]")
                throw ExitCode(1)
            }
        }
    }
}
