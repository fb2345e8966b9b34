import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

// The rules of a request form, through its pages and the API: fields shown only when a condition holds (on another
// field or on a field of the picked record), typed fields (integer, decimal, boolean, date bounds, options of a
// tenant enum), opening windows, deadlines counted from a date of the form, and the labels of lifecycle statuses.

private let formRulesPassword = "Vecchia2026!"

/// The example tenant with policies (a motor or home product) the customer may pick, and four forms: a claim whose
/// fields depend on the kind of claim and on the picked policy's product, with a 3-day deadline and labelled
/// statuses; a reading with typed fields; a call-back form open on working days 09:00–18:00; and a renewal open on
/// working days for motor policies and in May only for home policies.
private let formRulesYAML: String = {
    var text = SchemaExport.exampleTenant
    for (old, new) in [
        ("\nsections:\n", "\nsections:\n  cover: {label: {it: Coperture, en: Cover}}\n"),
        ("\nfeatures:\n", """

        features:
          policies.view: {label: Polizze, section: cover}
          claims.report: {label: Denuncia un sinistro, section: cover}

        """),
        ("grants: [invoices.view, invoices.pay]", "grants: [invoices.view, invoices.pay, policies.view, claims.report]"),
    ] {
        precondition(text.components(separatedBy: old).count == 2, "the example tenant changed: \(old)")
        text = text.replacingOccurrences(of: old, with: new)
    }
    return text + """
    time_zone: Europe/Rome
    records:
      policies:
        label: {it: Polizza, en: Policy}
        label_plural: {it: Polizze, en: Policies}
        section: cover
        external_id: number
        fields:
          number: {label: {it: Numero, en: Number}, type: text}
          product: {label: {it: Prodotto, en: Product}, type: enum, options: {motor: {it: Auto, en: Motor}, home: {it: Casa, en: Home}}}
        access: [{feature: policies.view}]
        list: {columns: [number, product]}
    requests:
      claim:
        label: {it: Denuncia di sinistro, en: Claim report}
        description: {it: Denuncia il sinistro entro 3 giorni., en: Report the loss within 3 days.}
        feature: claims.report
        fields:
          - {name: policy, label: {it: Polizza, en: Policy}, type: record, kind: policies, required: true}
          - {name: claim_type, label: {it: Tipo di sinistro, en: Kind of claim}, type: choice, options: [Incidente, Furto], required: true}
          - {name: other_plate, label: {it: Targa della controparte, en: Other party plate}, type: text, max_length: 10, required: true, when: {field: claim_type, equals: Incidente}}
          - {name: joint_report, label: {it: Constatazione amichevole, en: Joint report}, type: boolean, required: true, when: {field: claim_type, equals: Incidente}}
          - {name: witness, label: {it: Testimone, en: Witness}, type: text, required: true, when: {field: joint_report, equals: "false"}}
          - {name: home_address, label: {it: Indirizzo della casa, en: Home address}, type: address, required: true, when: {field: policy.product, equals: home}}
          - {name: occurred_on, label: {it: Data del sinistro, en: Date of loss}, type: date, required: true}
          - {name: description, label: {it: Come è successo, en: What happened}, type: textarea, required: true}
        deadlines:
          - {field: occurred_on, within: 3d}
        lifecycle: [received, under_review, closed]
        status_labels:
          received: {it: Presa in carico, en: Taken in charge}
          under_review: {it: In istruttoria, en: Under review}
      reading:
        label: {it: Rilevazione del danno, en: Damage reading}
        feature: claims.report
        fields:
          - {name: people, label: {it: Persone coinvolte, en: People involved}, type: integer, min: "0", max: "20", required: true}
          - {name: damage, label: {it: Stima del danno, en: Estimated damage}, type: decimal, scale: 2, min: "0", max: "100000", required: true}
          - {name: towed, label: {it: Veicolo trainato, en: Vehicle towed}, type: boolean, required: true}
          - {name: seen_on, label: {it: Data del sopralluogo, en: Inspection date}, type: date, min: "-3d", max: today, required: true}
          - {name: product, label: {it: Prodotto, en: Product}, type: choice, options_from: policies.product, required: true}
      callback:
        label: {it: Richiamami, en: Call me back}
        feature: claims.report
        open:
          - {weekdays: mon-fri, hours: "09:00-18:00"}
        fields:
          - {name: topic, label: {it: Argomento, en: Topic}, type: text, required: true}
      promo:
        label: {it: Adesione alla promozione, en: Promotion sign-up}
        feature: claims.report
        open:
          - {from: 2026-01-01, until: 2026-01-31}
        fields:
          - {name: code, label: {it: Codice, en: Code}, type: text, required: true}
      renewal:
        label: {it: Scelta per il rinnovo, en: Renewal choice}
        feature: claims.report
        open:
          - {weekdays: mon-fri, hours: "09:00-18:00", when: {field: policy.product, equals: motor}}
          - {months: "5", weekdays: mon-fri, hours: "09:00-18:00", when: {field: policy.product, equals: home}}
        fields:
          - {name: policy, label: {it: Polizza da rinnovare, en: Policy to renew}, type: record, kind: policies, required: true}
          - {name: notes, label: {it: Note, en: Notes}, type: textarea, max_length: 500}

    """
}()

private func formRulesTenant() throws -> TenantDefinition {
    let result = TenantLoader(capabilities: .portal).load(sources: [(file: "example.yaml", text: formRulesYAML)])
    #expect(result.diagnostics.map(\.description) == [])
    return try #require(result.tenants.first?.definition)
}

