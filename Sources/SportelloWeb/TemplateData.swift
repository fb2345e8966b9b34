import Foundation
import Synchronization

/// A page's data as templates read it: what a typed page model encodes to.
///
/// Sections follow mustache: `false` hides, a list repeats, anything else (text, numbers, empty text,
/// objects) opens once; `null` is no value at all.
enum TemplateData: Sendable, Equatable {
    case text(String)
    case bool(Bool)
    case list([TemplateData])
    case object([String: TemplateData])
    case null

    /// The child `name` of an object; nil for anything else or a missing or null child.
    @inline(__always)
    func child(_ name: String) -> TemplateData? {
        guard case .object(let entries) = self, let child = entries[name] else { return nil }
        if case .null = child { return nil }
        return child
    }

    /// The text a variable tag prints: nothing for objects and lists (swift-mustache prints Swift's description).
    var printed: String {
        switch self {
        case .text(let text): text
        case .bool(let flag): flag ? "true" : "false"
        case .null, .list, .object: ""
        }
    }

    /// `model` encoded with its property names in snake case (`statusClass` → `status_class`), as templates write them.
    init(encoding model: some Encodable) {
        if let data = model as? TemplateData { self = data; return }
        let encoder = TemplateDataEncoder()
        do { try model.encode(to: encoder) } catch { preconditionFailure("a page model failed to encode: \(error)") }
        self = encoder.result
    }

    /// Untyped values (dictionaries, arrays, strings, numbers, optionals, structures) as template data: for the
    /// tests that compare the renderer with swift-mustache, which reads `[String: Any]`.
    init(any value: Any) {
        switch value {
        case let data as TemplateData: self = data
        case let text as String: self = .text(text)
        case let flag as Bool: self = .bool(flag)
        case let number as Int: self = .text(String(number))
        case let number as Int64: self = .text(String(number))
        case let number as Double: self = .text(String(describing: number))
        case let map as [String: Any]: self = .object(map.compactMapValues { TemplateData(optional: $0) })
        case let list as [Any]: self = .list(list.compactMap { TemplateData(optional: $0) })
        case let optional as OptionalTemplateValue:
            self = optional.wrappedValue.map { TemplateData(any: $0) } ?? .null
        case let model as any Encodable: self = TemplateData(encoding: model)
        default:
            let children = Mirror(reflecting: value).children
            if children.isEmpty {
                self = .text(String(describing: value))
            } else {
                var entries: [String: TemplateData] = [:]
                for child in children { if let label = child.label { entries[label] = TemplateData(optional: child.value) } }
                self = .object(entries)
            }
        }
    }

    /// As `init(any:)`, nil for a nil optional.
    private init?(optional value: Any) {
        let data = TemplateData(any: value)
        if case .null = data { return nil }
        self = data
    }

    /// Dotted keys merged as nested objects, so `a.b` and `a.c` become `a: {b, c}`.
    init(nesting strings: [String: String]) {
        var root: [String: TemplateData] = [:]
        func insert(_ path: ArraySlice<Substring>, _ value: String, into node: inout [String: TemplateData]) {
            guard let head = path.first.map(String.init) else { return }
            if path.count == 1 { node[head] = .text(value); return }
            var child: [String: TemplateData] = [:]
            if case .object(let existing)? = node[head] { child = existing }
            insert(path.dropFirst(), value, into: &child)
            node[head] = .object(child)
        }
        for (key, value) in strings.sorted(by: { $0.key < $1.key }) { insert(key.split(separator: ".")[...], value, into: &root) }
        self = .object(root)
    }
}

/// Lets an `Any` holding an optional be unwrapped without knowing the wrapped type.
protocol OptionalTemplateValue {
    var wrappedValue: Any? { get }
}

extension Optional: OptionalTemplateValue {
    var wrappedValue: Any? { self.map { $0 as Any } }
}

// MARK: - Encoding

/// Encodes a page model into `TemplateData`. Keys are converted to snake case; nil optionals are left out.
private final class TemplateDataEncoder: Encoder {
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    fileprivate var slot = Slot.empty

    fileprivate enum Slot {
        case empty
        case value(TemplateData)
        case object(ObjectBuffer)
        case list(ListBuffer)
    }

