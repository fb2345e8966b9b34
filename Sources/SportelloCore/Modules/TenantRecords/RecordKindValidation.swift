import Foundation

/// What `validate` checks in `records:` and in the record fields a `verify_customer` step matches on.
extension SemanticValidator {
    /// Every record kind: its id, labels, owner (and owner cycles), fields, the fields its keys name and their
    /// types, its retention, access features and section.
    mutating func checkRecordKinds() {
        guard let kinds = definition.records else { return }
        let today = today ?? CalendarDay(instant: Int64(Date().timeIntervalSince1970))
        let locales = definition.locales.available
        for (id, kind) in kinds {
            let path = "records/\(id)"
            if RecordKindDefinition.reservedKindIds.contains(id) {
                diagnostics.error("reserved-record-kind", at: key(path), "'\(id)' is a built-in kind of record: a record kind cannot take its name",
                                  hint: "give the kind another id, for example 'my_\(id)'")
            } else if id.contains(where: { $0 == "." || $0 == "-" }) {
                diagnostics.error("invalid-id", at: key(path), "record kind id '\(id)' may hold only lowercase letters, digits and '_'",
                                  hint: "for example '\(String(id.map { $0 == "." || $0 == "-" ? "_" : $0 }))'")
            }
            missingTranslations(kind.label, of: "label of record kind '\(id)'", at: "\(path)/label", locales: locales)
            missingTranslations(kind.labelPlural, of: "label_plural of record kind '\(id)'", at: "\(path)/label_plural", locales: locales)
            if let owner = kind.ownerKind, kinds[owner] == nil, !tenant.locations.rejected.contains("records/\(owner)") {
                diagnostics.error("unknown-record-kind", at: at("\(path)/owner"), "owner '\(owner)' of record kind '\(id)' is neither 'customer' nor a record kind",
                                  hint: Suggest.hint(for: owner, in: [RecordKindDefinition.customerOwner] + kinds.keys.filter { $0 != id })
                                    ?? "write owner: customer, or the id of one of the kinds under records:")
            }
            reference(kind.section, kind: "section", in: definition.sections.keys, at: "\(path)/section", context: "section")
            checkRecordFields(id, kind, path: path, today: today, locales: locales)
            checkRecordKeys(id, kind, path: path)
            checkRecordAccess(id, kind, path: path)
        }
        checkOwnerCycles()
    }

    private mutating func checkRecordFields(_ id: String, _ kind: RecordKindDefinition, path: String, today: CalendarDay, locales: [String]) {
        if kind.fields.isEmpty {
            diagnostics.error("missing-key", at: key("\(path)/fields"), "record kind '\(id)' has no fields",
                              hint: "for example fields: {code: {label: Codice, type: text}}")
        }
        for (fieldID, field) in kind.fields {
            let fieldPath = "\(path)/fields/\(fieldID)"
            if RecordKindDefinition.reservedFieldIds.contains(fieldID) {
                diagnostics.error("reserved-field", at: key(fieldPath),
                                  "'\(fieldID)' is a name record imports and the API already use: a field of record kind '\(id)' cannot take it",
                                  hint: "give your field another id")
            } else if fieldID.contains(where: { $0 == "." || $0 == "-" }) {
                diagnostics.error("invalid-id", at: key(fieldPath), "field id '\(fieldID)' may hold only lowercase letters, digits and '_'",
                                  hint: "for example '\(String(fieldID.map { $0 == "." || $0 == "-" ? "_" : $0 }))'")
            }
            for issue in field.issues(id: fieldID, checks: checks, locales: locales, today: today) {
                if issue.code == "missing-key", tenant.locations.rejected.contains("\(fieldPath)/options") { continue }
                let issuePath = issue.path.isEmpty ? fieldPath : "\(fieldPath)/\(issue.path)"
                let location = issue.atKey ? key(issuePath) : at(issuePath)
                switch issue.severity {
                case .error: diagnostics.error(issue.code, at: location, issue.message, hint: issue.hint)
                case .warning: diagnostics.warning(issue.code, at: location, issue.message, hint: issue.hint)
                }
            }
        }
    }

