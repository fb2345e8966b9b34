import Foundation

/// An e-mail address with an optional display name (`Unogas Energia <no-reply@unogas.it>`).
public struct MailAddress: Sendable, Equatable, CustomStringConvertible {
    public var name: String?
    public var address: String

    public init(_ address: String, name: String? = nil) {
        self.address = address
        self.name = name
    }

    /// Parses `Name <local@domain>`, `"Name" <local@domain>` or a bare `local@domain`; nil when the
    /// address is not one SMTP can carry (see `isDeliverable`).
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasSuffix(">"), let open = trimmed.lastIndex(of: "<") {
            var name = trimmed[..<open].trimmingCharacters(in: .whitespaces)
            if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") { name = String(name.dropFirst().dropLast()) }
            self.init(String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]),
                      name: name.isEmpty ? nil : name)
        } else {
            self.init(trimmed)
        }
        guard isDeliverable, !(name ?? "").contains(where: \.isNewline) else { return nil }
    }

    /// Whether SMTP can carry the address as it is: ASCII, one `@`, no spaces, brackets or line breaks
    /// (so it can never inject a command or a header), at most 254 characters.
    public var isDeliverable: Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, address.utf8.count <= 254 else { return false }
        return address.unicodeScalars.allSatisfy { scalar in
            scalar.value > 32 && scalar.value < 127 && !"<>()[]\\,;:\"".unicodeScalars.contains(scalar)
        } && !parts[1].hasPrefix(".") && !parts[1].hasSuffix(".")
    }

    /// The part after `@` (the host of Message-IDs).
    public var domain: String {
        address.split(separator: "@").last.map(String.init) ?? "localhost"
    }

    public var description: String {
        guard let name, !name.isEmpty else { return address }
        return "\(name) <\(address)>"
    }

    /// The header form: the display name quoted or RFC 2047-encoded as needed, then `<address>`.
    func headerValue(nameLength offset: Int) -> String {
        guard let name, !name.isEmpty else { return address }
        return "\(MIME.phrase(name, offset: offset)) <\(address)>"
    }
}

/// One message ready for SMTP: built by the delivery worker from an outbox row.
public struct MailMessage: Sendable, Equatable {
    public var from: MailAddress
    public var to: MailAddress
    public var subject: String
    public var text: String
    public var html: String?
    public var date: Date
    /// Without angle brackets, e.g. `outbox-42.unogas@sportello.localhost`: the same for every attempt
    /// at the same outbox row, so a message delivered twice is recognisable as one.
    public var messageID: String
    /// What logs may name the message by (the outbox id), never the address or the content.
    public var reference: String

    public init(from: MailAddress, to: MailAddress, subject: String, text: String, html: String? = nil,
                date: Date, messageID: String, reference: String) {
        self.from = from; self.to = to; self.subject = subject; self.text = text; self.html = html
        self.date = date; self.messageID = messageID; self.reference = reference
    }

    /// The Message-ID of an outbox row: `outbox-<id>.<tenant>@<host>`.
    public static func messageID(outboxID: Int64, tenant: String, host: String) -> String {
        "outbox-\(outboxID).\(tenant)@\(host)"
    }

    /// The RFC 5322 message with CRLF line ends: headers, then a `multipart/alternative` body with a
    /// text/plain and a text/html part (or the text part alone), both UTF-8 quoted-printable.
    /// SMTP's dot-stuffing is applied by the client, not here.
    public func rendered() -> String {
        var headers: [(String, String)] = [
            ("Date", MIME.date(date)),
            ("From", from.headerValue(nameLength: "From: ".count)),
            ("To", to.headerValue(nameLength: "To: ".count)),
            ("Subject", MIME.unstructured(subject, offset: "Subject: ".count)),
            ("Message-ID", "<\(messageID)>"),
            ("MIME-Version", "1.0"),
            ("Auto-Submitted", "auto-generated"),
            ("X-Auto-Response-Suppress", "All"),
        ]
        var lines: [String] = []
        if let html {
            // "=_" can never occur in quoted-printable text, so the boundary cannot collide with a body.
            let boundary = "=_sportello_\(MIME.boundaryToken(messageID))"
            headers.append(("Content-Type", "multipart/alternative;\r\n boundary=\"\(boundary)\""))
            lines = headers.map { "\($0.0): \($0.1)" }
            lines.append("")
            lines.append("This is a multi-part message in MIME format.")
            // The CRLF before each delimiter belongs to the delimiter, not to the part (RFC 2046 §5.1.1).
            for (type, body) in [("text/plain", text), ("text/html", html)] {
                lines.append("--\(boundary)")
                lines.append("Content-Type: \(type); charset=UTF-8")
                lines.append("Content-Transfer-Encoding: quoted-printable")
                lines.append("")
                lines.append(MIME.quotedPrintable(body))
            }
            lines.append("--\(boundary)--")
        } else {
            headers.append(("Content-Type", "text/plain; charset=UTF-8"))
            headers.append(("Content-Transfer-Encoding", "quoted-printable"))
            lines = headers.map { "\($0.0): \($0.1)" }
            lines.append("")
            lines.append(MIME.quotedPrintable(text))
        }
        let message = lines.joined(separator: "\r\n")
        return message.hasSuffix("\r\n") ? message : message + "\r\n"
    }
}

