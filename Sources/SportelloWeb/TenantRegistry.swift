import Foundation
import SportelloApplication
import SportelloCore
import Synchronization

/// Everything the portal needs about one tenant, prepared once when the tenant is loaded.
/// A class: every request carries it through its contexts, and a reference is cheaper to pass than the value.
public final class PortalTenant: Sendable {
    public let definition: TenantDefinition
    public let authorization: AuthorizationModel
    public let windows: VisibilityWindows
    public let theme: PortalTheme
    /// CSS custom properties from `branding:` (served as `/brand.css`).
    public let brandStylesheet: String
    /// `brandStylesheet`'s entity tag.
    let brandStylesheetETag: String
    /// The YAML sections in order, each with the ids of its features (the navigation reads this per request).
    let sectionFeatures: [(id: String, features: [String])]
    /// The portal pages this tenant has, each with the features of the tenant that open it (`PortalCatalog`'s
    /// order), so the home page's shortcuts do not work them out per request.
    let pages: [(page: PortalPage, features: [String])]
    /// Page titles in the tenant's own words, by the platform title's key: the `page_title` of the first feature
    /// opening the page that has one (WINDTRE's "Traffico"); else, for a page whose features all sit in one YAML
    /// section that opens no other page, that section's label (WINDTRE's "Utenze Telco Manager").
    let ownPageTitles: [String: LocalizedText]
    /// The modules this tenant is served with, their pages and API operations.
    public let catalog: PortalCatalog
    /// The pages and API operations the modules build from this tenant's YAML (its record kinds).
    public let surface: TenantSurface
    /// The tenant as the use cases see it.
    public let served: ServedTenant

    public var id: String { definition.id }

    /// Which load of the tenant this is, unique in the process: rows reused across requests (`PageData`) are kept
    /// per load, since what a read returns can depend on the definition (windows, record kinds).
    let generation: UInt64
    private static let generations = Atomic<UInt64>(0)

    /// The tenant's own title for a page the platform calls `platformTitle`, else `platformTitle`.
    public func title(_ platformTitle: String, locale: String) -> String {
        for (key, own) in ownPageTitles where theme.text(key, locale: locale) == platformTitle { return own.resolve(locale) }
        return platformTitle
    }

    /// The UI string `key` in every language the tenant offers (for messages kept or shown in more than one).
    public func localized(_ key: String, _ values: [String: String] = [:]) -> LocalizedText {
        var translations: [String: String] = [:]
        for code in definition.locales.available { translations[code] = theme.text(key, locale: code, values) }
        return LocalizedText(translations: translations)
    }

    /// The title of `page` as this tenant words it.
    public func title(of page: PortalPage, locale: String) -> String {
        ownPageTitles[page.titleKey]?.resolve(locale) ?? theme.text(page.titleKey, locale: locale)
    }

    /// The pages `principal` may open: those with a feature the role grants (the home page's shortcuts, `/api/v1/me`).
    func pages(openTo principal: Principal) -> [PortalPage] {
        pages.filter { $0.features.contains { authorization.isAllowed(principal, $0) } }.map(\.page)
    }

    /// The page that shows `feature`: the catalogue's, else one built from the tenant's YAML.
    public func page(for feature: String) -> PortalPage? {
        catalog.page(for: feature, in: definition) ?? surface.pages.first { $0.features.contains(feature) }
    }

