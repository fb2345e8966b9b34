import Foundation
import SQLKit
import SportelloCore

/// A page of records in newest-first order and the cursor of the next page, if any.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var next: UsageCursor?
}

/// Where a usage page ends: the (started_at, id) of its last row.
public struct UsageCursor: Sendable, Equatable, CustomStringConvertible {
    public var startedAt: Int64
    public var id: Int64

    public init(startedAt: Int64, id: Int64) {
        self.startedAt = startedAt
        self.id = id
    }

    /// `startedAt.id`, as it travels in a URL.
    public init?(_ text: String) {
        let parts = text.split(separator: ".")
        guard parts.count == 2, let startedAt = Int64(parts[0]), let id = Int64(parts[1]) else { return nil }
        self.init(startedAt: startedAt, id: id)
    }

    public var description: String { "\(startedAt).\(id)" }
}

/// What the usage page asks for.
public struct UsageQuery: Sendable {
    public var lineId: Int64
    /// nil: the tenant's whole visibility window.
    public var period: TimeRange?
    /// Record kinds to show (`call`, `sms`, `data`…); empty for all.
    public var kinds: [String]
    public var after: UsageCursor?
    public var limit: Int

    public init(lineId: Int64, period: TimeRange? = nil, kinds: [String] = [], after: UsageCursor? = nil, limit: Int = 50) {
        self.lineId = lineId
        self.period = period
        self.kinds = kinds
        self.after = after
        self.limit = limit
    }
}

// MARK: - Customers, users, contracts, lines

extension TenantTransaction {
    @discardableResult
    public func insertCustomer(_ customer: CustomerRecord) async throws -> Int64 {
        try await insert(.customers, customer)
    }

    public func customer(id: Int64) async throws -> CustomerRecord? {
        try await first(select(.customers).column("*").where("id", .equal, id), as: CustomerRecord.self)
    }

    public func customer(code: String) async throws -> CustomerRecord? {
        try await first(select(.customers).column("*").where("customer_code", .equal, code), as: CustomerRecord.self)
    }

    public func customers(vatNumber: String) async throws -> [CustomerRecord] {
        try await all(select(.customers).column("*").where("vat_number", .equal, vatNumber).orderBy("id"), as: CustomerRecord.self)
    }

    public func customers(limit: Int = 100) async throws -> [CustomerRecord] {
        try await all(select(.customers).column("*").orderBy("id").limit(limit), as: CustomerRecord.self)
    }

    public func updateCustomer(_ customer: CustomerRecord) async throws {
        guard let id = customer.id else { throw StoreError(.invalidInput, "customer without id") }
        invalidate("customer:\(id)")
        try await update(.customers).set(model: customer, with: .init(keyEncodingStrategy: .convertToSnakeCase, nilEncodingStrategy: .asNil))
            .where("id", .equal, id).run()
    }

    @discardableResult
    public func insertUser(_ user: UserRecord) async throws -> Int64 {
        try await insert(.users, user)
    }

    public func user(id: Int64) async throws -> UserRecord? {
        try await first(select(.users).column("*").where("id", .equal, id), as: UserRecord.self)
    }

    /// The user whose normalised username is `key` (see `UserRecord.usernameKey`).
    public func user(usernameKey key: String) async throws -> UserRecord? {
        try await first(select(.users).column("*").where("username_key", .equal, key), as: UserRecord.self)
    }

    /// Users whose e-mail is `email`, compared without case (recovery by e-mail; Tunda's sub-accounts share one).
    public func users(email: String) async throws -> [UserRecord] {
        try await all(select(.users).column("*")
            .where(SQLFunction("lower", args: SQLColumn("email")), .equal, SQLBind(email.lowercased())).orderBy("id"),
                      as: UserRecord.self)
    }

    /// How many users of `role` the customer already has (cardinality `per: customer`).
    public func userCount(role: String, customerId: Int64) async throws -> Int {
        try await count(select(.users).where("role", .equal, role).where("customer_id", .equal, customerId))
    }

    public func users(customerId: Int64) async throws -> [UserRecord] {
        try await all(select(.users).column("*").where("customer_id", .equal, customerId).orderBy("id"), as: UserRecord.self)
    }

