import Foundation
import SportelloCore
import SportelloStore

/// A payments plugin's notification, as it arrives (`POST /payments/notify/<plugin>`, signed).
public struct PaymentNotification: Decodable, Sendable, Equatable {
    /// The notification's own id: a second delivery of the same id changes nothing.
    public var id: String
    /// `payment.succeeded`, `payment.failed`, `payment.cancelled` or `payment.refunded`.
    public var type: String
    public var payment: Payment

    public struct Payment: Decodable, Sendable, Equatable {
        /// The provider's id of the payment.
        public var id: String
        /// The portal's id, as sent when the payment was created.
        public var reference: String
        public var amountCents: Int64
        public var currency: String
        public var method: String?
        /// Why it failed, in the provider's words (`declined`), for staff.
        public var reason: String?

        enum CodingKeys: String, CodingKey {
            case id, reference, currency, method, reason
            case amountCents = "amount_cents"
        }
    }
}

/// Settles an online payment from its provider's signed notification, in one transaction: the notification is verified
/// (signature and replay window) and recorded once; a confirmed payment with the expected amount and currency marks the
/// invoice paid (with the `invoice.paid` event the other modules act on, a pro-forma starting its service) and queues
/// the confirmation e-mail, or (purpose `recharge`) records the line's recharge with the provider's reference; a
/// different amount or currency is recorded as a mismatch and pays nothing; failures, cancellations and refunds are
/// recorded (a recharge's failed or cancelled payment as a failed attempt in the line's recharge history). Repeated or
/// late notifications change nothing.
public struct ApplyPaymentNotification: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// Recorded now, with what it did.
        case recorded(PaymentNotificationOutcome, paymentId: Int64)
        /// The same notification id was already recorded: nothing changed.
        case duplicate
    }

    let services: ApplicationServices

    public init(services: ApplicationServices) { self.services = services }

    /// Refusals: `not_found` (the tenant does not use `plugin`, or it is not connected here; or no payment of the tenant
    /// has that reference), `unauthorized` (signature missing, wrong or outside the replay window), `invalid` (a body
    /// that is not a notification).
    public func callAsFunction(tenant: ServedTenant, plugin: String, timestamp: String?, signature: String?, body: [UInt8]) async throws -> Outcome {
        guard tenant.definition.plugins?[plugin] != nil, let gateway = services.payments[plugin] else {
            throw UseCaseRefusal(code: "not_found", message: "tenant \(tenant.id) has no connected payments plugin '\(plugin)'")
        }
        let now = services.now
        if let refusal = gateway.signature.verify(timestamp: timestamp, signature: signature, body: body, now: now, window: gateway.replayWindowSeconds) {
            services.logger.warning("payment notification refused", metadata: ["tenant": .string(tenant.id), "plugin": .string(plugin), "reason": .string(refusal.rawValue)])
            throw UseCaseRefusal(code: "unauthorized", message: "signature \(refusal.rawValue)")
        }
        guard let notification = try? JSONDecoder().decode(PaymentNotification.self, from: Data(body)), !notification.id.isEmpty,
              notification.id.count <= 200, let reference = Int64(notification.payment.reference) else {
            throw UseCaseRefusal(code: "invalid", message: "the body is not a payment notification")
        }
        let events = services.events
        let outcome: Outcome? = try await services.database.write(tenant: tenant.id, now: now) { transaction in
            if try await transaction.paymentNotification(plugin: plugin, notificationId: notification.id) != nil { return .duplicate }
            guard let payment = try await transaction.onlinePayment(id: reference), payment.plugin == plugin,
                  payment.pspReference == nil || payment.pspReference == notification.payment.id else { return nil }
            let (result, detail) = try await apply(notification, to: payment, tenant: tenant, events: events, in: transaction)
            try await transaction.insertPaymentNotification(PaymentNotificationRecord(
                plugin: plugin, notificationId: notification.id, onlinePaymentId: payment.id, type: notification.type, outcome: result,
                detail: detail, receivedAt: now))
            return .recorded(result, paymentId: reference)
        }
        guard let outcome else {
            services.logger.warning("payment notification for an unknown payment", metadata: [
                "tenant": .string(tenant.id), "plugin": .string(plugin), "reference": .string(notification.payment.reference)])
            throw UseCaseRefusal(code: "not_found", message: "no payment \(notification.payment.reference) of plugin \(plugin)")
        }
        if case .recorded(.applied, _) = outcome, notification.type == "payment.succeeded" { services.mailQueued() }
        return outcome
    }

    private func apply(_ notification: PaymentNotification, to payment: OnlinePaymentRecord, tenant: ServedTenant, events: DomainEvents,
                       in transaction: TenantTransaction) async throws -> (PaymentNotificationOutcome, String?) {
        let id = payment.id ?? 0
        let notified = notification.payment
        let reason = notified.reason.map { String($0.prefix(200)) }
        let target = payment.purpose == "recharge" ? (kind: "line", id: payment.lineId.map(String.init))
                                                   : (kind: "invoice", id: payment.invoiceId.map(String.init))
        switch notification.type {
        case "payment.succeeded":
            guard notified.amountCents == payment.amountCents, notified.currency.uppercased() == payment.currency.uppercased() else {
                let detail = "confirmed \(notified.amountCents) \(notified.currency), expected \(payment.amountCents) \(payment.currency)"
                let moved = try await transaction.settleOnlinePayment(id: id, to: .failed, from: [.created, .pending, .failed, .cancelled],
                                                                      problem: .amountMismatch, detail: detail)
                if moved {
                    try await transaction.audit("payment.amount_mismatch", targetKind: target.kind, targetId: target.id,
                                                detail: "online_payment=\(id) \(detail)")
                    try await recordRechargeAttempt(payment, notification: notification, in: transaction)
                }
                return (moved ? .mismatch : .unchanged, detail)
            }
            // Money moved whatever the portal thought before (a late confirmation after a cancel): it is recorded.
            guard try await transaction.settleOnlinePayment(id: id, to: .paid, from: [.created, .pending, .failed, .cancelled], detail: reason) else {
                return (.unchanged, nil)
            }
            if payment.purpose == "recharge" {
                try await creditRecharge(payment, notification: notification, in: transaction)
            } else {
                try await markInvoicePaid(payment, notification: notification, tenant: tenant, events: events, in: transaction)
            }
            return (.applied, nil)
        case "payment.failed", "payment.cancelled":
            let status: OnlinePaymentStatus = notification.type == "payment.failed" ? .failed : .cancelled
            let moved = try await transaction.settleOnlinePayment(id: id, to: status, from: [.created, .pending], detail: reason)
            if moved {
                try await transaction.audit("payment.\(status.rawValue)", actorUserId: payment.userId, targetKind: target.kind,
                                            targetId: target.id, detail: "online_payment=\(id)\(reason.map { " reason=\($0)" } ?? "")")
                try await recordRechargeAttempt(payment, notification: notification, in: transaction)
            }
            return (moved ? .applied : .unchanged, reason)
        case "payment.refunded":
            let moved = try await transaction.settleOnlinePayment(id: id, to: .refunded, from: [.paid], detail: reason)
            if moved {
                // The provider's billing system owns the account: the refund is recorded here, the invoice is re-opened there.
                try await transaction.audit("payment.refunded", targetKind: target.kind, targetId: target.id,
                                            detail: "online_payment=\(id) amount_cents=\(notified.amountCents) \(notified.currency)")
            }
            return (moved ? .applied : .unchanged, reason)
        default:
            return (.unchanged, "unknown type \(notification.type.prefix(60))")
        }
    }

    /// The line's recharge paid by a confirmed payment, in the notification's transaction: a completed recharge whose
    /// transaction id is the provider's reference (an attempt recorded as failed before a late confirmation becomes it).
    /// Marked simulated when it went through a sandbox plugin (nothing was charged), as an invoice paid there is.
    private func creditRecharge(_ payment: OnlinePaymentRecord, notification: PaymentNotification, in transaction: TenantTransaction) async throws {
        guard let lineId = payment.lineId else { return }
        let id = payment.id ?? 0
        let reference = notification.payment.id
        if let attempt = try await transaction.recharge(externalId: reference, customerId: payment.customerId), let rechargeId = attempt.id {
            guard attempt.status != .completed else { return }
            try await transaction.completeRecharge(id: rechargeId, at: transaction.now)
        } else {
            guard try await transaction.line(id: lineId, customerId: payment.customerId) != nil else {
                try await transaction.flagOnlinePayment(id: id, problem: .invoiceAlreadyPaid, detail: "the line no longer exists: refund this payment")
                return
            }
            try await transaction.insertRecharge(RechargeRecord(externalId: reference, customerId: payment.customerId, lineId: lineId,
                                                                rechargedAt: transaction.now, amountCents: payment.amountCents,
                                                                channel: RechargeLine.cardChannel, status: .completed, simulated: payment.sandbox))
        }
        try await transaction.audit("line.recharged", actorUserId: payment.userId, targetKind: "line", targetId: String(lineId),
                                    detail: "online_payment=\(id) amount_cents=\(payment.amountCents) \(payment.currency) method=\(payment.method) reference=\(reference)\(payment.sandbox ? " sandbox=true" : "")")
    }

    /// A recharge's payment that failed, was cancelled or did not match: listed among the line's recharge attempts
    /// ("Tentativi di ricarica": date, amount, transaction id, status, outcome), never added to the credit.
    private func recordRechargeAttempt(_ payment: OnlinePaymentRecord, notification: PaymentNotification, in transaction: TenantTransaction) async throws {
        guard payment.purpose == "recharge", let lineId = payment.lineId,
              try await transaction.recharge(externalId: notification.payment.id, customerId: payment.customerId) == nil,
              try await transaction.line(id: lineId, customerId: payment.customerId) != nil else { return }
        try await transaction.insertRecharge(RechargeRecord(externalId: notification.payment.id, customerId: payment.customerId, lineId: lineId,
                                                            rechargedAt: transaction.now, amountCents: payment.amountCents,
                                                            channel: RechargeLine.cardChannel, status: .failed, simulated: payment.sandbox))
    }

    /// The invoice paid by a confirmed payment, in the notification's transaction: payment row, statement credit,
    /// `invoice.paid` (the hosting module starts a paid pro-forma's order), and the confirmation e-mail.
    private func markInvoicePaid(_ payment: OnlinePaymentRecord, notification: PaymentNotification, tenant: ServedTenant,
                                 events: DomainEvents, in transaction: TenantTransaction) async throws {
        guard let invoiceId = payment.invoiceId else { return }
        let id = payment.id ?? 0
        let definition = tenant.definition
        let texts = tenant.texts
        let bookLocale = definition.locales.default
        let methodLabel = texts.text("invoices.method.\(payment.method)", locale: bookLocale)
        let sandboxNote = payment.sandbox ? " · SANDBOX" : ""
        let reference = "\(methodLabel) · \(notification.payment.id)\(sandboxNote)"
        let description = texts.text(payment.sandbox ? "payments.statement.sandbox" : "payments.statement.paid", locale: bookLocale,
                                     ["method": methodLabel, "reference": notification.payment.id])
        let outcome = try await transaction.payInvoice(id: invoiceId, customerId: payment.customerId, windows: .unlimited, method: payment.method,
                                                       reference: reference, description: description, actorUserId: payment.userId,
                                                       simulated: payment.sandbox)
        switch outcome {
        case .paid:
            try await events.publish(.invoicePaid(invoiceId: invoiceId, customerId: payment.customerId), tenant: tenant, in: transaction)
            try await queueConfirmation(payment, invoiceId: invoiceId, pspReference: notification.payment.id, tenant: tenant, in: transaction)
        case .alreadyPaid:
            // Paid another way meanwhile: charged twice. The payment stays paid (money moved) and is flagged for a refund.
            try await transaction.flagOnlinePayment(id: id, problem: .invoiceAlreadyPaid, detail: "the invoice was already paid: refund this payment")
            try await transaction.audit("payment.duplicate", targetKind: "invoice", targetId: String(invoiceId),
                                        detail: "online_payment=\(id) amount_cents=\(payment.amountCents)")
        case .notFound:
            try await transaction.flagOnlinePayment(id: id, problem: .invoiceAlreadyPaid, detail: "the invoice no longer exists: refund this payment")
        }
    }

    private func queueConfirmation(_ payment: OnlinePaymentRecord, invoiceId: Int64, pspReference: String, tenant: ServedTenant,
                                   in transaction: TenantTransaction) async throws {
        guard let userId = payment.userId, let user = try await transaction.user(id: userId, customerId: payment.customerId),
              let email = user.email, !email.isEmpty,
              let invoice = try await transaction.invoice(id: invoiceId, customerId: payment.customerId, windows: .unlimited) else { return }
        let locale = tenant.definition.locales.available.contains(payment.locale) ? payment.locale : tenant.definition.locales.default
        var values = [
            "number": invoice.number, "amount": Formatting.money(payment.amountCents, locale: locale),
            "method": tenant.texts.text("invoices.method.\(payment.method)", locale: locale), "reference": pspReference,
            "purpose": tenant.texts.text("payments.purpose.\(payment.purpose)", locale: locale),
            "sandbox": payment.sandbox ? "true" : "",
        ]
        if let path = services.paths.invoice { values["invoice_path"] = path(invoiceId) }
        try await services.queueMail("payment_confirmed", to: email, values: values, locale: locale, tenant: tenant.definition, in: transaction)
    }
}
