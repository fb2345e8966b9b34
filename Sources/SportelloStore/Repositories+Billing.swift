import Foundation
import SQLKit
import SportelloCore

/// An invoice document without its bytes (for lists and detail pages).
public struct DocumentSummary: Codable, Sendable, Equatable {
    public var id: Int64
    public var fileName: String
    public var contentType: String
    public var createdAt: Int64
}

/// Usage of one kind in a period: how many events, how long, how much data, what they cost.
public struct UsageTotal: Sendable, Equatable {
    public var kind: String
    public var count: Int
    public var durationSeconds: Int64
    public var volumeBytes: Int64
    public var costCents: Int64
}

/// What paying an invoice online did.
public enum InvoicePaymentOutcome: Sendable, Equatable {
    /// The payment was recorded, the invoice marked paid and its statement items closed.
    case paid(PaymentRecord)
    /// The invoice was already paid: nothing was charged or written.
    case alreadyPaid
    /// No such invoice for this customer inside the window.
    case notFound
}

// MARK: - Billing lookups for the portal pages, fenced by tenant and by customer

extension TenantTransaction {
    /// `SUM(column)` as a 64-bit integer on both engines (PostgreSQL sums bigints as numeric), 0 when no rows.
    static func sum(_ column: String) -> any SQLExpression {
        SQLRaw("CAST(COALESCE(SUM(\(column)), 0) AS BIGINT)")
    }

    /// A document of one of the customer's invoices; nil unless the document belongs to that invoice.
    /// The caller checks first that the invoice is the customer's and inside the window.
    public func invoiceDocument(id: Int64, invoiceId: Int64) async throws -> DocumentRecord? {
        try await first(select(.documents).column("*").where("id", .equal, id)
            .where("owner_kind", .equal, "invoice").where("owner_id", .equal, invoiceId), as: DocumentRecord.self)
    }

    /// The documents of an invoice without their content.
    public func invoiceDocumentSummaries(invoiceId: Int64) async throws -> [DocumentSummary] {
        try await all(select(.documents).column("id").column("file_name").column("content_type").column("created_at")
            .where("owner_kind", .equal, "invoice").where("owner_id", .equal, invoiceId).orderBy("id"), as: DocumentSummary.self)
    }

    /// The payments recorded against one of the customer's invoices, newest first.
    public func payments(invoiceId: Int64, customerId: Int64) async throws -> [PaymentRecord] {
        try await all(select(.payments).column("*").where("customer_id", .equal, customerId)
            .where("invoice_id", .equal, invoiceId).orderBy("paid_on", .descending).orderBy("id", .descending), as: PaymentRecord.self)
    }

    /// One of the customer's contracts.
    public func contract(id: Int64, customerId: Int64) async throws -> ContractRecord? {
        try await first(select(.contracts).column("*").where("id", .equal, id).where("customer_id", .equal, customerId),
                        as: ContractRecord.self)
    }

    /// The sum of the customer's statement entries booked before `day` (the balance brought forward
    /// when the statement starts at the window's first day).
    public func statementBalance(customerId: Int64, bookedBefore day: CalendarDay) async throws -> Int64 {
        let row = try await select(.statementEntries)
            .column(Self.sum("amount_cents"), as: "total")
            .where("customer_id", .equal, customerId).where("booked_on", .lessThan, day.description).first()
        return try row?.decode(column: "total", as: Int64.self) ?? 0
    }

