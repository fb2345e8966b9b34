import Foundation
import Testing
import SportelloCore
import SportelloTestSupport
@testable import SportelloStore
@testable import SportelloWeb

/// The platform's retention policy (`RetentionPolicy`, `PlatformRetentionJob`): rows aged past their limit go, in
/// batches, audited; the rest, other tenants and billing data stay; a dry run only counts.
@Suite("Platform retention")
struct PlatformRetentionTests {
    static let day: Int64 = 86_400
    /// The record retention suite's clock (21 November 2026, noon in Rome), so its dated documents age the same way.
    static let now = RecordRetentionJobTests.now
    static var instant: Int64 { Int64(now.timeIntervalSince1970) }

    /// Stores, in `tenant`, one row past the policy and one within it for every category (five expired sessions, to
    /// take several batches), an old invoice, and an old and a recent document of the purging record kind.
    static func seed(_ database: Database, _ tenant: TenantDefinition) async throws {
        let now = instant
        @Sendable func hash() -> String { UUID().uuidString }
        try await RecordRetentionJobTests.documents(database, tenant, ["OLD-DOC": "2023-03-01", "NEW-DOC": "2026-10-01"])
        try await database.write(tenant: tenant.id, now: now) { t in
            let customer = try await t.insertCustomer(CustomerRecord(customerType: "privato", customerCode: "R-\(hash().prefix(6))",
                                                                     firstName: "Anna", lastName: "Verdi", createdAt: now - 400 * day))
            let user = try await t.insertUser(UserRecord(customerId: customer, username: "anna", usernameKey: "anna",
                                                         email: "anna@example.it", role: "admin", createdAt: now - 400 * day))
            for _ in 0..<5 {
                try await t.insertSession(SessionRecord(tokenHash: hash(), userId: user, createdAt: now - 9 * day, lastSeenAt: now - 9 * day,
                                                        expiresAt: now - 8 * day, csrfTokenHash: hash()))
            }
            try await t.insertSession(SessionRecord(tokenHash: hash(), userId: user, createdAt: now - 2 * day, lastSeenAt: now - 2 * day,
                                                    expiresAt: now - day, csrfTokenHash: hash()))
            try await t.insertSession(SessionRecord(tokenHash: hash(), userId: user, createdAt: now, lastSeenAt: now,
                                                    expiresAt: now + day, csrfTokenHash: hash()))
            try await t.insertToken(OneTimeTokenRecord(userId: user, purpose: "password_reset", tokenHash: hash(), createdAt: now - 9 * day,
                                                       expiresAt: now - 8 * day, usedAt: now - 9 * day))
            try await t.insertToken(OneTimeTokenRecord(userId: user, purpose: "password_reset", tokenHash: hash(), createdAt: now,
                                                       expiresAt: now + 3600))
            try await t.insertFlowState(FlowStateRecord(tokenHash: hash(), flow: "recovery", data: "{}", createdAt: now - 9 * day,
                                                        updatedAt: now - 9 * day, expiresAt: now - 8 * day))
            try await t.insertFlowState(FlowStateRecord(tokenHash: hash(), flow: "recovery", data: "{}", createdAt: now - 2 * day,
                                                        updatedAt: now - 2 * day, expiresAt: now - day))
            try await t.insertInvitation(InvitationRecord(customerId: customer, email: "luca@example.it", username: "luca", role: "user",
                                                          tokenHash: hash(), createdAt: now - 100 * day, expiresAt: now - 91 * day))
            try await t.insertInvitation(InvitationRecord(customerId: customer, email: "sara@example.it", username: "sara", role: "user",
                                                          tokenHash: hash(), createdAt: now - 20 * day, expiresAt: now - 10 * day))
            for (created, status) in [(now - 31 * day, OutboxStatus.sent), (now - 31 * day, .pending), (now - day, .sent)] {
                try await t.enqueueMail(OutboxRecord(createdAt: created, kind: "password_reset", recipient: "anna@example.it",
                                                     subject: "Reimposta la password", bodyText: "https://x.example/r/secret", status: status))
            }
            for (created, status) in [(now - 31 * day, SMSStatus.sent), (now - 31 * day, .pending), (now - day, .failed)] {
                try await t.enqueueSMS(SMSRecord(createdAt: created, eventId: 1, rule: "r", plugin: "sms_sink", sandbox: true,
                                                 recipient: "+393331234567", body: "Ciao", locale: "it", status: status))
            }
            try await t.insertInvoice(InvoiceRecord(customerId: customer, number: "F-2015-1", issuedOn: "2015-01-31", dueOn: "2015-02-28",
                                                    netCents: 1000, taxCents: 220, totalCents: 1220, status: .paid))
        }
        // Audit entries and events carry their transaction's time; events handed out with no consumer are settled.
        for (age, action) in [(366 * day, "test.old"), (10 * day, "test.recent")] {
            try await database.write(tenant: tenant.id, now: now - age) { try await $0.audit(action, targetKind: "test") }
        }
        for age in [31 * day, day] {
            try await database.write(tenant: tenant.id, now: now - age) { t in
                try await t.recordEvent(EventDraft(.requestCreated, customerId: nil, subject: "request", id: 1, facts: [:]))
                _ = try await t.fanOutEvents { _ in [] }
            }
        }
    }

