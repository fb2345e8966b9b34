import Foundation
import Testing
@testable import SportelloCore

/// A request form whose fields pick one of the customer's vehicles (electric ones only, the filter written with the
/// option's label) and, optionally, one of their maintenance jobs.
private let breakdownFormYAML = """
requests:
  breakdown:
    label: {it: Segnalazione guasto, en: Breakdown report}
    feature: vehicles.view
    fields:
      - {name: vehicle, label: {it: Veicolo, en: Vehicle}, type: record, kind: vehicles, filter: {fuel: Elettrica}, required: true}
      - {name: job, label: {it: Intervento, en: Service}, type: record, kind: maintenance}
      - {name: notes, label: {it: Descrizione, en: Description}, type: textarea}

"""

/// The record kinds' example tenant with the breakdown form, after `edits` (each old text must occur once).
private func source(_ edits: [(String, String)] = []) -> String? {
    var text = recordBaseTenant + recordKindsYAML + breakdownFormYAML
    for (old, new) in edits {
        guard text.components(separatedBy: old).count == 2 else { return nil }
        text = text.replacingOccurrences(of: old, with: new)
    }
    return text
}

/// `example.yaml:LINE:COLUMN` of the first `at` after the form's `requests:`.
private func location(of at: String, in text: String) -> String? {
    guard let anchor = text.range(of: "\nrequests:\n"), let found = text.range(of: at, range: anchor.upperBound..<text.endIndex) else { return nil }
    let before = text[..<found.lowerBound]
    let line = before.filter { $0 == "\n" }.count + 1
    let column = before.distance(from: before.lastIndex(of: "\n").map { before.index(after: $0) } ?? before.startIndex, to: before.endIndex) + 1
    return "example.yaml:\(line):\(column)"
}

@Suite("Request form record field: the YAML and its located errors")
struct RequestRecordFieldValidationTests {
    @Test func aRecordFieldLoadsWithItsKindAndItsFilterNormalisedByTheField() throws {
        let result = TenantLoader(capabilities: .portal).load(sources: [(file: "example.yaml", text: try #require(source()))])
        #expect(result.diagnostics.map(\.description) == [])
        let tenant = try #require(result.tenants.first?.definition)
        let fields = try #require(tenant.requests?["breakdown"]?.fields)
        #expect(fields.map(\.type) == [.record, .record, .textarea])
        #expect(fields[0].kind == "vehicles" && fields[0].filter?.keys == ["fuel"] && fields[1].filter == nil)
        let vehicles = try #require(tenant.records?["vehicles"])
        let context = FieldContext(locale: "en", tenant: tenant, today: CalendarDay(year: 2026, month: 3, day: 15))
        #expect(fields[0].recordFilters(of: vehicles, in: context) == [.equals(field: "fuel", value: "electric")],
                "the option's label is stored as its id")
        #expect(fields[1].recordFilters(of: try #require(tenant.records?["maintenance"]), in: context) == [])
        // A filter the kind cannot apply offers nothing rather than everything.
        var broken = fields[0]
        broken.filter = OrderedMap([("fuel", "diesel")])
        #expect(broken.recordFilters(of: vehicles, in: context) == nil)
        broken.filter = OrderedMap([("registered_on", "2020-01-01")])
        #expect(broken.recordFilters(of: vehicles, in: context) == nil)
    }

    @Test func theSchemaDescribesKindAndFilter() throws {
        #expect(FormFieldType.allCases.map(\.rawValue).contains("record"))
        let kind = try #require(TenantSchema.formField.property("kind"))
        let filter = try #require(TenantSchema.formField.property("filter"))
        #expect(kind.doc.contains("`record`") && kind.doc.contains("records:") && kind.example != nil)
        #expect(filter.doc.contains("`record`") && filter.example != nil)
        #expect(TenantSchema.formField.property("type")?.doc.contains("`record`") == true)
    }

    struct Broken: Sendable, CustomTestStringConvertible {
        var name: String
        var edits: [(String, String)]
        var code: String
        /// Where the diagnostic points: the first occurrence of this text after `requests:`.
        var at: String
        /// The start of the message (the rest may quote a field's own message).
        var message: String
        var hint: String?
        var testDescription: String { name }
    }

    static let brokenCases: [Broken] = [
        Broken(name: "a record field without kind", edits: [(", type: record, kind: vehicles,", ", type: record,")],
               code: "missing-key", at: "{name: vehicle,", message: "record field 'vehicle' of form 'breakdown' needs 'kind'",
               hint: "for example kind: maintenance (record kinds: maintenance, vehicles)"),
        Broken(name: "an unknown kind", edits: [("kind: vehicles,", "kind: vehicle,")],
               code: "unknown-record-kind", at: "vehicle, filter", message: "kind 'vehicle' of record field 'vehicle' is not a record kind",
               hint: "did you mean 'vehicles'?"),
        Broken(name: "a filter on a field the kind does not have", edits: [("filter: {fuel: Elettrica}", "filter: {fuels: Elettrica}")],
               code: "unknown-field", at: "fuels", message: "filter 'fuels' of record field 'vehicle' is not a field of record kind 'vehicles'",
               hint: "did you mean 'fuel'?"),
        Broken(name: "a filter value that is not an option", edits: [("filter: {fuel: Elettrica}", "filter: {fuel: diesel}")],
               code: "invalid-value", at: "diesel", message: "'diesel' does not fit field 'fuel' of record kind 'vehicles' in the filter of record field 'vehicle'",
               hint: "options: petrol, electric"),
        Broken(name: "a misspelt option", edits: [("filter: {fuel: Elettrica}", "filter: {fuel: electrik}")],
               code: "invalid-value", at: "electrik", message: "'electrik' does not fit field 'fuel'", hint: "did you mean 'electric'?"),
        Broken(name: "a filter on a date field", edits: [("filter: {fuel: Elettrica}", "filter: {registered_on: 2020-01-01}")],
               code: "invalid-field-type", at: "registered_on",
               message: "filter 'registered_on' of record field 'vehicle' is a date field; a filter compares an enum, boolean or text field",
               hint: "fields to filter by: plate, fuel"),
        Broken(name: "kind on a field of another type", edits: [("type: textarea}", "type: textarea, kind: vehicles}")],
               code: "invalid-option", at: "kind: vehicles}", message: "kind and filter apply only to fields of type record",
               hint: "write type: record, or remove the key"),
    ]

    @Test("broken record field", arguments: brokenCases)
    func brokenRecordField(_ broken: Broken) throws {
        let text = try #require(source(broken.edits), "an edit of '\(broken.name)' does not apply")
        let result = TenantLoader(capabilities: .portal).load(sources: [(file: "example.yaml", text: text)])
        #expect(result.diagnostics.map(\.code) == [broken.code], "\(result.diagnostics.map(\.description))")
        let diagnostic = try #require(result.diagnostics.first)
        #expect(diagnostic.location.description == location(of: broken.at, in: text))
        #expect(diagnostic.message.hasPrefix(broken.message), "\(diagnostic.message)")
        #expect(diagnostic.hint == broken.hint)
        #expect(result.hasErrors)
    }
}
