import Foundation
import SQLKit
import SportelloCore

extension EventDraft {
    /// `invoice.overdue`: an unpaid invoice passed its due day (found by the daily check in `serve`).
    public static func invoiceOverdue(_ invoice: InvoiceRecord, id: Int64, today: CalendarDay) -> EventDraft {
        let days = CalendarDay(invoice.dueOn).map { due in Int64((today.startInstant - due.startInstant) / 86_400) }
        return EventDraft(EventType("invoice.overdue"), customerId: invoice.customerId, subject: "invoice", id: id, facts: [
            "invoice_id": .integer(id), "number": .string(invoice.number), "due_on": .string(invoice.dueOn),
            "total_cents": .integer(invoice.totalCents), "holder_user_id": .optional(invoice.holderUserId), "days_overdue": .optional(days),
        ])
    }
}

extension EventDraft {
    /// `payment_method.invalid`: the provider's system says the customer's payment method no longer works (an import
    /// that sets `payment_method_problem`).
    public static func paymentMethodInvalid(customerId: Int64, method: String, reason: String) -> EventDraft {
        EventDraft(EventType("payment_method.invalid"), customerId: customerId, subject: "customer", id: customerId, facts: [
            "method": .string(method), "reason": .string(reason),
        ])
    }
}

extension TenantTransaction {
    /// Marks `overdue` the unpaid invoices whose due day is before `today` (at most `limit`, oldest due first) and records
    /// `invoice.overdue` for each, in this transaction; returns their ids. An invoice is marked once: it is no longer
    /// `unpaid` afterwards (an import that sets it `unpaid` again makes it eligible again).
    @discardableResult
    public func markOverdueInvoices(today: CalendarDay, limit: Int = 500) async throws -> [Int64] {
        let due = try await all(select(.invoices).column("*").where("status", .equal, InvoiceStatus.unpaid.rawValue)
            .where("due_on", .lessThan, today.description).orderBy("due_on").orderBy("id").limit(limit), as: InvoiceRecord.self)
        var marked: [Int64] = []
        for invoice in due {
            guard let id = invoice.id else { continue }
            let rows = try await update(.invoices).set("status", to: InvoiceStatus.overdue.rawValue).where("id", .equal, id)
                .where("status", .equal, InvoiceStatus.unpaid.rawValue).returning("id").all()
            guard !rows.isEmpty else { continue }
            try await recordEvent(.invoiceOverdue(invoice, id: id, today: today))
            marked.append(id)
        }
        return marked
    }
}
