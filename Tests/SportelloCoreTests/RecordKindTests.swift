import Foundation
import Testing
@testable import SportelloCore

/// The example tenant with a `fleet` section, two features that open vehicles (all of the customer's, and one's
/// own), a `driver` role that sees only its own vehicles, and a self-service registration that verifies a customer
/// by a vehicle's plate and the tax code.
let recordBaseTenant: String = {
    var text = SchemaExport.exampleTenant
    for (old, new) in [
        ("\nsections:\n", "\nsections:\n  fleet: {label: {it: Flotta, en: Fleet}}\n"),
        ("\nfeatures:\n", "\nfeatures:\n  vehicles.view: {label: Veicoli, section: fleet}\n  vehicles.mine: {label: I miei veicoli, section: fleet}\n"),
        ("grants: [invoices.view, invoices.pay]", "grants: [invoices.view, invoices.pay, vehicles.view, vehicles.mine]"),
        ("  member:\n", "  driver:\n    label: Autista\n    grants: [vehicles.mine]\n  member:\n"),
        ("\nflows:\n", """

        flows:
          self_service:
            kind: registration
            label: Registrati
            role: member
            steps:
              - {step: verify_customer, match: [vehicles.plate, tax_code]}
              - {step: credentials, username: email}
              - {step: password}
              - {step: activation, expires: 2d, deliver_to: [customer.email]}

        """),
    ] {
        precondition(text.components(separatedBy: old).count == 2, "the example tenant changed: \(old)")
        text = text.replacingOccurrences(of: old, with: new)
    }
    return text
}()

/// Two kinds: vehicles of the customer, and maintenance jobs that belong to a vehicle.
let recordKindsYAML = """
records:
  maintenance:
    label: {it: Intervento, en: Service}
    label_plural: {it: Interventi, en: Services}
    owner: vehicles
    section: fleet
    external_id: job
    date: done_on
    fields:
      job: {label: {it: Commessa, en: Job}, type: text, generator: {template: "J-#####"}}
      done_on: {label: {it: Data, en: Date}, type: date, validators: [{range: {max: today}}]}
      cost: {label: {it: Costo, en: Cost}, type: decimal}
      km: {label: Km, type: integer, validators: [{range: {min: 0, max: 400000}}]}
    access: [{feature: vehicles.view}]
    chart: {kind: line, series: [{field: cost}, {field: km}]}
  vehicles:
    label: {it: Veicolo, en: Vehicle}
    label_plural: {it: Veicoli, en: Vehicles}
    section: fleet
    external_id: plate
    date: registered_on
    fields:
      plate: {label: {it: Targa, en: Number plate}, type: text, normalize: [uppercase], validators: [{check: italian_plate}], examples: [AB123CD]}
      registered_on: {label: {it: Immatricolazione, en: Registered on}, type: date, validators: [{range: {max: today}}]}
      fuel: {label: {it: Alimentazione, en: Fuel}, type: enum, options: {petrol: {it: Benzina, en: Petrol}, electric: {it: Elettrica, en: Electric}}}
      value: {label: {it: Valore, en: Value}, type: decimal, scale: 2}
    retention: {visible_for: 10y, delete_after: 11y}
    access:
      - {feature: vehicles.view, scope: all}
      - {feature: vehicles.mine, scope: own}
    list: {columns: [plate, fuel, registered_on], filters: [fuel, registered_on, value], page_size: 20}
    chart: {kind: bar, x: registered_on, series: [{field: value, label: {it: Valore, en: Value}}], period: month}

"""

/// The base tenant with its record kinds, loaded; nil when it does not load.
func recordTenant(_ extra: String = "") -> TenantDefinition? {
    TenantLoader(capabilities: .portal).load(sources: [(file: "example.yaml", text: recordBaseTenant + recordKindsYAML + extra)])
        .tenants.first?.definition
}

/// A broken record kind: edits to the base tenant and records, and the one diagnostic they must produce.
struct BrokenRecordCase: Sendable, CustomTestStringConvertible {
    var name: String
    var edits: [(String, String)]
    var severity: Diagnostic.Severity
    var code: String
    /// Text whose first occurrence after `after` starts where the diagnostic must point.
    var at: String
    var after: String
    var offset: Int
    var message: String
    var hint: String?
    var testDescription: String { name }

