import Foundation
import Yams

/// A YAML value that remembers where it was written, so every later check can point at it.
public struct ConfigNode: Sendable, Hashable {
    public enum Value: Sendable, Hashable {
        /// A scalar's text; `plain` is false when it was quoted (so `"30"` stays a string).
        case scalar(String, plain: Bool)
        case mapping([Entry])
        case sequence([ConfigNode])
    }

    public struct Entry: Sendable, Hashable {
        public var key: String
        public var keyLocation: SourceLocation
        public var value: ConfigNode
    }

    public var value: Value
    public var location: SourceLocation

    public init(_ value: Value, at location: SourceLocation) {
        self.value = value
        self.location = location
    }

    public var isNull: Bool {
        if case .scalar(let text, let plain) = value, plain, ["", "~", "null", "Null", "NULL"].contains(text) { return true }
        return false
    }

    public var scalar: String? {
        if case .scalar(let text, _) = value { return text }
        return nil
    }

    public var entries: [Entry]? {
        if case .mapping(let entries) = value { return entries }
        return nil
    }

    public var items: [ConfigNode]? {
        if case .sequence(let items) = value { return items }
        return nil
    }

    public subscript(key: String) -> ConfigNode? {
        entries?.first { $0.key == key }?.value
    }

    /// A short name for the node's kind, used in "expected X, found Y" messages.
    public var kindName: String {
        switch value {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let text, let plain):
            if isNull { return "nothing (null)" }
            if plain, Int(text) != nil { return "the number \(text)" }
            if plain, text == "true" || text == "false" { return "the boolean \(text)" }
            return "the text '\(text.count > 40 ? String(text.prefix(40)) + "…" : text)'"
        }
    }

    /// Deep merge used by `extends:`: mappings merge key by key (this node wins), anything else is replaced.
    public func merged(over base: ConfigNode) -> ConfigNode {
        guard case .mapping(let mine) = value, case .mapping(let theirs) = base.value else { return self }
        // The tenant's order wins (its navigation lists sections as its file does); entries only the base
        // has follow, in the base's order.
        var result: [Entry] = []
        for entry in mine {
            if let inBase = theirs.first(where: { $0.key == entry.key }) {
                result.append(Entry(key: entry.key, keyLocation: entry.keyLocation, value: entry.value.merged(over: inBase.value)))
            } else {
                result.append(entry)
            }
        }
        let own = Set(mine.map(\.key))
        result += theirs.filter { !own.contains($0.key) }
        return ConfigNode(.mapping(result), at: location)
    }
}

/// Reads YAML text into `ConfigNode`s, turning parser failures into located diagnostics.
public enum ConfigParser {
    /// Parses one YAML document. Returns nil (with a diagnostic) when the text is not valid YAML.
    public static func parse(_ text: String, file: String, diagnostics: inout DiagnosticBag) -> ConfigNode? {
        parse(text, file: file, interner: nil, diagnostics: &diagnostics)
    }

    /// Parses with an `Interner`, so identical texts across many files share one copy in memory.
    static func parse(_ text: String, file: String, interner: Interner?, diagnostics: inout DiagnosticBag) -> ConfigNode? {
        do {
            guard let node = try Yams.compose(yaml: text, .basic) else {
                diagnostics.error("empty-file", at: SourceLocation(file: file, line: 1, column: 1), "the file is empty",
                                  hint: "a tenant definition starts with 'id:'")
                return nil
            }
            return convert(node, file: file, interner: interner)
        } catch let error as YamlError {
            report(error, text: text, file: file, into: &diagnostics)
            return nil
        } catch {
            diagnostics.error("yaml-syntax", at: SourceLocation(file: file, line: 1, column: 1), "cannot read YAML: \(error)")
            return nil
        }
    }

