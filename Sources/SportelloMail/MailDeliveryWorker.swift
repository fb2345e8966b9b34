import Foundation
import Logging
import ServiceLifecycle
import SportelloCore
import SportelloStore

/// What one mail delivery pass did, by outbox row.
public typealias DeliveryReport = OutboxReport

/// Delivers the outbox: a `Service` for the server's `ServiceGroup` (a pass every `pollInterval`, and
/// at once after `wake()`), and `deliverDue(now:)` for tests and `sportello mail --deliver`.
///
/// Each pass, per tenant: one short write transaction claims due rows (attempts + 1, `next_attempt_at`
/// moved `lease` seconds ahead), the messages go out with no transaction open, and each outcome is
/// written in another short transaction. A crash mid-send leaves the row claimed until the lease ends,
/// then it is tried again; a second worker skips rows under lease.
///
/// Outcomes: accepted → `sent`; a 5xx refusal of the recipient or the message, or an address SMTP cannot
/// carry → `failed` with the reply in `last_error`; anything else (4xx, relay down, timeouts, TLS or AUTH
/// problems) → stays `pending`, retried after 30 s × 2^(attempts − 1), at most an hour, plus up to 10 %
/// jitter — never given up. Logs name tenants and outbox ids, never addresses or content.
public final class MailDeliveryWorker: Service {
    public typealias Settings = OutboxSettings

    private let database: Database
    private let transport: any MailTransport
    private let from: MailAddress
    private let tenants: @Sendable () async -> [String]
    private let senderName: @Sendable (String) -> String?
    private let clock: any WallClock
    private let random: any SecureRandomSource
    private let settings: Settings
    private let logger: Logger
    private let loop: WorkerLoop

    /// - Parameters:
    ///   - transport: the relay (`SMTPClient`).
    ///   - from: envelope sender and `From` address.
    ///   - tenants: the tenant ids to deliver for, asked at every pass (tenants come and go at run time).
    ///   - senderName: the `From` display name per tenant id (the tenant's name); nil keeps `from`'s.
    ///   - random: the jitter source.
    public init(database: Database, transport: any MailTransport, from: MailAddress,
                tenants: @escaping @Sendable () async -> [String],
                senderName: @escaping @Sendable (String) -> String? = { _ in nil },
                clock: any WallClock = SystemWallClock(), random: any SecureRandomSource = SystemSecureRandom(),
                settings: Settings = Settings(), logger: Logger = Logger(label: "sportello.mail")) {
        self.database = database; self.transport = transport; self.from = from; self.tenants = tenants
        self.senderName = senderName; self.clock = clock; self.random = random; self.settings = settings
        self.logger = logger
        loop = WorkerLoop(name: "mail delivery", logger: logger)
    }

    /// A worker sending through `SMTPClient` with `smtp`'s sender.
    public convenience init(database: Database, smtp: SMTPConfiguration, tenants: @escaping @Sendable () async -> [String],
                            senderName: @escaping @Sendable (String) -> String? = { _ in nil },
                            clock: any WallClock = SystemWallClock(), random: any SecureRandomSource = SystemSecureRandom(),
                            settings: Settings = Settings(), logger: Logger = Logger(label: "sportello.mail")) {
        self.init(database: database, transport: SMTPClient(configuration: smtp, logger: logger), from: smtp.from,
                  tenants: tenants, senderName: senderName, clock: clock, random: random, settings: settings, logger: logger)
    }

    /// Starts a pass now instead of at the next poll (call after committing a transaction that queued mail).
    public func wake() { loop.wake() }

    /// Ends `run()` after the message being sent, and makes passes under way stop there too.
    func stop() { loop.stop() }

    private var isStopping: Bool { loop.isStopping }

    /// Passes until the task is cancelled or the service group shuts down gracefully; a pass under way
    /// finishes the message it is sending, records it, and gives back the rows it claimed but did not send.
    public func run() async throws {
        await loop.run(every: settings.pollInterval) { await deliverDue() }
    }

    /// One pass over every tenant: claims what is due at `now` (default: the clock), sends it, records it.
    public func deliverDue(now: Date? = nil) async -> DeliveryReport {
        await loop.pass(over: await tenants(), into: DeliveryReport()) { tenant, report in
            try await deliver(tenant: tenant, now: now, into: &report)
        }
    }

