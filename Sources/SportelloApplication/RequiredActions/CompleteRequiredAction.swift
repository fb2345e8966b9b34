import Foundation
import SportelloCore
import SportelloStore

/// The required actions of a tenant's users (`required_actions:`): which ones a user must complete now (the pure
/// `RequiredActionRules` over their stored completions), completing them, and the staff listing of who has some
/// pending. The gate in front of the pages, the action pages, the JSON API and the `sportello users` command all go
/// through here. Every completion is audited (`required_action.completed`, naming the action, never the data).
public struct RequiredActions: Sendable {
    let services: ApplicationServices
    public let tenant: ServedTenant

    public init(services: ApplicationServices, tenant: ServedTenant) { self.services = services; self.tenant = tenant }

    public var definition: TenantDefinition { tenant.definition }

    /// The one-time token purpose of the link the `verify_email` action mails. (A link only, no code: a code would
    /// stay readable in the delivered mail's kept copy, while a link's token is redacted after delivery.)
    public static let linkPurpose = "verify_email"
    /// How long the link of `verify_email` stays valid.
    public static let verificationLifetime: Int64 = 24 * 3_600

    // MARK: Pending

    /// What `user` (whose customer is of `customerType`) must complete now, in the order asked. Costs no query when
    /// nothing recorded applies to them (see `RequiredActionRules.needsCompletions`), else one indexed read.
    public func pending(user: UserRecord, customerType: String) async throws -> [PendingRequiredAction] {
        var completions: [RequiredActionCompletion] = []
        if let id = user.id, needsCompletions(user: user, customerType: customerType) {
            completions = try await services.database.readOneStatement(tenant: tenant.id, now: services.now) {
                try await $0.requiredActionCompletions(userId: id)
            }
        }
        return pending(user: user, customerType: customerType, completions: completions)
    }

    /// Whether working out `user`'s pending actions needs their stored completions (else none are read).
    public func needsCompletions(user: UserRecord, customerType: String) -> Bool {
        RequiredActionRules.needsCompletions(in: definition, role: user.role, customerType: customerType)
    }

    /// What `user` must complete now, given their stored `completions` (read by the caller, e.g. from a cache).
    public func pending(user: UserRecord, customerType: String, completions: [RequiredActionCompletion]) -> [PendingRequiredAction] {
        RequiredActionRules.pending(in: definition, subject: RequiredActionSubject(user: user, customerType: customerType),
                                    completions: completions, now: services.now)
    }

    /// The pending action `id` of `user`, or nil when it is not pending for them (unknown, not theirs, done).
    public func pendingAction(_ id: String, user: UserRecord, customerType: String) async throws -> PendingRequiredAction? {
        try await pending(user: user, customerType: customerType).first { $0.id == id }
    }

    /// A user with something pending, for the staff listing (the username and the actions, no other personal data).
    public struct UserWithPending: Sendable {
        public var username: String
        public var pending: [PendingRequiredAction]
    }

    /// Every user of the tenant who can log in and has something pending now, by username.
    public func usersWithPending() async throws -> [UserWithPending] {
        let now = services.now
        let (users, completions) = try await services.database.read(tenant: tenant.id, now: now) { transaction in
            (try await transaction.usersWithCustomerTypes(), try await transaction.allRequiredActionCompletions())
        }
        let byUser = Dictionary(grouping: completions, by: \.userId)
        return users.compactMap { user, customerType in
            guard user.status == .active || user.status == .mustChangePassword else { return nil }
            let pending = RequiredActionRules.pending(in: definition, subject: RequiredActionSubject(user: user, customerType: customerType),
                                                      completions: byUser[user.id ?? 0] ?? [], now: now)
            return pending.isEmpty ? nil : UserWithPending(username: user.username, pending: pending)
        }
    }

    // MARK: Completing

    /// Audits a completion and, for the recorded types, stores it (the version accepted), in `transaction`.
    public func recordCompletion(_ pending: PendingRequiredAction, userId: Int64, version: String? = nil,
                                 in transaction: TenantTransaction) async throws {
        if pending.type.isRecorded {
            try await transaction.recordRequiredActionCompletion(userId: userId, actionId: pending.id, version: version)
        }
        try await transaction.audit("required_action.completed", actorUserId: userId, targetKind: "user", targetId: String(userId),
                                    detail: "\(pending.id) (\(pending.type.rawValue))" + (version.map { ", version \($0)" } ?? ""))
    }

