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
        let fileKind = kind ?? ImportKind(name: URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent)
        guard let format = format ?? ImportFormat(path: path) else {
            throw StoreError(.invalidInput, "\(path): unknown format (name the file .jsonl or .csv, or pass --format)")
        }
        return try await importData(data, format: format, kind: fileKind, now: now)
    }

    public func importData(_ data: Data, format: ImportFormat, kind: ImportKind?,
                           now: Int64 = Int64(Date().timeIntervalSince1970)) async throws -> ImportReport {
        let parsed = ImportParser.parse(data, format: format, kind: kind)
        let mapped = ImportMapper(tenant: tenant, now: now).map(parsed.rows)
        let problems = parsed.problems + mapped.problems
        guard problems.isEmpty else { throw ImportRejected(problems: problems.sorted { $0.line < $1.line }) }
        let batch = mapped.batch
        return try await database.write(tenant: tenant.id, now: now) { transaction in
            try await Self.apply(batch, in: transaction)
        }
    }

    /// Resolves references kind by kind (from this file or the database) and upserts; throws with every
    /// unresolved reference, which rolls the whole transaction back.
    static func apply(_ batch: ImportBatch, in transaction: TenantTransaction) async throws -> ImportReport {
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

        try await transaction.insertMany(.customers, batch.customers.map(\.record), upsertOn: key)
        written[.customer] = batch.customers.count

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
            return record
        }, upsertOn: key)
        written[.invoice] = batch.invoices.count

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
        try await transaction.insertMany(.usageRecords, batch.usage.compactMap { item -> UsageRecord? in
            guard let parent = linesForUsage[item.references[.line] ?? ""] else { return nil }
            var record = item.record
            record.lineId = parent.id
            record.customerId = parent.customerId ?? 0
            return record
        }, upsertOn: key)
        written[.usage] = batch.usage.count

        let linesForRecharges = try await resolve(batch.recharges, .line, table: .lines)
        try await transaction.insertMany(.recharges, batch.recharges.compactMap { item -> RechargeRecord? in
            guard let parent = linesForRecharges[item.references[.line] ?? ""] else { return nil }
            var record = item.record
            record.lineId = parent.id
            record.customerId = parent.customerId ?? 0
            return record
        }, upsertOn: key)
        written[.recharge] = batch.recharges.count

        guard problems.isEmpty else { throw ImportRejected(problems: problems.sorted { $0.line < $1.line }) }
        return ImportReport(written: written)
    }
}

/// A parent record's id and, for contracts and lines, its customer's id.
struct ParentIds: Sendable {
    var id: Int64
    var customerId: Int64?
}

extension TenantTransaction {
    /// Ids of the records of `table` with these external ids (the tenant's only), in chunks of 500.
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
