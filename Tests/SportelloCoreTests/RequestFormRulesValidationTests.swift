import Foundation
import Testing
@testable import SportelloCore

// A request form with rules: conditional fields (on a choice and on the picked vehicle's fuel), typed fields, a
// deadline on a date, an opening window per fuel and labelled statuses; what `validate` says when they are
// impossible, and what `sportello test` asserts about them.

private let ruledFormYAML = """
time_zone: Europe/Rome
requests:
  breakdown:
    label: {it: Segnalazione guasto, en: Breakdown report}
    description: {it: Ti chiediamo solo ciò che serve., en: We only ask what is needed.}
    feature: vehicles.view
    open:
      - {days: "1-10", hours: "09:00-18:00", when: {field: vehicle.fuel, equals: petrol}}
      - {weekdays: mon-fri, when: {field: vehicle.fuel, equals: electric}}
    fields:
      - {name: vehicle, label: {it: Veicolo, en: Vehicle}, type: record, kind: vehicles, required: true}
      - {name: happened_on, label: {it: Data, en: Date}, type: date, required: true, max: today, min: -1y}
      - {name: cause, label: {it: Causa, en: Cause}, type: choice, options: [crash, fault], required: true}
      - {name: other_plate, label: {it: Targa altrui, en: Other plate}, type: text, required: true, when: {field: cause, equals: crash}}
      - {name: towed, label: {it: Rimorchiato, en: Towed}, type: boolean, when: {field: cause, equals: crash}}
      - {name: tow_cost, label: {it: Costo traino, en: Towing cost}, type: decimal, scale: 2, min: "0", max: "5000", required: true, when: {field: towed, equals: "true"}}
      - {name: charge_level, label: {it: Carica, en: Charge}, type: integer, min: "0", max: "100", when: {field: vehicle.fuel, equals: electric}}
      - {name: fuel_asked, label: {it: Alimentazione, en: Fuel}, type: choice, options_from: vehicles.fuel}
    deadlines:
      - {field: happened_on, within: 3d}
    lifecycle: [received, done]
    status_labels:
      received: {it: Ricevuta, en: Received}
      done: {it: Fatta, en: Done}

"""

private func ruledSource(_ edits: [(String, String)] = [], tests: String = "") -> String? {
    var text = recordBaseTenant + recordKindsYAML + ruledFormYAML
    // The base tenant has tests of its own: these go at the top of its list.
    if !tests.isEmpty { text = text.replacingOccurrences(of: "\ntests:\n", with: "\ntests:\n" + tests.replacingOccurrences(of: "tests:\n", with: "")) }
    for (old, new) in edits {
        guard text.components(separatedBy: old).count == 2 else { return nil }
        text = text.replacingOccurrences(of: old, with: new)
    }
    return text
}

private func ruledTenant(tests: String = "") throws -> LoadedTenant {
    let result = TenantLoader(capabilities: .portal).load(sources: [(file: "example.yaml", text: try #require(ruledSource(tests: tests)))])
    #expect(result.diagnostics.filter { $0.severity == .error }.map(\.description) == [])
    return try #require(result.tenants.first)
}

private func field(_ name: String, _ form: RequestForm) -> FormField { form.fields.first { $0.name == name }! }

private func rome(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "Europe/Rome")!
    return calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute))!
}

