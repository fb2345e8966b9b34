import Foundation
import SQLKit
import SportelloCore

/// The consumption of the data packages (WINDTRE's Giga Share) that usage arriving may take past a warning level,
/// measured before the usage is written and compared after (`usage.threshold_crossed`).
///
/// Which rule: a notification rule of the tenant with `thresholds` whose `recipients` name `package_referent` (a rule
/// about a package's consumption). Its levels are the rule's `thresholds` plus each of the customer's users' own
/// warning level saved for the rule (`notification_preferences.threshold`). Consumption is the data traffic of the
/// package's lines since the first of the month against the month's Giga (allowance plus extra Giga of that month).
/// The roaming data threshold of a line is `RoamingThresholdWatch`'s.
public struct UsageThresholdWatch: Sendable {
    /// A package's consumption before the usage arrived.
    struct Package: Sendable {
        var plan: SharePlanRecord
        var lineIds: [Int64]
        var usedBytes: Int64
    }

    let ruleId: String
    let levels: [Int]
    let monthStart: Int64
    let month: String
    let packages: [Int64: Package]

    /// The rule about package consumption, if the tenant has one.
    public static func packageRule(in tenant: TenantDefinition) -> (id: String, thresholds: [Int])? {
        for (id, rule) in tenant.notifications ?? OrderedMap() {
            if let thresholds = rule.thresholds, !thresholds.isEmpty, (rule.recipients ?? []).contains("package_referent") {
                return (id, thresholds)
            }
        }
        return nil
    }
}

extension TenantTransaction {
    /// Measures the packages of `lineIds` (lines receiving data usage) before the usage is written; nil when nothing
    /// can cross (no events recorded, no package rule, no line in a package, no data packages in this database).
    public func watchUsageThresholds(of tenant: TenantDefinition, lineIds: Set<Int64>) async throws -> UsageThresholdWatch? {
        guard recordsEvents, !lineIds.isEmpty, schema.modules.contains(where: { $0.id == StorageModule.lineProducts.id }),
              let rule = UsageThresholdWatch.packageRule(in: tenant) else { return nil }
        struct LineRow: Codable { var id: Int64; var sharePlanId: Int64? }
        var planIds = Set<Int64>()
        let ids = Array(lineIds)
        var start = 0
        while start < ids.count {
            let part = Array(ids[start..<min(ids.count, start + 500)])
            for row in try await all(select(.lines).column("id").column("share_plan_id").where("id", .in, part), as: LineRow.self) {
                if let plan = row.sharePlanId { planIds.insert(plan) }
            }
            start += 500
        }
        guard !planIds.isEmpty else { return nil }
        let today = CalendarDay(instant: now)
        let monthStart = CalendarDay(year: today.year, month: today.month, day: 1).startInstant
        var packages: [Int64: UsageThresholdWatch.Package] = [:]
        let plans = try await all(select(.sharePlans).column("*").where("id", .in, Array(planIds)), as: SharePlanRecord.self)
        for plan in plans where plan.status == .active {
            guard let id = plan.id else { continue }
            let lines = try await all(select(.lines).column("id").column("share_plan_id").where("share_plan_id", .equal, id)
                .where("customer_id", .equal, plan.customerId), as: LineRow.self).map(\.id)
            let used = try await dataBytes(lineIds: lines, customerId: plan.customerId, since: monthStart).values.reduce(0, +)
            packages[id] = .init(plan: plan, lineIds: lines, usedBytes: used)
        }
        guard !packages.isEmpty else { return nil }
        return UsageThresholdWatch(ruleId: rule.id, levels: rule.thresholds, monthStart: monthStart,
                                   month: SharePlanRecord.month(of: today), packages: packages)
    }

    /// After the usage is written: records `usage.threshold_crossed` for each package and level its consumption went
    /// past (from below the level to at or above it); returns the events' count.
    @discardableResult
    public func recordCrossedUsageThresholds(_ watch: UsageThresholdWatch) async throws -> Int {
        var drafts: [EventDraft] = []
        for (id, package) in watch.packages.sorted(by: { $0.key < $1.key }) {
            let plan = package.plan
            let allowance = plan.totalGiga(in: watch.month) * SharePlanRules.bytesPerGiga
            guard allowance > 0 else { continue }
            let used = try await dataBytes(lineIds: package.lineIds, customerId: plan.customerId, since: watch.monthStart).values.reduce(0, +)
            guard used > package.usedBytes else { continue }
            // Each user's own warning level for the rule (the first level, adjustable on the notifications page).
            let users = try await users(customerId: plan.customerId).compactMap(\.id)
            var personal: [Int: [Int64]] = [:]
            if !users.isEmpty {
                let saved = try await all(select(.notificationPreferences).column("*").where("rule", .equal, watch.ruleId)
                    .where("user_id", .in, users).where("threshold", .isNot, SQLLiteral.null), as: NotificationPreferenceRecord.self)
                for preference in saved {
                    guard let level = preference.threshold.map(Int.init), (1...100).contains(level) else { continue }
                    if !(personal[level] ?? []).contains(preference.userId) { personal[level, default: []].append(preference.userId) }
                }
            }
            for level in Set(watch.levels).union(personal.keys).sorted() {
                let mark = allowance * Int64(level)
                guard package.usedBytes * 100 < mark, used * 100 >= mark else { continue }
                drafts.append(EventDraft(.usageThresholdCrossed, customerId: plan.customerId, subject: "share_plan", id: id, facts: [
                    "rule": .string(watch.ruleId), "level": .integer(Int64(level)), "rule_level": .bool(watch.levels.contains(level)),
                    "user_ids": .integers((personal[level] ?? []).sorted()), "share_plan_id": .integer(id), "code": .string(plan.code),
                    "used_bytes": .integer(used), "allowance_bytes": .integer(allowance), "month": .string(watch.month),
                    "referent_phone": .string(plan.referentPhone),
                ]))
            }
        }
        try await recordEvents(drafts)
        return drafts.count
    }
}
