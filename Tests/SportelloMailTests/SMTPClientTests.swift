import Foundation
import Testing
@testable import SportelloMail

@Suite("SMTP client against a real SMTP server", .enabled(if: SinkEnvironment.enabled))
struct SMTPClientTests {
    func message(to recipient: String, subject: String = "Attivazione è pronta", text: String, html: String? = nil,
                 id: Int64 = 7) -> MailMessage {
        MailMessage(from: MailAddress("no-reply@sportello.localhost", name: "Unogas Energia"), to: MailAddress(recipient),
                    subject: subject, text: text, html: html, date: fixedDate,
                    messageID: MailMessage.messageID(outboxID: id, tenant: "unogas", host: "sportello.localhost"),
                    reference: "unogas#\(id)")
    }

    @Test("Delivers a UTF-8 message with text and HTML parts: subject, bodies, Message-ID and envelope arrive intact")
    func deliversUTF8Alternative() async throws {
        let sink = try SMTPSink.shared()
        let recipient = uniqueRecipient()
        let text = "Gentile cliente,\nla sua attivazione è pronta: https://unogas.localhost:8080/attiva?t=abc&x=1\nGrazie — il team\n"
        try await SMTPClient(configuration: try sink.configuration())
            .send(message(to: recipient, text: text, html: "<p>Attivazione <b>è</b> pronta</p>"))

        let received = try await sink.waitForMessages(to: recipient)
        let mail = try #require(received.first)
        #expect(received.count == 1)
        #expect(mail.subject == "Attivazione è pronta")
        #expect(mail.text == text)
        #expect(mail.html?.trimmingCharacters(in: .newlines) == "<p>Attivazione <b>è</b> pronta</p>")
        #expect(mail.messageId == "<outbox-7.unogas@sportello.localhost>")
        #expect(mail.header("From") == "Unogas Energia <no-reply@sportello.localhost>")
        #expect(mail.header("Auto-Submitted") == "auto-generated")
        #expect(mail.header("Date") == "Sat, 21 Nov 2026 12:00:00 +0000")
        #expect(mail.mailFrom == "no-reply@sportello.localhost")
        #expect(mail.rcptTos == [recipient])
        #expect(mail.defects.isEmpty, "MIME defects: \(mail.defects)")
        #expect(mail.firstLink == "https://unogas.localhost:8080/attiva?t=abc&x=1")
        let raw = String(decoding: mail.raw, as: UTF8.self)
        #expect(!raw.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "bare LF on the wire")
        #expect(raw.split(separator: "\r\n").allSatisfy { $0.utf8.count <= 998 })
    }

    @Test("Dot-stuffing: lines that start with a dot, and a line that is only a dot, arrive unchanged")
    func dotStuffing() async throws {
        let sink = try SMTPSink.shared()
        let recipient = uniqueRecipient()
        let text = "Prima riga\n.nascosta dietro un punto\n.\n..due punti\nultima riga dopo il punto\n"
        try await SMTPClient(configuration: try sink.configuration()).send(message(to: recipient, text: text))
        let mail = try #require(try await sink.waitForMessages(to: recipient).first)
        #expect(mail.text == text)
    }

    @Test("One connection carries several messages; a refused recipient fails alone (550 permanent, 451 temporary)")
    func refusalsOnOneConnection() async throws {
        let sink = try SMTPSink.shared()
        let first = uniqueRecipient(), last = uniqueRecipient()
        let refused = uniqueRecipient("reject"), deferred = uniqueRecipient("defer")
        var outcomes: [Int: MailDeliveryError?] = [:]
        await SMTPClient(configuration: try sink.configuration()).send([
            message(to: first, text: "uno\n", id: 1), message(to: refused, text: "due\n", id: 2),
            message(to: deferred, text: "tre\n", id: 3), message(to: last, text: "quattro\n", id: 4),
        ]) { index, error in
            outcomes[index] = error
            return true
        }
        #expect(outcomes.count == 4)
        #expect(outcomes[0]! == nil)
        #expect(outcomes[3]! == nil)
        let permanent = try #require(outcomes[1] ?? nil)
        #expect(permanent.code == .rejectedPermanently)
        #expect(permanent.stage == .recipient)
        #expect(permanent.replyCode == 550)
        #expect(permanent.isPermanent)
        #expect(permanent.message.contains("mailbox unavailable"))
        #expect(!permanent.message.contains(refused), "the reply kept the address")
        let temporary = try #require(outcomes[2] ?? nil)
        #expect(temporary.code == .rejectedTemporarily)
        #expect(temporary.replyCode == 451)
        #expect(!temporary.isPermanent)
        #expect(try await sink.waitForMessages(to: first).count == 1)
        #expect(try await sink.waitForMessages(to: last).count == 1)
        #expect(try sink.messages(to: refused).isEmpty)
    }

