import ArgumentParser
import Foundation
import SportelloApplication
import SportelloCore
import SportelloMail
import SportelloStore
import SportelloWeb

/// Provider staff look at the portal's users.
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Look at the portal's users.",
        subcommands: [PendingActions.self])

    struct PendingActions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pending-actions",
            abstract: "List the users who have required actions pending: username, action, since when and why (no other personal data).")

        @OptionGroup var tenantOption: TenantOption
        @OptionGroup var database: DatabaseOptions

        @Option(help: "Templates folder.")
        var templates: String = "templates"

        func run() async throws {
            let definition = try tenantOption.load().definition
            try await withStaffServices(definition, database, templates: templates) { tenant, services in
                let users = try await RequiredActions(services: services, tenant: tenant).usersWithPending()
                guard !users.isEmpty else {
                    print("no user of \(definition.id) has a required action pending")
                    return
                }
                let rows = users.flatMap { user in
                    user.pending.map { [user.username, $0.id, $0.since.map { Self.date($0) } ?? "-", Self.reason($0)] }
                }
                print(Self.table(header: ["USERNAME", "ACTION", "SINCE", "REASON"], rows: rows))
            }
        }

        static func date(_ instant: Int64) -> String {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyy-MM-dd HH:mm'Z'"
            return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(instant)))
        }

        static func reason(_ pending: PendingRequiredAction) -> String {
            switch pending.reason {
            case .notCompleted: "never completed"
            case .expired: "expired" + (pending.lastCompletedAt.map { " (last \(date($0)))" } ?? "")
            case .newVersion: "new version" + (pending.lastVersion.map { " (accepted \($0)" + (pending.lastCompletedAt.map { " on \(date($0))" } ?? "") + ")" } ?? "")
            case .temporaryPassword: "temporary password"
            case .emailNotVerified: "e-mail not verified"
            }
        }

        /// Columns padded to their widest cell.
        static func table(header: [String], rows: [[String]]) -> String {
            let all = [header] + rows
            let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
            return all.map { row in
                row.enumerated().map { $0.offset == row.count - 1 ? $0.element : $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                    .joined(separator: "  ")
            }.joined(separator: "\n")
        }
    }
}
