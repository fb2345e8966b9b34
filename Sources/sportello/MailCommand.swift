import ArgumentParser
import Foundation
import SportelloCore
import SportelloMail
import SportelloStore

/// `sportello mail`: the outbox of each tenant, one message in full, or one delivery pass.
struct MailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mail",
        abstract: "List the e-mail outbox, print a message, or deliver what is due.",
        discussion: """
        Without SPORTELLO_SMTP_URL nothing is sent: mail stays in the outbox, and this command shows it \
        (--show ID prints a message with its link). With it, 'serve' delivers in the background and \
        --deliver runs one pass from here.

        SPORTELLO_SMTP_URL: smtp://host:25, smtp://user:password@host:587?starttls=required or \
        smtps://user:password@host:465 (add tls_verify=false for a development relay with its own certificate).

        SPORTELLO_MAIL_FROM: the sender address (default: Sportello <no-reply@sportello.localhost>); \
        messages carry the tenant's name.
        """)

    @OptionGroup var definitions: DefinitionOptions
    @OptionGroup var database: DatabaseOptions

    @Option(help: "Only this tenant (required with --show).")
    var tenant: String?

    @Option(help: "Only mail in this state: pending, sent or failed.")
    var status: String?

    @Option(help: "At most this many messages per tenant, newest first.")
    var limit: Int = 20

    @Option(help: "Print this message in full: headers, text and HTML.")
    var show: Int64?

    @Flag(help: "Deliver what is due now through SPORTELLO_SMTP_URL, then list.")
    var deliver = false

    func validate() throws {
        if let status, OutboxStatus(rawValue: status) == nil {
            throw ValidationError("--status must be pending, sent or failed")
        }
        if show != nil && tenant == nil { throw ValidationError("--show needs --tenant") }
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
    }

    func run() async throws {
        let loaded = try definitions.load()
        let tenants = try loaded.definitions(only: tenant)
        let smtp: SMTPConfiguration?
        do {
            smtp = try SMTPConfiguration.fromEnvironment()
        } catch let error as MailConfigurationError {
            throw ValidationError(error.message)
        }
        try await withDatabase(database) { db in
            try await db.requireMigrated()
            if let show, let tenant = tenants.first {
                try await printMessage(show, tenant: tenant, db: db)
                return
            }
            if deliver {
                guard let smtp else { throw ValidationError("--deliver needs SPORTELLO_SMTP_URL (e.g. smtp://127.0.0.1:1025)") }
                let names = Dictionary(uniqueKeysWithValues: tenants.map { ($0.id, $0.name) })
                let worker = MailDeliveryWorker(database: db, smtp: smtp, tenants: { Array(names.keys).sorted() },
                                                senderName: { names[$0] })
                let report = await worker.deliverDue()
                print("delivery through \(smtp): \(report)")
                if !report.tenantErrors.isEmpty { throw ExitCode(1) }
            } else if smtp == nil {
                print("SPORTELLO_SMTP_URL is not set: mail stays in the outbox.")
            }
            for tenant in tenants {
                try await printOutbox(tenant: tenant, db: db)
            }
        }
    }

    private func printOutbox(tenant: TenantDefinition, db: Database) async throws {
        let (status, limit) = (self.status.flatMap(OutboxStatus.init(rawValue:)), self.limit)
        let mails = try await db.read(tenant: tenant.id) { try await $0.outbox(status: status, limit: limit) }
        guard !mails.isEmpty || self.tenant != nil else { return }
        print("\(tenant.id): \(tenant.name) — \(mails.isEmpty ? "no mail" : "\(mails.count) message(s), newest first")\(status.map { " (\($0.rawValue))" } ?? "")")
        for mail in mails {
            var state = mail.status.rawValue
            switch mail.status {
            case .sent: state += " \(Self.time(mail.sentAt ?? mail.createdAt))"
            case .pending: state += mail.attempts == 0 ? "" : ", attempt \(mail.attempts), next \(Self.time(mail.nextAttemptAt))"
            case .failed: state += " after \(mail.attempts) attempt(s)"
            }
            print("  #\(mail.id ?? 0)  \(Self.time(mail.createdAt))  \(mail.kind)  to \(mail.recipient)  [\(state)]")
            print("      \(mail.subject)")
            if let error = mail.lastError, mail.status != .sent { print("      last error: \(error)") }
        }
    }

    private func printMessage(_ id: Int64, tenant: TenantDefinition, db: Database) async throws {
        // The outbox is listed newest first; a message older than the newest 100,000 is not looked for.
        let mail = try await db.read(tenant: tenant.id) { try await $0.outbox(limit: 100_000).first { $0.id == id } }
        guard let mail else { throw ValidationError("\(tenant.id) has no mail #\(id)") }
        print("""
            Outbox:   \(tenant.id) #\(id) (\(mail.kind))
            Status:   \(mail.status.rawValue), \(mail.attempts) attempt(s)\(mail.sentAt.map { ", sent \(Self.time($0))" } ?? "")
            Created:  \(Self.time(mail.createdAt))
            To:       \(mail.recipient)
            Subject:  \(mail.subject)
            """)
        if let error = mail.lastError { print("Error:    \(error)") }
        print("\n\(mail.bodyText)")
        if let html = mail.bodyHtml { print("--- HTML (\(html.utf8.count) bytes) ---\n\(html)") }
    }

    private static func time(_ seconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
