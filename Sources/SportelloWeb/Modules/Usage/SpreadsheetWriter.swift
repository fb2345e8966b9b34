import Foundation
import SportelloCore

/// A cell of an exported table.
enum SpreadsheetCell: Sendable, Equatable {
    case text(String)
    /// A number shown with `decimals` decimal places.
    case number(Double, decimals: Int)
    case integer(Int64)
    /// An instant, shown as a local date and time (Europe/Rome).
    case dateTime(Int64)
}

/// A table to export: a header row and the data rows.
struct SpreadsheetTable: Sendable {
    var sheetName: String
    var header: [String]
    var rows: [[SpreadsheetCell]]
}

/// Writes tables as CSV for Italian Excel and as a real Office Open XML workbook (`.xlsx`).
enum SpreadsheetWriter {
    static let csvContentType = "text/csv; charset=utf-8"
    static let xlsxContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    // MARK: CSV

    /// UTF-8 with a byte-order mark (so Excel reads accents), `;` between fields (Excel's separator when the
    /// decimal mark is a comma, as in Italy), CRLF line ends, fields quoted when needed. Decimals use a
    /// comma in Italian and a point in English. A text starting with `=`, `+`, `-`, `@` (a formula to a
    /// spreadsheet) is prefixed with an apostrophe, except signed numbers such as `+39…`.
    static func csv(_ table: SpreadsheetTable, locale: String) -> Data {
        var out = "\u{FEFF}"
        out += table.header.map(csvField).joined(separator: ";") + "\r\n"
        for row in table.rows {
            out += row.map { cell -> String in
                switch cell {
                case .text(let text): return csvField(neutralized(text))
                case .number(let value, let decimals):
                    let text = String(format: "%.\(decimals)f", value)
                    return locale == "en" ? text : text.replacingOccurrences(of: ".", with: ",")
                case .integer(let value): return String(value)
                case .dateTime(let instant): return localDateTime(instant)
                }
            }.joined(separator: ";") + "\r\n"
        }
        return Data(out.utf8)
    }

