import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloApplication
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

extension PortalHarness {
    /// A SIM of the customer (on a contract of its own), optionally assigned to a user.
    func usageLine(customerId: Int64, identifier: String, assignedTo userId: Int64? = nil) async throws -> Int64 {
        try await database.write(tenant: definition.id, now: billingNow) { transaction in
            let contract = try await transaction.insertContract(ContractRecord(customerId: customerId, code: "K-\(identifier)", offer: "Business 100 Giga",
                                                                               kind: "mobile", startsOn: "2024-01-01"))
            return try await transaction.insertLine(LineRecord(customerId: customerId, contractId: contract, kind: "sim", identifier: identifier,
                                                               description: "SIM voce e dati", assignedUserId: userId))
        }
    }

    /// `perDay` records a day for `days` days back from today (a call then a data session, alternating), at 10:00 + n minutes.
    @discardableResult
    func usageTraffic(customerId: Int64, lineId: Int64, days: Int, perDay: Int = 2) async throws -> [UsageRecord] {
        var records: [UsageRecord] = []
        for daysAgo in 0..<days {
            let start = billingToday.adding(days: -daysAgo).startInstant + 10 * 3600
            for index in 0..<perDay {
                let call = index % 2 == 0
                records.append(UsageRecord(customerId: customerId, lineId: lineId, startedAt: start + Int64(index * 60),
                                           kind: call ? "call" : "data", counterpart: call ? "+393331234567" : "internet.it",
                                           durationSeconds: call ? 125 : 600, volumeBytes: call ? 0 : 2_500_000, costCents: call ? 12 : 0,
                                           description: call ? "Chiamata nazionale; \"ufficio\"" : "Traffico dati"))
            }
        }
        let stored = records.filter { $0.startedAt < billingNow }
        try await database.write(tenant: definition.id, now: billingNow) { try await $0.insertUsage(stored) }
        return stored
    }
}

/// A reader for the stored ZIP entries the portal writes: every entry's name and bytes, CRC-32 checked.
enum ZipCheck {
    static func crc(_ data: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (crc & 1 == 1 ? 0xEDB8_8320 : 0) }
        }
        return ~crc
    }

    static func entries(_ data: Data) throws -> [String: Data] {
        let bytes = [UInt8](data)
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) | UInt32(u16(at + 2)) << 16 }
        var entries: [String: Data] = [:]
        var offset = 0
        while offset + 30 <= bytes.count, u32(offset) == 0x0403_4b50 {
            #expect(u16(offset + 8) == 0, "stored entry")
            let expected = u32(offset + 14)
            let size = Int(u32(offset + 18))
            let nameLength = u16(offset + 26), extra = u16(offset + 28)
            let name = String(decoding: bytes[(offset + 30)..<(offset + 30 + nameLength)], as: UTF8.self)
            let start = offset + 30 + nameLength + extra
            let content = Data(bytes[start..<(start + size)])
            #expect(crc(content) == expected, "CRC of \(name)")
            entries[name] = content
            offset = start + size
        }
        #expect(u32(offset) == 0x0201_4b50, "the central directory follows the entries")
        return entries
    }

    /// Whether `data` is well-formed XML.
    static func wellFormed(_ data: Data) -> Bool {
        XMLParser(data: data).parse()
    }
}