    /// How many users of `role` the customers with this VAT number already have (WINDTRE: one User Admin).
    public func userCount(role: String, vatNumber: String) async throws -> Int {
        let builder = join(select(.users), .customers,
                           on: SQLBinaryExpression(SQLColumn("id", table: "customers"), .equal, SQLColumn("customer_id", table: "users")))
            .where(SQLColumn("role", table: "users"), .equal, SQLBind(role))
            .where(SQLColumn("vat_number", table: "customers"), .equal, SQLBind(vatNumber))
        return try await count(builder)
    }

    public func updateUser(_ user: UserRecord) async throws {
        guard let id = user.id else { throw StoreError(.invalidInput, "user without id") }
        invalidate("user:\(id)")
        try await update(.users).set(model: user, with: .init(keyEncodingStrategy: .convertToSnakeCase, nilEncodingStrategy: .asNil))
            .where("id", .equal, id).run()
    }

    @discardableResult
    public func insertContract(_ contract: ContractRecord) async throws -> Int64 {
        try await insert(.contracts, contract)
    }

    public func contracts(customerId: Int64) async throws -> [ContractRecord] {
        try await all(select(.contracts).column("*").where("customer_id", .equal, customerId).orderBy("id"), as: ContractRecord.self)
    }

    @discardableResult
    public func insertLine(_ line: LineRecord) async throws -> Int64 {
        try await insert(.lines, line)
    }

    public func line(id: Int64) async throws -> LineRecord? {
        try await first(select(.lines).column("*").where("id", .equal, id), as: LineRecord.self)
    }

    public func lines(customerId: Int64) async throws -> [LineRecord] {
        try await all(select(.lines).column("*").where("customer_id", .equal, customerId).orderBy("id"), as: LineRecord.self)
    }

    public func lines(contractId: Int64) async throws -> [LineRecord] {
        try await all(select(.lines).column("*").where("contract_id", .equal, contractId).orderBy("id"), as: LineRecord.self)
    }

    @discardableResult
    public func insertService(_ service: ServiceRecord) async throws -> Int64 {
        try await insert(.services, service)
    }

    public func services(contractId: Int64) async throws -> [ServiceRecord] {
        try await all(select(.services).column("*").where("contract_id", .equal, contractId).orderBy("id"), as: ServiceRecord.self)
    }
}

// MARK: - Billing, inside the tenant's windows

extension TenantTransaction {
    @discardableResult
    public func insertInvoice(_ invoice: InvoiceRecord) async throws -> Int64 {
        try await insert(.invoices, invoice)
    }

    /// The customer's invoices issued inside the tenant's window (newest first): the company's own, or with
    /// `holderUserId` the personal invoices of that user. Asking for a start before the window is an error,
    /// never a silent cut.
    public func invoices(customerId: Int64, windows: VisibilityWindows, issuedFrom: CalendarDay? = nil,
                         holderUserId: Int64? = nil) async throws -> [InvoiceRecord] {
        var builder = select(.invoices).column("*").where("customer_id", .equal, customerId)
        builder = holderUserId.map { builder.where("holder_user_id", .equal, $0) } ?? builder.where("holder_user_id", .is, SQLLiteral.null)
        if let from = try windows.resolveDays(.invoices, from: issuedFrom, now: now) {
            builder = builder.where("issued_on", .greaterThanOrEqual, from.description)
        }
        return try await all(builder.orderBy("issued_on", .descending).orderBy("id", .descending), as: InvoiceRecord.self)
    }

    /// One invoice, if it belongs to the customer and is inside the window: a company invoice, or a personal
    /// one addressed to `personalOf`.
    public func invoice(id: Int64, customerId: Int64, windows: VisibilityWindows, personalOf: Int64? = nil) async throws -> InvoiceRecord? {
        var builder = select(.invoices).column("*").where("id", .equal, id).where("customer_id", .equal, customerId)
            .where { group in
                let company = group.where("holder_user_id", .is, SQLLiteral.null)
                return personalOf.map { company.orWhere("holder_user_id", .equal, $0) } ?? company
            }
        if let from = windows.earliestDay(for: .invoices, now: now) {
            builder = builder.where("issued_on", .greaterThanOrEqual, from.description)
        }
        return try await first(builder, as: InvoiceRecord.self)
    }

