import Foundation
import SQLKit
import SportelloCore

// MARK: - Giga Smart Share packages, devices, SIM codes

extension TenantTransaction {
    private static let productLineColumns = ["id", "customer_id", "contract_id", "kind", "identifier", "description", "status",
                                             "assigned_user_id", "iccid", "share_plan_id"]

    // MARK: Packages

    @discardableResult
    public func insertSharePlan(_ plan: SharePlanRecord) async throws -> Int64 {
        try await insert(.sharePlans, plan)
    }

    /// The customer's packages, oldest first.
    public func sharePlans(customerId: Int64) async throws -> [SharePlanRecord] {
        try await all(select(.sharePlans).column("*").where("customer_id", .equal, customerId).orderBy("id"), as: SharePlanRecord.self)
    }

    /// One of the customer's packages; nil for another customer's.
    public func sharePlan(id: Int64, customerId: Int64) async throws -> SharePlanRecord? {
        try await first(select(.sharePlans).column("*").where("id", .equal, id).where("customer_id", .equal, customerId),
                        as: SharePlanRecord.self)
    }

    public func updateSharePlan(_ plan: SharePlanRecord) async throws {
        guard let id = plan.id else { throw StoreError(.invalidInput, "package without id") }
        try await update(.sharePlans).set(model: plan, with: .init(keyEncodingStrategy: .convertToSnakeCase, nilEncodingStrategy: .asNil))
            .where("id", .equal, id).where("customer_id", .equal, plan.customerId).run()
    }

    // MARK: Lines with their product columns

    /// The customer's lines with card number and package (never PIN or PUK), in id order.
    public func productLines(customerId: Int64) async throws -> [ProductLineRecord] {
        try await all(select(.lines).columns(Self.productLineColumns).where("customer_id", .equal, customerId).orderBy("id"),
                      as: ProductLineRecord.self)
    }

    public func productLine(id: Int64, customerId: Int64) async throws -> ProductLineRecord? {
        try await first(select(.lines).columns(Self.productLineColumns).where("id", .equal, id).where("customer_id", .equal, customerId),
                        as: ProductLineRecord.self)
    }

    /// PIN and PUK of one of the customer's lines, in clear (they are stored sealed).
    public func simCodes(lineId: Int64, customerId: Int64) async throws -> SimCodes? {
        guard var codes = try await first(select(.lines).columns(["pin", "puk"]).where("id", .equal, lineId)
            .where("customer_id", .equal, customerId), as: SimCodes.self) else { return nil }
        codes.pin = try codes.pin.map { try sealer?.open($0) ?? $0 }
        codes.puk = try codes.puk.map { try sealer?.open($0) ?? $0 }
        return codes
    }

    /// Sets a SIM's card number and codes (provisioning, imports, demo data); PIN and PUK are stored sealed.
    public func setSimDetails(lineId: Int64, customerId: Int64, iccid: String?, pin: String?, puk: String?) async throws {
        let sealedPin = try pin.map { try sealer?.seal($0) ?? $0 }, sealedPuk = try puk.map { try sealer?.seal($0) ?? $0 }
        try await update(.lines).set("iccid", to: iccid).set("pin", to: sealedPin).set("puk", to: sealedPuk)
            .where("id", .equal, lineId).where("customer_id", .equal, customerId).run()
    }

    /// Puts a line in a package (nil: in none). A column, so a SIM is in at most one package.
    public func setSharePlan(lineId: Int64, customerId: Int64, sharePlanId: Int64?) async throws {
        try await update(.lines).set("share_plan_id", to: sharePlanId)
            .where("id", .equal, lineId).where("customer_id", .equal, customerId).run()
    }

    /// Data traffic (bytes) of each of `lineIds` since `since` (Unix seconds); lines without traffic are absent.
    public func dataBytes(lineIds: [Int64], customerId: Int64, since: Int64) async throws -> [Int64: Int64] {
        guard !lineIds.isEmpty else { return [:] }
        let rows = try await select(.usageRecords).column("line_id")
            .column(SQLRaw("CAST(COALESCE(SUM(volume_bytes), 0) AS BIGINT)"), as: "bytes")
            .where("customer_id", .equal, customerId).where("line_id", .in, lineIds).where("kind", .equal, "data")
            .where("started_at", .greaterThanOrEqual, since).groupBy("line_id").all()
        var result: [Int64: Int64] = [:]
        for row in rows { result[try row.decode(column: "line_id", as: Int64.self)] = try row.decode(column: "bytes", as: Int64.self) }
        return result
    }

    // MARK: Devices

    @discardableResult
    public func insertDevice(_ device: DeviceRecord) async throws -> Int64 {
        try await insert(.devices, device)
    }

    /// The customer's devices, newest purchase first.
    public func devices(customerId: Int64) async throws -> [DeviceRecord] {
        try await all(select(.devices).column("*").where("customer_id", .equal, customerId)
            .orderBy("purchased_on", .descending).orderBy("id"), as: DeviceRecord.self)
    }

    public func device(id: Int64, customerId: Int64) async throws -> DeviceRecord? {
        try await first(select(.devices).column("*").where("id", .equal, id).where("customer_id", .equal, customerId), as: DeviceRecord.self)
    }
}
