import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

// A request form whose field picks one of the customer's own records of a tenant-defined kind: the list holds only
// the customer's records of that kind that match the filter and the user's scope, the stored request points at the
// very record chosen, and any other id is refused next to the field with nothing stored.

private let recordFieldPassword = "Vecchia2026!"

/// The example tenant with a fleet: vehicles (all of the customer's with `vehicles.view`, one's own with
/// `vehicles.mine`), policies, and a breakdown form whose `vehicle` field picks an electric vehicle (the filter written
/// with the option's label) and whose optional `policy` field picks an active policy.
private let fleetRequestsYAML: String = {
    var text = SchemaExport.exampleTenant
    for (old, new) in [
        ("\nsections:\n", "\nsections:\n  fleet: {label: {it: Flotta, en: Fleet}}\n"),
        ("\nfeatures:\n", """

        features:
          vehicles.view: {label: Veicoli, section: fleet}
          vehicles.mine: {label: I miei veicoli, section: fleet}
          vehicles.report: {label: Segnala un guasto, section: fleet}

        """),
        ("grants: [invoices.view, invoices.pay]", "grants: [invoices.view, invoices.pay, vehicles.view, vehicles.report]"),
        ("  member:\n", """
          driver:
            label: Autista
            grants: [vehicles.mine, vehicles.report]
          clerk:
            label: Impiegato
            grants: [vehicles.report]
          member:

        """),
    ] {
        precondition(text.components(separatedBy: old).count == 2, "the example tenant changed: \(old)")
        text = text.replacingOccurrences(of: old, with: new)
    }
    return text + """
    records:
      vehicles:
        label: {it: Veicolo, en: Vehicle}
        label_plural: {it: Veicoli, en: Vehicles}
        section: fleet
        external_id: plate
        date: registered_on
        fields:
          plate: {label: {it: Targa, en: Number plate}, type: text, normalize: [uppercase]}
          registered_on: {label: {it: Immatricolazione, en: Registered on}, type: date}
          fuel: {label: {it: Alimentazione, en: Fuel}, type: enum, options: {petrol: {it: Benzina, en: Petrol}, electric: {it: Elettrica, en: Electric}}}
        retention: {visible_for: 10y}
        access:
          - {feature: vehicles.view, scope: all}
          - {feature: vehicles.mine, scope: own}
        list: {columns: [plate, fuel, registered_on]}
      policies:
        label: {it: Polizza, en: Policy}
        label_plural: {it: Polizze, en: Policies}
        section: fleet
        external_id: number
        fields:
          number: {label: {it: Numero, en: Number}, type: text}
          active: {label: {it: Attiva, en: Active}, type: boolean}
        access: [{feature: vehicles.view}]
    requests:
      breakdown:
        label: {it: Segnalazione guasto, en: Breakdown report}
        feature: vehicles.report
        fields:
          - {name: vehicle, label: {it: Veicolo guasto, en: Broken-down vehicle}, type: record, kind: vehicles, filter: {fuel: Elettrica}, required: true}
          - {name: policy, label: {it: Polizza, en: Policy}, type: record, kind: policies, filter: {active: true}}
          - {name: notes, label: {it: Descrizione, en: Description}, type: textarea, required: true}

    """
}()

private func fleetRequestsTenant() throws -> TenantDefinition {
    let result = TenantLoader(capabilities: .portal).load(sources: [(file: "example.yaml", text: fleetRequestsYAML)])
    #expect(result.diagnostics.map(\.description) == [])
    return try #require(result.tenants.first?.definition)
}

extension PortalHarness {
    /// A customer of its own and one user of `role` in it.
    fileprivate func fleetAccount(role: String) async throws -> (customer: Int64, user: Int64, username: String) {
        let local = "f.\(UUID().uuidString.prefix(8).lowercased())"
        return try await database.write(tenant: definition.id, now: Int64(clock.now().timeIntervalSince1970)) { transaction in
            let customer = try await transaction.insertCustomer(CustomerRecord(customerType: "privato", customerCode: "F-\(local)",
                                                                               firstName: "Mario", lastName: "Rossi", createdAt: 0))
            let user = try await fleetUser(customer: customer, role: role, local: local, in: transaction)
            return (customer, user, local)
        }
    }

