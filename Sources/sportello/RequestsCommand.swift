import ArgumentParser
import Foundation
import SportelloApplication
import SportelloCore
import SportelloMail
import SportelloStore
import SportelloWeb

/// Provider staff work on requests and tickets.
struct RequestsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requests",
        abstract: "Work on customers' requests and tickets.",
        subcommands: [Status.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a request to another status of its form's lifecycle: the history gets it with the note, and the e-mail goes out when the form notifies by e-mail.")

        @OptionGroup var tenantOption: TenantOption
        @OptionGroup var database: DatabaseOptions

        @Option(help: "Request number.")
        var id: Int64

        @Option(help: "New status (one of the form's lifecycle, or closed, completed, rejected, cancelled).")
        var status: String

        @Option(help: "Note for the customer, shown in the history and the e-mail.")
        var note: String?

        @Option(help: "Templates folder.")
        var templates: String = "templates"

        func run() async throws {
            try await withStaffServices(try tenantOption.load().definition, database, templates: templates) { tenant, services in
                do {
                    let request = try await MoveRequest(services: services)(tenant: tenant, acting: .staff, requestId: id, status: status, note: note)
                    print("request \(id) (\(request.form)) is now \(request.status)")
                } catch let refusal as UseCaseRefusal {
                    printError("error: \(refusal.message) [\(refusal.code)]")
                    throw ExitCode(1)
                }
            }
        }
    }
}
