import Foundation
import Synchronization
import Testing
import SportelloCore
import SportelloStore
@testable import SportelloMail

// MARK: - Helpers

let sender = MailAddress("no-reply@sportello.localhost", name: "Sportello")

func makeWorker(_ database: Database, transport: any MailTransport, tenants: [String], clock: any WallClock,
                senderName: String? = nil) -> MailDeliveryWorker {
    MailDeliveryWorker(database: database, transport: transport, from: sender, tenants: { tenants },
                       senderName: { _ in senderName }, clock: clock, random: FixedRandom(byte: 0),
                       settings: .init(pollInterval: .seconds(3600)))
}

func seconds(_ clock: any WallClock) -> Int64 { Int64(clock.now().timeIntervalSince1970) }

/// Queues a password-reset e-mail per recipient in one transaction of `tenant` (rendered with the shipped
/// templates for Unogas under another id); returns the outbox ids.
@discardableResult
func enqueue(_ database: Database, tenant: String, recipients: [String], now: Int64) async throws -> [Int64] {
    let definition = renamed(try provider("unogas"), to: tenant)
    let templates = try shippedTemplateSet.get()
    let mails = try recipients.map { recipient in
        try templates.compose(kind: "password_reset", tenant: definition, locale: "it", recipient: recipient,
                              values: ["link": "https://unogas.localhost:8080/reset?t=\(recipient.prefix(20))", "expires_on": "21/11/2026"],
                              createdAt: now)
    }
    return try await database.write(tenant: tenant, now: now) { transaction in
        var ids: [Int64] = []
        for mail in mails { ids.append(try await transaction.enqueueMail(mail)) }
        return ids
    }
}

func outbox(_ database: Database, tenant: String) async throws -> [Int64: OutboxRecord] {
    let rows = try await database.read(tenant: tenant) { try await $0.outbox(limit: 1000) }
    return Dictionary(uniqueKeysWithValues: rows.map { ($0.id!, $0) })
}

/// A relay in memory: refuses `reject…` recipients (550) and defers `defer…` ones (451); with `gate`
/// closed it holds every message until the test opens it.
final class ScriptedTransport: MailTransport {
    private let state = Mutex<(sent: [MailMessage], inFlight: Int, gateOpen: Bool)>(([], 0, true))

    init(gateOpen: Bool = true) {
        state.withLock { $0.gateOpen = gateOpen }
    }

    var sent: [MailMessage] { state.withLock { $0.sent } }
    var inFlight: Int { state.withLock { $0.inFlight } }
    func open() { state.withLock { $0.gateOpen = true } }

    func send(_ messages: [MailMessage], report: (Int, MailDeliveryError?) async -> Bool) async {
        for (index, message) in messages.enumerated() {
            state.withLock { $0.inFlight += 1 }
            while !state.withLock({ $0.gateOpen }) { try? await Task.sleep(for: .milliseconds(10)) }
            let local = message.to.address.lowercased()
            var error: MailDeliveryError?
            if local.hasPrefix("reject") {
                error = MailDeliveryError(.rejectedPermanently, stage: .recipient, replyCode: 550, message: "5.1.1 mailbox unavailable")
            } else if local.hasPrefix("defer") {
                error = MailDeliveryError(.rejectedTemporarily, stage: .recipient, replyCode: 451, message: "4.3.0 try again later")
            } else {
                state.withLock { $0.sent.append(message) }
            }
            state.withLock { $0.inFlight -= 1 }
            guard await report(index, error) else { return }
        }
    }
}

func waitUntil(_ condition: () -> Bool, timeout: Duration = .seconds(10)) async throws {
    let started = ContinuousClock.now
    while !condition() {
        guard started.duration(to: .now) < timeout else { Issue.record("timed out waiting"); return }
        try await Task.sleep(for: .milliseconds(10))
    }
}

// MARK: - With the real SMTP server

