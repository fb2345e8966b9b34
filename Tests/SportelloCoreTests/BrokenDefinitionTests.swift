import Foundation
import Testing
@testable import SportelloCore

/// One broken definition and every diagnostic the loader must report for it, in file order.
private struct BrokenCase: Sendable, CustomTestStringConvertible {
    /// One expected diagnostic: its stable code and its full `FILE:LINE:COLUMN: severity: message (hint)` text.
    struct Expected: Sendable {
        var code: String
        var text: String
    }

    var name: String
    var sources: [(file: String, text: String)]
    var plugins: Set<String> = []
    var expected: [Expected]

    var testDescription: String { name }

    /// A single-file case in `example.yaml` (named after the example's id so no id/file warning appears).
    init(_ name: String, _ yaml: String, plugins: Set<String> = [], _ expected: [Expected]) {
        self.name = name
        self.sources = [(file: BrokenDefinitionTests.file, text: yaml)]
        self.plugins = plugins
        self.expected = expected
    }

    init(_ name: String, sources: [(file: String, text: String)], _ expected: [Expected]) {
        self.name = name
        self.sources = sources
        self.expected = expected
    }
}

private func error(_ code: String, _ text: String) -> BrokenCase.Expected { .init(code: code, text: text) }
private func warning(_ code: String, _ text: String) -> BrokenCase.Expected { .init(code: code, text: text) }

/// `SchemaExport.exampleTenant` with exact-text edits applied. An edit whose old text is missing (or not unique)
/// leaves a marker the test rejects, so a change to the example cannot silently turn a case into a no-op.
private func example(_ edits: (String, String)...) -> String {
    var text = SchemaExport.exampleTenant
    for (old, new) in edits {
        let occurrences = text.components(separatedBy: old).count - 1
        if occurrences != 1 {
            text += "\n# EDIT-NOT-APPLIED (\(occurrences) matches): \(old)\n"
            continue
        }
        text = text.replacingOccurrences(of: old, with: new)
    }
    return text
}

@Suite("Broken definitions")
struct BrokenDefinitionTests {
    static let file = "example.yaml"