    /// Another user of an existing customer.
    fileprivate func fleetColleague(customer: Int64, role: String) async throws -> (user: Int64, username: String) {
        let local = "c.\(UUID().uuidString.prefix(8).lowercased())"
        let user = try await database.write(tenant: definition.id, now: Int64(clock.now().timeIntervalSince1970)) { transaction in
            try await fleetUser(customer: customer, role: role, local: local, in: transaction)
        }
        return (user, local)
    }

    private func fleetUser(customer: Int64, role: String, local: String, in transaction: TenantTransaction) async throws -> Int64 {
        let hash = try await services.passwords.hash(recordFieldPassword)
        let key = UsernameRules.key(for: local, caseSensitive: definition.login.caseSensitive)
        return try await transaction.insertUser(UserRecord(customerId: customer, username: local, usernameKey: key, email: "\(local)@example.it",
                                                           passwordHash: hash, role: role, createdAt: 0))
    }

    /// A record of `kind` with values typed as a person would, validated by the kind's fields.
    fileprivate func fleetRecord(_ kind: String, _ entered: [String: String], customer: Int64, user: Int64? = nil) async throws -> Int64 {
        let definition = try #require(self.definition.records?[kind])
        let context = FieldContext(locale: "it", tenant: self.definition, today: CalendarDay(instant: Int64(clock.now().timeIntervalSince1970)))
        let values = try definition.validate(entered, in: context).get()
        let draft = try #require(TenantRecordDraft(kind: kind, of: definition, values: values, customerId: customer, userId: user))
        return try await database.write(tenant: self.definition.id, now: Int64(clock.now().timeIntervalSince1970)) { try await $0.upsertRecord(draft) }
    }

    fileprivate func fleetRequests(_ customer: Int64) async throws -> [RequestRecord] {
        try await database.read(tenant: definition.id) { try await $0.requests(customerId: customer) }
    }
}

extension Browser {
    fileprivate func fleetJSON(_ method: HTTPRequest.Method, _ path: String, token: String?, body: [String: Any]? = nil) async throws -> (status: HTTPResponse.Status, json: [String: Any]) {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        var buffer: ByteBuffer?
        if let body {
            headers[.contentType] = "application/json"
            buffer = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body))
        }
        let response = try await client.execute(uri: path, method: method, headers: headers, body: buffer)
        return (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:])
    }

    fileprivate func fleetToken(_ username: String) async throws -> String {
        let answer = try await fleetJSON(.post, "/api/v1/session", token: nil, body: ["identifier": username, "password": recordFieldPassword])
        return try #require(answer.json["token"] as? String)
    }

    fileprivate func fleetLogIn(_ username: String) async throws {
        let login = try await post("/login", ["identifier": username, "password": recordFieldPassword])
        #expect(login.location == "/", "login as \(username)")
    }
}

/// The options of the `<select>` named `name`: value → label.
private func options(_ html: String, _ name: String) -> [String: String] {
    guard let start = html.range(of: "<select id=\"f-\(name)\""), let end = html.range(of: "</select>", range: start.upperBound..<html.endIndex),
          let pattern = try? NSRegularExpression(pattern: "<option value=\"([^\"]+)\"[^>]*>([^<]*)</option>") else { return [:] }
    let select = String(html[start.upperBound..<end.lowerBound])
    var result: [String: String] = [:]
    for match in pattern.matches(in: select, range: NSRange(select.startIndex..., in: select)) {
        result[String(select[Range(match.range(at: 1), in: select)!])] = String(select[Range(match.range(at: 2), in: select)!])
    }
    return result
}

/// The hint under the field `name`, nil when it has none.
private func hint(_ html: String, _ name: String) -> String? { paragraph(html, id: "f-\(name)-hint") }

/// The problem shown next to the field `name`, nil when it has none.
private func problem(_ html: String, _ name: String) -> String? { paragraph(html, id: "f-\(name)-error") }