    init(_ name: String, _ edits: [(String, String)], _ code: String, at: String, after: String = "\nrecords:\n", offset: Int = 0,
         _ message: String, hint: String? = nil, severity: Diagnostic.Severity = .error) {
        self.name = name
        self.edits = edits
        self.severity = severity
        self.code = code
        self.at = at
        self.after = after
        self.offset = offset
        self.message = message
        self.hint = hint
    }

    /// The source with the edits applied; nil when an edit's old text is not there exactly once.
    var source: String? {
        var text = recordBaseTenant + recordKindsYAML
        for (old, new) in edits {
            guard text.components(separatedBy: old).count == 2 else { return nil }
            text = text.replacingOccurrences(of: old, with: new)
        }
        return text
    }

    var expectedLocation: String? {
        guard let text = source, let anchor = text.range(of: after),
              let found = text.range(of: at, range: anchor.upperBound..<text.endIndex) else { return nil }
        let before = text[..<found.lowerBound]
        let line = before.filter { $0 == "\n" }.count + 1
        let column = before.distance(from: before.lastIndex(of: "\n").map { before.index(after: $0) } ?? before.startIndex, to: before.endIndex) + 1
        return "example.yaml:\(line):\(column + offset)"
    }
}

@Suite("Record kinds: the YAML, its located errors, and the Core model")
struct RecordKindTests {
    static let today = CalendarDay(year: 2026, month: 3, day: 15)

    @Test func theBaseDefinitionLoadsWithoutDiagnostics() throws {
        let result = TenantLoader(capabilities: .portal).load(sources: [(file: "example.yaml", text: recordBaseTenant + recordKindsYAML)])
        #expect(result.diagnostics.map(\.description) == [])
        let tenant = try #require(result.tenants.first?.definition)
        #expect(tenant.recordKinds.keys == ["maintenance", "vehicles"])
        #expect(tenant.recordKindsOwnersFirst == ["vehicles", "maintenance"])
        #expect(tenant.recordKinds(ownedBy: "vehicles") == ["maintenance"])
        let vehicles = try #require(tenant.records?["vehicles"])
        #expect(vehicles.ownerKind == nil && tenant.records?["maintenance"]?.ownerKind == "vehicles")
        #expect(vehicles.labelPlural.resolve("en") == "Vehicles")
        #expect(vehicles.listColumns == ["plate", "fuel", "registered_on"] && vehicles.pageSize == 20)
        #expect(tenant.records?["maintenance"]?.listColumns == ["job", "done_on", "cost", "km"])
        #expect(tenant.records?["maintenance"]?.pageSize == 25)
        #expect(vehicles.features == ["vehicles.view", "vehicles.mine"])
        #expect(vehicles.visibleFrom(today: Self.today) == CalendarDay(year: 2016, month: 3, day: 15))
        #expect(vehicles.deleteBefore(today: Self.today) == CalendarDay(year: 2015, month: 3, day: 15))
        #expect(tenant.records?["maintenance"]?.visibleFrom(today: Self.today) == nil)
        let chart = try #require(tenant.records?["maintenance"]?.chart)
        #expect(chart.xField(of: try #require(tenant.records?["maintenance"])) == "done_on" && chart.resolvedPeriod == .month)
        #expect(vehicles.chart?.kind == .bar && vehicles.chart?.series.first?.label?.resolve("it") == "Valore")
    }

    @Test func theReferenceExamplesOfTheNewKeysLoadCleanly() throws {
        let properties = TenantSchema.tenantProperties(.portal)
        let records = try #require(properties.first { $0.key == "records" }?.example)
        let yaml = recordBaseTenant.replacingOccurrences(of: "  vehicles.mine: {label: I miei veicoli, section: fleet}\n", with: "")
            .replacingOccurrences(of: "fleet: {label", with: "vehicles: {label")
            .replacingOccurrences(of: "section: fleet}", with: "section: vehicles}")
            .replacingOccurrences(of: "{step: verify_customer, match: [vehicles.plate, tax_code]}", with: "{step: verify_customer, match: [tax_code]}")
            .replacingOccurrences(of: ", vehicles.view, vehicles.mine]", with: ", vehicles.view]")
            .replacingOccurrences(of: "    grants: [vehicles.mine]\n", with: "")
            + "records: \(records)\n"
        let result = TenantLoader(capabilities: .portal).load(sources: [(file: "example.yaml", text: yaml)])
        #expect(result.diagnostics.map(\.description) == [])
        for (object, key) in [(TenantSchema.recordKind, "fields"), (TenantSchema.recordKind, "access"), (TenantSchema.recordChart, "series"),
                              (TenantSchema.recordList, "filters"), (TenantSchema.step, "match")] {
            #expect(object.property(key)?.example != nil, "\(object.name).\(key) has no example")
        }
        #expect(TenantSchema.recordKind.properties.allSatisfy { !$0.doc.isEmpty })
        #expect(TenantSchema.tenant(.portal).property("records") != nil)
        #expect(TenantSchema.step.property("match")?.doc.contains("<record kind>.<field>") == true)
    }

