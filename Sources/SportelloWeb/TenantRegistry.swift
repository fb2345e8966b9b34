import Foundation
import SportelloCore
import Synchronization

/// Everything the portal needs about one tenant, prepared once when the tenant is loaded.
public struct PortalTenant: Sendable {
    public let definition: TenantDefinition
    public let authorization: AuthorizationModel
    public let windows: VisibilityWindows
    public let theme: PortalTheme
    /// CSS custom properties from `branding:` (served as `/brand.css`).
    public let brandStylesheet: String

    public var id: String { definition.id }

    public init(definition: TenantDefinition, theme: PortalTheme) {
        self.definition = definition
        authorization = AuthorizationModel(definition)
        windows = VisibilityWindows(tenant: definition)
        self.theme = theme
        brandStylesheet = Self.stylesheet(for: definition.branding)
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
        var lines = [":root {"]
        lines.append("  --brand-primary: \(safe(branding.primaryColor) ?? "#1f4e79");")
        lines.append("  --brand-secondary: \(safe(branding.secondaryColor) ?? safe(branding.primaryColor) ?? "#1f4e79");")
        lines.append("  --brand-accent: \(safe(branding.accentColor) ?? "#b3261e");")
        lines.append("  --brand-text: \(safe(branding.textColor) ?? "#1b1b1b");")
        lines.append("  --brand-background: \(safe(branding.backgroundColor) ?? "#f5f6f8");")
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// The tenants being served, by host name; swapped whole when tenants are added or reloaded.
public final class TenantRegistry: Sendable {
    private let state: Mutex<(byHost: [String: PortalTenant], byId: [String: PortalTenant])>

    public init(_ tenants: [PortalTenant] = []) {
        state = Mutex(([:], [:]))
        replaceAll(tenants)
    }

    /// Replaces the served tenants (adding a tenant without a restart).
    public func replaceAll(_ tenants: [PortalTenant]) {
        var byHost: [String: PortalTenant] = [:]
        var byId: [String: PortalTenant] = [:]
        for tenant in tenants {
            byId[tenant.id] = tenant
            for host in tenant.definition.hosts { byHost[host.lowercased()] = tenant }
        }
        state.withLock { $0 = (byHost, byId) }
    }

    /// The tenant serving `host` (the port is ignored).
    public func tenant(forHost host: String) -> PortalTenant? {
        var name = host.lowercased()
        if name.hasPrefix("[") { return nil }
        if let colon = name.lastIndex(of: ":") { name = String(name[..<colon]) }
        return state.withLock { $0.byHost[name] }
    }

    public func tenant(id: String) -> PortalTenant? { state.withLock { $0.byId[id] } }

    public var all: [PortalTenant] { state.withLock { $0.byId.values.sorted { $0.id < $1.id } } }
}
