import Foundation
import Logging
import Synchronization
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

/// The background job that applies `retention.delete_after` of the tenants' own record kinds: at start and then
/// every interval, per tenant, a failing tenant logged and skipped.
@Suite("Record retention job")
struct RecordRetentionJobTests {
    /// 21 November 2026, noon in Rome.
    static let now = Date(timeIntervalSince1970: TimeInterval(CalendarDay(year: 2026, month: 11, day: 21).startInstant + 12 * 3600))

    /// The example tenant with a kind of dated documents; `deleteAfter` nil keeps them for ever.
    static func tenant(deleteAfter: String?) throws -> TenantDefinition {
        var text = SchemaExport.exampleTenant
        for (old, new) in [
            ("\nsections:\n", "\nsections:\n  docs: {label: {it: Documenti, en: Documents}}\n"),
            ("\nfeatures:\n", "\nfeatures:\n  certificates.view: {label: Documenti, section: docs}\n"),
            ("grants: [invoices.view, invoices.pay]", "grants: [invoices.view, invoices.pay, certificates.view]"),
        ] {
            text = text.replacingOccurrences(of: old, with: new)
        }
        let retention = deleteAfter.map { "{visible_for: 1y, delete_after: \($0)}" } ?? "{visible_for: 1y}"
        text += """
        records:
          certificates:
            label: {it: Documento, en: Document}
            label_plural: {it: Documenti, en: Documents}
            section: docs
            external_id: number
            date: issued_on
            fields:
              number: {label: Numero, type: text}
              issued_on: {label: {it: Emesso il, en: Issued on}, type: date}
            retention: \(retention)
            access: [{feature: certificates.view, scope: all}]

        """
        let result = TenantLoader(capabilities: PortalModules.capabilities).load(sources: [(file: "example.yaml", text: text)])
        #expect(result.errors.map(\.description) == [])
        return renamed(try #require(result.tenants.first?.definition), to: uniqueTenant("retention"))
    }

    /// Stores documents numbered and dated as given (nil: undated) for a new customer of `tenant`.
    @discardableResult
    static func documents(_ database: Database, _ tenant: TenantDefinition, _ dated: [String: String?]) async throws -> Int64 {
        let kind = try #require(tenant.records?["certificates"])
        let context = FieldContext(locale: "it", tenant: tenant, today: CalendarDay(instant: Int64(now.timeIntervalSince1970)))
        return try await database.write(tenant: tenant.id) { transaction in
            let customer = try await transaction.insertCustomer(CustomerRecord(customerType: "privato", customerCode: "C-\(UUID().uuidString.prefix(6))",
                                                                               firstName: "Anna", lastName: "Verdi", createdAt: 0))
            for (number, day) in dated.sorted(by: { $0.key < $1.key }) {
                var entered = ["number": number]
                if let day { entered["issued_on"] = day }
                let values = try kind.validate(entered, in: context).get()
                try await transaction.upsertRecord(try #require(TenantRecordDraft(kind: "certificates", of: kind, values: values, customerId: customer)))
            }
            return customer
        }
    }

    static func numbers(_ database: Database, _ tenant: TenantDefinition, customer: Int64) async throws -> Set<String> {
        try await database.read(tenant: tenant.id) { transaction in
            Set(try await transaction.records(RecordQuery(kind: "certificates", customerId: customer, limit: 100)).items.map(\.externalId))
        }
    }

    /// Waits until `condition` holds (the job runs in the background), at most five seconds.
    static func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<100 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    @Test("one run deletes a record older than delete_after at once; a recent or undated one and another tenant's are kept; the next pass comes after the interval",
          arguments: TestEngine.available)
    func runDeletesExpired(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let purging = try Self.tenant(deleteAfter: "2y")
            let keeping = try Self.tenant(deleteAfter: nil)
            let mine = try await Self.documents(database, purging, ["OLD-1": "2023-03-01", "NEW-1": "2025-12-01", "UNDATED": nil])
            let theirs = try await Self.documents(database, keeping, ["OLD-1": "2023-03-01"])
            let logs = LogCapture()
            let job = RecordRetentionJob(database: database, tenants: TenantDirectory { [purging, keeping] }, clock: ManualWallClock(Self.now),
                                         interval: .milliseconds(300), logger: logs.logger)
            let running = Task { try await job.run() }
            #expect(try await Self.eventually { try await Self.numbers(database, purging, customer: mine) == ["NEW-1", "UNDATED"] },
                    "the first pass runs when the job starts")
            #expect(try await Self.numbers(database, keeping, customer: theirs) == ["OLD-1"], "a tenant whose kind deletes nothing keeps it")

            // A record that expires later is caught by the next pass, after the interval.
            let later = try await Self.documents(database, purging, ["OLD-2": "2020-01-01"])
            #expect(try await Self.eventually { try await Self.numbers(database, purging, customer: later).isEmpty }, "the next pass deletes it")
            running.cancel()
            try await running.value

            let lines = logs.lines
            #expect(lines.contains { $0.contains("expired records deleted") && $0.contains("tenant=\(purging.id)") && $0.contains("kind=certificates")
                && $0.contains("count=1") })
            #expect(!lines.contains { $0.contains("OLD-1") || $0.contains("Verdi") || $0.contains("2023-03-01") }, "no record data in the logs")
            #expect(!lines.contains { $0.contains(keeping.id) && $0.contains("deleted") })
        }
    }

    @Test("a tenant whose purge fails is logged and the others are purged all the same", arguments: TestEngine.available)
    func failingTenantDoesNotStopTheOthers(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let failing = try Self.tenant(deleteAfter: "2y")
            let healthy = try Self.tenant(deleteAfter: "2y")
            let failingCustomer = try await Self.documents(database, failing, ["OLD-F": "2022-01-01"])
            let healthyCustomer = try await Self.documents(database, healthy, ["OLD-H": "2022-01-01", "NEW-H": "2026-10-01"])
            struct Broken: Error {}
            let logs = LogCapture()
            let job = RecordRetentionJob(database: database, tenants: TenantDirectory { [failing, healthy] }, clock: ManualWallClock(Self.now),
                                         logger: logs.logger) { database, tenant, today in
                if tenant.id == failing.id { throw Broken() }
                return try await RecordRetentionJob.standardPurge(database, tenant, today)
            }
            let report = await job.purgeExpired()
            #expect(report.failed == [failing.id])
            #expect(report.deleted == [healthy.id: ["certificates": 1]])
            #expect(try await Self.numbers(database, healthy, customer: healthyCustomer) == ["NEW-H"])
            #expect(try await Self.numbers(database, failing, customer: failingCustomer) == ["OLD-F"])
            #expect(logs.lines.contains { $0.contains("record retention failed for a tenant") && $0.contains("tenant=\(failing.id)") })

            // The job's loop survives it too: started, it purges the healthy tenant of what expired since.
            let more = try await Self.documents(database, healthy, ["OLD-H2": "2021-06-01"])
            let running = Task { try await job.run() }
            #expect(try await Self.eventually { try await Self.numbers(database, healthy, customer: more).isEmpty })
            running.cancel()
            try await running.value
        }
    }
}

/// Keeps every log line (message and metadata) a logger writes.
final class LogCapture: Sendable {
    private let storage = Mutex<[String]>([])

    var lines: [String] { storage.withLock { $0 } }

    var logger: Logger {
        Logger(label: "test.retention") { _ in Handler(capture: self) }
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
            let all = self.metadata.merging(metadata ?? [:]) { _, new in new }
            let text = "\(message) " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            capture.storage.withLock { $0.append(text) }
        }
    }
}