    static func counts(_ database: Database, _ tenant: String) async throws -> [String: Int] {
        try await database.read(tenant: tenant) { t in
            Dictionary(try await t.rowCounts().map { ($0.0.rawValue, $0.1) }, uniquingKeysWith: +)
        }
    }

    /// What one pass deletes from the seeded rows, per category.
    static let expected: [String: Int] = ["sessions": 5, "tokens": 1, "flows": 1, "invitations": 1, "mail": 1, "sms": 1,
                                          "events": 1, "audit": 1, "records.certificates": 1]

    @Test("a dry run counts and deletes nothing; a pass deletes exactly the aged rows in batches, audits counts only, and leaves the rest, billing data and other tenants alone; the next pass finds nothing",
          arguments: TestEngine.available)
    func passDeletesAgedRowsOnly(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = try RecordRetentionJobTests.tenant(deleteAfter: "2y")
            let other = try RecordRetentionJobTests.tenant(deleteAfter: "2y")
            try await Self.seed(database, tenant)
            try await Self.seed(database, other)
            let before = try await Self.counts(database, tenant.id), otherBefore = try await Self.counts(database, other.id)
            let logs = LogCapture()
            let job = PlatformRetentionJob(database: database, tenants: TenantDirectory { [tenant] }, policy: RetentionPolicy(batchSize: 2),
                                           clock: ManualWallClock(Self.now), logger: logs.logger)

            let dry = await job.purge(dryRun: true)
            #expect(dry.dryRun && dry.failed.isEmpty)
            #expect(dry.deleted == [tenant.id: Self.expected])
            #expect(try await Self.counts(database, tenant.id) == before, "a dry run deletes nothing")

            let report = await job.purge()
            #expect(report.failed.isEmpty && !report.dryRun)
            #expect(report.deleted == [tenant.id: Self.expected], "the pass deletes what the dry run counted")
            let after = try await Self.counts(database, tenant.id)
            let gone: [String: Int] = ["sessions": 5, "one_time_tokens": 1, "flow_states": 1, "invitations": 1, "outbox": 1, "sms_outbox": 1,
                                       "events": 1, "records": 1, "record_field_values": before["record_field_values", default: 0] / 2]
            for (table, count) in before {
                // The audit lost its old entry and gained the pass's own.
                #expect(after[table] == count - gone[table, default: 0], "\(table)")
            }
            #expect(after["invoices"] == 1, "billing data is never deleted by the policy")
            #expect(try await Self.counts(database, other.id) == otherBefore, "another tenant is untouched")

            let audit = try await database.read(tenant: tenant.id) { try await $0.auditLog() }
            #expect(Set(audit.map(\.action)) == [PlatformRetentionJob.auditAction, "test.recent"])
            let entry = try #require(audit.first { $0.action == PlatformRetentionJob.auditAction })
            #expect(entry.detail == "audit=1 events=1 flows=1 invitations=1 mail=1 records.certificates=1 sessions=5 sms=1 tokens=1")
            let logged = logs.lines.joined(separator: "\n")
            #expect(logged.contains("expired data deleted") && logged.contains("tenant=\(tenant.id)"))
            for personal in ["anna", "Verdi", "3331234567", "secret", "OLD-DOC"] { #expect(!logged.contains(personal)) }

            // What is left is within the policy: the next pass deletes and audits nothing.
            let again = await job.purge()
            #expect(again.deleted.isEmpty && again.failed.isEmpty)
            #expect(try await Self.counts(database, tenant.id) == after)
        }
    }

    @Test("limits come from the policy: a pass a year later takes what had been kept", arguments: TestEngine.available)
    func policyLimitsApply(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = try RecordRetentionJobTests.tenant(deleteAfter: "2y")
            try await Self.seed(database, tenant)
            let later = Date(timeIntervalSince1970: Self.now.timeIntervalSince1970 + 400 * 86_400)
            let counted = try await database.applyRetention(tenant: tenant.id, now: Int64(later.timeIntervalSince1970), dryRun: true)
            // Every session, token, flow, invitation, audit entry and settled event has aged out by then (the events
            // include the two documents' `record` events, handed out with the others); pending mail and SMS stay.
            #expect(counted == [.sessions: 7, .tokens: 2, .flows: 2, .invitations: 2, .mail: 2, .sms: 2, .events: 4, .audit: 2])
            let job = PlatformRetentionJob(database: database, tenants: TenantDirectory { [tenant] }, clock: ManualWallClock(later), logger: LogCapture().logger)
            let report = await job.purge()
            #expect(report.deleted[tenant.id]?["mail"] == 2)
            let pending = try await database.read(tenant: tenant.id) { try await $0.outbox() }
            #expect(pending.map(\.status) == [.pending], "pending mail is never deleted, however old")
        }
    }
}