@Suite("Usage, traffic export and recharges")
struct UsageTests {
    @Test("WINDTRE: the traffic of the current month by default, filtered by kind, with totals and cursor pages on the page and the API",
          arguments: TestEngine.available)
    func usagePages(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let admin = try await portal.billingCustomer(role: "user_admin")
            let line = try await portal.usageLine(customerId: admin.customerId, identifier: "3471112223")
            let records = try await portal.usageTraffic(customerId: admin.customerId, lineId: line, days: 60)
            let monthStart = CalendarDay(year: portal.billingToday.year, month: portal.billingToday.month, day: 1).startInstant
            let thisMonth = records.filter { $0.startedAt >= monthStart }
            try await portal.test { browser in
                try await browser.logIn(admin.username, billingPassword)
                let page = try await browser.get("/usage")
                #expect(page.status == .ok)
                #expect(page.body.contains("3471112223") && page.body.contains("Mese in corso"))
                #expect(page.body.components(separatedBy: "<td><time datetime=").count - 1 == min(thisMonth.count, 50))
                #expect(page.body.contains("Chiamata") && page.body.contains("Internet"))
                #expect(page.body.contains("role=\"img\"") && page.body.contains("<table class=\"chart-table\">"), "the month's traffic and cost as a chart and a table")
                let orange = try #require(ChartPalette.readable("#ff6a00"))
                #expect(page.body.contains("fill=\"\(orange)\"") && !page.body.contains("#ff6a00") && ChartPalette.contrast(orange) >= 3,
                        "WINDTRE's orange, darkened to 3:1 for graphics on white")
                let calls = try await browser.get("/usage?type=calls")
                #expect(calls.body.contains("Chiamata nazionale") && !calls.body.contains("Traffico dati"))
                let threeMonths = try await browser.get("/usage?period=3months")
                #expect(threeMonths.body.contains("rel=\"next\""), "more than 50 rows: a next page")
                #expect(page.body.contains("Scarica il traffico") && page.body.contains("90 giorni"))
                let badType = try await browser.get("/usage?type=fax")
                #expect(badType.status == .unprocessableContent && badType.body.contains("usage-type-error"))

                let token = try await BillingAPI.token(browser.client, admin.username)
                var seen: [Int] = []
                var cursor: String?
                repeat {
                    let path = "/api/v1/usage?period=3months&limit=40" + (cursor.map { "&cursor=\($0)" } ?? "")
                    let answer = try await BillingAPI.send(browser.client, .get, path, token: token)
                    #expect(answer.status == .ok)
                    let items = try #require(answer.json["items"] as? [[String: Any]])
                    seen += items.compactMap { $0["id"] as? Int }
                    cursor = answer.json["next_cursor"] as? String
                } while cursor != nil
                #expect(seen.count == records.count && Set(seen).count == seen.count, "the pages cover every record once")
                let month = try await BillingAPI.send(browser.client, .get, "/api/v1/usage", token: token)
                let totals = try #require(month.json["totals"] as? [[String: Any]])
                #expect(totals.first { $0["kind"] as? String == "call" }?["count"] as? Int == thisMonth.filter { $0.kind == "call" }.count)
                #expect(month.json["export_max_days"] as? Int == 90)
                #expect((month.json["lines"] as? [[String: Any]])?.count == 1)
            }
        }
    }

    @Test("window: a period before WINDTRE's three months is refused naming the first visible day, never cut silently",
          arguments: TestEngine.available)
    func usageWindow(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let admin = try await portal.billingCustomer(role: "telco_manager")
            _ = try await portal.usageLine(customerId: admin.customerId, identifier: "3470000001")
            let earliest = portal.billingToday.adding(months: -3)
            let before = earliest.adding(days: -1)
            try await portal.test { browser in
                try await browser.logIn(admin.username, billingPassword)
                let page = try await browser.get("/usage?period=custom&from=\(before)&to=\(portal.billingToday)")
                #expect(page.status == .unprocessableContent)
                #expect(page.body.contains("usage-from-error") && page.body.contains(Formatting.day(earliest.description)))
                #expect(try await browser.get("/usage?period=custom&from=\(earliest)&to=\(portal.billingToday)").status == .ok)
                let token = try await BillingAPI.token(browser.client, admin.username)
                let api = try await BillingAPI.send(browser.client, .get, "/api/v1/usage?from=\(before)&to=\(portal.billingToday)", token: token)
                #expect(api.status == .unprocessableContent && api.fieldCodes["from"] == "before_visibility_window")
                let reversed = try await BillingAPI.send(browser.client, .get, "/api/v1/usage?from=\(portal.billingToday)&to=\(before)", token: token)
                #expect(reversed.fieldCodes["to"] == "empty_range")
            }
        }
    }

    @Test("export: CSV with BOM, ';' and a header row; XLSX a real workbook (ZIP entries, CRC, well-formed XML, every row); 91 days refused",
          arguments: TestEngine.available)
    func export(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let admin = try await portal.billingCustomer(role: "user_admin")
            let line = try await portal.usageLine(customerId: admin.customerId, identifier: "3479998887")
            let records = try await portal.usageTraffic(customerId: admin.customerId, lineId: line, days: 40)
            let from = portal.billingToday.adding(days: -29), to = portal.billingToday
            let inRange = records.filter { $0.startedAt >= from.startInstant }
            try await portal.test { browser in
                try await browser.logIn(admin.username, billingPassword)
                let cookie = browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
                let query = "line=\(line)&period=custom&from=\(from)&to=\(to)"
                let csv = try await BillingAPI.send(browser.client, .get, "/usage/export?\(query)&format=csv", cookie: cookie)
                #expect(csv.status == .ok && csv.headers[.contentType] == "text/csv; charset=utf-8")
                #expect(csv.headers[.contentDisposition]?.contains("attachment; filename=\"traffico_3479998887_\(from)_\(to).csv\"") == true)
                let bytes = [UInt8](Data(buffer: csv.body))
                #expect(Array(bytes.prefix(3)) == [0xEF, 0xBB, 0xBF], "UTF-8 byte-order mark")
                let text = String(decoding: bytes.dropFirst(3), as: UTF8.self)
                let rows = text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
                #expect(rows.first == "Data e ora;Linea;Tipo;Numero o destinazione;Durata (secondi);Durata;Dati (MB);Costo (EUR);Descrizione")
                #expect(rows.count == inRange.count + 1)
                #expect(rows.contains { $0.contains(";Chiamata;+393331234567;125;2:05;0,00;0,12;\"Chiamata nazionale; \"\"ufficio\"\"\"") },
                        "decimal commas, quoted fields, signed numbers kept")

                let xlsx = try await BillingAPI.send(browser.client, .get, "/usage/export?\(query)&format=xlsx", cookie: cookie)
                #expect(xlsx.status == .ok && xlsx.headers[.contentType] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
                let workbook = Data(buffer: xlsx.body)
                let entries = try ZipCheck.entries(workbook)
                for name in ["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/worksheets/sheet1.xml", "xl/styles.xml"] {
                    let entry = try #require(entries[name], "\(name) in the package")
                    #expect(ZipCheck.wellFormed(entry), "\(name) is well-formed XML")
                }
                let sheet = String(decoding: try #require(entries["xl/worksheets/sheet1.xml"]), as: UTF8.self)
                #expect(sheet.components(separatedBy: "<row ").count - 1 == inRange.count + 1)
                #expect(sheet.contains("<t>Data e ora</t>") && sheet.contains("Chiamata nazionale; &quot;ufficio&quot;"))
                if FileManager.default.isExecutableFile(atPath: "/usr/bin/unzip") {
                    let file = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString).xlsx")
                    try workbook.write(to: file)
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: "/usr/bin/unzip")
                    process.arguments = ["-tq", file.path]
                    process.standardOutput = FileHandle.nullDevice
                    try process.run()
                    process.waitUntilExit()
                    #expect(process.terminationStatus == 0, "Info-ZIP's unzip accepts the workbook")
                    try? FileManager.default.removeItem(at: file)
                }

                let longFrom = to.adding(days: -90)
                let tooLong = try await browser.get("/usage/export?line=\(line)&period=custom&from=\(longFrom)&to=\(to)&format=xlsx")
                #expect(tooLong.status == .unprocessableContent)
                #expect(tooLong.body.contains("export-to-error") && tooLong.body.contains("al massimo 90 giorni"))
                #expect(tooLong.body.contains("value=\"\(longFrom)\""), "the dates typed are kept")
                let ninety = try await BillingAPI.send(browser.client, .get,
                                                       "/usage/export?line=\(line)&period=custom&from=\(to.adding(days: -89))&to=\(to)&format=csv", cookie: cookie)
                #expect(ninety.status == .ok, "exactly 90 days is allowed")
                let token = try await BillingAPI.token(browser.client, admin.username)
                let api = try await BillingAPI.send(browser.client, .get, "/api/v1/usage/export?line=\(line)&from=\(longFrom)&to=\(to)&format=csv", token: token)
                #expect(api.status == .unprocessableContent && api.fieldCodes["to"] == "export_range_too_long")
                let noFormat = try await BillingAPI.send(browser.client, .get, "/api/v1/usage/export?line=\(line)&from=\(from)&to=\(to)", token: token)
                #expect(noFormat.fieldCodes["format"] == "required")
            }
        }
    }

    @Test("TIM scopes: the Utilizzatore sees only the line assigned to them, another line is 404; the Amministratore Full sees every line",
          arguments: TestEngine.available)
    func timScopes(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let user = try await portal.billingCustomer(role: "utilizzatore")
            let full = try await portal.billingCustomer(role: "amministratore_full", customerId: user.customerId)
            let light = try await portal.billingCustomer(role: "amministratore_light", customerId: user.customerId)
            let own = try await portal.usageLine(customerId: user.customerId, identifier: "3331110001", assignedTo: user.userId)
            let colleague = try await portal.usageLine(customerId: user.customerId, identifier: "3331110002", assignedTo: full.userId)
            try await portal.usageTraffic(customerId: user.customerId, lineId: own, days: 3)
            try await portal.usageTraffic(customerId: user.customerId, lineId: colleague, days: 3)
            try await portal.database.write(tenant: portal.definition.id, now: portal.billingNow) { transaction in
                try await transaction.insertRecharge(RechargeRecord(externalId: "TX-OWN", customerId: user.customerId, lineId: own,
                                                                    rechargedAt: portal.billingNow - 86_400, amountCents: 1_500, channel: "app"))
                try await transaction.insertRecharge(RechargeRecord(externalId: "TX-COLLEAGUE", customerId: user.customerId, lineId: colleague,
                                                                    rechargedAt: portal.billingNow - 86_400, amountCents: 2_500, channel: "portal"))
            }
            try await portal.test { browser in
                try await browser.logIn(user.username, billingPassword)
                let page = try await browser.get("/usage")
                #expect(page.status == .ok && page.body.contains("3331110001") && !page.body.contains("3331110002"))
                #expect(try await browser.get("/usage?line=\(colleague)").status == .notFound)
                #expect(try await browser.get("/usage/export?line=\(colleague)&format=csv&period=month").status == .notFound)
                let recharges = try await browser.get("/recharges")
                #expect(recharges.body.contains("TX-OWN") && !recharges.body.contains("TX-COLLEAGUE"))
                #expect(try await browser.get("/recharges?line=\(colleague)").status == .notFound)
                let token = try await BillingAPI.token(browser.client, user.username)
                let api = try await BillingAPI.send(browser.client, .get, "/api/v1/usage", token: token)
                #expect((api.json["lines"] as? [[String: Any]])?.compactMap { $0["identifier"] as? String } == ["3331110001"])
                #expect(try await BillingAPI.send(browser.client, .get, "/api/v1/usage?line=\(colleague)", token: token).status == .notFound)
                let apiRecharges = try await BillingAPI.send(browser.client, .get, "/api/v1/recharges", token: token)
                #expect((apiRecharges.json["recharges"] as? [[String: Any]])?.compactMap { $0["transaction_id"] as? String } == ["TX-OWN"])
            }
            try await portal.test { browser in
                try await browser.logIn(full.username, billingPassword)
                let page = try await browser.get("/usage")
                #expect(page.body.contains("3331110001") && page.body.contains("3331110002"), "all the contract's SIMs")
                #expect(try await browser.get("/usage?line=\(own)").status == .ok)
                let recharges = try await browser.get("/recharges")
                #expect(recharges.body.contains("TX-OWN") && recharges.body.contains("TX-COLLEAGUE"))
            }
            try await portal.test { browser in
                try await browser.logIn(light.username, billingPassword)
                let page = try await browser.get("/usage")
                #expect(page.status == .ok && page.body.contains("Nessuna linea è assegnata"), "an own-line role without a line sees none")
                #expect(!page.body.contains("3331110001") && !page.body.contains("3331110002"))
            }
        }
    }

    @Test("WINDTRE recharge history: recharges made and attempts with transaction id and outcome; isolation between customers",
          arguments: TestEngine.available)
    func recharges(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "windtre") { portal in
            let admin = try await portal.billingCustomer(role: "user_admin")
            let other = try await portal.billingCustomer(role: "user_admin")
            let line = try await portal.usageLine(customerId: admin.customerId, identifier: "3205550001")
            let foreign = try await portal.usageLine(customerId: other.customerId, identifier: "3205559999")
            try await portal.database.write(tenant: portal.definition.id, now: portal.billingNow) { transaction in
                try await transaction.insertRecharge(RechargeRecord(externalId: "TX-OK-1", customerId: admin.customerId, lineId: line,
                                                                    rechargedAt: portal.billingNow - 3 * 86_400, amountCents: 2_000, channel: "portal"))
                try await transaction.insertRecharge(RechargeRecord(externalId: "TX-KO-2", customerId: admin.customerId, lineId: line,
                                                                    rechargedAt: portal.billingNow - 2 * 86_400, amountCents: 1_000, channel: "app", status: .failed))
                try await transaction.insertRecharge(RechargeRecord(externalId: "TX-THEIRS", customerId: other.customerId, lineId: foreign,
                                                                    rechargedAt: portal.billingNow - 86_400, amountCents: 5_000, channel: "app"))
            }
            try await portal.test { browser in
                try await browser.logIn(admin.username, billingPassword)
                let page = try await browser.get("/recharges")
                #expect(page.status == .ok)
                #expect(page.body.contains("Ricariche effettuate") && page.body.contains("Tentativi di ricarica"))
                #expect(page.body.contains("TX-OK-1") && page.body.contains("TX-KO-2") && page.body.contains("Non riuscita"))
                #expect(page.body.contains("20,00 €") && !page.body.contains("TX-THEIRS"))
                #expect(try await browser.get("/recharges?line=\(foreign)").status == .notFound)
                let token = try await BillingAPI.token(browser.client, admin.username)
                let api = try await BillingAPI.send(browser.client, .get, "/api/v1/recharges", token: token)
                #expect((api.json["recharges"] as? [[String: Any]])?.count == 1)
                #expect((api.json["attempts"] as? [[String: Any]])?.compactMap { $0["status"] as? String } == ["failed", "completed"])
            }
        }
    }

    @Test("the ZIP writer and CSV escaping on their own")
    func writers() throws {
        let table = SpreadsheetTable(sheetName: "Prova: [1]", header: ["A", "B"], rows: [[.text("=SUM(A1)"), .number(1.5, decimals: 2)],
                                                                                     [.text("ÀÉ & <x>"), .integer(7)]])
        let csv = String(decoding: SpreadsheetWriter.csv(table, locale: "it").dropFirst(3), as: UTF8.self)
        #expect(csv == "A;B\r\n'=SUM(A1);1,50\r\nÀÉ & <x>;7\r\n")
        let entries = try ZipCheck.entries(SpreadsheetWriter.xlsx(table))
        let workbook = String(decoding: try #require(entries["xl/workbook.xml"]), as: UTF8.self)
        #expect(workbook.contains("name=\"Prova- -1-\""), "sheet names lose the characters Excel forbids")
        #expect(String(decoding: try #require(entries["xl/worksheets/sheet1.xml"]), as: UTF8.self).contains("ÀÉ &amp; &lt;x&gt;"))
        #expect(SpreadsheetWriter.column(0) == "A" && SpreadsheetWriter.column(25) == "Z" && SpreadsheetWriter.column(26) == "AA")
        #expect(SpreadsheetWriter.localDateTime(CalendarDay(year: 2026, month: 7, day: 1).startInstant) == "01/07/2026 00:00:00")
    }
}

