import Foundation
import SQLKit
import SportelloCore

/// The outcome of an import that was applied.
public struct ImportReport: Sendable {
    /// Records written (inserted or updated) per kind.
    public var written: [ImportKind: Int]
    public var total: Int { written.values.reduce(0, +) }
}

/// An import that was refused: every problem found, and nothing was written.
public struct ImportRejected: Error, Sendable, CustomStringConvertible {
    public var problems: [ImportProblem]
    public var description: String { "\(problems.count) problem(s); nothing was imported" }
}

/// Imports a provider's file into one tenant: checks everything first, then writes it all in one
/// transaction, upserting each record by the provider's external id (running it twice changes nothing).
public struct Importer: Sendable {
    public let database: Database
    public let tenant: TenantDefinition

    public init(database: Database, tenant: TenantDefinition) {
        self.database = database
        self.tenant = tenant
    }

    public func importFile(at path: String, format: ImportFormat? = nil, kind: ImportKind? = nil,
                           now: Int64 = Int64(Date().timeIntervalSince1970)) async throws -> ImportReport {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StoreError(.invalidInput, "cannot read \(path)")
        }
        let fileKind = kind ?? ImportKind(name: URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent,
                                          recordKinds: tenant.recordKinds.keys)
        guard let format = format ?? ImportFormat(path: path) else {
            throw StoreError(.invalidInput, "\(path): unknown format (name the file .jsonl or .csv, or pass --format)")
        }
        return try await importData(data, format: format, kind: fileKind, now: now)
    }

    public func importData(_ data: Data, format: ImportFormat, kind: ImportKind?,
                           now: Int64 = Int64(Date().timeIntervalSince1970)) async throws -> ImportReport {
        let parsed = ImportParser.parse(data, format: format, kind: kind, recordKinds: tenant.recordKinds.keys)
        let mapped = ImportMapper(tenant: tenant, now: now).map(parsed.rows)
        let problems = parsed.problems + mapped.problems
        guard problems.isEmpty else { throw ImportRejected(problems: problems.sorted { $0.line < $1.line }) }
        let batch = mapped.batch
        let tenant = tenant
        return try await database.write(tenant: tenant.id, now: now) { transaction in
            try await Self.apply(batch, tenant: tenant, in: transaction)
        }
    }

    /// Resolves references kind by kind (from this file or the database) and upserts; throws with every
    /// unresolved reference, which rolls the whole transaction back.
    static func apply(_ batch: ImportBatch, tenant: TenantDefinition, in transaction: TenantTransaction) async throws -> ImportReport {
        var problems: [ImportProblem] = []
        var written: [ImportKind: Int] = [:]
        let key = ["tenant_id", "external_id"]

        func resolve<R>(_ pending: [PendingRecord<R>], _ kind: ImportKind, table: StoredTable) async throws -> [String: ParentIds] {
            let wanted = Set(pending.compactMap { $0.references[kind] })
            let found = try await transaction.parentIds(table, externalIds: wanted)
            for item in pending {
                guard let reference = item.references[kind] else { continue }
                if found[reference] == nil {
                    problems.append(ImportProblem(line: item.line, message: "\(kind.rawValue) '\(reference)' does not exist (neither in this file nor already imported)"))
                }
            }
            return found
        }

        // A payment method the provider's system now calls invalid (it was fine, or invalid for another reason).
        let problemsBefore = try await transaction.paymentMethodProblems(externalIds: Set(batch.customers.compactMap(\.record.externalId)))
        try await transaction.insertMany(.customers, batch.customers.map(\.record), upsertOn: key)
        written[.customer] = batch.customers.count
        let newlyInvalid = batch.customers.map(\.record).filter { record in
            guard let problem = record.paymentMethodProblem, let external = record.externalId else { return false }
            return problemsBefore[external] != problem
        }
        if !newlyInvalid.isEmpty {
            let ids = try await transaction.parentIds(.customers, externalIds: Set(newlyInvalid.compactMap(\.externalId)))
            try await transaction.recordEvents(newlyInvalid.compactMap { record in
                guard let id = ids[record.externalId ?? ""]?.id, let problem = record.paymentMethodProblem else { return nil }
                return .paymentMethodInvalid(customerId: id, method: record.paymentMethod, reason: problem)
            })
        }
        let customersForFields = try await resolve(batch.customerFieldValues, .customer, table: .customers)
        for item in batch.customerFieldValues {
            guard let customer = customersForFields[item.references[.customer] ?? ""] else { continue }
            try await transaction.setCustomFieldValues(item.record, of: .customer(customer.id))
        }

        let customersForContracts = try await resolve(batch.contracts, .customer, table: .customers)
        try await transaction.insertMany(.contracts, batch.contracts.compactMap { item -> ContractRecord? in
            guard let parent = customersForContracts[item.references[.customer] ?? ""] else { return nil }
            var record = item.record
            record.customerId = parent.id
            return record
        }, upsertOn: key)
        written[.contract] = batch.contracts.count

        let contractsForLines = try await resolve(batch.lines, .contract, table: .contracts)
        try await transaction.insertMany(.lines, batch.lines.compactMap { item -> LineRecord? in
            guard let parent = contractsForLines[item.references[.contract] ?? ""] else { return nil }
            var record = item.record
            record.contractId = parent.id
            record.customerId = parent.customerId ?? 0
            return record
        }, upsertOn: key)
        written[.line] = batch.lines.count

        let customersForInvoices = try await resolve(batch.invoices, .customer, table: .customers)
        let contractsForInvoices = try await resolve(batch.invoices, .contract, table: .contracts)
        // What the invoices were before this file: a new one is issued, one that turns paid has its payment confirmed.
        let invoicesBefore = transaction.recordsEvents
            ? try await transaction.invoiceStatuses(externalIds: Set(batch.invoices.compactMap(\.record.externalId))) : [:]
        var importedInvoices: [String: InvoiceRecord] = [:]
        try await transaction.insertMany(.invoices, batch.invoices.compactMap { item -> InvoiceRecord? in
            guard let parent = customersForInvoices[item.references[.customer] ?? ""] else { return nil }
            var record = item.record
            record.customerId = parent.id
            if let contract = item.references[.contract] {
                guard let found = contractsForInvoices[contract] else { return nil }
                if found.customerId != parent.id {
                    problems.append(ImportProblem(line: item.line, message: "contract '\(contract)' belongs to another customer"))
                }
                record.contractId = found.id
            }
            if let externalId = record.externalId { importedInvoices[externalId] = record }
            return record
        }, upsertOn: key)
        written[.invoice] = batch.invoices.count
        if transaction.recordsEvents, !importedInvoices.isEmpty {
            try await recordInvoiceEvents(importedInvoices, before: invoicesBefore, in: transaction)
        }

        let customersForPayments = try await resolve(batch.payments, .customer, table: .customers)
        let invoicesForPayments = try await resolve(batch.payments, .invoice, table: .invoices)
        try await transaction.insertMany(.payments, batch.payments.compactMap { item -> PaymentRecord? in
            guard let parent = customersForPayments[item.references[.customer] ?? ""] else { return nil }
            var record = item.record
            record.customerId = parent.id
            if let invoice = item.references[.invoice] {
                guard let found = invoicesForPayments[invoice] else { return nil }
                record.invoiceId = found.id
            }
            return record
        }, upsertOn: key)
        written[.payment] = batch.payments.count

        let linesForUsage = try await resolve(batch.usage, .line, table: .lines)
        let usage = batch.usage.compactMap { item -> UsageRecord? in
            guard let parent = linesForUsage[item.references[.line] ?? ""] else { return nil }
            var record = item.record
            record.lineId = parent.id
            record.customerId = parent.customerId ?? 0
            return record
        }
        // Usage arriving is where consumption crosses a warning level: measured before, compared after.
        let watch = try await transaction.watchUsageThresholds(of: tenant, lineIds: Set(usage.filter { $0.kind == "data" }.map(\.lineId)))
        let roaming = try await transaction.watchRoamingThresholds(of: tenant, lineIds: Set(usage.filter { $0.kind == "data" && $0.roaming == true }.map(\.lineId)))
        try await transaction.insertMany(.usageRecords, usage, upsertOn: key)
        written[.usage] = batch.usage.count
        if let watch { try await transaction.recordCrossedUsageThresholds(watch) }
        if let roaming { try await transaction.recordCrossedRoamingThresholds(roaming) }

        let linesForRecharges = try await resolve(batch.recharges, .line, table: .lines)
        try await transaction.insertMany(.recharges, batch.recharges.compactMap { item -> RechargeRecord? in
            guard let parent = linesForRecharges[item.references[.line] ?? ""] else { return nil }
            var record = item.record
            record.lineId = parent.id
            record.customerId = parent.customerId ?? 0
            return record
        }, upsertOn: key)
        written[.recharge] = batch.recharges.count

        if !batch.records.isEmpty {
            for (kind, count) in try await applyRecords(batch.records, tenant: tenant, in: transaction, problems: &problems) {
                written[.record(kind)] = count
            }
        }

        guard problems.isEmpty else { throw ImportRejected(problems: problems.sorted { $0.line < $1.line }) }
        return ImportReport(written: written)
    }
}