    private static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == ";" || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "," }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func neutralized(_ text: String) -> String {
        guard let first = text.first else { return text }
        if first == "=" || first == "@" || first == "\t" || first == "\r" { return "'" + text }
        if first == "+" || first == "-" {
            let rest = text.dropFirst()
            if rest.isEmpty || !rest.allSatisfy({ $0.isNumber || $0 == " " || $0 == "." || $0 == "," }) { return "'" + text }
        }
        return text
    }

    /// `dd/MM/yyyy HH:mm:ss` in Europe/Rome, without a DateFormatter per row.
    static func localDateTime(_ instant: Int64) -> String { LocalTime(instant: instant).dayAndSecond }

    /// The Excel serial number of an instant's local time (days since 1899-12-30, fraction for the time).
    static func excelSerial(_ instant: Int64) -> Double {
        let offset = CalendarDay.timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant)))
        return Double(instant + Int64(offset)) / 86_400 + 25_569
    }

    // MARK: XLSX

    /// A workbook with one sheet: inline strings (no shared-string table), a bold header row, dates with a
    /// date-time format, amounts with two decimals, frozen header and auto-filter; packed as a ZIP of
    /// stored entries.
    static func xlsx(_ table: SpreadsheetTable) -> Data {
        var zip = ZipWriter()
        zip.add("[Content_Types].xml", """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
            <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
            <Default Extension="xml" ContentType="application/xml"/>\
            <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
            <Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
            <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
            <Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>\
            </Types>
            """)
        zip.add("_rels/.rels", """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
            <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
            <Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>\
            </Relationships>
            """)
        zip.add("docProps/core.xml", """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" \
            xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>\(xmlEscape(table.sheetName))</dc:title><dc:creator>Sportello</dc:creator></cp:coreProperties>
            """)
        zip.add("xl/workbook.xml", """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
            xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
            <sheets><sheet name="\(xmlEscape(sheetName(table.sheetName)))" sheetId="1" r:id="rId1"/></sheets>\
            </workbook>
            """)
        zip.add("xl/_rels/workbook.xml.rels", """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
            <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>\
            <Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>\
            </Relationships>
            """)
        // Styles: 0 default, 1 bold header, 2 date-time, 3 two decimals, 4 integer.
        zip.add("xl/styles.xml", """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
            <numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy\\ hh:mm:ss"/></numFmts>\
            <fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>\
            <fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
            <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
            <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
            <cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
            <xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>\
            <xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
            <xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
            <xf numFmtId="1" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>\
            <cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
            </styleSheet>
            """)
        zip.add("xl/worksheets/sheet1.xml", sheetXML(table))
        return zip.finish()
    }

    private static func sheetXML(_ table: SpreadsheetTable) -> String {
        var xml = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
            <sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>\
            <cols>
            """
        for (index, title) in table.header.enumerated() {
            let width = max(12, min(48, title.count + 4))
            xml += "<col min=\"\(index + 1)\" max=\"\(index + 1)\" width=\"\(index == 0 ? 20 : width)\" customWidth=\"1\"/>"
        }
        xml += "</cols><sheetData>"
        xml += "<row r=\"1\">"
        for (index, title) in table.header.enumerated() {
            xml += "<c r=\"\(column(index))1\" s=\"1\" t=\"inlineStr\"><is><t>\(xmlEscape(title))</t></is></c>"
        }
        xml += "</row>"
        for (rowIndex, row) in table.rows.enumerated() {
            let number = rowIndex + 2
            xml += "<row r=\"\(number)\">"
            for (index, cell) in row.enumerated() {
                let reference = "\(column(index))\(number)"
                switch cell {
                case .text(let text):
                    guard !text.isEmpty else { continue }
                    xml += "<c r=\"\(reference)\" t=\"inlineStr\"><is><t xml:space=\"preserve\">\(xmlEscape(text))</t></is></c>"
                case .number(let value, _):
                    xml += "<c r=\"\(reference)\" s=\"3\"><v>\(value)</v></c>"
                case .integer(let value):
                    xml += "<c r=\"\(reference)\" s=\"4\"><v>\(value)</v></c>"
                case .dateTime(let instant):
                    xml += "<c r=\"\(reference)\" s=\"2\"><v>\(String(format: "%.8f", excelSerial(instant)))</v></c>"
                }
            }
            xml += "</row>"
        }
        xml += "</sheetData>"
        if !table.rows.isEmpty {
            xml += "<autoFilter ref=\"A1:\(column(table.header.count - 1))\(table.rows.count + 1)\"/>"
        }
        xml += "</worksheet>"
        return xml
    }

    /// `A`, `B`, … `Z`, `AA`… for a zero-based column index.
    static func column(_ index: Int) -> String {
        var index = index + 1
        var name = ""
        while index > 0 {
            let remainder = (index - 1) % 26
            name = String(UnicodeScalar(UInt8(65 + remainder))) + name
            index = (index - 1) / 26
        }
        return name
    }

    /// Sheet names: at most 31 characters, none of `[]:*?/\`.
    static func sheetName(_ name: String) -> String {
        let cleaned = String(name.map { "[]:*?/\\".contains($0) ? "-" : $0 }.prefix(31))
        return cleaned.isEmpty ? "Foglio1" : cleaned
    }

    /// Text for XML: escapes markup and drops characters XML 1.0 forbids.
    static func xmlEscape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// A minimal ZIP archive writer: stored (uncompressed) entries with CRC-32, local headers, central
/// directory and end record — what an `.xlsx` package needs.
struct ZipWriter {
    private var data = Data()
    private var central = Data()
    private var count: UInt16 = 0
    /// 1 January 2026, 00:00 in MS-DOS format (a fixed date keeps exports reproducible).
    private let dosTime: UInt16 = 0
    private let dosDate: UInt16 = UInt16((2026 - 1980) << 9 | 1 << 5 | 1)

    mutating func add(_ name: String, _ text: String) { add(name, Data(text.utf8)) }

    mutating func add(_ name: String, _ content: Data) {
        let nameBytes = Data(name.utf8)
        let crc = ZipCRC32.checksum(content)
        let offset = UInt32(data.count)
        var local = Data()
        local.appendLE(UInt32(0x0403_4b50))
        local.appendLE(UInt16(20))        // version needed
        local.appendLE(UInt16(0x0800))    // UTF-8 names
        local.appendLE(UInt16(0))         // stored
        local.appendLE(dosTime)
        local.appendLE(dosDate)
        local.appendLE(crc)
        local.appendLE(UInt32(content.count))
        local.appendLE(UInt32(content.count))
        local.appendLE(UInt16(nameBytes.count))
        local.appendLE(UInt16(0))
        data.append(local)
        data.append(nameBytes)
        data.append(content)

        var entry = Data()
        entry.appendLE(UInt32(0x0201_4b50))
        entry.appendLE(UInt16(20))        // made by
        entry.appendLE(UInt16(20))        // version needed
        entry.appendLE(UInt16(0x0800))
        entry.appendLE(UInt16(0))
        entry.appendLE(dosTime)
        entry.appendLE(dosDate)
        entry.appendLE(crc)
        entry.appendLE(UInt32(content.count))
        entry.appendLE(UInt32(content.count))
        entry.appendLE(UInt16(nameBytes.count))
        entry.appendLE(UInt16(0))         // extra
        entry.appendLE(UInt16(0))         // comment
        entry.appendLE(UInt16(0))         // disk
        entry.appendLE(UInt16(0))         // internal attributes
        entry.appendLE(UInt32(0))         // external attributes
        entry.appendLE(offset)
        central.append(entry)
        central.append(nameBytes)
        count += 1
    }

    mutating func finish() -> Data {
        let centralOffset = UInt32(data.count)
        var result = data
        result.append(central)
        var end = Data()
        end.appendLE(UInt32(0x0605_4b50))
        end.appendLE(UInt16(0))
        end.appendLE(UInt16(0))
        end.appendLE(count)
        end.appendLE(count)
        end.appendLE(UInt32(central.count))
        end.appendLE(centralOffset)
        end.appendLE(UInt16(0))
        result.append(end)
        return result
    }
}

/// CRC-32 (IEEE 802.3, the ZIP checksum).
enum ZipCRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func checksum(_ data: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}

fileprivate extension Data {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        var little = value.littleEndian
        Swift.withUnsafeBytes(of: &little) { append(contentsOf: $0) }
    }
}
