/// The shape a YAML value must have. One description drives validation, the JSON Schema and the reference.
public indirect enum Shape: Sendable {
    case string(StringFormat)
    case integer(min: Int?, max: Int?)
    case boolean
    case duration
    case choice([String])
    /// `LocalizedText`: plain text or a mapping of locale to text.
    case text
    case list(Shape, minItems: Int)
    /// A mapping from ids the provider chooses to values of one shape (roles, features, flows…).
    case map(Shape, keys: StringFormat)
    case object(ObjectSchema)
    /// An object whose `discriminator` picks which of the common properties apply (flow steps).
    case tagged(discriminator: String, object: ObjectSchema, variants: [(String, [String])])

    public static let string = Shape.string(.any)
    public static let identifier = Shape.string(.identifier)
    public static func list(_ item: Shape) -> Shape { .list(item, minItems: 0) }
    public static func map(_ value: Shape) -> Shape { .map(value, keys: .identifier) }
    public static let positiveInteger = Shape.integer(min: 1, max: nil)
}

public enum StringFormat: String, Sendable {
    case any, identifier, hostname, color, locale, path

    /// A short English description used in messages and the reference.
    var expectation: String {
        switch self {
        case .any: "text"
        case .identifier: "an id (lowercase letters, digits, '_', '-' and '.')"
        case .hostname: "a host name such as tim.localhost"
        case .color: "a colour such as #0a3d91"
        case .locale: "a language code such as it or en"
        case .path: "a path or URL"
        }
    }

    func accepts(_ text: String) -> Bool {
        switch self {
        case .any, .path: return !text.isEmpty
        case .identifier:
            guard let first = text.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
            return text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0) }
        case .hostname:
            let labels = text.split(separator: ".", omittingEmptySubsequences: false)
            return !text.isEmpty && text.count <= 253 && labels.allSatisfy { label in
                !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                    && label.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
            }
        case .color:
            let hex = text.dropFirst()
            return text.hasPrefix("#") && (hex.count == 3 || hex.count == 6) && hex.allSatisfy(\.isHexDigit)
        case .locale:
            return text.count == 2 && text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) }
        }
    }
}

/// A property of an object: its YAML key, shape, whether it is required, and its documentation.
public struct Property: Sendable {
    public var key: String
    public var shape: Shape
    public var required: Bool
    public var doc: String
    public var example: String?

    public static func required(_ key: String, _ shape: Shape, _ doc: String, example: String? = nil) -> Property {
        Property(key: key, shape: shape, required: true, doc: doc, example: example)
    }

    public static func optional(_ key: String, _ shape: Shape, _ doc: String, example: String? = nil) -> Property {
        Property(key: key, shape: shape, required: false, doc: doc, example: example)
    }
}

public struct ObjectSchema: Sendable {
    public var name: String
    public var doc: String
    public var properties: [Property]

    public init(_ name: String, _ doc: String, _ properties: [Property]) {
        self.name = name
        self.doc = doc
        self.properties = properties
    }

    public func property(_ key: String) -> Property? { properties.first { $0.key == key } }
}

/// Where each value of a definition was written, addressed by a path such as `roles/admin/grants/2`.
public struct LocationIndex: Sendable {
    private struct Packed: Sendable {
        var file: UInt16
        var line: UInt32
        var column: UInt32
    }

    private struct Entry: Sendable {
        var key: Packed?
        var value: Packed
    }

    private var entries: [String: Entry] = [:]
    private var files: [String] = []
    public var fallback: SourceLocation
    /// Entries dropped because they were malformed; references to them are not reported again.
    public var rejected: Set<String> = []

    public init(fallback: SourceLocation) { self.fallback = fallback }

    private mutating func pack(_ location: SourceLocation) -> Packed {
        let index: Int
        if let found = files.lastIndex(of: location.file) { index = found } else { files.append(location.file); index = files.count - 1 }
        return Packed(file: UInt16(truncatingIfNeeded: index), line: UInt32(clamping: location.line), column: UInt32(clamping: location.column))
    }

    private func unpack(_ packed: Packed) -> SourceLocation {
        SourceLocation(file: files[Int(packed.file)], line: Int(packed.line), column: Int(packed.column))
    }

    mutating func record(path: String, key: SourceLocation?, value: SourceLocation) {
        entries[path] = Entry(key: key.map { pack($0) }, value: pack(value))
    }

    /// Location of the key that introduces `path` (`admin:` for `roles/admin`), else of its value.
    public func key(_ path: String) -> SourceLocation {
        guard let entry = entries[path] else { return nearest(path) }
        return unpack(entry.key ?? entry.value)
    }

    /// Location of the value at `path`.
    public func value(_ path: String) -> SourceLocation {
        guard let entry = entries[path] else { return nearest(path) }
        return unpack(entry.value)
    }

    /// An index that knows only the file; used when a runtime does not need source positions.
    public var withoutPositions: LocationIndex { LocationIndex(fallback: fallback) }

    private func nearest(_ path: String) -> SourceLocation {
        var components = path.split(separator: "/")
        while !components.isEmpty {
            components.removeLast()
            if let entry = entries[components.joined(separator: "/")] { return unpack(entry.key ?? entry.value) }
        }
        return fallback
    }
}