    // MARK: Located errors

    static let brokenCases: [BrokenRecordCase] = [
        BrokenRecordCase("a kind named like a built-in kind", [("  maintenance:\n", "  invoices:\n")], "reserved-record-kind", at: "invoices:",
                         "'invoices' is a built-in kind of record: a record kind cannot take its name", hint: "give the kind another id, for example 'my_invoices'"),
        BrokenRecordCase("a kind named like a built-in kind's singular", [("  maintenance:\n", "  line:\n")], "reserved-record-kind", at: "line:",
                         "'line' is a built-in kind of record: a record kind cannot take its name", hint: "give the kind another id, for example 'my_line'"),
        BrokenRecordCase("a kind id with a dash", [("  maintenance:\n", "  car-service:\n")], "invalid-id", at: "car-service:",
                         "record kind id 'car-service' may hold only lowercase letters, digits and '_'", hint: "for example 'car_service'"),
        BrokenRecordCase("an owner that is no kind", [("owner: vehicles", "owner: vehicle")], "unknown-record-kind", at: "vehicle\n", offset: 0,
                         "owner 'vehicle' of record kind 'maintenance' is neither 'customer' nor a record kind", hint: "did you mean 'vehicles'?"),
        BrokenRecordCase("owners in a cycle", [("    section: fleet\n    external_id: plate", "    owner: maintenance\n    section: fleet\n    external_id: plate")],
                         "owner-cycle", at: "maintenance\n",
                         "record kinds own each other in a cycle: maintenance → vehicles → maintenance", hint: "a kind's chain of owners must end at customer"),
        BrokenRecordCase("an external id that is no field", [("external_id: plate", "external_id: plat")], "unknown-field", at: "plat\n",
                         "external_id 'plat' is not a field of record kind 'vehicles'", hint: "did you mean 'plate'?"),
        BrokenRecordCase("an external id that is a date", [("external_id: plate", "external_id: registered_on")], "invalid-field-type", at: "registered_on\n",
                         "external_id 'registered_on' of record kind 'vehicles' is a date field; an external id is a text, email, phone or integer field",
                         hint: "add a field such as code: {label: Codice, type: text} and name it here"),
        BrokenRecordCase("a date that is a text field", [("date: registered_on", "date: plate")], "invalid-field-type", at: "plate\n    fields",
                         "date 'plate' of record kind 'vehicles' is a text field, not a date field", hint: "date fields: registered_on"),
        BrokenRecordCase("a misspelt date", [("date: done_on", "date: don_on")], "unknown-field", at: "don_on\n",
                         "date 'don_on' is not a field of record kind 'maintenance'", hint: "did you mean 'done_on'?"),
        BrokenRecordCase("retention without a date", [("    date: registered_on\n", "")], "retention-without-date", at: "retention:",
                         "record kind 'vehicles' has a retention rule but no 'date' to count it from",
                         hint: "add date: <field>; date fields: registered_on"),
        BrokenRecordCase("deleted before it stops being visible", [("delete_after: 11y", "delete_after: 5y")], "impossible-retention", at: "5y",
                         "vehicles are deleted after 5y but should stay visible for 10y"),
        BrokenRecordCase("a kind nobody can open", [("    access: [{feature: vehicles.view}]\n", "")], "no-access", at: "maintenance:",
                         "record kind 'maintenance' names no feature in 'access': nobody can see its records",
                         hint: "add access: [{feature: <feature id>, scope: all}]"),
        BrokenRecordCase("an access feature that does not exist", [("access: [{feature: vehicles.view}]", "access: [{feature: vehicles.veiw}]")],
                         "unknown-feature", at: "vehicles.veiw", "access feature 'vehicles.veiw' is not a known feature", hint: "did you mean 'vehicles.view'?"),
        BrokenRecordCase("the same feature twice in access", [("      - {feature: vehicles.mine, scope: own}", "      - {feature: vehicles.mine, scope: own}\n      - {feature: vehicles.view}")],
                         "duplicate-access", at: "vehicles.view}\n    list",
                         "record kind 'vehicles' names feature 'vehicles.view' twice in 'access'", hint: "keep one entry per feature"),
        BrokenRecordCase("an unknown section", [("    owner: vehicles\n    section: fleet", "    owner: vehicles\n    section: flet")], "unknown-section", at: "flet",
                         "section 'flet' is not a known section", hint: "did you mean 'fleet'?"),
        BrokenRecordCase("a list column that is no field", [("columns: [plate, fuel,", "columns: [plate, fule,")], "unknown-field", at: "fule",
                         "column 'fule' is not a field of record kind 'vehicles'", hint: "did you mean 'fuel'?"),
        BrokenRecordCase("a filter that is no field", [("filters: [fuel, registered_on, value]", "filters: [fuel, registered, value]")], "unknown-field",
                         at: "registered,", "filter 'registered' is not a field of record kind 'vehicles'", hint: "did you mean 'registered_on'?"),
        BrokenRecordCase("a chart axis that is no date", [("x: registered_on", "x: plate")], "invalid-field-type", at: "plate, series",
                         "chart axis 'plate' of record kind 'vehicles' is a text field, not a date field", hint: "date fields: registered_on"),
        BrokenRecordCase("a chart series that is not a number", [("series: [{field: value,", "series: [{field: fuel,")], "invalid-field-type",
                         at: "fuel, label", "chart series 'fuel' of record kind 'vehicles' is an enum field; a series sums an integer or decimal field",
                         hint: "numeric fields: value"),
        BrokenRecordCase("a chart with no date to draw along", [("    date: done_on\n", "")], "missing-key", at: "chart:",
                         "the chart of record kind 'maintenance' needs 'x' or the kind's 'date'", hint: "add x: <field>; date fields: done_on"),
        BrokenRecordCase("a record field with an unknown check", [("validators: [{check: italian_plate}]", "validators: [{check: italian_plates}]")],
                         "unknown-check", at: "italian_plates", "'italian_plates' is not a known check", hint: "did you mean 'italian_plate'?"),
        BrokenRecordCase("a record field whose example fails its check", [("examples: [AB123CD]", "examples: [AB12CD]")], "invalid-example", at: "AB12CD",
                         "example 'AB12CD' of field 'plate' fails validator 1 (check: italian_plate): “Number plate” is not a valid number plate: two letters, three digits, two letters, for example AB123CD.",
                         hint: "correct the example or the validator"),
        BrokenRecordCase("a record field named like an import column", [("      km: {label: Km,", "      customer: {label: Cliente, type: text}\n      km: {label: Km,")], "reserved-field", at: "customer: {",
                         "'customer' is a name record imports and the API already use: a field of record kind 'maintenance' cannot take it",
                         hint: "give your field another id"),
        BrokenRecordCase("a label without one of the tenant's languages", [("label: {it: Veicolo, en: Vehicle}", "label: {it: Veicolo}")],
                         "missing-translation", at: "label: {it: Veicolo}", "label of record kind 'vehicles' has no text in en", hint: "add en: …",
                         severity: .warning),
        BrokenRecordCase("a registration matching on a kind that does not exist", [("match: [vehicles.plate,", "match: [vehicle.plate,")],
                         "unknown-record-kind", at: "vehicle.plate", after: "\nflows:\n", "'vehicle' in 'vehicle.plate' is not a record kind",
                         hint: "did you mean 'vehicles'?"),
        BrokenRecordCase("a registration matching on a field the kind does not have", [("match: [vehicles.plate,", "match: [vehicles.plates,")],
                         "unknown-field", at: "vehicles.plates", after: "\nflows:\n", "'plates' in 'vehicles.plates' is not a field of record kind 'vehicles'",
                         hint: "did you mean 'plate'?"),
        BrokenRecordCase("top-level retention for a kind of records:", [("  invoices: {visible_for: 24mo}\n", "  invoices: {visible_for: 24mo}\n  vehicles: {visible_for: 5y}\n")],
                         "unknown-record-kind", at: "vehicles: {visible_for", after: "\nretention:\n",
                         "'vehicles' is one of the tenant's own record kinds, whose retention is written with the kind",
                         hint: "move this rule to records/vehicles/retention"),
    ]