/// An instant on the wall clock of Rome.
private func romeTime(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int = 0) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "Europe/Rome")!
    return calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute))!
}

extension PortalHarness {
    /// A customer of its own and its administrator (who may pick the customer's policies and send every form).
    fileprivate func formRulesAccount() async throws -> (customer: Int64, user: Int64, username: String) {
        let local = "fr.\(UUID().uuidString.prefix(8).lowercased())"
        let hash = try await services.passwords.hash(formRulesPassword)
        let key = UsernameRules.key(for: local, caseSensitive: definition.login.caseSensitive)
        return try await database.write(tenant: definition.id, now: Int64(clock.now().timeIntervalSince1970)) { transaction in
            let customer = try await transaction.insertCustomer(CustomerRecord(customerType: "privato", customerCode: "FR-\(local)",
                                                                               firstName: "Anna", lastName: "Bianchi", createdAt: 0))
            let user = try await transaction.insertUser(UserRecord(customerId: customer, username: local, usernameKey: key,
                                                                   email: "\(local)@example.it", passwordHash: hash, role: "admin", createdAt: 0))
            return (customer, user, local)
        }
    }

    /// A policy of the customer with `product` (`motor` or `home`).
    fileprivate func formRulesPolicy(_ number: String, product: String, customer: Int64) async throws -> Int64 {
        let kind = try #require(definition.records?["policies"])
        let context = FieldContext(locale: "it", tenant: definition, today: CalendarDay(instant: Int64(clock.now().timeIntervalSince1970)))
        let values = try kind.validate(["number": number, "product": product], in: context).get()
        let draft = try #require(TenantRecordDraft(kind: "policies", of: kind, values: values, customerId: customer, userId: nil))
        return try await database.write(tenant: definition.id, now: Int64(clock.now().timeIntervalSince1970)) { try await $0.upsertRecord(draft) }
    }

    fileprivate func formRulesRequests(_ customer: Int64) async throws -> [RequestRecord] {
        try await database.read(tenant: definition.id) { try await $0.requests(customerId: customer) }
    }

    fileprivate func formRulesMove(_ id: Int64, to status: String) async throws {
        try await database.write(tenant: definition.id, now: Int64(clock.now().timeIntervalSince1970)) {
            try await $0.changeRequestStatus(id: id, to: status)
        }
    }
}

extension Browser {
    fileprivate func formRulesJSON(_ method: HTTPRequest.Method, _ path: String, token: String?,
                                   body: [String: Any]? = nil) async throws -> (status: HTTPResponse.Status, json: [String: Any]) {
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

    fileprivate func formRulesToken(_ username: String) async throws -> String {
        let answer = try await formRulesJSON(.post, "/api/v1/session", token: nil, body: ["identifier": username, "password": formRulesPassword])
        return try #require(answer.json["token"] as? String)
    }

    fileprivate func formRulesLogIn(_ username: String) async throws {
        let login = try await post("/login", ["identifier": username, "password": formRulesPassword])
        #expect(login.location == "/", "login as \(username)")
    }

    /// Submits the form `id` by the API.
    fileprivate func formRulesSubmit(_ id: String, _ fields: [String: Any], token: String) async throws -> (status: HTTPResponse.Status, json: [String: Any]) {
        try await formRulesJSON(.post, "/api/v1/requests", token: token, body: ["form": id, "fields": fields])
    }
}

/// The text of the paragraph with `id`, nil when there is none.
private func formRulesParagraph(_ html: String, id: String) -> String? {
    guard let start = html.range(of: "id=\"\(id)\">"), let end = html.range(of: "</p>", range: start.upperBound..<html.endIndex) else { return nil }
    return String(html[start.upperBound..<end.lowerBound])
}

/// The problem shown next to the field `name`.
private func formRulesError(_ html: String, _ name: String) -> String? { formRulesParagraph(html, id: "f-\(name)-error") }

/// The hint under the field `name`.
private func formRulesHint(_ html: String, _ name: String) -> String? { formRulesParagraph(html, id: "f-\(name)-hint") }

/// The message of a closed form on its page.
private func formRulesClosed(_ html: String) -> String? {
    guard let start = html.range(of: "<div class=\"form-error form-closed\" role=\"alert\"><p>"),
          let end = html.range(of: "</p>", range: start.upperBound..<html.endIndex) else { return nil }
    return String(html[start.upperBound..<end.lowerBound])
}

/// The API's field problems: field → code.
private func formRulesCodes(_ json: [String: Any]) -> [String: String] {
    let fields = (json["error"] as? [String: Any])?["fields"] as? [[String: Any]] ?? []
    return Dictionary(fields.compactMap { entry in (entry["field"] as? String).map { ($0, entry["code"] as? String ?? "") } }, uniquingKeysWith: { a, _ in a })
}

/// The API's field problems: field → message.
private func formRulesMessages(_ json: [String: Any]) -> [String: String] {
    let fields = (json["error"] as? [String: Any])?["fields"] as? [[String: Any]] ?? []
    return Dictionary(fields.compactMap { entry in (entry["field"] as? String).map { ($0, entry["message"] as? String ?? "") } }, uniquingKeysWith: { a, _ in a })
}

private func formRulesRequestId(_ location: String?) -> Int64? {
    guard let location, location.hasPrefix("/requests/") else { return nil }
    return Int64(location.dropFirst("/requests/".count).prefix { $0.isNumber })
}

/// The fields a stored request keeps, as its JSON payload holds them.
private func formRulesStored(_ request: RequestRecord?) -> [String: Any] {
    guard let request, let payload = (try? JSONSerialization.jsonObject(with: Data(request.payload.utf8))) as? [String: Any] else { return [:] }
    return payload["fields"] as? [String: Any] ?? [:]
}

/// The fields of a request as the API shows it: name → value.
private func formRulesAPIFields(_ json: [String: Any]) -> [String: Any] {
    let fields = json["fields"] as? [[String: Any]] ?? []
    return Dictionary(fields.compactMap { field in (field["name"] as? String).map { ($0, field["value"] ?? NSNull()) } }, uniquingKeysWith: { a, _ in a })
}

/// The form `id` in the API's list of forms.
private func formRulesAPIForm(_ json: [String: Any], _ id: String) -> [String: Any]? {
    (json["forms"] as? [[String: Any]])?.first { $0["id"] as? String == id }
}

/// The field `name` of a form in the API's list of forms.
private func formRulesAPIFormField(_ form: [String: Any]?, _ name: String) -> [String: Any]? {
    (form?["fields"] as? [[String: Any]])?.first { $0["name"] as? String == name }
}

/// The value shown after the label `label` on a request's page.
private func formRulesShown(_ html: String, _ label: String) -> String? {
    guard let start = html.range(of: "<dt>\(label)</dt><dd>"), let end = html.range(of: "</dd>", range: start.upperBound..<html.endIndex) else { return nil }
    return String(html[start.upperBound..<end.lowerBound])
}

/// Whether a JSON value is the boolean `flag` (not the number 1 or 0).
private func formRulesIsBool(_ value: Any?, _ flag: Bool) -> Bool {
    guard let value else { return false }
    if let bool = value as? Bool, type(of: value) == Bool.self { return bool == flag }
    guard let number = value as? NSNumber else { return false }
    // JSONSerialization reads `true`/`false` as boolean NSNumbers, `1`/`0` as integer ones.
    return String(cString: number.objCType) == "c" && number.boolValue == flag
}

@Suite("Request form rules")
struct RequestFormRulesTests {
    // MARK: Conditions