/// The encodings a message needs (RFC 2045 quoted-printable, RFC 2047 encoded words, RFC 5322 dates)
/// and SMTP's transparency rule (RFC 5321 §4.5.2).
enum MIME {
    /// Every CRLF, lone CR and lone LF becomes LF.
    static func unixLineEnds(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
    }

    /// Quoted-printable of the UTF-8 text, lines of at most 76 characters joined by CRLF.
    static func quotedPrintable(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var output: [String] = []
        for line in unixLineEnds(text).split(separator: "\n", omittingEmptySubsequences: false) {
            let bytes = Array(line.utf8)
            var current: [UInt8] = []
            for (index, byte) in bytes.enumerated() {
                let last = index == bytes.count - 1
                let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "="))
                    || ((byte == 32 || byte == 9) && !last)
                let token = literal ? [byte] : [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
                // A soft break ("=" at the end) keeps every line within 76 characters.
                let room = last ? 76 : 75
                if current.count + token.count > room {
                    output.append(String(decoding: current + [UInt8(ascii: "=")], as: UTF8.self))
                    current = []
                }
                current += token
            }
            output.append(String(decoding: current, as: UTF8.self))
        }
        return output.joined(separator: "\r\n")
    }

    /// An unstructured header value (Subject): as it is when short printable ASCII, else RFC 2047
    /// `=?UTF-8?B?…?=` words folded onto continuation lines. Line breaks become spaces.
    static func unstructured(_ value: String, offset: Int) -> String {
        let flat = value.split(whereSeparator: \.isNewline).joined(separator: " ")
        let plain = flat.unicodeScalars.allSatisfy { $0.value >= 32 && $0.value < 127 } && !flat.contains("=?")
        if plain && offset + flat.count <= 78 { return flat }
        return encodedWords(flat)
    }

    /// A display name: bare when it is only letters, digits and spaces; quoted when ASCII; else encoded.
    static func phrase(_ value: String, offset: Int) -> String {
        let flat = value.split(whereSeparator: \.isNewline).joined(separator: " ")
        let ascii = flat.unicodeScalars.allSatisfy { $0.value >= 32 && $0.value < 127 }
        if ascii && !flat.contains("=?") && offset + flat.count <= 60 {
            if flat.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || $0 == " " }) { return flat }
            return "\"" + flat.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return encodedWords(flat)
    }

    /// RFC 2047 base64 words of at most 36 bytes of UTF-8 each (never splitting a character), so every
    /// header line stays well under 76 characters; joined by folding whitespace.
    static func encodedWords(_ value: String) -> String {
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in value {
            let bytes = Array(String(character).utf8)
            if !chunk.isEmpty && chunk.count + bytes.count > 36 {
                words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    /// `Sat, 21 Nov 2026 12:00:00 +0000` (RFC 5322 §3.3, in UTC).
    static func date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        return "\(days[(parts.weekday ?? 1) - 1]), \(two(parts.day)) \(months[(parts.month ?? 1) - 1]) \(parts.year ?? 1970) "
            + "\(two(parts.hour)):\(two(parts.minute)):\(two(parts.second)) +0000"
    }

    /// A short token derived from the Message-ID (FNV-1a), for the MIME boundary.
    static func boundaryToken(_ seed: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in seed.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(hash, radix: 36)
    }

    /// The DATA payload: CRLF line ends, a "." doubled at the start of every line that has one, and the
    /// terminating `CRLF.CRLF`.
    static func dataPayload(_ message: String) -> String {
        var lines = unixLineEnds(message).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines.map { $0.hasPrefix(".") ? "." + $0 : $0 }.joined(separator: "\r\n") + "\r\n.\r\n"
    }
}