@Suite("Billing and usage pages on the demo data")
struct BillingDemoTests {
    @Test("TIM demo: the Utilizzatore has a SIM of their own with a year of traffic; the Legal Representative's invoices, detail, print and statement-free pages render",
          arguments: TestEngine.available)
    func timDemo(engine: TestEngine) async throws {
        try await PortalHarness.with(engine: engine, tenant: "tim") { portal in
            let summary = try await DemoDataGenerator(tenant: portal.definition, now: portal.billingNow, hasher: BcryptPasswordHasher(cost: 4))
                .generate(into: portal.database)
            let user = try #require(summary.logins.first { $0.role == "utilizzatore" })
            let legal = try #require(summary.logins.first { $0.role == "rappresentante_legale" })
            try await portal.test { browser in
                let login = try await browser.post("/login", ["identifier": user.username, "password": user.password])
                #expect(login.location == "/")
                let usage = try await browser.get("/usage?period=3months")
                #expect(usage.status == .ok && usage.body.contains("<td><time datetime="), "the demo Utilizzatore sees traffic on their own SIM")
                #expect(!usage.body.contains("Nessuna linea è assegnata"))
                #expect(try await browser.get("/recharges").status == .ok)
                #expect(try await browser.get("/invoices").status == .forbidden)
            }
            try await portal.test { browser in
                let login = try await browser.post("/login", ["identifier": legal.username, "password": legal.password])
                #expect(login.location == "/")
                let list = try await browser.get("/invoices")
                #expect(list.status == .ok)
                let link = list.body.range(of: #"href="/invoices/(\d+)""#, options: .regularExpression).map { String(list.body[$0]) }
                let id = try #require(link).filter(\.isNumber)
                #expect(try await browser.get("/invoices/\(id)").status == .ok)
                #expect(try await browser.get("/invoices/\(id)/print").status == .ok)
                let usage = try await browser.get("/usage")
                #expect(usage.status == .ok && usage.body.contains("usage-line"), "several lines: a line picker")
            }
        }
    }

    @Test("OpenAPI: each tenant's document lists the billing and usage operations its features allow", arguments: ["unidata", "tunda", "windtre"])
    func openAPI(tenant: String) async throws {
        try await PortalHarness.with(engine: .sqlite, tenant: tenant) { portal in
            try await portal.test { browser in
                let document = try await BillingAPI.send(browser.client, .get, "/api/v1/openapi.json")
                let paths = try #require(document.json["paths"] as? [String: Any])
                #expect(paths["/invoices"] != nil && paths["/invoices/{id}"] != nil && paths["/invoices/{id}/documents/{document_id}"] != nil)
                let schemas = try #require((document.json["components"] as? [String: Any])?["schemas"] as? [String: Any])
                #expect(schemas["InvoiceList"] != nil && schemas["PaymentRequest"] != nil && schemas["UsagePage"] != nil)
                switch tenant {
                case "unidata":
                    #expect(paths["/invoices/{id}/payments"] != nil && paths["/statement"] != nil && paths["/usage"] != nil)
                    #expect(paths["/recharges"] == nil)
                case "tunda":
                    let pay = (paths["/invoices/{id}/payments"] as? [String: Any])?["post"] as? [String: Any]
                    #expect((pay?["description"] as? String)?.contains("proforma.pay") == true)
                    #expect(paths["/statement"] != nil && paths["/usage"] == nil)
                default:
                    #expect(paths["/invoices/{id}/payments"] == nil, "WINDTRE has no online invoice payment")
                    #expect(paths["/usage/export"] != nil && paths["/recharges"] != nil)
                }
            }
        }
    }
}