    @Test("conditional fields: shown ones are required with the message next to them, hidden ones are neither required nor stored even if sent; the page marks them",
          arguments: TestEngine.available)
    func conditionalFields(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "example", definition: try formRulesTenant()) { portal in
            let account = try await portal.formRulesAccount()
            let motor = try await portal.formRulesPolicy("POL-1", product: "motor", customer: account.customer)
            let home = try await portal.formRulesPolicy("POL-2", product: "home", customer: account.customer)
            let base: [String: String] = ["occurred_on": "2026-11-20", "description": "Danni alla carrozzeria"]
            try await portal.test { browser in
                try await browser.formRulesLogIn(account.username)
                let page = try await browser.get("/requests/new/claim")
                #expect(page.status == .ok)
                #expect(page.body.contains("<div class=\"conditional\" data-when-field=\"claim_type\" data-when-path=\"claim_type\" data-when-values=\"Incidente\">"))
                #expect(page.body.contains("<div class=\"conditional\" data-when-field=\"policy\" data-when-path=\"policy.product\" data-when-values=\"home\">"))
                #expect(page.body.contains("data-when-field=\"joint_report\" data-when-path=\"joint_report\" data-when-values=\"false\""))
                #expect(formRulesHint(page.body, "other_plate")?.hasPrefix("Solo se «Tipo di sinistro» è «Incidente».") == true,
                        "\(formRulesHint(page.body, "other_plate") ?? "-")")
                #expect(formRulesHint(page.body, "home_address")?.hasPrefix("Solo se «Polizza: Prodotto» è «Casa».") == true,
                        "\(formRulesHint(page.body, "home_address") ?? "-")")
                #expect(formRulesHint(page.body, "witness") == "Solo se «Constatazione amichevole» è «No».")
                #expect(page.body.contains("<option value=\"\(home)\" data-rf-product=\"home\">"), "each policy carries its product for the script")
                #expect(page.body.contains("<option value=\"\(motor)\" data-rf-product=\"motor\">"))
                #expect(page.body.contains("Denuncia il sinistro entro 3 giorni."), "the form's description")

                // A theft on a motor policy: the collision and home fields are hidden, so not required, and not stored though sent.
                var theft = base
                theft["policy"] = String(motor)
                theft["claim_type"] = "Furto"
                theft["other_plate"] = "ZZ999ZZ"
                theft["joint_report"] = "false"
                theft["home_address"] = "Via Roma 1, Milano"
                let accepted = try await browser.post("/requests/new/claim", theft)
                #expect(accepted.status == .seeOther, "\(formRulesError(accepted.body, "other_plate") ?? "")")
                let stored = formRulesStored(try await portal.formRulesRequests(account.customer).first)
                #expect(stored["claim_type"] as? String == "Furto")
                #expect(stored["other_plate"] == nil && stored["joint_report"] == nil && stored["witness"] == nil && stored["home_address"] == nil,
                        "hidden fields are not stored: \(stored.keys.sorted())")

                // A collision: the plate and the joint report are required, with the Italian messages next to them.
                var collision = base
                collision["policy"] = String(motor)
                collision["claim_type"] = "Incidente"
                let missing = try await browser.post("/requests/new/claim", collision)
                #expect(missing.status == .unprocessableContent)
                #expect(formRulesError(missing.body, "other_plate") == "Questo campo è obbligatorio.")
                #expect(formRulesError(missing.body, "joint_report") == "Compila il campo «Constatazione amichevole».")
                #expect(formRulesError(missing.body, "home_address") == nil && formRulesError(missing.body, "witness") == nil)
                // Without a joint report, the witness it waits for is required.
                collision["other_plate"] = "AB123CD"
                collision["joint_report"] = "false"
                let noWitness = try await browser.post("/requests/new/claim", collision)
                #expect(noWitness.status == .unprocessableContent && formRulesError(noWitness.body, "witness") == "Questo campo è obbligatorio.")
                #expect(noWitness.body.contains("value=\"AB123CD\""), "what was typed is shown again")

