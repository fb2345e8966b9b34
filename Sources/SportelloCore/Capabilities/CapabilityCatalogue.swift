import Foundation

/// Something the portal can do for a tenant's users, served by one module (a page, its API operations,
/// its storage), bound to the tenant's own features by slot. Pure data: the validator, `schema` and
/// `reference` read it without knowing the web layer.
public struct Capability: Sendable {
    /// The module's id (`invoices`).
    public var id: String
    public var summary: String
    public var slots: [CapabilitySlot]
    /// Choices the tenant makes for the module under `capabilities: {<id>: {…}}`.
    public var options: [CapabilityOption]

    public init(_ id: String, _ summary: String, _ slots: [CapabilitySlot], options: [CapabilityOption] = []) {
        self.id = id; self.summary = summary; self.slots = slots; self.options = options
    }
}

/// A choice a tenant makes for a module: a list picked from the values the module knows, in the order the
/// portal offers them; absent, every value is offered in the default order.
public struct CapabilityOption: Sendable {
    public var name: String
    public var summary: String
    public var values: [String]

    public init(_ name: String, _ summary: String, values: [String]) {
        self.name = name; self.summary = summary; self.values = values
    }
}

/// One thing a capability lets a feature do (`invoices.pay`). A tenant's feature binds to a slot with
/// `capability: invoices.pay`, or by being named after it.
public struct CapabilitySlot: Sendable {
    /// The slot's full name, `<capability>.<slot>` or a name of its own the five providers already use.
    public var name: String
    public var summary: String
    /// The kind of plugin that may carry the slot out (`invoices.pay`: a payments plugin), nil when none may.
    public var plugin: PluginKind?

    public init(_ name: String, _ summary: String, plugin: PluginKind? = nil) { self.name = name; self.summary = summary; self.plugin = plugin }
}

/// The capabilities a portal serves, collected from its modules (the web layer's `PortalModules`) and handed
/// to `TenantLoader`, `TenantSchema` and `SchemaExport`: Core reads them as data and never imports the web.
public struct CapabilityCatalogue: Sendable {
    public let all: [Capability]
    /// Every slot by name.
    public let slots: [String: (capability: Capability, slot: CapabilitySlot)]

    public init(_ capabilities: [Capability]) {
        all = capabilities
        var slots: [String: (capability: Capability, slot: CapabilitySlot)] = [:]
        for capability in capabilities { for slot in capability.slots { slots[slot.name] = (capability, slot) } }
        self.slots = slots
    }

    /// No capabilities: every feature is unbound (for tools that check a file's shape only).
    public static let none = CapabilityCatalogue([])

    public func isSlot(_ name: String) -> Bool { slots[name] != nil }

    /// Every value a module's option knows, in the default order.
    public func optionValues(_ name: String, of capability: String) -> [String] {
        all.first { $0.id == capability }?.options.first { $0.name == name }?.values ?? []
    }
}

extension Capability {
    /// Every value one of this module's options knows, in the default order.
    public func optionValues(_ name: String) -> [String] { options.first { $0.name == name }?.values ?? [] }
}

extension TenantDefinition {
    /// The values the tenant chose for a module's option (`capabilities: {billing_settings: {payment_methods: […]}}`),
    /// else `defaults` (the module's own list, in its default order).
    public func option(_ name: String, of capability: String, defaults: [String]) -> [String] {
        // Object keys arrive in camelCase from the schema walker (`billing_settings` → `billingSettings`).
        capabilities?[camelCase(capability)]?[camelCase(name)] ?? defaults
    }

    /// The slot `featureId` binds to (the loader records a feature named after a slot as bound to it).
    public func slot(of featureId: String) -> String? { features[featureId]?.capability }

    /// The tenant's feature `name` names: a feature of that id, else the feature bound to the slot `name`.
    public func feature(_ name: String) -> Feature? {
        if let feature = features[name] { return feature }
        return boundFeatureId(name).flatMap { features[$0] }
    }

    /// The id of the tenant's feature bound to `slot` (its own name for the slot), nil when none is.
    public func boundFeatureId(_ slot: String) -> String? {
        if let feature = features[slot], feature.capability == nil || feature.capability == slot { return slot }
        return features.keys.first { features[$0]?.capability == slot }
    }

    /// Records every feature named after a slot of `catalogue` as bound to it, so that serving needs no catalogue.
    mutating func bindSlotNamedFeatures(in catalogue: CapabilityCatalogue) {
        for id in features.keys where features[id]?.capability == nil && catalogue.isSlot(id) {
            features[id]?.capability = id
        }
    }
}
