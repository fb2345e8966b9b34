import Foundation
import SportelloApplication
import SportelloCore
import Yams

/// A template or string file that could not be loaded, named by path.
public struct TemplateLoadError: Error, CustomStringConvertible {
    public var file: String
    public var reason: String
    public var description: String { "\(file): error: \(reason)" }
}

/// The pages, strings and static files of one tenant: `templates/default/` with the files of
/// `templates/<tenant>/` replacing those of the same name.
public struct PortalTheme: Sendable {
    let library: PageTemplateLibrary
    /// The same templates once per locale with `{{t.…}}` replaced by that locale's strings, so a page
    /// does not look them up (three nested lookups each) on every request.
    private let localizedLibraries: [String: PageTemplateLibrary]
    /// UI strings by locale (`i18n/<locale>.yaml` and `i18n/<area>.<locale>.yaml`), the tenant's keys
    /// merged over the default ones.
    public let strings: [String: [String: String]]
    /// Files served under `/static/` (CSS, JavaScript, images).
    public let staticFiles: [String: Data]
    /// Each static file's entity tag (a digest of its bytes), so browsers revalidate rather than keep a stale copy.
    let staticETags: [String: String]
    /// The strings of each locale as nested objects for templates, built once at load.
    private let nestedStrings: [String: TemplateData]

    init(library: PageTemplateLibrary, localizedLibraries: [String: PageTemplateLibrary] = [:], strings: [String: [String: String]],
         staticFiles: [String: Data]) {
        self.library = library
        self.localizedLibraries = localizedLibraries
        self.strings = strings
        let bundled = Self.bundlingStylesheets(staticFiles)
        self.staticFiles = bundled
        staticETags = bundled.mapValues(EntityTag.of)
        var nested: [String: TemplateData] = [:]
        for locale in strings.keys { nested[locale] = TemplateData(nesting: Self.merged(strings, locale: locale)) }
        nestedStrings = nested
    }

    /// `portal.css` followed by every area's stylesheet (`invoices.css`…, in name order): the layout links
    /// one file, so a page costs one request for its styles. The area files stay reachable on their own.
    static func bundlingStylesheets(_ files: [String: Data]) -> [String: Data] {
        var all = files
        var bundle = files["portal.css"] ?? Data()
        for name in files.keys.filter({ $0.hasSuffix(".css") && $0 != "portal.css" }).sorted() {
            bundle += Data("\n/* \(name) */\n".utf8) + (files[name] ?? Data())
        }
        all["portal.css"] = bundle
        return all
    }

    /// Loads the default theme and the tenant's overrides from `root` (the `templates` folder).
    public static func load(root: URL, tenantId: String) throws -> PortalTheme {
        let layers = [root.appendingPathComponent("default"), root.appendingPathComponent(tenantId)]
        var library = PageTemplateLibrary()
        var templates: [String: (text: String, url: URL)] = [:]
        var strings: [String: [String: String]] = [:]
        var staticFiles: [String: Data] = [:]
        for layer in layers {
            for (name, url) in files(in: layer.appendingPathComponent("pages"), extension: "mustache") {
                let text = try String(contentsOf: url, encoding: .utf8)
                do { try library.register(text, named: name) } catch {
                    throw TemplateLoadError(file: "\(url.path):\(error.line):\(error.column)", reason: error.reason)
                }
                templates[name] = (text, url)
            }
            do {
                for (locale, entries) in try TenantTexts.strings(in: layer.appendingPathComponent("i18n")) {
                    strings[locale, default: [:]].merge(entries) { _, layered in layered }
                }
            } catch let error as TenantTexts.LoadError {
                throw TemplateLoadError(file: error.file, reason: error.reason)
            }
            for (name, url) in files(in: layer.appendingPathComponent("static"), extension: nil) {
                staticFiles[name] = try Data(contentsOf: url)
            }
        }
        if let missing = library.missingPartials().first {
            throw TemplateLoadError(file: templates[missing.template]?.url.path ?? missing.template,
                                    reason: "`\(missing.partial)` is used as a partial or parent, but no pages/\(missing.partial).mustache exists")
        }
        var localized: [String: PageTemplateLibrary] = [:]
        for locale in strings.keys {
            let texts = merged(strings, locale: locale)
            var library = PageTemplateLibrary()
            for (name, template) in templates {
                do { try library.register(substitutingStrings(in: template.text, texts), named: name) } catch {
                    throw TemplateLoadError(file: template.url.path,
                                            reason: "not a valid template once the \(locale) strings are in: \(error.reason)")
                }
            }
            localized[locale] = library
        }
        return PortalTheme(library: library, localizedLibraries: localized, strings: strings, staticFiles: staticFiles)
    }

    private static let stringTag = try! NSRegularExpression(pattern: #"\{\{(\{|&)?\s*t\.([A-Za-z0-9_.\-]+)\s*(\}?)\}\}"#)

    /// `{{t.key}}` (escaped) and `{{{t.key}}}` / `{{&t.key}}` (as is) replaced by the strings they name;
    /// tags of unknown keys, and sections such as `{{#t.key}}`, are left to the renderer.
    static func substitutingStrings(in template: String, _ texts: [String: String]) -> String {
        let source = template as NSString
        var result = ""
        var position = 0
        for match in stringTag.matches(in: template, range: NSRange(location: 0, length: source.length)) {
            let opening = match.range(at: 1).location == NSNotFound ? "" : source.substring(with: match.range(at: 1))
            let closingBrace = match.range(at: 3).length > 0
            guard opening == "{" ? closingBrace : !closingBrace else { continue }
            let key = source.substring(with: match.range(at: 2))
            guard let text = texts[key], !text.contains("{{") else { continue }
            result += source.substring(with: NSRange(location: position, length: match.range.location - position))
            result += opening.isEmpty ? HTMLEscaping.escape(text) : text
            position = match.range.location + match.range.length
        }
        result += source.substring(from: position)
        return result
    }

    /// Dotted keys back into nested objects, so templates can write `{{t.error.forbidden.title}}`.
    func templateStrings(for locale: String) -> TemplateData {
        nestedStrings[locale] ?? nestedStrings["it"] ?? .object([:])
    }

    private static func files(in directory: URL, extension wanted: String?) -> [(String, URL)] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        return names.sorted().compactMap { name in
            let url = directory.appendingPathComponent(name)
            if let wanted {
                guard url.pathExtension == wanted else { return nil }
                return (url.deletingPathExtension().lastPathComponent, url)
            }
            return name.hasPrefix(".") ? nil : (name, url)
        }
    }

    /// The strings for `locale`, falling back key by key to Italian.
    public func strings(for locale: String) -> [String: String] { Self.merged(strings, locale: locale) }

    private static func merged(_ strings: [String: [String: String]], locale: String) -> [String: String] {
        let fallback = strings["it"] ?? [:]
        return fallback.merging(strings[locale] ?? [:]) { _, chosen in chosen }
    }

    /// The UI strings as the use cases read them.
    public var texts: TenantTexts { TenantTexts(strings) }

    /// One UI string, with `{name}` placeholders filled.
    public func text(_ key: String, locale: String, _ values: [String: String] = [:]) -> String {
        TenantTexts(strings).text(key, locale: locale, values)
    }

    /// Renders `template` with the library of `locale` (the strings already in place), the page's data over the layout's.
    func render(_ template: String, _ data: TemplateData, layout: TemplateData?, locale: String) -> String? {
        let localized = localizedLibraries[locale] ?? localizedLibraries["it"] ?? library
        return localized.render(data, layout: layout, withTemplate: template)
    }
}