    private func seconds(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970.rounded(.down)) }

    private func deliver(tenant: String, now fixed: Date?, into report: inout DeliveryReport) async throws {
        while !isStopping {
            let claimedAt = seconds(fixed ?? clock.now())
            let lease = settings.lease
            let limit = settings.batchSize
            let claimed = try await database.write(tenant: tenant, now: claimedAt) { transaction in
                try await transaction.claimDueMail(limit: limit, lease: lease)
            }
            guard !claimed.isEmpty else { return }
            logger.debug("claimed mail", metadata: ["tenant": "\(tenant)", "ids": "\(claimed.compactMap(\.id))"])
            try await send(claimed, tenant: tenant, now: fixed, into: &report)
            if claimed.count < limit { return }
        }
    }

    private func send(_ claimed: [OutboxRecord], tenant: String, now fixed: Date?, into report: inout DeliveryReport) async throws {
        let started = ContinuousClock.now
        let sender = MailAddress(from.address, name: senderName(tenant) ?? from.name)
        let messages = claimed.map { mail in
            MailMessage(from: sender, to: MailAddress(mail.recipient), subject: mail.subject, text: mail.bodyText,
                        html: mail.bodyHtml, date: fixed ?? clock.now(),
                        messageID: MailMessage.messageID(outboxID: mail.id ?? 0, tenant: tenant, host: sender.domain),
                        reference: "\(tenant)#\(mail.id ?? 0)")
        }
        var done = Set<Int>()
        var recordingError: (any Error)?
        let leaseLeft = Duration.seconds(settings.lease) - .seconds(5)
        await transport.send(messages) { index, error in
            done.insert(index)
            do {
                try await record(claimed[index], tenant: tenant, error: error, now: fixed, into: &report)
            } catch {
                recordingError = error
                return false
            }
            // Stop before the lease could run out (another worker would take the rows) or on shutdown.
            return !isStopping && started.duration(to: .now) < leaseLeft / 2
        }
        // Rows claimed but not attempted go back as they were.
        let untouched = claimed.indices.filter { !done.contains($0) }.map { index -> OutboxRecord in
            var mail = claimed[index]
            mail.attempts -= 1
            mail.nextAttemptAt = seconds(fixed ?? clock.now())
            return mail
        }
        if !untouched.isEmpty {
            try await database.write(tenant: tenant, now: seconds(fixed ?? clock.now())) { transaction in
                for mail in untouched { try await transaction.updateMail(mail) }
            }
            logger.debug("released unsent mail", metadata: ["tenant": "\(tenant)", "ids": "\(untouched.compactMap(\.id))"])
        }
        if let recordingError { throw recordingError }
    }

    private func record(_ claimed: OutboxRecord, tenant: String, error: MailDeliveryError?, now fixed: Date?,
                        into report: inout DeliveryReport) async throws {
        let now = seconds(fixed ?? clock.now())
        var mail = claimed
        let reference = OutboxReport.Row(tenant: tenant, id: mail.id ?? 0)
        let metadata: Logger.Metadata = ["tenant": "\(tenant)", "mail": "\(mail.id ?? 0)", "attempt": "\(mail.attempts)"]
        if let error {
            mail.lastError = error.description
            if error.isPermanent {
                mail.status = .failed
                report.failed.append(reference)
                logger.warning("mail refused for good", metadata: metadata.merging(["code": "\(error.code.rawValue)", "reply": "\(error.replyCode ?? 0)"]) { $1 })
            } else {
                mail.nextAttemptAt = now + retryDelay(afterAttempt: mail.attempts)
                report.deferred.append(reference)
                logger.notice("mail deferred", metadata: metadata.merging(["code": "\(error.code.rawValue)", "reply": "\(error.replyCode ?? 0)",
                                                                          "next": "\(mail.nextAttemptAt)"]) { $1 })
            }
        } else {
            mail.status = .sent
            mail.sentAt = now
            mail.lastError = nil
            report.sent.append(reference)
            logger.info("mail sent", metadata: metadata)
        }
        try await database.write(tenant: tenant, now: now) { [mail] transaction in
            try await transaction.updateMail(mail)
        }
    }

    /// 30 s × 2^(attempt − 1), at most an hour, plus up to 10 % jitter.
    func retryDelay(afterAttempt attempt: Int) -> Int64 {
        settings.schedule.delay(afterAttempt: attempt, jitter: random.jitter())
    }
}
