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