extension Importer {
    /// Records `invoice.issued` for each imported invoice that did not exist before, and `invoice.paid` for each that
    /// existed unpaid and is now paid (payments imported on their own record no event: the invoice's status says
    /// whether it is settled).
    static func recordInvoiceEvents(_ imported: [String: InvoiceRecord], before: [String: (id: Int64, status: InvoiceStatus)],
                                    in transaction: TenantTransaction) async throws {
        let fresh = Set(imported.keys.filter { before[$0] == nil })
        let ids = try await transaction.parentIds(.invoices, externalIds: fresh)
        var drafts: [EventDraft] = []
        for (externalId, record) in imported.sorted(by: { $0.key < $1.key }) {
            if let previous = before[externalId] {
                guard previous.status != .paid, record.status == .paid else { continue }
                var invoice = record
                invoice.id = previous.id
                drafts.append(.invoicePaid(invoice, paidOn: record.paidOn ?? CalendarDay(instant: transaction.now).description, amountCents: nil,
                                           method: nil, paymentId: nil, simulated: false, source: "import"))
            } else if let id = ids[externalId]?.id {
                drafts.append(.invoiceIssued(record, id: id, source: "import"))
            }
        }
        try await transaction.recordEvents(drafts)
    }

    /// Writes the rows of the tenant's own record kinds, owner kinds first: each row's customer (by the customer's
    /// external id) or owner record (by its external id, in this file or already imported; its customer is the
    /// record's), and its user (by username, one of that customer's users) resolved; a record that already belongs
    /// to another customer is refused. Returns the records written per kind.
    static func applyRecords(_ pending: [PendingRecord<ImportedRecord>], tenant: TenantDefinition, in transaction: TenantTransaction,
                             problems: inout [ImportProblem]) async throws -> [String: Int] {
        var written: [String: Int] = [:]
        let customers = try await transaction.parentIds(.customers, externalIds: Set(pending.compactMap { $0.references[.customer] }))
        let users = try await transaction.usersByUsername(Set(pending.compactMap(\.record.username)))
        for kind in tenant.recordKindsOwnersFirst {
            let rows = pending.filter { $0.record.kind == kind }
            guard !rows.isEmpty, let definition = tenant.recordKinds[kind] else { continue }
            var owners: [String: RecordReference] = [:]
            if let ownerKind = definition.ownerKind {
                owners = try await transaction.recordReferences(kind: ownerKind, externalIds: Set(rows.compactMap { $0.references[.record(ownerKind)] }))
            }
            let existing = try await transaction.recordReferences(kind: kind, externalIds: Set(rows.map(\.record.externalId)))
            var drafts: [TenantRecordDraft] = []
            for item in rows {
                let record = item.record
                let customerId: Int64, ownerRecordId: Int64?, inheritedUser: Int64?
                if let ownerKind = definition.ownerKind {
                    let reference = item.references[.record(ownerKind)] ?? ""
                    guard let owner = owners[reference] else {
                        problems.append(ImportProblem(line: item.line, message: "\(ownerKind) record '\(reference)' does not exist (neither in this file nor already imported)"))
                        continue
                    }
                    (customerId, ownerRecordId, inheritedUser) = (owner.customerId, owner.id, owner.userId)
                } else {
                    let reference = item.references[.customer] ?? ""
                    guard let customer = customers[reference] else {
                        problems.append(ImportProblem(line: item.line, message: "customer '\(reference)' does not exist (neither in this file nor already imported)"))
                        continue
                    }
                    (customerId, ownerRecordId, inheritedUser) = (customer.id, nil, nil)
                }
                if let found = existing[record.externalId], found.customerId != customerId {
                    problems.append(ImportProblem(line: item.line, message: "\(kind) record '\(record.externalId)' already belongs to another customer: a record cannot move between customers"))
                    continue
                }
                var userId = inheritedUser
                if let username = record.username {
                    guard let user = users[username], user.customerId == customerId else {
                        problems.append(ImportProblem(line: item.line, message: "user '\(username)' is not a user of the record's customer"))
                        continue
                    }
                    userId = user.id
                }
                drafts.append(TenantRecordDraft(kind: kind, externalId: record.externalId, customerId: customerId, ownerRecordId: ownerRecordId,
                                                userId: userId, date: record.date, values: record.values))
            }
            // Written even when other rows have problems (the transaction is rolled back then), so that the rows they
            // own resolve and only real mistakes are reported.
            try await transaction.upsertRecords(drafts)
            written[kind] = drafts.count
        }
        return written
    }
}

