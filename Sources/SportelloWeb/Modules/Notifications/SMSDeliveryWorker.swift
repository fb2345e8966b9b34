import Foundation
import Logging
import ServiceLifecycle
import SportelloApplication
import SportelloCore
import SportelloStore

/// What one SMS delivery pass did, by outbox row.
public typealias SMSDeliveryReport = OutboxReport

/// Delivers the SMS outbox through the tenants' sms plugins, like `MailDeliveryWorker` delivers mail: a `Service` for
/// `serve` (a pass every `pollInterval`) and `deliverDue(now:)` for tests.
///
/// Each pass, per tenant: a short transaction claims due rows under a lease (attempts + 1), the messages go out with no
/// transaction open, and each outcome is written in another short transaction: `sent` (number and text removed);
/// `failed` when the gateway refused the message for good; otherwise (gateway down, timeout, plugin not connected)
/// pending again after 30 s × 2^(attempts − 1), at most an hour, plus up to 10 % jitter, or as the plugin manifest's
/// `retry:` says. Without `max_attempts` a message is never given up; with it, a message still not taken after that
/// many attempts is `dead` with its number and text kept, listed by `sportello sms --status dead` and put back in the
/// queue by `sportello sms --requeue-dead`: never dropped. Logs name tenants, outbox ids and the number's last three digits, never the number or the text.
public final class SMSDeliveryWorker: Service {
    public typealias Settings = OutboxSettings

    private let database: Database
    private let gateways: SMSGateways
    private let tenants: @Sendable () async -> [String]
    private let clock: any WallClock
    private let random: any SecureRandomSource
    public let settings: Settings
    private let logger: Logger
    private let loop: WorkerLoop

    public init(database: Database, gateways: SMSGateways, tenants: @escaping @Sendable () async -> [String],
                clock: any WallClock = SystemWallClock(), random: any SecureRandomSource = SystemSecureRandom(),
                settings: Settings = Settings(), logger: Logger = Logger(label: "sportello.sms")) {
        self.database = database; self.gateways = gateways; self.tenants = tenants; self.clock = clock; self.random = random
        self.settings = settings; self.logger = logger
        loop = WorkerLoop(name: "sms delivery", logger: logger)
    }

    /// Starts a pass now instead of at the next poll.
    public func wake() { loop.wake() }

    public func stop() { loop.stop() }

    private var isStopping: Bool { loop.isStopping }

    public func run() async throws {
        await loop.run(every: settings.pollInterval, metadata: ["gateways": "\(gateways.gateways.keys.sorted().joined(separator: ","))"]) { await deliverDue() }
    }

    private func instant(_ fixed: Date?) -> Int64 { Int64((fixed ?? clock.now()).timeIntervalSince1970.rounded(.down)) }

    /// One pass over every tenant: claims what is due at `now` (default: the clock), sends it, records it.
    public func deliverDue(now: Date? = nil) async -> SMSDeliveryReport {
        await loop.pass(over: await tenants(), into: SMSDeliveryReport()) { tenant, report in
            try await deliver(tenant: tenant, now: now, into: &report)
        }
    }

    private func deliver(tenant: String, now fixed: Date?, into report: inout SMSDeliveryReport) async throws {
        let lease = settings.lease, limit = settings.batchSize
        while !isStopping {
            let claimed = try await database.write(tenant: tenant, now: instant(fixed)) { transaction in
                try await transaction.claimDueSMS(limit: limit, lease: lease)
            }
            guard !claimed.isEmpty else { return }
            for sms in claimed {
                try await send(sms, tenant: tenant, now: fixed, into: &report)
            }
            if claimed.count < limit { return }
        }
    }

    private func send(_ claimed: SMSRecord, tenant: String, now fixed: Date?, into report: inout SMSDeliveryReport) async throws {
        var sms = claimed
        let reference = OutboxReport.Row(tenant: tenant, id: sms.id ?? 0)
        let metadata: Logger.Metadata = ["tenant": "\(tenant)", "sms": "\(sms.id ?? 0)", "to": "\(sms.recipientHint)",
                                         "plugin": "\(sms.plugin)", "attempt": "\(sms.attempts)"]
        do {
            guard let gateway = gateways[sms.plugin] else {
                throw SMSSendError(code: "not_connected", message: "the sms plugin \(sms.plugin) is not connected in this process")
            }
            sms.gatewayId = try await gateway.send(SMSSubmission(id: "\(tenant)-\(sms.id ?? 0)", to: sms.recipient, from: nil, text: sms.body))
            sms.status = .sent
            sms.sentAt = instant(fixed)
            sms.lastError = nil
            report.sent.append(reference)
            logger.debug("sms sent", metadata: metadata)
        } catch {
            let failure = error as? SMSSendError ?? SMSSendError(code: "error", message: String(describing: type(of: error)))
            let schedule = gateways[sms.plugin]?.retrySchedule(over: settings.schedule) ?? settings.schedule
            sms.lastError = String(failure.description.prefix(300))
            if failure.isPermanent {
                sms.status = .failed
                report.failed.append(reference)
                logger.warning("sms refused by the gateway", metadata: metadata.merging(["error": "\(failure.code)"]) { $1 })
            } else if schedule.givesUp(afterAttempt: sms.attempts) {
                sms.status = .dead
                sms.lastError = String("given up after \(sms.attempts) attempts (the plugin's retry: max_attempts); last: \(failure.description)".prefix(300))
                report.failed.append(reference)
                logger.warning("sms given up", metadata: metadata.merging(["error": "\(failure.code)"]) { $1 })
            } else {
                sms.nextAttemptAt = instant(fixed) + retryDelay(afterAttempt: sms.attempts, schedule: schedule)
                report.deferred.append(reference)
                logger.notice("sms deferred", metadata: metadata.merging(["error": "\(failure.code)", "next": "\(sms.nextAttemptAt)"]) { $1 })
            }
        }
        let outcome = sms
        try await database.write(tenant: tenant, now: instant(fixed)) { transaction in
            try await transaction.updateSMS(outcome)
        }
    }

    /// 30 s × 2^(attempt − 1), at most an hour, plus up to 10 % jitter (with the default settings; `schedule`: a
    /// plugin's own).
    public func retryDelay(afterAttempt attempt: Int, schedule: RetrySchedule? = nil) -> Int64 {
        (schedule ?? settings.schedule).delay(afterAttempt: attempt, jitter: random.jitter())
    }
}