    /// A refusal with a message from the tenant's texts in every language (`required_actions.error.<code>`).
    func refusal(_ code: String, locale: String, field: String? = nil) -> UseCaseRefusal {
        let message = tenant.texts.text("required_actions.error.\(code)", locale: locale)
        let problems = field.map { [FieldProblem(field: $0, code: code, message: tenant.texts.localized("required_actions.error.\(code)", in: definition))] }
        return UseCaseRefusal(code: code, message: message, problems: problems ?? [])
    }

    /// `accept_terms`: records that the user accepted the version published now. `version`, when the client names
    /// the one it showed, must be that one (refused with `version_changed` otherwise, so nobody accepts a text they
    /// did not see). Throws `UseCaseRefusal` (`not_accepted` when `accepted` is false).
    public func acceptTerms(_ pending: PendingRequiredAction, user: UserRecord, accepted: Bool, version: String?, locale: String) async throws {
        guard let action = definition.requiredActions?[pending.id], action.type == .acceptTerms, let userId = user.id else {
            throw refusal("not_pending", locale: locale)
        }
        if let version, version != action.version { throw refusal("version_changed", locale: locale) }
        guard accepted else { throw refusal("not_accepted", locale: locale, field: "accept") }
        try await services.database.write(tenant: tenant.id, now: services.now) { transaction in
            try await recordCompletion(pending, userId: userId, version: action.version, in: transaction)
        }
    }

    // MARK: confirm_customer_data

    /// What a `confirm_customer_data` form shows: its inputs, the values stored now and the read-only ones.
    public struct CustomerDataForm: Sendable {
        public var inputs: [FormInput]
        /// Stored values by input name (catalogue columns and the tenant's own fields, canonical).
        public var values: [String: String]
        /// Inputs `field_policies.immutable` makes read-only.
        public var readOnly: Set<String>
    }

    /// The form of action `id` for `customer`, with the values stored now.
    public func customerDataForm(_ id: String, customer: CustomerRecord) async throws -> CustomerDataForm {
        guard let action = definition.requiredActions?[id], action.type == .confirmCustomerData else {
            return CustomerDataForm(inputs: [], values: [:], readOnly: [])
        }
        let inputs = RequiredActionRules.confirmationInputs(action, customerType: customer.customerType, in: definition)
        let own = try await ownValues(of: customer, inputs: inputs)
        return CustomerDataForm(inputs: inputs, values: Self.values(inputs, customer: customer, own: own),
                                readOnly: RequiredActionRules.readOnlyInputs(in: definition))
    }

    private func ownValues(of customer: CustomerRecord, inputs: [FormInput]) async throws -> [String: String] {
        guard let id = customer.id, inputs.contains(where: { definition.customerFields?[$0.name] != nil }) else { return [:] }
        return try await services.database.read(tenant: tenant.id, now: services.now) { try await $0.customFieldValues(of: .customer(id)) }
    }

    private static func values(_ inputs: [FormInput], customer: CustomerRecord, own: [String: String]) -> [String: String] {
        var values: [String: String] = [:]
        for input in inputs {
            if let value = own[input.name] ?? RequiredActionRules.value(input.name, of: customer), !value.isEmpty { values[input.name] = value }
        }
        return values
    }

