import Foundation

/// Turns the language description into a JSON Schema (draft-07, for yaml-language-server) and a
/// Markdown reference, so neither can drift from what the validator checks.
public enum SchemaExport {
    public static func jsonSchema(_ catalogue: CapabilityCatalogue) -> String {
        let root: [String: Any] = [
            "$schema": "http://json-schema.org/draft-07/schema#",
            "$id": "https://sportello.dev/schema/tenant.json",
            "title": "Sportello tenant definition",
            "description": "A provider's customer area (tenants/<id>.yaml) or a shared fragment.",
            "oneOf": [json(.object(TenantSchema.tenant(catalogue))), json(.object(TenantSchema.fragment(catalogue)))],
        ]
        let data = try! JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static let identifierPattern = "^[a-z][a-z0-9_.-]*$"

    static func json(_ shape: Shape) -> [String: Any] {
        switch shape {
        case .string(let format):
            var schema: [String: Any] = ["type": "string", "minLength": 1]
            switch format {
            case .identifier: schema["pattern"] = identifierPattern
            case .color: schema["pattern"] = "^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"
            case .locale: schema["pattern"] = "^[a-z]{2}$"
            case .hostname: schema["pattern"] = "^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$"
            case .any, .path: break
            }
            return format == .any ? ["type": ["string", "number"]] : schema
        case .integer(let minimum, let maximum):
            var schema: [String: Any] = ["type": "integer"]
            if let minimum { schema["minimum"] = minimum }
            if let maximum { schema["maximum"] = maximum }
            return schema
        case .boolean: return ["type": "boolean"]
        case .duration: return ["type": "string", "pattern": "^[0-9]+ ?(s|m|h|d|w|mo|y)$", "description": "A number and a unit: s, m, h, d, w, mo, y (e.g. 30d, 24mo)."]
        case .choice(let options): return ["type": "string", "enum": options]
        case .text:
            return ["oneOf": [["type": "string"], ["type": "object", "propertyNames": ["pattern": "^[a-z]{2}$"], "additionalProperties": ["type": "string"]]]]
        case .list(let item, let minItems):
            var schema: [String: Any] = ["type": "array", "items": json(item)]
            if minItems > 0 { schema["minItems"] = minItems }
            return schema
        case .map(let value, let keys):
            return ["type": "object", "propertyNames": ["pattern": keys == .identifier ? identifierPattern : ".+"], "additionalProperties": json(value)]
        case .object(let object):
            return objectJSON(object, only: nil)
        case .tagged(let discriminator, let object, let variants):
            var schema = objectJSON(object, only: nil)
            schema["allOf"] = variants.map { name, allowed -> [String: Any] in
                ["if": ["properties": [discriminator: ["const": name]]], "then": ["propertyNames": ["enum": [discriminator] + allowed]]]
            }
            return schema
        }
    }

    static func objectJSON(_ object: ObjectSchema, only: Set<String>?) -> [String: Any] {
        var properties: [String: Any] = [:]
        for property in object.properties {
            var schema = json(property.shape)
            schema["description"] = property.doc
            properties[property.key] = schema
        }
        var result: [String: Any] = ["type": "object", "description": object.doc, "properties": properties, "additionalProperties": false]
        let required = object.properties.filter(\.required).map(\.key)
        if !required.isEmpty { result["required"] = required }
        return result
    }

    /// Markdown reference of every key, with types, whether it is required, and examples.
    public static func reference(_ catalogue: CapabilityCatalogue, checks: FieldChecks = .standard) -> String {
        var out = """
        # Tenant definition reference

        Generated from the language description in `Sources/SportelloCore/Model/TenantSchema.swift` by
        `sportello reference`; `sportello schema` prints the same language as JSON Schema. Durations are a
        number and a unit (`90s`, `15m`, `12h`, `30d`, `2w`, `24mo`, `1y`). Texts are plain (`Fatture`) or per
        language (`{it: Fatture, en: Invoices}`). Ids are lowercase (`invoices.view`, `user_admin`).

        A file is a tenant (`id:`) or a fragment (`fragment:`); `extends: [name]` merges fragments underneath a
        tenant: mappings merge key by key, the tenant's values win, lists are replaced.

        Customer field catalogue (used by customer types, steps and field policies, next to the tenant's own
        `customer_fields:`): \(CustomerField.allNames.map { "`\($0)`" }.joined(separator: ", ")).

        """
        var seen = Set<String>()
        out += objectTables(from: TenantSchema.tenant(catalogue), seen: &seen)
        out += "\n## Named checks\n\nWhat a field's `validators: [{check: <name>}]` may name; each has a message in Italian and English that\n`message:` overrides.\n\n" + checks.referenceTable
        out += "\n## Example\n\n```yaml\n\(exampleTenant)```\n"
        out += """

        # Plugin manifests

        A plugin connects the portal to a provider's system. It runs out of process and is reached over HTTP;
        its manifest is `plugins/<id>.yaml` (named after its id), checked by `sportello validate` with the tenants.
        A tenant enables it under `plugins: {<id>: {…}}` and binds it to features there. Secrets are named by
        environment variable (`secrets: {signing_key: SPORTELLO_PSP_SECRET}`), never written in the file; a plugin
        whose variables are not set is not connected (its pages say the service is not available).

        Keys per kind:

        \(PluginSchema.variantsReference)

        """
        out += objectTables(from: PluginSchema.manifest, seen: &seen)
        out += "\n## Example manifest\n\n```yaml\n\(PluginSchema.exampleManifest)```\n"
        return out
    }

    /// One table per object reachable from `root`, each once.
    static func objectTables(from root: ObjectSchema, seen: inout Set<String>) -> String {
        var out = ""
        var queue: [ObjectSchema] = [root]
        while !queue.isEmpty {
            let object = queue.removeFirst()
            guard seen.insert(object.name).inserted else { continue }
            out += "\n## \(object.name)\n\n\(object.doc)\n\n| key | type | required | description |\n|---|---|---|---|\n"
            for property in object.properties {
                var description = property.doc.replacingOccurrences(of: "|", with: "\\|")
                if let example = property.example { description += " Example: `\(example)`" }
                out += "| `\(property.key)` | \(typeName(property.shape)) | \(property.required ? "yes" : "no") | \(description) |\n"
                queue += nested(property.shape)
            }
            if object.name == TenantSchema.step.name {
                out += "\nOptions per step:\n\n"
                for (step, options) in TenantSchema.stepOptions { out += "- `\(step)`: \(options.map { "`\($0)`" }.joined(separator: ", "))\n" }
            }
        }
        return out
    }

    static func typeName(_ shape: Shape) -> String {
        switch shape {
        case .string(let format): format == .any ? "text" : format.rawValue
        case .integer: "integer"
        case .boolean: "boolean"
        case .duration: "duration"
        case .choice(let options): options.map { "`\($0)`" }.joined(separator: " \\| ")
        case .text: "localized text"
        case .list(let item, _): "list of \(typeName(item))"
        case .map(let value, _): "map of id → \(typeName(value))"
        case .object(let object): object.name
        case .tagged(_, let object, _): object.name
        }
    }

    static func nested(_ shape: Shape) -> [ObjectSchema] {
        switch shape {
        case .object(let object): [object]
        case .tagged(_, let object, _): [object]
        case .list(let item, _): nested(item)
        case .map(let value, _): nested(value)
        default: []
        }
    }

    /// A small complete tenant, also loaded by the tests so the reference never shows a broken example.
    public static let exampleTenant = """
    id: example
    name: Example Telco
    hosts: [example.localhost]
    locales: {default: it, available: [it, en]}
    branding: {primary_color: "#0a3d91", logo: /static/example/logo.svg}
    contacts: {customer_care: "800 000 000"}
    customer_types:
      privato: {label: {it: Privato, en: Private}, kind: person, required_fields: [first_name, last_name, tax_code]}
    login:
      identifiers: [username, email]
      case_sensitive: false
      password: {min_length: 10, require: [lowercase, uppercase, digit]}
      lockout: {max_attempts: 5, window: 15m, duration: 30m}
      session: {idle_timeout: 30m, absolute_timeout: 12h}
    sections:
      invoices: {label: {it: Fatture, en: Invoices}}
      users: {label: {it: Utenti, en: Users}}
    features:
      invoices.view: {label: Visualizza fatture, section: invoices}
      invoices.pay: {label: Paga online, section: invoices}
      users.manage: {label: Gestisci utenti, section: users}
    roles:
      admin:
        label: Amministratore
        grants: [invoices.view, invoices.pay]
        exclusive: [users.manage]
        manages: {member: {actions: [create, change_toggles, block, delete]}}
        cardinality: {max: 1, per: customer}
      member:
        label: Referente
        toggles:
          invoices: {label: Fatture, features: [invoices.view]}
    flows:
      registration:
        kind: registration
        label: Registrazione
        role: admin
        steps:
          - {step: invitation, expires: 30d, issued_by: staff}
          - {step: password, confirm: true, strength_meter: true}
          - {step: confirmation}
          - {step: automatic_login}
    retention:
      invoices: {visible_for: 24mo}
    tests:
      - {role: member, cannot: [invoices.view]}
      - {role: member, toggles: [invoices], can: [invoices.view]}
      - {role: admin, may: {create: [member]}, exclusive: [users.manage]}

    """
}