@Suite("Mail delivery worker with a real SMTP server", .enabled(if: SinkEnvironment.enabled))
struct MailDeliveryWorkerSinkTests {
    @Test("Three mails queued in one transaction arrive once each and are marked sent", arguments: TestEngine.available)
    func deliversQueuedMail(engine: TestEngine) async throws {
        let sink = try SMTPSink.shared()
        try await engine.withDatabase { database in
            let tenant = uniqueTenant("unogas")
            let clock = ManualWallClock(fixedDate)
            let recipients = (0..<3).map { _ in uniqueRecipient() }
            let ids = try await enqueue(database, tenant: tenant, recipients: recipients, now: seconds(clock))
            let worker = makeWorker(database, transport: SMTPClient(configuration: try sink.configuration()), tenants: [tenant],
                                    clock: clock, senderName: "Unogas Energia")

            let report = await worker.deliverDue()
            #expect(Set(report.sent.map(\.id)) == Set(ids))
            #expect(report.deferred.isEmpty && report.failed.isEmpty && report.tenantErrors.isEmpty)
            for (recipient, id) in zip(recipients, ids) {
                let received = try await sink.waitForMessages(to: recipient)
                #expect(received.count == 1)
                let mail = try #require(received.first)
                #expect(mail.subject == "Reimposta la password – Unogas Energia")
                #expect(mail.messageId == "<outbox-\(id).\(tenant)@sportello.localhost>")
                #expect(mail.header("From") == "Unogas Energia <no-reply@sportello.localhost>")
                #expect(mail.firstLink == "https://unogas.localhost:8080/reset?t=\(recipient.prefix(20))")
                #expect(mail.html?.contains("#f39200") == true)
            }
            let rows = try await outbox(database, tenant: tenant)
            for id in ids {
                #expect(rows[id]?.status == .sent)
                #expect(rows[id]?.sentAt == seconds(clock))
                #expect(rows[id]?.attempts == 1)
                #expect(rows[id]?.lastError == nil)
            }
            #expect(await worker.deliverDue().isEmpty)
            for recipient in recipients { #expect(try sink.messages(to: recipient).count == 1) }
        }
    }

    @Test("Relay down: the mail stays pending and is delivered exactly once after the back-off, when the relay is up",
          arguments: TestEngine.available)
    func relayDownThenUp(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = uniqueTenant("unogas")
            let clock = ManualWallClock(fixedDate)
            let recipient = uniqueRecipient()
            let port = try freePort()
            let id = try #require(try await enqueue(database, tenant: tenant, recipients: [recipient], now: seconds(clock)).first)
            let worker = makeWorker(database, transport: SMTPClient(configuration: try SMTPConfiguration(url: "smtp://127.0.0.1:\(port)")),
                                    tenants: [tenant], clock: clock)

            let down = await worker.deliverDue()
            #expect(down.deferred.map(\.id) == [id])
            var row = try #require(try await outbox(database, tenant: tenant)[id])
            #expect(row.status == .pending)
            #expect(row.attempts == 1)
            #expect(row.lastError?.hasPrefix("connection_failed (connect)") == true, "\(row.lastError ?? "nil")")
            #expect(row.lastError?.contains(recipient) == false)
            #expect(row.nextAttemptAt == seconds(clock) + 30)
            #expect(await worker.deliverDue().isEmpty, "retried before the back-off")

            let sink = try await SMTPSink.start(port: port)
            defer { sink.stop() }
            clock.advance(by: 29)
            #expect(await worker.deliverDue().isEmpty, "retried before the back-off")
            clock.advance(by: 1)
            let up = await worker.deliverDue()
            #expect(up.sent.map(\.id) == [id])
            row = try #require(try await outbox(database, tenant: tenant)[id])
            #expect(row.status == .sent)
            #expect(row.attempts == 2)
            #expect(row.sentAt == seconds(clock))
            clock.advance(by: 3600)
            #expect(await worker.deliverDue().isEmpty)
            #expect(try await sink.waitForMessages(to: recipient).count == 1)
            try await Task.sleep(for: .milliseconds(200))
            #expect(try sink.messages(to: recipient).count == 1)
        }
    }