    /// The keys that name fields: `external_id`, `date`, the list's columns and filters, the chart's axis and series.
    private mutating func checkRecordKeys(_ id: String, _ kind: RecordKindDefinition, path: String) {
        let identifierTypes: [FieldType] = [.text, .email, .phone, .integer]
        if let field = recordField(kind.externalId, of: id, kind, at: "\(path)/external_id", role: "external_id"),
           !identifierTypes.contains(field.type) {
            diagnostics.error("invalid-field-type", at: at("\(path)/external_id"),
                              "external_id '\(kind.externalId)' of record kind '\(id)' is \(Self.article(field.type)) field; an external id is a text, email, phone or integer field",
                              hint: Suggest.hint(for: kind.externalId, in: kind.fields.filter { identifierTypes.contains($0.value.type) }.map(\.key))
                                ?? "add a field such as code: {label: Codice, type: text} and name it here")
        }
        if let date = kind.date, let field = recordField(date, of: id, kind, at: "\(path)/date", role: "date"), field.type != .date {
            diagnostics.error("invalid-field-type", at: at("\(path)/date"),
                              "date '\(date)' of record kind '\(id)' is \(Self.article(field.type)) field, not a date field",
                              hint: dateFieldHint(kind))
        }
        if let retention = kind.retention {
            if kind.date == nil {
                diagnostics.error("retention-without-date", at: key("\(path)/retention"),
                                  "record kind '\(id)' has a retention rule but no 'date' to count it from",
                                  hint: dateFieldHint(kind).map { "add date: <field>; \($0)" } ?? "add a date field and name it in date:")
            }
            if let delete = retention.deleteAfter, let visible = retention.visibleFor, delete.seconds < visible.seconds {
                diagnostics.error("impossible-retention", at: at("\(path)/retention/delete_after"),
                                  "\(id) are deleted after \(delete) but should stay visible for \(visible)")
            }
            if let export = retention.exportMaxRange, let visible = retention.visibleFor, export.seconds > visible.seconds + 86_400 * 3 {
                diagnostics.warning("export-beyond-window", at: at("\(path)/retention/export_max_range"),
                                    "exports may span \(export) but only \(visible) of \(id) are visible")
            }
        }
        for (index, column) in (kind.list?.columns ?? []).enumerated() {
            _ = recordField(column, of: id, kind, at: "\(path)/list/columns/\(index)", role: "column")
        }
        for (index, filter) in (kind.list?.filters ?? []).enumerated() {
            _ = recordField(filter, of: id, kind, at: "\(path)/list/filters/\(index)", role: "filter")
        }
        guard let chart = kind.chart else { return }
        if let x = chart.x {
            if let field = recordField(x, of: id, kind, at: "\(path)/chart/x", role: "chart axis"), field.type != .date {
                diagnostics.error("invalid-field-type", at: at("\(path)/chart/x"),
                                  "chart axis '\(x)' of record kind '\(id)' is \(Self.article(field.type)) field, not a date field",
                                  hint: dateFieldHint(kind))
            }
        } else if kind.date == nil {
            diagnostics.error("missing-key", at: key("\(path)/chart"), "the chart of record kind '\(id)' needs 'x' or the kind's 'date'",
                              hint: dateFieldHint(kind).map { "add x: <field>; \($0)" } ?? "add a date field and name it in x:")
        }
        for (index, series) in chart.series.enumerated() {
            let seriesPath = "\(path)/chart/series/\(index)"
            if let field = recordField(series.field, of: id, kind, at: "\(seriesPath)/field", role: "chart series"),
               field.type != .integer, field.type != .decimal {
                let numeric = kind.fields.filter { $0.value.type == .integer || $0.value.type == .decimal }.map(\.key)
                diagnostics.error("invalid-field-type", at: at("\(seriesPath)/field"),
                                  "chart series '\(series.field)' of record kind '\(id)' is \(Self.article(field.type)) field; a series sums an integer or decimal field",
                                  hint: numeric.isEmpty ? "add an integer or decimal field to sum" : "numeric fields: \(numeric.joined(separator: ", "))")
            }
            if let label = series.label {
                missingTranslations(label, of: "label of chart series \(index + 1) of record kind '\(id)'", at: "\(seriesPath)/label",
                                    locales: definition.locales.available)
            }
        }
    }

    private mutating func checkRecordAccess(_ id: String, _ kind: RecordKindDefinition, path: String) {
        guard let access = kind.access, !access.isEmpty else {
            if !tenant.locations.rejected.contains("\(path)/access") {
                diagnostics.error("no-access", at: key(path), "record kind '\(id)' names no feature in 'access': nobody can see its records",
                                  hint: "add access: [{feature: <feature id>, scope: all}]")
            }
            return
        }
        var seen = Set<String>()
        for (index, entry) in access.enumerated() {
            let entryPath = "\(path)/access/\(index)/feature"
            reference(entry.feature, kind: "feature", in: featureIDs, at: entryPath, context: "access feature")
            if !seen.insert(entry.feature).inserted {
                diagnostics.error("duplicate-access", at: at(entryPath), "record kind '\(id)' names feature '\(entry.feature)' twice in 'access'",
                                  hint: "keep one entry per feature")
            }
        }
    }