    /// Whether the customer has unpaid invoices past their due date (Unidata's administrative status).
    public func hasOverdueInvoices(customerId: Int64) async throws -> Bool {
        let today = CalendarDay(instant: now).description
        return try await count(select(.invoices).where("customer_id", .equal, customerId).where("holder_user_id", .is, SQLLiteral.null)
            .where("status", .in, [InvoiceStatus.unpaid, .overdue, .partiallyPaid].map(\.rawValue)).where("due_on", .lessThan, today)) > 0
    }

    @discardableResult
    public func insertDocument(_ document: DocumentRecord) async throws -> Int64 {
        try await insert(.documents, document)
    }

    public func documents(ownerKind: String, ownerId: Int64) async throws -> [DocumentRecord] {
        try await all(select(.documents).column("*").where("owner_kind", .equal, ownerKind)
            .where("owner_id", .equal, ownerId).orderBy("id"), as: DocumentRecord.self)
    }

    @discardableResult
    public func insertStatementEntry(_ entry: StatementEntryRecord) async throws -> Int64 {
        try await insert(.statementEntries, entry)
    }

    /// The account statement; `openOnly` for the open items.
    public func statement(customerId: Int64, openOnly: Bool = false, windows: VisibilityWindows) async throws -> [StatementEntryRecord] {
        var builder = select(.statementEntries).column("*").where("customer_id", .equal, customerId)
        if openOnly { builder = builder.where("is_open", .equal, SQLLiteral.boolean(true)) }
        if let from = windows.statementEarliestDay(now: now) {
            builder = builder.where("booked_on", .greaterThanOrEqual, from.description)
        }
        return try await all(builder.orderBy("booked_on", .descending).orderBy("id", .descending), as: StatementEntryRecord.self)
    }

    @discardableResult
    public func insertPayment(_ payment: PaymentRecord) async throws -> Int64 {
        try await insert(.payments, payment)
    }

    public func payments(customerId: Int64) async throws -> [PaymentRecord] {
        try await all(select(.payments).column("*").where("customer_id", .equal, customerId)
            .orderBy("paid_on", .descending), as: PaymentRecord.self)
    }
}

// MARK: - Usage and recharges

extension TenantTransaction {
    public func insertUsage(_ records: [UsageRecord]) async throws {
        try await insertMany(.usageRecords, records)
    }

    func usageSelect(_ query: UsageQuery, range: TimeRange) -> SQLSelectBuilder {
        var builder = select(.usageRecords).column("*")
            .where("line_id", .equal, query.lineId)
            .where("started_at", .greaterThanOrEqual, range.from)
            .where("started_at", .lessThan, range.to)
        if !query.kinds.isEmpty { builder = builder.where("kind", .in, query.kinds) }
        if let after = query.after {
            // Keyset paging: rows strictly before the previous page's last (started_at, id).
            builder = builder.where(SQLGroupExpression(SQLBinaryExpression(
                SQLBinaryExpression(SQLColumn("started_at"), .lessThan, SQLBind(after.startedAt)),
                .or,
                SQLBinaryExpression(
                    SQLBinaryExpression(SQLColumn("started_at"), .equal, SQLBind(after.startedAt)),
                    .and,
                    SQLBinaryExpression(SQLColumn("id"), .lessThan, SQLBind(after.id))))))
        }
        return builder.orderBy("started_at", .descending).orderBy("id", .descending).limit(query.limit + 1)
    }

    /// One page of a line's usage inside the tenant's window, newest first.
    public func usage(_ query: UsageQuery, windows: VisibilityWindows) async throws -> Page<UsageRecord> {
        let range = try windows.resolve(.usage, requested: query.period, now: now)
        var items = try await all(usageSelect(query, range: range), as: UsageRecord.self)
        var next: UsageCursor?
        if items.count > query.limit {
            items.removeLast()
            if let last = items.last, let id = last.id { next = UsageCursor(startedAt: last.startedAt, id: id) }
        }
        return Page(items: items, next: next)
    }

    /// Every usage record of a line in `period`, for an export: the period must lie inside the window
    /// and be no longer than the tenant's longest export.
    public func usageExport(lineId: Int64, period: TimeRange, kinds: [String] = [], windows: VisibilityWindows) async throws -> [UsageRecord] {
        let range = try windows.resolve(.usage, requested: period, now: now, export: true)
        var builder = select(.usageRecords).column("*").where("line_id", .equal, lineId)
            .where("started_at", .greaterThanOrEqual, range.from).where("started_at", .lessThan, range.to)
        if !kinds.isEmpty { builder = builder.where("kind", .in, kinds) }
        return try await all(builder.orderBy("started_at").orderBy("id"), as: UsageRecord.self)
    }

