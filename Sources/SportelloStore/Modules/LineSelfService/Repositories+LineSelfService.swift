import Foundation
import SQLKit
import SportelloCore

// MARK: - Line activations ("Attivazione linee", "Tienimi Aggiornato")

/// Who hears about an activation's progress, and how the e-mail is written: the store knows the users and
/// their saved choices; the caller (web layer, import) knows the roles and the mail templates.
public struct LineActivationSubscription: Sendable {
    /// The notification rule the "keep me updated" switch stores (WINDTRE: `fixed_line_activation`).
    public var rule: String
    /// Whether the rule is on for a user who never chose (the YAML `default:`).
    public var defaultEnabled: Bool
    /// Whether the user's role lets them see activations at all.
    public var mayReceive: @Sendable (UserRecord) -> Bool
    /// The e-mail for one subscriber about the activation as it now stands.
    public var compose: @Sendable (LineActivationRecord, UserRecord) throws -> OutboxRecord

    public init(rule: String, defaultEnabled: Bool, mayReceive: @escaping @Sendable (UserRecord) -> Bool,
                compose: @escaping @Sendable (LineActivationRecord, UserRecord) throws -> OutboxRecord) {
        self.rule = rule; self.defaultEnabled = defaultEnabled; self.mayReceive = mayReceive; self.compose = compose
    }
}

/// What `advanceLineActivation` did.
public struct LineActivationChange: Sendable {
    public var before: LineActivationRecord
    public var after: LineActivationRecord
    /// The ids of the users an e-mail was queued for.
    public var notifiedUserIds: [Int64]
    public var changed: Bool { before.stage != after.stage || before.progress != after.progress || before.expectedOn != after.expectedOn }
}

extension TenantTransaction {
    @discardableResult
    public func insertLineActivation(_ activation: LineActivationRecord) async throws -> Int64 {
        try await insert(.lineActivations, activation)
    }

    /// The customer's activations, oldest request first; only those still in progress unless `includeFinished`.
    public func lineActivations(customerId: Int64, includeFinished: Bool = false) async throws -> [LineActivationRecord] {
        var builder = select(.lineActivations).column("*").where("customer_id", .equal, customerId)
        if !includeFinished { builder = builder.where("status", .equal, LineActivationStatus.inProgress.rawValue) }
        return try await all(builder.orderBy("requested_on").orderBy("id"), as: LineActivationRecord.self)
    }

    /// One activation of the tenant; with `customerId`, only if it is that customer's.
    public func lineActivation(id: Int64, customerId: Int64? = nil) async throws -> LineActivationRecord? {
        var builder = select(.lineActivations).column("*").where("id", .equal, id)
        if let customerId { builder = builder.where("customer_id", .equal, customerId) }
        return try await first(builder, as: LineActivationRecord.self)
    }

    public func lineActivation(externalId: String) async throws -> LineActivationRecord? {
        try await first(select(.lineActivations).column("*").where("external_id", .equal, externalId), as: LineActivationRecord.self)
    }