private func paragraph(_ html: String, id: String) -> String? {
    guard let start = html.range(of: "id=\"\(id)\">"), let end = html.range(of: "</p>", range: start.upperBound..<html.endIndex) else { return nil }
    return String(html[start.upperBound..<end.lowerBound])
}

private func errorCodes(_ json: [String: Any]) -> [String: String] {
    let fields = (json["error"] as? [String: Any])?["fields"] as? [[String: Any]] ?? []
    return Dictionary(fields.compactMap { entry in (entry["field"] as? String).map { ($0, entry["code"] as? String ?? "") } }, uniquingKeysWith: { a, _ in a })
}

private func requestId(from location: String?) -> Int64? {
    guard let location, location.hasPrefix("/requests/") else { return nil }
    return Int64(location.dropFirst("/requests/".count).prefix { $0.isNumber })
}

/// The `value` of field `name` in a request as the API shows it.
private func apiField(_ json: [String: Any], _ name: String) -> [String: Any]? {
    ((json["fields"] as? [[String: Any]])?.first { $0["name"] as? String == name })?["value"] as? [String: Any]
}

/// The record id a stored request's field points at.
private func storedRecordId(_ request: RequestRecord, _ field: String) -> Int64? {
    let payload = (try? JSONSerialization.jsonObject(with: Data(request.payload.utf8))) as? [String: Any]
    let value = (payload?["fields"] as? [String: Any])?[field] as? [String: Any]
    return (value?["record_id"] as? NSNumber)?.int64Value
}

