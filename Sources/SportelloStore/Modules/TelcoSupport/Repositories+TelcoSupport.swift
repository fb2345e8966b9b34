import Foundation
import SQLKit
import SportelloCore

/// Usage of one kind on one line in a period (a billed report's row).
public struct LineUsageTotal: Sendable, Equatable {
    public var lineId: Int64
    public var kind: String
    public var count: Int
    public var durationSeconds: Int64
    public var volumeBytes: Int64
    public var costCents: Int64
}

// MARK: - Chat, line diagnoses and billed reports, fenced by tenant and by customer

extension TenantTransaction {
    @discardableResult
    public func insertChatMessage(_ message: ChatMessageRecord) async throws -> Int64 {
        try await insert(.chatMessages, message)
    }

    /// The newest `limit` messages of one user's conversation, oldest first.
    public func chatMessages(customerId: Int64, userId: Int64, limit: Int = 100) async throws -> [ChatMessageRecord] {
        let newest = try await all(select(.chatMessages).column("*").where("customer_id", .equal, customerId).where("user_id", .equal, userId)
            .orderBy("sent_at", .descending).orderBy("id", .descending).limit(limit), as: ChatMessageRecord.self)
        return newest.reversed()
    }

    /// The tenant's chat messages since `instant`, oldest first (the operators' desk: who waits for a reply).
    public func chatMessages(since instant: Int64) async throws -> [ChatMessageRecord] {
        try await all(select(.chatMessages).column("*").where("sent_at", .greaterThanOrEqual, instant)
            .orderBy("sent_at").orderBy("id"), as: ChatMessageRecord.self)
    }

    /// How many messages the user wrote since `instant` (the posting limit).
    public func chatMessagesSent(customerId: Int64, userId: Int64, since instant: Int64) async throws -> Int {
        try await count(select(.chatMessages).where("customer_id", .equal, customerId).where("user_id", .equal, userId)
            .where("author", .equal, "customer").where("sent_at", .greaterThanOrEqual, instant))
    }

    /// Marks the operators' replies to the user as read; returns how many were unread.
    @discardableResult
    public func markChatRead(customerId: Int64, userId: Int64) async throws -> Int {
        let unread = try await count(select(.chatMessages).where("customer_id", .equal, customerId).where("user_id", .equal, userId)
            .where("author", .notEqual, "customer").where("read_at", .is, SQLLiteral.null))
        if unread > 0 {
            try await update(.chatMessages).set("read_at", to: now).where("customer_id", .equal, customerId).where("user_id", .equal, userId)
                .where("author", .notEqual, "customer").where("read_at", .is, SQLLiteral.null).run()
        }
        return unread
    }

    @discardableResult
    public func insertLineDiagnosis(_ diagnosis: LineDiagnosisRecord) async throws -> Int64 {
        try await insert(.lineDiagnoses, diagnosis)
    }

    /// The customer's diagnoses of one line (or of all lines), newest first.
    public func lineDiagnoses(customerId: Int64, lineId: Int64? = nil, limit: Int = 20) async throws -> [LineDiagnosisRecord] {
        var builder = select(.lineDiagnoses).column("*").where("customer_id", .equal, customerId)
        if let lineId { builder = builder.where("line_id", .equal, lineId) }
        return try await all(builder.orderBy("run_at", .descending).orderBy("id", .descending).limit(limit), as: LineDiagnosisRecord.self)
    }

    /// One of the customer's diagnoses.
    public func lineDiagnosis(id: Int64, customerId: Int64) async throws -> LineDiagnosisRecord? {
        try await first(select(.lineDiagnoses).column("*").where("id", .equal, id).where("customer_id", .equal, customerId),
                        as: LineDiagnosisRecord.self)
    }

    /// Usage on one of the customer's lines since `instant`: how many events and the newest one's instant.
    public func recentTraffic(lineId: Int64, customerId: Int64, since instant: Int64) async throws -> (count: Int, last: Int64?) {
        let row = try await select(.usageRecords).column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .column(SQLFunction("MAX", args: SQLColumn("started_at")), as: "last")
            .where("line_id", .equal, lineId).where("customer_id", .equal, customerId)
            .where("started_at", .greaterThanOrEqual, instant).where("started_at", .lessThanOrEqual, now).first()
        return (try row?.decode(column: "n", as: Int.self) ?? 0, try row?.decode(column: "last", as: Int64?.self) ?? nil)
    }

    /// The customer's requests made through `forms` whose status is not one of `terminal`, newest first.
    public func openRequests(customerId: Int64, forms: [String], terminal: [String]) async throws -> [RequestRecord] {
        guard !forms.isEmpty else { return [] }
        var builder = select(.requests).column("*").where("customer_id", .equal, customerId).where("form", .in, forms)
        if !terminal.isEmpty { builder = builder.where("status", .notIn, terminal) }
        return try await all(builder.orderBy("created_at", .descending).orderBy("id", .descending), as: RequestRecord.self)
    }

    /// Usage per line and kind on the customer's `lineIds` in `[from, to)`: what an invoice period charged.
    public func billedUsage(lineIds: [Int64], customerId: Int64, from: Int64, to: Int64) async throws -> [LineUsageTotal] {
        guard !lineIds.isEmpty else { return [] }
        let rows = try await select(.usageRecords).column("line_id").column("kind")
            .column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .column(Self.sum("duration_seconds"), as: "duration")
            .column(Self.sum("volume_bytes"), as: "volume")
            .column(Self.sum("cost_cents"), as: "cost")
            .where("customer_id", .equal, customerId).where("line_id", .in, lineIds)
            .where("started_at", .greaterThanOrEqual, from).where("started_at", .lessThan, to)
            .groupBy("line_id").groupBy("kind").orderBy("line_id").orderBy("kind").all()
        return try rows.map { row in
            LineUsageTotal(lineId: try row.decode(column: "line_id", as: Int64.self), kind: try row.decode(column: "kind", as: String.self),
                           count: try row.decode(column: "n", as: Int.self),
                           durationSeconds: try row.decode(column: "duration", as: Int64.self),
                           volumeBytes: try row.decode(column: "volume", as: Int64.self),
                           costCents: try row.decode(column: "cost", as: Int64.self))
        }
    }

    /// The services (options) of several of the customer's lines.
    public func services(lineIds: [Int64]) async throws -> [ServiceRecord] {
        guard !lineIds.isEmpty else { return [] }
        return try await all(select(.services).column("*").where("line_id", .in, lineIds).orderBy("line_id").orderBy("name"),
                             as: ServiceRecord.self)
    }
}

extension TenantTransaction {
    /// Links the fault report opened from one of the customer's diagnoses.
    public func linkFaultReport(diagnosisId: Int64, customerId: Int64, requestId: Int64) async throws {
        try await update(.lineDiagnoses).set("fault_request_id", to: requestId).where("id", .equal, diagnosisId)
            .where("customer_id", .equal, customerId).run()
    }
}