    @Test("broken record kind", arguments: brokenCases)
    func brokenRecordKind(_ broken: BrokenRecordCase) throws {
        let source = try #require(broken.source, "an edit of '\(broken.name)' does not apply")
        let result = TenantLoader(capabilities: .portal).load(sources: [(file: "example.yaml", text: source)])
        let location = try #require(broken.expectedLocation, "'\(broken.at)' is not in the case's YAML")
        let text = "\(location): \(broken.severity.rawValue): \(broken.message)" + (broken.hint.map { " (\($0))" } ?? "")
        #expect(result.diagnostics.map(\.description) == [text])
        #expect(result.diagnostics.map(\.code) == [broken.code])
        #expect(result.hasErrors == (broken.severity == .error))
    }

    @Test func aKindMissingRequiredKeysIsReportedByTheSchemaAndNotAgainByReferences() {
        let yaml = recordBaseTenant + recordKindsYAML.replacingOccurrences(of: "    label_plural: {it: Veicoli, en: Vehicles}\n", with: "")
        let result = TenantLoader(capabilities: .portal).load(sources: [(file: "example.yaml", text: yaml)])
        // vehicles is dropped, so maintenance's owner and the registration's match are not reported a second time.
        #expect(result.diagnostics.map(\.code) == ["missing-key"])
        #expect(result.diagnostics.first?.message == "missing required key 'label_plural' in record kind")
    }

