import Testing
import SportelloApplication

@Suite("Tenant texts")
struct TenantTextsTests {
    @Test("placeholders are filled in one pass: known names replaced, unknown ones and lone braces kept, a value never read as a placeholder")
    func fillPlaceholders() {
        #expect(TenantTexts.fill("dal {from} al {to}", ["from": "01/11/2026", "to": "30/11/2026"]) == "dal 01/11/2026 al 30/11/2026")
        #expect(TenantTexts.fill("{a}{a} {b}", ["a": "x"]) == "xx {b}")
        #expect(TenantTexts.fill("{ {a}", ["a": "x"]) == "{ x")
        #expect(TenantTexts.fill("{a", ["a": "x"]) == "{a")
        #expect(TenantTexts.fill("nessun segnaposto", ["a": "x"]) == "nessun segnaposto")
        #expect(TenantTexts.fill("{a} e {b}", ["a": "{b}", "b": "è"]) == "{b} e è")
        #expect(TenantTexts.fill("città {città}: {n} €", ["città": "Forlì", "n": "1.234,56"]) == "città Forlì: 1.234,56 €")
    }
}

@Suite("Formatting")
struct FormattingTests {
    @Test("a stored day reads dd/MM/yyyy; other shapes as the general rule reads them; anything else unchanged")
    func days() {
        #expect(Formatting.day("2026-11-01") == "01/11/2026")
        #expect(Formatting.day("2026-1-5") == "5/1/2026")
        #expect(Formatting.day("2026-1--01") == "01/1/2026")
        #expect(Formatting.day("26-11-01") == "26-11-01")
        #expect(Formatting.day("1 novembre") == "1 novembre")
        #expect(Formatting.day(nil) == "")
    }

    @Test("amounts: grouped thousands, two decimals with leading zero, sign, in Italian and English")
    func amounts() {
        #expect(Formatting.money(123_456_05, locale: "it") == "123.456,05 €")
        #expect(Formatting.money(-5, locale: "it") == "-0,05 €")
        #expect(Formatting.money(100_000_000, locale: "en") == "€1,000,000.00")
        #expect(Formatting.money(0, locale: "it") == "0,00 €")
        #expect(Formatting.money(99_999, locale: "it") == "999,99 €")
        #expect(Formatting.money(100_000, locale: "it") == "1.000,00 €")
        #expect(Formatting.money(-12_345_678_901, locale: "en") == "-€123,456,789.01")
        #expect(Formatting.dateTime(1_767_225_605, locale: "it") == "01/01/2026 01:00")
        #expect(Formatting.date(1_767_225_605, locale: "en") == "01/01/2026")
    }
}