    /// Records an activation's progress, as staff or an import from the provider's systems report it. The
    /// stage's usual percentage applies when `progress` is nil; `completed` is 100 % and takes the activation
    /// off the page. When the stage or the percentage changed, every user of the customer who may see
    /// activations and keeps the e-mail channel of `subscription.rule` on gets an e-mail queued in this
    /// transaction (sent only if it commits). Throws `invalid_input` for a bad percentage or date, `not_found`
    /// for an unknown activation and `conflict` for one already completed or cancelled.
    @discardableResult
    public func advanceLineActivation(id: Int64, stage: LineActivationStage, progress: Int64? = nil, expectedOn: String? = nil,
                                      actorUserId: Int64? = nil, subscription: LineActivationSubscription?) async throws -> LineActivationChange {
        guard let before = try await lineActivation(id: id) else { throw StoreError(.notFound, "no line activation \(id)") }
        guard before.status == .inProgress else { throw StoreError(.conflict, "line activation \(id) is already \(before.status.rawValue)") }
        var after = before
        let percent = stage == .completed ? 100 : (progress ?? (stage == .cancelled ? before.progress : stage.typicalProgress))
        guard (0...100).contains(percent) else { throw StoreError(.invalidInput, "progress must be between 0 and 100, not \(percent)") }
        if let expectedOn {
            guard CalendarDay(expectedOn) != nil else { throw StoreError(.invalidInput, "expected date '\(expectedOn)' is not YYYY-MM-DD") }
            after.expectedOn = expectedOn
        }
        after.stage = stage.rawValue
        after.progress = percent
        after.updatedAt = now
        switch stage {
        case .completed: after.status = .completed; after.completedOn = CalendarDay(instant: now).description
        case .cancelled: after.status = .cancelled
        default: break
        }
        var change = LineActivationChange(before: before, after: after, notifiedUserIds: [])
        guard change.changed || after.status != before.status else { return change }
        try await update(.lineActivations).set(model: after, with: .init(keyEncodingStrategy: .convertToSnakeCase, nilEncodingStrategy: .asNil))
            .where("id", .equal, id).where("customer_id", .equal, before.customerId).run()
        try await audit("line_activation.progress", actorUserId: actorUserId, targetKind: "line_activation", targetId: String(id),
                        detail: "\(before.stage) \(before.progress)% -> \(after.stage) \(after.progress)%")
        let progressed = before.stage != after.stage || before.progress != after.progress
        if progressed || after.status != before.status {
            try await recordEvent(.lineActivationStageReached(before: before, after: after, actorUserId: actorUserId))
        }
        if progressed, let subscription {
            for user in try await activationSubscribers(customerId: before.customerId, subscription: subscription) {
                _ = try await enqueueMail(try subscription.compose(after, user))
                if let userId = user.id { change.notifiedUserIds.append(userId) }
            }
        }
        return change
    }

    /// The customer's active users with an e-mail address who may see activations and keep the rule's
    /// e-mail channel on (their saved choice, else the rule's default).
    public func activationSubscribers(customerId: Int64, subscription: LineActivationSubscription) async throws -> [UserRecord] {
        let users = try await users(customerId: customerId)
            .filter { $0.status == .active && !($0.email ?? "").isEmpty && subscription.mayReceive($0) }
        let ids = users.compactMap(\.id)
        guard !ids.isEmpty else { return [] }
        let saved = try await all(select(.notificationPreferences).column("*").where("rule", .equal, subscription.rule)
            .where("channel", .equal, "email").where("user_id", .in, ids), as: NotificationPreferenceRecord.self)
        let choice = Dictionary(saved.map { ($0.userId, $0.enabled) }, uniquingKeysWith: { first, _ in first })
        return users.filter { choice[$0.id ?? 0] ?? subscription.defaultEnabled }
    }
}

// MARK: - SIM association with employees

extension TenantTransaction {
    @discardableResult
    public func insertSIMAssignment(_ assignment: SIMAssignmentRecord) async throws -> Int64 {
        try await insert(.simAssignments, assignment)
    }

    /// The customer's association history, newest first; one SIM's only with `lineId`.
    public func simAssignments(customerId: Int64, lineId: Int64? = nil, limit: Int = 200) async throws -> [SIMAssignmentRecord] {
        var builder = select(.simAssignments).column("*").where("customer_id", .equal, customerId)
        if let lineId { builder = builder.where("line_id", .equal, lineId) }
        return try await all(builder.orderBy("at", .descending).orderBy("id", .descending).limit(limit), as: SIMAssignmentRecord.self)
    }