    // MARK: Core model

    @Test func scopesComeFromTheAccessEntriesTheUserHolds() throws {
        let tenant = try #require(recordTenant())
        let vehicles = try #require(tenant.records?["vehicles"])
        let maintenance = try #require(tenant.records?["maintenance"])
        let model = AuthorizationModel(tenant)
        #expect(vehicles.scope(for: try model.principal(role: "admin"), in: model) == .all)
        #expect(vehicles.scope(for: try model.principal(role: "driver"), in: model) == .own)
        #expect(vehicles.scope(for: try model.principal(role: "member"), in: model) == nil)
        #expect(maintenance.scope(for: try model.principal(role: "driver"), in: model) == nil)

        // A role that limits an `all` feature to its own line sees only its own records.
        let limited = try #require(recordTenant().map { definition -> TenantDefinition in
            var copy = definition
            copy.features["vehicles.view"]?.scopes = [.ownLine, .allLines]
            copy.roles["admin"]?.scopes = OrderedMap([("vehicles.view", .ownLine)])
            copy.roles["admin"]?.grants = ["invoices.view", "invoices.pay", "vehicles.view"]
            return copy
        })
        let limitedModel = AuthorizationModel(limited)
        #expect(vehicles.scope(for: try limitedModel.principal(role: "admin"), in: limitedModel) == .own)
    }

    @Test func filtersNormaliseWhatWasTypedAsTheFieldStoresIt() throws {
        let vehicles = try #require(recordTenant()?.records?["vehicles"])
        let context = FieldContext(locale: "it", defaultLocale: "it", today: Self.today)
        #expect(try vehicles.filter("fuel", equals: "Benzina", in: context).get() == .equals(field: "fuel", value: "petrol"))
        #expect(try vehicles.filter("plate", equals: "ab 123 cd", in: context).get() == .equals(field: "plate", value: "AB123CD"))
        #expect(try vehicles.filter("fuel", equals: "", in: context).get() == nil)
        #expect(try vehicles.filter("nothing", equals: "x", in: context).get() == nil)
        guard case .failure(let problems) = vehicles.filter("fuel", equals: "diesel", in: context) else {
            Issue.record("an unknown option is refused")
            return
        }
        #expect(problems.codes(for: "fuel") == ["invalid_option"])

        #expect(try vehicles.filter("registered_on", from: "01/02/2025", to: nil, in: context).get()
                == .range(field: "registered_on", min: .date(CalendarDay(year: 2025, month: 2, day: 1)), max: nil))
        #expect(try vehicles.filter("value", from: "9,5", to: "1000", in: context).get()
                == .range(field: "value", min: .decimal(ScaledDecimal(units: 950, scale: 2)), max: .decimal(ScaledDecimal(units: 100_000, scale: 2))))
        #expect(try vehicles.filter("registered_on", from: nil, to: "", in: context).get() == nil)
        // A bound is not held to the field's validators (a future bound of a "not after today" date is fine).
        #expect(try vehicles.filter("registered_on", from: nil, to: "2030-01-01", in: context).get() != nil)
        guard case .failure(let dateProblems) = vehicles.filter("registered_on", from: "31/02/2025", to: nil, in: context) else {
            Issue.record("an impossible date is refused")
            return
        }
        #expect(dateProblems.codes(for: "registered_on") == ["invalid_date"])
    }

    @Test func valuesRoundTripThroughTheirCanonicalForm() throws {
        let vehicles = try #require(recordTenant()?.records?["vehicles"])
        let context = FieldContext(locale: "en", defaultLocale: "it", today: Self.today)
        let values = try vehicles.validate(["plate": "fg-456-hl", "registered_on": "05/03/2021", "fuel": "Electric", "value": "12500,5"], in: context).get()
        let draft = try #require(TenantRecordDraft(kind: "vehicles", of: vehicles, values: values, customerId: 7))
        #expect(draft.externalId == "FG456HL" && draft.date == "2021-03-05")
        #expect(draft.values.mapValues(\.canonical) == ["plate": "FG456HL", "registered_on": "2021-03-05", "fuel": "electric", "value": "12500.50"])
        #expect(draft.values["value"]?.storedNumber == 1_250_050 && draft.values["plate"]?.storedNumber == nil)
        #expect(vehicles.values(fromCanonical: draft.values.mapValues(\.canonical).merging(["gone": "x"]) { a, _ in a }) == values)
        let record = TenantRecord(id: 1, kind: "vehicles", externalId: "FG456HL", customerId: 7, values: draft.values.mapValues(\.canonical),
                                  createdAt: 0, updatedAt: 0)
        #expect(vehicles.display("value", of: record, locale: "it") == "12500,50")
        #expect(vehicles.display("fuel", of: record, locale: "it") == "Elettrica")
        #expect(vehicles.display("registered_on", of: record, locale: "en") == "05/03/2021")
        // The external id is required even though its field does not say so.
        guard case .failure(let problems) = vehicles.validate(["fuel": "petrol"], in: context) else {
            Issue.record("a record without its external id is refused")
            return
        }
        #expect(problems.codes(for: "plate") == ["required"])
    }

    @Test func verifyCustomerMatchesOnRecordFieldsWrittenKindDotField() throws {
        let tenant = try #require(recordTenant())
        let step = try #require(tenant.flows["self_service"]?.steps.first)
        #expect(step.matchKeys == [.record(kind: "vehicles", field: "plate"), .customerField("tax_code")])
        #expect(step.matchKeys.map(\.name) == ["vehicles.plate", "tax_code"])
        #expect(CustomerMatchKey("names") == .customerField("names"))
        #expect(CustomerMatchKey("a.b.c") == .customerField("a.b.c"))
        let plate = try #require(tenant.recordMatchField("vehicles.plate"))
        #expect(plate.kind == "vehicles" && plate.field == "plate" && plate.recordKind.label.resolve("en") == "Vehicle")
        let context = FieldContext(locale: "en", defaultLocale: "it", today: Self.today)
        #expect(try plate.canonical(" ab 123 cd ", in: context).get() == "AB123CD")
        guard case .failure(let problems) = plate.canonical("AB12CD", in: context) else {
            Issue.record("a malformed plate is refused")
            return
        }
        #expect(problems.problems.map(\.field) == ["vehicles.plate"])
        #expect(problems.codes(for: "vehicles.plate") == ["invalid_italian_plate"])
        guard case .failure(let empty) = plate.canonical(" ", in: context) else {
            Issue.record("nothing typed is refused")
            return
        }
        #expect(empty.codes(for: "vehicles.plate") == ["required"])
        #expect(tenant.recordMatchField("tax_code") == nil && tenant.recordMatchField("vehicles.nothing") == nil)
    }

    // MARK: Import rows

    @Test func importRowsOfAKindAreNamedByItsIdInJSONLinesAndCSV() throws {
        let kinds = ["vehicles", "maintenance"]
        let lines = """
        {"type":"vehicles","customer":"C-1","plate":"AB123CD"}
        {"type":"VEHICLES","customer":"C-1","plate":"FG456HL"}
        {"type":"vehicle","customer":"C-1","plate":"FG456HL"}
        {"type":"customers","external_id":"C-1"}
        """
        let parsed = ImportParser.parse(Data(lines.utf8), format: .jsonLines, kind: nil, recordKinds: kinds)
        #expect(parsed.rows.map(\.kind) == [.record("vehicles"), .record("vehicles"), .customer])
        #expect(parsed.problems == [ImportProblem(line: 3, message: "unknown type 'vehicle' (expected one of customer, contract, line, invoice, payment, usage, recharge, vehicles, maintenance) (did you mean 'vehicles'?)")])
        let csv = "customer;plate\nC-1;AB123CD\n"
        let fromCSV = ImportParser.parse(Data(csv.utf8), format: .csv, kind: ImportKind(name: "vehicles", recordKinds: kinds), recordKinds: kinds)
        #expect(fromCSV.rows.map(\.kind) == [.record("vehicles")] && fromCSV.rows.first?.fields == ["customer": "C-1", "plate": "AB123CD"])
        #expect(ImportKind(name: "vehicles") == nil)
        #expect(ImportKind(name: "usage_records", recordKinds: kinds) == .usage)
        #expect([ImportKind.record("b"), .record("a"), .recharge, .customer].sorted() == [.customer, .recharge, .record("a"), .record("b")])
    }

    @Test func importRowsOfAKindAreCheckedAgainstItsFieldsWithEnglishMessages() throws {
        let tenant = try #require(recordTenant("customer_fields:\n  fleet_code: {label: {it: Codice flotta, en: Fleet code}, type: text, required: true, normalize: [uppercase], validators: [{pattern: 'FL[0-9]{4}'}], examples: [FL0001]}\n"))
        let rows = """
        {"type":"customer","external_id":"C-1","customer_type":"privato","customer_code":"P1","first_name":"Anna","last_name":"Rossi","fleet_code":"fl0001"}
        {"type":"customer","external_id":"C-2","customer_type":"privato","customer_code":"P2","first_name":"Luca","last_name":"Bianchi","fleet_code":"X"}
        {"type":"vehicles","customer":"C-1","plate":"ab 123 cd","registered_on":"2020-01-31","fuel":"Benzina","value":"9.5","user":"anna"}
        {"type":"vehicles","customer":"C-1","plate":"AB123CD"}
        {"type":"vehicles","plate":"AB12CD","fuel":"diesel","colour":"red"}
        {"type":"maintenance","owner":"AB123CD","job":"J-1","done_on":"2030-01-01","km":"12.5"}
        {"type":"maintenance","customer":"C-1","job":"J-2"}
        {"type":"customer","external_id":"C-3","customer_type":"privato","customer_code":"P3","first_name":"Eva","last_name":"Neri"}
        """
        let parsed = ImportParser.parse(Data(rows.utf8), format: .jsonLines, kind: nil, recordKinds: tenant.recordKinds.keys)
        #expect(parsed.problems.isEmpty)
        let mapped = ImportMapper(tenant: tenant, now: CalendarDay(year: 2026, month: 3, day: 15).startInstant).map(parsed.rows)
        #expect(mapped.problems.map(\.description) == [
            "line 2: fleet_code 'X': “Fleet code” is not in the expected format, for example FL0001.",
            "line 4: vehicles record 'AB123CD' appears twice in the file (first on line 3)",
            "line 5: unknown field 'colour' for a vehicles record",
            "line 5: plate 'AB12CD': “Number plate” is not a valid number plate: two letters, three digits, two letters, for example AB123CD.",
            "line 5: fuel 'diesel': “Fuel”: please choose one of the options offered.",
            "line 5: missing 'customer'",
            "line 6: done_on '2030-01-01': “Date” cannot be after 15/03/2026.",
            "line 6: km '12.5': “Km” must be a whole number, for example 42.",
            "line 7: unknown field 'customer' for a maintenance record",
            "line 7: missing 'owner'",
            "line 8: missing 'fleet_code'",
        ])
        let vehicle = try #require(mapped.batch.records.first)
        #expect(vehicle.line == 3 && vehicle.references == [.customer: "C-1"] && vehicle.record.username == "anna")
        #expect(vehicle.record.externalId == "AB123CD" && vehicle.record.date == "2020-01-31")
        #expect(vehicle.record.values.mapValues(\.canonical) == ["plate": "AB123CD", "registered_on": "2020-01-31", "fuel": "petrol", "value": "9.50"])
        #expect(mapped.batch.customerFieldValues.map(\.record) == [["fleet_code": "FL0001"]])
    }
}
