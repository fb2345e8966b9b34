import Foundation
import SQLKit
import SportelloCore

/// Where an online payment stands.
public enum OnlinePaymentStatus: String, Codable, Sendable, CaseIterable {
    /// Recorded; the provider has not accepted it yet.
    case created
    /// The provider accepted it and the customer is (or was sent) on its page; no verdict yet.
    case pending
    /// The provider's signed notification confirmed it, with the expected amount and currency.
    case paid
    /// Declined, not confirmed, or settled with a problem (see `OnlinePaymentRecord.problem`).
    case failed
    /// The customer cancelled on the provider's page.
    case cancelled
    /// Paid, then refunded by the provider.
    case refunded

    /// Still waiting for the provider's verdict.
    public var isOpen: Bool { self == .created || self == .pending }
}

/// Why an online payment needs staff, stored in `problem`.
public enum OnlinePaymentProblem: String, Codable, Sendable, CaseIterable {
    /// The provider could not be reached (or refused) when the payment was created: nothing was charged.
    case providerUnreachable = "provider_unreachable"
    /// The provider confirmed an amount or currency other than the one asked: not marked paid.
    case amountMismatch = "amount_mismatch"
    /// The provider confirmed it after the invoice had been paid another way: charged twice, to be refunded.
    case invoiceAlreadyPaid = "invoice_already_paid"
}

/// One payment made through a payments plugin.
public struct OnlinePaymentRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var customerId: Int64
    /// Who started it (nil when the user was since deleted).
    public var userId: Int64?
    /// The invoice or pro-forma it pays.
    public var invoiceId: Int64?
    /// The prepaid line it recharges (purpose `recharge`).
    public var lineId: Int64?
    /// `invoice`, `proforma` or `recharge`.
    public var purpose: String
    /// The tenant's feature it was made through (`proforma.pay`, `recharges.online`).
    public var feature: String
    /// The plugin (manifest id) that carried it out.
    public var plugin: String
    /// `card`, `paypal`, `bank_transfer`.
    public var method: String
    public var amountCents: Int64
    public var currency: String
    public var status: OnlinePaymentStatus
    /// Made through a sandbox plugin: nothing real was charged, whatever its status says.
    public var sandbox: Bool
    /// The provider's id of the payment.
    public var pspReference: String?
    /// The provider's hosted page for the customer.
    public var redirectUrl: String?
    public var problem: OnlinePaymentProblem?
    /// What the provider said (a decline reason, the amounts of a mismatch), for staff; never card data.
    public var detail: String?
    /// The customer's language when paying (for the confirmation e-mail).
    public var locale: String
    public var createdAt: Int64
    public var updatedAt: Int64
    public var confirmedAt: Int64?
    public var refundedAt: Int64?
    /// A random key sent to the provider as the Idempotency-Key: asking twice for this payment gives one payment there,
    /// and a database reset or restore that reuses row ids never meets a payment the provider already settled.
    public var attemptKey: String

    public init(id: Int64? = nil, customerId: Int64, userId: Int64?, invoiceId: Int64?, purpose: String, feature: String, plugin: String,
                method: String, amountCents: Int64, currency: String, status: OnlinePaymentStatus = .created, sandbox: Bool,
                pspReference: String? = nil, redirectUrl: String? = nil, problem: OnlinePaymentProblem? = nil, detail: String? = nil,
                locale: String, createdAt: Int64, updatedAt: Int64? = nil, confirmedAt: Int64? = nil, refundedAt: Int64? = nil,
                attemptKey: String, lineId: Int64? = nil) {
        self.attemptKey = attemptKey; self.lineId = lineId
        self.id = id; self.customerId = customerId; self.userId = userId; self.invoiceId = invoiceId; self.purpose = purpose
        self.feature = feature; self.plugin = plugin; self.method = method; self.amountCents = amountCents; self.currency = currency
        self.status = status; self.sandbox = sandbox; self.pspReference = pspReference; self.redirectUrl = redirectUrl
        self.problem = problem; self.detail = detail; self.locale = locale; self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt; self.confirmedAt = confirmedAt; self.refundedAt = refundedAt
    }
}

/// What the portal did with one notification of a payments plugin.
public enum PaymentNotificationOutcome: String, Codable, Sendable, CaseIterable {
    /// It changed the payment (and the invoice).
    case applied
    /// It said nothing new (the payment was already in that state, or a later one).
    case unchanged
    /// A payment confirmed with another amount or currency: recorded, not paid.
    case mismatch
    /// No payment of this tenant and plugin has that id and reference.
    case unknownPayment = "unknown_payment"
}

/// A notification received from a payments plugin, once per notification id.
public struct PaymentNotificationRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var plugin: String
    public var notificationId: String
    public var onlinePaymentId: Int64?
    /// `payment.succeeded`, `payment.failed`, `payment.cancelled`, `payment.refunded`.
    public var type: String
    public var outcome: PaymentNotificationOutcome
    public var detail: String?
    public var receivedAt: Int64

    public init(id: Int64? = nil, plugin: String, notificationId: String, onlinePaymentId: Int64?, type: String,
                outcome: PaymentNotificationOutcome, detail: String? = nil, receivedAt: Int64) {
        self.id = id; self.plugin = plugin; self.notificationId = notificationId; self.onlinePaymentId = onlinePaymentId
        self.type = type; self.outcome = outcome; self.detail = detail; self.receivedAt = receivedAt
    }
}

extension TenantTransaction {
    /// Records a new online payment and returns its id.
    public func insertOnlinePayment(_ payment: OnlinePaymentRecord) async throws -> Int64 {
        try await insert(.onlinePayments, payment)
    }