    /// `confirm_customer_data`: checks what was submitted (the catalogue's validators and the tenant's own fields'
    /// definitions, messages in every language), stores what changed on the customer record and records the
    /// confirmation, even when nothing changed. Throws `UseCaseRefusal` (`invalid`, with every problem by field).
    /// Returns the names of the fields that changed.
    @discardableResult
    public func confirmCustomerData(_ pending: PendingRequiredAction, user: UserRecord, customer: CustomerRecord,
                                    submitted: [String: String], locale: String) async throws -> [String] {
        guard let action = definition.requiredActions?[pending.id], action.type == .confirmCustomerData,
              let userId = user.id, let customerId = customer.id else { throw refusal("not_pending", locale: locale) }
        let now = services.now
        let inputs = RequiredActionRules.confirmationInputs(action, customerType: customer.customerType, in: definition)
        let own = try await ownValues(of: customer, inputs: inputs)
        let current = Self.values(inputs, customer: customer, own: own)
        let kind = definition.customerTypes[customer.customerType]?.kind ?? .person
        let context = FieldContext(locale: locale, tenant: definition, today: CalendarDay(instant: now))
        let normalised: [String: String]
        switch RequiredActionRules.validateConfirmation(submitted, inputs: inputs, current: current,
                                                        readOnly: RequiredActionRules.readOnlyInputs(in: definition),
                                                        customerKind: kind, typeId: customer.customerType, definition: definition,
                                                        context: context) {
        case .success(let values): normalised = values
        case .failure(let problems):
            throw UseCaseRefusal(code: "invalid", message: tenant.texts.text("form.has_errors", locale: locale), problems: problems.problems)
        }
        return try await services.database.write(tenant: tenant.id, now: now) { transaction in
            guard var record = try await transaction.customer(id: customerId) else { throw refusal("not_pending", locale: locale) }
            let stored = try await transaction.customFieldValues(of: .customer(customerId))
            var changed: [String] = []
            var ownChanges: [String: String?] = [:]
            for input in inputs {
                guard let value = normalised[input.name] else { continue }
                let new: String? = value.isEmpty ? nil : value
                if definition.customerFields?[input.name] != nil {
                    if stored[input.name] != new { ownChanges[input.name] = new; changed.append(input.name) }
                } else if RequiredActionRules.value(input.name, of: record) != new {
                    record = RequiredActionRules.setting(input.name, to: new, on: record)
                    changed.append(input.name)
                }
            }
            if !changed.isEmpty {
                try await transaction.updateCustomer(record)
                if !ownChanges.isEmpty { try await transaction.setCustomFieldValues(ownChanges, of: .customer(customerId)) }
                try await transaction.audit("customer_data.updated", actorUserId: userId, targetKind: "customer",
                                            targetId: String(customerId), detail: "fields: " + changed.joined(separator: ", "))
            }
            try await recordCompletion(pending, userId: userId, in: transaction)
            return changed
        }
    }

    // MARK: verify_email

    /// `verify_email`: e-mails the user a link that proves the address (valid for a day; a new e-mail voids the
    /// previous link). Counts against the user's mail limits (`MailLimitExceeded`). `link` builds the portal link
    /// from the token. Returns the address, masked.
    public func sendEmailVerification(_ pending: PendingRequiredAction, user: UserRecord, link: @Sendable (String) -> String,
                                      locale: String) async throws -> String {
        guard pending.type == .verifyEmail, let userId = user.id, let email = user.email, !email.isEmpty else {
            throw refusal("not_pending", locale: locale)
        }
        try await MailLimits(services: services, tenant: tenant).spend(.emailChange, userId: userId, customerId: user.customerId, recipient: email)
        let token = Secrets.token(using: services.random)
        let data = "\(pending.id)\n\(email.lowercased())"
        try await services.database.write(tenant: tenant.id, now: services.now) { transaction in
            let expires = transaction.now + Self.verificationLifetime
            try await transaction.revokeTokens(userId: userId, purpose: Self.linkPurpose)
            try await transaction.insertToken(OneTimeTokenRecord(userId: userId, purpose: Self.linkPurpose, tokenHash: token.hash,
                                                                 createdAt: transaction.now, expiresAt: expires, data: data))
            try await services.queueMail("verify_email", to: email, values: [
                "link": link(token.plain), "username": user.username, "expires_on": Formatting.dateTime(expires, locale: locale),
            ], locale: locale, tenant: definition, in: transaction)
            try await transaction.audit("required_action.email_sent", actorUserId: userId, targetKind: "user", targetId: String(userId),
                                        detail: pending.id)
        }
        services.mailQueued()
        return Self.mask(email)
    }

