import Foundation
import SQLKit
import SportelloCore

/// How an e-mail's body is kept in the outbox. Reset, activation and invitation links, control codes and
/// temporary passwords open accounts, so a copy of the database (a backup) must not hold them usable:
/// - while the mail is pending its text and HTML are sealed with the data key (`FieldSealer`), opened only
///   to be sent (the delivery worker) or shown (`sportello mail --show`, development);
/// - once it is sent or given up, the body is replaced by a redacted copy: secret tokens in links are cut
///   out, and the body of a mail whose point is a code or a password is dropped.
public enum OutboxBody {
    /// Kinds whose body carries a short secret that cannot be recognised in the text (a numeric code, a
    /// password): after delivery their body is replaced whole.
    public static let secretKinds: Set<String> = ["control_code", "temporary_password"]

    /// What replaces the body of a `secretKinds` mail after delivery.
    public static let removedNotice = "[Testo rimosso dopo la consegna: conteneva un codice o una password. / Body removed after delivery: it carried a code or a password.]"

    /// What replaces a secret-looking part of a link after delivery.
    public static let removedToken = "[rimosso]"

    /// `mail` with its text and HTML bodies sealed (unchanged without a sealer: tests of bare transactions).
    static func sealed(_ mail: OutboxRecord, with sealer: FieldSealer?) throws -> OutboxRecord {
        guard let sealer else { return mail }
        var copy = mail
        if !FieldSealer.isSealed(copy.bodyText) { copy.bodyText = try sealer.seal(copy.bodyText) }
        if let html = copy.bodyHtml, !FieldSealer.isSealed(html) { copy.bodyHtml = try sealer.seal(html) }
        return copy
    }

    /// `mail` with its bodies opened (values that were never sealed are returned as they are).
    static func opened(_ mail: OutboxRecord, with sealer: FieldSealer?) throws -> OutboxRecord {
        guard let sealer, FieldSealer.isSealed(mail.bodyText) || mail.bodyHtml.map(FieldSealer.isSealed) == true else { return mail }
        var copy = mail
        copy.bodyText = try sealer.open(copy.bodyText)
        copy.bodyHtml = try copy.bodyHtml.map { try sealer.open($0) }
        return copy
    }

    /// The copy of a delivered (or abandoned) mail's body that is kept: in links, every run of 24 or more
    /// letters, digits, `-` or `_` (a token) becomes `[rimosso]`, as does any run of 32 or more elsewhere;
    /// the body of a `secretKinds` mail is replaced by `removedNotice` and its HTML dropped.
    public static func redacted(kind: String, text: String, html: String?) -> (text: String, html: String?) {
        if secretKinds.contains(kind) { return (removedNotice, nil) }
        return (redactTokens(text), html.map(redactTokens))
    }

    private static let link = try! NSRegularExpression(pattern: "https?://[^\\s\"'<>]+")
    private static let tokenInLink = try! NSRegularExpression(pattern: "[A-Za-z0-9_-]{24,}")
    private static let longToken = try! NSRegularExpression(pattern: "[A-Za-z0-9_-]{32,}")

    static func redactTokens(_ text: String) -> String {
        var result = ""
        var position = text.startIndex
        for match in link.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            guard let range = Range(match.range, in: text) else { continue }
            result += replace(longToken, in: String(text[position..<range.lowerBound]))
            let url = String(text[range])
            // The scheme and host stay (they tell which portal the link was for); tokens in the rest go.
            if let slash = url.range(of: "/", range: url.index(url.startIndex, offsetBy: url.hasPrefix("https") ? 8 : 7)..<url.endIndex) {
                result += url[..<slash.lowerBound] + replace(tokenInLink, in: String(url[slash.lowerBound...]))
            } else {
                result += url
            }
            position = range.upperBound
        }
        result += replace(longToken, in: String(text[position...]))
        return result
    }

    private static func replace(_ pattern: NSRegularExpression, in text: String) -> String {
        pattern.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: removedToken)
    }
}

// MARK: - The data key's fingerprint

extension Database {
    /// The table that remembers which data key the database was first used with (created by `0011_sealed_outbox`).
    static let dataKeyTable = "sportello_data_key"

