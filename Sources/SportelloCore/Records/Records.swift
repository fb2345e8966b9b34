import Foundation

// The records a customer area stores. Field names map to snake_case columns; every table also has a
// `tenant_id` column that the store fills in and fences on, so it never appears here.
// Dates without a time are ISO `YYYY-MM-DD` strings (they compare correctly as text on every engine);
// instants are Unix seconds; money is in euro cents.

/// A provider's customer (master data).
public struct CustomerRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var externalId: String?
    public var customerType: String
    public var customerCode: String
    public var firstName: String?
    public var lastName: String?
    public var companyName: String?
    public var taxCode: String?
    public var vatNumber: String?
    public var birthDate: String?
    public var birthPlace: String?
    public var email: String?
    public var phone: String?
    public var mobile: String?
    public var pec: String?
    public var recipientCode: String?
    public var iban: String?
    public var street: String?
    public var postalCode: String?
    public var city: String?
    public var province: String?
    public var legalRepFirstName: String?
    public var legalRepLastName: String?
    public var legalRepBirthDate: String?
    public var legalRepTaxCode: String?
    public var legalRepEmail: String?
    public var legalRepMobile: String?
    /// `regular`, `overdue` or `suspended`; the portal shows it when payments are late.
    public var administrativeStatus: String
    /// `paper`, `email` or `paperless`.
    public var invoiceDelivery: String
    /// `sepa`, `card`, `bank_transfer`, `postal_slip` or `paypal`.
    public var paymentMethod: String
    /// Why the payment method on record no longer works, as the provider's system says (a card expired, a direct-debit
    /// mandate revoked); nil while it works. Set by an import, it records `payment_method.invalid`.
    public var paymentMethodProblem: String?
    public var createdAt: Int64

    public init(id: Int64? = nil, externalId: String? = nil, customerType: String, customerCode: String,
                firstName: String? = nil, lastName: String? = nil, companyName: String? = nil,
                taxCode: String? = nil, vatNumber: String? = nil, birthDate: String? = nil, birthPlace: String? = nil,
                email: String? = nil, phone: String? = nil, mobile: String? = nil, pec: String? = nil,
                recipientCode: String? = nil, iban: String? = nil, street: String? = nil, postalCode: String? = nil,
                city: String? = nil, province: String? = nil, legalRepFirstName: String? = nil,
                legalRepLastName: String? = nil, legalRepBirthDate: String? = nil, legalRepTaxCode: String? = nil,
                legalRepEmail: String? = nil, legalRepMobile: String? = nil, administrativeStatus: String = "regular",
                invoiceDelivery: String = "email", paymentMethod: String = "bank_transfer", paymentMethodProblem: String? = nil,
                createdAt: Int64) {
        self.id = id; self.externalId = externalId; self.customerType = customerType; self.customerCode = customerCode
        self.firstName = firstName; self.lastName = lastName; self.companyName = companyName; self.taxCode = taxCode
        self.vatNumber = vatNumber; self.birthDate = birthDate; self.birthPlace = birthPlace; self.email = email
        self.phone = phone; self.mobile = mobile; self.pec = pec; self.recipientCode = recipientCode; self.iban = iban
        self.street = street; self.postalCode = postalCode; self.city = city; self.province = province
        self.legalRepFirstName = legalRepFirstName; self.legalRepLastName = legalRepLastName
        self.legalRepBirthDate = legalRepBirthDate; self.legalRepTaxCode = legalRepTaxCode
        self.legalRepEmail = legalRepEmail; self.legalRepMobile = legalRepMobile
        self.administrativeStatus = administrativeStatus; self.invoiceDelivery = invoiceDelivery
        self.paymentMethod = paymentMethod; self.paymentMethodProblem = paymentMethodProblem; self.createdAt = createdAt
    }

    /// The name to greet: company name, or first and last name.
    public var displayName: String {
        if let companyName, !companyName.isEmpty { return companyName }
        return [firstName, lastName].compactMap { $0 }.joined(separator: " ")
    }
}

