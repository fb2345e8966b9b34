import Foundation
import Testing
@testable import SportelloMail

@Suite("SMTP configuration")
struct SMTPConfigurationTests {
    @Test("smtp:// is plain SMTP on port 25 with the default sender")
    func plainDefaults() throws {
        let configuration = try SMTPConfiguration(url: "smtp://relay.example.it")
        #expect(configuration.host == "relay.example.it")
        #expect(configuration.port == 25)
        #expect(configuration.security == .none)
        #expect(configuration.username == nil)
        #expect(configuration.from == MailAddress("no-reply@sportello.localhost", name: "Sportello"))
        #expect(configuration.heloName == "sportello.localhost")
        #expect(configuration.connectTimeout == .seconds(10))
        #expect(configuration.replyTimeout == .seconds(30))
    }

    @Test("smtps:// is implicit TLS on port 465")
    func implicitTLS() throws {
        let configuration = try SMTPConfiguration(url: "smtps://user:pw@mail.example.it")
        #expect(configuration.security == .implicitTLS)
        #expect(configuration.port == 465)
        #expect(configuration.tlsVerify)
    }

    @Test("STARTTLS with credentials; the password never shows in the description")
    func startTLSWithCredentials() throws {
        let configuration = try SMTPConfiguration(url: "smtp://mailer:s%40cret!@smtp.example.it:587?starttls=required",
                                                  from: "Unogas <noreply@unogas.it>")
        #expect(configuration.security == .requiredStartTLS)
        #expect(configuration.port == 587)
        #expect(configuration.username == "mailer")
        #expect(configuration.password == "s@cret!")
        #expect(configuration.description == "smtp://mailer:***@smtp.example.it:587?starttls=required")
        #expect(!String(describing: configuration).contains("cret"))
        #expect(configuration.from.name == "Unogas")
    }

    @Test("tls_verify=false, timeouts and helo come from the query")
    func queryOptions() throws {
        let configuration = try SMTPConfiguration(url: "smtps://relay:2465?tls_verify=false&timeout=5&connect_timeout=2.5&helo=portal.example.it")
        #expect(!configuration.tlsVerify)
        #expect(configuration.replyTimeout == .seconds(5))
        #expect(configuration.connectTimeout == .milliseconds(2500))
        #expect(configuration.heloName == "portal.example.it")
        #expect(configuration.description == "smtps://relay:2465?tls_verify=false")
    }

    @Test("Unknown options, schemes and senders are refused with a message that omits the password")
    func refusals() throws {
        #expect(throws: MailConfigurationError.self) { try SMTPConfiguration(url: "smtp://relay?startls=required") }
        #expect(throws: MailConfigurationError.self) { try SMTPConfiguration(url: "http://relay") }
        #expect(throws: MailConfigurationError.self) { try SMTPConfiguration(url: "smtp://relay", from: "not an address") }
        do {
            _ = try SMTPConfiguration(url: "smtp://user:topsecret@relay.example.it:25")
            Issue.record("credentials over plain SMTP to a remote relay were accepted")
        } catch let error as MailConfigurationError {
            #expect(error.message.contains("TLS"))
            #expect(!error.message.contains("topsecret"))
        }
    }

    @Test("Credentials without TLS are allowed to a relay on the loopback interface")
    func loopbackCredentials() throws {
        let configuration = try SMTPConfiguration(url: "smtp://dev:dev@127.0.0.1:1025")
        #expect(configuration.username == "dev")
    }

    @Test("fromEnvironment is nil without SPORTELLO_SMTP_URL and reads SPORTELLO_MAIL_FROM")
    func environment() throws {
        #expect(try SMTPConfiguration.fromEnvironment([:]) == nil)
        #expect(try SMTPConfiguration.fromEnvironment(["SPORTELLO_SMTP_URL": ""]) == nil)
        let configuration = try #require(try SMTPConfiguration.fromEnvironment([
            "SPORTELLO_SMTP_URL": "smtp://127.0.0.1:2525", "SPORTELLO_MAIL_FROM": "Portale <portale@example.it>",
        ]))
        #expect(configuration.port == 2525)
        #expect(configuration.from == MailAddress("portale@example.it", name: "Portale"))
    }
}

