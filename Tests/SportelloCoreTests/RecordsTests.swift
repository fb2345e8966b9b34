import Foundation
import Testing
@testable import SportelloCore

@Suite("Italian identifiers")
struct ItalianIdentifierTests {
    @Test("known real codes pass and one changed character fails")
    func knownCodes() {
        #expect(ItalianIdentifiers.isValidCodiceFiscale("RSSMRA85T10A562S"))
        #expect(!ItalianIdentifiers.isValidCodiceFiscale("RSSMRA85T10A562T"))
        #expect(ItalianIdentifiers.makeCodiceFiscale(lastName: "Rossi", firstName: "Mario", birthDate: (1985, 12, 10), female: false, placeCode: "A562") == "RSSMRA85T10A562S")
        #expect(ItalianIdentifiers.isValidPartitaIVA("07643520567") && ItalianIdentifiers.isValidPartitaIVA("00743110157"))
        #expect(!ItalianIdentifiers.isValidPartitaIVA("07643520568"))
        #expect(ItalianIdentifiers.isValidIBAN("IT60X0542811101000000123456") && ItalianIdentifiers.isValidIBAN("it60 x054 2811 1010 0000 0123 456"))
        #expect(!ItalianIdentifiers.isValidIBAN("IT61X0542811101000000123456"))
    }

    @Test("generated codes round-trip", arguments: 0..<200)
    func roundTrip(seed: Int) {
        var random = SplitMix64(seed: UInt64(seed))
        let place = ItalianDemoData.pick(ItalianDemoData.municipalities, random.next())
        let code = ItalianIdentifiers.makeCodiceFiscale(lastName: ItalianDemoData.pick(ItalianDemoData.surnames, random.next()),
                                                        firstName: ItalianDemoData.pick(ItalianDemoData.femaleFirstNames, random.next()),
                                                        birthDate: (1940 + Int(random.next() % 60), 1 + Int(random.next() % 12), 1 + Int(random.next() % 28)),
                                                        female: true, placeCode: place.cadastralCode)
        #expect(ItalianIdentifiers.isValidCodiceFiscale(code), "\(code)")
        #expect(ItalianIdentifiers.isValidPartitaIVA(ItalianIdentifiers.makePartitaIVA(serial: Int(random.next() % 9_999_999), officeCode: 1 + Int(random.next() % 100))))
    }
}

@Suite("Visibility windows")
struct VisibilityWindowCalendarTests {
    static func windows(_ id: String) throws -> VisibilityWindows {
        VisibilityWindows(tenant: try #require(try loadRepositoryTenants().tenants.first { $0.definition.id == id }?.definition))
    }

    @Test("months count calendar months back, including month ends and leap days")
    func calendarMonths() throws {
        let unidata = try Self.windows("unidata")
        let now = CalendarDay(year: 2026, month: 11, day: 21).startInstant + 3600
        #expect(unidata.earliestDay(for: .invoices, now: now) == CalendarDay(year: 2024, month: 11, day: 21))
        let endOfMarch = CalendarDay(year: 2026, month: 3, day: 31).startInstant + 3600
        #expect(unidata.earliestDay(for: .invoices, now: endOfMarch) == CalendarDay(year: 2024, month: 3, day: 31))
        let leapDay = CalendarDay(year: 2028, month: 2, day: 29).startInstant + 3600
        #expect(unidata.earliestDay(for: .invoices, now: leapDay) == CalendarDay(year: 2026, month: 2, day: 28))
        #expect(unidata.earliestDay(for: .payments, now: now) == nil)
    }

    @Test("days are calendar days in Rome, also just after midnight across a daylight-saving change")
    func days() throws {
        let now = CalendarDay(year: 2026, month: 4, day: 2).startInstant + 30
        #expect(try Self.windows("unidata").earliestDay(for: .usage, now: now) == CalendarDay(year: 2025, month: 10, day: 4))
    }

    @Test("a reversed period and a too long export are refused with their codes; 90 days across DST pass")
    func errors() throws {
        let windtre = try Self.windows("windtre")
        let now = CalendarDay(year: 2026, month: 11, day: 21).startInstant
        #expect(throws: VisibilityError(code: .emptyRange, kind: .usage)) {
            try windtre.resolve(.usage, requested: TimeRange(from: now, to: now - 10), now: now)
        }
        let day = CalendarDay(year: 2026, month: 8, day: 22)
        let ninetyOne = TimeRange(from: day.startInstant, to: day.adding(days: 91).startInstant)
        #expect(throws: VisibilityError(code: .exportRangeTooLong, kind: .usage, maximumDays: 90)) {
            try windtre.resolve(.usage, requested: ninetyOne, now: now, export: true)
        }
        let ninety = TimeRange(from: day.startInstant, to: day.adding(days: 90).startInstant)
        #expect(ninety.seconds == 90 * 86_400 + 3600, "the period crosses the end of summer time")
        #expect((try? windtre.resolve(.usage, requested: ninety, now: now, export: true)) == ninety)
        #expect(throws: VisibilityError(code: .beforeVisibilityWindow, kind: .usage, earliestDay: CalendarDay(year: 2026, month: 8, day: 21))) {
            try windtre.resolve(.usage, requested: TimeRange(from: CalendarDay(year: 2026, month: 8, day: 20).startInstant, to: now), now: now)
        }
    }
}

