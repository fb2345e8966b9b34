import Foundation
import Testing
import SportelloCore
@testable import SportelloStore

@Suite("Durability")
struct DurabilityTests {
    /// The `sportello` binary the test script built next to this test bundle.
    static var sportelloBinary: URL? {
        let candidates = [Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("sportello"),
                          repositoryRoot.appendingPathComponent(".build/debug/sportello")]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    @Test("an acknowledged SQLite write survives kill -9 of the process")
    func acknowledgedWritesSurviveSIGKILL() async throws {
        let binary = try #require(Self.sportelloBinary, "build the sportello executable first (swift build)")
        let location = try TestEngine.sqlite.location()
        guard case .sqlite(let path) = location else { return }
        let process = Process()
        process.executableURL = binary
        process.arguments = ["_write-probe", "--database", path, "--count", "100000"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()

        var acknowledged = 0
        var buffer = Data()
        let reader = output.fileHandleForReading
        while acknowledged < 300 {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            let text = String(decoding: buffer, as: UTF8.self)
            let complete = text.hasSuffix("\n") ? text : String(text[..<(text.lastIndex(of: "\n") ?? text.startIndex)])
            if let last = complete.split(separator: "\n").last, last.hasPrefix("ack "), let number = Int(last.dropFirst(4)) {
                acknowledged = number
            }
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(acknowledged >= 300, "the probe acknowledged \(acknowledged) writes before it was killed")

        let database = try await openTestDatabase(location)
        let stored = try await database.read(tenant: "probe") { t in
            try await t.auditLog(limit: 200_000).compactMap { $0.targetId.flatMap(Int.init) }
        }
        await database.close()
        let missing = Set(1...acknowledged).subtracting(stored)
        #expect(missing.isEmpty, "acknowledged but lost after kill -9: \(missing.sorted().prefix(10))")
    }
}
