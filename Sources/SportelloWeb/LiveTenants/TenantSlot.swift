import Synchronization

/// One tenant the registry serves. A tenant from the index is built from its (already validated) file on its first
/// request and dropped again when more tenants are built than `ResidentTenants` allows; the next request builds it
/// again. A slot made from a `PortalTenant` in hand stays built.
final class TenantSlot: Sendable {
    let id: String
    let hosts: [String]
    /// The plugins the tenant binds.
    let plugins: Set<String>
    private let built: Mutex<PortalTenant?>
    /// Builds the tenant; nil when its file no longer is what the index validated (the next reload reports why).
    private let build: (@Sendable () -> PortalTenant?)?
    private let pool: ResidentTenants?
    /// Set by every use, cleared by the pool's sweep: a tenant used since the last sweep gets a second chance.
    fileprivate let used = Atomic<Bool>(false)

    init(_ tenant: PortalTenant) {
        id = tenant.id
        hosts = tenant.definition.hosts
        plugins = Set(tenant.definition.plugins?.keys ?? [])
        built = Mutex(tenant)
        build = nil
        pool = nil
    }

    init(id: String, hosts: [String], plugins: [String], built tenant: PortalTenant?, pool: ResidentTenants,
         build: @escaping @Sendable () -> PortalTenant?) {
        self.id = id
        self.hosts = hosts
        self.plugins = Set(plugins)
        built = Mutex(tenant)
        self.build = build
        self.pool = pool
        if tenant != nil { pool.admit(self) }
    }

    /// The tenant, built now if it is not resident.
    var tenant: PortalTenant? {
        if pool != nil, !used.load(ordering: .relaxed) { used.store(true, ordering: .relaxed) }
        var madeNow = false
        let tenant = built.withLock { current -> PortalTenant? in
            if let current { return current }
            guard let build, let made = build() else { return nil }
            current = made
            madeNow = true
            return made
        }
        // Outside the slot's lock: admitting may drop other slots, which takes theirs.
        if madeNow, let pool { pool.admit(self) }
        return tenant
    }

    /// Whether the tenant is built (held in memory) now.
    var isResident: Bool { built.withLock { $0 != nil } }

    fileprivate func drop() {
        guard build != nil else { return }
        built.withLock { $0 = nil }
    }
}

/// The tenants built from the index, oldest first, at most `limit` of them (a "clock": a tenant used since it was
/// last looked at goes to the back instead of being dropped).
final class ResidentTenants: Sendable {
    let limit: Int
    private let queue = Mutex<[TenantSlot]>([])

    init(limit: Int) { self.limit = max(1, limit) }

    fileprivate func admit(_ slot: TenantSlot) {
        let dropped = queue.withLock { queue -> [TenantSlot] in
            queue.append(slot)
            var dropped: [TenantSlot] = []
            var looks = 2 * queue.count
            while queue.count > limit, looks > 0 {
                looks -= 1
                let oldest = queue.removeFirst()
                if oldest.used.exchange(false, ordering: .relaxed) { queue.append(oldest) } else { dropped.append(oldest) }
            }
            return dropped
        }
        for slot in dropped { slot.drop() }
    }

    /// Forgets the slots a reload no longer serves. Their tenants are not dropped: a request that found such a slot
    /// just before the reload still gets the version it found (its file may already hold the next one, which this
    /// slot must not build); each is freed with its slot once no request holds it.
    func keep(only slots: [TenantSlot]) {
        let kept = Set(slots.map(ObjectIdentifier.init))
        queue.withLock { queue in queue.removeAll { !kept.contains(ObjectIdentifier($0)) } }
    }
}