@Suite("Message format")
struct MessageFormatTests {
    func message(subject: String = "Attivazione è pronta", text: String = "Ciao,\nè tutto pronto.\n",
                 html: String? = "<p>Ciao</p>") -> MailMessage {
        MailMessage(from: MailAddress("no-reply@sportello.localhost", name: "Unogas Energia"),
                    to: MailAddress("mario.rossi@example.it"), subject: subject, text: text, html: html,
                    date: fixedDate, messageID: MailMessage.messageID(outboxID: 42, tenant: "unogas", host: "sportello.localhost"),
                    reference: "unogas#42")
    }

    @Test("Headers: RFC 5322 date from the given time, stable Message-ID, MIME and auto-submitted markers")
    func headers() {
        let rendered = message().rendered()
        let head = rendered.components(separatedBy: "\r\n\r\n")[0]
        #expect(head.contains("Date: Sat, 21 Nov 2026 12:00:00 +0000\r\n"))
        #expect(head.contains("From: Unogas Energia <no-reply@sportello.localhost>\r\n"))
        #expect(head.contains("To: mario.rossi@example.it\r\n"))
        #expect(head.contains("Message-ID: <outbox-42.unogas@sportello.localhost>\r\n"))
        #expect(head.contains("MIME-Version: 1.0\r\n"))
        #expect(head.contains("Auto-Submitted: auto-generated\r\n"))
        #expect(head.contains("Content-Type: multipart/alternative;"))
        #expect(!rendered.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "bare LF in the message")
    }

    @Test("A non-ASCII subject is an RFC 2047 encoded word that decodes back")
    func encodedSubject() throws {
        let head = message().rendered().components(separatedBy: "\r\n\r\n")[0]
        let line = try #require(head.components(separatedBy: "\r\n").first { $0.hasPrefix("Subject: ") })
        #expect(line.hasPrefix("Subject: =?UTF-8?B?"))
        #expect(decodeEncodedWords(String(line.dropFirst("Subject: ".count))) == "Attivazione è pronta")
    }