    /// Follows the e-mailed link of `verify_email` (no session needed: the token names the user and the address).
    /// Throws `UseCaseRefusal` (`link_invalid`, `link_used`, `link_expired`, `email_changed`); returns the user's id.
    @discardableResult
    public func verifyEmail(linkToken plain: String, locale: String) async throws -> Int64 {
        guard plain.count == 43 else { throw refusal("link_invalid", locale: locale) }
        let hash = Secrets.hash(plain)
        return try await services.database.write(tenant: tenant.id, now: services.now) { transaction in
            guard let token = try await transaction.token(hash: hash, purpose: Self.linkPurpose), let userId = token.userId else {
                throw refusal("link_invalid", locale: locale)
            }
            if token.usedAt != nil { throw refusal("link_used", locale: locale) }
            if token.expiresAt <= transaction.now { throw refusal("link_expired", locale: locale) }
            try await verified(token: token, userId: userId, in: transaction, locale: locale)
            return userId
        }
    }

    /// Marks the address the token was sent to as verified, if it is still the user's, and spends the link.
    private func verified(token: OneTimeTokenRecord, userId: Int64, in transaction: TenantTransaction, locale: String) async throws {
        let parts = (token.data ?? "").split(separator: "\n", maxSplits: 1).map(String.init)
        guard parts.count == 2, var user = try await transaction.user(id: userId) else { throw refusal("link_invalid", locale: locale) }
        guard user.email?.lowercased() == parts[1] else { throw refusal("email_changed", locale: locale) }
        guard try await transaction.consumeToken(id: token.id ?? 0) else { throw refusal("link_used", locale: locale) }
        guard user.hasUnverifiedEmail else { return }
        user.markEmailVerified(at: transaction.now)
        try await transaction.updateUser(user)
        try await recordCompletion(PendingRequiredAction(id: parts[0], type: .verifyEmail, reason: .emailNotVerified), userId: userId,
                                   in: transaction)
    }

    /// `mario.rossi@example.it` → `m***i@example.it`.
    public static func mask(_ email: String) -> String {
        let parts = email.split(separator: "@", maxSplits: 1)
        guard parts.count == 2, let first = parts[0].first else { return "***" }
        let last = parts[0].count > 1 ? String(parts[0].last!) : ""
        return "\(first)***\(last)@\(parts[1])"
    }
}

// MARK: enrol_totp

extension RequiredActions {
    /// How long an authenticator enrolment in progress lasts before a new secret is drawn.
    public static let enrolmentLifetime: Int64 = 3_600

    /// `enrol_totp`: the secret of the user's enrolment in progress (kept sealed until confirmed), drawing one with
    /// `newSecret` when there is none. The user copies it (or its `otpauth://` URI) into an authenticator app.
    public func totpEnrolment(_ pending: PendingRequiredAction, user: UserRecord, newSecret: @escaping @Sendable () -> String,
                              locale: String) async throws -> String {
        guard pending.type == .enrolTOTP, let userId = user.id else { throw refusal("not_pending", locale: locale) }
        return try await services.database.write(tenant: tenant.id, now: services.now) { transaction in
            if let staged = try await transaction.stagedTOTPSecret(userId: userId) { return staged }
            let secret = newSecret()
            try await transaction.stageTOTPSecret(secret, userId: userId, lifetime: Self.enrolmentLifetime)
            return secret
        }
    }

    /// `enrol_totp`: completes the enrolment when `verify(secret, code)` accepts the app's code for the staged
    /// secret, which becomes the user's (login asks for its code from then on). Throws `UseCaseRefusal`
    /// (`wrong_code`, `enrolment_expired`).
    public func confirmTOTP(_ pending: PendingRequiredAction, user: UserRecord, code: String,
                            verify: @escaping @Sendable (_ secret: String, _ code: String) -> Bool, locale: String) async throws {
        guard pending.type == .enrolTOTP, let userId = user.id else { throw refusal("not_pending", locale: locale) }
        let enrolled: Bool = try await services.database.write(tenant: tenant.id, now: services.now) { transaction in
            guard let secret = try await transaction.stagedTOTPSecret(userId: userId) else {
                throw refusal("enrolment_expired", locale: locale, field: "code")
            }
            guard verify(secret, code) else { return false }
            try await transaction.enrolTOTP(secret, userId: userId)
            try await recordCompletion(pending, userId: userId, in: transaction)
            return true
        }
        if !enrolled { throw refusal("wrong_code", locale: locale, field: "code") }
    }
}