extension TenantTransaction {
    /// The tenant's users with these usernames (as written), with their customers.
    func usersByUsername(_ usernames: Set<String>) async throws -> [String: ParentIds] {
        struct Row: Codable { var id: Int64; var username: String; var customerId: Int64 }
        var found: [String: ParentIds] = [:]
        let names = Array(usernames)
        var start = 0
        while start < names.count {
            let part = Array(names[start..<min(names.count, start + 500)])
            for row in try await all(select(.users).column("id").column("username").column("customer_id").where("username", .in, part), as: Row.self) {
                found[row.username] = ParentIds(id: row.id, customerId: row.customerId)
            }
            start += 500
        }
        return found
    }
}

extension TenantTransaction {
    /// The id and status of the tenant's invoices with these external ids, in chunks of 500.
    func invoiceStatuses(externalIds: Set<String>) async throws -> [String: (id: Int64, status: InvoiceStatus)] {
        struct Row: Codable { var id: Int64; var externalId: String; var status: InvoiceStatus }
        var found: [String: (id: Int64, status: InvoiceStatus)] = [:]
        let ids = Array(externalIds)
        var start = 0
        while start < ids.count {
            let chunk = Array(ids[start..<min(ids.count, start + 500)])
            for row in try await all(select(.invoices).column("id").column("external_id").column("status").where("external_id", .in, chunk), as: Row.self) {
                found[row.externalId] = (row.id, row.status)
            }
            start += 500
        }
        return found
    }
}