/// A person who logs in to a portal, with one role of the tenant.
public struct UserRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var customerId: Int64
    public var username: String
    /// The username as compared at login: lower-cased unless the tenant's usernames are case-sensitive.
    public var usernameKey: String
    public var email: String?
    public var firstName: String?
    public var lastName: String?
    public var passwordHash: String?
    public var role: String
    /// Per-user toggles switched on, comma-separated toggle ids.
    public var toggles: String
    public var creatorUserId: Int64?
    public var status: UserStatus
    public var securityQuestion: String?
    public var securityAnswerHash: String?
    public var failedLogins: Int
    public var lockedUntil: Int64?
    public var lastLoginAt: Int64?
    public var createdAt: Int64
    public var passwordChangedAt: Int64?
    /// Hashes of earlier passwords, newest first, one per line (the policy's `history:`).
    public var passwordHistory: String?
    /// When the current run of failed logins began (the lockout policy's `window:`).
    public var firstFailedLoginAt: Int64?
    /// The address whose control the user proved (a flow's link or code, an invitation sent to it, the
    /// `verify_email` required action), and when. A different `email` is not verified: changing the address
    /// asks for a new proof.
    public var verifiedEmail: String?
    public var emailVerifiedAt: Int64?
    /// The secret of the user's authenticator app (TOTP), sealed, once enrolled (`enrol_totp`): logging in then
    /// asks for its code after the password.
    public var totpSecret: String?
    /// The language the user chose last (the language switch while logged in, else the one they registered in):
    /// their pages when the browser says nothing, and the messages notification rules send them.
    public var locale: String?

    public init(id: Int64? = nil, customerId: Int64, username: String, usernameKey: String, email: String? = nil,
                firstName: String? = nil, lastName: String? = nil, passwordHash: String? = nil, role: String,
                toggles: [String] = [], creatorUserId: Int64? = nil, status: UserStatus = .active,
                securityQuestion: String? = nil, securityAnswerHash: String? = nil, failedLogins: Int = 0,
                lockedUntil: Int64? = nil, lastLoginAt: Int64? = nil, createdAt: Int64,
                passwordChangedAt: Int64? = nil, passwordHistory: String? = nil,
                verifiedEmail: String? = nil, emailVerifiedAt: Int64? = nil, totpSecret: String? = nil, locale: String? = nil) {
        self.passwordChangedAt = passwordChangedAt; self.passwordHistory = passwordHistory; self.locale = locale
        self.verifiedEmail = verifiedEmail; self.emailVerifiedAt = emailVerifiedAt; self.totpSecret = totpSecret
        self.id = id; self.customerId = customerId; self.username = username; self.usernameKey = usernameKey
        self.email = email; self.firstName = firstName; self.lastName = lastName; self.passwordHash = passwordHash
        self.role = role; self.toggles = toggles.joined(separator: ","); self.creatorUserId = creatorUserId
        self.status = status; self.securityQuestion = securityQuestion; self.securityAnswerHash = securityAnswerHash
        self.failedLogins = failedLogins; self.lockedUntil = lockedUntil; self.lastLoginAt = lastLoginAt
        self.createdAt = createdAt
    }

    public var toggleList: [String] { toggles.split(separator: ",").map(String.init) }

    /// Whether the user has an e-mail address whose control they have not proved (see `verifiedEmail`).
    public var hasUnverifiedEmail: Bool {
        guard let email, !email.isEmpty else { return false }
        return verifiedEmail?.lowercased() != email.lowercased()
    }

    /// Records that the user proved control of their current e-mail address at `now`.
    public mutating func markEmailVerified(at now: Int64) {
        verifiedEmail = email
        emailVerifiedAt = now
    }
}

/// Whether a user may log in, and how.
public enum UserStatus: String, Codable, Sendable, CaseIterable {
    case active, blocked
    /// Logs in, but must choose a new password before anything else.
    case mustChangePassword = "must_change_password"
    /// Invited or registered, not activated yet: cannot log in.
    case pendingActivation = "pending_activation"
}

/// A supply or subscription contract of a customer.
public struct ContractRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var externalId: String?
    public var customerId: Int64
    public var code: String
    public var offer: String
    /// `mobile`, `fixed`, `electricity`, `gas`, `hosting`…
    public var kind: String
    public var status: ContractStatus
    public var startsOn: String
    public var expiresOn: String?

    public init(id: Int64? = nil, externalId: String? = nil, customerId: Int64, code: String, offer: String,
                kind: String, status: ContractStatus = .active, startsOn: String, expiresOn: String? = nil) {
        self.id = id; self.externalId = externalId; self.customerId = customerId; self.code = code
        self.offer = offer; self.kind = kind; self.status = status; self.startsOn = startsOn; self.expiresOn = expiresOn
    }
}

