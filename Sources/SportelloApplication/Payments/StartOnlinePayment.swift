import Foundation
import SportelloCore
import SportelloStore

/// A customer's user starts paying one of the customer's invoices (or pro-formas) through the payments plugin bound to
/// the feature their role pays with: the payment is recorded (`created`), the provider is asked to create it (signed
/// request), and the customer is sent to the provider's page. Nothing is marked paid here: only the provider's signed
/// notification does that (`ApplyPaymentNotification`).
public struct StartOnlinePayment: Sendable {
    /// An open payment of the same invoice, method and amount started this recently is handed back instead of a new one
    /// (a double click, or "back" then "pay" again, leads to the same provider page).
    public static let reuseSeconds: Int64 = 30 * 60

    let services: ApplicationServices

    public init(services: ApplicationServices) { self.services = services }

    /// Starts paying `invoiceId` with `method` (nil: the first method offered). `returnURL` is the portal's page of the
    /// payment (given its id), `notifyURL` where the provider POSTs its notifications.
    ///
    /// Refusals: `forbidden` (the role pays nothing; staff), `not_found` (not the customer's, or outside the window),
    /// `already_paid`, `unavailable` (no plugin bound, or not configured here), `invalid` (a method the tenant does not
    /// offer, on the `method` field), `provider_unreachable` (the provider did not accept it: recorded as failed, nothing charged).
    public func callAsFunction(tenant: ServedTenant, acting: Acting, invoiceId: Int64, method requested: String?, locale: String,
                               returnURL: @escaping @Sendable (Int64) -> String, notifyURL: String) async throws -> OnlinePaymentRecord {
        guard case .user(_, let userId, let customerId) = acting, let offer = services.payments.offer(tenant: tenant, acting: acting) else {
            throw UseCaseRefusal(code: "forbidden", message: "the role may not pay invoices")
        }
        guard let gateway = offer.gateway, let plugin = offer.plugin, offer.isAvailable else {
            throw UseCaseRefusal(code: "unavailable", message: "online payment is not available: "
                                 + (offer.plugin.map { services.payments.unavailable[$0] ?? "plugin '\($0)' is not connected" } ?? "no payments plugin is bound to '\(offer.feature)'"))
        }
        let method: PaymentMethod
        if let requested, !requested.isEmpty {
            guard let chosen = PaymentMethod(rawValue: requested), offer.methods.contains(chosen) else {
                throw UseCaseRefusal(code: "invalid", message: "method '\(requested)' is not offered", problems: [
                    FieldProblem(field: "method", code: "invalid", message: tenant.texts.localized("payments.error.method", in: tenant.definition))])
            }
            method = chosen
        } else {
            method = offer.methods[0]
        }
        let currency = gateway.currencies.first ?? "EUR"
        let windows = tenant.windows
        let now = services.now
        // The invoice and what is still due, and an open payment to hand back, read in the transaction that records the new one.
        enum Step { case reuse(OnlinePaymentRecord), created(OnlinePaymentRecord), alreadyPaid, notFound }
        let step: Step = try await services.database.write(tenant: tenant.id, now: now) { transaction in
            guard let invoice = try await transaction.invoice(id: invoiceId, customerId: customerId, windows: windows) else { return .notFound }
            guard invoice.status != .paid else { return .alreadyPaid }
            let paid = try await transaction.payments(invoiceId: invoiceId, customerId: customerId).reduce(Int64(0)) { $0 + $1.amountCents }
            let due = invoice.totalCents - paid
            guard due > 0 else { return .alreadyPaid }
            let open = try await transaction.onlinePayments(invoiceId: invoiceId, customerId: customerId).first {
                $0.status == .pending && $0.redirectUrl != nil && $0.plugin == plugin && $0.method == method.rawValue
                    && $0.amountCents == due && $0.userId == userId && now - $0.createdAt < Self.reuseSeconds
            }
            if let open { return .reuse(open) }
            var payment = OnlinePaymentRecord(customerId: customerId, userId: userId, invoiceId: invoiceId, purpose: offer.purpose,
                                              feature: offer.feature, plugin: plugin, method: method.rawValue, amountCents: due,
                                              currency: currency, sandbox: gateway.isSandbox, locale: locale, createdAt: now,
                                              attemptKey: Secrets.token(using: services.random).plain)
            payment.id = try await transaction.insertOnlinePayment(payment)
            try await transaction.audit("payment.created", actorUserId: userId, targetKind: "invoice", targetId: String(invoiceId),
                                        detail: "online_payment=\(payment.id ?? 0) plugin=\(plugin) method=\(method.rawValue) amount_cents=\(due) \(currency)\(gateway.isSandbox ? " sandbox=true" : "")")
            return .created(payment)
        }
        let payment: OnlinePaymentRecord
        switch step {
        case .notFound: throw UseCaseRefusal(code: "not_found", message: "no invoice \(invoiceId) for this customer")
        case .alreadyPaid: throw UseCaseRefusal(code: "already_paid", message: "invoice \(invoiceId) is already paid")
        case .reuse(let open): return open
        case .created(let created): payment = created
        }
        let id = payment.id ?? 0
        let invoiceNumber = try await services.database.read(tenant: tenant.id, now: now) {
            try await $0.invoice(id: invoiceId, customerId: customerId, windows: .unlimited)?.number
        } ?? String(invoiceId)
        let request = PaymentCreationRequest(
            reference: String(id), amountCents: payment.amountCents, currency: currency, method: method.rawValue,
            description: tenant.texts.text("payments.description.\(offer.purpose)", locale: locale, ["number": invoiceNumber]),
            locale: locale, returnUrl: returnURL(id), notifyUrl: notifyURL,
            merchant: .init(id: tenant.id, name: tenant.definition.name))
        return try await Self.askProvider(payment, request: request, gateway: gateway, tenant: tenant, userId: userId,
                                          target: (kind: "invoice", id: invoiceId), services: services)
    }

