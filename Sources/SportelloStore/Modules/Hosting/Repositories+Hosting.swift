import Foundation
import SQLKit
import SportelloCore

// MARK: - Help and knowledge-base articles

extension TenantTransaction {
    public func insertArticles(_ articles: [ArticleRecord]) async throws {
        try await insertMany(.articles, articles)
    }

    /// The articles of a collection in one locale, in reading order.
    public func articles(collection: String, locale: String) async throws -> [ArticleRecord] {
        try await all(select(.articles).column("*").where("collection", .equal, collection).where("locale", .equal, locale)
            .orderBy("position").orderBy("id"), as: ArticleRecord.self)
    }

    public func article(collection: String, locale: String, slug: String) async throws -> ArticleRecord? {
        try await first(select(.articles).column("*").where("collection", .equal, collection).where("locale", .equal, locale)
            .where("slug", .equal, slug), as: ArticleRecord.self)
    }
}

// MARK: - Orders and their pro-formas

/// What provisioning an order needs from the catalogue: the product (nil for domains) and when it starts.
public struct OrderActivation: Sendable {
    public var order: OrderRecord
    public var product: CatalogItemRecord?
}

extension TenantTransaction {
    /// The customer's orders, newest first.
    public func orders(customerId: Int64) async throws -> [OrderRecord] {
        try await all(select(.orders).column("*").where("customer_id", .equal, customerId)
            .orderBy("created_at", .descending).orderBy("id", .descending), as: OrderRecord.self)
    }

    public func order(id: Int64, customerId: Int64) async throws -> OrderRecord? {
        try await first(select(.orders).column("*").where("id", .equal, id).where("customer_id", .equal, customerId), as: OrderRecord.self)
    }

    /// Records an order and the pro-forma that pays it (with its open statement item), numbering both from
    /// the order's id: `ORD-2026-000042` and `PF-2026-000042`. Returns the order as stored.
    public func placeOrder(_ draft: OrderRecord, issuedOn: CalendarDay, proformaDays: Int) async throws -> OrderRecord {
        var order = try await insertNumberedOrder(draft, issuedOn: issuedOn)
        let id = order.id ?? 0
        let sequence = String(format: "%06d", Int(id))
        let proformaNumber = "PF-\(issuedOn.year)-\(sequence)"
        let due = issuedOn.adding(days: proformaDays).description
        let proforma = InvoiceRecord(
            externalId: "PF-\(id)", customerId: order.customerId, number: proformaNumber, issuedOn: issuedOn.description, dueOn: due,
            netCents: order.netCents, taxCents: order.taxCents, totalCents: order.totalCents, status: .unpaid)
        let invoiceId = try await insertInvoice(proforma)
        try await recordEvent(.invoiceIssued(proforma, id: invoiceId, source: "order"))
        try await insertStatementEntry(StatementEntryRecord(customerId: order.customerId, invoiceId: invoiceId, bookedOn: issuedOn.description,
                                                            dueOn: due, description: "Proforma \(proformaNumber) – \(order.title)",
                                                            amountCents: order.totalCents, isOpen: true))
        order.invoiceId = invoiceId
        try await update(.orders).set("invoice_id", to: invoiceId).where("id", .equal, id).where("customer_id", .equal, order.customerId).run()
        return order
    }

    /// Records an order without a pro-forma (one settled outside the portal, as in the demo history), numbered from its id.
    public func insertNumberedOrder(_ draft: OrderRecord, issuedOn: CalendarDay) async throws -> OrderRecord {
        var order = draft
        order.number = "tmp-\(UUID().uuidString)"
        order.invoiceId = nil
        let id = try await insert(.orders, order)
        order.id = id
        order.number = "ORD-\(issuedOn.year)-\(String(format: "%06d", Int(id)))"
        try await update(.orders).set("number", to: order.number).where("id", .equal, id).where("customer_id", .equal, order.customerId).run()
        return order
    }

    /// Orders whose pro-forma has been paid and that have not started yet, oldest first.
    public func paidOrdersAwaitingActivation(customerId: Int64) async throws -> [OrderRecord] {
        let waiting = try await all(select(.orders).column("*").where("customer_id", .equal, customerId)
            .where("status", .equal, OrderStatus.awaitingPayment.rawValue).orderBy("id"), as: OrderRecord.self)
        let invoiceIds = waiting.compactMap(\.invoiceId)
        guard !invoiceIds.isEmpty else { return [] }
        let paid = try await select(.invoices).column("id").where("customer_id", .equal, customerId)
            .where("id", .in, invoiceIds).where("status", .equal, InvoiceStatus.paid.rawValue).all()
        let paidIds = Set(try paid.map { try $0.decode(column: "id", as: Int64.self) })
        return waiting.filter { $0.invoiceId.map(paidIds.contains) ?? false }
    }

    /// Marks an awaiting order active (only once: false when someone else already did).
    public func markOrderActive(id: Int64, customerId: Int64, on day: String) async throws -> Bool {
        let claimed = try await update(.orders).set("status", to: OrderStatus.active.rawValue).set("activated_on", to: day)
            .where("id", .equal, id).where("customer_id", .equal, customerId).where("status", .equal, OrderStatus.awaitingPayment.rawValue)
            .returning("id").all()
        return !claimed.isEmpty
    }