/// Checks a `ConfigNode` against a `Shape`, collecting every problem and producing a normalised tree
/// (object keys in camelCase, texts as locale mappings) that `ConfigDecoder` turns into the model.
struct SchemaWalker {
    var diagnostics = DiagnosticBag()
    var locations: LocationIndex

    init(file: String) {
        locations = LocationIndex(fallback: SourceLocation(file: file, line: 1, column: 1))
    }

    mutating func walk(_ node: ConfigNode, _ shape: Shape, path: String, key: SourceLocation? = nil) -> ConfigNode? {
        locations.record(path: path, key: key, value: node.location)
        lazy var name = lastComponent(path)
        switch shape {
        case .string(let format):
            guard case .scalar(let text, _) = node.value, !node.isNull else { return mismatch(node, "\(format.expectation)", name) }
            guard format.accepts(text) else {
                diagnostics.error("invalid-value", at: node.location, "'\(name)' must be \(format.expectation), found '\(text)'",
                                  hint: format == .identifier ? "for example '\(identifierSuggestion(text))'" : nil)
                return nil
            }
            return node
        case .integer(let minimum, let maximum):
            guard case .scalar(let text, true) = node.value, let number = Int(text) else { return mismatch(node, "a whole number", name) }
            if let minimum, number < minimum {
                diagnostics.error("out-of-range", at: node.location, "'\(name)' must be at least \(minimum), found \(number)")
                return nil
            }
            if let maximum, number > maximum {
                diagnostics.error("out-of-range", at: node.location, "'\(name)' must be at most \(maximum), found \(number)")
                return nil
            }
            return node
        case .boolean:
            guard case .scalar(let text, true) = node.value, text == "true" || text == "false" else {
                let hint = ["yes", "no", "on", "off", "si", "sì"].contains(node.scalar?.lowercased() ?? "") ? "write true or false" : nil
                return mismatch(node, "true or false", name, hint: hint)
            }
            return node
        case .duration:
            guard case .scalar(let text, _) = node.value, !node.isNull else { return mismatch(node, "a duration such as 30d", name) }
            guard let duration = DurationSpec(parsing: text) else {
                diagnostics.error("invalid-duration", at: node.location, "'\(name)' must be a duration, found '\(text)'",
                                  hint: "write a number and a unit: s, m, h, d, w, mo or y, e.g. 30d or 24mo")
                return nil
            }
            guard duration.seconds <= DurationSpec.longestSeconds else {
                diagnostics.error("out-of-range", at: node.location, "'\(name)' is \(text), longer than the 100 years a definition may state")
                return nil
            }
            return node
        case .choice(let options):
            guard case .scalar(let text, _) = node.value, !node.isNull else { return mismatch(node, "one of \(options.joined(separator: ", "))", name) }
            guard options.contains(text) else {
                diagnostics.error("invalid-choice", at: node.location, "'\(name)' must be one of \(options.joined(separator: ", ")), found '\(text)'",
                                  hint: Suggest.hint(for: text, in: options))
                return nil
            }
            return node
        case .text:
            switch node.value {
            case .scalar(let text, _) where !node.isNull:
                return ConfigNode(.mapping([.init(key: "*", keyLocation: node.location, value: ConfigNode(.scalar(text, plain: false), at: node.location))]), at: node.location)
            case .mapping(let entries):
                var valid = true
                for entry in entries {
                    if !StringFormat.locale.accepts(entry.key) {
                        diagnostics.error("invalid-locale", at: entry.keyLocation, "'\(entry.key)' is not a language code in '\(name)'",
                                          hint: entry.key.contains(" ") || entry.value.isNull ? "a comma inside { } starts a new entry: put text containing commas in quotes" : "use two letters such as it or en")
                        valid = false
                    } else if entry.value.scalar == nil || entry.value.isNull {
                        diagnostics.error("type-mismatch", at: entry.value.location, "translation '\(entry.key)' of '\(name)' must be text, found \(entry.value.kindName)")
                        valid = false
                    }
                }
                return valid ? node : nil
            default:
                return mismatch(node, "text or a mapping of language to text", name)
            }
        case .list(let item, let minItems):
            guard case .sequence(let items) = node.value else {
                if case .scalar = node.value, !node.isNull {
                    return mismatch(node, "a list", name, hint: "write [\(node.scalar ?? "")] or put each item on its own '- ' line")
                }
                return mismatch(node, "a list", name)
            }
            if items.count < minItems {
                diagnostics.error("too-few-items", at: node.location, "'\(name)' needs at least \(minItems) item\(minItems == 1 ? "" : "s")")
            }
            var result: [ConfigNode] = []
            for (index, element) in items.enumerated() {
                if let walked = walk(element, item, path: join(path, "\(index)")) { result.append(walked) }
            }
            return ConfigNode(.sequence(result), at: node.location)
        case .map(let value, let keyFormat):
            guard case .mapping(let entries) = node.value else { return mismatch(node, "a mapping of ids", name) }
            var result: [ConfigNode.Entry] = []
            for entry in entries {
                if !keyFormat.accepts(entry.key) {
                    diagnostics.error("invalid-id", at: entry.keyLocation, "'\(entry.key)' in '\(name)' must be \(keyFormat.expectation)",
                                      hint: keyFormat == .identifier ? "for example '\(identifierSuggestion(entry.key))'" : nil)
                    continue
                }
                if let walked = walk(entry.value, value, path: join(path, entry.key), key: entry.keyLocation) {
                    result.append(.init(key: entry.key, keyLocation: entry.keyLocation, value: walked))
                } else {
                    locations.rejected.insert(join(path, entry.key))
                }
            }
            return ConfigNode(.mapping(result), at: node.location)
        case .object(let schema):
            return walkObject(node, schema, allowed: nil, path: path)
        case .tagged(let discriminator, let schema, let variants):
            guard let entries = node.entries else { return mismatch(node, "a mapping with '\(discriminator):'", name) }
            guard let tagEntry = entries.first(where: { $0.key == discriminator }) else {
                diagnostics.error("missing-key", at: node.location, "missing required key '\(discriminator)' in \(schema.name)",
                                  hint: "one of \(variants.map(\.0).joined(separator: ", "))")
                return nil
            }
            let tag = tagEntry.value.scalar ?? ""
            guard let allowed = variants.first(where: { $0.0 == tag })?.1 else {
                diagnostics.error("unknown-\(discriminator)", at: tagEntry.value.location, "unknown \(discriminator) '\(tag)'",
                                  hint: Suggest.hint(for: tag, in: variants.map(\.0)) ?? "available: \(variants.map(\.0).joined(separator: ", "))")
                return nil
            }
            return walkObject(node, schema, allowed: Set(allowed + [discriminator]), path: path, variant: (discriminator, tag))
        }
    }

