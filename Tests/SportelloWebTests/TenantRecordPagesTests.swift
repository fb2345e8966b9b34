import Foundation
import Hummingbird
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

/// The pages, export and API the platform serves for a record kind a tenant declares in YAML (the fleet tenant's
/// vehicles and their maintenance jobs): in the tenant's labels, filtered and paged, fenced by tenant, customer and
/// scope exactly as built-in data is.
@Suite("Record kind pages")
struct TenantRecordPagesTests {
    static let password = "Vecchia2026!"

    /// Two customers of one fleet tenant: A (an administrator, a member with the `vehicles` switch, 30 vehicles of
    /// which 2 are assigned to the member, maintenance jobs on the first vehicle) and B (one vehicle).
    struct Fleet {
        var admin, member: String
        var vehicles: [String: Int64]
        var othersVehicle: Int64
        var othersJob: Int64
        var firstVehicle: Int64
    }

    static func plate(_ index: Int) -> String { String(format: "AB%03dCD", index) }

    static func seed(_ portal: PortalHarness) async throws -> Fleet {
        let definition = portal.definition
        let hash = try await portal.services.passwords.hash(password)
        let context = FieldContext(locale: "it", tenant: definition, today: CalendarDay(instant: Int64(PortalHarness.start.timeIntervalSince1970)))
        @Sendable func draft(_ kind: String, customer: Int64, owner: Int64? = nil, user: Int64? = nil, _ entered: [String: String]) throws -> TenantRecordDraft {
            let kindDefinition = try #require(definition.records?[kind])
            let values = try kindDefinition.validate(entered, in: context).get()
            return try #require(TenantRecordDraft(kind: kind, of: kindDefinition, values: values, customerId: customer, ownerRecordId: owner, userId: user))
        }
        let suffix = UUID().uuidString.prefix(6).lowercased()
        return try await portal.database.write(tenant: definition.id, now: Int64(PortalHarness.start.timeIntervalSince1970)) { t in
            func user(_ name: String, customer: Int64, role: String, toggles: [String]) async throws -> (String, Int64) {
                let username = "\(name).\(suffix)"
                let id = try await t.insertUser(UserRecord(customerId: customer, username: username, usernameKey: username, email: "\(username)@example.it",
                                                           firstName: "Maria", lastName: "Verdi", passwordHash: hash, role: role, toggles: toggles, createdAt: 0))
                return (username, id)
            }
            let a = try await t.insertCustomer(CustomerRecord(customerType: "privato", customerCode: "A-\(suffix)", firstName: "Anna", lastName: "Rossi",
                                                              taxCode: "RSSNNA80A41H501X", createdAt: 0))
            let b = try await t.insertCustomer(CustomerRecord(customerType: "privato", customerCode: "B-\(suffix)", firstName: "Bruno", lastName: "Bianchi",
                                                              taxCode: "BNCBRN80A01H501X", createdAt: 0))
            let (admin, _) = try await user("admin", customer: a, role: "admin", toggles: [])
            let (member, memberId) = try await user("member", customer: a, role: "member", toggles: ["vehicles"])
            var drafts: [TenantRecordDraft] = []
            for index in 1...30 {
                let month = (index - 1) % 10 + 1
                drafts.append(try draft("vehicles", customer: a, user: index <= 2 ? memberId : nil, [
                    "plate": plate(index), "registered_on": String(format: "2026-%02d-10", month), "fuel": index % 3 == 0 ? "electric" : "petrol",
                    "value": "\(index * 1000).50", "seats": String(index % 7 + 2)]))
            }
            let ids = try await t.upsertRecords(drafts)
            var vehicles: [String: Int64] = [:]
            for (index, id) in ids.enumerated() { vehicles[plate(index + 1)] = id }
            let first = try #require(vehicles[plate(1)])
            for job in 1...7 {
                _ = try await t.upsertRecord(try draft("maintenance", customer: a, owner: first, [
                    "job": "J-A\(job)", "done_on": String(format: "2026-%02d-01", job), "cost": "100.25", "km": String(job * 1000)]))
            }
            let others = try await t.upsertRecord(try draft("vehicles", customer: b, ["plate": "ZZ999ZZ", "registered_on": "2026-03-03",
                                                                                     "fuel": "electric", "value": "5", "seats": "4"]))
            let othersJob = try await t.upsertRecord(try draft("maintenance", customer: b, owner: others, ["job": "J-B1", "done_on": "2026-03-04"]))
            return Fleet(admin: admin, member: member, vehicles: vehicles, othersVehicle: others, othersJob: othersJob, firstVehicle: first)
        }
    }