@Suite("Import parsing")
struct ImportParsingTests {
    @Test("CSV: quoted separators, doubled quotes, line breaks, CRLF and a BOM, with physical line numbers")
    func csv() {
        let text = "\u{FEFF}type,external_id,description\r\nusage,A,\"one, \"\"two\"\"\"\r\nusage,B,\"multi\nline\"\r\nusage,C\r\n"
        let parsed = ImportParser.parse(Data(text.utf8), format: .csv, kind: nil)
        #expect(parsed.rows.map(\.line) == [2, 3])
        #expect(parsed.rows.first?.fields["description"] == #"one, "two""#)
        #expect(parsed.rows.last?.fields["description"] == "multi\nline")
        #expect(parsed.problems == [ImportProblem(line: 5, message: "2 fields, but the header has 3")])
    }

    @Test("JSON Lines: blank lines skipped, bad lines numbered, kinds by name")
    func jsonLines() {
        let text = "{\"type\":\"customers\",\"external_id\":\"X\"}\n\n[1]\n{\"external_id\":\"Y\"}\n"
        let parsed = ImportParser.parse(Data(text.utf8), format: .jsonLines, kind: nil)
        #expect(parsed.rows.map(\.kind) == [.customer])
        #expect(parsed.problems.map(\.line) == [3, 4])
    }

    @Test("field values lose leading and trailing spaces, tabs and Unicode spaces, and keep the rest")
    func trimmedValues() {
        #expect("U000001".trimmingWhitespaces() == "U000001")
        #expect("  Rossi Impianti S.r.l.\t".trimmingWhitespaces() == "Rossi Impianti S.r.l.")
        #expect("\u{00A0}Città\u{3000}".trimmingWhitespaces() == "Città")
        #expect("Città".trimmingWhitespaces() == "Città")
        #expect("a\nb".trimmingWhitespaces() == "a\nb")
        #expect(" \t ".trimmingWhitespaces() == "")
        #expect("".trimmingWhitespaces() == "")
        let csv = "type,external_id,description\nusage, A ,\" quoted \"\n"
        #expect(ImportParser.parse(Data(csv.utf8), format: .csv, kind: nil).rows.first?.fields == ["external_id": "A", "description": " quoted "])
    }

    @Test("times: ISO with offsets, Z, Italian local time in winter and summer, Unix seconds")
    func instants() {
        #expect(InstantParser.parse("2026-11-20T10:15:00+01:00") == 1_795_166_100)
        #expect(InstantParser.parse("2026-11-20T09:15:00Z") == 1_795_166_100)
        #expect(InstantParser.parse("2026-11-20 10:15:00") == 1_795_166_100)
        #expect(InstantParser.parse("2026-07-01 12:00") == 1_782_900_000)
        #expect(InstantParser.parse("2026-13-01 12:00") == nil)
        #expect(InstantParser.parse("yesterday") == nil)
    }
}