    @Test("A mail queued in a transaction that rolls back is never sent", arguments: TestEngine.available)
    func rolledBackMailIsNeverSent(engine: TestEngine) async throws {
        struct Abort: Error {}
        let sink = try SMTPSink.shared()
        try await engine.withDatabase { database in
            let tenant = uniqueTenant("unogas")
            let clock = ManualWallClock(fixedDate)
            let recipient = uniqueRecipient()
            let mail = OutboxRecord(createdAt: seconds(clock), kind: "password_reset", recipient: recipient, subject: "Mai",
                                    bodyText: "mai\n")
            await #expect(throws: Abort.self) {
                try await database.write(tenant: tenant, now: seconds(clock)) { transaction in
                    try await transaction.enqueueMail(mail)
                    throw Abort()
                }
            }
            let worker = makeWorker(database, transport: SMTPClient(configuration: try sink.configuration()), tenants: [tenant], clock: clock)
            #expect(await worker.deliverDue().isEmpty)
            #expect(try await outbox(database, tenant: tenant).isEmpty)
            try await Task.sleep(for: .milliseconds(200))
            #expect(try sink.messages(to: recipient).isEmpty)
        }
    }

    @Test("The worker of tenant A does not send tenant B's mail", arguments: TestEngine.available)
    func tenantIsolation(engine: TestEngine) async throws {
        let sink = try SMTPSink.shared()
        try await engine.withDatabase { database in
            let tenantA = uniqueTenant("unogas"), tenantB = uniqueTenant("tim")
            let clock = ManualWallClock(fixedDate)
            let recipientA = uniqueRecipient(), recipientB = uniqueRecipient()
            let idA = try #require(try await enqueue(database, tenant: tenantA, recipients: [recipientA], now: seconds(clock)).first)
            let idB = try #require(try await enqueue(database, tenant: tenantB, recipients: [recipientB], now: seconds(clock)).first)
            let worker = makeWorker(database, transport: SMTPClient(configuration: try sink.configuration()), tenants: [tenantA], clock: clock)

            let report = await worker.deliverDue()
            #expect(report.sent == [OutboxReport.Row(tenant: tenantA, id: idA)])
            #expect(try await sink.waitForMessages(to: recipientA).count == 1)
            let rowB = try #require(try await outbox(database, tenant: tenantB)[idB])
            #expect(rowB.status == .pending && rowB.attempts == 0)
            #expect(try sink.messages(to: recipientB).isEmpty)
        }
    }

    @Test("A permanent refusal (550) marks the mail failed with the reply, and it is not retried", arguments: TestEngine.available)
    func permanentRefusal(engine: TestEngine) async throws {
        let sink = try SMTPSink.shared()
        try await engine.withDatabase { database in
            let tenant = uniqueTenant("unogas")
            let clock = ManualWallClock(fixedDate)
            let recipient = uniqueRecipient("reject")
            let id = try #require(try await enqueue(database, tenant: tenant, recipients: [recipient], now: seconds(clock)).first)
            let worker = makeWorker(database, transport: SMTPClient(configuration: try sink.configuration()), tenants: [tenant], clock: clock)
            #expect(await worker.deliverDue().failed.map(\.id) == [id])
            let row = try #require(try await outbox(database, tenant: tenant)[id])
            #expect(row.status == .failed)
            #expect(row.lastError?.contains("550") == true && row.lastError?.contains("mailbox unavailable") == true)
            clock.advance(by: 7200)
            #expect(await worker.deliverDue().isEmpty)
        }
    }
}

// MARK: - With a relay in memory