    /// The pro-formas of the given ids that belong to the customer, by id.
    public func invoices(ids: [Int64], customerId: Int64) async throws -> [Int64: InvoiceRecord] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await all(select(.invoices).column("*").where("customer_id", .equal, customerId).where("id", .in, ids), as: InvoiceRecord.self)
        return Dictionary(rows.compactMap { invoice in invoice.id.map { ($0, invoice) } }, uniquingKeysWith: { first, _ in first })
    }
}

// MARK: - Shared hosting

extension TenantTransaction {
    @discardableResult
    public func insertHostingAccount(_ account: HostingAccountRecord) async throws -> Int64 {
        try await insert(.hostingAccounts, account)
    }

    public func hostingAccounts(customerId: Int64) async throws -> [HostingAccountRecord] {
        try await all(select(.hostingAccounts).column("*").where("customer_id", .equal, customerId).orderBy("domain").orderBy("id"),
                      as: HostingAccountRecord.self)
    }

    public func hostingAccount(id: Int64, customerId: Int64) async throws -> HostingAccountRecord? {
        try await first(select(.hostingAccounts).column("*").where("id", .equal, id).where("customer_id", .equal, customerId),
                        as: HostingAccountRecord.self)
    }

    public func setPHPVersion(_ version: String, hostingAccountId id: Int64, customerId: Int64) async throws {
        try await update(.hostingAccounts).set("php_version", to: version).where("id", .equal, id).where("customer_id", .equal, customerId).run()
    }

    /// Whether a hosting username is taken in the tenant.
    public func hostingUsernameExists(_ username: String) async throws -> Bool {
        try await count(select(.hostingAccounts).where("username", .equal, username)) > 0
    }

    public func insertBlockedAddresses(_ rows: [BlockedAddressRecord]) async throws {
        try await insertMany(.blockedAddresses, rows)
    }

    /// The customer's firewall blocks: those still in force, and those lifted since `liftedSince`, newest first.
    public func blockedAddresses(customerId: Int64, liftedSince: Int64) async throws -> [BlockedAddressRecord] {
        try await all(select(.blockedAddresses).column("*").where("customer_id", .equal, customerId)
            .where { $0.where("unblocked_at", .is, SQLLiteral.null).orWhere("unblocked_at", .greaterThanOrEqual, liftedSince) }
            .orderBy("blocked_at", .descending).orderBy("id", .descending), as: BlockedAddressRecord.self)
    }

    /// Blocks of `address` still in force on the customer's accounts.
    public func activeBlocks(customerId: Int64, address: String) async throws -> [BlockedAddressRecord] {
        try await all(select(.blockedAddresses).column("*").where("customer_id", .equal, customerId).where("address", .equal, address)
            .where("unblocked_at", .is, SQLLiteral.null).orderBy("id"), as: BlockedAddressRecord.self)
    }

    /// Lifts the given blocks of the customer; returns the ids actually lifted (a block lifted twice counts once).
    public func unblock(ids: [Int64], customerId: Int64, by userId: Int64?) async throws -> [Int64] {
        guard !ids.isEmpty else { return [] }
        let rows = try await update(.blockedAddresses).set("unblocked_at", to: now).set("unblocked_by", to: userId)
            .where("customer_id", .equal, customerId).where("id", .in, ids).where("unblocked_at", .is, SQLLiteral.null)
            .returning("id").all()
        return try rows.map { try $0.decode(column: "id", as: Int64.self) }
    }
}

// MARK: - Domains

extension TenantTransaction {
    @discardableResult
    public func insertDomain(_ domain: DomainRecord) async throws -> Int64 {
        try await insert(.domains, domain)
    }

    public func domains(customerId: Int64) async throws -> [DomainRecord] {
        try await all(select(.domains).column("*").where("customer_id", .equal, customerId).orderBy("name"), as: DomainRecord.self)
    }

    public func domain(id: Int64, customerId: Int64) async throws -> DomainRecord? {
        try await first(select(.domains).column("*").where("id", .equal, id).where("customer_id", .equal, customerId), as: DomainRecord.self)
    }

    /// Whether `name` is registered (or being registered) by any customer of the tenant.
    public func domainTaken(_ name: String) async throws -> Bool {
        try await count(select(.domains).where("name", .equal, name)) > 0
    }

    public func setAutoRenew(_ on: Bool, domainId: Int64, customerId: Int64) async throws {
        try await update(.domains).set("auto_renew", to: SQLLiteral.boolean(on)).where("id", .equal, domainId)
            .where("customer_id", .equal, customerId).run()
    }

    /// Starts a paid domain registration: active from `day` for `years`.
    public func activateDomain(orderId: Int64, customerId: Int64, on day: CalendarDay, years: Int) async throws {
        try await update(.domains).set("status", to: DomainStatus.active.rawValue).set("registered_on", to: day.description)
            .set("expires_on", to: day.adding(months: 12 * years).description)
            .where("order_id", .equal, orderId).where("customer_id", .equal, customerId).where("status", .equal, DomainStatus.pending.rawValue).run()
    }
}

extension TenantTransaction {
    /// Adds mailboxes to an account's quota (an e-mail pack started).
    public func raiseMailboxQuota(by extra: Int64, hostingAccountId id: Int64, customerId: Int64) async throws {
        try await update(.hostingAccounts).set("mailbox_quota", to: SQLRaw("mailbox_quota + \(extra)"))
            .where("id", .equal, id).where("customer_id", .equal, customerId).run()
    }
}
