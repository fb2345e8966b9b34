import Foundation
import SportelloCore

/// The pages and `/api/v1` operations of a tenant's record kinds, built from its YAML: one list page per kind (titled
/// with the kind's `label_plural`, opened by its `access:` features) and, per kind, list, detail and export operations
/// whose schemas type every field.
enum TenantRecordsSurface {
    static func surface(for tenant: TenantDefinition) -> TenantSurface {
        var surface = TenantSurface()
        for (id, kind) in tenant.recordKinds {
            let features = kind.features
            guard let feature = features.first else { continue }
            let others = Array(features.dropFirst())
            surface.pages.append(PortalPage(path: Routes.records.path(id), titleKey: titleKey(id), features: features,
                                            ownTitle: kind.labelPlural))
            let name = kind.labelPlural.resolve(tenant.locales.default)
            let idParameter = APIOperation.Parameter("id", in: "path", description: "Record id", schema: .integer)
            surface.apiOperations += [
                APIOperation("GET", "/records/\(id)", summary: "\(name): one page of the records the user may see, newest first, filtered",
                             feature: feature, otherFeatures: others, parameters: listParameters(kind),
                             success: (200, pageSchemaName(id))),
                APIOperation("GET", "/records/\(id)/{id}", summary: "\(name): one record", feature: feature, otherFeatures: others,
                             parameters: [idParameter], success: (200, schemaName(id))),
                APIOperation("GET", "/records/\(id)/export", summary: "\(name): every record the filters select, as CSV (UTF-8 with BOM, ';' separated) or Excel (.xlsx)",
                             feature: feature, otherFeatures: others,
                             parameters: filterParameters(kind) + [
                                .init("format", required: true, description: "csv or xlsx", schema: .enumeration(["csv", "xlsx"]))],
                             success: (200, nil)),
            ]
            surface.apiSchemas[schemaName(id)] = recordSchema(kind)
            surface.apiSchemas[pageSchemaName(id)] = .object([
                "items": .array(.reference(schemaName(id))), "total": .integer, "page": .integer, "page_size": .integer,
                "visible_from": .nullable(.string(format: "date")),
            ], required: ["items", "total", "page", "page_size"])
        }
        return surface
    }

    /// The key a record kind's list page is titled under (the tenant's `label_plural` answers it).
    static func titleKey(_ kind: String) -> String { "records.kind.\(kind).title" }

    static func schemaName(_ kind: String) -> String { "Record_\(kind)" }
    static func pageSchemaName(_ kind: String) -> String { "RecordPage_\(kind)" }

    /// The JSON Schema of a field's value as the API writes it: decimals as exact text (`12.50`), dates as `yyyy-MM-dd`,
    /// an enum as its option id.
    static func valueSchema(_ field: FieldDefinition) -> JSONSchema {
        switch field.type {
        case .text, .email, .phone: .string()
        case .integer: .integer
        case .decimal: .string(format: "decimal", description: "Exact, \(field.decimalScale) decimal places after a point")
        case .date: .string(format: "date")
        case .boolean: .boolean
        case .enumeration: .enumeration(field.options?.keys ?? [])
        }
    }

    static func recordSchema(_ kind: RecordKindDefinition) -> JSONSchema {
        var fields: [String: JSONSchema] = [:]
        var required: [String] = []
        for (id, field) in kind.fields {
            fields[id] = valueSchema(field)
            if field.isRequired || id == kind.externalId { required.append(id) }
        }
        return .object([
            "id": .integer, "external_id": .string(), "date": .nullable(.string(format: "date")),
            "owner_id": .nullable(.integer), "assigned_to_me": .boolean,
            "fields": .object(fields, required: required),
        ], required: ["id", "external_id", "assigned_to_me", "fields"])
    }

    /// The list's filter parameters: `<field>` for enum, boolean and text fields, `<field>_from`/`_to` for dates and numbers.
    static func filterParameters(_ kind: RecordKindDefinition) -> [APIOperation.Parameter] {
        var parameters: [APIOperation.Parameter] = []
        for id in kind.listFilters {
            guard let field = kind.fields[id] else { continue }
            let label = field.label.resolve("en")
            if field.type.isOrdered {
                let schema: JSONSchema = field.type == .date ? .string(format: "date") : .string()
                parameters.append(.init(RecordSelection.fromName(id), description: "\(label): from (included)", schema: schema))
                parameters.append(.init(RecordSelection.toName(id), description: "\(label): to (included)", schema: schema))
            } else {
                let schema: JSONSchema = switch field.type {
                case .enumeration: .enumeration(field.options?.keys ?? [])
                case .boolean: .enumeration(["true", "false"])
                default: .string()
                }
                parameters.append(.init(id, description: "\(label): equal to", schema: schema))
            }
        }
        if kind.ownerKind != nil {
            parameters.append(.init(RecordSelection.ownerName, description: "Only the records of this owning record (its id)", schema: .integer))
        }
        return parameters
    }

    static func listParameters(_ kind: RecordKindDefinition) -> [APIOperation.Parameter] {
        filterParameters(kind) + [
            .init(RecordSelection.pageName, description: "Page number, from 1", schema: .integer),
            .init(RecordSelection.limitName, description: "Records per page, 1–\(RecordSelection.maximumLimit) (default \(kind.pageSize))", schema: .integer),
        ]
    }
}
