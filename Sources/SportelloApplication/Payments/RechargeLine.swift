import Foundation
import SportelloCore
import SportelloStore

/// A customer's user recharges one of the customer's prepaid lines online with a method bound to the feature
/// (`recharges.online`). Charged on the bill (`bill`), the recharge is recorded at once (channel `bill`: the provider
/// bills it with the next invoice). By card (or any method of the payments plugin) an online payment with purpose
/// `recharge` is recorded and created at the provider, and the customer is sent to its page: the recharge itself is
/// written only when the provider's signed notification says it was paid (`ApplyPaymentNotification`).
///
/// The caller checks the role and the line's scope (own line or all lines); this checks the line is the customer's
/// active SIM, in the transaction that records.
public struct RechargeLine: Sendable {
    /// What was done.
    public enum Outcome: Sendable {
        /// Charged on the bill: the recharge row, already recorded.
        case recharged(RechargeRecord)
        /// The payment at the provider: the customer completes it on `redirectUrl`.
        case paymentStarted(OnlinePaymentRecord)
    }

    /// Recharge channels recorded in `recharges.channel` (the history's "tipologia").
    public static let cardChannel = "card"
    public static let billChannel = "bill"

    let services: ApplicationServices

    public init(services: ApplicationServices) { self.services = services }

    /// Recharges `lineId` by `amountCents` with `method` (nil: the first usable method offered). `returnURL` is the
    /// portal's page of the payment (given its id), `notifyURL` where the provider POSTs its notifications.
    ///
    /// Refusals: `forbidden` (staff), `not_found` (not the customer's line), `not_active` (not an active SIM),
    /// `unavailable` (no method bound, or only the card and the plugin is not connected here), `invalid` (a method not
    /// offered or not usable now, on the `method` field), `provider_unreachable` (the provider did not accept the payment:
    /// recorded as failed, nothing charged).
    public func callAsFunction(tenant: ServedTenant, acting: Acting, feature: String, lineId: Int64, amountCents: Int64,
                               method requested: String?, locale: String,
                               returnURL: @escaping @Sendable (Int64) -> String, notifyURL: String) async throws -> Outcome {
        guard case .user(_, let userId, let customerId) = acting else {
            throw UseCaseRefusal(code: "forbidden", message: "only a customer's user recharges a line")
        }
        let offer = services.payments.rechargeOffer(tenant: tenant, feature: feature)
        guard !offer.methods.isEmpty else {
            throw UseCaseRefusal(code: "unavailable", message: "online recharge is not available: no payment method is bound to '\(feature)'")
        }
        let methodProblem = FieldProblem(field: "method", code: "invalid", message: tenant.texts.localized("payments.error.method", in: tenant.definition))
        let method: PaymentMethod
        if let requested, !requested.isEmpty {
            guard let chosen = PaymentMethod(rawValue: requested), offer.methods.contains(chosen) else {
                throw UseCaseRefusal(code: "invalid", message: "method '\(requested)' is not offered", problems: [methodProblem])
            }
            guard offer.isUsable(chosen) else {
                throw UseCaseRefusal(code: "unavailable", message: "online payment is not available: "
                                     + (offer.plugin.map { services.payments.unavailable[$0] ?? "plugin '\($0)' is not connected" } ?? "no plugin"))
            }
            method = chosen
        } else {
            guard let first = offer.methods.first(where: offer.isUsable) else {
                throw UseCaseRefusal(code: "unavailable", message: "online payment is not available: "
                                     + (offer.plugin.map { services.payments.unavailable[$0] ?? "plugin '\($0)' is not connected" } ?? "no plugin"))
            }
            method = first
        }
        let now = services.now
        if !method.needsProvider {
            return .recharged(try await chargeOnBill(tenant: tenant, userId: userId, customerId: customerId, lineId: lineId, amountCents: amountCents, now: now))
        }
        guard let gateway = offer.gateway, let plugin = offer.plugin else {
            throw UseCaseRefusal(code: "unavailable", message: "online payment is not available")
        }
        let currency = gateway.currencies.first ?? "EUR"
        enum Step { case reuse(OnlinePaymentRecord), created(OnlinePaymentRecord, identifier: String) }
        let step: Step = try await services.database.write(tenant: tenant.id, now: now) { transaction in
            let line = try await activeSIM(lineId, customerId: customerId, in: transaction)
            // A double click, or "back" then "recharge" again, leads to the same provider page.
            let open = try await transaction.onlinePayments(lineId: lineId, customerId: customerId).first {
                $0.status == .pending && $0.redirectUrl != nil && $0.plugin == plugin && $0.method == method.rawValue && $0.purpose == "recharge"
                    && $0.amountCents == amountCents && $0.userId == userId && now - $0.createdAt < StartOnlinePayment.reuseSeconds
            }
            if let open { return .reuse(open) }
            var payment = OnlinePaymentRecord(customerId: customerId, userId: userId, invoiceId: nil, purpose: "recharge", feature: feature,
                                              plugin: plugin, method: method.rawValue, amountCents: amountCents, currency: currency,
                                              sandbox: gateway.isSandbox, locale: locale, createdAt: now,
                                              attemptKey: Secrets.token(using: services.random).plain, lineId: lineId)
            payment.id = try await transaction.insertOnlinePayment(payment)
            try await transaction.audit("payment.created", actorUserId: userId, targetKind: "line", targetId: String(lineId),
                                        detail: "online_payment=\(payment.id ?? 0) purpose=recharge plugin=\(plugin) method=\(method.rawValue) amount_cents=\(amountCents) \(currency)\(gateway.isSandbox ? " sandbox=true" : "")")
            return .created(payment, identifier: line.identifier)
        }
        let payment: OnlinePaymentRecord
        let identifier: String
        switch step {
        case .reuse(let open): return .paymentStarted(open)
        case .created(let created, let number): payment = created; identifier = number
        }
        let id = payment.id ?? 0
        let request = PaymentCreationRequest(
            reference: String(id), amountCents: amountCents, currency: currency, method: method.rawValue,
            description: tenant.texts.text("payments.description.recharge", locale: locale, ["number": identifier]),
            locale: locale, returnUrl: returnURL(id), notifyUrl: notifyURL, merchant: .init(id: tenant.id, name: tenant.definition.name))
        return .paymentStarted(try await StartOnlinePayment.askProvider(payment, request: request, gateway: gateway, tenant: tenant, userId: userId,
                                                                        target: (kind: "line", id: lineId), services: services))
    }

