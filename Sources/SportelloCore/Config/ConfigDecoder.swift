/// Decodes a schema-checked `ConfigNode` tree into the Swift model, keeping key order.
struct ConfigDecoder {
    static func decode<T: Decodable>(_ type: T.Type, from node: ConfigNode, interner: Interner? = nil) throws -> T {
        try T(from: NodeDecoder(node: node, codingPath: [], userInfo: interner.map { [.interner: $0] } ?? [:]))
    }
}

private struct NodeDecoder: Decoder {
    let node: ConfigNode
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] = [:]

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard let entries = node.entries else {
            throw DecodingError.typeMismatch([String: Any].self, .init(codingPath: codingPath, debugDescription: "expected a mapping"))
        }
        return KeyedDecodingContainer(KeyedNodeContainer<Key>(entries: entries, codingPath: codingPath, userInfo: userInfo))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard let items = node.items else {
            throw DecodingError.typeMismatch([Any].self, .init(codingPath: codingPath, debugDescription: "expected a list"))
        }
        return UnkeyedNodeContainer(items: items, codingPath: codingPath, userInfo: userInfo)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer { SingleNodeContainer(node: node, codingPath: codingPath, userInfo: userInfo) }
}

private struct KeyedNodeContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let entries: [ConfigNode.Entry]
    let codingPath: [CodingKey]
    let userInfo: [CodingUserInfoKey: Any]

    var allKeys: [Key] { entries.compactMap { Key(stringValue: $0.key) } }

    func node(_ key: Key) -> ConfigNode? { entries.first { $0.key == key.stringValue }?.value }

    func contains(_ key: Key) -> Bool { node(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool { node(key)?.isNull ?? true }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        guard let value = node(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing '\(key.stringValue)'"))
        }
        return try T(from: NodeDecoder(node: value, codingPath: codingPath, userInfo: userInfo))
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = node(key), !value.isNull else { return nil }
        return try T(from: NodeDecoder(node: value, codingPath: codingPath, userInfo: userInfo))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try NodeDecoder(node: node(key) ?? ConfigNode(.mapping([]), at: .init(file: "", line: 0, column: 0)), codingPath: codingPath).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try NodeDecoder(node: node(key) ?? ConfigNode(.sequence([]), at: .init(file: "", line: 0, column: 0)), codingPath: codingPath).unkeyedContainer()
    }

    func superDecoder() throws -> Decoder { NodeDecoder(node: ConfigNode(.mapping(entries), at: .init(file: "", line: 0, column: 0)), codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> Decoder { try NodeDecoder(node: node(key) ?? { throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing")) }(), codingPath: codingPath) }
}

private struct UnkeyedNodeContainer: UnkeyedDecodingContainer {
    let items: [ConfigNode]
    let codingPath: [CodingKey]
    let userInfo: [CodingUserInfoKey: Any]
    var currentIndex = 0

    init(items: [ConfigNode], codingPath: [CodingKey], userInfo: [CodingUserInfoKey: Any]) {
        self.items = items
        self.codingPath = codingPath
        self.userInfo = userInfo
    }

    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    mutating func next() throws -> ConfigNode {
        guard !isAtEnd else { throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "list ended")) }
        defer { currentIndex += 1 }
        return items[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        if !isAtEnd, items[currentIndex].isNull { currentIndex += 1; return true }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        return try T(from: NodeDecoder(node: next(), codingPath: codingPath, userInfo: userInfo))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try NodeDecoder(node: next(), codingPath: codingPath, userInfo: userInfo).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        try NodeDecoder(node: next(), codingPath: codingPath, userInfo: userInfo).unkeyedContainer()
    }

    mutating func superDecoder() throws -> Decoder { NodeDecoder(node: try next(), codingPath: codingPath, userInfo: userInfo) }
}

private struct SingleNodeContainer: SingleValueDecodingContainer {
    let node: ConfigNode
    let codingPath: [CodingKey]
    let userInfo: [CodingUserInfoKey: Any]

    func decodeNil() -> Bool { node.isNull }

    private func text() throws -> String {
        guard let text = node.scalar else {
            throw DecodingError.typeMismatch(String.self, .init(codingPath: codingPath, debugDescription: "expected a scalar"))
        }
        return text
    }

    private func number<T: LosslessStringConvertible>(_ type: T.Type) throws -> T {
        guard let value = T(try text()) else {
            throw DecodingError.typeMismatch(T.self, .init(codingPath: codingPath, debugDescription: "expected a number"))
        }
        return value
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        switch try text() {
        case "true": return true
        case "false": return false
        default: throw DecodingError.typeMismatch(Bool.self, .init(codingPath: codingPath, debugDescription: "expected true or false"))
        }
    }

    func decode(_ type: String.Type) throws -> String { try text() }
    func decode(_ type: Double.Type) throws -> Double { try number(Double.self) }
    func decode(_ type: Float.Type) throws -> Float { try number(Float.self) }
    func decode(_ type: Int.Type) throws -> Int { try number(Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try number(Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try number(Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try number(Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try number(Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try number(UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try number(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try number(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try number(UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try number(UInt64.self) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: NodeDecoder(node: node, codingPath: codingPath, userInfo: userInfo)) }
}
