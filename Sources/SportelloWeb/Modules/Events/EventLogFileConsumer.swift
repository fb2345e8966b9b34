import Foundation
import SportelloApplication
import SportelloStore

/// A consumer for tests of the real executable (`kill -9` and restart): appends one line per delivery,
/// `<tenant> <event id> <customer id or -> <type>`, to the file `SPORTELLO_EVENTS_TEST_LOG` names, flushed to disk
/// before the delivery counts; `SPORTELLO_EVENTS_TEST_DELAY_MS` makes each delivery take that long first (so a
/// test can kill the process in the middle of a run). Listed only when the variable is set; never in production.
public struct EventLogFileConsumer: EventConsumer {
    public static let environmentVariable = "SPORTELLO_EVENTS_TEST_LOG"
    public static let delayVariable = "SPORTELLO_EVENTS_TEST_DELAY_MS"

    public let id = "test-file-log"
    public let path: String
    public let delay: Duration

    public init(path: String, delay: Duration = .zero) {
        self.path = path; self.delay = delay
    }

    /// The consumer the environment asks for, if any.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> EventLogFileConsumer? {
        guard let path = environment[environmentVariable], !path.isEmpty else { return nil }
        let milliseconds = environment[delayVariable].flatMap(Int.init) ?? 0
        return EventLogFileConsumer(path: path, delay: .milliseconds(max(0, milliseconds)))
    }

    public func deliver(_ event: RecordedEvent) async throws {
        if delay > .zero { try await Task.sleep(for: delay) }
        let line = "\(event.tenant) \(event.id) \(event.customerId.map(String.init) ?? "-") \(event.type.rawValue)\n"
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard descriptor >= 0 else { throw EventDeliveryFailure(code: "open_failed", message: "cannot open the test log (errno \(errno))") }
        defer { close(descriptor) }
        let written = line.utf8CString.withUnsafeBufferPointer { buffer in write(descriptor, buffer.baseAddress, buffer.count - 1) }
        guard written == line.utf8.count, fsync(descriptor) == 0 else {
            throw EventDeliveryFailure(code: "write_failed", message: "cannot write the test log (errno \(errno))")
        }
    }
}