    private static let cases: [BrokenCase] = [
        // MARK: YAML syntax
        BrokenCase("bad indentation inside a mapping", example(("  case_sensitive: false", "   case_sensitive: false")), []),
        BrokenCase("over-indented key after a flow list", example(("  case_sensitive: false", "      case_sensitive: false")), []),
        BrokenCase("tab used for indentation", example(("  case_sensitive: false", "\tcase_sensitive: false")), []),
        BrokenCase("unclosed flow mapping", example(("session: {idle_timeout: 30m, absolute_timeout: 12h}", "session: {idle_timeout: 30m, absolute_timeout: 12h")), []),
        BrokenCase("unclosed flow list", example(("hosts: [example.localhost]", "hosts: [example.localhost")), []),
        BrokenCase("unclosed quote at the end of the file", example(("exclusive: [users.manage]}\n", "exclusive: [users.manage]}\n  - {role: member, name: \"unterminated}\n")), []),
        BrokenCase("unclosed quote", example(("primary_color: \"#0a3d91\"", "primary_color: \"#0a3d91")), []),
        BrokenCase("missing space after colon", example(("name: Example Telco", "name:Example Telco")), []),
        BrokenCase("duplicate top-level key", example(("name: Example Telco\n", "name: Example Telco\nname: Other Telco\n")), []),
        BrokenCase("duplicate nested key", example(("    label: Referente\n", "    label: Referente\n    label: Referente bis\n")), []),
        BrokenCase("empty file", "", []),
        BrokenCase("comment-only file", "# nothing here\n", []),
        BrokenCase("a list instead of a mapping", "- id: example\n- name: Example\n", []),

        // MARK: keys and types
        BrokenCase("misspelt top-level key", example(("name: Example Telco", "nmae: Example Telco")), []),
        BrokenCase("misspelt role key", example(("    cardinality: {max: 1", "    cardinalty: {max: 1")), []),
        BrokenCase("unknown key without a close match", example(("contacts: {customer_care: \"800 000 000\"}", "contacts: {customer_care: \"800 000 000\", fax: \"06 000\"}")), []),
        BrokenCase("missing required role label", example(("    label: Referente\n", "")), []),
        BrokenCase("missing required top-level hosts", example(("hosts: [example.localhost]\n", "")), []),
        BrokenCase("missing lockout key", example(("lockout: {max_attempts: 5, window: 15m, duration: 30m}", "lockout: {max_attempts: 5, window: 15m}")), []),
        BrokenCase("scalar where a list is expected", example(("hosts: [example.localhost]", "hosts: example.localhost")), []),
        BrokenCase("list where text is expected", example(("name: Example Telco", "name: [Example, Telco]")), []),
        BrokenCase("mapping where a list is expected", example(("  identifiers: [username, email]", "  identifiers: {username: true}")), []),
        BrokenCase("bool written as yes", example(("  case_sensitive: false", "  case_sensitive: yes")), []),
        BrokenCase("bool written as quoted text", example(("  case_sensitive: false", "  case_sensitive: \"false\"")), []),
        BrokenCase("number below minimum", example(("min_length: 10", "min_length: 0")), []),
        BrokenCase("number above maximum", example(("min_length: 10", "min_length: 10, history: 99")), []),
        BrokenCase("number written as words", example(("min_length: 10", "min_length: ten")), []),
        BrokenCase("number too large for an integer", example(("min_length: 10", "min_length: 99999999999999999999")), []),
        BrokenCase("step length out of range", example(("      - {step: confirmation}", "      - {step: confirmation}\n      - {step: temporary_password, length: 3, expires: 1d}")), []),

        // MARK: formats
        BrokenCase("tenant id with capitals", example(("id: example", "id: Example")), []),
        BrokenCase("section id with a space", example(("  users: {label: {it: Utenti, en: Users}}", "  users: {label: {it: Utenti, en: Users}}\n  Billing Docs: {label: Documenti}")), []),
        BrokenCase("colour without enough digits", example(("\"#0a3d91\"", "\"#0a3d9\"")), []),
        BrokenCase("colour written as a word", example(("logo: /static/example/logo.svg", "logo: /static/example/logo.svg, accent_color: blue")), []),
        BrokenCase("locale with three letters", example(("locales: {default: it, available: [it, en]}", "locales: {default: it, available: [it, eng]}")), []),
        BrokenCase("default locale not available", example(("locales: {default: it, available: [it, en]}", "locales: {default: fr, available: [it, en]}")), []),
        BrokenCase("translation under a non-locale key", example(("  invoices: {label: {it: Fatture, en: Invoices}}", "  invoices: {label: {it: Fatture, english: Invoices}}")), []),
        BrokenCase("comma inside unquoted flow text", example(("  invoices: {label: {it: Fatture, en: Invoices}}", "  invoices: {label: {it: Fatture, bollette, en: Invoices}}")), []),
        BrokenCase("host name with underscore and capitals", example(("hosts: [example.localhost]", "hosts: [example.localhost, Example_Portal.localhost]")), []),
        BrokenCase("duration with a spelled-out unit", example(("window: 15m", "window: 15 minutes")), []),
        BrokenCase("duration without a number", example(("invoices: {visible_for: 24mo}", "invoices: {visible_for: forever}")), []),
        BrokenCase("duration written as a bare number", example(("expires: 30d", "expires: 30")), []),
        BrokenCase("misspelt choice", example(("kind: person", "kind: persona")), []),
        BrokenCase("choice with no close match", example(("  session: {idle_timeout: 30m, absolute_timeout: 12h}", "  session: {idle_timeout: 30m, absolute_timeout: 12h}\n  totp: always")), []),

        // MARK: references
        BrokenCase("unknown feature in grants", example(("grants: [invoices.view, invoices.pay]", "grants: [invoices.view, invoices.pya]")), []),
        BrokenCase("unknown feature in exclusive", example(("exclusive: [users.manage]\n    manages", "exclusive: [users.manage, users.delete]\n    manages")), []),
        BrokenCase("unknown role in inherits", example(("    label: Referente\n", "    label: Referente\n    inherits: [amdin]\n")), []),
        BrokenCase("unknown feature in a toggle", example(("features: [invoices.view]}", "features: [invoices.view, invoices.download]}")), []),
        BrokenCase("unknown feature in scopes", example(("    label: Referente\n", "    label: Referente\n    scopes: {invoices.veiw: own_line}\n")), []),
        BrokenCase("unknown role in manages", example(("manages: {member: {actions:", "manages: {membr: {actions:")), []),
        BrokenCase("unknown role of a registration flow", example(("    role: admin\n", "    role: amin\n")), []),
        BrokenCase("unknown role in excluded_roles", example(("    role: admin\n", "    role: admin\n    excluded_roles: [guest]\n")), []),
        BrokenCase("unknown customer type of a flow", example(("    role: admin\n", "    role: admin\n    customer_types: [privat]\n")), []),
        BrokenCase("unknown customer type of a role", example(("    label: Referente\n", "    label: Referente\n    customer_types: [azienda]\n")), []),
        BrokenCase("unknown field in a customer type", example(("required_fields: [first_name, last_name, tax_code]", "required_fields: [first_name, last_name, taxcode]")), []),
        BrokenCase("unknown field in verify_customer match", example(("      - {step: confirmation}", "      - {step: verify_customer, match: [customer_code, tax_idd]}\n      - {step: confirmation}")), []),
        BrokenCase("unknown field in customer_details fields", example(("      - {step: confirmation}", "      - {step: customer_details, fields: [email, telephone]}\n      - {step: confirmation}")), []),
        BrokenCase("unknown field in identify by", example(("retention:\n", "  recovery:\n    kind: recovery\n    purpose: reset_password\n    label: Recupero\n    steps: [{step: identify, by: [emial]}, {step: password}]\nretention:\n")), []),
        BrokenCase("unknown section of a feature", example(("  users.manage: {label: Gestisci utenti, section: users}", "  users.manage: {label: Gestisci utenti, section: user}")), []),
        BrokenCase("unknown feature of a request form", example(("retention:\n", "requests:\n  support:\n    label: Assistenza\n    feature: support.open\n    fields: [{name: text, label: Testo, type: textarea}]\nretention:\n")), []),
        BrokenCase("unknown feature of a notification", example(("retention:\n", "notifications:\n  invoice_ready:\n    label: Nuova fattura\n    feature: invoices.veiw\n    channels: [email]\nretention:\n")), []),
        BrokenCase("unknown field in field_policies", example(("retention:\n", "field_policies:\n  immutable: [tax_code, vat]\nretention:\n")), []),
        BrokenCase("unknown plugin", example(("retention:\n", "plugins: [billing]\nretention:\n")), plugins: ["billing-sap"], []),
        BrokenCase("unknown plugin of a feature", example(("  invoices.pay: {label: Paga online, section: invoices}", "  invoices.pay: {label: Paga online, section: invoices, plugin: payments}")), plugins: ["billing-sap"], []),
        BrokenCase("feature uses a plugin not listed in plugins", example(("  invoices.pay: {label: Paga online, section: invoices}", "  invoices.pay: {label: Paga online, section: invoices, plugin: billing-sap}")), plugins: ["billing-sap"], []),
        BrokenCase("unknown role in a test", example(("  - {role: member, cannot: [invoices.view]}", "  - {role: membre, cannot: [invoices.view]}")), []),
        BrokenCase("unknown feature in a test", example(("  - {role: member, cannot: [invoices.view]}", "  - {role: member, cannot: [invoices.veiw]}")), []),
        BrokenCase("unknown toggle in a test", example(("toggles: [invoices], can:", "toggles: [invoice], can:")), []),
        BrokenCase("unknown flow in a test", example(("  - {role: member, cannot: [invoices.view]}", "  - {role: member, cannot: [invoices.view], cannot_use_flow: [registraton]}")), []),
        BrokenCase("unknown customer type in a test", example(("  - {role: member, cannot: [invoices.view]}", "  - {role: member, customer_type: business, cannot: [invoices.view]}")), []),
        BrokenCase("unknown action in a test", example(("may: {create: [member]}", "may: {creat: [member]}")), []),
        BrokenCase("unknown role in a test's may", example(("may: {create: [member]}", "may: {create: [members]}")), []),

        // MARK: roles
        BrokenCase("role inheritance cycle", example(("    label: Amministratore\n", "    label: Amministratore\n    inherits: [member]\n"), ("    label: Referente\n", "    label: Referente\n    inherits: [admin]\n")), []),
        BrokenCase("role inherits itself", example(("    label: Referente\n", "    label: Referente\n    inherits: [member]\n")), []),
        BrokenCase("exclusive feature granted to a second role", example(("    label: Referente\n", "    label: Referente\n    grants: [users.manage]\n")), []),
        BrokenCase("feature exclusive to two roles", example(("    label: Referente\n", "    label: Referente\n    exclusive: [users.manage]\n")), []),
        BrokenCase("toggle enables an exclusive feature", example(("features: [invoices.view]}", "features: [invoices.view, users.manage]}")), []),
        BrokenCase("cardinality max 0", example(("cardinality: {max: 1, per: customer}", "cardinality: {max: 0, per: customer}")), []),
        BrokenCase("cardinality min above max", example(("cardinality: {max: 1, per: customer}", "cardinality: {min: 2, max: 1, per: customer}")), []),
        BrokenCase("cardinality with a negative max", example(("cardinality: {max: 1, per: customer}", "cardinality: {max: -1, per: customer}")), []),
        BrokenCase("delegation elevation", example(("features: [invoices.view]}", "features: [invoices.view]}\n    grants: [invoices.download]"), ("  users.manage: {label: Gestisci utenti, section: users}", "  users.manage: {label: Gestisci utenti, section: users}\n  invoices.download: {label: Scarica, section: invoices}")), []),
        BrokenCase("managing a role that cannot change in the portal", example(("    label: Referente\n", "    label: Referente\n    changeable_in_portal: false\n    change_hint: Chiama il 191\n")), []),
        BrokenCase("unchangeable role without a change hint", example(("    label: Referente\n", "    label: Referente\n    changeable_in_portal: false\n"), ("manages: {member: {actions: [create, change_toggles, block, delete]}}", "manages: {member: {actions: [change_toggles, block]}}")), []),
        BrokenCase("creator_only action not among the actions", example(("actions: [create, change_toggles, block, delete]}", "actions: [create, change_toggles, block], creator_only: [delete]}")), []),
        BrokenCase("scope on a feature without scopes", example(("    label: Referente\n", "    label: Referente\n    scopes: {invoices.view: own_line}\n")), []),
        BrokenCase("scope the feature does not support", example(("    label: Referente\n", "    label: Referente\n    scopes: {invoices.view: all_lines}\n"), ("  invoices.view: {label: Visualizza fatture, section: invoices}", "  invoices.view: {label: Visualizza fatture, section: invoices, scopes: [own_line]}")), []),

        // MARK: flows
        BrokenCase("registration without a step that sets credentials", example(("      - {step: password, confirm: true, strength_meter: true}\n", "")), []),
        BrokenCase("registration sets a password but never a username", example(("      - {step: invitation, expires: 30d, issued_by: staff}\n", "")), []),
        BrokenCase("registration flow without a role", example(("    role: admin\n", "")), []),
        BrokenCase("recovery flow without a purpose", example(("retention:\n", "  recovery:\n    kind: recovery\n    label: Recupero\n    steps: [{step: identify, by: [email]}, {step: password}]\nretention:\n")), []),
        BrokenCase("username recovery without send_username", example(("retention:\n", "  username:\n    kind: recovery\n    purpose: forgot_username\n    label: Recupero\n    steps: [{step: identify, by: [email]}]\nretention:\n")), []),
        BrokenCase("step option that does not apply", example(("      - {step: confirmation}", "      - {step: confirmation, expires: 1d}")), []),
        BrokenCase("step option that exists nowhere", example(("      - {step: confirmation}", "      - {step: confirmation, timeout: 1d}")), []),
        BrokenCase("unknown step", example(("      - {step: confirmation}", "      - {step: confirmaton}")), []),
        BrokenCase("step without a step key", example(("      - {step: confirmation}", "      - {message: Grazie}")), []),
        BrokenCase("invitation without expires", example(("{step: invitation, expires: 30d, issued_by: staff}", "{step: invitation, issued_by: staff}")), []),
        BrokenCase("automatic_login not last", example(("      - {step: confirmation}\n      - {step: automatic_login}\n", "      - {step: automatic_login}\n      - {step: confirmation}\n")), []),
        BrokenCase("same step twice", example(("      - {step: confirmation}\n", "      - {step: confirmation}\n      - {step: confirmation}\n")), []),
        BrokenCase("verify_customer without match", example(("      - {step: confirmation}", "      - {step: verify_customer}\n      - {step: confirmation}")), []),
        BrokenCase("empty steps", example(("    steps:\n      - {step: invitation, expires: 30d, issued_by: staff}\n      - {step: password, confirm: true, strength_meter: true}\n      - {step: confirmation}\n      - {step: automatic_login}\n", "    steps: []\n")), []),

        // MARK: policies
        BrokenCase("idle timeout longer than absolute", example(("session: {idle_timeout: 30m, absolute_timeout: 12h}", "session: {idle_timeout: 2d, absolute_timeout: 12h}")), []),
        BrokenCase("max_length below min_length", example(("min_length: 10", "min_length: 10, max_length: 9")), []),
        BrokenCase("unknown retention record kind", example(("  invoices: {visible_for: 24mo}", "  invoice: {visible_for: 24mo}")), []),
        BrokenCase("retention kind with no close match", example(("  invoices: {visible_for: 24mo}", "  invoices: {visible_for: 24mo}\n  contracts: {visible_for: 10y}")), []),
        BrokenCase("records deleted before they stop being visible", example(("  invoices: {visible_for: 24mo}", "  invoices: {visible_for: 24mo, delete_after: 12mo}")), []),
        BrokenCase("exports wider than the visible window", example(("  invoices: {visible_for: 24mo}", "  invoices: {visible_for: 3mo, export_max_range: 1y}")), []),
        BrokenCase("max_items on a text field", example(("retention:\n", "requests:\n  support:\n    label: Assistenza\n    feature: invoices.view\n    fields:\n      - {name: note, label: Note, type: text, max_items: 3}\nretention:\n")), []),
        BrokenCase("max_length on a choice field and choice without options", example(("retention:\n", "requests:\n  support:\n    label: Assistenza\n    feature: invoices.view\n    fields:\n      - {name: topic, label: Argomento, type: choice, max_length: 20}\nretention:\n")), []),
        BrokenCase("accept on a text field", example(("retention:\n", "requests:\n  support:\n    label: Assistenza\n    feature: invoices.view\n    fields:\n      - {name: note, label: Note, type: text, accept: [pdf]}\nretention:\n")), []),
        BrokenCase("same field twice in a form", example(("retention:\n", "requests:\n  support:\n    label: Assistenza\n    feature: invoices.view\n    fields:\n      - {name: note, label: Note, type: text}\n      - {name: note, label: Altre note, type: textarea}\nretention:\n")), []),
        BrokenCase("thresholds not increasing", example(("retention:\n", "notifications:\n  traffic:\n    label: Soglia traffico\n    channels: [email, sms]\n    thresholds: [100, 80]\nretention:\n")), []),
        BrokenCase("thresholds repeated", example(("retention:\n", "notifications:\n  traffic:\n    label: Soglia traffico\n    channels: [email]\n    thresholds: [80, 80, 100]\nretention:\n")), []),
        BrokenCase("threshold above 100", example(("retention:\n", "notifications:\n  traffic:\n    label: Soglia traffico\n    channels: [email]\n    thresholds: [80, 150]\nretention:\n")), []),

        // MARK: several files
        BrokenCase("extends cycle between fragments", sources: [
            (file: "a.yaml", text: "fragment: a\nextends: [b]\n"),
            (file: "b.yaml", text: "fragment: b\nextends: [a]\n"),
            (file: "example.yaml", text: example(("id: example\n", "id: example\nextends: [a]\n"))),
        ], []),
        BrokenCase("fragment extends itself", sources: [
            (file: "a.yaml", text: "fragment: a\nextends: [a]\n"),
            (file: "example.yaml", text: example(("id: example\n", "id: example\nextends: [a]\n"))),
        ], []),
        BrokenCase("unknown fragment", sources: [
            (file: "telco.yaml", text: "fragment: telco-it\ncontacts: {customer_care: \"119\"}\n"),
            (file: "example.yaml", text: example(("id: example\n", "id: example\nextends: [telco_it]\n"))),
        ], []),
        BrokenCase("fragment name that is not an id", sources: [
            (file: "telco.yaml", text: "fragment: Telco IT\n"),
            (file: "example.yaml", text: SchemaExport.exampleTenant),
        ], []),
        BrokenCase("fragment defined twice", sources: [
            (file: "a.yaml", text: "fragment: shared\n"),
            (file: "b.yaml", text: "fragment: shared\n"),
            (file: "example.yaml", text: SchemaExport.exampleTenant),
        ], []),
        BrokenCase("host claimed by two tenants", sources: [
            (file: "example.yaml", text: SchemaExport.exampleTenant),
            (file: "other.yaml", text: example(("id: example", "id: other"), ("hosts: [example.localhost]", "hosts: [other.localhost, EXAMPLE.localhost]"))),
        ], []),
        BrokenCase("duplicate tenant id", sources: [
            (file: "example.yaml", text: SchemaExport.exampleTenant),
            (file: "copy/example.yaml", text: example(("hosts: [example.localhost]", "hosts: [copy.localhost]"))),
        ], []),
        BrokenCase("tenant id differs from its file name", sources: [(file: "tenants/t.yaml", text: SchemaExport.exampleTenant)], []),
    ]