                // A home policy: the address is required; with it, it is stored.
                var homeClaim = base
                homeClaim["policy"] = String(home)
                homeClaim["claim_type"] = "Furto"
                let noAddress = try await browser.post("/requests/new/claim", homeClaim)
                #expect(noAddress.status == .unprocessableContent)
                #expect(formRulesError(noAddress.body, "home_address") == "Questo campo è obbligatorio.")
                #expect(formRulesError(noAddress.body, "other_plate") == nil)
                homeClaim["home_address"] = "Via Roma 1, Milano"
                let withAddress = try await browser.post("/requests/new/claim", homeClaim)
                #expect(withAddress.status == .seeOther)
                let id = try #require(formRulesRequestId(withAddress.location))
                let requests = try await portal.formRulesRequests(account.customer)
                #expect(requests.count == 2)
                let second = formRulesStored(requests.first { $0.id == id })
                #expect(second["home_address"] as? String == "Via Roma 1, Milano")

                // The API decides the same way.
                let token = try await browser.formRulesToken(account.username)
                let forms = try await browser.formRulesJSON(.get, "/api/v1/requests/forms", token: token)
                let claim = formRulesAPIForm(forms.json, "claim")
                #expect(claim?["description"] as? String == "Denuncia il sinistro entro 3 giorni.")
                let plateWhen = formRulesAPIFormField(claim, "other_plate")?["when"] as? [String: Any]
                #expect(plateWhen?["field"] as? String == "claim_type" && plateWhen?["equals"] as? String == "Incidente")
                let addressWhen = formRulesAPIFormField(claim, "home_address")?["when"] as? [String: Any]
                #expect(addressWhen?["field"] as? String == "policy.product" && addressWhen?["equals"] as? String == "home")
                #expect(formRulesAPIFormField(claim, "description")?["when"] == nil)

