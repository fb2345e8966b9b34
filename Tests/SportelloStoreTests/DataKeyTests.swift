import Crypto
import Foundation
import SQLKit
import Testing
import SportelloCore
@testable import SportelloStore

private func randomKey() -> String { SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString() }

private func resetMail(token: String, at now: Int64) -> OutboxRecord {
    OutboxRecord(createdAt: now, kind: "password_reset", recipient: "mario@example.it", subject: "Reimposta la password",
                 bodyText: "Apri questo link:\nhttps://unidata.localhost/access/password_recovery/\(token)\n",
                 bodyHtml: "<p><a href=\"https://unidata.localhost/access/password_recovery/\(token)\">Reimposta</a></p>")
}

/// The stored (not opened) bodies of a tenant's outbox.
private func storedBodies(_ database: Database, tenant: String) async throws -> [String] {
    try await database.read(tenant: tenant, now: fixedNow) { t in
        try await t.select(.outbox).column("body_text").column("body_html").all().flatMap {
            [try $0.decode(column: "body_text", as: String.self), try $0.decode(column: "body_html", as: String?.self) ?? ""]
        }
    }
}

@Suite("Data key and sealed outbox")
struct DataKeyTests {
    @Test("a pending mail is not readable as plain text in the database; the worker's read opens it", arguments: TestEngine.available)
    func pendingMailIsSealed(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = uniqueTenant("unidata")
            let token = Secrets.token(using: SystemSecureRandom()).plain
            try await database.write(tenant: tenant, now: fixedNow) { try await $0.enqueueMail(resetMail(token: token, at: fixedNow)) }
            let stored = try await storedBodies(database, tenant: tenant)
            #expect(stored.count == 2 && stored.allSatisfy { FieldSealer.isSealed($0) && !$0.contains(token) && !$0.contains("password_recovery") })
            let due = try await database.read(tenant: tenant, now: fixedNow) { try await $0.dueMail() }
            #expect(due.first?.bodyText.contains(token) == true && due.first?.bodyHtml?.contains(token) == true)
        }
    }

    @Test("once sent (or given up) a mail keeps only a redacted body: no token, no code", arguments: TestEngine.available)
    func deliveredMailIsRedacted(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = uniqueTenant("unidata")
            let token = Secrets.token(using: SystemSecureRandom()).plain
            try await database.write(tenant: tenant, now: fixedNow) { t in
                try await t.enqueueMail(resetMail(token: token, at: fixedNow))
                try await t.enqueueMail(OutboxRecord(createdAt: fixedNow, kind: "control_code", recipient: "mario@example.it",
                                                     subject: "Codice", bodyText: "il tuo codice di controllo è: 482913\n"))
            }
            try await database.write(tenant: tenant, now: fixedNow) { t in
                for var mail in try await t.dueMail() {
                    mail.status = mail.kind == "control_code" ? .failed : .sent
                    mail.sentAt = t.now
                    try await t.updateMail(mail)
                }
            }
            let stored = try await storedBodies(database, tenant: tenant)
            #expect(stored.allSatisfy { !$0.contains(token) && !$0.contains("482913") && !FieldSealer.isSealed($0) })
            let rows = try await database.read(tenant: tenant, now: fixedNow) { try await $0.outbox() }
            let reset = try #require(rows.first { $0.kind == "password_reset" })
            #expect(reset.bodyText.contains("https://unidata.localhost/access/password_recovery/\(OutboxBody.removedToken)"))
            #expect(rows.first { $0.kind == "control_code" }?.bodyText == OutboxBody.removedNotice)
        }
    }

    @Test("PostgreSQL refuses to open without an explicitly configured data key, saying what to set")
    func postgresNeedsAKey() async throws {
        let location = DatabaseLocation.postgres(url: ProcessInfo.processInfo.environment["SPORTELLO_TEST_POSTGRES_URL"]
                                                 ?? "postgres://nobody@127.0.0.1:1/none")
        let error = await #expect(throws: StoreError.self) {
            _ = try await Database.open(location, modules: allStorageModules, environment: ["HOME": "/tmp"])
        }
        #expect(error?.code == .dataKey)
        #expect(error?.message.contains("SPORTELLO_DATA_KEY") == true && error?.message.contains("SPORTELLO_DATA_KEY_FILE") == true)
        // A key file that does not exist is not silently created on PostgreSQL.
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("no-key-\(UUID().uuidString)").path
        let sealer = FieldSealer(keyFile: missing, environment: [:], createKeyFile: false)
        #expect(throws: StoreError.self) { try sealer.seal("x") }
        #expect(!FileManager.default.fileExists(atPath: missing))
    }

    @Test("a database refuses a data key other than the one it was first used with", arguments: TestEngine.available)
    func wrongKeyRefused(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            // withDatabase migrated with the run's key, so the fingerprint is recorded; another key is refused.
            var environment = ProcessInfo.processInfo.environment
            environment["SPORTELLO_DATA_KEY"] = randomKey()
            environment["SPORTELLO_DATA_KEY_FILE"] = nil
            let error = await #expect(throws: StoreError.self) {
                let other = try await Database.open(database.location, modules: allStorageModules, environment: environment)
                await other.close()
            }
            #expect(error?.code == .dataKey)
            #expect(error?.message.contains("not the one") == true)
            let stored = try await database.withRawConnection { sql in
                try await sql.raw("SELECT fingerprint FROM sportello_data_key").all().map { try $0.decode(column: "fingerprint", as: String.self) }
            }
            #expect(stored == [try database.sealer.fingerprint()], "only the fingerprint is stored, never the key")
        }
    }

    @Test("migration 0011 seals pending mail queued before it and redacts mail already sent")
    func migrationSealsOldRows() async throws {
        try await TestEngine.sqlite.withDatabase { database in
            let tenant = uniqueTenant("unidata")
            let pendingToken = Secrets.token(using: SystemSecureRandom()).plain, sentToken = Secrets.token(using: SystemSecureRandom()).plain
            // Rows as an older Sportello wrote them: bodies in clear.
            try await database.write(tenant: tenant, now: fixedNow) { t in
                _ = try await t.insert(.outbox, resetMail(token: pendingToken, at: fixedNow))
                var sent = resetMail(token: sentToken, at: fixedNow)
                sent.status = .sent
                _ = try await t.insert(.outbox, sent)
            }
            try await database.withRawConnection { sql in
                try await sql.delete(from: "sportello_migrations").where("id", .equal, "0011_sealed_outbox").run()
            }
            #expect(try await database.migrate().applied == ["0011_sealed_outbox"])
            let stored = try await storedBodies(database, tenant: tenant)
            #expect(stored.allSatisfy { !$0.contains(pendingToken) && !$0.contains(sentToken) })
            let rows = try await database.read(tenant: tenant, now: fixedNow) { try await $0.outbox() }
            #expect(rows.first { $0.status == .pending }?.bodyText.contains(pendingToken) == true, "pending mail is sealed, not lost")
            #expect(rows.first { $0.status == .sent }?.bodyText.contains(OutboxBody.removedToken) == true)
        }
    }
}
