/// The role × feature table a provider checks against its own documentation.
public struct FeatureMatrix: Sendable {
    public enum Format: String, CaseIterable, Sendable { case text, markdown, csv, html }

    public struct Row: Sendable {
        public var section: String
        public var feature: String
        public var label: String
        public var cells: [String]
    }

    public let tenantName: String
    public let roles: [String]
    public let roleLabels: [String]
    public let rows: [Row]

    /// Cell legend: `yes`, `yes (excl.)` exclusive, `own line` scoped, `toggle: x` per-user switch, `-` denied.
    public init(_ definition: TenantDefinition, locale: String = "it") {
        let model = AuthorizationModel(definition)
        let closure = RoleClosure(definition)
        let owners = closure.exclusiveOwners
        tenantName = definition.name
        roles = definition.roles.keys
        roleLabels = definition.roles.values.map { $0.label.resolve(locale) }
        var rows: [Row] = []
        for sectionID in definition.sections.keys {
            for (featureID, feature) in definition.features where feature.section == sectionID {
                var cells: [String] = []
                for (roleID, role) in definition.roles {
                    guard let principal = try? model.principal(role: roleID) else { cells.append("?"); continue }
                    if model.isAllowed(principal, featureID) {
                        var cell = owners[featureID] == roleID ? "yes (excl.)" : "yes"
                        if model.scope(principal, featureID) == .ownLine { cell += ", own line" }
                        cells.append(cell)
                    } else if let toggle = role.toggles?.first(where: { $0.value.features.contains(featureID) }) {
                        cells.append("toggle: \(toggle.key)")
                    } else {
                        cells.append("-")
                    }
                }
                rows.append(Row(section: definition.sections[sectionID]?.label.resolve(locale) ?? sectionID, feature: featureID, label: feature.label.resolve(locale), cells: cells))
            }
        }
        self.rows = rows
    }

    public func render(_ format: Format) -> String {
        let header = ["section", "feature", "label"] + roles
        switch format {
        case .csv:
            return ([header] + rows.map { [$0.section, $0.feature, $0.label] + $0.cells }).map { $0.map(csvEscape).joined(separator: ",") }.joined(separator: "\n") + "\n"
        case .markdown:
            var lines = ["# \(tenantName): roles × features", "", "| Section | Feature | " + roleLabels.joined(separator: " | ") + " |",
                         "|---|---|" + String(repeating: "---|", count: roles.count)]
            for row in rows {
                lines.append("| \(row.section) | \(row.label) (`\(row.feature)`) | " + row.cells.map { $0 == "-" ? " " : $0 }.joined(separator: " | ") + " |")
            }
            return lines.joined(separator: "\n") + "\n"
        case .text:
            let table = [["feature"] + roles] + rows.map { [$0.feature] + $0.cells }
            let widths = (0..<table[0].count).map { column in table.map { $0[column].count }.max() ?? 0 }
            var lines: [String] = ["\(tenantName): roles × features"]
            var previousSection: String?
            for (index, line) in table.enumerated() {
                if index > 0, rows[index - 1].section != previousSection {
                    previousSection = rows[index - 1].section
                    lines.append("[\(previousSection!)]")
                }
                lines.append(zip(line, widths).map { $0.padding(toLength: $1) }.joined(separator: "  ").trimmingWhitespace)
            }
            return lines.joined(separator: "\n") + "\n"
        case .html:
            var html = "<!doctype html>\n<html lang=\"it\"><head><meta charset=\"utf-8\"><title>\(HTMLEscaping.escape(tenantName)): ruoli × funzionalità</title></head><body>\n"
            html += "<table>\n<caption>\(HTMLEscaping.escape(tenantName))</caption>\n<thead><tr><th scope=\"col\">Sezione</th><th scope=\"col\">Funzionalità</th>"
            html += roleLabels.map { "<th scope=\"col\">\(HTMLEscaping.escape($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
            for row in rows {
                html += "<tr><td>\(HTMLEscaping.escape(row.section))</td><th scope=\"row\">\(HTMLEscaping.escape(row.label)) <code>\(HTMLEscaping.escape(row.feature))</code></th>"
                html += row.cells.map { "<td>\(HTMLEscaping.escape($0))</td>" }.joined() + "</tr>\n"
            }
            return html + "</tbody>\n</table>\n</body></html>\n"
        }
    }

    private func csvEscape(_ value: String) -> String {
        value.contains(where: { ",\"\n".contains($0) }) ? "\"" + value.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\"" : value
    }
}


extension String {
    func padding(toLength length: Int) -> String { count >= length ? self : self + String(repeating: " ", count: length - count) }
}
