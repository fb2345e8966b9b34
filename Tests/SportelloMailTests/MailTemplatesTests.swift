import Foundation
import Testing
import SportelloCore
@testable import SportelloMail

/// Sample values for every shipped kind.
let sampleValues: [String: [String: String]] = [
    "notification": ["subject": "Fattura F-2026-0042 disponibile", "message": "La fattura F-2026-0042 di 120,00 € è disponibile.",
                     "portal_url": "https://x.localhost/invoices/42"],
    "invitation": ["link": "https://x.localhost/invito?t=INV123", "username": "mrossi", "expires_on": "28/11/2026",
                   "role_label": "Referente", "admin_note": "Benvenuta in squadra"],
    "email_verification": ["link": "https://x.localhost/verifica?t=VER123", "expires_on": "22/11/2026"],
    "activation": ["link": "https://x.localhost/attiva?t=ACT123", "expires_on": "23/11/2026", "username": "mrossi"],
    "password_reset": ["link": "https://x.localhost/reset?t=RST123", "expires_on": "21/11/2026 13:00"],
    "control_code": ["code": "482913", "expires_in_minutes": "15"],
    "temporary_password": ["password": "73920514", "expires_on": "22/11/2026"],
    "forgot_username": ["usernames": "mrossi\nmrossi.ufficio"],
    "registration_summary": ["username": "mrossi", "customer_code": "C-000123",
                             "summary_note": "Conserva questa e-mail e non diffonderla: contiene informazioni riservate."],
    "registration_completed": ["username": "mrossi"],
    "password_changed": [:],
    "account_locked": ["until": "21/11/2026 12:30"],
]