    /// The recharge charged on the next bill, recorded now (not simulated: the provider bills it).
    private func chargeOnBill(tenant: ServedTenant, userId: Int64?, customerId: Int64, lineId: Int64, amountCents: Int64, now: Int64) async throws -> RechargeRecord {
        try await services.database.write(tenant: tenant.id, now: now) { transaction in
            _ = try await activeSIM(lineId, customerId: customerId, in: transaction)
            var recharge = RechargeRecord(customerId: customerId, lineId: lineId, rechargedAt: now, amountCents: amountCents,
                                          channel: Self.billChannel, status: .completed, simulated: false)
            recharge.id = try await transaction.insertRecharge(recharge)
            try await transaction.audit("line.recharged", actorUserId: userId, targetKind: "line", targetId: String(lineId),
                                        detail: "recharge \(recharge.id ?? 0), amount_cents=\(amountCents), charged on the next bill")
            return recharge
        }
    }

    private func activeSIM(_ lineId: Int64, customerId: Int64, in transaction: TenantTransaction) async throws -> LineRecord {
        guard let line = try await transaction.line(id: lineId, customerId: customerId) else {
            throw UseCaseRefusal(code: "not_found", message: "no line \(lineId) for this customer")
        }
        guard line.kind == "sim", line.status == .active else {
            throw UseCaseRefusal(code: "not_active", message: "line \(lineId) is not an active SIM")
        }
        return line
    }
}
