import ArgumentParser
import Foundation
import SportelloApplication
import SportelloCore
import SportelloStore
import SportelloWeb

/// `sportello sms`: the SMS outbox of each tenant (what the notification rules queued), or one delivery pass.
struct SMSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sms",
        abstract: "List the SMS outbox, or deliver what is due through the tenants' sms plugins.",
        discussion: """
        Numbers are shown by their last three digits and texts only while pending (both are removed once sent). \
        Messages sent through a sandbox plugin (plugins/sms_sink.yaml) are marked SANDBOX: no phone received them. \
        --deliver runs one pass with the plugins connected by the environment (SPORTELLO_SMS_URL, SPORTELLO_SMS_API_KEY \
        for the sandbox sink); 'serve' delivers in the background. A message still not taken after its plugin's \
        retry: max_attempts is dead (number and text kept): --requeue-dead puts the dead ones back in the queue.
        """)

    @OptionGroup var definitions: DefinitionOptions
    @OptionGroup var database: DatabaseOptions

    @Option(help: "Only this tenant.")
    var tenant: String?

    @Option(help: "Only SMS in this state: pending, sent, failed or dead.")
    var status: String?

    @Option(help: "At most this many messages per tenant, newest first.")
    var limit: Int = 20

    @Flag(help: "Deliver what is due now, then list.")
    var deliver = false

    @Flag(help: "Put the dead SMS (given up after the plugin's retry: max_attempts) back in the queue, before delivering.")
    var requeueDead = false

    func validate() throws {
        if let status, SMSStatus(rawValue: status) == nil { throw ValidationError("--status must be pending, sent, failed or dead") }
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
    }

    func run() async throws {
        let loaded = try definitions.load()
        let tenants = try loaded.definitions(only: tenant)
        let gateways = SMSGateways(plugins: loaded.plugins)
        try await withDatabase(database) { db in
            try await db.requireMigrated()
            if requeueDead {
                for tenant in tenants {
                    let count = try await db.write(tenant: tenant.id) { try await $0.requeueDeadSMS() }
                    if count > 0 { print("\(tenant.id): \(count) dead SMS back in the queue") }
                }
            }
            if deliver {
                let ids = tenants.map(\.id)
                let report = await SMSDeliveryWorker(database: db, gateways: gateways, tenants: { ids }).deliverDue()
                print("sms delivery: \(report)")
                for (id, reason) in gateways.unavailable.sorted(by: { $0.key < $1.key }) { print("sms: \(id) not connected (\(reason))") }
                if !report.tenantErrors.isEmpty { throw ExitCode(1) }
            }
            let (status, limit) = (self.status.flatMap(SMSStatus.init(rawValue:)), self.limit)
            for tenant in tenants {
                let messages = try await db.read(tenant: tenant.id) { try await $0.smsOutbox(status: status, limit: limit) }
                guard !messages.isEmpty || self.tenant != nil else { continue }
                print("\(tenant.id): \(tenant.name) — \(messages.isEmpty ? "no SMS" : "\(messages.count) SMS, newest first")")
                for sms in messages {
                    let state = sms.status == .pending && sms.attempts > 0 ? "pending, attempt \(sms.attempts)" : sms.status.rawValue
                    print("  #\(sms.id ?? 0)  event \(sms.eventId)  \(sms.rule)  to \(sms.recipientHint) via \(sms.plugin)"
                          + "\(sms.sandbox ? " (SANDBOX: no phone received it)" : "")  [\(state)]")
                    if sms.status == .pending || sms.status == .dead { print("      \(sms.body)") }
                    if let error = sms.lastError, sms.status != .sent { print("      last error: \(error)") }
                }
            }
        }
    }
}