@Suite("Mail templates")
struct MailTemplatesTests {
    /// A templates folder of the test's own.
    func folder(_ files: [String: String]) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sportello-templates-\(UUID().uuidString)")
        for (path, content) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try content.write(to: url, atomically: true, encoding: .utf8)
        }
        return root
    }

    @Test("Every shipped kind renders for every provider in Italian and English, with its values and branding")
    func everyShippedKindRenders() throws {
        let templates = try shippedTemplateSet.get()
        #expect(templates.kinds.isSuperset(of: sampleValues.keys))
        for tenant in providerTenants.values {
            for locale in ["it", "en"] {
                for kind in templates.kinds {
                    let values = sampleValues[kind] ?? [:]
                    let mail = try templates.render(kind: kind, tenant: tenant, locale: locale, values: values, now: fixedDate)
                    let label = "\(tenant.id) \(kind).\(locale)"
                    #expect(!mail.subject.isEmpty && !mail.subject.contains("{{") && !mail.subject.contains(where: \.isNewline), "\(label): \(mail.subject)")
                    #expect(mail.subject.contains(tenant.name), "\(label): subject without the tenant's name")
                    #expect(!mail.text.contains("{{") && !mail.text.contains("}}"), "\(label)")
                    #expect(!mail.text.contains("\n\n\n"), "\(label): runs of blank lines")
                    for (key, value) in values where key != "usernames" && key != "subject" {
                        #expect(mail.text.contains(value), "\(label): \(key) missing")
                    }
                    #expect(mail.html.contains(tenant.branding.primaryColor), "\(label): no brand colour")
                    #expect(mail.html.contains(HTMLEscaping.escape(tenant.name)), "\(label)")
                    if let link = values["link"] { #expect(mail.html.contains("<a href=\"\(link.replacingOccurrences(of: "&", with: "&amp;"))\""), "\(label)") }
                    if let care = tenant.contacts?.customerCare, ["temporary_password", "password_changed", "account_locked"].contains(kind) {
                        #expect(mail.text.contains(care), "\(label): customer care number missing")
                    }
                }
            }
        }
    }

    @Test("Shipped template files are at most 15 lines and exist in Italian and English")
    func shippedFiles() throws {
        let folder = repositoryRoot.appendingPathComponent("templates/default/mail")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".mustache") && !$0.hasPrefix("_") }
        for kind in sampleValues.keys {
            #expect(names.contains("\(kind).it.mustache") && names.contains("\(kind).en.mustache"), "\(kind)")
        }
        for name in names {
            let lines = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count - (lines.last == "" ? 1 : 0) <= 15, "\(name) has \(lines.count) lines")
        }
    }

    @Test("Text is not HTML-escaped; the generated HTML is, and links are clickable")
    func escaping() throws {
        let root = try folder(["default/mail/notice.it.mustache": "Subject: Avviso per {{name}}\n\nCiao {{name}},\nvai su {{link}}.\n\nA presto\n"])
        let templates = try MailTemplates(root: root)
        let mail = try templates.render(kind: "notice", tenant: try provider("unogas"), locale: "it",
                                        values: ["name": "Rossi & Figli <srl>", "link": "https://unogas.localhost/a?b=1&c=2"])
        #expect(mail.subject == "Avviso per Rossi & Figli <srl>")
        #expect(mail.text == "Ciao Rossi & Figli <srl>,\nvai su https://unogas.localhost/a?b=1&c=2.\n\nA presto\n")
        #expect(mail.html.contains("<p>Ciao Rossi &amp; Figli &lt;srl&gt;,<br>\nvai su <a href=\"https://unogas.localhost/a?b=1&amp;c=2\">https://unogas.localhost/a?b=1&amp;c=2</a>.</p>\n<p>A presto</p>"))
        #expect(!mail.html.contains("<srl>"))
    }

    @Test("A tenant's file replaces the default of the same name; other locales and tenants keep the default")
    func tenantOverride() throws {
        let root = try folder([
            "default/mail/notice.it.mustache": "Subject: Predefinito IT\n\nTesto predefinito di {{tenant_name}}\n",
            "default/mail/notice.en.mustache": "Subject: Default EN\n\nDefault text\n",
            "unogas/mail/notice.it.mustache": "Subject: Unogas IT\n\nTesto di Unogas\n",
        ])
        let templates = try MailTemplates(root: root)
        let unogas = try provider("unogas"), tim = try provider("tim")
        #expect(try templates.render(kind: "notice", tenant: unogas, locale: "it", values: [:]).subject == "Unogas IT")
        #expect(try templates.render(kind: "notice", tenant: unogas, locale: "en", values: [:]).subject == "Default EN")
        let timMail = try templates.render(kind: "notice", tenant: tim, locale: "it", values: [:])
        #expect(timMail.subject == "Predefinito IT")
        #expect(timMail.text == "Testo predefinito di TIM Business\n")
    }

    @Test("Locales fall back: the requested one, its language, the tenant's default, then Italian")
    func localeFallback() throws {
        let root = try folder([
            "default/mail/notice.it.mustache": "Subject: IT\n\nit\n",
            "default/mail/notice.en.mustache": "Subject: EN\n\nen\n",
            "default/mail/other.it.mustache": "Subject: solo IT\n\nit\n",
        ])
        let templates = try MailTemplates(root: root)
        var english = try provider("tunda")
        english.locales.default = "en"
        #expect(try templates.render(kind: "notice", tenant: english, locale: "fr", values: [:]).subject == "EN")
        #expect(try templates.render(kind: "notice", tenant: english, locale: "en-GB", values: [:]).subject == "EN")
        #expect(try templates.render(kind: "notice", tenant: try provider("tunda"), locale: "fr", values: [:]).subject == "IT")
        #expect(try templates.render(kind: "other", tenant: english, locale: "en", values: [:]).subject == "solo IT")
        #expect(throws: MailTemplateError.self) { try templates.render(kind: "missing", tenant: english, locale: "it", values: [:]) }
    }

    @Test("An HTML template is used with its own text only; the layout is the tenant's when it has one")
    func htmlTemplatesAndLayout() throws {
        let root = try folder([
            "default/mail/notice.it.mustache": "Subject: Avviso\n\nTesto\n",
            "default/mail/notice.it.html.mustache": "<p class=\"custom\">{{name}}</p>",
            "default/mail/_layout.html.mustache": "<main data-layout=\"default\">{{{content}}}</main>",
            "unogas/mail/_layout.html.mustache": "<main data-layout=\"unogas\" style=\"color:{{primary_color}}\">{{{content}}}</main>",
            "tim/mail/notice.it.mustache": "Subject: Avviso TIM\n\nTesto TIM\n",
        ])
        let templates = try MailTemplates(root: root)
        let unogas = try templates.render(kind: "notice", tenant: try provider("unogas"), locale: "it", values: ["name": "<Rossi>"])
        #expect(unogas.html == "<main data-layout=\"unogas\" style=\"color:#f39200\"><p class=\"custom\">&lt;Rossi&gt;</p></main>")
        // TIM's own text would contradict the default HTML: the HTML is made from TIM's text instead.
        let tim = try templates.render(kind: "notice", tenant: try provider("tim"), locale: "it", values: ["name": "x"])
        #expect(tim.html == "<main data-layout=\"default\"><p>Testo TIM</p></main>")
    }

    @Test("Several usernames, as a newline-separated value or as a list, become one bullet each")
    func usernameLists() throws {
        let templates = try shippedTemplateSet.get()
        let tenant = try provider("unidata")
        for mail in [
            try templates.render(kind: "forgot_username", tenant: tenant, locale: "it", values: ["usernames": "mrossi\nmrossi.ufficio"]),
            try templates.render(kind: "forgot_username", tenant: tenant, locale: "it", values: [:], lists: ["usernames": ["mrossi", "mrossi.ufficio"]]),
        ] {
            #expect(mail.text.contains("  • mrossi\n  • mrossi.ufficio\n"))
        }
    }

    @Test("compose gives a pending outbox row due at its creation, with the year of its creation")
    func compose() throws {
        let root = try folder(["default/mail/notice.it.mustache": "Subject: Avviso {{year}}\n\nTesto per {{customer_care}}\n"])
        let created = Int64(fixedDate.timeIntervalSince1970)
        let mail = try MailTemplates(root: root).compose(kind: "notice", tenant: try provider("windtre"), locale: "it",
                                                          recipient: "mario@example.it", values: [:], createdAt: created)
        #expect(mail.id == nil)
        #expect(mail.kind == "notice")
        #expect(mail.recipient == "mario@example.it")
        #expect(mail.subject == "Avviso 2026")
        #expect(mail.bodyText == "Testo per 1928\n")
        #expect(mail.bodyHtml?.contains("<p>Testo per 1928</p>") == true)
        #expect(mail.status == .pending)
        #expect(mail.attempts == 0)
        #expect(mail.createdAt == created && mail.nextAttemptAt == created)
    }

    @Test("A malformed template is reported with its file and line", arguments: [
        ("broken.it.mustache", "Subject: Ciao\n\nRiga uno\n{{#link}}\n{{/lnk}}\n", 5),
        ("broken.it.mustache", "Subject: Ciao {{name\n\nTesto\n", 1),
        ("broken.it.mustache", "Oggetto: Ciao\n\nTesto\n", 1),
        ("broken.it.mustache", "Subject: Ciao\nTesto subito\n", 2),
        ("broken.it.html.mustache", "<p>\n<b>{{/chiusa}}</b>\n</p>", 2),
    ])
    func malformed(name: String, content: String, line: Int) throws {
        let root = try folder(["unogas/mail/\(name)": content])
        do {
            _ = try MailTemplates(root: root)
            Issue.record("\(content) was accepted")
        } catch let error as MailTemplateError {
            #expect(error.file.hasSuffix("unogas/mail/\(name)"))
            #expect(error.line == line, "\(error)")
            #expect(error.description.hasPrefix("\(error.file):\(line): error: "))
        }
    }

    @Test("A file name that is not <kind>.<locale>[.html].mustache is reported")
    func badFileName() throws {
        let root = try folder(["default/mail/invitation.mustache": "Subject: x\n\ny\n"])
        #expect(throws: MailTemplateError.self) { try MailTemplates(root: root) }
    }
}