    /// The field `name` of `kind`, reporting `unknown-field` (with a did-you-mean) when the kind has none.
    private mutating func recordField(_ name: String, of id: String, _ kind: RecordKindDefinition, at path: String, role: String) -> FieldDefinition? {
        if let field = kind.fields[name] { return field }
        if tenant.locations.rejected.contains("records/\(id)/fields/\(name)") { return nil }
        diagnostics.error("unknown-field", at: at(path), "\(role) '\(name)' is not a field of record kind '\(id)'",
                          hint: Suggest.hint(for: name, in: kind.fields.keys) ?? (kind.fields.isEmpty ? nil : "fields: \(kind.fields.keys.joined(separator: ", "))"))
        return nil
    }

    private func dateFieldHint(_ kind: RecordKindDefinition) -> String? {
        let dates = kind.fields.filter { $0.value.type == .date }.map(\.key)
        return dates.isEmpty ? nil : "date fields: \(dates.joined(separator: ", "))"
    }

    private static func article(_ type: FieldType) -> String {
        "\(["a", "e", "i", "o", "u"].contains(type.rawValue.first.map(String.init) ?? "") ? "an" : "a") \(type.rawValue)"
    }

    /// Owners must end at the customer: a kind owned, directly or through others, by itself is reported once.
    private mutating func checkOwnerCycles() {
        let kinds = definition.recordKinds
        var reported = Set<String>()
        for start in kinds.keys where !reported.contains(start) {
            var chain = [start]
            var current = start
            while let owner = kinds[current]?.ownerKind, kinds[owner] != nil {
                if let loop = chain.firstIndex(of: owner) {
                    let cycle = Array(chain[loop...])
                    if reported.isDisjoint(with: cycle) {
                        diagnostics.error("owner-cycle", at: at("records/\(current)/owner"),
                                          "record kinds own each other in a cycle: \((cycle + [owner]).joined(separator: " → "))",
                                          hint: "a kind's chain of owners must end at customer")
                    }
                    reported.formUnion(cycle)
                    break
                }
                chain.append(owner)
                current = owner
            }
        }
    }

    /// A step's `match:`: customer fields as before, `<kind>.<field>` naming a record kind and one of its fields.
    mutating func checkMatch(_ names: [String]?, at path: String) {
        for (index, name) in (names ?? []).enumerated() {
            let entryPath = "\(path)/\(index)"
            guard case .record(let kindID, let fieldID) = CustomerMatchKey(name) else {
                reference(name, kind: "field", in: fieldNames, at: entryPath, context: "field")
                continue
            }
            guard let kind = definition.records?[kindID] else {
                if tenant.locations.rejected.contains("records/\(kindID)") { continue }
                diagnostics.error("unknown-record-kind", at: at(entryPath), "'\(kindID)' in '\(name)' is not a record kind",
                                  hint: Suggest.hint(for: kindID, in: definition.recordKinds.keys)
                                    ?? (definition.recordKinds.isEmpty ? "declare the kind under records:" : "record kinds: \(definition.recordKinds.keys.joined(separator: ", "))"))
                continue
            }
            guard kind.fields[fieldID] != nil else {
                if tenant.locations.rejected.contains("records/\(kindID)/fields/\(fieldID)") { continue }
                diagnostics.error("unknown-field", at: at(entryPath), "'\(fieldID)' in '\(name)' is not a field of record kind '\(kindID)'",
                                  hint: Suggest.hint(for: fieldID, in: kind.fields.keys) ?? "fields: \(kind.fields.keys.joined(separator: ", "))")
                continue
            }
        }
    }

    /// A warning when `text`, written per language, lacks one of `locales` (plain text serves every language).
    private mutating func missingTranslations(_ text: LocalizedText, of what: String, at path: String, locales: [String]) {
        guard text.translations["*"] == nil else { return }
        let missing = locales.filter { text.translations[$0] == nil }
        guard !missing.isEmpty else { return }
        diagnostics.warning("missing-translation", at: key(path), "\(what) has no text in \(missing.joined(separator: ", "))",
                            hint: "add \(missing.map { "\($0): …" }.joined(separator: ", "))")
    }
}
