import Foundation
import SportelloCore

// Demo records of the tenant's own kinds: for every demo customer a few records of each kind owned by the
// customer, and under each of them records of the kinds they own, with values that pass their fields' validators.

extension DemoDataGenerator {
    /// Records of every kind for one demo customer, owners first. Kinds with a `date` get records spread over the
    /// last twelve months (children month by month), so lists page and charts have data; records are assigned to
    /// the customer's users in turn (children to their owner's user), so the `own` scope shows some.
    func fillTenantRecords(_ account: DemoAccount, random: inout SplitMix64, in transaction: TenantTransaction) async throws {
        let kinds = tenant.recordKinds
        guard !kinds.isEmpty else { return }
        let today = CalendarDay(instant: now)
        var written: [String: [(id: Int64, userId: Int64?)]] = [:]
        var assigned = 0
        for kindID in tenant.recordKindsOwnersFirst {
            guard let kind = kinds[kindID] else { continue }
            let owners: [(id: Int64, userId: Int64?)?]
            if let ownerKind = kind.ownerKind {
                owners = (written[ownerKind] ?? []).map { $0 }
            } else {
                owners = [nil]
            }
            var drafts: [TenantRecordDraft] = []
            var used = Set<String>()
            for owner in owners {
                let count = owner == nil ? (kind.date == nil ? 2 + Int(random.next() % 2) : 4 + Int(random.next() % 4))
                                         : 3 + Int(random.next() % 4)
                for index in 0..<count {
                    var values: [String: FieldValue] = [:]
                    for (fieldID, field) in kind.fields where fieldID != kind.externalId {
                        if let value = field.demoValue(today: today, random: &random) { values[fieldID] = value }
                    }
                    if let dateField = kind.date, let field = kind.fields[dateField] {
                        let months = owner == nil ? index * 12 / count : index
                        let day = today.adding(days: -Int(random.next() % 27), months: -months)
                        let context = FieldContext(locale: "en", defaultLocale: "en", today: today)
                        if case .success(let value?) = field.validate(day.description, field: dateField, in: context) { values[dateField] = value }
                    }
                    guard let identifier = try await uniqueDemoIdentifier(kindID, kind, today: today, used: &used, random: &random, in: transaction)
                    else { continue }
                    values[kind.externalId] = identifier
                    let userId: Int64?
                    if let owner {
                        userId = owner.userId
                    } else if account.users.isEmpty {
                        userId = nil
                    } else {
                        userId = account.users[assigned % account.users.count]
                        assigned += 1
                    }
                    if let draft = TenantRecordDraft(kind: kindID, of: kind, values: values, customerId: account.customerId,
                                                     ownerRecordId: owner?.id, userId: userId) {
                        drafts.append(draft)
                    }
                }
            }
            let ids = try await transaction.upsertRecords(drafts)
            written[kindID] = zip(ids, drafts).map { ($0, $1.userId) }
        }
    }

    /// A value of the kind's external id no record of the kind has yet: made without the field's examples first
    /// (they are few, and shared by every customer), then with them; nil when none is free after a few tries.
    private func uniqueDemoIdentifier(_ kindID: String, _ kind: RecordKindDefinition, today: CalendarDay, used: inout Set<String>,
                                      random: inout SplitMix64, in transaction: TenantTransaction) async throws -> FieldValue? {
        guard let field = kind.fields[kind.externalId] else { return nil }
        var generated = field
        generated.examples = nil
        for attempt in 0..<24 {
            guard let value = (attempt < 16 ? generated.demoValue(today: today, random: &random) : nil)
                    ?? field.demoValue(today: today, random: &random) else { return nil }
            let text = value.canonical
            guard !text.isEmpty, !used.contains(text) else { continue }
            if try await transaction.recordReferences(kind: kindID, externalIds: [text]).isEmpty {
                used.insert(text)
                return value
            }
        }
        return nil
    }
}