@Suite("Mail delivery worker")
struct MailDeliveryWorkerTests {
    @Test("Outcomes: accepted → sent, 550 → failed, 451 → pending with a 30 s back-off", arguments: TestEngine.available)
    func outcomes(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = uniqueTenant("unogas")
            let clock = ManualWallClock(fixedDate)
            let ids = try await enqueue(database, tenant: tenant, recipients: [uniqueRecipient(), uniqueRecipient("reject"), uniqueRecipient("defer")],
                                        now: seconds(clock))
            let transport = ScriptedTransport()
            let report = await makeWorker(database, transport: transport, tenants: [tenant], clock: clock).deliverDue()
            #expect(report.sent.map(\.id) == [ids[0]])
            #expect(report.failed.map(\.id) == [ids[1]])
            #expect(report.deferred.map(\.id) == [ids[2]])
            let rows = try await outbox(database, tenant: tenant)
            #expect(rows[ids[0]]?.status == .sent)
            #expect(rows[ids[1]]?.status == .failed)
            #expect(rows[ids[1]]?.lastError == "rejected_permanently (rcpt_to): 550 5.1.1 mailbox unavailable")
            #expect(rows[ids[2]]?.status == .pending)
            #expect(rows[ids[2]]?.attempts == 1)
            #expect(rows[ids[2]]?.nextAttemptAt == seconds(clock) + 30)
            #expect(rows[ids[2]]?.lastError == "rejected_temporarily (rcpt_to): 451 4.3.0 try again later")
        }
    }

    @Test("Back-off doubles from 30 s, stops at an hour, and adds at most 10 % jitter")
    func backOff() async throws {
        try await TestEngine.sqlite.withDatabase { database in
            let low = makeWorker(database, transport: ScriptedTransport(), tenants: [], clock: SystemWallClock())
            #expect((1...9).map { low.retryDelay(afterAttempt: $0) } == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600])
            let high = MailDeliveryWorker(database: database, transport: ScriptedTransport(), from: sender, tenants: { [] },
                                          random: FixedRandom(byte: 0xFF))
            #expect(high.retryDelay(afterAttempt: 1) == 32)
            #expect(high.retryDelay(afterAttempt: 40) == 3599 + 360)
        }
    }

    @Test("A row being sent is leased: a second pass meanwhile leaves it alone", arguments: TestEngine.available)
    func leaseKeepsRowsFromASecondPass(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = uniqueTenant("unogas")
            let clock = ManualWallClock(fixedDate)
            let id = try #require(try await enqueue(database, tenant: tenant, recipients: [uniqueRecipient()], now: seconds(clock)).first)
            let slow = ScriptedTransport(gateOpen: false), other = ScriptedTransport()
            let first = makeWorker(database, transport: slow, tenants: [tenant], clock: clock)
            let second = makeWorker(database, transport: other, tenants: [tenant], clock: clock)
            let pass = Task { await first.deliverDue() }
            try await waitUntil { slow.inFlight == 1 }
            clock.advance(by: 60)
            #expect(await second.deliverDue().isEmpty)
            slow.open()
            #expect(await pass.value.sent.map(\.id) == [id])
            #expect(other.sent.isEmpty)
            // After the lease a row that was never recorded (a crash mid-send) is taken again.
            let crashed = try await enqueue(database, tenant: tenant, recipients: [uniqueRecipient()], now: seconds(clock))
            _ = try await database.write(tenant: tenant, now: seconds(clock)) { transaction in
                var mail = try #require(try await transaction.dueMail().first)
                mail.attempts += 1
                mail.nextAttemptAt = transaction.now + 120
                try await transaction.updateMail(mail)
            }
            #expect(await second.deliverDue().isEmpty)
            clock.advance(by: 120)
            #expect(await second.deliverDue().sent.map(\.id) == crashed)
        }
    }

    @Test("On shutdown the message being sent is recorded and the other claimed rows are given back", arguments: TestEngine.available)
    func shutdownReleasesClaimedRows(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = uniqueTenant("unogas")
            let clock = ManualWallClock(fixedDate)
            let ids = try await enqueue(database, tenant: tenant, recipients: (0..<3).map { _ in uniqueRecipient() }, now: seconds(clock))
            let slow = ScriptedTransport(gateOpen: false)
            let worker = makeWorker(database, transport: slow, tenants: [tenant], clock: clock)
            let pass = Task { await worker.deliverDue() }
            try await waitUntil { slow.inFlight == 1 }
            worker.stop()
            slow.open()
            let report = await pass.value
            #expect(report.sent.map(\.id) == [ids[0]])
            let rows = try await outbox(database, tenant: tenant)
            #expect(rows[ids[0]]?.status == .sent)
            for id in ids.dropFirst() {
                #expect(rows[id]?.status == .pending)
                #expect(rows[id]?.attempts == 0)
                #expect(rows[id]?.nextAttemptAt == seconds(clock))
            }
        }
    }

    @Test("run() delivers at once after wake() instead of waiting for the next poll, and stops when cancelled",
          arguments: TestEngine.available)
    func wakeAndRun(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = uniqueTenant("unogas")
            let clock = ManualWallClock(fixedDate)
            let transport = ScriptedTransport()
            let worker = makeWorker(database, transport: transport, tenants: [tenant], clock: clock)
            let service = Task { try await worker.run() }
            try await Task.sleep(for: .milliseconds(200))
            try await enqueue(database, tenant: tenant, recipients: [uniqueRecipient()], now: seconds(clock))
            worker.wake()
            try await waitUntil { transport.sent.count == 1 }
            #expect(transport.sent.count == 1)
            service.cancel()
            let stopped = Task {
                try? await service.value
                return true
            }
            #expect(await stopped.value)
        }
    }

    @Test("Two workers passing at the same time send each mail once", arguments: TestEngine.available)
    func concurrentWorkers(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = uniqueTenant("unogas")
            let clock = ManualWallClock(fixedDate)
            let ids = try await enqueue(database, tenant: tenant, recipients: (0..<10).map { _ in uniqueRecipient() }, now: seconds(clock))
            let one = ScriptedTransport(), two = ScriptedTransport()
            let first = makeWorker(database, transport: one, tenants: [tenant], clock: clock)
            let second = makeWorker(database, transport: two, tenants: [tenant], clock: clock)
            async let a = first.deliverDue()
            async let b = second.deliverDue()
            let reports = await [a, b]
            let check = {
                let sent = (one.sent + two.sent).map(\.messageID)
                #expect(sent.count == 10 && Set(sent).count == 10, "\(sent.count) messages for 10 mails")
                #expect(Set(reports.flatMap(\.sent).map(\.id)) == Set(ids))
            }
            check()
        }
    }
}