    /// Asks the provider to create `payment` (recorded `created`) as `request` says: the payment becomes `pending` with
    /// the provider's page, or `failed` (`provider_unreachable`, audited on `target`) when the provider does not accept
    /// it — then nothing was charged. Shared by invoices and recharges.
    static func askProvider(_ payment: OnlinePaymentRecord, request: PaymentCreationRequest, gateway: PaymentGateway, tenant: ServedTenant,
                            userId: Int64?, target: (kind: String, id: Int64), services: ApplicationServices) async throws -> OnlinePaymentRecord {
        var payment = payment
        let id = payment.id ?? 0, plugin = payment.plugin
        do {
            let created = try await gateway.create(request, idempotencyKey: payment.attemptKey)
            try await services.database.write(tenant: tenant.id, now: services.now) { transaction in
                try await transaction.markOnlinePaymentPending(id: id, pspReference: created.id, redirectUrl: created.redirectUrl)
            }
            payment.status = .pending
            payment.pspReference = created.id
            payment.redirectUrl = created.redirectUrl
            return payment
        } catch let error as PluginCallError {
            // Nothing was charged: the provider has no payment to take money for. Staff see why in the record.
            try await services.database.write(tenant: tenant.id, now: services.now) { transaction in
                try await transaction.settleOnlinePayment(id: id, to: .failed, from: [.created], problem: .providerUnreachable, detail: error.description)
                try await transaction.audit("payment.provider_unreachable", actorUserId: userId, targetKind: target.kind, targetId: String(target.id),
                                            detail: "online_payment=\(id) plugin=\(plugin) \(error.code.rawValue)")
            }
            services.logger.warning("payments plugin did not create the payment", metadata: [
                "tenant": .string(tenant.id), "plugin": .string(plugin), "online_payment": .stringConvertible(id),
                "purpose": .string(payment.purpose), "error": .string(error.description)])
            throw UseCaseRefusal(code: "provider_unreachable", message: "the payment service did not answer: nothing was charged")
        }
    }
}
