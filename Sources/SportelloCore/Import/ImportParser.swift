import Foundation

/// The kinds of records a provider can import, in the order they are applied (referenced kinds first): the
/// platform's, then the tenant's own kinds (`records:`).
public enum ImportKind: Sendable, Hashable, Comparable, CustomStringConvertible {
    case customer, contract, line, invoice, payment, usage, recharge
    /// A kind the tenant defines under `records:`, by id.
    case record(String)

    /// The platform's kinds, in application order.
    public static let builtIn: [ImportKind] = [.customer, .contract, .line, .invoice, .payment, .usage, .recharge]

    /// The name rows and messages use: `customer`, `usage`… or the record kind's id.
    public var rawValue: String {
        switch self {
        case .customer: "customer"
        case .contract: "contract"
        case .line: "line"
        case .invoice: "invoice"
        case .payment: "payment"
        case .usage: "usage"
        case .recharge: "recharge"
        case .record(let id): id
        }
    }

    public var description: String { rawValue }

    /// The record kind's id, nil for the platform's kinds.
    public var recordKind: String? {
        if case .record(let id) = self { return id }
        return nil
    }

    /// Accepts the singular, the plural and `usage_record(s)` of the platform's kinds, and the id of one of
    /// `recordKinds` (the tenant's `records:`).
    public init?(name: String, recordKinds: some Collection<String> = [String]()) {
        if let kind = Self.builtIn.first(where: { $0.rawValue == name }) { self = kind; return }
        let lowered = name.lowercased().trimmingWhitespaces()
        if let kind = Self.builtIn.first(where: { $0.rawValue == lowered }) { self = kind; return }
        if lowered.hasSuffix("s"), let kind = Self.builtIn.first(where: { $0.rawValue == String(lowered.dropLast()) }) { self = kind; return }
        if lowered.hasPrefix("usage") { self = .usage; return }
        if recordKinds.contains(lowered) { self = .record(lowered); return }
        return nil
    }

    /// The platform's kinds in application order, then the tenant's by id.
    public static func < (lhs: ImportKind, rhs: ImportKind) -> Bool {
        switch (lhs.recordKind, rhs.recordKind) {
        case (nil, nil): builtIn.firstIndex(of: lhs)! < builtIn.firstIndex(of: rhs)!
        case (nil, _?): true
        case (_?, nil): false
        case (let left?, let right?): left < right
        }
    }
}

/// A problem on one line of an import file.
public struct ImportProblem: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { "line \(line): \(message)" }
}

/// One record of an import file: its kind, where it was, and its fields as text.
public struct ImportRow: Sendable {
    public var kind: ImportKind
    public var line: Int
    public var fields: [String: String]
}

/// The two file formats: JSON Lines (one object per line, with a `type`) and CSV (a header row; the
/// kind from a `type` column, the `--kind` option or the file name). The type of a row of one of the tenant's
/// record kinds is the kind's id (`vehicles`).
public enum ImportFormat: String, Sendable {
    case jsonLines = "jsonl", csv

    public init?(path: String) {
        let lowered = path.lowercased()
        if lowered.hasSuffix(".jsonl") || lowered.hasSuffix(".ndjson") || lowered.hasSuffix(".json") { self = .jsonLines }
        else if lowered.hasSuffix(".csv") { self = .csv }
        else { return nil }
    }
}

/// Splits an import file into rows, collecting every syntax problem with its line number.
public enum ImportParser {
    /// The rows of `data`; a row's `type` names a platform kind or one of `recordKinds` (the tenant's `records:`).
    public static func parse(_ data: Data, format: ImportFormat, kind: ImportKind?, recordKinds: [String] = []) -> (rows: [ImportRow], problems: [ImportProblem]) {
        switch format {
        case .jsonLines: parseJSONLines(data, kind: kind, recordKinds: recordKinds)
        case .csv: parseCSV(data, kind: kind, recordKinds: recordKinds)
        }
    }