    static func json(_ page: Browser.Page) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(page.body.utf8)) as? [String: Any], "JSON: \(page.body.prefix(200))")
    }

    @Test("the list shows the customer's records in the tenant's labels, 25 a page, newest first; another customer's are never listed or opened",
          arguments: TestEngine.available)
    func listAndDetailAreFenced(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "example", definition: try fleetTenant("fleetweb")) { portal in
            let fleet = try await Self.seed(portal)
            try await portal.test { browser in
                try await browser.logIn(fleet.admin, Self.password)
                let list = try await browser.get("/records/vehicles")
                #expect(list.status == .ok)
                #expect(list.body.contains("<h1>Veicoli</h1>") && list.body.contains("Targa") && list.body.contains("Alimentazione"))
                #expect(list.body.contains("30 risultati") && list.body.contains("Pagina 1 di 2"))
                #expect(list.body.contains("<td>Benzina</td>") && !list.body.contains("<td>petrol</td>"), "options by their label")
                #expect(!list.body.contains("ZZ999ZZ"), "another customer's vehicle is not listed")
                // Newest first: October's vehicles (10, 20, 30) lead, then September's; January's are on page 2.
                let first = try #require(list.body.range(of: "AB010CD")), later = try #require(list.body.range(of: "AB009CD"))
                #expect(first.lowerBound < later.lowerBound)
                #expect(!list.body.contains("AB001CD"))
                let second = try await browser.get("/records/vehicles?page=2")
                #expect(second.body.contains("Pagina 2 di 2") && second.body.contains("rel=\"prev\"") && second.body.contains("AB001CD"))
                #expect(!second.body.contains("ZZ999ZZ"))

                let detail = try await browser.get("/records/vehicles/\(fleet.firstVehicle)")
                #expect(detail.status == .ok && detail.body.contains("Veicolo AB001CD") && detail.body.contains("1000,50"))
                #expect(detail.body.contains("Interventi") && detail.body.contains("J-A7") && detail.body.contains("/records/maintenance?owner=\(fleet.firstVehicle)"))
                #expect(detail.body.contains("7 risultati"))
                #expect(try await browser.get("/records/vehicles/\(fleet.othersVehicle)").status == .notFound)
                #expect(try await browser.get("/records/maintenance/\(fleet.othersJob)").status == .notFound)
                #expect(try await browser.get("/records/maintenance/\(fleet.firstVehicle)").status == .notFound, "an id of another kind")
                #expect(try await browser.get("/records/maintenance?owner=\(fleet.othersVehicle)").status == .notFound)
                let jobs = try await browser.get("/records/maintenance?owner=\(fleet.firstVehicle)")
                #expect(jobs.status == .ok && jobs.body.contains("J-A1") && jobs.body.contains("AB001CD") && !jobs.body.contains("J-B1"))
                #expect(try await browser.get("/records/policies").status == .notFound, "a kind the tenant does not declare")

                let api = try Self.json(try await browser.get("/api/v1/records/vehicles?limit=100"))
                #expect(api["total"] as? Int == 30)
                let items = try #require(api["items"] as? [[String: Any]])
                #expect(items.count == 30)
                #expect(!items.contains { $0["external_id"] as? String == "ZZ999ZZ" })
                let fields = try #require(items.first?["fields"] as? [String: Any])
                #expect(fields["seats"] is Int && fields["value"] is String && fields["fuel"] is String)
                #expect(try await browser.get("/api/v1/records/vehicles/\(fleet.othersVehicle)").status == .notFound)
                let one = try Self.json(try await browser.get("/api/v1/records/vehicles/\(fleet.firstVehicle)"))
                #expect((one["fields"] as? [String: Any])?["value"] as? String == "1000.50")
            }
        }
    }

    @Test("filters narrow the list, the chart and the export; a malformed filter is an Italian error next to its input and the API's 422",
          arguments: [TestEngine.sqlite])
    func filtersChartAndExport(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "example", definition: try fleetTenant("fleetfilter")) { portal in
            let fleet = try await Self.seed(portal)
            try await portal.test { browser in
                try await browser.logIn(fleet.admin, Self.password)
                let electric = try await browser.get("/records/vehicles?fuel=electric")
                #expect(electric.body.contains("10 risultati") && electric.body.contains("AB003CD") && !electric.body.contains("AB001CD"))
                let range = try await browser.get("/records/vehicles?registered_on_from=2026-02-01&registered_on_to=2026-03-31")
                #expect(range.body.contains("6 risultati"), "February and March: vehicles 2, 3, 12, 13, 22, 23")
                #expect(range.body.contains("<svg") && range.body.contains("febbraio 2026") && range.body.contains("marzo 2026"))
                #expect(!range.body.contains("aprile 2026"), "the chart follows the filters")

                let bad = try await browser.get("/records/vehicles?seats_from=tre&fuel=diesel")
                #expect(bad.status == .unprocessableContent)
                #expect(bad.body.contains("id=\"filter-seats_from-error\"") && bad.body.contains("id=\"filter-fuel-error\""))
                #expect(bad.body.contains("aria-invalid=\"true\""))
                #expect(bad.body.contains("value=\"tre\""), "what was typed stays")
                let api = try await browser.get("/api/v1/records/vehicles?seats_from=tre")
                #expect(api.status == .unprocessableContent)
                #expect(api.body.contains("seats_from"))
                #expect(try await browser.get("/api/v1/records/vehicles?page=0").status == .unprocessableContent)
                #expect(try await browser.get("/api/v1/records/vehicles?limit=501").status == .unprocessableContent)

                let csv = try await browser.get("/records/vehicles/export?format=csv&fuel=electric")
                #expect(csv.status == .ok)
                let lines = csv.body.split(separator: "\r\n")
                #expect(lines.count == 11, "a header and the 10 electric vehicles")
                #expect(lines.first?.contains("Targa") == true && lines.first?.contains("Valore") == true)
                #expect(!csv.body.contains("ZZ999ZZ") && csv.body.contains("Elettrica"))
                #expect(csv.body.contains("3000,50"), "decimals in the Italian way")
                let jobs = try await browser.get("/records/maintenance/export?format=csv&owner=\(fleet.firstVehicle)")
                #expect(jobs.body.split(separator: "\r\n").count == 8 && jobs.body.contains("Veicolo") && jobs.body.contains("AB001CD"))
                let xlsx = try await browser.get("/records/vehicles/export?format=xlsx")
                #expect(xlsx.status == .ok && xlsx.body.hasPrefix("PK"))
                #expect(try await browser.get("/records/vehicles/export?format=pdf").status == .unprocessableContent)
            }
        }
    }

    @Test("a user with the own scope sees, opens and exports only the records assigned to them", arguments: TestEngine.available)
    func ownScope(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "example", definition: try fleetTenant("fleetown")) { portal in
            let fleet = try await Self.seed(portal)
            try await portal.test { browser in
                try await browser.logIn(fleet.member, Self.password)
                let list = try await browser.get("/records/vehicles")
                #expect(list.status == .ok && list.body.contains("2 risultati"))
                #expect(list.body.contains("AB001CD") && list.body.contains("AB002CD") && !list.body.contains("AB003CD"))
                #expect(list.body.contains("Vedi solo quelli assegnati al tuo utente."))
                let unassigned = try #require(fleet.vehicles[Self.plate(3)])
                #expect(try await browser.get("/records/vehicles/\(unassigned)").status == .notFound)
                #expect(try await browser.get("/api/v1/records/vehicles/\(unassigned)").status == .notFound)
                let api = try Self.json(try await browser.get("/api/v1/records/vehicles"))
                #expect(api["total"] as? Int == 2)
                #expect((api["items"] as? [[String: Any]])?.allSatisfy { $0["assigned_to_me"] as? Bool == true } == true)
                let csv = try await browser.get("/records/vehicles/export?format=csv")
                #expect(csv.body.split(separator: "\r\n").count == 3)
                // Maintenance opens with vehicles.view only, which the member lacks.
                #expect(try await browser.get("/records/maintenance").status == .forbidden)
                #expect(try await browser.get("/api/v1/records/maintenance").status == .forbidden)
            }
        }
    }

    @Test("the navigation, the section page, the home page's shortcuts and the OpenAPI document name the kinds in the tenant's words")
    func navigationAndOpenAPI() async throws {
        try await PortalHarness.with(engine: .sqlite, tenant: "example", definition: try fleetTenant("fleetnav")) { portal in
            let fleet = try await Self.seed(portal)
            try await portal.test { browser in
                try await browser.logIn(fleet.admin, Self.password)
                let home = try await browser.get("/")
                #expect(home.body.contains("href=\"/sections/fleet\"") && home.body.contains("href=\"/records/vehicles\""))
                let section = try await browser.get("/sections/fleet")
                #expect(section.body.contains("href=\"/records/vehicles\""))
                let me = try Self.json(try await browser.get("/api/v1/me"))
                #expect((me["pages"] as? [String])?.contains("/records/vehicles") == true)

                let document = try Self.json(try await browser.get("/api/v1/openapi.json"))
                let paths = try #require(document["paths"] as? [String: Any])
                #expect(paths["/records/vehicles"] != nil && paths["/records/vehicles/{id}"] != nil && paths["/records/maintenance/export"] != nil)
                let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
                let record = try #require(schemas["Record_vehicles"] as? [String: Any])
                let fields = try #require(((record["properties"] as? [String: Any])?["fields"] as? [String: Any])?["properties"] as? [String: Any])
                #expect((fields["seats"] as? [String: Any])?["type"] as? String == "integer")
                #expect((fields["fuel"] as? [String: Any])?["enum"] as? [String] == ["petrol", "electric"])
                #expect((fields["registered_on"] as? [String: Any])?["format"] as? String == "date")
            }
        }
    }

    @Test("records dated before the kind's visible_for are neither listed nor opened")
    func visibilityWindow() async throws {
        let yaml = fleetTenantYAML.replacingOccurrences(of: "retention: {visible_for: 10y, delete_after: 11y}", with: "retention: {visible_for: 3mo}")
        #expect(yaml != fleetTenantYAML)
        let definition = try fleetTenant("fleetwindow", yaml: yaml)
        try await PortalHarness.with(engine: .sqlite, tenant: "example", definition: definition) { portal in
            let fleet = try await Self.seed(portal)
            try await portal.test { browser in
                try await browser.logIn(fleet.admin, Self.password)
                let list = try await browser.get("/records/vehicles")
                // Today is 2026-11-21: from 2026-08-21 on, the vehicles of September and October (9, 10, 19, 20, 29, 30).
                #expect(list.body.contains("6 risultati") && list.body.contains("21/08/2026"))
                #expect(try await browser.get("/records/vehicles/\(fleet.firstVehicle)").status == .notFound)
            }
        }
    }
}
