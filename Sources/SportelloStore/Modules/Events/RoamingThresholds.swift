import Foundation
import SQLKit
import SportelloCore

/// The data the SIMs used abroad this month, measured before usage arriving is written and compared after, against
/// each line's roaming data threshold (WINDTRE's "soglia dati all'estero": an SMS at 80 % and 100 % of the threshold,
/// then of each of the two further unlocks — six in all, to the referent and to the line).
///
/// Which rule: the tenant's notification rule with `thresholds` whose `recipients` name `line` (a rule about a line's
/// own consumption). A line takes part when the provider's system gave it a threshold (`roaming_data_threshold_mb` on
/// import); usage counts when it is marked `roaming`. Block `u` (0: the threshold, 1 and 2: the unlocks) spans
/// `u × threshold … (u + 1) × threshold` of the month's roaming data, and a level is crossed when the consumption goes
/// from below `u × threshold + level % × threshold` to at or above it.
public struct RoamingThresholdWatch: Sendable {
    /// The threshold, then each further unlock.
    public static let unlocks = 2

    struct Line: Sendable {
        var line: LineRecord
        var usedBytes: Int64
    }

    let ruleId: String
    let levels: [Int]
    let monthStart: Int64
    let month: String
    let lines: [Int64: Line]

    /// The rule about a line's roaming data, if the tenant has one.
    public static func roamingRule(in tenant: TenantDefinition) -> (id: String, thresholds: [Int])? {
        for (id, rule) in tenant.notifications ?? OrderedMap() {
            if let thresholds = rule.thresholds, !thresholds.isEmpty, (rule.recipients ?? []).contains("line") {
                return (id, thresholds)
            }
        }
        return nil
    }

    /// The levels `before` → `after` bytes went past, as (unlock, level), for a line whose threshold is `threshold`.
    static func crossings(from before: Int64, to after: Int64, threshold: Int64, levels: [Int]) -> [(unlock: Int, level: Int)] {
        guard threshold > 0, after > before else { return [] }
        var crossed: [(Int, Int)] = []
        for unlock in 0...unlocks {
            for level in Set(levels).sorted() where (1...100).contains(level) {
                let mark = threshold * Int64(100 * unlock + level)
                if before * 100 < mark && after * 100 >= mark { crossed.append((unlock, level)) }
            }
        }
        return crossed
    }
}

extension TenantTransaction {
    /// Measures the roaming data of `lineIds` (lines receiving roaming data usage) before the usage is written; nil when
    /// nothing can cross (no events recorded, no roaming rule, no such line with a threshold).
    public func watchRoamingThresholds(of tenant: TenantDefinition, lineIds: Set<Int64>) async throws -> RoamingThresholdWatch? {
        guard recordsEvents, !lineIds.isEmpty, let rule = RoamingThresholdWatch.roamingRule(in: tenant) else { return nil }
        let today = CalendarDay(instant: now)
        let monthStart = CalendarDay(year: today.year, month: today.month, day: 1).startInstant
        var lines: [Int64: RoamingThresholdWatch.Line] = [:]
        let ids = Array(lineIds)
        var start = 0
        while start < ids.count {
            let part = Array(ids[start..<min(ids.count, start + 500)])
            let found = try await all(select(.lines).column("*").where("id", .in, part)
                .where("roaming_data_threshold_bytes", .isNot, SQLLiteral.null), as: LineRecord.self)
            let used = try await roamingDataBytes(lineIds: found.compactMap(\.id), since: monthStart)
            for line in found { if let id = line.id { lines[id] = .init(line: line, usedBytes: used[id] ?? 0) } }
            start += 500
        }
        guard !lines.isEmpty else { return nil }
        return RoamingThresholdWatch(ruleId: rule.id, levels: rule.thresholds, monthStart: monthStart,
                                     month: SharePlanRecord.month(of: today), lines: lines)
    }

    /// After the usage is written: records `usage.threshold_crossed` (scope `line`) for each line, unlock and level its
    /// roaming data went past; returns the events' count.
    @discardableResult
    public func recordCrossedRoamingThresholds(_ watch: RoamingThresholdWatch) async throws -> Int {
        let used = try await roamingDataBytes(lineIds: Array(watch.lines.keys), since: watch.monthStart)
        var drafts: [EventDraft] = []
        var referents: [Int64: String] = [:]
        for (id, entry) in watch.lines.sorted(by: { $0.key < $1.key }) {
            let line = entry.line
            guard let threshold = line.roamingDataThresholdBytes else { continue }
            let after = used[id] ?? 0
            let crossed = RoamingThresholdWatch.crossings(from: entry.usedBytes, to: after, threshold: threshold, levels: watch.levels)
            guard !crossed.isEmpty else { continue }
            if referents[line.customerId] == nil {
                let customer = try await customer(id: line.customerId)
                referents[line.customerId] = customer?.mobile ?? customer?.phone ?? ""
            }
            for (unlock, level) in crossed {
                var facts: [String: EventFact] = [
                    "rule": .string(watch.ruleId), "level": .integer(Int64(level)), "rule_level": .bool(true), "scope": "line",
                    "unlock": .integer(Int64(unlock)), "line_id": .integer(id), "line_phone": .string(line.identifier),
                    "used_bytes": .integer(after), "allowance_bytes": .integer(threshold), "month": .string(watch.month),
                    "user_ids": .integers(line.assignedUserId.map { [$0] } ?? []),
                ]
                if let referent = referents[line.customerId], !referent.isEmpty { facts["referent_phone"] = .string(referent) }
                drafts.append(EventDraft(.usageThresholdCrossed, customerId: line.customerId, subject: "line", id: id, facts: facts))
            }
        }
        try await recordEvents(drafts)
        return drafts.count
    }

    /// Data used abroad since `since`, per line.
    func roamingDataBytes(lineIds: [Int64], since: Int64) async throws -> [Int64: Int64] {
        guard !lineIds.isEmpty else { return [:] }
        let rows = try await select(.usageRecords).column("line_id")
            .column(SQLRaw("CAST(COALESCE(SUM(volume_bytes), 0) AS BIGINT)"), as: "bytes")
            .where("line_id", .in, lineIds).where("kind", .equal, "data").where("roaming", .equal, SQLLiteral.boolean(true))
            .where("started_at", .greaterThanOrEqual, since).groupBy("line_id").all()
        var result: [Int64: Int64] = [:]
        for row in rows { result[try row.decode(column: "line_id", as: Int64.self)] = try row.decode(column: "bytes", as: Int64.self) }
        return result
    }
}