/// A parent record's id and, for contracts and lines, its customer's id.
struct ParentIds: Sendable {
    var id: Int64
    var customerId: Int64?
}

extension TenantTransaction {
    /// Ids of the records of `table` with these external ids (the tenant's only), in chunks of 500.
    /// `payment_method_problem` of the customers with these external ids that have one.
    func paymentMethodProblems(externalIds: Set<String>) async throws -> [String: String] {
        var found: [String: String] = [:]
        let ids = Array(externalIds)
        var start = 0
        while start < ids.count {
            let chunk = Array(ids[start..<min(ids.count, start + 500)])
            for row in try await select(.customers).column("external_id").column("payment_method_problem")
                .where("external_id", .in, chunk).where("payment_method_problem", .isNot, SQLLiteral.null).all() {
                found[try row.decode(column: "external_id", as: String.self)] = try row.decode(column: "payment_method_problem", as: String.self)
            }
            start += 500
        }
        return found
    }

    func parentIds(_ table: StoredTable, externalIds: Set<String>) async throws -> [String: ParentIds] {
        var found: [String: ParentIds] = [:]
        let ids = Array(externalIds)
        let hasCustomer = table != .customers
        var start = 0
        while start < ids.count {
            let chunk = Array(ids[start..<min(ids.count, start + 500)])
            var builder = select(table).column("id").column("external_id").where("external_id", .in, chunk)
            if hasCustomer { builder = builder.column("customer_id") }
            for row in try await builder.all() {
                let externalId = try row.decode(column: "external_id", as: String.self)
                found[externalId] = ParentIds(id: try row.decode(column: "id", as: Int64.self),
                                              customerId: hasCustomer ? try row.decode(column: "customer_id", as: Int64.self) : nil)
            }
            start += 500
        }
        return found
    }
}