@Suite("Request form record field")
struct RequestRecordFieldTests {
    @Test("the select lists only the customer's own records of the kind that match the filter, labelled by external id and list columns; none to pick shows a note",
          arguments: TestEngine.available)
    func selectListsOwnFilteredRecords(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "example", definition: try fleetRequestsTenant()) { portal in
            let owner = try await portal.fleetAccount(role: "admin")
            let other = try await portal.fleetAccount(role: "admin")
            let empty = try await portal.fleetAccount(role: "admin")
            let clerk = try await portal.fleetColleague(customer: owner.customer, role: "clerk")
            let electric = try await portal.fleetRecord("vehicles", ["plate": "ab123cd", "fuel": "electric", "registered_on": "2022-03-01"], customer: owner.customer)
            let second = try await portal.fleetRecord("vehicles", ["plate": "KL345MN", "fuel": "Elettrica", "registered_on": "2021-06-15"], customer: owner.customer)
            let petrol = try await portal.fleetRecord("vehicles", ["plate": "CD456EF", "fuel": "petrol", "registered_on": "2022-03-01"], customer: owner.customer)
            let tooOld = try await portal.fleetRecord("vehicles", ["plate": "EF789GH", "fuel": "electric", "registered_on": "2010-05-01"], customer: owner.customer)
            let others = try await portal.fleetRecord("vehicles", ["plate": "GH012IJ", "fuel": "electric", "registered_on": "2022-03-01"], customer: other.customer)
            let active = try await portal.fleetRecord("policies", ["number": "POL-1", "active": "true"], customer: owner.customer)
            let lapsed = try await portal.fleetRecord("policies", ["number": "POL-2", "active": "false"], customer: owner.customer)
            try await portal.test { browser in
                try await browser.fleetLogIn(owner.username)
                let page = try await browser.get("/requests/new/breakdown")
                #expect(page.status == .ok)
                let vehicles = options(page.body, "vehicle")
                #expect(Set(vehicles.keys) == [String(electric), String(second)],
                        "not the petrol one (\(petrol)), the one outside the window (\(tooOld)) nor another customer's (\(others))")
                #expect(vehicles[String(electric)]?.hasPrefix("AB123CD · Elettrica · ") == true, "\(vehicles)")
                #expect(options(page.body, "policy") == [String(active): "POL-1 · Sì"], "not the lapsed policy \(lapsed)")
                #expect(hint(page.body, "vehicle") == nil)
                #expect(page.body.contains("<select id=\"f-vehicle\" name=\"vehicle\" required"))
                #expect(!page.body.contains("<select id=\"f-policy\" name=\"policy\" required"))

                let forms = try await browser.fleetJSON(.get, "/api/v1/requests/forms", token: try await browser.fleetToken(owner.username))
                let form = try #require((forms.json["forms"] as? [[String: Any]])?.first { $0["id"] as? String == "breakdown" })
                let field = try #require((form["fields"] as? [[String: Any]])?.first { $0["name"] as? String == "vehicle" })
                #expect(field["type"] as? String == "record" && field["record_kind"] as? String == "vehicles")
                let listed = (field["records"] as? [[String: Any]] ?? []).compactMap { ($0["id"] as? NSNumber)?.int64Value }
                #expect(Set(listed) == [electric, second])
            }
            try await portal.test { browser in
                try await browser.fleetLogIn(empty.username)
                let page = try await browser.get("/requests/new/breakdown")
                #expect(options(page.body, "vehicle").isEmpty)
                #expect(hint(page.body, "vehicle") == "Non risultano «Veicoli» da scegliere: non ce ne sono a tuo nome oppure nessuno fa al caso di questa richiesta.")
                #expect(page.body.contains("aria-describedby=\"f-vehicle-hint\""))
            }
            try await portal.test { browser in
                // The clerk may report a breakdown but sees no vehicles: none to pick, even of their own customer.
                try await browser.fleetLogIn(clerk.username)
                let page = try await browser.get("/requests/new/breakdown")
                #expect(page.status == .ok && options(page.body, "vehicle").isEmpty && hint(page.body, "vehicle") != nil)
                let refused = try await browser.post("/requests/new/breakdown", ["vehicle": String(electric), "notes": "Non parte"])
                #expect(refused.status == .unprocessableContent && problem(refused.body, "vehicle") != nil)
            }
            #expect(try await portal.fleetRequests(owner.customer).isEmpty)
        }
    }

    @Test("a submission with one of the customer's records stores a pointer to it; the detail page and the API show it, and say so when it is gone",
          arguments: TestEngine.available)
    func submitStoresThePointer(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "example", definition: try fleetRequestsTenant()) { portal in
            let owner = try await portal.fleetAccount(role: "admin")
            _ = try await portal.fleetRecord("vehicles", ["plate": "ZZ999ZZ", "fuel": "electric", "registered_on": "2023-01-10"], customer: owner.customer)
            let vehicle = try await portal.fleetRecord("vehicles", ["plate": "AB123CD", "fuel": "electric", "registered_on": "2022-03-01"], customer: owner.customer)
            let policy = try await portal.fleetRecord("policies", ["number": "POL-7", "active": "true"], customer: owner.customer)
            try await portal.test { browser in
                try await browser.fleetLogIn(owner.username)
                let posted = try await browser.post("/requests/new/breakdown", ["vehicle": String(vehicle), "policy": String(policy), "notes": "Non si avvia"])
                #expect(posted.status == .seeOther || posted.status == .found)
                let id = try #require(requestId(from: posted.location))
                let stored = try await portal.fleetRequests(owner.customer)
                #expect(stored.count == 1)
                #expect(stored.first.map { storedRecordId($0, "vehicle") } == vehicle)
                #expect(stored.first.map { storedRecordId($0, "policy") } == policy)

                let detail = try await browser.get("/requests/\(id)")
                #expect(detail.body.contains("<dt>Veicolo guasto</dt><dd>AB123CD · Elettrica · "))
                #expect(detail.body.contains("<dt>Polizza</dt><dd>POL-7 · Sì</dd>"))
                let token = try await browser.fleetToken(owner.username)
                let api = try await browser.fleetJSON(.get, "/api/v1/requests/\(id)", token: token)
                let value = try #require(apiField(api.json, "vehicle"))
                #expect((value["record_id"] as? NSNumber)?.int64Value == vehicle)
                #expect(value["kind"] as? String == "vehicles" && value["external_id"] as? String == "AB123CD")
                #expect((value["label"] as? String)?.hasPrefix("AB123CD · Elettrica") == true && value["exists"] as? Bool == true)

                // By the API: the id alone, or as the request shows it.
                let created = try await browser.fleetJSON(.post, "/api/v1/requests", token: token, body: [
                    "form": "breakdown", "fields": ["vehicle": ["record_id": vehicle], "notes": "Di nuovo"]])
                #expect(created.status == .created)
                #expect((apiField(created.json, "vehicle")?["record_id"] as? NSNumber)?.int64Value == vehicle)
                #expect(try await portal.fleetRequests(owner.customer).count == 2)
            }
            // The record is deleted, then imported again under the same plate: a new record, not the one chosen.
            let deleted = try await portal.database.write(tenant: portal.definition.id, now: Int64(portal.clock.now().timeIntervalSince1970)) {
                try await $0.deleteRecords(kind: "vehicles", datedBefore: CalendarDay(year: 2022, month: 12, day: 31))
            }
            #expect(deleted == 1)
            let again = try await portal.fleetRecord("vehicles", ["plate": "AB123CD", "fuel": "petrol", "registered_on": "2022-03-01"], customer: owner.customer)
            #expect(again != vehicle)
            try await portal.test { browser in
                try await browser.fleetLogIn(owner.username)
                let id = try #require(try await portal.fleetRequests(owner.customer).last?.id)
                let detail = try await browser.get("/requests/\(id)")
                #expect(detail.body.contains("<dt>Veicolo guasto</dt><dd>AB123CD · Elettrica · "), "the label it had when chosen")
                #expect(detail.body.contains("(non più presente tra i tuoi dati)"))
                let api = try await browser.fleetJSON(.get, "/api/v1/requests/\(id)", token: try await browser.fleetToken(owner.username))
                let value = try #require(apiField(api.json, "vehicle"))
                #expect((value["record_id"] as? NSNumber)?.int64Value == vehicle && value["exists"] as? Bool == false)
            }
        }
    }

    @Test("another customer's record, a record of another kind, one outside the filter or the window, or not a record at all: 422 next to the field, nothing stored",
          arguments: TestEngine.available)
    func foreignChoicesAreRefused(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "example", definition: try fleetRequestsTenant()) { portal in
            let owner = try await portal.fleetAccount(role: "admin")
            let other = try await portal.fleetAccount(role: "admin")
            let mine = try await portal.fleetRecord("vehicles", ["plate": "AB123CD", "fuel": "electric", "registered_on": "2022-03-01"], customer: owner.customer)
            let others = try await portal.fleetRecord("vehicles", ["plate": "GH012IJ", "fuel": "electric", "registered_on": "2022-03-01"], customer: other.customer)
            let policy = try await portal.fleetRecord("policies", ["number": "POL-1", "active": "true"], customer: owner.customer)
            let lapsed = try await portal.fleetRecord("policies", ["number": "POL-2", "active": "false"], customer: owner.customer)
            let petrol = try await portal.fleetRecord("vehicles", ["plate": "CD456EF", "fuel": "petrol", "registered_on": "2022-03-01"], customer: owner.customer)
            let tooOld = try await portal.fleetRecord("vehicles", ["plate": "EF789GH", "fuel": "electric", "registered_on": "2010-05-01"], customer: owner.customer)
            try await portal.test { browser in
                try await browser.fleetLogIn(owner.username)
                for (name, value) in [("another customer's vehicle", String(others)), ("a policy", String(policy)), ("a petrol vehicle", String(petrol)),
                                      ("a vehicle outside the window", String(tooOld)), ("not an id", "AB123CD"), ("no such record", "999999999")] {
                    let refused = try await browser.post("/requests/new/breakdown", ["vehicle": value, "notes": "Non parte"])
                    #expect(refused.status == .unprocessableContent, "\(name)")
                    #expect(problem(refused.body, "vehicle")?.hasSuffix("non è tra «Veicoli» che puoi scegliere per questa richiesta.") == true, "\(name): \(problem(refused.body, "vehicle") ?? "-")")
                    #expect(Set(options(refused.body, "vehicle").keys) == [String(mine)], "\(name): the list again, the wrong id not chosen")
                }
                let lapsedPolicy = try await browser.post("/requests/new/breakdown", ["vehicle": String(mine), "policy": String(lapsed), "notes": "Non parte"])
                #expect(lapsedPolicy.status == .unprocessableContent && problem(lapsedPolicy.body, "policy") != nil && problem(lapsedPolicy.body, "vehicle") == nil)
                let missing = try await browser.post("/requests/new/breakdown", ["notes": "Non parte"])
                #expect(missing.status == .unprocessableContent && problem(missing.body, "vehicle") == "Scegli una delle opzioni.")

                let token = try await browser.fleetToken(owner.username)
                let api = try await browser.fleetJSON(.post, "/api/v1/requests", token: token, body: ["form": "breakdown", "fields": ["vehicle": others, "notes": "x"]])
                #expect(api.status == .unprocessableContent && errorCodes(api.json)["vehicle"] == "not_your_record")
            }
            #expect(try await portal.fleetRequests(owner.customer).isEmpty)
            #expect(try await portal.fleetRequests(other.customer).isEmpty)
        }
    }

    @Test("own scope: a driver lists and may choose only the vehicles assigned to them, and no policy (their role does not see the kind)",
          arguments: TestEngine.available)
    func ownScope(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "example", definition: try fleetRequestsTenant()) { portal in
            let owner = try await portal.fleetAccount(role: "admin")
            let driver = try await portal.fleetColleague(customer: owner.customer, role: "driver")
            let assigned = try await portal.fleetRecord("vehicles", ["plate": "AB123CD", "fuel": "electric", "registered_on": "2022-03-01"],
                                                        customer: owner.customer, user: driver.user)
            let colleagues = try await portal.fleetRecord("vehicles", ["plate": "KL345MN", "fuel": "electric", "registered_on": "2022-03-01"],
                                                          customer: owner.customer, user: owner.user)
            let unassigned = try await portal.fleetRecord("vehicles", ["plate": "PQ678RS", "fuel": "electric", "registered_on": "2022-03-01"],
                                                          customer: owner.customer)
            let policy = try await portal.fleetRecord("policies", ["number": "POL-1", "active": "true"], customer: owner.customer)
            try await portal.test { browser in
                try await browser.fleetLogIn(driver.username)
                let page = try await browser.get("/requests/new/breakdown")
                #expect(Set(options(page.body, "vehicle").keys) == [String(assigned)])
                #expect(options(page.body, "policy").isEmpty && hint(page.body, "policy")?.contains("«Polizze»") == true)
                for value in [String(colleagues), String(unassigned)] {
                    let refused = try await browser.post("/requests/new/breakdown", ["vehicle": value, "notes": "Non parte"])
                    #expect(refused.status == .unprocessableContent && problem(refused.body, "vehicle") != nil)
                }
                let noPolicy = try await browser.post("/requests/new/breakdown", ["vehicle": String(assigned), "policy": String(policy), "notes": "Non parte"])
                #expect(noPolicy.status == .unprocessableContent && problem(noPolicy.body, "policy") != nil)
                #expect(try await portal.fleetRequests(owner.customer).isEmpty)
                let posted = try await browser.post("/requests/new/breakdown", ["vehicle": String(assigned), "notes": "Non parte"])
                #expect(requestId(from: posted.location) != nil)
                let stored = try await portal.fleetRequests(owner.customer)
                #expect(stored.count == 1 && stored.first.map { storedRecordId($0, "vehicle") } == assigned)
                #expect(storedRecordId(try #require(stored.first), "policy") == nil, "the optional field left empty stores nothing")
            }
            try await portal.test { browser in
                // The administrator sees every vehicle of the customer, the driver's too.
                try await browser.fleetLogIn(owner.username)
                let page = try await browser.get("/requests/new/breakdown")
                #expect(Set(options(page.body, "vehicle").keys) == [String(assigned), String(colleagues), String(unassigned)])
            }
        }
    }
}