    static func convert(_ node: Node, file: String, interner: Interner?) -> ConfigNode {
        let location = SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
        switch node {
        case .scalar(let scalar):
            let text = interner?.intern(scalar.string) ?? scalar.string
            return ConfigNode(.scalar(text, plain: scalar.style == .plain || scalar.style == .any), at: location)
        case .mapping(let mapping):
            let entries = mapping.map { key, value -> ConfigNode.Entry in
                let keyNode = convert(key, file: file, interner: interner)
                return ConfigNode.Entry(key: keyNode.scalar ?? "\(key)", keyLocation: keyNode.location, value: convert(value, file: file, interner: interner))
            }
            return ConfigNode(.mapping(entries), at: location)
        case .sequence(let sequence):
            return ConfigNode(.sequence(sequence.map { convert($0, file: file, interner: interner) }), at: location)
        case .alias(let alias):
            return ConfigNode(.scalar(String(describing: alias), plain: false), at: location)
        }
    }

    static func report(_ error: YamlError, text: String, file: String, into diagnostics: inout DiagnosticBag) {
        func at(_ mark: (line: Int, column: Int)) -> SourceLocation { SourceLocation(file: file, line: max(mark.line, 1), column: max(mark.column, 1)) }
        let hint = "check indentation and that every 'key: value' has a space after the colon"
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            var message = "invalid YAML: \(problem)"
            if let context { message += " (\(context.text) at line \(context.mark.line))" }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let nearTab = [mark.line - 1, mark.line, (context?.mark.line ?? 0) - 1].contains { $0 >= 0 && $0 < lines.count && lines[$0].prefix { $0 == " " || $0 == "\t" }.contains("\t") }
            diagnostics.error("yaml-syntax", at: at((mark.line, mark.column)), message, hint: problem.contains("tab") || nearTab ? "YAML indents with spaces, not tabs" : hint)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? "?"
            let location = secondOccurrence(of: key, after: (context.mark.line, context.mark.column), in: text).map(at) ?? at((context.mark.line, context.mark.column))
            diagnostics.error("duplicate-key", at: location, "key '\(key)' appears twice in the same mapping (first at line \(context.mark.line))",
                              hint: "remove or rename one of them")
        case .reader(let problem, let offset, _, _):
            let location = offset.map { lineColumn(ofOffset: $0, in: text) }.map(at) ?? at((1, 1))
            diagnostics.error("yaml-encoding", at: location, "cannot read the file: \(problem)", hint: "save the file as UTF-8")
        default:
            diagnostics.error("yaml-syntax", at: at((1, 1)), "invalid YAML: \(error)")
        }
    }

    private static func secondOccurrence(of key: String, after mark: (line: Int, column: Int), in text: String) -> (line: Int, column: Int)? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard mark.line >= 1, mark.line <= lines.count else { return nil }
        let indent = mark.column - 1
        for index in mark.line..<lines.count {
            let line = lines[index]
            let leading = line.prefix { $0 == " " || $0 == "-" }.count
            if leading < indent && !line.trimmingCharacters(in: .whitespaces).isEmpty && !line.trimmingCharacters(in: .whitespaces).hasPrefix("#") { break }
            let body = line.dropFirst(indent)
            if leading == indent, body.hasPrefix(key + ":") || body.hasPrefix("\"\(key)\":") {
                return (index + 1, mark.column)
            }
        }
        return nil
    }

    private static func lineColumn(ofOffset offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1, column = 1
        for (index, character) in text.unicodeScalars.enumerated() {
            if index >= offset { break }
            if character == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }
}

/// Shares one copy of texts that many tenants repeat (labels, ids), so thousands of similar
/// definitions cost little memory. Used by one loading thread at a time.
final class Interner {
    private var strings = Set<String>()
    private var texts = Set<LocalizedText>()

    func intern(_ string: String) -> String { strings.insert(string).memberAfterInsert }
    func intern(_ text: LocalizedText) -> LocalizedText { texts.insert(text).memberAfterInsert }
}

extension CodingUserInfoKey {
    static let interner = CodingUserInfoKey(rawValue: "sportello.interner")!
}