    /// Of `ids`, the customer's company invoices the window still shows (what a statement row may link to).
    public func visibleInvoiceIds(_ ids: [Int64], customerId: Int64, windows: VisibilityWindows) async throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        var builder = select(.invoices).column("id").where("customer_id", .equal, customerId).where("id", .in, ids)
            .where("holder_user_id", .is, SQLLiteral.null)
        if let from = windows.earliestDay(for: .invoices, now: now) {
            builder = builder.where("issued_on", .greaterThanOrEqual, from.description)
        }
        return Set(try await builder.all().map { try $0.decode(column: "id", as: Int64.self) })
    }

    /// Recharges of several lines (all of them the customer's) inside the tenant's window, newest first.
    public func recharges(lineIds: [Int64], customerId: Int64, windows: VisibilityWindows, limit: Int = 500) async throws -> [RechargeRecord] {
        guard !lineIds.isEmpty else { return [] }
        var builder = select(.recharges).column("*").where("customer_id", .equal, customerId).where("line_id", .in, lineIds)
        if let from = windows.earliestDay(for: .recharges, now: now) {
            builder = builder.where("recharged_at", .greaterThanOrEqual, from.startInstant)
        }
        return try await all(builder.orderBy("recharged_at", .descending).orderBy("id", .descending).limit(limit), as: RechargeRecord.self)
    }

    /// Totals per kind of a line's usage in `period` (which must lie inside the window).
    public func usageTotals(lineId: Int64, period: TimeRange?, kinds: [String] = [], windows: VisibilityWindows) async throws -> [UsageTotal] {
        let range = try windows.resolve(.usage, requested: period, now: now)
        var builder = select(.usageRecords).column("kind")
            .column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .column(Self.sum("duration_seconds"), as: "duration")
            .column(Self.sum("volume_bytes"), as: "volume")
            .column(Self.sum("cost_cents"), as: "cost")
            .where("line_id", .equal, lineId)
            .where("started_at", .greaterThanOrEqual, range.from).where("started_at", .lessThan, range.to)
        if !kinds.isEmpty { builder = builder.where("kind", .in, kinds) }
        let rows = try await builder.groupBy("kind").orderBy("kind").all()
        return try rows.map { row in
            UsageTotal(kind: try row.decode(column: "kind", as: String.self), count: try row.decode(column: "n", as: Int.self),
                       durationSeconds: try row.decode(column: "duration", as: Int64.self),
                       volumeBytes: try row.decode(column: "volume", as: Int64.self),
                       costCents: try row.decode(column: "cost", as: Int64.self))
        }
    }

    /// Pays one of the customer's invoices online, all in this transaction: marks it paid (only if it
    /// was not already — a second attempt, even a concurrent one, changes nothing), records the payment
    /// of what was still due, closes the invoice's open statement items, books the credit and writes
    /// the audit record. `reference` must not carry the card number (the last four digits at most).
    /// `simulated` marks the invoice, the payment and the credit as written by a demo integration (no money moved).
    public func payInvoice(id: Int64, customerId: Int64, windows: VisibilityWindows, method: String, reference: String,
                           description: String, actorUserId: Int64?, simulated: Bool = false) async throws -> InvoicePaymentOutcome {
        guard let invoice = try await invoice(id: id, customerId: customerId, windows: windows) else { return .notFound }
        guard invoice.status != .paid else { return .alreadyPaid }
        let today = CalendarDay(instant: now).description
        // The conditional update is the idempotency guard: of two attempts only one sees a row that is not paid yet
        // (PostgreSQL re-checks the predicate after waiting for the other's row lock; SQLite has one writer).
        var claim = update(.invoices).set("status", to: InvoiceStatus.paid.rawValue).set("paid_on", to: today)
        if simulated { claim = claim.set("simulated", to: SQLLiteral.boolean(true)) }
        let claimed = try await claim
            .where("id", .equal, id).where("customer_id", .equal, customerId).where("status", .notEqual, InvoiceStatus.paid.rawValue)
            .returning("id").all()
        guard !claimed.isEmpty else { return .alreadyPaid }
        let earlier = try await payments(invoiceId: id, customerId: customerId).reduce(Int64(0)) { $0 + $1.amountCents }
        let amount = max(invoice.totalCents - earlier, 0)
        var payment = PaymentRecord(customerId: customerId, invoiceId: id, paidOn: today, amountCents: amount, method: method,
                                    reference: reference, simulated: simulated ? true : nil)
        payment.id = try await insertPayment(payment)
        try await update(.statementEntries).set("is_open", to: SQLLiteral.boolean(false))
            .where("customer_id", .equal, customerId).where("invoice_id", .equal, id)
            .where("is_open", .equal, SQLLiteral.boolean(true)).run()
        if amount > 0 {
            try await insertStatementEntry(StatementEntryRecord(customerId: customerId, invoiceId: id, bookedOn: today,
                                                                description: description, amountCents: -amount, isOpen: false,
                                                                simulated: simulated ? true : nil))
        }
        try await audit("invoice.paid_online", actorUserId: actorUserId, targetKind: "invoice", targetId: String(id),
                        detail: "amount_cents=\(amount) method=\(method)\(simulated ? " simulated=true" : "")")
        try await recordEvent(.invoicePaid(invoice, paidOn: today, amountCents: amount, method: method, paymentId: payment.id,
                                           simulated: simulated, source: "portal", actorUserId: actorUserId))
        return .paid(payment)
    }
}