/// Where a contract stands.
public enum ContractStatus: String, Codable, Sendable, CaseIterable {
    case active, suspended, terminated
    /// Being activated.
    case pending
}

/// A line or service point under a contract: SIM, fixed line, hosting service, gas or power supply point.
public struct LineRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var externalId: String?
    public var customerId: Int64
    public var contractId: Int64
    /// `sim`, `fixed_line`, `hosting`, `supply_point`.
    public var kind: String
    /// Phone number, domain, POD/PDR code.
    public var identifier: String
    public var description: String?
    public var status: LineStatus
    public var activatedOn: String?
    public var expiresOn: String?
    /// The user the line is assigned to (TIM's Utilizzatore sees only their own line).
    public var assignedUserId: Int64?
    /// The data a SIM may use abroad in a month before its traffic stops ("soglia dati all'estero", WINDTRE), set by
    /// the provider's system; each of the two further unlocks allows as much again. Nil: no roaming threshold.
    public var roamingDataThresholdBytes: Int64?

    public init(id: Int64? = nil, externalId: String? = nil, customerId: Int64, contractId: Int64, kind: String,
                identifier: String, description: String? = nil, status: LineStatus = .active, activatedOn: String? = nil,
                expiresOn: String? = nil, assignedUserId: Int64? = nil, roamingDataThresholdBytes: Int64? = nil) {
        self.id = id; self.externalId = externalId; self.customerId = customerId; self.contractId = contractId
        self.kind = kind; self.identifier = identifier; self.description = description; self.status = status
        self.activatedOn = activatedOn; self.expiresOn = expiresOn; self.assignedUserId = assignedUserId
        self.roamingDataThresholdBytes = roamingDataThresholdBytes
    }
}

/// Where a line stands; a blocked SIM is `suspended`.
public enum LineStatus: String, Codable, Sendable, CaseIterable {
    case active, suspended, terminated
    /// Being activated.
    case pending
}

/// An option or add-on service on a contract or line.
public struct ServiceRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var contractId: Int64
    public var lineId: Int64?
    public var name: String
    public var status: ServiceStatus
    public var monthlyFeeCents: Int64
    public var expiresOn: String?

    public init(id: Int64? = nil, contractId: Int64, lineId: Int64? = nil, name: String, status: ServiceStatus = .active,
                monthlyFeeCents: Int64, expiresOn: String? = nil) {
        self.id = id; self.contractId = contractId; self.lineId = lineId; self.name = name; self.status = status
        self.monthlyFeeCents = monthlyFeeCents; self.expiresOn = expiresOn
    }
}

/// Whether an option or add-on service is switched on.
public enum ServiceStatus: String, Codable, Sendable, CaseIterable {
    case active, inactive
}

/// An invoice (bill) issued to a customer.
public struct InvoiceRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var externalId: String?
    public var customerId: Int64
    public var contractId: Int64?
    public var number: String
    public var issuedOn: String
    public var dueOn: String
    public var periodFrom: String?
    public var periodTo: String?
    public var netCents: Int64
    public var taxCents: Int64
    public var totalCents: Int64
    public var status: InvoiceStatus
    public var paidOn: String?
    /// The user a personal invoice is addressed to (TIM's Dual Billing: private use of a company line);
    /// nil for the company's own invoices.
    public var holderUserId: Int64?
    /// True when the invoice was marked paid by the portal's simulated (demo) card payment: no money moved.
    public var simulated: Bool?

    public init(id: Int64? = nil, externalId: String? = nil, customerId: Int64, contractId: Int64? = nil,
                number: String, issuedOn: String, dueOn: String, periodFrom: String? = nil, periodTo: String? = nil,
                netCents: Int64, taxCents: Int64, totalCents: Int64, status: InvoiceStatus, paidOn: String? = nil,
                holderUserId: Int64? = nil, simulated: Bool? = nil) {
        self.holderUserId = holderUserId; self.simulated = simulated
        self.id = id; self.externalId = externalId; self.customerId = customerId; self.contractId = contractId
        self.number = number; self.issuedOn = issuedOn; self.dueOn = dueOn; self.periodFrom = periodFrom
        self.periodTo = periodTo; self.netCents = netCents; self.taxCents = taxCents; self.totalCents = totalCents
        self.status = status; self.paidOn = paidOn
    }
}