    @Test("Nothing listening: connection_failed, for every message of the batch")
    func relayDown() async throws {
        let port = try freePort()
        let client = SMTPClient(configuration: try SMTPConfiguration(url: "smtp://127.0.0.1:\(port)"))
        var errors: [MailDeliveryError?] = []
        await client.send([message(to: uniqueRecipient(), text: "a\n"), message(to: uniqueRecipient(), text: "b\n")]) { _, error in
            errors.append(error)
            return true
        }
        #expect(errors.count == 2)
        #expect(errors.allSatisfy { $0?.code == .connectionFailed && $0?.stage == .connect })
        #expect(errors.allSatisfy { $0?.isPermanent == false })
    }

    @Test("A relay that never answers: timeout after the reply timeout")
    func silentRelay() async throws {
        let listener = try SilentListener()
        let client = SMTPClient(configuration: try SMTPConfiguration(url: "smtp://127.0.0.1:\(listener.port)?timeout=0.5"))
        let started = ContinuousClock.now
        do {
            try await client.send(message(to: uniqueRecipient(), text: "x\n"))
            Issue.record("a silent relay accepted the message")
        } catch let error as MailDeliveryError {
            #expect(error.code == .timeout)
            #expect(error.stage == .greeting)
            // The configured 0.5 s applied, not the 30 s default. Said by the error rather than timed: with
            // every suite running in parallel on 2 cores, the wait for the CPU can exceed any bound.
            #expect(error.message == "no reply from the relay within 0.5 seconds", "\(error.message)")
        }
        #expect(started.duration(to: .now) < .seconds(300), "not the default's retries either")
        withExtendedLifetime(listener) {}
    }

    @Test("An address SMTP cannot carry is refused before connecting, as invalid_message")
    func invalidRecipient() async throws {
        let sink = try SMTPSink.shared()
        do {
            try await SMTPClient(configuration: try sink.configuration())
                .send(message(to: "mario@example.it>\r\nDATA", text: "x\n"))
            Issue.record("an injected address was sent")
        } catch let error as MailDeliveryError {
            #expect(error.code == .invalidMessage)
            #expect(error.isPermanent)
        }
    }

    @Test("STARTTLS then AUTH: the message arrives encrypted and authenticated",
          .enabled(if: SinkEnvironment.opensslAvailable))
    func startTLSAndAuth() async throws {
        let tls = try selfSignedCertificate()
        defer { try? FileManager.default.removeItem(at: tls.folder) }
        let sink = try await SMTPSink.start(arguments: ["--tls-cert", tls.certificate, "--tls-key", tls.key,
                                                        "--require-starttls", "--auth", "mailer:s3cret@x"])
        defer { sink.stop() }
        let recipient = uniqueRecipient()
        let url = "smtp://mailer:s3cret%40x@127.0.0.1:\(sink.port)?starttls=required&tls_verify=false"
        try await SMTPClient(configuration: try SMTPConfiguration(url: url)).send(message(to: recipient, text: "cifrato\n"))
        let mail = try #require(try await sink.waitForMessages(to: recipient).first)
        #expect(mail.tls)
        #expect(mail.authUser == "mailer")
        #expect(mail.text == "cifrato\n")
    }

    @Test("STARTTLS with certificate checks on and a self-signed certificate: tls_failed; a wrong password: auth_failed",
          .enabled(if: SinkEnvironment.opensslAvailable))
    func tlsAndAuthFailures() async throws {
        let tls = try selfSignedCertificate()
        defer { try? FileManager.default.removeItem(at: tls.folder) }
        let sink = try await SMTPSink.start(arguments: ["--tls-cert", tls.certificate, "--tls-key", tls.key,
                                                        "--require-starttls", "--auth", "mailer:right"])
        defer { sink.stop() }
        do {
            try await SMTPClient(configuration: try SMTPConfiguration(url: "smtp://mailer:right@127.0.0.1:\(sink.port)?starttls=required"))
                .send(message(to: uniqueRecipient(), text: "x\n"))
            Issue.record("an untrusted certificate was accepted")
        } catch let error as MailDeliveryError {
            #expect(error.code == .tlsFailed, "\(error)")
            #expect(!error.isPermanent)
        }
        do {
            try await SMTPClient(configuration: try SMTPConfiguration(url: "smtp://mailer:wrong@127.0.0.1:\(sink.port)?starttls=required&tls_verify=false"))
                .send(message(to: uniqueRecipient(), text: "x\n"))
            Issue.record("a wrong password was accepted")
        } catch let error as MailDeliveryError {
            #expect(error.code == .authFailed)
            #expect(error.replyCode == 535)
            #expect(!error.description.contains("wrong"))
        }
    }

    @Test("smtps:// speaks TLS from the first byte", .enabled(if: SinkEnvironment.opensslAvailable))
    func implicitTLS() async throws {
        let tls = try selfSignedCertificate()
        defer { try? FileManager.default.removeItem(at: tls.folder) }
        let sink = try await SMTPSink.start(arguments: ["--tls-cert", tls.certificate, "--tls-key", tls.key, "--implicit-tls"])
        defer { sink.stop() }
        let recipient = uniqueRecipient()
        try await SMTPClient(configuration: try SMTPConfiguration(url: "smtps://127.0.0.1:\(sink.port)?tls_verify=false"))
            .send(message(to: recipient, text: "subito cifrato\n"))
        let mail = try #require(try await sink.waitForMessages(to: recipient).first)
        #expect(mail.tls)
    }
}
