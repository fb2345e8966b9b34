import Foundation
import Mustache
import SportelloCore

/// A message rendered for one tenant and locale.
public struct RenderedMail: Sendable, Equatable {
    public var subject: String
    public var text: String
    public var html: String
}

/// A template that cannot be used, with the file and line to fix: `FILE:LINE: error: MESSAGE`.
public struct MailTemplateError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file; self.line = line; self.message = message
    }

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): error: \(message)"
    }
}

/// The branded e-mail templates of every tenant, read once from `templates/`.
///
/// - `default/mail/<kind>.<locale>.mustache` — the platform's text; `<tenant>/mail/` holds a tenant's own
///   files, and a tenant file replaces the default file of the same name.
/// - A text file is `Subject: …` on the first line, a blank line, then the plain-text body. Both are
///   Mustache, rendered without HTML escaping (`{{link}}` prints the link as it is).
/// - `<kind>.<locale>.html.mustache` (optional, same override rule) is the HTML body, rendered with HTML
///   escaping. It is used only when it comes from the same folder as the text; otherwise the HTML is
///   made from the text (escaped, paragraphs, clickable links).
/// - The HTML body is wrapped in `_layout.html.mustache` (tenant's, else default, else a built-in one),
///   which gets `content` (unescaped), `subject`, `locale`, `primary_color` and the values.
/// - Locales fall back from the requested one (and its language, `en` for `en-GB`) to the tenant's default,
///   then to `it`.
///
/// Values every template can use: `tenant_name`, `customer_care` (phone number), `customer_care_email`,
/// `website`, `portal_url` (the caller's, else `https://<first host>`), `year`, `locale`, plus the
/// caller's `values` (which win) and `lists` (for sections: `{{#usernames}}{{.}}{{/usernames}}`).
public struct MailTemplates: Sendable {
    public let root: URL
    /// Folder name (`default` or a tenant id) → template name (`invitation.it`, `invitation.it.html`, `_layout.html`).
    private let folders: [String: [String: LoadedTemplate]]

    /// Values that may also be given as one newline-separated string; they become lists.
    public static let listValues: Set<String> = ["usernames"]

    private struct LoadedTemplate: Sendable {
        var file: String
        var subject: MustacheTemplate?
        var body: MustacheTemplate
    }

    /// Reads and checks every `*/mail/*.mustache` file under `root`; the first malformed one is thrown
    /// as a `MailTemplateError` naming its file and line.
    public init(root: URL) throws {
        self.root = root
        let manager = FileManager.default
        var folders: [String: [String: LoadedTemplate]] = [:]
        let names = (try? manager.contentsOfDirectory(atPath: root.path)) ?? []
        for folder in names.sorted() {
            let mail = root.appendingPathComponent(folder).appendingPathComponent("mail")
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: mail.path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            let files = try manager.contentsOfDirectory(atPath: mail.path).filter { $0.hasSuffix(".mustache") }.sorted()
            for name in files {
                let url = mail.appendingPathComponent(name)
                let template = try Self.load(url, name: name)
                folders[folder, default: [:]][String(name.dropLast(".mustache".count))] = template
            }
        }
        self.folders = folders
    }

    /// Every kind with at least one text template.
    public var kinds: Set<String> {
        Set(folders.values.flatMap(\.keys).filter { !$0.hasPrefix("_") && !$0.hasSuffix(".html") }
            .compactMap { $0.split(separator: ".").first.map(String.init) })
    }

    /// Renders `kind` for `tenant` in `locale` (with fallbacks). Throws `MailTemplateError` when no
    /// template exists for the kind in any fallback locale.
    public func render(kind: String, tenant: TenantDefinition, locale: String, values: [String: String],
                       lists: [String: [String]] = [:], now: Date = Date()) throws -> RenderedMail {
        var chosen: (folder: String, locale: String, template: LoadedTemplate)?
        let chain = Self.localeChain(locale, tenant: tenant)
        search: for candidate in chain {
            for folder in [tenant.id, "default"] {
                if let template = folders[folder]?["\(kind).\(candidate)"] {
                    chosen = (folder, candidate, template)
                    break search
                }
            }
        }
        guard let chosen, let subjectTemplate = chosen.template.subject else {
            throw MailTemplateError(file: root.appendingPathComponent("default/mail/\(kind).\(locale).mustache").path, line: nil,
                                    message: "no e-mail template '\(kind)' for \(tenant.id) in \(chain.joined(separator: ", "))")
        }
        let context = Self.context(tenant: tenant, locale: chosen.locale, values: values, lists: lists, now: now)
        let subject = subjectTemplate.render(context).split(whereSeparator: \.isNewline).joined(separator: " ")
            .trimmingCharacters(in: .whitespaces)
        let text = Self.trimmedBody(chosen.template.body.render(context))
        let content: String
        if let html = folders[chosen.folder]?["\(kind).\(chosen.locale).html"] {
            content = html.body.render(context)
        } else {
            content = Self.html(fromText: text)
        }
        var layoutContext = context
        layoutContext["content"] = content
        layoutContext["subject"] = subject
        let layout = folders[tenant.id]?["_layout.html"]?.body ?? folders["default"]?["_layout.html"]?.body ?? Self.builtInLayout
        return RenderedMail(subject: subject, text: text, html: layout.render(layoutContext))
    }