    @discardableResult
    public func insertRecharge(_ recharge: RechargeRecord) async throws -> Int64 {
        try await insert(.recharges, recharge)
    }

    public func recharges(lineId: Int64, windows: VisibilityWindows) async throws -> [RechargeRecord] {
        var builder = select(.recharges).column("*").where("line_id", .equal, lineId)
        if let from = windows.earliestDay(for: .recharges, now: now) {
            builder = builder.where("recharged_at", .greaterThanOrEqual, from.startInstant)
        }
        return try await all(builder.orderBy("recharged_at", .descending), as: RechargeRecord.self)
    }
}

// MARK: - Requests, preferences, invitations, tokens, sessions, audit, outbox

extension TenantTransaction {
    /// Opens a request with the tenant's next request number and records its first history step; returns its id.
    @discardableResult
    public func insertRequest(_ request: RequestRecord, note: String? = nil) async throws -> Int64 {
        try await insertNumberedRequest(request, note: note).id
    }

    /// Like `insertRequest`, returning the request number too.
    public func insertNumberedRequest(_ request: RequestRecord, note: String? = nil) async throws -> (id: Int64, number: Int64) {
        var request = request
        let number = try await nextRequestNumber()
        request.number = number
        let id = try await insert(.requests, request)
        try await insert(.requestEvents, RequestEventRecord(requestId: id, at: request.createdAt, status: request.status,
                                                            note: note, actorUserId: request.userId))
        try await recordEvent(.requestCreated(request, id: id, number: number))
        return (id, number)
    }

    /// Moves a request to `status` and appends the step to its history (and records `request.status_changed`).
    public func changeRequestStatus(id: Int64, to status: String, note: String? = nil, actorUserId: Int64? = nil) async throws {
        let before = recordsEvents ? try await request(id: id) : nil
        let closing = status == "closed" || status == "rejected"
        let changed = update(.requests).set("status", to: status).set("updated_at", to: now).where("id", .equal, id)
        if closing { changed.set("closed_at", to: now) }
        try await changed.run()
        try await insert(.requestEvents, RequestEventRecord(requestId: id, at: now, status: status, note: note, actorUserId: actorUserId))
        if let before, before.status != status {
            try await recordEvent(.requestStatusChanged(before, id: id, to: status, note: note, actorUserId: actorUserId))
        }
    }

    public func requests(customerId: Int64) async throws -> [RequestRecord] {
        try await all(select(.requests).column("*").where("customer_id", .equal, customerId)
            .orderBy("created_at", .descending).orderBy("id", .descending), as: RequestRecord.self)
    }

    /// Open or in-progress requests of the customer in a form group ("one open request at a time").
    public func openRequestCount(customerId: Int64, group: String) async throws -> Int {
        try await count(select(.requests).where("customer_id", .equal, customerId).where("form_group", .equal, group)
            .where("status", .in, ["open", "in_progress"]))
    }

    public func requestHistory(requestId: Int64) async throws -> [RequestEventRecord] {
        try await all(select(.requestEvents).column("*").where("request_id", .equal, requestId)
            .orderBy("at").orderBy("id"), as: RequestEventRecord.self)
    }

    public func setNotificationPreference(_ preference: NotificationPreferenceRecord) async throws {
        try await insertMany(.notificationPreferences, [preference], upsertOn: ["tenant_id", "user_id", "rule", "channel"])
    }

    public func notificationPreferences(userId: Int64) async throws -> [NotificationPreferenceRecord] {
        try await all(select(.notificationPreferences).column("*").where("user_id", .equal, userId).orderBy("id"),
                      as: NotificationPreferenceRecord.self)
    }

    @discardableResult
    public func insertInvitation(_ invitation: InvitationRecord) async throws -> Int64 {
        try await insert(.invitations, invitation)
    }

    public func invitation(tokenHash: String) async throws -> InvitationRecord? {
        try await first(select(.invitations).column("*").where("token_hash", .equal, tokenHash), as: InvitationRecord.self)
    }

    @discardableResult
    public func insertToken(_ token: OneTimeTokenRecord) async throws -> Int64 {
        try await insert(.oneTimeTokens, token)
    }

