import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// Account operations shared by the login page, the flows and the command line.
struct Accounts {
    let services: PortalServices
    let tenant: PortalTenant

    var definition: TenantDefinition { tenant.definition }


    enum LoginOutcome {
        case success(UserRecord, [Cookie])
        case mustChangePassword(UserRecord, [Cookie])
        case rejected
        case throttled
    }

    /// The cookie naming a browser that has logged in to an account before (see `login`).
    static let deviceCookie = "sportello_device"
    /// How long a browser stays known after its last successful login.
    static let deviceLifetime: Int64 = 180 * 86_400

    /// Checks a login, applying the tenant's per-IP throttle and account lockout; the same answer for a
    /// wrong password, an unknown account and a locked one.
    ///
    /// The lockout closes the password path to *unknown* browsers only: a browser that presents the
    /// `sportello_device` cookie issued at an earlier successful login of the same account may still log in
    /// while it is locked (so a stranger's five wrong passwords cannot lock the owner out), but its own wrong
    /// passwords are counted on its device token, which stops being trusted after `maxAttempts` of them. A
    /// successful password reset also ends the lock and forgets every known browser.
    func login(identifier rawIdentifier: String, password: String, remoteAddress: String?,
               deviceToken: String? = nil) async throws -> LoginOutcome {
        let now = services.now
        let identifier = rawIdentifier.trimmingCharacters(in: .whitespaces)
        if let throttle = definition.login.throttle {
            let allowed = await services.limiter.allow("login|\(tenant.id)|\(remoteAddress ?? "-")", limit: throttle.perIP,
                                                       window: Int64(throttle.window.seconds), now: now)
            if !allowed {
                if await services.limiter.count("login-burst|\(tenant.id)|\(remoteAddress ?? "-")", window: 3_600, now: now) == 0 {
                    _ = await services.limiter.allow("login-burst|\(tenant.id)|\(remoteAddress ?? "-")", limit: 1, window: 3_600, now: now)
                    try await services.database.write(tenant: tenant.id, now: now) {
                        try await $0.audit("login.throttled", targetKind: "ip", targetId: remoteAddress ?? "unknown")
                    }
                }
                return .throttled
            }
        }
        let candidates = try await findUsers(identifier: identifier)
        guard !candidates.isEmpty else {
            _ = try await services.passwords.verify(password, against: services.passwords.decoyHash)
            return .rejected
        }
        let device = try await knownDevice(deviceToken, candidates: candidates, now: now)
        for candidate in candidates {
            let matches = try await services.passwords.verify(password, against: candidate.passwordHash ?? services.passwords.decoyHash)
            let locked = (candidate.lockedUntil ?? 0) > now && device?.userId != candidate.id
            if matches && !locked && candidate.passwordHash != nil {
                if candidate.status == .blocked || candidate.status == .pendingActivation { return .rejected }
                return try await services.database.write(tenant: tenant.id, now: now) { transaction in
                    guard var user = try await transaction.user(id: candidate.id ?? 0) else { return .rejected }
                    if user.status == .mustChangePassword {
                        let temporary = try await transaction.liveToken(userId: user.id ?? 0, purpose: "temporary_password")
                        if temporary == nil { return .rejected }
                    }
                    user.failedLogins = 0
                    user.firstFailedLoginAt = nil
                    user.lockedUntil = nil
                    user.lastLoginAt = now
                    try await transaction.updateUser(user)
                    var cookies = try await Sessions.start(for: user, tenant: tenant, services: services, in: transaction)
                    if device?.userId != user.id {
                        let token = Secrets.token(using: services.random)
                        try await transaction.insertToken(OneTimeTokenRecord(userId: user.id, purpose: "device", tokenHash: token.hash,
                                                                             createdAt: now, expiresAt: now + Self.deviceLifetime))
                        cookies.append(Cookie(name: Self.deviceCookie, value: token.plain, maxAge: Int(Self.deviceLifetime), path: "/",
                                              secure: services.configuration.secureCookies, httpOnly: true, sameSite: .lax))
                    }
                    return user.status == .mustChangePassword ? .mustChangePassword(user, cookies) : .success(user, cookies)
                }
            }
        }
        try await recordFailure(for: candidates, device: device, now: now)
        return .rejected
    }

    /// The live device token `plain` names, when it belongs to one of `candidates`.
    private func knownDevice(_ plain: String?, candidates: [UserRecord], now: Int64) async throws -> OneTimeTokenRecord? {
        guard let plain, plain.count == 43, !candidates.isEmpty else { return nil }
        let hash = Secrets.hash(plain)
        let token = try await services.database.read(tenant: tenant.id, now: now) { try await $0.token(hash: hash, purpose: "device") }
        guard let token, token.usedAt == nil, token.expiresAt > now,
              candidates.contains(where: { $0.id != nil && $0.id == token.userId }) else { return nil }
        return token
    }

