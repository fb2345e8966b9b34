import Foundation
import SQLKit
import SportelloCore

// The values of a tenant's own customer and user fields. Values are stored in their canonical form
// (`FieldValue.stored`); an absent row is an empty field.

/// Whose field values: a customer's (`customer_fields:`) or a user's (`user_fields:`).
public enum CustomFieldOwner: Sendable, Hashable {
    case customer(Int64)
    case user(Int64)

    var table: StoredTable {
        switch self {
        case .customer: .customerFieldValues
        case .user: .userFieldValues
        }
    }

    var column: String {
        switch self {
        case .customer: "customer_id"
        case .user: "user_id"
        }
    }

    var id: Int64 {
        switch self {
        case .customer(let id), .user(let id): id
        }
    }
}

private struct CustomFieldRow: Codable {
    var field: String
    var value: String
}

extension TenantTransaction {
    /// The owner's stored values by field id.
    public func customFieldValues(of owner: CustomFieldOwner) async throws -> [String: String] {
        let rows = try await all(select(owner.table).column("field").column("value").where(owner.column, .equal, owner.id),
                                 as: CustomFieldRow.self)
        return Dictionary(rows.map { ($0.field, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    /// Stored values of many customers at once (lists and exports), by customer id then field id.
    public func customFieldValues(customers ids: [Int64]) async throws -> [Int64: [String: String]] {
        guard !ids.isEmpty else { return [:] }
        struct Row: Codable { var customerId: Int64; var field: String; var value: String }
        var result: [Int64: [String: String]] = [:]
        for row in try await all(select(.customerFieldValues).column("customer_id").column("field").column("value")
            .where("customer_id", .in, ids), as: Row.self) {
            result[row.customerId, default: [:]][row.field] = row.value
        }
        return result
    }

    /// Writes `values` for the owner: a value replaces the stored one, nil (or an empty text) removes it. Fields
    /// not named are left as they are.
    public func setCustomFieldValues(_ values: [String: String?], of owner: CustomFieldOwner) async throws {
        for (field, value) in values.sorted(by: { $0.key < $1.key }) {
            try await delete(owner.table).where(owner.column, .equal, owner.id).where("field", .equal, field).run()
            guard let value, !value.isEmpty else { continue }
            switch owner {
            case .customer(let id):
                _ = try await insert(.customerFieldValues, CustomerFieldValueRow(customerId: id, field: field, value: value))
            case .user(let id):
                _ = try await insert(.userFieldValues, UserFieldValueRow(userId: id, field: field, value: value))
            }
        }
        if case .user(let id) = owner { invalidate("user:\(id)") }
    }

    /// The customers whose field `field` holds exactly `value` (canonical form): how a flow finds the customer a
    /// person names by one of the provider's own identifiers.
    public func customers(withField field: String, equalTo value: String) async throws -> [Int64] {
        struct Row: Codable { var customerId: Int64 }
        return try await all(select(.customerFieldValues).column("customer_id").where("field", .equal, field).where("value", .equal, value)
            .orderBy("customer_id"), as: Row.self).map(\.customerId)
    }
}

private struct CustomerFieldValueRow: Codable {
    var customerId: Int64
    var field: String
    var value: String
}

private struct UserFieldValueRow: Codable {
    var userId: Int64
    var field: String
    var value: String
}
