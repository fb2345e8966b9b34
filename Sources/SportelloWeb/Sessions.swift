import Foundation
import Hummingbird
import SportelloCore
import SportelloStore

/// Logged-in sessions: the cookie holds a 256-bit secret, the store its hash; idle and absolute
/// timeouts come from the tenant's `login.session`.
enum Sessions {
    /// The live session for `token`, or nil (unknown, expired, idle too long, user blocked).
    static func load(token: String, tenant: PortalTenant, services: PortalServices) async throws -> ActiveSession? {
        guard token.count == 43 else { return nil }
        let now = services.now
        let hash = Secrets.hash(token)
        let idle = Int64(tenant.definition.login.session.idleTimeout.seconds)
        var readNow = false
        var found = try await services.recentReads.value(tenant: tenant.id, key: "session|" + hash, database: services.database,
                                                         now: now) { () async throws -> (value: SessionRows, dependencies: [String])? in
            readNow = true
            return try await readRows(hash: hash, tenant: tenant, services: services, now: now)
        }
        var dataVersion = readNow ? found?.dataVersion : nil
        if let cached = found, !readNow {
            // Another instance may have logged the session out, blocked or deleted the user, or changed the role,
            // toggles or customer type since this copy was read: an indexed query checks them before every use,
            // shared by the requests in flight (SessionAuthorityChecks). It starts after the request arrived, so
            // every change committed before then is seen, which makes the check race-free for this request; the
            // tenant's data version it reads with them is as current (see `PageData`).
            let check = try await services.authorityChecks.check(tenant: tenant.id, tokenHash: hash, database: services.database,
                                                                 now: { services.now })
            dataVersion = check?.dataVersion
            if check?.authority != cached.authority {
                services.recentReads.forget(tenant: tenant.id, key: "session|" + hash)
                found = check == nil ? nil : try await readRows(hash: hash, tenant: tenant, services: services, now: now)?.value
            }
        }
        guard let found, found.session.expiresAt > now else { return nil }
        var session = found.session
        let user = found.user, customer = found.customer
        if now - session.lastSeenAt > idle || user.status == .blocked || user.status == .pendingActivation {
            try await services.database.write(tenant: tenant.id, now: now) { try await $0.deleteSession(tokenHash: hash) }
            return nil
        }
        guard let principal = try? tenant.authorization.principal(role: user.role, toggles: Set(user.toggleList),
                                                                  customerType: customer.customerType) else { return nil }
        if now - session.lastSeenAt >= 60 {
            session.lastSeenAt = now
            let touched = session
            try await services.database.write(tenant: tenant.id, now: now) { try await $0.updateSession(touched) }
        }
        return ActiveSession(record: session, user: user, customer: customer, principal: principal, dataVersion: dataVersion)
    }

    private struct SessionRows: Sendable {
        var session: SessionRecord
        var user: UserRecord
        var customer: CustomerRecord
        /// The tenant's data version when these rows were read (current only for the request that read them).
        var dataVersion: Int64

        var authority: SessionAuthority {
            SessionAuthority(userId: user.id ?? 0, status: user.status, role: user.role, toggles: user.toggles,
                             customerId: customer.id ?? 0, customerType: customer.customerType)
        }
    }

    private static func readRows(hash: String, tenant: PortalTenant, services: PortalServices, now: Int64) async throws
        -> (value: SessionRows, dependencies: [String])? {
        let read = try await services.database.read(tenant: tenant.id, now: now) { transaction in
            (rows: try await transaction.sessionWithAccount(tokenHash: hash), dataVersion: try await transaction.dataVersion())
        }
        guard let rows = read.rows else { return nil }
        return (SessionRows(session: rows.session, user: rows.user, customer: rows.customer, dataVersion: read.dataVersion),
                ["session:" + hash, "user:\(rows.user.id ?? 0)", "customer:\(rows.customer.id ?? 0)", "table:customers"])
    }

    /// Starts a session for `user` inside `transaction`, rotating both secrets (session fixation).
    /// Returns the cookies to set.
    static func start(for user: UserRecord, tenant: PortalTenant, services: PortalServices,
                      in transaction: TenantTransaction) async throws -> [Cookie] {
        guard let userId = user.id else { return [] }
        let now = transaction.now
        let token = Secrets.token(using: services.random)
        let csrf = Secrets.token(using: services.random)
        let absolute = Int64(tenant.definition.login.session.absoluteTimeout.seconds)
        try await transaction.insertSession(SessionRecord(tokenHash: token.hash, userId: userId, createdAt: now, lastSeenAt: now,
                                                          expiresAt: now + absolute, csrfTokenHash: csrf.hash))
        let secure = services.configuration.secureCookies
        return [
            Cookie(name: CookieName.session, value: token.plain, path: "/", secure: secure, httpOnly: true, sameSite: .lax),
            Cookie(name: CookieName.csrf, value: csrf.plain, path: "/", secure: secure, httpOnly: true, sameSite: .lax),
        ]
    }

    static func clearCookies(secure: Bool) -> [Cookie] {
        [Cookie(name: CookieName.session, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: .lax)]
    }
}

extension Response {
    mutating func setCookies(_ cookies: [Cookie]) {
        for cookie in cookies { setCookie(cookie) }
    }
}
