import Foundation
import SportelloCore

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

    /// One string in `locale` (falling back to Italian, then to the key itself), with `{name}` placeholders filled.
    public func text(_ key: String, locale: String, _ values: [String: String] = [:]) -> String {
        var text = byLocale[locale]?[key] ?? byLocale["it"]?[key] ?? key
        for (name, value) in values { text = text.replacingOccurrences(of: "{\(name)}", with: value) }
        return text
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