/// Whether an invoice is paid.
public enum InvoiceStatus: String, Codable, Sendable, CaseIterable {
    case paid, unpaid, overdue
    case partiallyPaid = "partially_paid"
}

/// A file attached to an invoice or a request.
public struct DocumentRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    /// `invoice` or `request`.
    public var ownerKind: String
    public var ownerId: Int64
    public var fileName: String
    public var contentType: String
    public var content: Data
    public var createdAt: Int64

    public init(id: Int64? = nil, ownerKind: String, ownerId: Int64, fileName: String, contentType: String,
                content: Data, createdAt: Int64) {
        self.id = id; self.ownerKind = ownerKind; self.ownerId = ownerId; self.fileName = fileName
        self.contentType = contentType; self.content = content; self.createdAt = createdAt
    }
}

/// A line of the account statement: a debit (invoice) or a credit (payment); open until settled.
public struct StatementEntryRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var customerId: Int64
    public var invoiceId: Int64?
    public var bookedOn: String
    public var dueOn: String?
    public var description: String
    /// Positive for debits, negative for credits.
    public var amountCents: Int64
    public var isOpen: Bool
    /// True for the credit booked by a simulated (demo) payment: no money moved.
    public var simulated: Bool?

    public init(id: Int64? = nil, customerId: Int64, invoiceId: Int64? = nil, bookedOn: String, dueOn: String? = nil,
                description: String, amountCents: Int64, isOpen: Bool, simulated: Bool? = nil) {
        self.simulated = simulated
        self.id = id; self.customerId = customerId; self.invoiceId = invoiceId; self.bookedOn = bookedOn
        self.dueOn = dueOn; self.description = description; self.amountCents = amountCents; self.isOpen = isOpen
    }
}

/// A payment received from a customer.
public struct PaymentRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var externalId: String?
    public var customerId: Int64
    public var invoiceId: Int64?
    public var paidOn: String
    public var amountCents: Int64
    public var method: String
    public var reference: String?
    /// True for a payment recorded by the portal's simulated (demo) card form: no payment provider was
    /// involved and nothing was charged.
    public var simulated: Bool?

    public init(id: Int64? = nil, externalId: String? = nil, customerId: Int64, invoiceId: Int64? = nil, paidOn: String,
                amountCents: Int64, method: String, reference: String? = nil, simulated: Bool? = nil) {
        self.simulated = simulated
        self.id = id; self.externalId = externalId; self.customerId = customerId; self.invoiceId = invoiceId
        self.paidOn = paidOn; self.amountCents = amountCents; self.method = method; self.reference = reference
    }
}

/// One usage event on a line: a call, a message, a data session or an option charge.
public struct UsageRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var externalId: String?
    public var customerId: Int64
    public var lineId: Int64
    /// Unix seconds.
    public var startedAt: Int64
    /// `call`, `sms`, `mms`, `data` or `option`.
    public var kind: String
    /// The other party (number or access point), when there is one.
    public var counterpart: String?
    public var durationSeconds: Int64
    public var volumeBytes: Int64
    public var costCents: Int64
    public var description: String?
    /// Used abroad (counted against the line's roaming data threshold); nil or false: at home.
    public var roaming: Bool?

    public init(id: Int64? = nil, externalId: String? = nil, customerId: Int64, lineId: Int64, startedAt: Int64,
                kind: String, counterpart: String? = nil, durationSeconds: Int64 = 0, volumeBytes: Int64 = 0,
                costCents: Int64 = 0, description: String? = nil, roaming: Bool? = nil) {
        self.id = id; self.externalId = externalId; self.customerId = customerId; self.lineId = lineId
        self.startedAt = startedAt; self.kind = kind; self.counterpart = counterpart
        self.durationSeconds = durationSeconds; self.volumeBytes = volumeBytes; self.costCents = costCents
        self.description = description; self.roaming = roaming
    }
}