    @Test("probe overflow")
    func probeOverflow() async {
        await #expect(processExitsWith: .success) {
            let yaml = SchemaExport.exampleTenant.replacingOccurrences(of: "idle_timeout: 30m", with: "idle_timeout: 999999999999999y")
            let result = TenantLoader().load(sources: [(file: "example.yaml", text: yaml)])
            print("PROBE", result.diagnostics.map(\.description))
        }
    }

    @Test("the unmodified example loads without any diagnostic")
    func exampleIsClean() {
        let result = TenantLoader().load(sources: [(file: Self.file, text: SchemaExport.exampleTenant)])
        #expect(result.diagnostics.map(\.description) == [])
        #expect(result.tenants.map(\.definition.id) == ["example"])
    }

    @Test("broken definition", arguments: cases)
    fileprivate func brokenDefinition(_ broken: BrokenCase) {
        for source in broken.sources {
            #expect(!source.text.contains("EDIT-NOT-APPLIED"), "an edit did not apply to \(source.file)")
        }
        let result = TenantLoader(knownPlugins: broken.plugins).load(sources: broken.sources)
        print((["CASE \(broken.name)"] + result.diagnostics.map { "  \($0.code) | \($0.description)" }).joined(separator: "\n"))
        #expect(result.diagnostics.map(\.description) == broken.expected.map(\.text))
        #expect(result.diagnostics.map(\.code) == broken.expected.map(\.code))
        for diagnostic in result.diagnostics {
            #expect(diagnostic.location.line >= 1 && diagnostic.location.column >= 1)
        }
    }
}
