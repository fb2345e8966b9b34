import Foundation
import SportelloCore

/// A record kind's records as a spreadsheet: the external id, the owning record, then every field in the kind's
/// order under its label; integers and decimals as numbers (exact to their scale), the rest as the pages show them.
enum RecordExport {
    static func table(_ records: [TenantRecord], kind: RecordKindDefinition, ownerTitles: [Int64: String], ownerLabel: String?,
                      locale: String) -> SpreadsheetTable {
        let fieldIds = kind.fields.keys
        var header: [String] = []
        if let ownerLabel { header.append(ownerLabel) }
        header += fieldIds.map { kind.fields[$0]?.label.resolve(locale) ?? $0 }
        let rows = records.map { record -> [SpreadsheetCell] in
            let values = kind.values(fromCanonical: record.values)
            var row: [SpreadsheetCell] = []
            if ownerLabel != nil { row.append(.text(record.ownerRecordId.flatMap { ownerTitles[$0] } ?? "")) }
            for id in fieldIds {
                guard let field = kind.fields[id], let value = values[id] else { row.append(.text("")); continue }
                switch value {
                case .integer(let number): row.append(.integer(number))
                case .decimal(let number):
                    row.append(.number(Double(number.units) / pow(10, Double(number.scale)), decimals: number.scale))
                default: row.append(.text(field.display(value, locale: locale)))
                }
            }
            return row
        }
        return SpreadsheetTable(sheetName: SpreadsheetWriter.sheetName(kind.labelPlural.resolve(locale)), header: header, rows: rows)
    }
}
