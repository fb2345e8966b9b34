import Foundation
@_exported import SportelloTestSupport  // every file of the target sees the shared helpers
import Testing
import SportelloCore
import SportelloStore
@testable import SportelloMail
#if canImport(Glibc)
import Glibc
#endif

/// The shipped templates, loaded once.
let shippedTemplateSet: Result<MailTemplates, any Error> = Result {
    try MailTemplates(root: repositoryRoot.appendingPathComponent("templates"))
}

/// 21 November 2026, 12:00 UTC.
let fixedDate = Date(timeIntervalSince1970: 1_795_262_400)

/// An address only this test writes to, so tests can share one sink.
func uniqueRecipient(_ base: String = "cliente") -> String {
    "\(base)-\(UUID().uuidString.prefix(12).lowercased())@example.it"
}

/// A fixed "random" source: the same bytes every time.
struct FixedRandom: SecureRandomSource {
    var byte: UInt8
    func bytes(_ count: Int) -> [UInt8] { Array(repeating: byte, count: count) }
}

// MARK: - The SMTP sink

/// The sink started by `scripts/test` (`start_smtp_sink`). Tests that need it are skipped when it is not
/// there, unless `SPORTELLO_REQUIRE_SMTP=1`: then they run, and fail.
enum SinkEnvironment {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    static var enabled: Bool {
        environment["SPORTELLO_TEST_SMTP_PORT"] != nil || environment["SPORTELLO_REQUIRE_SMTP"] == "1"
    }

    static var opensslAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") || FileManager.default.isExecutableFile(atPath: "/usr/local/bin/openssl")
    }
}

/// One message as the sink received it: the envelope, the headers and parts as Python's e-mail parser
/// decoded them, and the raw bytes.
struct ReceivedMail: Decodable {
    var number: Int
    var mailFrom: String
    var rcptTos: [String]
    var tls: Bool
    var authUser: String?
    var headers: [String: [String]]
    var subject: String?
    var messageId: String?
    var text: String?
    var html: String?
    var defects: [String]
    var raw = Data()

    enum CodingKeys: String, CodingKey {
        case number, mailFrom, rcptTos, tls, authUser, headers, subject, messageId, text, html, defects
    }

    func header(_ name: String) -> String? { headers[name.lowercased()]?.first }

    /// The first http(s) link of the text part.
    var firstLink: String? {
        guard let text, let match = text.firstMatch(of: /https?:\/\/\S+/) else { return nil }
        return String(match.output)
    }
}

/// A running sink: the shared one, or one a test started (and stops).
final class SMTPSink: @unchecked Sendable {
    let port: Int
    let spool: URL
    private let process: Process?
    /// The folder of a sink this test started (spool and log), removed by `stop()`.
    private let folder: URL?

    private init(port: Int, spool: URL, process: Process?, folder: URL? = nil) {
        self.port = port
        self.spool = spool
        self.process = process
        self.folder = folder
    }

    /// The sink of the test script.
    static func shared() throws -> SMTPSink {
        let environment = SinkEnvironment.environment
        let port = try #require(environment["SPORTELLO_TEST_SMTP_PORT"].flatMap(Int.init),
                                "SPORTELLO_REQUIRE_SMTP=1 but no SMTP sink: run the tests through scripts/test (start_smtp_sink)")
        let spool = try #require(environment["SPORTELLO_TEST_SMTP_SPOOL"], "SPORTELLO_TEST_SMTP_SPOOL is not set")
        return SMTPSink(port: port, spool: URL(fileURLWithPath: spool), process: nil)
    }

    /// Starts a sink of this test's own on `port` (default: a free one), with extra sink options.
    static func start(port: Int? = nil, arguments: [String] = []) async throws -> SMTPSink {
        let environment = SinkEnvironment.environment
        let python = try #require(environment["SPORTELLO_TEST_SMTP_PYTHON"], "SPORTELLO_TEST_SMTP_PYTHON is not set")
        let script = try #require(environment["SPORTELLO_TEST_SMTP_SINK"], "SPORTELLO_TEST_SMTP_SINK is not set")
        let port = try port ?? freePort()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sportello-sink-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, "--port", String(port), "--spool", folder.appendingPathComponent("spool").path] + arguments
        let log = folder.appendingPathComponent("sink.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let sink = SMTPSink(port: port, spool: folder.appendingPathComponent("spool"), process: process, folder: folder)
        let started = ContinuousClock.now
        while !canConnect(port: port) {
            guard process.isRunning, started.duration(to: .now) < .seconds(10) else {
                let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                sink.stop()
                Issue.record("the SMTP sink did not start on port \(port): \(output)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return sink
    }

    /// SIGTERM, then SIGKILL if it is still there after two seconds.
    func stop() {
        defer { if let folder { try? FileManager.default.removeItem(at: folder) } }
        guard let process, process.isRunning else { return }
        process.terminate()
        for _ in 0..<200 where process.isRunning { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for _ in 0..<200 where process.isRunning { usleep(10_000) }
    }

    /// Every message received so far whose envelope names `recipient`.
    func messages(to recipient: String) throws -> [ReceivedMail] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: spool.path)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try names.compactMap { name in
            let url = spool.appendingPathComponent(name)
            var mail = try decoder.decode(ReceivedMail.self, from: Data(contentsOf: url))
            guard mail.rcptTos.contains(where: { $0.caseInsensitiveCompare(recipient) == .orderedSame }) else { return nil }
            mail.raw = try Data(contentsOf: url.deletingPathExtension().appendingPathExtension("eml"))
            return mail
        }
    }

    /// Waits (up to `timeout`) until `count` messages to `recipient` arrived; returns them all.
    func waitForMessages(to recipient: String, count: Int = 1, timeout: Duration = .seconds(10)) async throws -> [ReceivedMail] {
        let started = ContinuousClock.now
        while true {
            let found = try messages(to: recipient)
            if found.count >= count || started.duration(to: .now) > timeout { return found }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// A configuration for this sink (plain SMTP unless `url` says otherwise).
    func configuration(_ url: String? = nil, from: String = SMTPConfiguration.defaultFrom) throws -> SMTPConfiguration {
        try SMTPConfiguration(url: url ?? "smtp://127.0.0.1:\(port)", from: from)
    }
}

/// A port nobody listens on right now (bound to 0, read back, released).
func freePort() throws -> Int {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { throw POSIXError(.EMFILE) }
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
    }
    guard bound else { throw POSIXError(.EADDRINUSE) }
    return Int(UInt16(bigEndian: address.sin_port))
}

func canConnect(port: Int) -> Bool {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { return false }
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port)).bigEndian
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

/// A TCP port that accepts connections and never says a word (reply timeouts).
final class SilentListener: @unchecked Sendable {
    let port: Int
    private let socket: Int32

    init() throws {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, length) == 0 && listen(socket, 8) == 0 && getsockname(socket, $0, &length) == 0
            }
        }
        guard listening else { close(socket); throw POSIXError(.EADDRINUSE) }
        self.socket = socket
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(socket) }
}

/// A self-signed certificate for 127.0.0.1 and localhost, made with openssl in a temporary folder.
func selfSignedCertificate() throws -> (certificate: String, key: String, folder: URL) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sportello-tls-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let certificate = folder.appendingPathComponent("cert.pem").path
    let key = folder.appendingPathComponent("key.pem").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") ? "/usr/bin/openssl" : "/usr/local/bin/openssl")
    process.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", certificate]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    try #require(process.terminationStatus == 0, "openssl could not make a certificate")
    return (certificate, key, folder)
}