@Suite("Request form rules: conditions, windows, deadlines and their validation")
struct RequestFormRulesValidationTests {
    @Test func conditionalFieldsFollowTheValuesTheyWaitForInAChain() throws {
        let tenant = try ruledTenant().definition
        let rules = RequestFormRules(form: try #require(tenant.requests?["breakdown"]), definition: tenant)
        let always: Set = ["vehicle", "happened_on", "cause", "fuel_asked"]
        #expect(rules.shownFields([:]) == always)
        #expect(rules.shownFields(["cause": "crash"]) == always.union(["other_plate", "towed"]))
        #expect(rules.shownFields(["cause": "crash", "towed": "true"]) == always.union(["other_plate", "towed", "tow_cost"]))
        // The towing cost waits for `towed`, which waits for the cause: a stale `towed` does not show it.
        #expect(rules.shownFields(["cause": "fault", "towed": "true"]) == always)
        #expect(rules.shownFields(["vehicle": "7", "vehicle.fuel": "electric"]).contains("charge_level"))
        #expect(!rules.shownFields(["vehicle": "7", "vehicle.fuel": "petrol"]).contains("charge_level"))
    }

    @Test func typedFieldsValidateWithTheirBoundsAndDecimalsStayExact() throws {
        let tenant = try ruledTenant().definition
        let form = try #require(tenant.requests?["breakdown"])
        let rules = RequestFormRules(form: form, definition: tenant)
        let context = FieldContext(locale: "it", tenant: tenant, today: CalendarDay(year: 2026, month: 3, day: 15))
        let cost = try #require(rules.typedDefinition(of: field("tow_cost", form)))
        #expect(try cost.validate("12,5", field: "tow_cost", in: context).get()?.canonical == "12.50")
        #expect(try cost.validate("1250.75", field: "tow_cost", in: context).get()?.canonical == "1250.75")
        #expect((try? cost.validate("12,555", field: "tow_cost", in: context).get()) == nil, "more places than the scale are refused, not rounded")
        #expect((try? cost.validate("5000,01", field: "tow_cost", in: context).get()) == nil)
        let date = try #require(rules.typedDefinition(of: field("happened_on", form)))
        #expect(try date.validate("14/03/2026", field: "happened_on", in: context).get()?.canonical == "2026-03-14")
        #expect((try? date.validate("16/03/2026", field: "happened_on", in: context).get()) == nil, "after today")
        #expect((try? date.validate("14/03/2025", field: "happened_on", in: context).get()) == nil, "more than a year ago")
        let fuel = try #require(rules.typedDefinition(of: field("fuel_asked", form)))
        #expect(fuel.options?.keys == ["petrol", "electric"])
        #expect(try fuel.validate("Elettrica", field: "fuel_asked", in: context).get()?.canonical == "electric")
    }

    @Test func aDeadlineCountsCalendarDaysFromTheDateInTheTenantsZone() throws {
        let tenant = try ruledTenant().definition
        let rules = RequestFormRules(form: try #require(tenant.requests?["breakdown"]), definition: tenant)
        let values = ["happened_on": "2026-03-11"]
        #expect(rules.missedDeadlines(values, today: CalendarDay(year: 2026, month: 3, day: 14)) == [])
        #expect(rules.missedDeadlines(values, today: CalendarDay(year: 2026, month: 3, day: 15))
                == [.init(field: "happened_on", lastDay: CalendarDay(year: 2026, month: 3, day: 14), message: nil)])
        // 23:30 UTC on the 14th is already the 15th in Rome.
        #expect(tenant.calendarDay(at: Date(timeIntervalSince1970: TimeInterval(CalendarDay(year: 2026, month: 3, day: 14).startInstant + 23 * 3600 + 1800 + 3600)))
                == CalendarDay(year: 2026, month: 3, day: 15))
    }

