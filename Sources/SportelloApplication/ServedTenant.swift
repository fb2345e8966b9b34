import Foundation
import SportelloCore
import Yams

/// One tenant as the use cases see it: its definition, the authorization engine and visibility windows built
/// from it, and its UI texts (for wording that is stored or mailed, such as a statement line or a status label).
public struct ServedTenant: Sendable {
    public let definition: TenantDefinition
    public let authorization: AuthorizationModel
    public let windows: VisibilityWindows
    public let texts: TenantTexts

    public init(definition: TenantDefinition, authorization: AuthorizationModel, windows: VisibilityWindows, texts: TenantTexts) {
        self.definition = definition; self.authorization = authorization; self.windows = windows; self.texts = texts
    }

    public var id: String { definition.id }
}

/// A tenant's UI strings by locale (`i18n/<locale>.yaml`, the tenant's keys over the default ones).
public struct TenantTexts: Sendable {
    public let byLocale: [String: [String: String]]

    public init(_ byLocale: [String: [String: String]]) { self.byLocale = byLocale }

    /// A strings file that could not be read, named by path.
    public struct LoadError: Error, CustomStringConvertible {
        public var file: String
        public var reason: String
        public var description: String { "\(file): error: \(reason)" }
    }

    /// The strings of `templates/default/i18n` with those of `templates/<tenant>/i18n` over them.
    public static func load(root: URL, tenantId: String) throws -> TenantTexts {
        var strings: [String: [String: String]] = [:]
        for layer in ["default", tenantId] {
            for (locale, entries) in try Self.strings(in: root.appendingPathComponent(layer).appendingPathComponent("i18n")) {
                strings[locale, default: [:]].merge(entries) { _, layered in layered }
            }
        }
        return TenantTexts(strings)
    }

    /// The strings of one `i18n` folder by locale: `it.yaml`, or `invoices.it.yaml` for an area's own strings;
    /// nested keys become dotted ones (`error.forbidden.title`).
    public static func strings(in directory: URL) throws -> [String: [String: String]] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var strings: [String: [String: String]] = [:]
        for name in names.sorted() where name.hasSuffix(".yaml") {
            let url = directory.appendingPathComponent(name)
            let locale = name.dropLast(".yaml".count).split(separator: ".").last.map(String.init) ?? name
            let text = try String(contentsOf: url, encoding: .utf8)
            let loaded: Any?
            do { loaded = try Yams.load(yaml: text) } catch { throw LoadError(file: url.path, reason: "\(error)") }
            guard let entries = loaded as? [String: Any] else { throw LoadError(file: url.path, reason: "expected a mapping of keys to texts") }
            for (key, value) in flatten(entries) { strings[locale, default: [:]][key] = value }
        }
        return strings
    }

    private static func flatten(_ entries: [String: Any], prefix: String = "") -> [(String, String)] {
        entries.flatMap { key, value -> [(String, String)] in
            let name = prefix.isEmpty ? key : "\(prefix).\(key)"
            if let nested = value as? [String: Any] { return flatten(nested, prefix: name) }
            return [(name, "\(value)")]
        }
    }

    /// One string in `locale` (falling back to Italian, then to the key itself), with `{name}` placeholders filled.
    public func text(_ key: String, locale: String, _ values: [String: String] = [:]) -> String {
        let text = byLocale[locale]?[key] ?? byLocale["it"]?[key] ?? key
        return values.isEmpty ? text : Self.fill(text, values)
    }

    /// `template` with each `{name}` of `values` replaced by its value, in one pass (a value is never read as a
    /// placeholder); unknown names stay as written.
    public static func fill(_ template: String, _ values: [String: String]) -> String {
        let bytes = template.utf8
        guard bytes.contains(UInt8(ascii: "{")) else { return template }
        var result = ""
        result.reserveCapacity(bytes.count + 16)
        var copied = bytes.startIndex, index = bytes.startIndex
        while index < bytes.endIndex {
            guard bytes[index] == UInt8(ascii: "{"),
                  let close = bytes[bytes.index(after: index)...].firstIndex(of: UInt8(ascii: "}")) else {
                index = bytes.index(after: index)
                continue
            }
            let name = String(Substring(bytes[bytes.index(after: index)..<close]))
            guard let value = values[name] else {
                index = bytes.index(after: index)
                continue
            }
            result += Substring(bytes[copied..<index])
            result += value
            copied = bytes.index(after: close)
            index = copied
        }
        result += Substring(bytes[copied...])
        return result
    }

    /// The string in `locale`, nil when no locale has `key`.
    public func existingText(_ key: String, locale: String) -> String? {
        byLocale[locale]?[key] ?? byLocale["it"]?[key]
    }

    /// The string in every locale of `tenant`, for messages answered in the reader's language.
    public func localized(_ key: String, in tenant: TenantDefinition, _ values: [String: String] = [:]) -> LocalizedText {
        var translations: [String: String] = [:]
        for code in tenant.locales.available { translations[code] = text(key, locale: code, values) }
        return LocalizedText(translations: translations)
    }
}
