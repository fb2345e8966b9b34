import Foundation
import Mustache
import Testing
import SportelloCore
@testable import SportelloWeb

@Suite("Template rendering")
struct RenderingTests {
    @Test("the portal's HTML escaping gives exactly what swift-mustache's own gives", arguments: [
        "Rossi & Figli S.r.l.", "<script>alert('x')</script>", "\"citato\" l'altro", "nulla da fare", "Perché così? 🇮🇹 €", "",
    ])
    func escapingMatchesMustache(text: String) throws {
        let template = try MustacheTemplate(string: "{{value}}")
        #expect(HTMLEscaping.escape(text) == template.render(["value": text]))
    }

    @Test("the layout's hand-built template data is what the encoder makes of it, with and without the optional parts",
          arguments: [false, true])
    func layoutTemplateDataMatchesTheEncoder(full: Bool) {
        var layout = LayoutModel(title: "Fatture · Esempio", tenantName: "Esempio & C.", tenantId: "example", locale: "it",
                                 t: .object(["menu": .object(["home": .text("Casa")])]), csrf: "abc", hasLogo: full, logo: full ? "logo.svg" : "",
                                 favicon: "", year: "2026", otherLocales: [.init(code: "en")])
        if full {
            layout.customerCare = "800 000 000"
            layout.contactEmail = "aiuto@example.it"
            layout.user = .init(name: "Maria Verdi", username: "mverdi", roleLabel: "Amministratore", customerName: "Verdi Srl")
            layout.nav = [.init(id: "billing", label: "Fatture", href: "/sections/billing"), .init(id: "help", label: "Aiuto", href: "/sections/help")]
            layout.hasNav = true
        }
        #expect(layout.templateData == TemplateData(encoding: layout))
    }

    @Test("UI strings are written into the templates per locale; sections, raw tags and unknown keys are left alone")
    func stringsAreSubstituted() throws {
        let texts = ["menu.home": "Casa & bottega", "menu.raw": "<b>grassetto</b>"]
        let source = "{{t.menu.home}}|{{{t.menu.raw}}}|{{&t.menu.raw}}|{{#t.menu.home}}s{{/t.menu.home}}|{{t.missing}}|{{ t.menu.home }}"
        let result = PortalTheme.substitutingStrings(in: source, texts)
        #expect(result == "Casa &amp; bottega|<b>grassetto</b>|<b>grassetto</b>|{{#t.menu.home}}s{{/t.menu.home}}|{{t.missing}}|Casa &amp; bottega")
        // What is left still renders as before.
        let rendered = try MustacheTemplate(string: result).render(["t": ["menu": ["home": "Casa"]]])
        #expect(rendered == "Casa &amp; bottega|<b>grassetto</b>|<b>grassetto</b>|s||Casa &amp; bottega")
    }

    @Test("portal.css carries every area's stylesheet after its own rules; the area files stay served")
    func stylesheetsAreBundled() {
        let files = ["portal.css": Data("body{}".utf8), "usage.css": Data(".usage{}".utf8), "hosting.css": Data(".hosting{}".utf8),
                     "portal.js": Data("x".utf8)]
        let bundled = PortalTheme.bundlingStylesheets(files)
        let css = String(decoding: bundled["portal.css"] ?? Data(), as: UTF8.self)
        #expect(css.hasPrefix("body{}"))
        let hosting = css.range(of: ".hosting{}"), usage = css.range(of: ".usage{}")
        #expect(hosting != nil && usage != nil)
        if let hosting, let usage { #expect(hosting.lowerBound < usage.lowerBound, "in name order") }
        #expect(bundled["usage.css"] == files["usage.css"] && bundled["portal.js"] == files["portal.js"])
    }

    @Test("every UI string exists in Italian and in English, and every string a template names exists")
    func stringsAreComplete() throws {
        let root = repositoryRoot.appendingPathComponent("templates")
        let theme = try PortalTheme.load(root: root, tenantId: "default")
        let italian = theme.strings["it"] ?? [:], english = theme.strings["en"] ?? [:]
        #expect(italian.count > 500)
        #expect(Set(italian.keys).subtracting(english.keys).sorted() == [], "missing in English")
        #expect(Set(english.keys).subtracting(italian.keys).sorted() == [], "missing in Italian")
        let pages = root.appendingPathComponent("default/pages")
        let tag = try NSRegularExpression(pattern: #"\{\{[{&#^/]?\s*t\.([A-Za-z0-9_.\-]+)"#)
        for name in try FileManager.default.contentsOfDirectory(atPath: pages.path) where name.hasSuffix(".mustache") {
            let text = try String(contentsOf: pages.appendingPathComponent(name), encoding: .utf8)
            for match in tag.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let key = (text as NSString).substring(with: match.range(at: 1))
                #expect(italian[key] != nil, "\(name) names t.\(key), which no i18n file defines")
            }
        }
    }
}