    /// Associates one of the customer's SIMs with an employee (a user of the same customer), or dissociates
    /// it when `userId` is nil, recording each change in the history and the audit log. Returns false when
    /// nothing changed. Throws `not_found` for another customer's SIM or user.
    @discardableResult
    public func assignSIM(lineId: Int64, customerId: Int64, to userId: Int64?, actorUserId: Int64? = nil,
                          note: String? = nil) async throws -> Bool {
        guard var line = try await line(id: lineId, customerId: customerId), line.kind == "sim" else {
            throw StoreError(.notFound, "no SIM \(lineId) for customer \(customerId)")
        }
        var newUser: UserRecord?
        if let userId {
            guard let user = try await user(id: userId, customerId: customerId) else { throw StoreError(.notFound, "no user \(userId) for customer \(customerId)") }
            newUser = user
        }
        guard line.assignedUserId != userId else { return false }
        func name(_ user: UserRecord) -> String {
            [user.firstName, user.lastName].compactMap { $0 }.joined(separator: " ").nonEmptyName ?? user.username
        }
        if let previous = line.assignedUserId {
            let old = try await user(id: previous, customerId: customerId)
            try await insertSIMAssignment(SIMAssignmentRecord(customerId: customerId, lineId: lineId, userId: previous,
                                                              userName: old.map(name) ?? "#\(previous)", action: "dissociated", at: now,
                                                              actorUserId: actorUserId, note: note))
        }
        if let newUser {
            try await insertSIMAssignment(SIMAssignmentRecord(customerId: customerId, lineId: lineId, userId: newUser.id,
                                                              userName: name(newUser), action: "associated", at: now,
                                                              actorUserId: actorUserId, note: note))
        }
        line.assignedUserId = userId
        try await updateLine(line)
        try await audit(userId == nil ? "sim.dissociated" : "sim.associated", actorUserId: actorUserId, targetKind: "line",
                        targetId: String(lineId), detail: userId.map { "user \($0)" })
        return true
    }
}

// MARK: - Automatic recharges

extension TenantTransaction {
    @discardableResult
    public func insertAutomaticRecharge(_ recharge: AutomaticRechargeRecord) async throws -> Int64 {
        try await insert(.automaticRecharges, recharge)
    }

    /// The customer's automatic recharges, newest first; cancelled ones only with `includeCancelled`.
    public func automaticRecharges(customerId: Int64, includeCancelled: Bool = false) async throws -> [AutomaticRechargeRecord] {
        var builder = select(.automaticRecharges).column("*").where("customer_id", .equal, customerId)
        if !includeCancelled { builder = builder.where("status", .notEqual, AutomaticRechargeStatus.cancelled.rawValue) }
        return try await all(builder.orderBy("created_at", .descending).orderBy("id", .descending), as: AutomaticRechargeRecord.self)
    }

    public func automaticRecharge(id: Int64, customerId: Int64) async throws -> AutomaticRechargeRecord? {
        try await first(select(.automaticRecharges).column("*").where("id", .equal, id).where("customer_id", .equal, customerId),
                        as: AutomaticRechargeRecord.self)
    }

    /// The line's automatic recharge that is not cancelled (a SIM has at most one), if any.
    public func liveAutomaticRecharge(lineId: Int64, customerId: Int64) async throws -> AutomaticRechargeRecord? {
        try await first(select(.automaticRecharges).column("*").where("line_id", .equal, lineId).where("customer_id", .equal, customerId)
            .where("status", .notEqual, AutomaticRechargeStatus.cancelled.rawValue).orderBy("id", .descending), as: AutomaticRechargeRecord.self)
    }

    public func updateAutomaticRecharge(_ recharge: AutomaticRechargeRecord) async throws {
        guard let id = recharge.id else { throw StoreError(.invalidInput, "automatic recharge without id") }
        try await update(.automaticRecharges).set(model: recharge, with: .init(keyEncodingStrategy: .convertToSnakeCase, nilEncodingStrategy: .asNil))
            .where("id", .equal, id).where("customer_id", .equal, recharge.customerId).run()
    }
}

private extension String {
    var nonEmptyName: String? { trimmingCharacters(in: .whitespaces).isEmpty ? nil : self }
}
