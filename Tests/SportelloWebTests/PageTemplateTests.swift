import Foundation
import Mustache
import Testing
@testable import SportelloWeb

/// The page engine against swift-mustache: the same templates and values must give the same HTML.
@Suite("Page templates")
struct PageTemplateTests {
    /// Renders `main` from `templates` with both engines.
    private func renderBoth(_ templates: [String: String], main: String = "main", _ values: [String: Any]) throws -> (ours: String?, mustache: String?) {
        var ours = PageTemplateLibrary()
        var theirs = MustacheLibrary()
        for (name, text) in templates {
            try ours.register(text, named: name)
            try theirs.register(text, named: name)
        }
        return (ours.render(TemplateData(any: values), withTemplate: main), theirs.render(values, withTemplate: main))
    }

    static var cases: [(String, [String: String], [String: Any])] { [
        ("variables escaped and raw", ["main": "{{a}}|{{{a}}}|{{& a}}|{{ missing }}|{{n}}|{{f}}|{{yes}}"],
         ["a": "<b>\"R&S\" l'altro</b>", "n": 42, "f": 1.5, "yes": true]),
        ("dotted names and the context stack",
         ["main": "{{user.name}} {{#user}}{{name}} {{tenant}} {{.name}}{{/user}} {{user.missing.deeper}} {{#user}}{{.tenant}}{{/user}}"],
         ["user": ["name": "Anna"] as [String: Any], "tenant": "TIM"]),
        ("sections over lists, maps, flags, strings and numbers",
         ["main": "{{#items}}<{{label}}>{{/items}}|{{#names}}[{{.}}]{{/names}}|{{#on}}on{{/on}}{{#off}}off{{/off}}|{{#empty}}e{{/empty}}|{{#text}}t:{{.}}{{/text}}|{{#zero}}z{{/zero}}|{{#blank}}b{{/blank}}"],
         ["items": [["label": "uno"], ["label": "due"]] as [[String: String]], "names": ["a", "b"], "on": true, "off": false,
          "empty": [Any](), "text": "x", "zero": 0, "blank": ""]),
        ("inverted sections",
         ["main": "{{^missing}}m{{/missing}}{{^off}}o{{/off}}{{^empty}}e{{/empty}}{{^on}}X{{/on}}{{^items}}X{{/items}}{{^blank}}X{{/blank}}"],
         ["off": false, "on": true, "empty": [[String: Any]](), "items": [["a": 1]] as [[String: Any]], "blank": ""]),
        ("standalone lines and indentation",
         ["main": "<ul>\n  {{#items}}\n  <li>{{.}}</li>\n  {{/items}}\n  {{! a comment }}\n</ul>\n  {{^none}}  \n  none\n  {{/none}}\nend {{#items}} x {{/items}} \n"],
         ["items": ["a", "b"]]),
        ("partials keep their indentation",
         ["main": "<form>\n    {{>fields}}\n  <p>{{>inline}}</p>\n</form>", "fields": "<input name=\"{{a}}\">\n<input name=\"b\">\n{{#list}}\n<i>{{.}}</i>\n{{/list}}\n",
          "inline": "in {{a}}"],
         ["a": "x", "list": ["1", "2"]]),
        ("parents with blocks, defaults and nested parents",
         ["main": "{{<page}}\n{{$title}}Titolo {{name}}{{/title}}\n{{$body}}\n  <p>{{name}}</p>\n  <p>due</p>\n{{/body}}\n{{/page}}\n",
          "page": "{{<layout}}{{$main}}<h1>{{$title}}Default{{/title}}</h1>\n{{$body}}vuoto{{/body}}{{$foot}}piede{{/foot}}{{/main}}{{/layout}}",
          "layout": "<html>\n{{$main}}{{/main}}\n</html>\n"],
         ["name": "Anna"]),
        ("delimiter changes", ["main": "{{=<% %>=}}\n<% a %> {{a}}\n<%={{ }}=%>\n{{a}}"], ["a": "x"]),
        ("Windows newlines", ["main": "a\r\n  {{#on}}\r\n  b\r\n  {{/on}}\r\nc {{a}}\r\n"], ["on": true, "a": "<"]),
        ("unicode around tags", ["main": "Perché {{a}} così — {{#on}}è{{/on}} 🇮🇹"], ["a": "€", "on": true]),
    ] }

    @Test("renders like swift-mustache", arguments: 0..<cases.count)
    func matchesMustache(index: Int) throws {
        let (label, templates, values) = Self.cases[index]
        let (ours, theirs) = try renderBoth(templates, values)
        #expect(ours != nil)
        #expect(ours == theirs, "\(label)")
    }

