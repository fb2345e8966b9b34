import Foundation
import Hummingbird
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

// A module written outside the portal's sources, in one folder: loyalty points per customer. It proves that a
// module is one value (pages, routes, API operations and schemas, storage with its table, schema step and demo
// data) and one entry in a list of modules (`LoyaltyModuleTests` serves a tenant with `PortalModules.all + [.loyalty]`).

extension StoredTable {
    static let loyaltyPoints = StoredTable("loyalty_points")
}

/// One customer's points balance.
struct LoyaltyPointsRow: Codable {
    var customerId: Int64
    var points: Int64

    enum CodingKeys: String, CodingKey { case customerId = "customer_id", points }
}

extension StorageModule {
    static let loyalty = StorageModule("loyalty", tables: [.loyaltyPoints],
        migrations: [.adding(id: "9001_loyalty_points", tables: [
            TableSpec(table: .loyaltyPoints, columns: [req("customer_id", .integer, references: .customers), req("points", .integer)],
                      uniques: [["tenant_id", "customer_id"]]),
        ])],
        fill: { _ in { account, random, transaction in
            try await transaction.insert(.loyaltyPoints, LoyaltyPointsRow(customerId: account.customerId, points: Int64(100 + random.next() % 900)))
        } })
}

struct LoyaltyController: ModuleController {
    let services: PortalServices

    static let page = PortalPage(path: "/loyalty", titleKey: "loyalty.title", features: ["loyalty.view"])

    static let apiOperations: [APIOperation] = [
        APIOperation("GET", "/loyalty", summary: "The customer's loyalty points", feature: "loyalty.view", success: (200, "LoyaltyBalance")),
    ]
    static let apiSchemas: [String: JSONSchema] = ["LoyaltyBalance": .object(["points": .integer], required: ["points"])]

    func addRoutes(to group: RouterGroup<UserContext>) {
        group.get("/loyalty") { _, context in
            try context.require(page: Self.page)
            let points = try await balance(context)
            return Pages.htmlResponse("<!doctype html><title>\(HTMLEscaping.escape(context.tenant.title(of: Self.page, locale: context.locale)))</title><p id=points>\(points)</p>")
        }
        group.get("/api/v1/loyalty") { _, context in
            try context.require("loyalty.view")
            let body = try JSONSerialization.data(withJSONObject: ["points": try await balance(context)])
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
    }

    private func balance(_ context: UserContext) async throws -> Int64 {
        let customerId = context.customer.id ?? 0
        return try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
            try await transaction.select(.loyaltyPoints).column("points").where("customer_id", .equal, customerId).first()?
                .decode(column: "points", as: Int64.self) ?? 0
        }
    }
}

extension PortalModule {
    static let loyalty = PortalModule("loyalty", capabilities: [.loyalty], controllers: [LoyaltyController.self], storage: .loyalty)
}

extension Capability {
    static let loyalty = Capability("loyalty", "Loyalty points per customer.", [
        .init("loyalty.view", "The customer's points balance."),
    ])
}

extension LoyaltyController {
    static var pages: [PortalPage] { [page] }
}
