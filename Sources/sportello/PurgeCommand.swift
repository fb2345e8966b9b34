import ArgumentParser
import Foundation
import Logging
import SportelloCore
import SportelloStore
import SportelloWeb

/// `sportello purge`: one pass of the retention job that `serve` runs daily (`PlatformRetentionJob`).
struct PurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Delete what the retention policy no longer keeps (what 'serve' does once a day), and print what was deleted.",
        discussion: "The platform's policy: expired sessions, one-time tokens and flows (7 days after expiry), invitations "
            + "(90 days after expiry), sent or given-up mail and SMS (30 days), events delivered to every consumer (30 days), "
            + "audit entries (1 year); and each record kind's retention.delete_after. Invoices, payments and other billing data "
            + "are never deleted by the policy. Rows go in batches, a write transaction each; every tenant's pass that deleted "
            + "something is audited there as retention.purged with its counts. A tenant that fails is reported and the others "
            + "are purged all the same (the exit status is then 1). --dry-run deletes nothing and prints what would go.")

    @Flag(help: "Only count what would be deleted.")
    var dryRun = false

    @OptionGroup var selection: TenantSelection

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let (tenants, hadErrors) = try selection.load()
        let chosen = tenants, dryRun = dryRun
        let report = try await withDatabase(database) { db in
            try await db.requireMigrated()
            // Failures are printed below; the log keeps only their cause.
            var logger = Logger(label: "sportello.retention")
            logger.logLevel = .error
            return await PlatformRetentionJob(database: db, tenants: TenantDirectory { chosen }, logger: logger).purge(dryRun: dryRun)
        }
        let verb = dryRun ? "would delete" : "deleted"
        for tenant in chosen {
            let counts = report.deleted[tenant.id] ?? [:]
            if !counts.isEmpty {
                print("\(tenant.id): \(verb):")
                for (category, count) in counts.sorted(by: { $0.key < $1.key }) {
                    print("  \(category.padding(toLength: 24, withPad: " ", startingAt: 0)) \(count)")
                }
            }
            if report.failed.contains(tenant.id) {
                printError("\(tenant.id): error: the purge failed" + (counts.isEmpty ? "; nothing was deleted" : " part-way; the counts above were deleted"))
            } else if counts.isEmpty {
                print("\(tenant.id): nothing expired")
            }
        }
        print("\(report.total) row(s) \(dryRun ? "would be deleted (dry run: nothing was)" : "deleted")" + (report.failed.isEmpty ? "" : ", \(report.failed.count) tenant(s) failed"))
        if !report.failed.isEmpty || hadErrors { throw ExitCode(1) }
    }
}