                let apiMissing = try await browser.formRulesSubmit("claim", ["policy": motor, "claim_type": "Incidente", "occurred_on": "2026-11-20",
                                                                            "description": "Tamponamento", "home_address": "Via Roma 1"], token: token)
                #expect(apiMissing.status == .unprocessableContent)
                #expect(formRulesCodes(apiMissing.json) == ["other_plate": "required", "joint_report": "required"], "\(formRulesCodes(apiMissing.json))")
                let apiHome = try await browser.formRulesSubmit("claim", ["policy": home, "claim_type": "Furto", "occurred_on": "2026-11-20",
                                                                         "description": "Furto in casa"], token: token)
                #expect(apiHome.status == .unprocessableContent && formRulesCodes(apiHome.json) == ["home_address": "required"])
                let apiTheft = try await browser.formRulesSubmit("claim", ["policy": motor, "claim_type": "Furto", "occurred_on": "2026-11-20",
                                                                          "description": "Furto dell'auto", "other_plate": "ZZ999ZZ",
                                                                          "joint_report": true, "home_address": "Via Roma 1"], token: token)
                #expect(apiTheft.status == .created)
                let shown = formRulesAPIFields(apiTheft.json)
                #expect(shown["other_plate"] == nil && shown["joint_report"] == nil && shown["home_address"] == nil, "\(shown.keys.sorted())")
                let apiCollision = try await browser.formRulesSubmit("claim", ["policy": motor, "claim_type": "Incidente", "occurred_on": "2026-11-20",
                                                                              "description": "Tamponamento", "other_plate": "AB123CD",
                                                                              "joint_report": true, "home_address": "Via Roma 1"], token: token)
                #expect(apiCollision.status == .created)
                let collisionFields = formRulesAPIFields(apiCollision.json)
                #expect(collisionFields["other_plate"] as? String == "AB123CD" && formRulesIsBool(collisionFields["joint_report"], true),
                        "\(collisionFields)")
                #expect(collisionFields["home_address"] == nil && collisionFields["witness"] == nil)
            }
            #expect(try await portal.formRulesRequests(account.customer).count == 4)
        }
    }

    // MARK: Typed fields

    @Test("typed fields: integer bounds, decimals kept exact (12,5 and 12.5 stored as 12.50), too many decimals, yes/no, relative date bounds, options of a tenant enum",
          arguments: TestEngine.available)
    func typedFields(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "example", definition: try formRulesTenant()) { portal in
            let account = try await portal.formRulesAccount()
            let good: [String: String] = ["people": "3", "damage": "12,5", "towed": "true", "seen_on": "2026-11-19", "product": "home"]
            try await portal.test { browser in
                try await browser.formRulesLogIn(account.username)
                let page = try await browser.get("/requests/new/reading")
                #expect(page.status == .ok)
                #expect(page.body.contains("name=\"people\" type=\"text\" value=\"\" autocomplete=\"off\" inputmode=\"numeric\" min=\"0\" max=\"20\""))
                #expect(page.body.contains("name=\"damage\" type=\"text\" value=\"\" autocomplete=\"off\" inputmode=\"decimal\" min=\"0.00\" max=\"100000.00\""))
                #expect(page.body.contains("name=\"seen_on\" type=\"date\" value=\"\" autocomplete=\"off\" min=\"2026-11-18\" max=\"2026-11-21\""),
                        "relative bounds resolved on the day shown")
                #expect(formRulesHint(page.body, "people") == "Valore ammesso: da 0 a 20.")
                #expect(formRulesHint(page.body, "damage") == "Valore ammesso: da 0,00 a 100000,00.", "decimals written the Italian way")
                #expect(page.body.contains("<input type=\"radio\" name=\"product\" value=\"motor\"> Auto</label>"), "the enum's labels, its ids sent")
                #expect(page.body.contains("<input type=\"radio\" name=\"product\" value=\"home\"> Casa</label>"))
                #expect(page.body.contains("<input type=\"radio\" name=\"towed\" value=\"true\"> Sì</label>"))
                #expect(page.body.contains("<input type=\"radio\" name=\"towed\" value=\"false\"> No</label>"))

                for (field, value, expected) in [
                    ("people", "21", "«Persone coinvolte» può essere al massimo 20."),
                    ("people", "-1", "«Persone coinvolte» deve essere almeno 0."),
                    ("people", "2,5", "«Persone coinvolte» deve essere un numero intero, ad esempio 42."),
                    ("damage", "12,555", "«Stima del danno» può avere al massimo 2 cifre decimali."),
                    ("damage", "100000,01", "«Stima del danno» può essere al massimo 100000,00."),
                    ("towed", "forse", "«Veicolo trainato»: rispondi sì o no."),
                    ("seen_on", "2026-11-17", "«Data del sopralluogo» non può essere prima del 18/11/2026."),
                    ("seen_on", "2026-11-22", "«Data del sopralluogo» non può essere dopo il 21/11/2026."),
                    ("product", "boat", "«Prodotto»: scegli una delle opzioni proposte."),
                ] {
                    var fields = good
                    fields[field] = value
                    let refused = try await browser.post("/requests/new/reading", fields)
                    #expect(refused.status == .unprocessableContent, "\(field) = \(value)")
                    #expect(formRulesError(refused.body, field) == expected, "\(field) = \(value): \(formRulesError(refused.body, field) ?? "-")")
                }
                let empty = try await browser.post("/requests/new/reading", [:])
                #expect(empty.status == .unprocessableContent)
                for field in ["people", "damage", "towed", "seen_on", "product"] { #expect(formRulesError(empty.body, field) != nil, "\(field) is required") }
                #expect(try await portal.formRulesRequests(account.customer).isEmpty, "nothing stored while refused")

                let accepted = try await browser.post("/requests/new/reading", good)
                #expect(accepted.status == .seeOther)
                let id = try #require(formRulesRequestId(accepted.location))
                let stored = formRulesStored(try await portal.formRulesRequests(account.customer).first)
                #expect(stored["damage"] as? String == "12.50", "exact text, never 125 nor a binary float: \(String(describing: stored["damage"]))")
                #expect((stored["people"] as? NSNumber)?.int64Value == 3)
                #expect(formRulesIsBool(stored["towed"], true), "\(String(describing: stored["towed"]))")
                #expect(stored["seen_on"] as? String == "2026-11-19")
                #expect(stored["product"] as? String == "home", "the option's id is stored")

                let detail = try await browser.get("/requests/\(id)")
                #expect(formRulesShown(detail.body, "Stima del danno") == "12,50")
                #expect(formRulesShown(detail.body, "Persone coinvolte") == "3")
                #expect(formRulesShown(detail.body, "Veicolo trainato") == "Sì")
                #expect(formRulesShown(detail.body, "Prodotto") == "Casa", "the option's label is shown")
                #expect(formRulesShown(detail.body, "Data del sopralluogo") == "19/11/2026")

                var dotted = good
                dotted["damage"] = "12.5"
                let second = try await browser.post("/requests/new/reading", dotted)
                #expect(second.status == .seeOther)
                let both = try await portal.formRulesRequests(account.customer)
                #expect(both.count == 2 && both.allSatisfy { formRulesStored($0)["damage"] as? String == "12.50" })

                // The API: the same checks, codes per field, and the stored values.
                let token = try await browser.formRulesToken(account.username)
                let forms = try await browser.formRulesJSON(.get, "/api/v1/requests/forms", token: token)
                let reading = formRulesAPIForm(forms.json, "reading")
                let people = formRulesAPIFormField(reading, "people")
                #expect(people?["type"] as? String == "integer" && people?["min"] as? String == "0" && people?["max"] as? String == "20")
                #expect(people?["max_length"] == nil)
                #expect((formRulesAPIFormField(reading, "damage")?["scale"] as? NSNumber)?.intValue == 2)
                #expect(formRulesAPIFormField(reading, "seen_on")?["min"] as? String == "-3d")
                #expect(formRulesAPIFormField(reading, "towed")?["options"] as? [String] == ["true", "false"])
                let product = formRulesAPIFormField(reading, "product")
                #expect(product?["options"] as? [String] == ["motor", "home"])
                #expect(product?["option_labels"] as? [String: String] == ["motor": "Auto", "home": "Casa"])

                let refused = try await browser.formRulesSubmit("reading", ["people": 21, "damage": "12.345", "towed": "forse",
                                                                           "seen_on": "2026-11-10", "product": "boat"], token: token)
                #expect(refused.status == .unprocessableContent)
                #expect(formRulesCodes(refused.json) == ["people": "above_maximum", "damage": "too_many_decimals", "towed": "invalid_boolean",
                                                        "seen_on": "too_early", "product": "invalid_option"], "\(formRulesCodes(refused.json))")
                #expect(try await portal.formRulesRequests(account.customer).count == 2)

                let created = try await browser.formRulesSubmit("reading", ["people": 0, "damage": "12.5", "towed": false,
                                                                           "seen_on": "2026-11-21", "product": "motor"], token: token)
                #expect(created.status == .created)
                let values = formRulesAPIFields(created.json)
                #expect(values["damage"] as? String == "12.50", "\(String(describing: values["damage"]))")
                #expect((values["people"] as? NSNumber)?.int64Value == 0)
                #expect(formRulesIsBool(values["towed"], false), "a boolean, not 0: \(String(describing: values["towed"]))")
                #expect(values["product"] as? String == "motor")
                let createdId = try #require(((created.json["request"] as? [String: Any])?["id"] as? NSNumber)?.int64Value)
                let again = try await browser.formRulesJSON(.get, "/api/v1/requests/\(createdId)", token: token)
                #expect(formRulesAPIFields(again.json)["damage"] as? String == "12.50")
                let third = formRulesStored(try await portal.formRulesRequests(account.customer).first { $0.id == createdId })
                #expect(third["damage"] as? String == "12.50" && third["product"] as? String == "motor")
            }
        }
    }

    // MARK: Opening windows

    @Test("an opening window: outside it the page answers 409 naming the next opening (in Italian and English), the API form_closed with opens_at; inside it the request is taken",
          arguments: TestEngine.available)
    func openingWindow(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "example", definition: try formRulesTenant()) { portal in
            let account = try await portal.formRulesAccount()
            // Saturday 21 November 2026, noon in Rome: the call-back form opens again on Monday at 09:00.
            #expect(portal.clock.now() == romeTime(2026, 11, 21, 12))
            try await portal.test { browser in
                try await browser.formRulesLogIn(account.username)
                let list = try await browser.get("/requests")
                #expect(formRulesParagraph(list.body, id: "window-callback") == "Apre lunedì 23 novembre 2026, 09:00")
                #expect(formRulesParagraph(list.body, id: "window-claim") == nil, "a form without windows is always open")
                #expect(!list.body.contains("href=\"/requests/new/callback\""), "no link to a closed form")
                #expect(list.body.contains("href=\"/requests/new/claim\""))

                let page = try await browser.get("/requests/new/callback")
                #expect(formRulesClosed(page.body) == "Questo modulo ora non accetta richieste: riapre lunedì 23 novembre 2026, 09:00.")
                #expect(!page.body.contains(">Invia la richiesta</button>"), "no submit button while closed")
                let refused = try await browser.post("/requests/new/callback", ["topic": "Rinnovo"])
                #expect(refused.status == .conflict)
                #expect(formRulesClosed(refused.body) == "Questo modulo ora non accetta richieste: riapre lunedì 23 novembre 2026, 09:00.")

                let token = try await browser.formRulesToken(account.username)
                let api = try await browser.formRulesSubmit("callback", ["topic": "Rinnovo"], token: token)
                #expect(api.status == .conflict)
                let error = api.json["error"] as? [String: Any]
                #expect(error?["code"] as? String == "form_closed")
                #expect(error?["opens_at"] as? String == "2026-11-23T08:00:00Z")
                #expect((error?["message"] as? String)?.hasSuffix("riapre lunedì 23 novembre 2026, 09:00.") == true)
                let forms = try await browser.formRulesJSON(.get, "/api/v1/requests/forms", token: token)
                let callback = formRulesAPIForm(forms.json, "callback")
                #expect(callback?["open"] as? Bool == false && callback?["available"] as? Bool == false)
                #expect(callback?["opens_at"] as? String == "2026-11-23T08:00:00Z" && callback?["closes_at"] == nil)
                #expect(formRulesAPIForm(forms.json, "claim")?["open"] as? Bool == true)

                // A window that has ended for good: no next opening to name.
                #expect(formRulesParagraph(list.body, id: "window-promo") == "Non più disponibile")
                let promo = formRulesAPIForm(forms.json, "promo")
                #expect(promo?["open"] as? Bool == false && promo?["opens_at"] == nil)
                let late = try await browser.post("/requests/new/promo", ["code": "NATALE"])
                #expect(late.status == .conflict && formRulesClosed(late.body) == "Questo modulo non accetta più richieste.")
                let lateAPI = try await browser.formRulesSubmit("promo", ["code": "NATALE"], token: token)
                #expect(lateAPI.status == .conflict)
                let lateError = lateAPI.json["error"] as? [String: Any]
                #expect(lateError?["code"] as? String == "form_closed" && lateError?["opens_at"] == nil)
            }
            try await portal.test { browser in
                // The same user reading in English.
                try await browser.formRulesLogIn(account.username)
                let list = try await browser.get("/requests?lang=en")
                #expect(formRulesParagraph(list.body, id: "window-callback") == "Opens on Monday 23 November 2026, 09:00")
                let refused = try await browser.post("/requests/new/callback", ["topic": "Renewal"])
                #expect(refused.status == .conflict)
                #expect(formRulesClosed(refused.body) == "This form does not take requests now: it opens again on Monday 23 November 2026, 09:00.")
                // The switch is remembered on the user (a new browser would open in English): back to Italian.
                _ = try await browser.get("/requests?lang=it")
            }
            #expect(try await portal.formRulesRequests(account.customer).isEmpty, "nothing stored while closed")

            // Monday 23 November 2026, 10:00: open until 18:00.
            portal.clock.set(romeTime(2026, 11, 23, 10))
            try await portal.test { browser in
                try await browser.formRulesLogIn(account.username)
                let list = try await browser.get("/requests")
                #expect(formRulesParagraph(list.body, id: "window-callback") == "Aperto fino a lunedì 23 novembre 2026, 18:00")
                #expect(list.body.contains("href=\"/requests/new/callback\""))
                let page = try await browser.get("/requests/new/callback")
                #expect(page.body.contains(">Invia la richiesta</button>") && formRulesClosed(page.body) == nil)
                #expect(page.body.contains("<p class=\"hint form-window\">Aperto fino a lunedì 23 novembre 2026, 18:00</p>"))
                let accepted = try await browser.post("/requests/new/callback", ["topic": "Rinnovo"])
                #expect(accepted.status == .seeOther && formRulesRequestId(accepted.location) != nil)
                let token = try await browser.formRulesToken(account.username)
                let api = try await browser.formRulesSubmit("callback", ["topic": "Disdetta"], token: token)
                #expect(api.status == .created)
                let forms = try await browser.formRulesJSON(.get, "/api/v1/requests/forms", token: token)
                let callback = formRulesAPIForm(forms.json, "callback")
                #expect(callback?["open"] as? Bool == true && callback?["opens_at"] == nil)
                #expect(callback?["closes_at"] as? String == "2026-11-23T17:00:00Z")
            }
            #expect(try await portal.formRulesRequests(account.customer).count == 2)

            // 18:00 sharp: closed again until Tuesday.
            portal.clock.set(romeTime(2026, 11, 23, 18))
            try await portal.test { browser in
                try await browser.formRulesLogIn(account.username)
                let refused = try await browser.post("/requests/new/callback", ["topic": "Rinnovo"])
                #expect(refused.status == .conflict)
                #expect(formRulesClosed(refused.body) == "Questo modulo ora non accetta richieste: riapre martedì 24 novembre 2026, 09:00.")
            }
            #expect(try await portal.formRulesRequests(account.customer).count == 2)
        }
    }

    @Test("windows that apply per product of the picked policy: a motor renewal is taken in November, a home one is refused until May",
          arguments: TestEngine.available)
    func windowPerRecord(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "example", definition: try formRulesTenant()) { portal in
            let account = try await portal.formRulesAccount()
            let motor = try await portal.formRulesPolicy("POL-1", product: "motor", customer: account.customer)
            let home = try await portal.formRulesPolicy("POL-2", product: "home", customer: account.customer)
            portal.clock.set(romeTime(2026, 11, 23, 10))
            try await portal.test { browser in
                try await browser.formRulesLogIn(account.username)
                let list = try await browser.get("/requests")
                #expect(formRulesParagraph(list.body, id: "window-renewal") == "Aperto fino a lunedì 23 novembre 2026, 18:00",
                        "open for some choice of policy")
                let refused = try await browser.post("/requests/new/renewal", ["policy": String(home), "notes": "Rate semestrali"])
                #expect(refused.status == .conflict)
                #expect(formRulesClosed(refused.body) == "Questo modulo ora non accetta richieste: riapre lunedì 3 maggio 2027, 09:00.")
                #expect(try await portal.formRulesRequests(account.customer).isEmpty)
                let accepted = try await browser.post("/requests/new/renewal", ["policy": String(motor), "notes": "Rate semestrali"])
                #expect(accepted.status == .seeOther)

                let token = try await browser.formRulesToken(account.username)
                let api = try await browser.formRulesSubmit("renewal", ["policy": home], token: token)
                #expect(api.status == .conflict)
                let error = api.json["error"] as? [String: Any]
                #expect(error?["code"] as? String == "form_closed" && error?["opens_at"] as? String == "2027-05-03T07:00:00Z")
                let created = try await browser.formRulesSubmit("renewal", ["policy": motor], token: token)
                #expect(created.status == .created)
                // No policy picked: no window applies, and the missing policy is the problem.
                let none = try await browser.formRulesSubmit("renewal", [:], token: token)
                #expect(none.status == .unprocessableContent && formRulesCodes(none.json)["policy"] != nil)
            }
            #expect(try await portal.formRulesRequests(account.customer).count == 2)

            // A Saturday: closed for both, the next opening the motor window's Monday.
            portal.clock.set(romeTime(2026, 11, 28, 11))
            try await portal.test { browser in
                try await browser.formRulesLogIn(account.username)
                let list = try await browser.get("/requests")
                #expect(formRulesParagraph(list.body, id: "window-renewal") == "Apre lunedì 30 novembre 2026, 09:00")
                let refused = try await browser.post("/requests/new/renewal", ["policy": String(motor)])
                #expect(refused.status == .conflict)
                #expect(formRulesClosed(refused.body)?.hasSuffix("riapre lunedì 30 novembre 2026, 09:00.") == true)
            }
            #expect(try await portal.formRulesRequests(account.customer).count == 2)
        }
    }

    // MARK: Deadlines

    @Test("a deadline: a date too far back is refused next to the field naming the last day; one in time is taken",
          arguments: TestEngine.available)
    func deadline(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "example", definition: try formRulesTenant()) { portal in
            let account = try await portal.formRulesAccount()
            let motor = try await portal.formRulesPolicy("POL-1", product: "motor", customer: account.customer)
            let claim: [String: String] = ["policy": String(motor), "claim_type": "Furto", "description": "Furto dell'auto"]
            // Saturday 21 November 2026: a loss of the 17th had to be reported by the 20th.
            try await portal.test { browser in
                try await browser.formRulesLogIn(account.username)
                var late = claim
                late["occurred_on"] = "2026-11-17"
                let refused = try await browser.post("/requests/new/claim", late)
                #expect(refused.status == .unprocessableContent)
                #expect(formRulesError(refused.body, "occurred_on")
                        == "Il termine è scaduto: con «Data del sinistro» indicata, la richiesta andava inviata entro il 20/11/2026.")
                let english = try await browser.post("/requests/new/claim?lang=en", late)
                #expect(english.status == .unprocessableContent)
                #expect(formRulesError(english.body, "occurred_on")?.contains("had to be sent by 20/11/2026") == true,
                        "\(formRulesError(english.body, "occurred_on") ?? "-")")
                // The English page is remembered as the user's language; back to Italian for what follows.
                _ = try await browser.get("/requests?lang=it")

                let token = try await browser.formRulesToken(account.username)
                let api = try await browser.formRulesSubmit("claim", ["policy": motor, "claim_type": "Furto", "occurred_on": "2026-11-17",
                                                                     "description": "Furto"], token: token)
                #expect(api.status == .unprocessableContent)
                #expect(formRulesCodes(api.json) == ["occurred_on": "deadline_passed"])
                #expect(formRulesMessages(api.json)["occurred_on"]?.contains("20/11/2026") == true)
                #expect(try await portal.formRulesRequests(account.customer).isEmpty)

                var inTime = claim
                inTime["occurred_on"] = "18/11/2026"
                let accepted = try await browser.post("/requests/new/claim", inTime)
                #expect(accepted.status == .seeOther, "the last day itself is in time: \(formRulesError(accepted.body, "occurred_on") ?? "")")
                #expect(formRulesStored(try await portal.formRulesRequests(account.customer).first)["occurred_on"] as? String == "2026-11-18")
            }
            // Past midnight in Rome (still the 21st in UTC), the 18th is too late.
            portal.clock.set(romeTime(2026, 11, 22, 0, 30))
            try await portal.test { browser in
                try await browser.formRulesLogIn(account.username)
                var late = claim
                late["occurred_on"] = "2026-11-18"
                let refused = try await browser.post("/requests/new/claim", late)
                #expect(refused.status == .unprocessableContent)
                #expect(formRulesError(refused.body, "occurred_on")?.hasSuffix("entro il 21/11/2026.") == true,
                        "\(formRulesError(refused.body, "occurred_on") ?? "-")")
                let token = try await browser.formRulesToken(account.username)
                let created = try await browser.formRulesSubmit("claim", ["policy": motor, "claim_type": "Furto", "occurred_on": "2026-11-19",
                                                                         "description": "Furto"], token: token)
                #expect(created.status == .created)
            }
            #expect(try await portal.formRulesRequests(account.customer).count == 2)
        }
    }

    // MARK: Status labels

    @Test("status_labels name the lifecycle's statuses on the pages and in the API; the raw status is never shown",
          arguments: TestEngine.available)
    func statusLabels(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "example", definition: try formRulesTenant()) { portal in
            let account = try await portal.formRulesAccount()
            let motor = try await portal.formRulesPolicy("POL-1", product: "motor", customer: account.customer)
            try await portal.test { browser in
                try await browser.formRulesLogIn(account.username)
                let posted = try await browser.post("/requests/new/claim", ["policy": String(motor), "claim_type": "Furto", "occurred_on": "2026-11-20",
                                                                            "description": "Furto dell'auto"])
                let id = try #require(formRulesRequestId(posted.location))
                let detail = try await browser.get("/requests/\(id)")
                #expect(detail.body.contains("<span class=\"request-status status-received\">Presa in carico</span>"))
                #expect(detail.body.contains("aria-current=\"step\">Presa in carico</li>"))
                #expect(detail.body.contains(">In istruttoria</li>") && detail.body.contains(">Chiusa</li>"))
                #expect(!detail.body.contains(">received<") && !detail.body.contains(">under review<"))
                let list = try await browser.get("/requests")
                #expect(list.body.contains("<span class=\"request-status status-received\">Presa in carico</span>"))

                let token = try await browser.formRulesToken(account.username)
                let api = try await browser.formRulesJSON(.get, "/api/v1/requests/\(id)", token: token)
                let request = api.json["request"] as? [String: Any]
                #expect(request?["status"] as? String == "received" && request?["status_label"] as? String == "Presa in carico")
                #expect((api.json["history"] as? [[String: Any]])?.first?["status_label"] as? String == "Presa in carico")
                let forms = try await browser.formRulesJSON(.get, "/api/v1/requests/forms", token: token)
                #expect(formRulesAPIForm(forms.json, "claim")?["status_labels"] as? [String: String]
                        == ["received": "Presa in carico", "under_review": "In istruttoria", "closed": "Chiusa"])

                try await portal.formRulesMove(id, to: "under_review")
                let moved = try await browser.get("/requests/\(id)")
                #expect(moved.body.contains("<span class=\"request-status status-under_review\">In istruttoria</span>"))
                let english = try await browser.get("/requests/\(id)?lang=en")
                #expect(english.body.contains("<span class=\"request-status status-under_review\">Under review</span>"))
                #expect(english.body.contains(">Taken in charge</li>"))
                _ = try await browser.get("/requests?lang=it")
                let listed = try await browser.formRulesJSON(.get, "/api/v1/requests", token: token)
                let summary = (listed.json["requests"] as? [[String: Any]])?.first
                #expect(summary?["status"] as? String == "under_review" && summary?["status_label"] as? String == "In istruttoria")
                let history = try await browser.formRulesJSON(.get, "/api/v1/requests/\(id)", token: token)
                #expect(((history.json["history"] as? [[String: Any]]) ?? []).compactMap { $0["status_label"] as? String }
                        == ["Presa in carico", "In istruttoria"])
            }
        }
    }
}