/// A top-up of a prepaid line.
public struct RechargeRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var externalId: String?
    public var customerId: Int64
    public var lineId: Int64
    public var rechargedAt: Int64
    public var amountCents: Int64
    public var channel: String
    public var status: RechargeStatus
    /// True for a recharge made through the portal's simulated (demo) payment: nothing was charged.
    public var simulated: Bool?

    public init(id: Int64? = nil, externalId: String? = nil, customerId: Int64, lineId: Int64, rechargedAt: Int64,
                amountCents: Int64, channel: String, status: RechargeStatus = .completed, simulated: Bool? = nil) {
        self.simulated = simulated
        self.id = id; self.externalId = externalId; self.customerId = customerId; self.lineId = lineId
        self.rechargedAt = rechargedAt; self.amountCents = amountCents; self.channel = channel; self.status = status
    }
}

/// The outcome of a top-up.
public enum RechargeStatus: String, Codable, Sendable, CaseIterable {
    case completed, pending, failed
}

/// A customer request or ticket made through one of the tenant's forms.
public struct RequestRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var customerId: Int64
    public var userId: Int64?
    /// The id of the tenant's request form.
    public var form: String
    /// The form's group: "one open request at a time" counts within a group.
    public var formGroup: String?
    public var subject: String
    /// The submitted fields as a JSON object.
    public var payload: String
    /// `open`, `in_progress`, `closed` or `rejected`.
    public var status: String
    public var createdAt: Int64
    public var updatedAt: Int64
    public var closedAt: Int64?
    /// The tenant's own request number (1, 2, 3… per tenant), given when the request is stored.
    public var number: Int64?

    /// The number shown to people: the tenant's own numbering (the row id only for a row stored before it).
    public var displayNumber: Int64 { number ?? id ?? 0 }

    public init(id: Int64? = nil, customerId: Int64, userId: Int64? = nil, form: String, formGroup: String? = nil,
                subject: String, payload: String = "{}", status: String = "open", createdAt: Int64,
                updatedAt: Int64? = nil, closedAt: Int64? = nil) {
        self.id = id; self.customerId = customerId; self.userId = userId; self.form = form; self.formGroup = formGroup
        self.subject = subject; self.payload = payload; self.status = status; self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt; self.closedAt = closedAt
    }

    public var isOpen: Bool { status == "open" || status == "in_progress" }
}

/// One step of a request's status history.
public struct RequestEventRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var requestId: Int64
    public var at: Int64
    public var status: String
    public var note: String?
    public var actorUserId: Int64?

    public init(id: Int64? = nil, requestId: Int64, at: Int64, status: String, note: String? = nil,
                actorUserId: Int64? = nil) {
        self.id = id; self.requestId = requestId; self.at = at; self.status = status; self.note = note
        self.actorUserId = actorUserId
    }
}

/// A user's choice for one of the tenant's notification rules.
public struct NotificationPreferenceRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var userId: Int64
    public var rule: String
    public var channel: String
    public var enabled: Bool
    public var threshold: Int64?

    public init(id: Int64? = nil, userId: Int64, rule: String, channel: String, enabled: Bool, threshold: Int64? = nil) {
        self.id = id; self.userId = userId; self.rule = rule; self.channel = channel; self.enabled = enabled
        self.threshold = threshold
    }
}

/// An invitation to register with a pre-assigned username and role; only the token's hash is stored.
public struct InvitationRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var customerId: Int64
    public var email: String
    public var username: String
    public var role: String
    public var tokenHash: String
    public var createdBy: Int64?
    public var createdAt: Int64
    public var expiresAt: Int64
    public var acceptedAt: Int64?
    public var revokedAt: Int64?

    public init(id: Int64? = nil, customerId: Int64, email: String, username: String, role: String,
                tokenHash: String, createdBy: Int64? = nil, createdAt: Int64, expiresAt: Int64,
                acceptedAt: Int64? = nil, revokedAt: Int64? = nil) {
        self.id = id; self.customerId = customerId; self.email = email; self.username = username; self.role = role
        self.tokenHash = tokenHash; self.createdBy = createdBy; self.createdAt = createdAt; self.expiresAt = expiresAt
        self.acceptedAt = acceptedAt; self.revokedAt = revokedAt
    }
}