    /// One of the tenant's online payments (the notification handler finds it by id; pages use `customerId`).
    public func onlinePayment(id: Int64) async throws -> OnlinePaymentRecord? {
        try await first(select(.onlinePayments).column("*").where("id", .equal, id), as: OnlinePaymentRecord.self)
    }

    /// One of the customer's online payments.
    public func onlinePayment(id: Int64, customerId: Int64) async throws -> OnlinePaymentRecord? {
        try await first(select(.onlinePayments).column("*").where("id", .equal, id).where("customer_id", .equal, customerId),
                        as: OnlinePaymentRecord.self)
    }

    /// The online payments of one of the customer's invoices, newest first.
    public func onlinePayments(invoiceId: Int64, customerId: Int64) async throws -> [OnlinePaymentRecord] {
        try await all(select(.onlinePayments).column("*").where("customer_id", .equal, customerId).where("invoice_id", .equal, invoiceId)
            .orderBy("created_at", .descending).orderBy("id", .descending), as: OnlinePaymentRecord.self)
    }

    /// The online payments recharging one of the customer's lines, newest first.
    public func onlinePayments(lineId: Int64, customerId: Int64) async throws -> [OnlinePaymentRecord] {
        try await all(select(.onlinePayments).column("*").where("customer_id", .equal, customerId).where("line_id", .equal, lineId)
            .orderBy("created_at", .descending).orderBy("id", .descending), as: OnlinePaymentRecord.self)
    }

    /// The recharge (or failed attempt) recorded for a provider's payment: its reference is the recharge's `external_id`.
    public func recharge(externalId: String, customerId: Int64) async throws -> RechargeRecord? {
        try await first(select(.recharges).column("*").where("external_id", .equal, externalId).where("customer_id", .equal, customerId),
                        as: RechargeRecord.self)
    }

    /// A recorded attempt becomes a completed recharge (a confirmation that arrived after the failure was recorded).
    public func completeRecharge(id: Int64, at instant: Int64) async throws {
        try await update(.recharges).set("status", to: RechargeStatus.completed.rawValue).set("recharged_at", to: instant)
            .where("id", .equal, id).run()
    }

    /// The tenant's online payments, newest first (for ops), optionally only those with `status`.
    public func onlinePayments(status: OnlinePaymentStatus? = nil, limit: Int = 100) async throws -> [OnlinePaymentRecord] {
        var builder = select(.onlinePayments).column("*")
        if let status { builder = builder.where("status", .equal, status.rawValue) }
        return try await all(builder.orderBy("id", .descending).limit(limit), as: OnlinePaymentRecord.self)
    }

    /// The provider accepted the payment: its reference and page. Only a `created` payment changes.
    @discardableResult
    public func markOnlinePaymentPending(id: Int64, pspReference: String, redirectUrl: String) async throws -> Bool {
        try await !update(.onlinePayments).set("status", to: OnlinePaymentStatus.pending.rawValue)
            .set("psp_reference", to: pspReference).set("redirect_url", to: redirectUrl).set("updated_at", to: now)
            .where("id", .equal, id).where("status", .equal, OnlinePaymentStatus.created.rawValue)
            .returning("id").all().isEmpty
    }

    /// Moves a payment to `status` if it is in one of `from` (the guard that makes every notification idempotent:
    /// of two deliveries, only the first sees the old state). Returns whether it moved.
    @discardableResult
    public func settleOnlinePayment(id: Int64, to status: OnlinePaymentStatus, from: Set<OnlinePaymentStatus>,
                                    problem: OnlinePaymentProblem? = nil, detail: String? = nil) async throws -> Bool {
        var builder = update(.onlinePayments).set("status", to: status.rawValue).set("updated_at", to: now)
        builder = builder.set("problem", to: problem.map { SQLBind($0.rawValue) as any SQLExpression } ?? SQLLiteral.null)
        if let detail { builder = builder.set("detail", to: String(detail.prefix(500))) }
        switch status {
        case .paid: builder = builder.set("confirmed_at", to: now)
        case .refunded: builder = builder.set("refunded_at", to: now)
        default: break
        }
        return try await !builder.where("id", .equal, id).where("status", .in, from.map(\.rawValue).sorted())
            .returning("id").all().isEmpty
    }

    /// Notes a problem on a payment whatever its status (an invoice paid twice), keeping the status.
    public func flagOnlinePayment(id: Int64, problem: OnlinePaymentProblem, detail: String) async throws {
        try await update(.onlinePayments).set("problem", to: problem.rawValue).set("detail", to: String(detail.prefix(500)))
            .set("updated_at", to: now).where("id", .equal, id).run()
    }

    /// The notification `notificationId` of `plugin`, if it was already received.
    public func paymentNotification(plugin: String, notificationId: String) async throws -> PaymentNotificationRecord? {
        try await first(select(.paymentNotifications).column("*").where("plugin", .equal, plugin)
            .where("notification_id", .equal, notificationId), as: PaymentNotificationRecord.self)
    }

    /// The notifications received about one payment, oldest first.
    public func paymentNotifications(onlinePaymentId: Int64) async throws -> [PaymentNotificationRecord] {
        try await all(select(.paymentNotifications).column("*").where("online_payment_id", .equal, onlinePaymentId)
            .orderBy("id"), as: PaymentNotificationRecord.self)
    }

    /// Records a notification (once per plugin and notification id: a second insert of the same id fails).
    @discardableResult
    public func insertPaymentNotification(_ notification: PaymentNotificationRecord) async throws -> Int64 {
        try await insert(.paymentNotifications, notification)
    }
}
