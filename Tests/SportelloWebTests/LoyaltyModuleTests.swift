import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

/// A module added outside the portal's sources (`LoyaltyModule/`) and one list entry: its page opens by role,
/// its section links it, its API operation is documented and served, its table is created by its own
/// schema step and filled by its own demo data. SQLite only: its table must not enter the shared
/// PostgreSQL test database, whose other suites open it with the portal's own modules.
@Suite("Modules: one folder and one list entry")
struct LoyaltyModuleTests {
    static let modules = PortalModules.all + [.loyalty]

    /// Unidata with a "Punti fedeltà" section whose `loyalty.view` only the referente amministratore has.
    static func definition() throws -> TenantDefinition {
        var definition = try provider("unidata")
        func decoded<T: Decodable>(_ json: String) throws -> T { try JSONDecoder().decode(T.self, from: Data(json.utf8)) }
        definition.sections["loyalty"] = try decoded(#"{"label": {"it": "Punti fedeltà", "en": "Loyalty points"}}"#) as Section
        definition.features["loyalty.view"] = try decoded(#"{"label": {"it": "Saldo punti", "en": "Points balance"}, "section": "loyalty"}"#) as Feature
        var role = try #require(definition.roles["referente_amministratore"])
        role.grants = (role.grants ?? []) + ["loyalty.view"]
        definition.roles["referente_amministratore"] = role
        return definition
    }

    @Test("The loyalty module's page, section link, API operation, table and demo data all come from its one value")
    func moduleFromOneValue() async throws {
        try await PortalHarness.with(engine: .sqlite, tenant: "unidata", definition: try Self.definition(),
                                     catalog: PortalCatalog(modules: Self.modules), storage: Self.modules.compactMap(\.storage)) { portal in
            // Its schema step ran with the platform's, and its demo data filled every demo customer.
            #expect(try await portal.database.pendingMigrations().isEmpty)
            let summary = try await DemoDataGenerator(tenant: portal.definition, now: Int64(portal.clock.now().timeIntervalSince1970),
                                                      hasher: portal.services.passwords).generate(into: portal.database)
            let customers = try #require(summary.counts.first { $0.0 == .customers }?.1)
            #expect(customers > 0)
            #expect(summary.counts.first { $0.0 == .loyaltyPoints }?.1 == customers)

            let customer = try await portal.abuseCustomer()
            try await portal.database.write(tenant: portal.definition.id, now: Int64(portal.clock.now().timeIntervalSince1970)) {
                try await $0.insert(.loyaltyPoints, LoyaltyPointsRow(customerId: customer, points: 420))
            }
            let admin = try await portal.abuseUser(customer, role: "referente_amministratore")
            let simple = try await portal.abuseUser(customer, role: "referente_semplice")
            try await portal.test { browser in
                #expect(try await browser.post("/login", ["identifier": admin.username, "password": "Vecchia2026!"]).status == .seeOther)
                let page = try await browser.get("/loyalty")
                #expect(page.status == .ok)
                #expect(page.body.contains("<p id=points>420</p>"))
                #expect(page.body.contains("<title>Punti fedeltà</title>"))
                let section = try await browser.get("/sections/loyalty")
                #expect(section.body.contains("href=\"/loyalty\""))
                let openapi = try await browser.get("/api/v1/openapi.json")
                #expect(openapi.body.contains("\"/loyalty\"") && openapi.body.contains("LoyaltyBalance"))
            }
            try await buildApplication(services: portal.services).test(.router) { client in
                let adminToken = try await abuseToken(client, admin.username)
                let balance = try await abuseCall(client, .get, "/api/v1/loyalty", token: adminToken)
                #expect(balance.status == .ok && balance.json["points"] as? Int == 420)
                let simpleToken = try await abuseToken(client, simple.username)
                #expect(try await abuseCall(client, .get, "/api/v1/loyalty", token: simpleToken).status == .forbidden)
            }
        }
    }

    @Test("The module's capability reaches validate and the reference from the same list entry")
    func capabilityFromTheListEntry() throws {
        let yaml = SchemaExport.exampleTenant.replacingOccurrences(of: "\nfeatures:\n", with: "\nfeatures:\n  punti.saldo: {label: Punti, section: invoices, capability: loyalty.view}\n")
            .replacingOccurrences(of: "grants: [invoices.view, invoices.pay]", with: "grants: [invoices.view, invoices.pay, punti.saldo]")
        let withModule = TenantLoader(capabilities: PortalCatalog(modules: Self.modules).capabilities).load(sources: [(file: "example.yaml", text: yaml)])
        #expect(withModule.diagnostics.isEmpty, "\(withModule.diagnostics)")
        #expect(withModule.tenants.first?.definition.slot(of: "punti.saldo") == "loyalty.view")
        let without = TenantLoader(capabilities: PortalModules.capabilities).load(sources: [(file: "example.yaml", text: yaml)])
        #expect(without.errors.map(\.code) == ["unknown-capability"])
        let reference = CapabilityReference.markdown(PortalCatalog(modules: Self.modules))
        #expect(reference.contains("### `loyalty`") && reference.contains("| `loyalty.view` | The customer's points balance. | `/loyalty` | `GET /loyalty` |"))
        #expect(!CapabilityReference.markdown().contains("loyalty"))
    }

    @Test("Without the module in the list, the same tenant has no such page and no such table")
    func absentModuleServesNothing() async throws {
        try await PortalHarness.with(engine: .sqlite, tenant: "unidata", definition: try Self.definition()) { portal in
            let customer = try await portal.abuseCustomer()
            let admin = try await portal.abuseUser(customer, role: "referente_amministratore")
            try await portal.test { browser in
                _ = try await browser.post("/login", ["identifier": admin.username, "password": "Vecchia2026!"])
                #expect(try await browser.get("/loyalty").status == .notFound)
            }
            let tables = try await portal.database.read(tenant: portal.definition.id) { try await $0.rowCounts() }.map(\.0)
            #expect(!tables.contains(.loyaltyPoints))
        }
    }
}
