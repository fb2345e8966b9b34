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
        /// The password was right and the user has an authenticator app: its code comes next (`completeLogin`); the
        /// cookie names the login waiting for it.
        case codeRequired(UserRecord, [Cookie])
        case rejected
        case throttled
    }

    /// The cookie naming a login that waits for the authenticator's code, and the token purpose behind it.
    static let loginCodeCookie = "sportello_login_code"
    static let loginCodePurpose = "login_code"
    /// How long the code may be typed after the password, and how many wrong codes one login is allowed.
    static let loginCodeLifetime: Int64 = 300
    static let loginCodeAttempts = 5

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
    ///
    /// A user with an authenticator app (`enrol_totp`) also needs its code: given as `totpCode` (the API), it is
    /// checked here and a wrong one counts as a failed login; without it the answer is `codeRequired` and the
    /// login page asks for it (`completeLogin`).
    func login(identifier rawIdentifier: String, password: String, remoteAddress: String?,
               deviceToken: String? = nil, totpCode: String? = nil) async throws -> LoginOutcome {
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
            if matches && locked { LoginAttemptNote.current?.markRefusedBecauseLocked() }
            if matches && !locked && candidate.passwordHash != nil {
                if candidate.status == .blocked || candidate.status == .pendingActivation { return .rejected }
                let hasAuthenticator = !(candidate.totpSecret ?? "").isEmpty
                if hasAuthenticator, let totpCode {
                    let secret = try await services.database.read(tenant: tenant.id, now: now) { try $0.totpSecret(of: candidate) }
                    guard let secret, TOTPCodes.verify(totpCode, secret: secret, at: now) else {
                        try await recordFailure(for: [candidate], device: device, now: now)
                        return .rejected
                    }
                }
                return try await services.database.write(tenant: tenant.id, now: now) { transaction in
                    guard var user = try await transaction.user(id: candidate.id ?? 0) else { return .rejected }
                    if user.status == .mustChangePassword {
                        let temporary = try await transaction.liveToken(userId: user.id ?? 0, purpose: "temporary_password")
                        if temporary == nil { return .rejected }
                    }
                    if hasAuthenticator, totpCode == nil {
                        let challenge = Secrets.token(using: services.random)
                        try await transaction.revokeTokens(userId: user.id ?? 0, purpose: Self.loginCodePurpose)
                        try await transaction.insertToken(OneTimeTokenRecord(userId: user.id, purpose: Self.loginCodePurpose, tokenHash: challenge.hash,
                                                                             createdAt: now, expiresAt: now + Self.loginCodeLifetime))
                        return .codeRequired(user, [Cookie(name: Self.loginCodeCookie, value: challenge.plain, maxAge: Int(Self.loginCodeLifetime),
                                                           path: "/", secure: services.configuration.secureCookies, httpOnly: true,
                                                           sameSite: .strict)])
                    }
                    return try await loggedIn(&user, device: device, in: transaction)
                }
            }
        }
        try await recordFailure(for: candidates, device: device, now: now)
        return .rejected
    }

    /// Ends a successful login inside `transaction`: clears the failed attempts, starts the session and, for a
    /// browser not known for this account, issues its device cookie.
    private func loggedIn(_ user: inout UserRecord, device: OneTimeTokenRecord?, in transaction: TenantTransaction) async throws -> LoginOutcome {
        let now = transaction.now
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

    /// What typing the authenticator's code after the password gave.
    enum CodeOutcome {
        /// Logged in (`success` or `mustChangePassword`).
        case loggedIn(LoginOutcome)
        case wrongCode
        /// No login waits for a code (expired, used, too many wrong codes): start again from the password.
        case expired
    }

    /// Completes a login that waits for the authenticator's code (`codeRequired`): `challenge` is the cookie's
    /// value. Each login allows `loginCodeAttempts` wrong codes, after which it ends and counts as a failed login
    /// (towards the lockout).
    func completeLogin(challenge plain: String, code: String, deviceToken: String?) async throws -> CodeOutcome {
        guard plain.count == 43 else { return .expired }
        let now = services.now
        let hash = Secrets.hash(plain)
        let found = try await services.database.read(tenant: tenant.id, now: now) { transaction -> (OneTimeTokenRecord, UserRecord, String)? in
            guard let token = try await transaction.token(hash: hash, purpose: Self.loginCodePurpose), token.usedAt == nil,
                  token.expiresAt > now, let userId = token.userId, let user = try await transaction.user(id: userId),
                  user.status != .blocked, user.status != .pendingActivation, let secret = try transaction.totpSecret(of: user) else { return nil }
            return (token, user, secret)
        }
        guard let (token, candidate, secret) = found, let tokenId = token.id else { return .expired }
        let device = try await knownDevice(deviceToken, candidates: [candidate], now: now)
        guard TOTPCodes.verify(code, secret: secret, at: now) else {
            let exhausted = try await services.database.write(tenant: tenant.id, now: now) { transaction -> Bool in
                guard try await transaction.recordTokenAttempt(id: tokenId) >= Self.loginCodeAttempts else { return false }
                _ = try await transaction.consumeToken(id: tokenId)
                return true
            }
            if exhausted {
                try await recordFailure(for: [candidate], device: device, now: now)
                return .expired
            }
            return .wrongCode
        }
        return try await services.database.write(tenant: tenant.id, now: now) { transaction in
            guard try await transaction.consumeToken(id: tokenId), var user = try await transaction.user(id: candidate.id ?? 0) else {
                return .expired
            }
            return .loggedIn(try await loggedIn(&user, device: device, in: transaction))
        }
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

    /// Changes the signed-in user's own password (the password change page, and the `change_password` required
    /// action through the API): checks the current password, the policy and the history; stores the new one, which
    /// ends every session of the user, starts a new one, audits the change (and the completion of `completing`, the
    /// pending `change_password` action) and mails the user. Returns the new session's cookies, or the problems
    /// (nothing changed).
    func changeOwnPassword(session: ActiveSession, current: String, password: String, confirmation: String?,
                           completing pending: PendingRequiredAction?) async throws -> Result<[Cookie], FieldProblems> {
        var problems: [FieldProblem] = []
        if !(try await services.passwords.verify(current, against: session.user.passwordHash ?? services.passwords.decoyHash)) {
            problems.append(FieldProblem(field: "current_password", code: "wrong_password", message: LocalizedText(translations: [
                "it": tenant.theme.text("password.current_wrong", locale: "it"),
                "en": tenant.theme.text("password.current_wrong", locale: "en")])))
        }
        problems += try await passwordProblems(password, confirmation: confirmation,
                                               personalData: Self.personalData(user: session.user, customer: session.customer),
                                               user: session.user)
        if password == current, !password.isEmpty {
            problems.append(FieldProblem(field: "password", code: "unchanged", message: LocalizedText(translations: [
                "it": "La nuova password deve essere diversa da quella attuale.", "en": "The new password must differ from the current one."])))
        }
        guard problems.isEmpty else { return .failure(FieldProblems(problems)) }
        let hash = try await services.passwords.hash(password)
        let tenant = tenant
        let cookies: [Cookie] = try await services.database.write(tenant: tenant.id, now: services.now) { transaction in
            guard var user = try await transaction.user(id: session.user.id ?? 0) else { return [] }
            try await applyPassword(hash: hash, to: &user, in: transaction)
            try await transaction.audit("password.changed", actorUserId: user.id, targetKind: "user", targetId: String(user.id ?? 0))
            if let pending, let id = user.id {
                try await RequiredActions(services: services.application, tenant: tenant.served).recordCompletion(pending, userId: id, in: transaction)
            }
            if let email = user.email { try await queueMail("password_changed", to: email, values: ["username": user.username], in: transaction) }
            return try await Sessions.start(for: user, tenant: tenant, services: services, in: transaction)
        }
        services.mailQueued()
        return .success(cookies)
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