    @Test func aWindowPerRecordFuelDecidesWhenTheFormOpens() throws {
        let tenant = try ruledTenant().definition
        let rules = RequestFormRules(form: try #require(tenant.requests?["breakdown"]), definition: tenant)
        let petrol = ["vehicle": "1", "vehicle.fuel": "petrol"], electric = ["vehicle": "2", "vehicle.fuel": "electric"]
        // Saturday 14 March 2026, 10:00: past the petrol window's days, and a weekend for electric vehicles.
        let saturday = rome(2026, 3, 14, 10)
        #expect(rules.status(at: saturday, values: petrol) == .closed(nextOpening: rome(2026, 4, 1, 9)))
        #expect(rules.status(at: saturday, values: electric) == .closed(nextOpening: rome(2026, 3, 16)))
        #expect(rules.status(at: saturday, values: nil) == .closed(nextOpening: rome(2026, 3, 16)), "the list shows the first branch to open")
        #expect(rules.status(at: rome(2026, 3, 2, 9, 30), values: petrol) == .open(until: rome(2026, 3, 2, 18)))
    }

    @Test func formTestsPassWhenTheRulesHoldAndFailNamingWhatDiffers() throws {
        let passing = """
        tests:
          - form: breakdown
            values: {cause: crash, towed: "true"}
            required: [other_plate, tow_cost]
            hidden: [charge_level]
          - form: breakdown
            at: 2026-03-14T10:00
            values: {vehicle.fuel: petrol}
            opens_at: 2026-04-01T09:00
          - form: breakdown
            at: 2026-03-02T09:30
            values: {vehicle.fuel: petrol}
            open: true
          - form: breakdown
            at: 2026-03-15
            values: {happened_on: 2026-03-11}
            missed_deadlines: [happened_on]

        """
        let outcome = TenantTestRunner(tenant: try ruledTenant(tests: passing)).run()
        #expect(outcome.failures.map(\.description) == [])
        #expect(outcome.assertions == 6 + 4, "the form tests, and the base tenant's four")

        let failing = """
        tests:
          - name: wrong
            form: breakdown
            at: 2026-03-14T10:00
            values: {vehicle.fuel: petrol, cause: fault}
            open: true
            opens_at: 2026-03-16T00:00
            required: [other_plate]

        """
        let failures = TenantTestRunner(tenant: try ruledTenant(tests: failing)).run().failures.map(\.message)
        #expect(failures == [
            "'wrong': expected form 'breakdown' to be open on 2026-03-14T10:00 with cause=fault, vehicle.fuel=petrol, but it is closed (it opens 2026-04-01T09:00)",
            "'wrong': expected form 'breakdown' on 2026-03-14T10:00 with cause=fault, vehicle.fuel=petrol to open 2026-03-16T00:00, but it opens 2026-04-01T09:00",
            "'wrong': expected field 'other_plate' of form 'breakdown' to be required with cause=fault, vehicle.fuel=petrol, but it is hidden",
        ])
    }

    struct Broken: Sendable, CustomTestStringConvertible {
        var name: String
        var edits: [(String, String)]
        var code: String
        var message: String
        var hint: String?
        var testDescription: String { name }
    }

    static let brokenCases: [Broken] = [
        Broken(name: "a condition on an unknown field", edits: [("when: {field: cause, equals: crash}}\n      - {name: towed", "when: {field: caus, equals: crash}}\n      - {name: towed")],
               code: "unknown-field", message: "condition on 'caus': 'caus' is not a field of form 'breakdown'", hint: "did you mean 'cause'?"),
        Broken(name: "a condition on a value the choice does not have", edits: [("when: {field: cause, equals: crash}}\n      - {name: towed", "when: {field: cause, equals: crsh}}\n      - {name: towed")],
               code: "invalid-value", message: "'crsh' is not a value of 'cause'", hint: "did you mean 'crash'?"),
        Broken(name: "a condition on a field the picked kind lacks", edits: [("type: integer, min: \"0\", max: \"100\", when: {field: vehicle.fuel,", "type: integer, min: \"0\", max: \"100\", when: {field: vehicle.fuell,")],
               code: "unknown-field", message: "condition on 'vehicle.fuell': 'fuell' is not a field of record kind 'vehicles'", hint: "did you mean 'fuel'?"),
        Broken(name: "a deadline on a text field", edits: [("{field: happened_on, within: 3d}", "{field: other_plate, within: 3d}")],
               code: "invalid-field-type", message: "deadline field 'other_plate' of form 'breakdown' is a text field; a deadline counts from a date field",
               hint: "for example field: happened_on"),
        Broken(name: "a deadline in hours", edits: [("within: 3d}", "within: 12h}")],
               code: "invalid-value", message: "a deadline counts whole days: '12h' is shorter", hint: "write it in d, w, mo or y, e.g. 3d"),
        Broken(name: "an empty window", edits: [("- {weekdays: mon-fri, when: {field: vehicle.fuel, equals: electric}}", "- {when: {field: vehicle.fuel, equals: electric}}")],
               code: "empty-window", message: "opening window 2 of form 'breakdown': "),
        Broken(name: "a window that never opens", edits: [("{days: \"1-10\", hours", "{days: \"31\", months: \"2, 4\", hours")],
               code: "never-opens", message: "opening window 1 of form 'breakdown': "),
        Broken(name: "a status without words", edits: [("      done: {it: Fatta, en: Done}\n", "")],
               code: "missing-status-label", message: "status 'done' of form 'breakdown' has no label: customers would read the raw word"),
        Broken(name: "min on a text field", edits: [("type: text, required: true, when", "type: text, min: \"1\", required: true, when")],
               code: "invalid-option", message: "min applies only to integer, decimal and date fields"),
        Broken(name: "options from a field that is no enum", edits: [("options_from: vehicles.fuel", "options_from: vehicles.plate")],
               code: "unknown-field", message: "options_from 'vehicles.plate' names no enum field", hint: "enum fields: vehicles.fuel"),
        Broken(name: "an unknown time zone", edits: [("time_zone: Europe/Rome", "time_zone: Europe/Roma")],
               code: "invalid-value", message: "time zone 'Europe/Roma' is not known", hint: "did you mean 'Europe/Rome'?"),
    ]

    @Test("an impossible rule is an error located in the file", arguments: brokenCases)
    func brokenRule(_ broken: Broken) throws {
        let text = try #require(ruledSource(broken.edits), "an edit of '\(broken.name)' does not apply")
        let result = TenantLoader(capabilities: .portal).load(sources: [(file: "example.yaml", text: text)])
        let errors = result.diagnostics.filter { $0.severity == .error }
        #expect(errors.map(\.code) == [broken.code], "\(result.diagnostics.map(\.description))")
        let diagnostic = try #require(errors.first)
        #expect(diagnostic.message.hasPrefix(broken.message), "\(diagnostic.message)")
        if let hint = broken.hint { #expect(diagnostic.hint == hint) }
        #expect(diagnostic.location.file == "example.yaml" && diagnostic.location.line > 0 && diagnostic.location.column > 0)
    }
}
