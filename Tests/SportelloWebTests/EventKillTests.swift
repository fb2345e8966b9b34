import Foundation
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

/// The real `sportello` executable delivering events to a consumer the test can watch from outside the process (a file
/// it appends to and flushes), killed with SIGKILL in the middle of its run, then started again.
@Suite("Domain events survive kill -9 of the delivering process")
struct EventKillTests {
    /// The `sportello` binary built next to this test bundle, or in `.build/debug`.
    static var sportelloBinary: URL? {
        let candidates = [Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("sportello"),
                          repositoryRoot.appendingPathComponent(".build/debug/sportello")]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// The lines of the consumer's file for `tenant`: (event id, customer id), in the order they were written.
    static func delivered(_ file: URL, tenant: String) -> [(event: Int64, customer: Int64)] {
        let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 4, parts[0] == tenant, let event = Int64(parts[1]), let customer = Int64(parts[2]) else { return nil }
            return (event, customer)
        }
    }

    @Test("every event is delivered at least once and in order per customer across SIGKILL and restart", arguments: TestEngine.available)
    func killAndRestart(engine: TestEngine) async throws {
        let binary = try #require(Self.sportelloBinary, "build the sportello executable first (swift build)")
        let location = try engine.location()
        let tenant = uniqueTenant("killed")
        let database = try await openTestDatabase(location)
        defer { Task { await database.close() } }
        _ = try await database.migrate()
        let customers: [Int64] = [11, 12, 13]
        var recorded: [Int64] = []
        for index in 0..<60 {
            let customer = customers[index % 3]
            let id = try await database.write(tenant: tenant) { transaction in
                try await transaction.recordEvent(EventDraft(.requestCreated, customerId: customer, subject: "request", id: Int64(index)))
            }
            recorded.append(try #require(id))
        }

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sportello-events-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("delivered.log"), log = folder.appendingPathComponent("stderr.log")
        var environment = ProcessInfo.processInfo.environment
        environment[EventLogFileConsumer.environmentVariable] = file.path
        environment[EventLogFileConsumer.delayVariable] = "40"
        if case .postgres = location, (environment["SPORTELLO_DATA_KEY"] ?? "").isEmpty, (environment["SPORTELLO_DATA_KEY_FILE"] ?? "").isEmpty {
            environment["SPORTELLO_DATA_KEY"] = testDataKey
        }
        let databaseArgument: String
        switch location {
        case .sqlite(let path): databaseArgument = path
        case .postgres(let url): databaseArgument = url
        }
        FileManager.default.createFile(atPath: log.path, contents: nil)
        func start(_ extra: [String]) throws -> Process {
            let process = Process()
            process.executableURL = binary
            process.currentDirectoryURL = repositoryRoot
            process.arguments = ["events", "deliver", "--database", databaseArgument, "--tenant", tenant, "--lease", "2"] + extra
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            let errors = try FileHandle(forWritingTo: log)
            errors.seekToEndOfFile()
            process.standardError = errors
            try process.run()
            return process
        }

        // First run: delivering continuously until killed after 15 deliveries.
        let first = try start(["--poll-interval", "1"])
        let deadline = ContinuousClock.now + .seconds(60)
        while Self.delivered(file, tenant: tenant).count < 15 && ContinuousClock.now < deadline && first.isRunning {
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let stderr = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(first.terminationReason == .uncaughtSignal, "the process was killed (stderr: \(stderr.suffix(2000)))")
        let beforeKill = Self.delivered(file, tenant: tenant)
        #expect(beforeKill.count >= 15 && beforeKill.count < 60, "killed in the middle of the run (\(beforeKill.count) delivered)")

        // Second run, after the lease of whatever the killed process held: one pass delivers the rest.
        try await Task.sleep(for: .seconds(3))
        let second = try start(["--once"])
        second.waitUntilExit()
        #expect(second.terminationStatus == 0, "stderr: \(((try? String(contentsOf: log, encoding: .utf8)) ?? "").suffix(2000))")

        let lines = Self.delivered(file, tenant: tenant)
        #expect(Set(lines.map(\.event)) == Set(recorded), "every event delivered at least once")
        for customer in customers {
            let sequence = lines.filter { $0.customer == customer }.map(\.event)
            #expect(sequence == sequence.sorted(), "customer \(customer)'s events in order (a repeat only of the one in flight): \(sequence)")
        }
        #expect(lines.count - Set(lines.map(\.event)).count <= 1, "at most the delivery in flight at the kill is repeated")
        let all = recorded
        let states = try await database.read(tenant: tenant) { try await $0.eventDeliveries(eventIds: all) }
        #expect(states.count == 60 && states.allSatisfy { $0.status == .delivered && $0.consumer == "test-file-log" })
        try? FileManager.default.removeItem(at: folder)
    }
}