    public func token(hash: String, purpose: String) async throws -> OneTimeTokenRecord? {
        try await first(select(.oneTimeTokens).column("*").where("token_hash", .equal, hash)
            .where("purpose", .equal, purpose), as: OneTimeTokenRecord.self)
    }

    /// Marks a token used, only if it was unused and unexpired; false when someone else got there first.
    public func consumeToken(id: Int64) async throws -> Bool {
        let rows = try await update(.oneTimeTokens).set("used_at", to: now).where("id", .equal, id)
            .where("used_at", .is, SQLLiteral.null).where("expires_at", .greaterThan, now)
            .returning("id").all()
        return !rows.isEmpty
    }

    /// Revokes every live secret of `purpose` for the user (a new reset link voids the previous one).
    public func revokeTokens(userId: Int64, purpose: String) async throws {
        try await update(.oneTimeTokens).set("used_at", to: now).where("user_id", .equal, userId)
            .where("purpose", .equal, purpose).where("used_at", .is, SQLLiteral.null).run()
    }

    /// The newest unused, unexpired token of `purpose` for the user.
    public func liveToken(userId: Int64, purpose: String) async throws -> OneTimeTokenRecord? {
        try await first(select(.oneTimeTokens).column("*").where("user_id", .equal, userId).where("purpose", .equal, purpose)
            .where("used_at", .is, SQLLiteral.null).where("expires_at", .greaterThan, now).orderBy("id", .descending),
                        as: OneTimeTokenRecord.self)
    }

    /// Counts a wrong guess against a token (control codes) and returns the new count.
    public func recordTokenAttempt(id: Int64) async throws -> Int {
        try await update(.oneTimeTokens).set("attempts", to: SQLRaw("attempts + 1")).where("id", .equal, id).run()
        return try await first(select(.oneTimeTokens).column("*").where("id", .equal, id), as: OneTimeTokenRecord.self)?.attempts ?? 0
    }

    public func invitations(customerId: Int64) async throws -> [InvitationRecord] {
        try await all(select(.invitations).column("*").where("customer_id", .equal, customerId)
            .orderBy("created_at", .descending), as: InvitationRecord.self)
    }

    public func invitation(id: Int64) async throws -> InvitationRecord? {
        try await first(select(.invitations).column("*").where("id", .equal, id), as: InvitationRecord.self)
    }

    public func updateInvitation(_ invitation: InvitationRecord) async throws {
        guard let id = invitation.id else { throw StoreError(.invalidInput, "invitation without id") }
        try await update(.invitations).set(model: invitation, with: .init(keyEncodingStrategy: .convertToSnakeCase, nilEncodingStrategy: .asNil))
            .where("id", .equal, id).run()
    }

    @discardableResult
    public func insertFlowState(_ state: FlowStateRecord) async throws -> Int64 {
        try await insert(.flowStates, state)
    }

    /// The unexpired, unfinished flow whose secret hashes to `tokenHash`.
    public func flowState(tokenHash: String) async throws -> FlowStateRecord? {
        try await first(select(.flowStates).column("*").where("token_hash", .equal, tokenHash)
            .where("expires_at", .greaterThan, now).where("completed_at", .is, SQLLiteral.null), as: FlowStateRecord.self)
    }

    public func flowStateById(_ id: Int64) async throws -> FlowStateRecord? {
        try await first(select(.flowStates).column("*").where("id", .equal, id), as: FlowStateRecord.self)
    }

    public func updateFlowState(_ state: FlowStateRecord) async throws {
        guard let id = state.id else { throw StoreError(.invalidInput, "flow state without id") }
        try await update(.flowStates).set(model: state, with: .init(keyEncodingStrategy: .convertToSnakeCase, nilEncodingStrategy: .asNil))
            .where("id", .equal, id).run()
    }

    /// Ends every session of the user (password changed, account blocked or deleted).
    public func deleteSessions(userId: Int64) async throws {
        invalidate("user:\(userId)")
        try await delete(.sessions).where("user_id", .equal, userId).run()
    }

    public func updateSession(_ session: SessionRecord) async throws {
        guard let id = session.id else { throw StoreError(.invalidInput, "session without id") }
        invalidate("session:\(session.tokenHash)")
        try await update(.sessions).set(model: session, with: .init(keyEncodingStrategy: .convertToSnakeCase, nilEncodingStrategy: .asNil))
            .where("id", .equal, id).run()
    }