    /// Records the data key's fingerprint on first use and refuses a different key afterwards. Does nothing
    /// before migration `0011_sealed_outbox` has created the table (`migrate` checks again at its end).
    func verifyDataKey(now: Int64 = Int64(Date().timeIntervalSince1970)) async throws {
        try await withRawConnection { sql in
            guard try await self.tableExists(Self.dataKeyTable, sql) else { return }
            try await self.recordDataKey(sql, now: now)
        }
    }

    /// Inserts this instance's fingerprint unless one is stored, then compares the stored one with it.
    func recordDataKey(_ sql: any SQLDatabase, now: Int64) async throws {
        let mine: String
        do {
            mine = try sealer.fingerprint()
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.dataKey, "the data key cannot be read: \(error)")
        }
        try await sql.raw("""
            INSERT INTO \(ident: Self.dataKeyTable) (name, fingerprint, recorded_at) VALUES ('data', \(bind: mine), \(bind: now))
            ON CONFLICT (name) DO NOTHING
            """).run()
        let stored = try await sql.raw("SELECT fingerprint FROM \(ident: Self.dataKeyTable) WHERE name = 'data'").first()?
            .decode(column: "fingerprint", as: String.self)
        guard let stored, stored == mine else {
            throw StoreError(.dataKey, """
                the data key given to this instance (\(keySource)) is not the one the database at \(location) was first used with \
                (fingerprint \(mine.prefix(12))…, the database expects \((stored ?? "?").prefix(12))…): start every instance with \
                the same SPORTELLO_DATA_KEY or SPORTELLO_DATA_KEY_FILE, or values sealed with the other key could not be read
                """)
        }
    }

    /// Where the key comes from, for messages (never the key itself).
    var keySource: String {
        sealer.sourceDescription
    }

    func tableExists(_ name: String, _ sql: any SQLDatabase) async throws -> Bool {
        switch engine {
        case .sqlite:
            return try await sql.raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name = \(bind: name)").first() != nil
        case .postgres:
            return try await sql.raw("SELECT to_regclass(\(bind: name)) IS NOT NULL AS present").first()?
                .decode(column: "present", as: Bool.self) ?? false
        }
    }
}

// MARK: - Migration 0011

extension Migration {
    /// Creates the data key table and records the key; seals the bodies of pending mail queued before
    /// sealing existed and redacts those of mail already sent or given up.
    static let sealedOutbox = Migration.usingDatabase(id: "0011_sealed_outbox") { sql, database in
        try await sql.create(table: Database.dataKeyTable).ifNotExists()
            .column("name", type: .text, .primaryKey(autoIncrement: false))
            .column("fingerprint", type: .text, .notNull)
            .column("recorded_at", type: .bigint, .notNull)
            .run()
        try await database.recordDataKey(sql, now: Int64(Date().timeIntervalSince1970))
        // The outbox is fenced per tenant even for its owner; this step reads every tenant's rows, so the
        // fence is lifted inside this transaction only (DDL is transactional on PostgreSQL).
        if database.engine == .postgres { try await sql.raw("ALTER TABLE outbox NO FORCE ROW LEVEL SECURITY").run() }
        let rows = try await sql.raw("SELECT id, kind, status, body_text, body_html FROM outbox").all()
        for row in rows {
            let id = try row.decode(column: "id", as: Int64.self)
            let kind = try row.decode(column: "kind", as: String.self), status = try row.decode(column: "status", as: String.self)
            var text = try row.decode(column: "body_text", as: String.self)
            var html = try row.decode(column: "body_html", as: String?.self)
            if status == OutboxStatus.pending.rawValue {
                guard !FieldSealer.isSealed(text) else { continue }
                text = try database.sealer.seal(text)
                html = try html.map { try database.sealer.seal($0) }
            } else {
                let opened = try OutboxBody.opened(OutboxRecord(createdAt: 0, kind: kind, recipient: "", subject: "", bodyText: text,
                                                                bodyHtml: html), with: database.sealer)
                (text, html) = OutboxBody.redacted(kind: kind, text: opened.bodyText, html: opened.bodyHtml)
            }
            try await sql.update("outbox").set("body_text", to: text).set("body_html", to: html).where("id", .equal, id).run()
        }
        if database.engine == .postgres { try await sql.raw("ALTER TABLE outbox FORCE ROW LEVEL SECURITY").run() }
    }
}