    public init(definition: TenantDefinition, theme: PortalTheme, catalog: PortalCatalog = .standard) {
        generation = Self.generations.add(1, ordering: .relaxed).newValue
        self.definition = definition
        self.catalog = catalog
        authorization = AuthorizationModel(definition)
        windows = VisibilityWindows(tenant: definition)
        self.theme = theme
        served = ServedTenant(definition: definition, authorization: authorization, windows: windows, texts: theme.texts)
        brandStylesheet = Self.stylesheet(for: definition.branding)
        brandStylesheetETag = EntityTag.of(Data(brandStylesheet.utf8))
        surface = TenantSurface(merging: catalog.modules.compactMap { $0.tenantSurface?(definition) })
        var bySection: [String: [String]] = [:]
        for (featureId, feature) in definition.features { bySection[feature.section, default: []].append(featureId) }
        sectionFeatures = definition.sections.map { (id: $0.key, features: bySection[$0.key] ?? []) }
        let pages = (catalog.pages + surface.pages).map { (page: $0, features: $0.definedFeatures(in: definition)) }.filter { !$0.features.isEmpty }
        self.pages = pages
        let sectionsOfPage = pages.map { entry in Set(entry.features.compactMap { definition.feature($0)?.section }) }
        var ownPageTitles: [String: LocalizedText] = [:]
        for (index, entry) in pages.enumerated() {
            guard sectionsOfPage[index].count == 1, let section = sectionsOfPage[index].first, let label = definition.sections[section]?.label
            else { continue }
            let shared = sectionsOfPage.enumerated().contains { $0.offset != index && $0.element.contains(section) }
            if !shared { ownPageTitles[entry.page.titleKey] = label }
        }
        for entry in pages {
            if let own = entry.page.ownTitle { ownPageTitles[entry.page.titleKey] = own }
            if let title = entry.features.lazy.compactMap({ definition.feature($0)?.pageTitle }).first {
                ownPageTitles[entry.page.titleKey] = title
            }
        }
        self.ownPageTitles = ownPageTitles
    }

    /// The locale to use: the requested one if the tenant offers it, else the tenant's default.
    public func locale(preferring requested: String?) -> String {
        if let requested, definition.locales.available.contains(requested) { return requested }
        return definition.locales.default
    }