    var result: TemplateData {
        switch slot {
        case .empty: .null
        case .value(let value): value
        case .object(let buffer): buffer.data
        case .list(let buffer): buffer.data
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object(let buffer) = slot { return KeyedEncodingContainer(KeyedContainer<Key>(buffer: buffer)) }
        let buffer = ObjectBuffer()
        slot = .object(buffer)
        return KeyedEncodingContainer(KeyedContainer<Key>(buffer: buffer))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .list(let buffer) = slot { return UnkeyedContainer(buffer: buffer) }
        let buffer = ListBuffer()
        slot = .list(buffer)
        return UnkeyedContainer(buffer: buffer)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleValueContainer(encoder: self) }

    /// A value as data: the common leaf types directly, anything else through a nested encoder.
    static func data(_ value: some Encodable) throws -> TemplateData {
        switch value {
        case let text as String: return .text(text)
        case let flag as Bool: return .bool(flag)
        case let number as Int: return .text(String(number))
        case let number as Int64: return .text(String(number))
        case let number as Double: return .text(String(describing: number))
        case let data as TemplateData: return data
        default:
            let encoder = TemplateDataEncoder()
            try value.encode(to: encoder)
            return encoder.result
        }
    }

    /// Keys converted so far: property names, a few hundred in all (a dictionary's keys also pass here, so the
    /// table stops growing at `snakeCaseKeysKept`).
    private static let snakeCaseKeys = Mutex<[String: String]>([:])
    private static let snakeCaseKeysKept = 4_096

    /// `statusClass` → `status_class`; keys already in snake case are returned as they are. Each key is converted once.
    static func snakeCase(_ key: String) -> String {
        guard key.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { return key }
        if let known = snakeCaseKeys.withLock({ $0[key] }) { return known }
        let converted = convertToSnakeCase(key)
        snakeCaseKeys.withLock { if $0.count < snakeCaseKeysKept { $0[key] = converted } }
        return converted
    }

    private static func convertToSnakeCase(_ key: String) -> String {
        var result = ""
        result.reserveCapacity(key.utf8.count + 4)
        for scalar in key.unicodeScalars {
            if scalar.value >= 0x41 && scalar.value <= 0x5A {
                if !result.isEmpty { result.append("_") }
                result.unicodeScalars.append(Unicode.Scalar(scalar.value + 0x20)!)
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

private final class ObjectBuffer {
    var entries: [String: TemplateData] = [:]
    var nested: [String: TemplateDataEncoder] = [:]
    var data: TemplateData {
        var all = entries
        for (key, encoder) in nested { all[key] = encoder.result }
        return .object(all)
    }
}

private final class ListBuffer {
    var items: [TemplateData] = []
    var nested: [(Int, TemplateDataEncoder)] = []
    var data: TemplateData {
        var all = items
        for (index, encoder) in nested { all[index] = encoder.result }
        return .list(all)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let buffer: ObjectBuffer
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil(forKey key: Key) throws { buffer.entries[TemplateDataEncoder.snakeCase(key.stringValue)] = .null }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        buffer.entries[TemplateDataEncoder.snakeCase(key.stringValue)] = try TemplateDataEncoder.data(value)
    }
    // The common leaves directly, as `TemplateDataEncoder.data` would make them, without its dynamic casts (synthesized
    // `encode(to:)` calls these for the properties of these types).
    mutating func encode(_ value: String, forKey key: Key) throws { buffer.entries[TemplateDataEncoder.snakeCase(key.stringValue)] = .text(value) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { buffer.entries[TemplateDataEncoder.snakeCase(key.stringValue)] = .bool(value) }
    mutating func encode(_ value: Int, forKey key: Key) throws { buffer.entries[TemplateDataEncoder.snakeCase(key.stringValue)] = .text(String(value)) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { buffer.entries[TemplateDataEncoder.snakeCase(key.stringValue)] = .text(String(value)) }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } }
    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } }
    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        nestedEncoder(for: key).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { nestedEncoder(for: key).unkeyedContainer() }
    mutating func superEncoder() -> any Encoder { nestedEncoder(named: "super") }
    mutating func superEncoder(forKey key: Key) -> any Encoder { nestedEncoder(for: key) }

    private func nestedEncoder(for key: Key) -> TemplateDataEncoder { nestedEncoder(named: TemplateDataEncoder.snakeCase(key.stringValue)) }
    private func nestedEncoder(named name: String) -> TemplateDataEncoder {
        let encoder = TemplateDataEncoder()
        buffer.nested[name] = encoder
        return encoder
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let buffer: ListBuffer
    var codingPath: [any CodingKey] { [] }
    var count: Int { buffer.items.count }

    mutating func encodeNil() throws { buffer.items.append(.null) }
    mutating func encode<T: Encodable>(_ value: T) throws { buffer.items.append(try TemplateDataEncoder.data(value)) }
    mutating func encode(_ value: String) throws { buffer.items.append(.text(value)) }
    mutating func encode(_ value: Bool) throws { buffer.items.append(.bool(value)) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        nestedEncoder().container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { nestedEncoder().unkeyedContainer() }
    mutating func superEncoder() -> any Encoder { nestedEncoder() }

    private func nestedEncoder() -> TemplateDataEncoder {
        let encoder = TemplateDataEncoder()
        buffer.nested.append((buffer.items.count, encoder))
        buffer.items.append(.null)
        return encoder
    }
}

private struct SingleValueContainer: SingleValueEncodingContainer {
    let encoder: TemplateDataEncoder
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil() throws { encoder.slot = .value(.null) }
    mutating func encode<T: Encodable>(_ value: T) throws { encoder.slot = .value(try TemplateDataEncoder.data(value)) }
}

extension TemplateData: Encodable {
    func encode(to encoder: any Encoder) throws {
        // Only reached by encoders other than the template one (which takes the value as it is).
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let text): try container.encode(text)
        case .bool(let flag): try container.encode(flag)
        case .list(let items): try container.encode(items)
        case .object(let entries): try container.encode(entries)
        case .null: try container.encodeNil()
        }
    }
}
