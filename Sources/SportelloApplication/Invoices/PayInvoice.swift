import Foundation
import SportelloCore
import SportelloStore

/// A customer's user pays one of the customer's invoices (or pro-formas) by card. There is no payment service
/// provider behind it: the details are checked, the payment is recorded as simulated (`· DEMO` in its reference),
/// and the `invoice.paid` event lets other modules act in the same transaction (a paid pro-forma starts what
/// was ordered). The card number and CVV are never stored: only the brand and the last four digits.
public struct PayInvoice: Sendable {
    /// The features any of which lets a role pay (`invoices.pay`, Tunda's `proforma.pay`).
    public static let features = ["invoices.pay", "proforma.pay"]

    public enum Outcome: Sendable, Equatable {
        case paid(PaymentRecord)
        /// The invoice was already paid: nothing was charged or written.
        case alreadyPaid
    }

    let services: ApplicationServices

    public init(services: ApplicationServices) { self.services = services }

    /// Pays `invoiceId` with `card`. Refusals: `forbidden` (the role may not pay, or staff), `invalid` (card
    /// problems, one per field, in every locale of the tenant), `not_found` (not the customer's, or outside the window).
    public func callAsFunction(tenant: ServedTenant, acting: Acting, invoiceId: Int64, card: CardDetails) async throws -> Outcome {
        guard case .user(_, let userId, let customerId) = acting, Self.features.contains(where: { acting.may($0, in: tenant) }) else {
            throw UseCaseRefusal(code: "forbidden", message: "the role may not pay invoices")
        }
        let definition = tenant.definition
        let problems = card.problems(now: services.now) { tenant.texts.localized($0, in: definition) }
        guard problems.isEmpty else { throw UseCaseRefusal(code: "invalid", message: "the card details are not valid", problems: problems) }
        // No authorisation code: no payment service was asked, so none exists (the payment is marked simulated).
        let reference = "\(card.brand) **** \(card.lastFour) · DEMO"
        // The statement line is booked in the tenant's language, whoever pays.
        let description = tenant.texts.text("invoices.pay.statement_description", locale: definition.locales.default)
        let events = services.events
        let outcome = try await services.database.write(tenant: tenant.id, now: services.now) { transaction in
            let outcome = try await transaction.payInvoice(id: invoiceId, customerId: customerId, windows: tenant.windows, method: "card",
                                                           reference: reference, description: description, actorUserId: userId, simulated: true)
            if case .paid = outcome {
                try await events.publish(.invoicePaid(invoiceId: invoiceId, customerId: customerId), tenant: tenant, in: transaction)
            }
            return outcome
        }
        switch outcome {
        case .paid(let payment):
            services.logger.info("invoice marked paid by the simulated card payment",
                                 metadata: ["tenant": .string(tenant.id), "invoice": .stringConvertible(invoiceId)])
            return .paid(payment)
        case .alreadyPaid: return .alreadyPaid
        case .notFound: throw UseCaseRefusal(code: "not_found", message: "no invoice \(invoiceId) for this customer")
        }
    }
}