    @Test("a nil optional is no value: its section is hidden and its tag prints nothing")
    func nilOptionalsAreMissing() throws {
        var library = PageTemplateLibrary()
        try library.register("[{{a}}]{{#a}}shown{{/a}}{{^a}}hidden{{/a}}[{{b}}]{{#b}}{{.}}{{/b}}", named: "main")
        let values: [String: Any] = ["a": String?.none as Any, "b": String?.some("b") as Any]
        #expect(library.render(TemplateData(any: values), withTemplate: "main") == "[]hidden[b]b")
    }

    @Test("a typed page model reads as snake-case names; nil optionals are no value; the page's values hide the layout's")
    func typedModelsRender() throws {
        struct Row: Encodable { var label: String; var amountCents: Int64; var isOverdue: Bool }
        struct Model: Encodable {
            var pageTitle: String
            var rows: [Row]
            var notice: String?
            var tags: [String]
            var ratio: Double
        }
        var library = PageTemplateLibrary()
        try library.register("{{page_title}}|{{#rows}}<{{label}}:{{amount_cents}}{{#is_overdue}}!{{/is_overdue}}>{{/rows}}"
                             + "|{{^notice}}none{{/notice}}|{{#tags}}[{{.}}]{{/tags}}|{{ratio}}|{{year}}", named: "main")
        let model = Model(pageTitle: "Fatture & co", rows: [Row(label: "a", amountCents: 1_250, isOverdue: true),
                                                              Row(label: "b", amountCents: -3, isOverdue: false)],
                          notice: nil, tags: ["x", "y"], ratio: 0.5)
        struct Layout: Encodable { var year: String; var pageTitle: String }
        let html = library.render(TemplateData(encoding: model), layout: TemplateData(encoding: Layout(year: "2026", pageTitle: "layout")),
                                  withTemplate: "main")
        #expect(html == "Fatture &amp; co|<a:1250!><b:-3>|none|[x][y]|0.5|2026")
        #expect(TemplateData(encoding: model).child("notice") == nil)
    }

    @Test("template mistakes are refused at load with line and column", arguments: [
        ("<p>\n  {{#open}}x\n", 2, 3, "never closed"),
        ("a {{#one}}{{/two}}", 1, 14, "`one` is the one open"),
        ("{{#items}}\n{{upper(name)}}{{/items}}", 2, 3, "transforms"),
        ("{{> *dynamic}}", 1, 5, "dynamic partials"),
        ("{{name", 1, 7, "not closed"),
        ("{{% CONTENT_TYPE: TEXT}}", 1, 1, "always HTML"),
        ("{{<layout}}{{name}}{{/layout}}", 1, 1, "only blocks"),
    ])
    func mistakesAreRefused(source: String, line: Int, column: Int, reason: String) {
        #expect(throws: PageTemplateError.self) { try PageTemplate(source) }
        do {
            _ = try PageTemplate(source)
        } catch {
            #expect(error.line == line && error.column == column, "\(error)")
            #expect(error.reason.contains(reason), "\(error)")
        }
    }

    @Test("a partial no template defines is reported by name")
    func missingPartialsAreListed() throws {
        var library = PageTemplateLibrary()
        try library.register("{{<layout}}{{/layout}}{{>fields}}", named: "page")
        try library.register("x", named: "layout")
        #expect(library.missingPartials().map { "\($0.template): \($0.partial)" } == ["page: fields"])
    }