/// A single-use secret (reset link, activation link, control code); only its hash is stored.
public struct OneTimeTokenRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var userId: Int64?
    /// `password_reset`, `activation`, `email_verification`, `control_code`…
    public var purpose: String
    public var tokenHash: String
    public var createdAt: Int64
    public var expiresAt: Int64
    public var usedAt: Int64?
    public var attempts: Int
    /// What the token carries besides its purpose (for example the flow state it belongs to).
    public var data: String?

    public init(id: Int64? = nil, userId: Int64?, purpose: String, tokenHash: String, createdAt: Int64,
                expiresAt: Int64, usedAt: Int64? = nil, attempts: Int = 0, data: String? = nil) {
        self.data = data
        self.id = id; self.userId = userId; self.purpose = purpose; self.tokenHash = tokenHash
        self.createdAt = createdAt; self.expiresAt = expiresAt; self.usedAt = usedAt; self.attempts = attempts
    }
}

/// A logged-in session; the cookie carries the secret, the store only its hash.
public struct SessionRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var tokenHash: String
    public var userId: Int64
    public var createdAt: Int64
    public var lastSeenAt: Int64
    public var expiresAt: Int64
    public var csrfTokenHash: String

    public init(id: Int64? = nil, tokenHash: String, userId: Int64, createdAt: Int64, lastSeenAt: Int64,
                expiresAt: Int64, csrfTokenHash: String) {
        self.id = id; self.tokenHash = tokenHash; self.userId = userId; self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt; self.expiresAt = expiresAt; self.csrfTokenHash = csrfTokenHash
    }
}

/// A privileged action, for the audit log. `detail` never carries secrets or personal data.
public struct AuditRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var at: Int64
    public var actorUserId: Int64?
    public var action: String
    public var targetKind: String?
    public var targetId: String?
    public var detail: String?

    public init(id: Int64? = nil, at: Int64, actorUserId: Int64? = nil, action: String, targetKind: String? = nil,
                targetId: String? = nil, detail: String? = nil) {
        self.id = id; self.at = at; self.actorUserId = actorUserId; self.action = action
        self.targetKind = targetKind; self.targetId = targetId; self.detail = detail
    }
}

/// An e-mail waiting for (or done with) delivery, written in the same transaction as the change it reports.
public struct OutboxRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var createdAt: Int64
    public var kind: String
    public var recipient: String
    public var subject: String
    public var bodyText: String
    public var bodyHtml: String?
    public var status: OutboxStatus
    public var attempts: Int
    public var nextAttemptAt: Int64
    public var lastError: String?
    public var sentAt: Int64?

    public init(id: Int64? = nil, createdAt: Int64, kind: String, recipient: String, subject: String,
                bodyText: String, bodyHtml: String? = nil, status: OutboxStatus = .pending, attempts: Int = 0,
                nextAttemptAt: Int64? = nil, lastError: String? = nil, sentAt: Int64? = nil) {
        self.id = id; self.createdAt = createdAt; self.kind = kind; self.recipient = recipient; self.subject = subject
        self.bodyText = bodyText; self.bodyHtml = bodyHtml; self.status = status; self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt ?? createdAt; self.lastError = lastError; self.sentAt = sentAt
    }
}

/// Where an e-mail of the outbox stands.
public enum OutboxStatus: String, Codable, Sendable, CaseIterable {
    case pending, sent
    /// Given up after the last retry.
    case failed
}

/// A registration or recovery in progress; `data` is the JSON of Core's `FlowProgress`.
public struct FlowStateRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var tokenHash: String
    public var flow: String
    public var data: String
    public var createdAt: Int64
    public var updatedAt: Int64
    public var expiresAt: Int64
    public var completedAt: Int64?

    public init(id: Int64? = nil, tokenHash: String, flow: String, data: String, createdAt: Int64, updatedAt: Int64,
                expiresAt: Int64, completedAt: Int64? = nil) {
        self.id = id; self.tokenHash = tokenHash; self.flow = flow; self.data = data; self.createdAt = createdAt
        self.updatedAt = updatedAt; self.expiresAt = expiresAt; self.completedAt = completedAt
    }
}