    /// Renders `kind` into an outbox row, pending, due at `createdAt`.
    public func compose(kind: String, tenant: TenantDefinition, locale: String, recipient: String,
                        values: [String: String], createdAt: Int64) throws -> OutboxRecord {
        try compose(kind: kind, tenant: tenant, locale: locale, recipient: recipient, values: values, lists: [:],
                    createdAt: createdAt)
    }

    public func compose(kind: String, tenant: TenantDefinition, locale: String, recipient: String,
                        values: [String: String], lists: [String: [String]], createdAt: Int64) throws -> OutboxRecord {
        let mail = try render(kind: kind, tenant: tenant, locale: locale, values: values, lists: lists,
                              now: Date(timeIntervalSince1970: TimeInterval(createdAt)))
        return OutboxRecord(createdAt: createdAt, kind: kind, recipient: recipient, subject: mail.subject,
                            bodyText: mail.text, bodyHtml: mail.html)
    }

    // MARK: Loading

    private static func load(_ url: URL, name: String) throws -> LoadedTemplate {
        let file = url.path
        let stem = String(name.dropLast(".mustache".count))
        let parts = stem.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let isName = { (text: String) in !text.isEmpty && text.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" } && text.first != "_" }
        let isLocale = { (text: String) in text.count >= 2 && text.allSatisfy { $0.isLetter || $0 == "-" } }
        let isLayout = stem == "_layout.html"
        let isHTML = parts.count == 3 && isName(parts[0]) && isLocale(parts[1]) && parts[2] == "html"
        let isText = parts.count == 2 && isName(parts[0]) && isLocale(parts[1])
        guard isLayout || isHTML || isText else {
            throw MailTemplateError(file: file, line: nil,
                                    message: "unexpected file name: expected <kind>.<locale>.mustache, <kind>.<locale>.html.mustache or _layout.html.mustache")
        }
        guard let data = FileManager.default.contents(atPath: file), let raw = String(data: data, encoding: .utf8) else {
            throw MailTemplateError(file: file, line: nil, message: "cannot be read as UTF-8 text")
        }
        let source = MIME.unixLineEnds(raw)
        if isLayout || isHTML {
            return LoadedTemplate(file: file, subject: nil, body: try parse(source, file: file, firstLine: 1, text: false))
        }
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let first = lines.first, first.lowercased().hasPrefix("subject:") else {
            throw MailTemplateError(file: file, line: 1, message: "the first line must be 'Subject: …'")
        }
        let subjectText = first.dropFirst("subject:".count).trimmingCharacters(in: .whitespaces)
        guard !subjectText.isEmpty else { throw MailTemplateError(file: file, line: 1, message: "the subject is empty") }
        guard lines.count > 2, lines[1].trimmingCharacters(in: .whitespaces).isEmpty else {
            throw MailTemplateError(file: file, line: 2, message: "expected a blank line after the subject, then the body")
        }
        let body = lines.dropFirst(2).joined(separator: "\n")
        guard !body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw MailTemplateError(file: file, line: 3, message: "the body is empty")
        }
        return LoadedTemplate(file: file, subject: try parse(subjectText, file: file, firstLine: 1, text: true),
                              body: try parse(body, file: file, firstLine: 3, text: true))
    }