    @Test("a broken page template in a theme stops the load with its file, line and column")
    func loadNamesTheBrokenFile() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("themes-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let pages = root.appendingPathComponent("default/pages")
        try FileManager.default.createDirectory(at: pages, withIntermediateDirectories: true)
        try "<main>\n  {{#user}}{{name}}\n</main>\n".write(to: pages.appendingPathComponent("broken.mustache"), atomically: true, encoding: .utf8)
        #expect {
            _ = try PortalTheme.load(root: root, tenantId: "acme")
        } throws: { error in
            "\(error)".contains("broken.mustache:2:3") && "\(error)".contains("never closed")
        }
        try "{{>missing}}".write(to: pages.appendingPathComponent("broken.mustache"), atomically: true, encoding: .utf8)
        #expect {
            _ = try PortalTheme.load(root: root, tenantId: "acme")
        } throws: { error in
            "\(error)".contains("broken.mustache: error: `missing` is used as a partial")
        }
    }

    // MARK: Every real page template, in every tenant's theme

    @Test("every page template of every theme renders like swift-mustache, with lists, flags and nothing filled in")
    func realTemplatesMatchMustache() throws {
        let root = repositoryRoot.appendingPathComponent("templates")
        var compared = 0
        for tenant in ["tim", "tunda", "unidata", "unogas", "windtre"] {
            var sources: [String: String] = [:]
            for layer in ["default", tenant] {
                let pages = root.appendingPathComponent("\(layer)/pages")
                for name in (try? FileManager.default.contentsOfDirectory(atPath: pages.path)) ?? [] where name.hasSuffix(".mustache") {
                    sources[String(name.dropLast(".mustache".count))] = try String(contentsOf: pages.appendingPathComponent(name), encoding: .utf8)
                }
            }
            var ours = PageTemplateLibrary()
            var theirs = MustacheLibrary()
            var parsed: [String: PageTemplate] = [:]
            for (name, text) in sources {
                try ours.register(text, named: name)
                try theirs.register(text, named: name)
                parsed[name] = try PageTemplate(text)
            }
            #expect(ours.missingPartials().isEmpty)
            for name in sources.keys.sorted() {
                for style in ValueStyle.allCases {
                    var values: [String: Any] = [:]
                    var visited: Set<String> = []
                    Self.fill(&values, from: parsed[name]?.nodes ?? [], style: style, library: parsed, visited: &visited)
                    let mine = ours.render(TemplateData(any: values), withTemplate: name), reference = theirs.render(values, withTemplate: name)
                    #expect(mine == reference, "\(tenant)/\(name) with \(style)")
                    compared += 1
                }
            }
        }
        #expect(compared > 250)
    }

    enum ValueStyle: CaseIterable { case lists, flags, nothing }

    /// Values for every name a template uses: a text with characters to escape for each variable, and for each
    /// section two entries (lists), `true` (flags), or nothing at all.
    private static func fill(_ values: inout [String: Any], from nodes: [PageTemplateNode], style: ValueStyle,
                             library: [String: PageTemplate], visited: inout Set<String>, printed: Set<[String]> = []) {
        guard style != .nothing else { return }
        let printed = printed.isEmpty ? printedNames(nodes, library: library) : printed
        for node in nodes {
            switch node {
            case .text: break
            case .variable(let name, _):
                set(&values, name.parts, "<\(name.parts.joined(separator: "."))> & \"co\"")
            case .section(let name, let body, let inverted):
                if inverted {
                    set(&values, name.parts, style == .flags)
                    fill(&values, from: body, style: style, library: library, visited: &visited, printed: printed)
                } else if body.contains(where: { if case .variable(let inner, _) = $0 { inner.parts.isEmpty } else { false } }) {
                    // `{{.}}` in the body: a list of texts on real pages.
                    set(&values, name.parts, ["<1> & \"co\"", "<2>"])
                } else if style == .flags {
                    set(&values, name.parts, true)
                    fill(&values, from: body, style: style, library: library, visited: &visited, printed: printed)
                } else if printed.contains(name.parts) {
                    // A name both opened and printed holds a text on real pages (objects and lists print nothing).
                    set(&values, name.parts, "<\(name.parts.joined(separator: "."))> & \"co\"")
                    fill(&values, from: body, style: style, library: library, visited: &visited, printed: printed)
                } else {
                    var first: [String: Any] = [:], second: [String: Any] = [:]
                    fill(&first, from: body, style: style, library: library, visited: &visited, printed: printed)
                    fill(&second, from: body, style: .flags, library: library, visited: &visited, printed: printed)
                    set(&values, name.parts, [first, second])
                }
            case .partial(let name, _, let blocks):
                for body in (blocks ?? [:]).values { fill(&values, from: body, style: style, library: library, visited: &visited, printed: printed) }
                if visited.insert(name).inserted, let template = library[name] {
                    fill(&values, from: template.nodes, style: style, library: library, visited: &visited, printed: printed)
                }
            case .block(_, let body, _):
                fill(&values, from: body, style: style, library: library, visited: &visited, printed: printed)
            }
        }
    }

    /// Every name a variable tag prints, in the template and the partials it uses.
    private static func printedNames(_ nodes: [PageTemplateNode], library: [String: PageTemplate]) -> Set<[String]> {
        var names: Set<[String]> = [], visited: Set<String> = []
        func visit(_ nodes: [PageTemplateNode]) {
            for node in nodes {
                switch node {
                case .text: break
                case .variable(let name, _): names.insert(name.parts)
                case .section(_, let body, _), .block(_, let body, _): visit(body)
                case .partial(let name, _, let blocks):
                    (blocks ?? [:]).values.forEach(visit)
                    if visited.insert(name).inserted, let template = library[name] { visit(template.nodes) }
                }
            }
        }
        visit(nodes)
        return names
    }

    /// Sets `path` unless something is already there (the first use of a name decides its value).
    private static func set(_ values: inout [String: Any], _ path: [String], _ value: Any) {
        guard let head = path.first else { return }
        if path.count == 1 {
            if values[head] == nil { values[head] = value }
            return
        }
        if values[head] == nil { values[head] = [String: Any]() }
        guard var child = values[head] as? [String: Any] else { return }
        set(&child, Array(path.dropFirst()), value)
        values[head] = child
    }
}