    static func parseJSONLines(_ data: Data, kind fixedKind: ImportKind?, recordKinds: [String]) -> (rows: [ImportRow], problems: [ImportProblem]) {
        var rows: [ImportRow] = []
        var problems: [ImportProblem] = []
        var lineNumber = 0
        data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            let bytes = buffer.bindMemory(to: UInt8.self)
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
                lineNumber += 1
                var trimmedEnd = end
                if trimmedEnd > start && bytes[trimmedEnd - 1] == UInt8(ascii: "\r") { trimmedEnd -= 1 }
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<trimmedEnd])
                start = end + 1
                if slice.allSatisfy({ $0 == 32 || $0 == 9 }) { continue }
                let object: Any
                do {
                    object = try JSONSerialization.jsonObject(with: Data(buffer: slice))
                } catch {
                    problems.append(ImportProblem(line: lineNumber, message: "not valid JSON (each line must be one JSON object)"))
                    continue
                }
                guard let dictionary = object as? [String: Any] else {
                    problems.append(ImportProblem(line: lineNumber, message: "expected a JSON object"))
                    continue
                }
                var fields: [String: String] = [:]
                var badField: String?
                for (key, value) in dictionary {
                    switch value {
                    case is NSNull: continue
                    case let text as String: fields[key] = text
                    case let number as NSNumber: fields[key] = number.stringValue
                    default: badField = key
                    }
                }
                if let badField {
                    problems.append(ImportProblem(line: lineNumber, message: "field '\(badField)' must be a string, a number or null"))
                    continue
                }
                guard let kind = resolveKind(fields.removeValue(forKey: "type"), fixed: fixedKind, recordKinds: recordKinds, line: lineNumber,
                                             problems: &problems) else { continue }
                rows.append(ImportRow(kind: kind, line: lineNumber, fields: fields))
            }
        }
        return (rows, problems)
    }

    private static func resolveKind(_ name: String?, fixed: ImportKind?, recordKinds: [String], line: Int, problems: inout [ImportProblem]) -> ImportKind? {
        if let name, let kind = ImportKind(name: name, recordKinds: recordKinds) { return kind }
        if name == nil, let fixed { return fixed }
        // Only a refused line pays for the list of names.
        let names = (ImportKind.builtIn.map(\.rawValue) + recordKinds).joined(separator: ", ")
        if let name {
            let hint = Suggest.closest(to: name, in: ImportKind.builtIn.map(\.rawValue) + recordKinds).map { " (did you mean '\($0)'?)" } ?? ""
            problems.append(ImportProblem(line: line, message: "unknown type '\(name)' (expected one of \(names))\(hint)"))
            return nil
        }
        problems.append(ImportProblem(line: line, message: "missing 'type' (one of \(names))"))
        return nil
    }

    /// RFC 4180 CSV: quoted fields may hold commas, doubled quotes and line breaks; `;` is accepted as
    /// the separator when the header has no comma (Italian spreadsheets). Line numbers are physical lines.
    static func parseCSV(_ data: Data, kind fixedKind: ImportKind?, recordKinds: [String]) -> (rows: [ImportRow], problems: [ImportProblem]) {
        var rows: [ImportRow] = []
        var problems: [ImportProblem] = []
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        let firstLineEnd = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
        let header = bytes[..<firstLineEnd]
        let separator: UInt8 = header.contains(UInt8(ascii: ",")) || !header.contains(UInt8(ascii: ";")) ? UInt8(ascii: ",") : UInt8(ascii: ";")

        var names: [String]?
        var record: [String] = []
        var field: [UInt8] = []
        var inQuotes = false
        var line = 1
        var recordLine = 1
        var index = 0
        var fieldWasQuoted = false

        func finishField() {
            let text = String(decoding: field, as: UTF8.self)
            record.append(fieldWasQuoted ? text : text.trimmingWhitespaces())
            field.removeAll(keepingCapacity: true)
            fieldWasQuoted = false
        }
        func finishRecord() {
            finishField()
            defer { record.removeAll(keepingCapacity: true) }
            if record.count == 1 && record[0].isEmpty { return }
            guard let header = names else {
                names = record.map { $0.lowercased() }
                if let duplicate = Dictionary(grouping: record, by: { $0.lowercased() }).first(where: { $0.value.count > 1 })?.key {
                    problems.append(ImportProblem(line: recordLine, message: "the header names column '\(duplicate)' twice"))
                }
                return
            }
            guard record.count == header.count else {
                problems.append(ImportProblem(line: recordLine, message: "\(record.count) fields, but the header has \(header.count)"))
                return
            }
            var fields: [String: String] = [:]
            for (name, value) in zip(header, record) where !value.isEmpty { fields[name] = value }
            guard let kind = resolveKind(fields.removeValue(forKey: "type"), fixed: fixedKind, recordKinds: recordKinds, line: recordLine,
                                         problems: &problems) else { return }
            rows.append(ImportRow(kind: kind, line: recordLine, fields: fields))
        }

        while index < bytes.count {
            let byte = bytes[index]
            if inQuotes {
                if byte == UInt8(ascii: "\"") {
                    if index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\"") {
                        field.append(byte)
                        index += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    if byte == UInt8(ascii: "\n") { line += 1 }
                    field.append(byte)
                }
            } else if byte == UInt8(ascii: "\"") && field.allSatisfy({ $0 == 32 }) {
                field.removeAll()
                inQuotes = true
                fieldWasQuoted = true
            } else if byte == separator {
                finishField()
            } else if byte == UInt8(ascii: "\n") {
                if field.last == UInt8(ascii: "\r") { field.removeLast() }
                finishRecord()
                line += 1
                recordLine = line
            } else {
                field.append(byte)
            }
            index += 1
        }
        if inQuotes {
            problems.append(ImportProblem(line: recordLine, message: "a quoted field is never closed"))
        } else if !field.isEmpty || !record.isEmpty {
            if field.last == UInt8(ascii: "\r") { field.removeLast() }
            finishRecord()
        }
        if names == nil { problems.append(ImportProblem(line: 1, message: "the file is empty: a CSV file needs a header row")) }
        return (rows, problems)
    }
}