    /// Users the identifier may name, by the identifiers the tenant accepts (username, e-mail).
    func findUsers(identifier: String) async throws -> [UserRecord] {
        guard !identifier.isEmpty else { return [] }
        let identifiers = definition.login.identifiers
        return try await services.database.read(tenant: tenant.id, now: services.now) { transaction in
            var found: [UserRecord] = []
            if identifiers.contains(.username) || identifiers.contains(.email) {
                let key = UsernameRules.key(for: identifier, caseSensitive: definition.login.caseSensitive)
                if let user = try await transaction.user(usernameKey: key) { found.append(user) }
            }
            if identifiers.contains(.email), identifier.contains("@") {
                for user in try await transaction.users(email: identifier) where !found.contains(where: { $0.id == user.id }) {
                    found.append(user)
                }
            }
            return Array(found.prefix(5))
        }
    }

    private func recordFailure(for candidates: [UserRecord], device: OneTimeTokenRecord?, now: Int64) async throws {
        guard let lockout = definition.login.lockout else { return }
        let window = Int64(lockout.window.seconds)
        try await services.database.write(tenant: tenant.id, now: now) { transaction in
            // A known browser's wrong passwords count against it: after `maxAttempts` it is a stranger again.
            if let device, let id = device.id, try await transaction.recordTokenAttempt(id: id) >= lockout.maxAttempts {
                _ = try await transaction.consumeToken(id: id)
            }
            for candidate in candidates {
                guard var user = try await transaction.user(id: candidate.id ?? 0) else { continue }
                if (user.lockedUntil ?? 0) > now { continue }
                if let first = user.firstFailedLoginAt, now - first <= window {
                    user.failedLogins += 1
                } else {
                    user.firstFailedLoginAt = now
                    user.failedLogins = 1
                }
                if user.failedLogins >= lockout.maxAttempts {
                    user.lockedUntil = now + Int64(lockout.duration.seconds)
                    user.failedLogins = 0
                    user.firstFailedLoginAt = nil
                    try await transaction.audit("login.locked", targetKind: "user", targetId: String(user.id ?? 0),
                                                detail: "\(lockout.maxAttempts) failed attempts within \(lockout.window)")
                    if let email = user.email {
                        try await queueMail("account_locked", to: email, values: ["until": Formatting.dateTime(user.lockedUntil ?? now, locale: definition.locales.default)],
                                            in: transaction)
                    }
                }
                try await transaction.updateUser(user)
            }
        }
        services.mailQueued()
    }

    /// Checks a new password against the policy and the user's previous ones; returns the problems.
    func passwordProblems(_ password: String, confirmation: String?, personalData: [String], user: UserRecord?) async throws -> [FieldProblem] {
        let evaluation = PasswordPolicyEvaluator(policy: definition.login.password).evaluate(password, confirmation: confirmation,
                                                                                              personalData: personalData)
        var problems = evaluation.problems
        if problems.isEmpty, let user, let history = definition.login.password.history, history > 0 {
            let previous = ([user.passwordHash].compactMap { $0 } + (user.passwordHistory ?? "").split(separator: "\n").map(String.init))
                .prefix(history)
            for hash in previous where try await services.passwords.verify(password, against: hash) {
                problems.append(FieldProblem(field: "password", code: "reused", message: LocalizedText(translations: [
                    "it": "Hai già usato questa password di recente: scegline una diversa.",
                    "en": "You used this password recently: choose a different one."])))
                break
            }
        }
        return problems
    }

    /// Stores a new password hash, keeping the previous ones for the history rule, and ends other sessions.
    func applyPassword(hash: String, to user: inout UserRecord, in transaction: TenantTransaction) async throws {
        let keep = max(definition.login.password.history ?? 0, 0)
        if keep > 0, let old = user.passwordHash {
            let history = [old] + (user.passwordHistory ?? "").split(separator: "\n").map(String.init)
            user.passwordHistory = history.prefix(keep).joined(separator: "\n")
        }
        user.passwordHash = hash
        user.passwordChangedAt = transaction.now
        user.failedLogins = 0
        user.firstFailedLoginAt = nil
        user.lockedUntil = nil
        if user.status == .mustChangePassword { user.status = .active }
        try await transaction.updateUser(user)
        if let id = user.id {
            try await transaction.deleteSessions(userId: id)
            try await transaction.revokeTokens(userId: id, purpose: "temporary_password")
            try await transaction.revokeTokens(userId: id, purpose: "device")
        }
    }

    /// Queues a branded e-mail in `transaction` (sent only if it commits).
    func queueMail(_ kind: String, to recipient: String, values: [String: String], locale: String? = nil,
                   in transaction: TenantTransaction) async throws {
        try await services.application.queueMail(kind, to: recipient, values: values, locale: locale, tenant: definition, in: transaction)
    }

    /// Personal data a password must not contain (policy `forbid_personal_data`).
    static func personalData(user: UserRecord?, customer: CustomerRecord?, extra: [String?] = []) -> [String] {
        var values: [String?] = extra
        if let user {
            values += [user.username, user.firstName, user.lastName, user.email?.split(separator: "@").first.map(String.init)]
        }
        if let customer {
            values += [customer.firstName, customer.lastName, customer.taxCode, customer.vatNumber, customer.legalRepFirstName,
                       customer.legalRepLastName, customer.legalRepTaxCode]
        }
        return values.compactMap { $0 }.filter { $0.count >= 3 }
    }
}