    /// Parses Mustache; text templates get the `TEXT` content type (no HTML escaping). Errors carry the
    /// line in the file.
    private static func parse(_ source: String, file: String, firstLine: Int, text: Bool) throws -> MustacheTemplate {
        // The pragma stands on a line of its own, which Mustache removes; parser lines count it, hence -1.
        let pragma = text ? "{{% CONTENT_TYPE: TEXT}}\n" : ""
        do {
            return try MustacheTemplate(string: pragma + source)
        } catch let error as MustacheTemplate.ParserError {
            let line = error.context.lineNumber - (text ? 1 : 0) + firstLine - 1
            throw MailTemplateError(file: file, line: max(line, firstLine),
                                    message: "\(describe(error.error)) near '\(error.context.line.trimmingCharacters(in: .whitespaces))'")
        } catch {
            throw MailTemplateError(file: file, line: firstLine, message: "\(error)")
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error as? MustacheTemplate.Error {
        case .sectionCloseNameIncorrect: "a section is closed with another name"
        case .unfinishedName: "a tag is not closed"
        case .expectedSectionEnd: "a section is not closed"
        case .invalidSetDelimiter: "malformed set-delimiter tag"
        case .invalidConfigVariableSyntax, .unrecognisedConfigVariable: "malformed pragma"
        default: "\(error)"
        }
    }

    // MARK: Rendering

    static func localeChain(_ locale: String, tenant: TenantDefinition) -> [String] {
        var chain: [String] = []
        let language = locale.split(separator: "-").first.map(String.init) ?? locale
        for candidate in [locale, language, tenant.locales.default, "it"] where !candidate.isEmpty && !chain.contains(candidate) {
            chain.append(candidate)
        }
        return chain
    }

    private static func context(tenant: TenantDefinition, locale: String, values: [String: String],
                                lists: [String: [String]], now: Date) -> [String: Any] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Rome") ?? .gmt
        var context: [String: Any] = [
            "tenant_name": tenant.name,
            "tenant_id": tenant.id,
            "locale": locale,
            "year": String(calendar.component(.year, from: now)),
            "primary_color": safeColor(tenant.branding.primaryColor),
            "accent_color": safeColor(tenant.branding.accentColor ?? tenant.branding.primaryColor),
            "portal_url": "https://\(tenant.hosts.first ?? "\(tenant.id).localhost")",
        ]
        if let care = tenant.contacts?.customerCare { context["customer_care"] = care }
        if let email = tenant.contacts?.email { context["customer_care_email"] = email }
        if let website = tenant.contacts?.website { context["website"] = website }
        // An empty value is no value: `{{#admin_note}}…{{/admin_note}}` disappears.
        for (key, value) in values where !value.isEmpty {
            if listValues.contains(key), lists[key] == nil {
                context[key] = value.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { !$0.isEmpty }
            } else {
                context[key] = value
            }
        }
        for (key, list) in lists { context[key] = list }
        return context
    }

    /// A CSS colour as it is when it is a hex colour, else the platform's blue (it goes into a style attribute).
    static func safeColor(_ color: String) -> String {
        let hex = color.dropFirst()
        let valid = color.hasPrefix("#") && [3, 4, 6, 8].contains(hex.count) && hex.allSatisfy(\.isHexDigit)
        return valid ? color : "#1f4e79"
    }

    /// Blank lines at either end removed, runs of blank lines (left by empty sections) collapsed to one.
    static func trimmedBody(_ text: String) -> String {
        var lines: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let blank = line.allSatisfy(\.isWhitespace)
            if blank && (lines.isEmpty || lines.last!.allSatisfy(\.isWhitespace)) { continue }
            lines.append(blank ? "" : Substring(line.replacing(/[ \t]+$/, with: "")))
        }
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The text as HTML: escaped, blank-line-separated paragraphs, line breaks kept, http(s) links clickable.
    static func html(fromText text: String) -> String {
        let paragraphs = text.components(separatedBy: "\n\n")
            .map { $0.trimmingCharacters(in: .newlines) }
            .filter { !$0.isEmpty }
        return paragraphs.map { paragraph in
            let lines = paragraph.split(separator: "\n", omittingEmptySubsequences: false).map { linkified(HTMLEscaping.escape(String($0))) }
            return "<p>" + lines.joined(separator: "<br>\n") + "</p>"
        }.joined(separator: "\n")
    }


    /// Wraps escaped `http://` and `https://` URLs in links; trailing punctuation stays outside.
    static func linkified(_ escaped: String) -> String {
        escaped.replacing(/https?:\/\/[^\s<>"]+/) { match in
            var url = String(match.output)
            var tail = ""
            while let last = url.last, ".,;:!?)".contains(last) {
                tail = String(last) + tail
                url.removeLast()
            }
            return "<a href=\"\(url)\">\(url)</a>" + tail
        }
    }

    /// Used when neither the tenant nor the default folder has `_layout.html.mustache`.
    static let builtInLayout: MustacheTemplate = {
        // Never fails: the text is a constant.
        try! MustacheTemplate(string: """
            <!DOCTYPE html>
            <html lang="{{locale}}"><head><meta charset="utf-8"><title>{{subject}}</title></head>
            <body style="margin:0;padding:24px;background:#f4f5f7;font-family:Arial,Helvetica,sans-serif;color:#1d1d1f">
            <div style="max-width:600px;margin:0 auto;background:#ffffff;border-top:6px solid {{primary_color}}">
            <div style="padding:20px 24px;font-size:20px;font-weight:bold;color:{{primary_color}}">{{tenant_name}}</div>
            <div style="padding:0 24px 24px;font-size:15px;line-height:1.5">{{{content}}}</div>
            </div></body></html>
            """)
    }()
}