    private static func stylesheet(for branding: Branding) -> String {
        func safe(_ colour: String?) -> String? {
            guard let colour, colour.allSatisfy({ $0.isLetter || $0.isNumber || "#(),. %".contains($0) }) else { return nil }
            return colour
        }
        // Brand colours carry white text and are used as text on the page background: a colour too light
        // for WCAG AA (4.5:1) is darkened just enough, keeping its hue; the YAML value stays available.
        func readable(_ colour: String?, _ fallback: String) -> String {
            guard let colour = safe(colour) else { return fallback }
            return ReadableColour.darkened(colour, against: ["#ffffff", "#f5f6f8"], minimum: 4.6) ?? colour
        }
        var lines = [":root {"]
        lines.append("  --brand-primary: \(readable(branding.primaryColor, "#1f4e79"));")
        lines.append("  --brand-primary-original: \(safe(branding.primaryColor) ?? "#1f4e79");")
        lines.append("  --brand-secondary: \(readable(branding.secondaryColor ?? branding.primaryColor, "#1f4e79"));")
        lines.append("  --brand-accent: \(readable(branding.accentColor, "#b3261e"));")
        lines.append("  --brand-text: \(safe(branding.textColor) ?? "#1b1b1b");")
        lines.append("  --brand-background: \(safe(branding.backgroundColor) ?? "#f5f6f8");")
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// The tenants being served, by host name; swapped whole when tenants are added or reloaded (`TenantReloader`),
/// so a request keeps the `PortalTenant` it started with while a reload swaps in the next one. A tenant known from
/// the tenant index is built on its first request (`TenantSlot`).
public final class TenantRegistry: Sendable {
    private struct State {
        var hosts = HostIndex([])
        /// The tenant of each name in `hosts`.
        var hostSlots: [TenantSlot] = []
        var byId: [String: TenantSlot] = [:]
        /// Hosts named by a tenant file that has never loaded: they answer 503, not 404.
        var unavailable = HostIndex([])
    }

    private let state: Mutex<State>

    public init(_ tenants: [PortalTenant] = []) {
        state = Mutex(State())
        replaceAll(tenants)
    }

    /// Replaces the served tenants (adding a tenant without a restart); `unavailable` maps the hosts of tenant files
    /// that failed to load (and have no last good version) to the file, so their visitors get a 503.
    public func replaceAll(_ tenants: [PortalTenant], unavailable: [String: String] = [:]) {
        replace(tenants.map(TenantSlot.init), unavailable: unavailable)
    }

    func replace(_ slots: [TenantSlot], unavailable: [String: String] = [:]) {
        var next = State()
        var hosts: [String] = []
        for slot in slots {
            next.byId[slot.id] = slot
            hosts += slot.hosts
            next.hostSlots += slot.hosts.map { _ in slot }
        }
        next.hosts = HostIndex(hosts)
        next.unavailable = HostIndex(unavailable.keys.filter { next.hosts.position(forHost: $0) == nil })
        state.withLock { $0 = next }
    }

    /// The tenant serving `host` (the port is ignored).
    public func tenant(forHost host: String) -> PortalTenant? { slot(forHost: host)?.tenant }

    /// The slot serving `host`; its tenant may be built only when asked for.
    func slot(forHost host: String) -> TenantSlot? {
        state.withLock { state in state.hosts.position(forHost: host).map { state.hostSlots[$0] } }
    }

    /// Whether `host` belongs to a tenant file that could not be loaded, or to a tenant that cannot be built now (its
    /// file changed since the index validated it and the next reload has not run yet): answered 503 rather than 404.
    public func isUnavailable(host: String) -> Bool {
        state.withLock { $0.unavailable.position(forHost: host) != nil || $0.hosts.position(forHost: host) != nil }
    }

    public func tenant(id: String) -> PortalTenant? { state.withLock { $0.byId[id] }?.tenant }

    /// The ids of the tenants served, in order (without building any: what background workers go through).
    public var ids: [String] { state.withLock { $0.byId.keys.sorted() } }

    /// How many tenants are served.
    public var count: Int { state.withLock { $0.byId.count } }

    /// Every tenant served, built if it is not resident (with the tenant index, this builds them all: prefer `ids`).
    public var all: [PortalTenant] { state.withLock { $0.byId.values.sorted { $0.id < $1.id } }.compactMap(\.tenant) }

    /// The ids of the tenants that bind `plugin`, in order (from the tenant index: no tenant is built).
    public func ids(binding plugin: String) -> [String] {
        state.withLock { $0.byId.values.filter { $0.plugins.contains(plugin) }.map(\.id) }.sorted()
    }

    /// The definitions served now (for background jobs, which read the set on each pass).
    public var definitions: [TenantDefinition] { all.map(\.definition) }

    /// How many tenants are built and held in memory now.
    public var residentCount: Int { state.withLock { Array($0.byId.values) }.filter(\.isResident).count }
}

/// WCAG contrast arithmetic for `#rrggbb` colours.
enum ReadableColour {
    static func components(_ hex: String) -> (Double, Double, Double)? {
        var digits = hex.hasPrefix("#") ? String(hex.dropFirst()) : hex
        if digits.count == 3 { digits = digits.map { "\($0)\($0)" }.joined() }
        guard digits.count == 6, let value = Int(digits, radix: 16) else { return nil }
        return (Double((value >> 16) & 0xff), Double((value >> 8) & 0xff), Double(value & 0xff))
    }

    static func luminance(_ rgb: (Double, Double, Double)) -> Double {
        func channel(_ value: Double) -> Double {
            let c = value / 255
            return c <= 0.03928 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
        }
        return 0.2126 * channel(rgb.0) + 0.7152 * channel(rgb.1) + 0.0722 * channel(rgb.2)
    }

    static func contrast(_ first: (Double, Double, Double), _ second: (Double, Double, Double)) -> Double {
        let (a, b) = (luminance(first), luminance(second))
        return (max(a, b) + 0.05) / (min(a, b) + 0.05)
    }

    /// `colour` darkened in small steps until it reaches `minimum` contrast against every background;
    /// nil when it already does (or is not a hex colour).
    static func darkened(_ colour: String, against backgrounds: [String], minimum: Double) -> String? {
        guard var rgb = components(colour) else { return nil }
        let grounds = backgrounds.compactMap(components)
        func enough(_ candidate: (Double, Double, Double)) -> Bool { grounds.allSatisfy { contrast(candidate, $0) >= minimum } }
        if enough(rgb) { return nil }
        for _ in 0..<60 {
            rgb = (rgb.0 * 0.95, rgb.1 * 0.95, rgb.2 * 0.95)
            if enough(rgb) { break }
        }
        return String(format: "#%02x%02x%02x", Int(rgb.0.rounded(.down)), Int(rgb.1.rounded(.down)), Int(rgb.2.rounded(.down)))
    }
}
