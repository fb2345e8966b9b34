import Foundation
import SQLKit
import SportelloCore

// MARK: - The tenant's catalogue (offers, promotions, products)

extension TenantTransaction {
    public func insertCatalogItem(_ item: CatalogItemRecord) async throws -> Int64 {
        try await insert(.catalogItems, item)
    }

    /// The items of `kind` on offer on `day` to a customer of `customerType`, in catalogue order.
    public func catalogItems(kind: String, availableOn day: String, to customerType: String) async throws -> [CatalogItemRecord] {
        try await all(select(.catalogItems).column("*").where("kind", .equal, kind).where("active", .equal, true)
            .where { $0.where("customer_type", .is, SQLLiteral.null).orWhere("customer_type", .equal, customerType) }
            .where { $0.where("valid_from", .is, SQLLiteral.null).orWhere("valid_from", .lessThanOrEqual, day) }
            .where { $0.where("valid_to", .is, SQLLiteral.null).orWhere("valid_to", .greaterThanOrEqual, day) }
            .orderBy("position").orderBy("id"), as: CatalogItemRecord.self)
    }

    /// One item by kind and code, whether or not it is still on offer.
    public func catalogItem(kind: String, code: String) async throws -> CatalogItemRecord? {
        try await first(select(.catalogItems).column("*").where("kind", .equal, kind).where("code", .equal, code),
                        as: CatalogItemRecord.self)
    }
}
