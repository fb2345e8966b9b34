import Foundation
import Logging
import Synchronization

/// How log lines are written: `text` for people (`2026-12-07T10:00:00.123Z info sportello.http: request method=GET …`),
/// `json` for log collectors (one object per line).
public enum LogFormat: String, Sendable, CaseIterable {
    case text, json
}

/// A swift-log handler writing one line per entry, each with a single `write` to standard output (never held in a
/// buffer until exit), as text or JSON. `sink` replaces standard output (the tests capture lines with it).
public struct LineLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public let label: String
    public let format: LogFormat
    private let sink: @Sendable (String) -> Void

    public init(label: String, format: LogFormat = .text, level: Logger.Level = .info,
                sink: @escaping @Sendable (String) -> Void = LineLogHandler.standardOutput) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes `line` and a newline to standard output in one call.
    public static let standardOutput: @Sendable (String) -> Void = { line in
        let bytes = Array((line + "\n").utf8)
        outputLock.withLock { _ in
            bytes.withUnsafeBufferPointer { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = write(1, buffer.baseAddress! + offset, buffer.count - offset)
                    if written <= 0 { break }
                    offset += written
                }
            }
        }
    }

    private static let outputLock = Mutex(())
    private static let timeStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    public func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        let time = Self.timeStyle.format(Date())
        switch format {
        case .text:
            var line = "\(time) \(event.level) \(label): \(event.message)"
            for key in fields.keys.sorted() { line += " \(key)=\(Self.textValue(fields[key]!))" }
            sink(line)
        case .json:
            var object: [String: Any] = ["time": time, "level": event.level.rawValue, "logger": label, "message": "\(event.message)"]
            for (key, value) in fields where object[key] == nil { object[key] = Self.jsonValue(value) }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            sink(String(decoding: data, as: UTF8.self))
        }
    }

    private static func textValue(_ value: Logger.MetadataValue) -> String {
        let text = "\(value)"
        return text.isEmpty || text.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) ? "\"\(text.replacingOccurrences(of: "\"", with: "\\\""))\"" : text
    }

    private static func jsonValue(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let text): return text
        case .stringConvertible(let convertible):
            // Numbers stay numbers (a status, a count); anything else is its description.
            if let number = convertible as? Int { return number }
            if let number = convertible as? Double { return number }
            return "\(convertible)"
        case .array(let values): return values.map(jsonValue)
        case .dictionary(let entries): return entries.mapValues(jsonValue)
        }
    }
}