    @discardableResult
    public func insertSession(_ session: SessionRecord) async throws -> Int64 {
        try await insert(.sessions, session)
    }

    /// The live session with this token hash (not expired).
    public func session(tokenHash: String) async throws -> SessionRecord? {
        try await first(select(.sessions).column("*").where("token_hash", .equal, tokenHash)
            .where("expires_at", .greaterThan, now), as: SessionRecord.self)
    }

    /// The live session with this token hash with its user and the user's customer (nil if any is missing).
    public func sessionWithAccount(tokenHash: String) async throws -> (session: SessionRecord, user: UserRecord, customer: CustomerRecord)? {
        guard let session = try await session(tokenHash: tokenHash), let user = try await user(id: session.userId),
              let customer = try await customer(id: user.customerId) else { return nil }
        return (session, user, customer)
    }

    public func deleteSession(tokenHash: String) async throws {
        invalidate("session:\(tokenHash)")
        try await delete(.sessions).where("token_hash", .equal, tokenHash).run()
    }

    public func audit(_ action: String, actorUserId: Int64? = nil, targetKind: String? = nil, targetId: String? = nil, detail: String? = nil) async throws {
        try await insert(.auditLog, AuditRecord(at: now, actorUserId: actorUserId, action: action, targetKind: targetKind,
                                                targetId: targetId, detail: detail))
    }

    public func auditLog(limit: Int = 100) async throws -> [AuditRecord] {
        try await all(select(.auditLog).column("*").orderBy("at", .descending).orderBy("id", .descending).limit(limit),
                      as: AuditRecord.self)
    }

    /// Queues an e-mail in this transaction: it is sent if and only if the transaction commits. Its bodies
    /// are stored sealed with the data key (they can carry a link or a code that opens an account).
    @discardableResult
    public func enqueueMail(_ mail: OutboxRecord) async throws -> Int64 {
        try await insert(.outbox, try OutboxBody.sealed(mail, with: sealer))
    }

    /// The outbox, newest first, bodies opened: pending mail as it will be sent, mail no longer pending as
    /// the redacted copy kept after delivery (see `OutboxBody`).
    public func outbox(status: OutboxStatus? = nil, limit: Int = 100) async throws -> [OutboxRecord] {
        var builder = select(.outbox).column("*")
        if let status { builder = builder.where("status", .equal, status.rawValue) }
        return try await all(builder.orderBy("id", .descending).limit(limit), as: OutboxRecord.self)
            .map { try OutboxBody.opened($0, with: sealer) }
    }

    /// Pending mail whose next attempt is due, oldest first, bodies opened for sending.
    public func dueMail(limit: Int = 20) async throws -> [OutboxRecord] {
        try await dueRows(.outbox, limit: limit).map { try OutboxBody.opened($0, with: sealer) }
    }

    /// Claims up to `limit` due mail for one delivery attempt each, for `lease` seconds, bodies opened for sending.
    public func claimDueMail(limit: Int, lease: Int64) async throws -> [OutboxRecord] {
        try await claimDueRows(.outbox, limit: limit, lease: lease).map { try OutboxBody.opened($0, with: sealer) }
    }

    /// Records a delivery outcome: status, attempts, next attempt, last error, sent time. The stored body is
    /// left sealed while the mail is pending; once it is `sent` or `failed` it becomes the redacted copy of
    /// `mail`'s (opened) body, so no usable link or code outlives the delivery.
    public func updateMail(_ mail: OutboxRecord) async throws {
        guard let id = mail.id else { throw StoreError(.invalidInput, "mail without id") }
        var builder = update(.outbox).set("status", to: mail.status.rawValue).set("attempts", to: mail.attempts)
            .set("next_attempt_at", to: mail.nextAttemptAt).set("last_error", to: mail.lastError).set("sent_at", to: mail.sentAt)
        if mail.status != .pending {
            let redacted = OutboxBody.redacted(kind: mail.kind, text: mail.bodyText, html: mail.bodyHtml)
            builder = builder.set("body_text", to: redacted.text).set("body_html", to: redacted.html)
        }
        try await builder.where("id", .equal, id).run()
    }

    /// Row counts per table for this tenant (for `sportello demo` and health pages).
    public func rowCounts() async throws -> [(StoredTable, Int)] {
        var counts: [(StoredTable, Int)] = []
        for table in schema.allTables { counts.append((table, try await count(select(table)))) }
        return counts
    }
}
