import Foundation
import SportelloCore

/// Which records of a kind a list, an export or an API call asks for, read from the query: the kind's `list.filters`
/// (`<field>` for enum, boolean and text fields, `<field>_from`/`<field>_to` for dates and numbers, each value read as
/// the field reads it), the owning record (`owner`), the page and, for the API, the page size. Every problem is
/// collected under the name of the input it belongs to.
struct RecordSelection: Sendable {
    static let ownerName = "owner"
    static let pageName = "page"
    static let limitName = "limit"
    static let formatName = "format"
    static let maximumLimit = 500
    static func fromName(_ field: String) -> String { "\(field)_from" }
    static func toName(_ field: String) -> String { "\(field)_to" }

    var filters: [RecordFilter] = []
    /// The record whose records are listed (`owner=`), not yet checked to be the customer's.
    var ownerId: Int64?
    /// From 1.
    var page = 1
    var limit: Int
    /// What was typed, by input name, to show in the form again.
    var entered: [String: String] = [:]
    var problems: [FieldProblem] = []

    /// Reads the selection of `kind` from `query` (a parameter's value by name).
    init(_ query: (String) -> String?, kind: RecordKindDefinition, context: FieldContext,
         text: (String, [String: String]) -> LocalizedText) {
        limit = kind.pageSize
        func value(_ name: String) -> String? {
            guard let raw = query(name)?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty else { return nil }
            entered[name] = raw
            return raw
        }
        for id in kind.listFilters {
            guard let field = kind.fields[id] else { continue }
            if field.type.isOrdered {
                let from = value(Self.fromName(id)), to = value(Self.toName(id))
                var failed = false
                for (name, bound) in [(Self.fromName(id), from), (Self.toName(id), to)] {
                    guard let bound else { continue }
                    let single = name == Self.fromName(id) ? kind.filter(id, from: bound, to: nil, in: context)
                                                           : kind.filter(id, from: nil, to: bound, in: context)
                    if case .failure(let found) = single {
                        failed = true
                        problems += found.problems.map { FieldProblem(field: name, code: $0.code, message: $0.message) }
                    }
                }
                if !failed, case .success(let filter?) = kind.filter(id, from: from, to: to, in: context) { filters.append(filter) }
            } else if let raw = value(id) {
                switch kind.filter(id, equals: raw, in: context) {
                case .success(let filter): if let filter { filters.append(filter) }
                case .failure(let found): problems += found.problems.map { FieldProblem(field: id, code: $0.code, message: $0.message) }
                }
            }
        }
        if let raw = value(Self.ownerName) {
            if let id = Int64(raw), id > 0 { ownerId = id } else {
                problems.append(FieldProblem(field: Self.ownerName, code: "invalid", message: text("records.error.owner", [:])))
            }
        }
        if let raw = value(Self.pageName) {
            if let number = Int(raw), number >= 1, number <= 1_000_000 { page = number } else {
                problems.append(FieldProblem(field: Self.pageName, code: "invalid", message: text("records.error.page", [:])))
            }
        }
        if let raw = value(Self.limitName) {
            if let number = Int(raw), (1...Self.maximumLimit).contains(number) { limit = number } else {
                problems.append(FieldProblem(field: Self.limitName, code: "invalid",
                                             message: text("records.error.limit", ["max": String(Self.maximumLimit)])))
            }
        }
    }

    /// The query items that select the same records (filters and owner; not the page), for links and export.
    func queryItems(adding extra: [(key: String, value: String)] = []) -> [(key: String, value: String)] {
        let kept = entered.filter { $0.key != Self.pageName && $0.key != Self.limitName && $0.key != Self.formatName }
        return kept.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) } + extra
    }
}