    /// `variant` is the discriminator and its value of a tagged object (`step: invitation`, `kind: payments`).
    private mutating func walkObject(_ node: ConfigNode, _ schema: ObjectSchema, allowed: Set<String>?, path: String,
                                     variant: (discriminator: String, tag: String)? = nil) -> ConfigNode? {
        guard case .mapping(let entries) = node.value else { return mismatch(node, "a mapping (\(schema.name))", lastComponent(path)) }
        let known = schema.properties.filter { allowed?.contains($0.key) ?? true }
        var result: [ConfigNode.Entry] = []
        var missingRequired = false
        for entry in entries {
            guard let property = known.first(where: { $0.key == entry.key }) else {
                if let variant, schema.property(entry.key) != nil {
                    diagnostics.error("unknown-key", at: entry.keyLocation, "option '\(entry.key)' does not apply to \(variant.discriminator) '\(variant.tag)'",
                                      hint: known.isEmpty ? nil : "options of '\(variant.tag)': \(known.map(\.key).filter { $0 != variant.discriminator }.joined(separator: ", "))")
                } else {
                    diagnostics.error("unknown-key", at: entry.keyLocation, "unknown key '\(entry.key)' in \(schema.name)",
                                      hint: Suggest.hint(for: entry.key, in: known.map(\.key)))
                }
                continue
            }
            if entry.value.isNull, !property.required { continue }
            if let walked = walk(entry.value, property.shape, path: join(path, entry.key), key: entry.keyLocation) {
                result.append(.init(key: camelCase(entry.key), keyLocation: entry.keyLocation, value: walked))
            } else {
                locations.rejected.insert(join(path, entry.key))
                if property.required { missingRequired = true }
            }
        }
        for property in known where property.required && !entries.contains(where: { $0.key == property.key }) {
            diagnostics.error("missing-key", at: node.location, "missing required key '\(property.key)' in \(schema.name)",
                              hint: property.example.map { "for example: \($0)" })
            missingRequired = true
        }
        return missingRequired ? nil : ConfigNode(.mapping(result), at: node.location)
    }

    private mutating func mismatch(_ node: ConfigNode, _ expected: String, _ name: String, hint: String? = nil) -> ConfigNode? {
        diagnostics.error("type-mismatch", at: node.location, "'\(name)' must be \(expected), found \(node.kindName)", hint: hint)
        return nil
    }

    private func identifierSuggestion(_ text: String) -> String {
        let lowered = text.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
        let trimmed = lowered.drop { !$0.isLetter }
        return trimmed.isEmpty ? "name_1" : String(trimmed)
    }
}

/// The name to use in messages: the last path component that is not a list index (`hosts`, not `1`).
func lastComponent(_ path: String) -> String {
    path.split(separator: "/").last { !$0.allSatisfy(\.isNumber) }.map(String.init) ?? "document"
}

func join(_ path: String, _ component: String) -> String { path.isEmpty ? component : "\(path)/\(component)" }

/// `customer_types` → `customerTypes`, so Swift models decode without per-key boilerplate.
func camelCase(_ key: String) -> String {
    guard key.contains("_") else { return key }
    let parts = key.split(separator: "_")
    return parts.enumerated().map { $0.offset == 0 ? String($0.element) : $0.element.prefix(1).uppercased() + $0.element.dropFirst() }.joined()
}