    @Test("A long non-ASCII subject is folded into words of at most 76 characters, never splitting a character")
    func foldedSubject() {
        let subject = String(repeating: "Città è già più ", count: 8)
        let value = MIME.unstructured(subject, offset: 9)
        for line in value.components(separatedBy: "\r\n") { #expect(line.count <= 76) }
        #expect(decodeEncodedWords(value) == subject.split(whereSeparator: \.isNewline).joined())
    }

    @Test("Quoted-printable: UTF-8 escaped, '=' escaped, trailing spaces escaped, lines of at most 76 characters")
    func quotedPrintable() {
        let text = "Perché = uguale \nRiga finale con spazio \n" + String(repeating: "è", count: 60) + "\n" + String(repeating: "a", count: 200)
        let encoded = MIME.quotedPrintable(text)
        #expect(encoded.contains("Perch=C3=A9 =3D uguale=20"))
        for line in encoded.components(separatedBy: "\r\n") { #expect(line.count <= 76) }
        #expect(decodeQuotedPrintable(encoded) == text)
    }

    @Test("Without HTML the message is a single text/plain part")
    func textOnly() {
        let rendered = message(html: nil).rendered()
        #expect(rendered.contains("Content-Type: text/plain; charset=UTF-8\r\n"))
        #expect(!rendered.contains("multipart"))
    }

    @Test("DATA payload: lines starting with a dot are doubled, line ends are CRLF, the end marker is CRLF.CRLF")
    func dotStuffing() {
        let payload = MIME.dataPayload("Subject: x\n\n.nascosta\n.\nnormale\r\n..due\rfine\n")
        #expect(payload == "Subject: x\r\n\r\n..nascosta\r\n..\r\nnormale\r\n...due\r\nfine\r\n.\r\n")
    }

    @Test("Addresses: display names parsed; addresses that could inject SMTP commands are not deliverable")
    func addresses() {
        #expect(MailAddress(parsing: "\"Rossi, Mario\" <mario@example.it>") == MailAddress("mario@example.it", name: "Rossi, Mario"))
        #expect(MailAddress(parsing: "mario@example.it")?.name == nil)
        #expect(MailAddress(parsing: "mario@example.it>\r\nRCPT TO:<x@y.it") == nil)
        #expect(!MailAddress("a b@example.it").isDeliverable)
        #expect(!MailAddress("mario@").isDeliverable)
        #expect(!MailAddress("màrio@example.it").isDeliverable)
        #expect(MailAddress("mario.rossi+portale@example.it").isDeliverable)
        #expect(MIME.phrase("Rossi, Mario", offset: 6) == "\"Rossi, Mario\"")
        #expect(MIME.phrase("Società Più", offset: 6).hasPrefix("=?UTF-8?B?"))
    }

    @Test("Errors: 5xx on the recipient or the message is permanent; relay-level problems never are")
    func permanence() {
        #expect(MailDeliveryError(.rejectedPermanently, stage: .recipient, replyCode: 550, message: "no").isPermanent)
        #expect(MailDeliveryError(.rejectedPermanently, stage: .data, replyCode: 554, message: "spam").isPermanent)
        #expect(MailDeliveryError(.invalidMessage, stage: .recipient, message: "bad").isPermanent)
        #expect(!MailDeliveryError(.rejectedPermanently, stage: .greeting, replyCode: 554, message: "go away").isPermanent)
        #expect(!MailDeliveryError(.rejectedPermanently, stage: .sender, replyCode: 553, message: "sender").isPermanent)
        #expect(!MailDeliveryError(.rejectedTemporarily, stage: .recipient, replyCode: 451, message: "later").isPermanent)
        #expect(!MailDeliveryError(.authFailed, stage: .auth, replyCode: 535, message: "bad credentials").isPermanent)
        #expect(MailDeliveryError(.rejectedPermanently, stage: .recipient, replyCode: 550, message: "no").description
            == "rejected_permanently (rcpt_to): 550 no")
    }

    @Test("A reply quoting the recipient is stored with the address replaced")
    func redaction() {
        #expect(SMTPClient.redacting("Mario@Example.it", in: "5.1.1 <mario@example.it>: unknown") == "5.1.1 <<recipient>>: unknown")
    }
}

// MARK: - Independent decoders (not the module's encoders)

func decodeQuotedPrintable(_ text: String) -> String {
    var bytes: [UInt8] = []
    let lines = text.components(separatedBy: "\r\n")
    for (index, line) in lines.enumerated() {
        var characters = Array(line.utf8)
        var soft = false
        if characters.last == UInt8(ascii: "=") { soft = true; characters.removeLast() }
        var position = 0
        while position < characters.count {
            if characters[position] == UInt8(ascii: "="), position + 2 < characters.count + 0,
               let value = UInt8(String(decoding: characters[(position + 1)...(position + 2)], as: UTF8.self), radix: 16) {
                bytes.append(value)
                position += 3
            } else {
                bytes.append(characters[position])
                position += 1
            }
        }
        if !soft && index < lines.count - 1 { bytes.append(UInt8(ascii: "\n")) }
    }
    return String(decoding: bytes, as: UTF8.self)
}

func decodeEncodedWords(_ value: String) -> String {
    var bytes: [UInt8] = []
    for word in value.components(separatedBy: "\r\n ").flatMap({ $0.split(separator: " ").map(String.init) }) {
        guard word.hasPrefix("=?UTF-8?B?"), word.hasSuffix("?=") else { return value }
        bytes += Data(base64Encoded: String(word.dropFirst(10).dropLast(2))) ?? Data()
    }
    return String(decoding: bytes, as: UTF8.self)
}
