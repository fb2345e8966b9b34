import SportelloCore

/// The tenants a background job goes through on a pass, one definition at a time. Over the registry it asks for each
/// tenant as the pass reaches it (a tenant known from the tenant index is built for its turn and may be dropped again
/// after), where asking for every definition first would build and hold them all.
public struct TenantDirectory: AsyncSequence, Sendable {
    public typealias Element = TenantDefinition

    fileprivate enum Source: Sendable {
        case definitions(@Sendable () async -> [TenantDefinition])
        case registry(TenantRegistry)
    }

    private let source: Source

    /// A set given as a whole (the CLI's chosen tenants, tests), asked for at every pass.
    public init(_ definitions: @escaping @Sendable () async -> [TenantDefinition]) { source = .definitions(definitions) }

    /// The tenants the registry serves at the start of each pass, in id order.
    public init(registry: TenantRegistry) { source = .registry(registry) }

    public struct AsyncIterator: AsyncIteratorProtocol {
        fileprivate let source: Source
        private var definitions: [TenantDefinition]?
        private var ids: [String]?
        private var position = 0

        fileprivate init(source: Source) { self.source = source }

        public mutating func next() async -> TenantDefinition? {
            switch source {
            case .definitions(let all):
                if definitions == nil { definitions = await all() }
                guard let definitions, position < definitions.count else { return nil }
                position += 1
                return definitions[position - 1]
            case .registry(let registry):
                if ids == nil { ids = registry.ids }
                while let ids, position < ids.count {
                    position += 1
                    // A tenant removed, or whose file no longer builds, since the pass began is skipped.
                    if let tenant = registry.tenant(id: ids[position - 1]) { return tenant.definition }
                }
                return nil
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(source: source) }
}
