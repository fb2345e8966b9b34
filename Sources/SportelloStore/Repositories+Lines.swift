import Foundation
import SQLKit
import SportelloCore

// MARK: - Lines, their services and prepaid credit

extension TenantTransaction {
    /// One of the customer's lines; nil for another customer's.
    public func line(id: Int64, customerId: Int64) async throws -> LineRecord? {
        try await first(select(.lines).column("*").where("id", .equal, id).where("customer_id", .equal, customerId), as: LineRecord.self)
    }

    public func updateLine(_ line: LineRecord) async throws {
        guard let id = line.id else { throw StoreError(.invalidInput, "line without id") }
        try await update(.lines).set(model: line, with: .init(keyEncodingStrategy: .convertToSnakeCase, nilEncodingStrategy: .asNil))
            .where("id", .equal, id).where("customer_id", .equal, line.customerId).run()
    }

    /// Services (options) attached to one line.
    public func services(lineId: Int64) async throws -> [ServiceRecord] {
        try await all(select(.services).column("*").where("line_id", .equal, lineId).orderBy("name"), as: ServiceRecord.self)
    }

    public func updateService(_ service: ServiceRecord) async throws {
        guard let id = service.id else { throw StoreError(.invalidInput, "service without id") }
        try await update(.services).set(model: service, with: .init(keyEncodingStrategy: .convertToSnakeCase, nilEncodingStrategy: .asNil))
            .where("id", .equal, id).run()
    }

    /// Prepaid credit of a line: completed recharges minus charged usage, in cents.
    public func prepaidCredit(lineId: Int64, customerId: Int64) async throws -> (recharged: Int64, spent: Int64) {
        let recharged = try await select(.recharges).column(SQLRaw("CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT)"), as: "total")
            .where("line_id", .equal, lineId).where("customer_id", .equal, customerId).where("status", .equal, RechargeStatus.completed.rawValue).first()
        let spent = try await select(.usageRecords).column(SQLRaw("CAST(COALESCE(SUM(cost_cents), 0) AS BIGINT)"), as: "total")
            .where("line_id", .equal, lineId).where("customer_id", .equal, customerId).first()
        return (try recharged?.decode(column: "total", as: Int64.self) ?? 0, try spent?.decode(column: "total", as: Int64.self) ?? 0)
    }
}
