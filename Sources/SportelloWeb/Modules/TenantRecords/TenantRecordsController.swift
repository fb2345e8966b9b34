import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// The pages, export and `/api/v1` operations of every record kind a tenant declares under `records:`. Nothing here
/// knows a kind: each request reads its kind from the path and the tenant's YAML. Every read is fenced by the tenant
/// (the transaction), by the user's customer and, for the `own` scope, by the user; records older than the kind's
/// `visible_for` are neither listed nor opened.
struct TenantRecordsController: ModuleController {
    let services: PortalServices

    /// Records a detail page lists of each kind the record owns (the rest are one link away).
    static let ownedPreview = 5
    /// The most records one export writes; a larger selection asks for narrower filters.
    static let exportLimit = 50_000

    func addRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.records) { request, context in try await listPage(request, context: context) }
        group.get(Routes.recordsExport) { request, context in try await export(request, context: context, api: false) }
        group.get(Routes.record) { _, context in try await detailPage(context: context) }
        group.get(Routes.records.api) { request, context in try await apiList(request, context: context) }
        group.get(Routes.recordsExport.api) { request, context in try await export(request, context: context, api: true) }
        group.get(Routes.record.api) { _, context in try await apiRecord(context: context) }
    }

    // MARK: Shared

    /// A record kind as one user may open it.
    struct OpenKind {
        var id: String
        var definition: RecordKindDefinition
        var scope: RecordScope
        /// The user whose records alone are shown (the `own` scope), nil for every record of the customer.
        var userId: Int64?
        var visibleFrom: CalendarDay?

        func query(customerId: Int64, filters: [RecordFilter] = [], ownerId: Int64? = nil, limit: Int = 25, offset: Int = 0) -> RecordQuery {
            RecordQuery(kind: id, customerId: customerId, userId: userId, ownerRecordId: ownerId, filters: filters,
                        visibleFrom: visibleFrom, limit: limit, offset: offset)
        }

        /// Whether `record` is inside the kind's visibility window (undated records always are).
        func shows(_ record: TenantRecord) -> Bool {
            guard let visibleFrom, let date = record.date.flatMap(CalendarDay.init) else { return true }
            return date >= visibleFrom
        }
    }

    private func today() -> CalendarDay { CalendarDay(instant: services.now) }

    /// Kind `id` as the user may open it: nil when the tenant has no such kind (or defines none of its features), or
    /// when the user's role grants none of them.
    private func open(_ id: String, context: UserContext) -> OpenKind? {
        let tenant = context.tenant
        guard let definition = tenant.definition.recordKinds[id], definition.features.contains(where: { tenant.definition.feature($0) != nil }),
              let scope = definition.scope(for: context.session.principal, in: tenant.authorization) else { return nil }
        return OpenKind(id: id, definition: definition, scope: scope, userId: scope == .own ? context.user.id : nil,
                        visibleFrom: definition.visibleFrom(today: today()))
    }

    /// The kind named in the path: 404 when the tenant has none, 403 when the role opens none of its features.
    private func requireKind(_ context: UserContext) throws -> OpenKind {
        guard let id = context.parameters.get("kind"), let definition = context.tenant.definition.recordKinds[id] else { throw PortalError.notFound }
        let defined = definition.features.filter { context.tenant.definition.feature($0) != nil }
        guard let first = defined.first else { throw PortalError.notFound }
        guard let kind = open(id, context: context) else { throw PortalError.forbidden(feature: first) }
        return kind
    }

    private func fieldContext(_ context: UserContext) -> FieldContext {
        FieldContext(locale: context.locale, tenant: context.tenant.definition, today: today())
    }

    private func selection(_ request: Request, kind: OpenKind, context: UserContext) -> RecordSelection {
        RecordSelection({ request.uri.queryParameters[Substring($0)].map(String.init) }, kind: kind.definition,
                        context: fieldContext(context), text: { context.tenant.localized($0, $1) })
    }

    private func string(_ key: String, _ context: UserContext, _ values: [String: String] = [:]) -> String {
        context.tenant.theme.text(key, locale: context.locale, values)
    }

    /// The owning record a list is narrowed to, checked to be the customer's (and the user's, when the owner kind's
    /// scope is `own`); 404 otherwise. Nil when the selection names none.
    private func owner(of kind: OpenKind, id: Int64?, context: UserContext, in transaction: TenantTransaction) async throws -> TenantRecord? {
        guard let id else { return nil }
        guard let ownerKind = kind.definition.ownerKind else { throw PortalError.notFound }
        let ownerOpen = open(ownerKind, context: context)
        guard let record = try await transaction.record(id: id, customerId: context.customer.id ?? 0, kind: ownerKind, userId: ownerOpen?.userId)
        else { throw PortalError.notFound }
        return record
    }

    /// The text of a record's external id as its field shows it.
    private func title(of record: TenantRecord, in kind: RecordKindDefinition, locale: String) -> String {
        kind.display(kind.externalId, of: record, locale: locale).nonEmpty ?? record.externalId
    }

    // MARK: List page

    struct ListData: Sendable {
        var page: RecordPage
        var sums: [RecordSums]?
        var owner: TenantRecord?
    }

    private func load(_ kind: OpenKind, selection: RecordSelection, context: UserContext, chart: Bool) async throws -> ListData {
        let customerId = context.customer.id ?? 0
        let query = kind.query(customerId: customerId, filters: selection.filters, ownerId: selection.ownerId,
                               limit: selection.limit, offset: (selection.page - 1) * selection.limit)
        return try await PageData.read("records|\(context.user.id ?? 0)|\(query)|\(chart)", tables: [.records, .recordFieldValues], context: context,
                                       services: services) { transaction in
            let owner = try await owner(of: kind, id: selection.ownerId, context: context, in: transaction)
            let page = try await transaction.records(query)
            var sums: [RecordSums]?
            if chart, let definition = kind.definition.chart {
                sums = try await transaction.recordSums(query, chart: definition, of: kind.definition)
            }
            return ListData(page: page, sums: sums, owner: owner)
        }
    }

    private func listPage(_ request: Request, context: UserContext) async throws -> Response {
        let kind = try requireKind(context)
        var selection = selection(request, kind: kind, context: context)
        selection.limit = kind.definition.pageSize
        let problems = selection.problems
        let title = kind.definition.labelPlural.resolve(context.locale)
        var data: ListData?
        if problems.isEmpty {
            data = try await load(kind, selection: selection, context: context, chart: true)
        } else if !problems.contains(where: { $0.field == RecordSelection.ownerName }) {
            // The filters are wrong: the page shows them with their errors and the unfiltered list below.
            var plain = selection
            plain.filters = []
            plain.page = 1
            data = try await load(kind, selection: plain, context: context, chart: true)
        }
        let model = listModel(kind, selection: selection, data: data, context: context)
        return Pages.render("records", model, errors: problems, title: title, context: context,
                            status: problems.isEmpty ? .ok : .unprocessableContent)
    }

    struct Choice: Encodable {
        var value, label: String
        var selected: Bool
    }

    struct Cell: Encodable {
        var text: String
        var numeric: Bool
        /// The detail page, on the first cell of a row.
        var href: String?
        /// `yyyy-MM-dd` for `<time datetime>`, on dates.
        var iso: String?
    }

    struct Table: Encodable {
        struct Column: Encodable {
            var label: String
            var numeric: Bool
        }
        struct Row: Encodable { var cells: [Cell] }
        var caption: String
        var columns: [Column]
        var rows: [Row]
        var hasRows: Bool
    }

    struct Filter: Encodable {
        var id, label: String
        /// `select`, `text` or `range`.
        var isSelect, isText, isRange: Bool
        var inputType: String
        var options: [Choice]
        var value, from, to: String
        var fromName, toName: String
        var hint: String?
        /// The problems of what was typed, shown next to its input.
        var error, fromError, toError: String?
    }

    struct ListModel: Encodable {
        var kind, title, action: String
        var filters: [Filter]
        var hasFilters: Bool
        var table: Table?
        var totalText: String?
        var pageText: String?
        var previousHref, nextHref: String?
        var exportCsvHref, exportXlsxHref: String?
        var chart: String?
        var hasChart: Bool
        var ownerLabel, ownerTitle, ownerHref, clearOwnerHref: String?
        var ownerId: String?
        var windowNote, scopeNote: String?
        var emptyText: String
    }

    private func cells(of record: TenantRecord, kind: OpenKind, columns: [String], context: UserContext) -> [Cell] {
        let definition = kind.definition
        let href = Routes.record.path(kind.id, record.id)
        var cells = columns.map { id -> Cell in
            let field = definition.fields[id]
            let text = definition.display(id, of: record, locale: context.locale)
            return Cell(text: text.nonEmpty ?? "–", numeric: field?.type == .integer || field?.type == .decimal,
                        iso: field?.type == .date ? record.values[id] : nil)
        }
        if !columns.contains(definition.externalId) {
            cells.insert(Cell(text: title(of: record, in: definition, locale: context.locale), numeric: false), at: 0)
        }
        if !cells.isEmpty { cells[0].href = href }
        return cells
    }

    private func columns(of kind: OpenKind, context: UserContext) -> (ids: [String], columns: [Table.Column]) {
        let definition = kind.definition
        let ids = definition.listColumns.filter { definition.fields[$0] != nil }
        var columns = ids.map { id -> Table.Column in
            let field = definition.fields[id]
            return .init(label: field?.label.resolve(context.locale) ?? id, numeric: field?.type == .integer || field?.type == .decimal)
        }
        if !ids.contains(definition.externalId) {
            columns.insert(.init(label: definition.fields[definition.externalId]?.label.resolve(context.locale) ?? definition.externalId,
                                 numeric: false), at: 0)
        }
        return (ids, columns)
    }

    private func filters(of kind: OpenKind, selection: RecordSelection, context: UserContext) -> [Filter] {
        let locale = context.locale
        return kind.definition.listFilters.compactMap { id -> Filter? in
            guard let field = kind.definition.fields[id] else { return nil }
            var filter = Filter(id: id, label: field.label.resolve(locale), isSelect: false, isText: false, isRange: false, inputType: "text",
                                options: [], value: selection.entered[id] ?? "", from: selection.entered[RecordSelection.fromName(id)] ?? "",
                                to: selection.entered[RecordSelection.toName(id)] ?? "", fromName: RecordSelection.fromName(id),
                                toName: RecordSelection.toName(id), hint: field.help?.resolve(locale))
            func problem(_ name: String) -> String? { selection.problems.first { $0.field == name }?.message.resolve(locale) }
            filter.error = problem(id)
            filter.fromError = problem(RecordSelection.fromName(id))
            filter.toError = problem(RecordSelection.toName(id))
            switch field.type {
            case .enumeration, .boolean:
                filter.isSelect = true
                var options = [Choice(value: "", label: string("records.filter.any", context), selected: filter.value.isEmpty)]
                if field.type == .boolean {
                    options += [("true", string("records.filter.yes", context)), ("false", string("records.filter.no", context))]
                        .map { Choice(value: $0.0, label: $0.1, selected: filter.value == $0.0) }
                } else {
                    options += (field.options ?? OrderedMap()).map { Choice(value: $0.key, label: $0.value.resolve(locale), selected: filter.value == $0.key) }
                }
                filter.options = options
            case .date, .integer, .decimal:
                filter.isRange = true
                filter.inputType = field.type == .date ? "date" : "text"
            case .text, .email, .phone:
                filter.isText = true
            }
            return filter
        }
    }

    private func listModel(_ kind: OpenKind, selection: RecordSelection, data: ListData?, context: UserContext) -> ListModel {
        let locale = context.locale
        let definition = kind.definition
        let filters = filters(of: kind, selection: selection, context: context)
        var model = ListModel(kind: kind.id, title: definition.labelPlural.resolve(locale), action: Routes.records.path(kind.id),
                              filters: filters, hasFilters: !filters.isEmpty, hasChart: false,
                              emptyText: string(selection.filters.isEmpty ? "records.empty" : "records.empty_filtered", context,
                                                ["kind": definition.labelPlural.resolve(locale)]))
        if let visibleFrom = kind.visibleFrom {
            model.windowNote = string("records.window_note", context, ["date": Formatting.day(visibleFrom.description)])
        }
        if kind.scope == .own { model.scopeNote = string("records.scope_own", context) }
        guard let data else { return model }
        let (ids, columns) = columns(of: kind, context: context)
        let rows = data.page.items.map { Table.Row(cells: cells(of: $0, kind: kind, columns: ids, context: context)) }
        model.table = Table(caption: model.title, columns: columns, rows: rows, hasRows: !rows.isEmpty)
        model.totalText = string(data.page.total == 1 ? "records.total_one" : "records.total", context, ["count": String(data.page.total)])
        let pages = max(1, (data.page.total + selection.limit - 1) / selection.limit)
        if data.page.total > 0 {
            model.pageText = string("records.page_of", context, ["page": String(selection.page), "pages": String(pages)])
        }
        let base = selection.queryItems()
        if selection.page > 1 {
            model.previousHref = Routes.records.path(kind.id, queryItems: base + [(RecordSelection.pageName, String(min(selection.page - 1, pages)))])
        }
        if selection.page < pages {
            model.nextHref = Routes.records.path(kind.id, queryItems: base + [(RecordSelection.pageName, String(selection.page + 1))])
        }
        if data.page.total > 0 {
            model.exportCsvHref = Routes.recordsExport.path(kind.id, queryItems: base + [(RecordSelection.formatName, "csv")])
            model.exportXlsxHref = Routes.recordsExport.path(kind.id, queryItems: base + [(RecordSelection.formatName, "xlsx")])
        }
        if let owner = data.owner, let ownerKindId = definition.ownerKind, let ownerKind = context.tenant.definition.recordKinds[ownerKindId] {
            model.ownerLabel = ownerKind.label.resolve(locale)
            model.ownerTitle = title(of: owner, in: ownerKind, locale: locale)
            if open(ownerKindId, context: context) != nil { model.ownerHref = Routes.record.path(ownerKindId, owner.id) }
            model.ownerId = String(owner.id)
            model.clearOwnerHref = Routes.records.path(kind.id)
        }
        if let sums = data.sums, let chart = definition.chart {
            let drawing = RecordCharts.chart(chart, of: definition, kind: kind.id, sums: sums, context: context)
            model.chart = drawing.html(palette: ChartPalette(branding: context.tenant.definition.branding))
            model.hasChart = true
        }
        return model
    }

    // MARK: Detail page

    struct DetailModel: Encodable {
        struct Field: Encodable {
            var label, value: String
            var iso: String?
        }
        struct Owned: Encodable {
            var title: String
            var table: Table
            var allHref: String
            var totalText: String
        }
        var kindLabel, title, listHref, listTitle: String
        var fields: [Field]
        var ownerLabel, ownerTitle, ownerHref: String?
        var assignedToMe: Bool
        var owned: [Owned]
        var hasOwned: Bool
    }

    private func detailRecord(context: UserContext) async throws -> (OpenKind, TenantRecord, TenantRecord?, [(OpenKind, RecordPage)]) {
        let kind = try requireKind(context)
        guard let raw = context.parameters.get("id"), let id = Int64(raw), id > 0 else { throw PortalError.notFound }
        let customerId = context.customer.id ?? 0
        let ownedKinds = context.tenant.definition.recordKinds(ownedBy: kind.id).compactMap { open($0, context: context) }
        let ownerKind = kind.definition.ownerKind
        let ownerUser = ownerKind.flatMap { open($0, context: context) }?.userId
        return try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
            guard let record = try await transaction.record(id: id, customerId: customerId, kind: kind.id, userId: kind.userId),
                  kind.shows(record) else { throw PortalError.notFound }
            var owner: TenantRecord?
            if let ownerKind, let ownerId = record.ownerRecordId {
                owner = try await transaction.record(id: ownerId, customerId: customerId, kind: ownerKind, userId: ownerUser)
            }
            var owned: [(OpenKind, RecordPage)] = []
            for child in ownedKinds {
                owned.append((child, try await transaction.records(child.query(customerId: customerId, ownerId: record.id, limit: Self.ownedPreview))))
            }
            return (kind, record, owner, owned)
        }
    }

    private func detailPage(context: UserContext) async throws -> Response {
        let (kind, record, owner, owned) = try await detailRecord(context: context)
        let locale = context.locale
        let definition = kind.definition
        let title = "\(definition.label.resolve(locale)) \(title(of: record, in: definition, locale: locale))"
        var model = DetailModel(
            kindLabel: definition.label.resolve(locale), title: title, listHref: Routes.records.path(kind.id),
            listTitle: definition.labelPlural.resolve(locale),
            fields: definition.fields.map { id, field in
                .init(label: field.label.resolve(locale), value: definition.display(id, of: record, locale: locale).nonEmpty ?? "–",
                      iso: field.type == .date ? record.values[id] : nil)
            },
            assignedToMe: record.userId != nil && record.userId == context.user.id, owned: [], hasOwned: !owned.isEmpty)
        if let owner, let ownerKindId = definition.ownerKind, let ownerKind = context.tenant.definition.recordKinds[ownerKindId] {
            model.ownerLabel = ownerKind.label.resolve(locale)
            model.ownerTitle = self.title(of: owner, in: ownerKind, locale: locale)
            if open(ownerKindId, context: context) != nil { model.ownerHref = Routes.record.path(ownerKindId, owner.id) }
        }
        model.owned = owned.map { child, page in
            let (ids, columns) = columns(of: child, context: context)
            let rows = page.items.map { Table.Row(cells: cells(of: $0, kind: child, columns: ids, context: context)) }
            let childTitle = child.definition.labelPlural.resolve(locale)
            return DetailModel.Owned(
                title: childTitle, table: Table(caption: childTitle, columns: columns, rows: rows, hasRows: !rows.isEmpty),
                allHref: Routes.records.path(child.id, queryItems: [(RecordSelection.ownerName, String(record.id))]),
                totalText: string(page.total == 1 ? "records.total_one" : "records.total", context, ["count": String(page.total)]))
        }
        return Pages.render("records_detail", model, title: title, context: context)
    }

    // MARK: Export

    private func export(_ request: Request, context: UserContext, api: Bool) async throws -> Response {
        let kind = try requireKind(context)
        var selection = selection(request, kind: kind, context: context)
        var problems = selection.problems.filter { $0.field != RecordSelection.pageName && $0.field != RecordSelection.limitName }
        let format = request.uri.queryParameters[Substring(RecordSelection.formatName)].map(String.init) ?? ""
        if !["csv", "xlsx"].contains(format) {
            problems.append(FieldProblem(field: RecordSelection.formatName, code: format.isEmpty ? "required" : "invalid",
                                         message: context.tenant.localized("records.error.format")))
        }
        guard problems.isEmpty else { throw PortalError.invalid(problems) }
        selection.page = 1
        selection.limit = Self.exportLimit
        let data = try await load(kind, selection: selection, context: context, chart: false)
        guard data.page.total <= Self.exportLimit else {
            throw PortalError.invalid([FieldProblem(field: RecordSelection.formatName, code: "too_many",
                                                    message: context.tenant.localized("records.error.too_many", ["max": String(Self.exportLimit)]))])
        }
        var ownerTitles: [Int64: String] = [:]
        if let ownerKindId = kind.definition.ownerKind, let ownerKind = context.tenant.definition.recordKinds[ownerKindId] {
            let ids = Set(data.page.items.compactMap(\.ownerRecordId))
            let customerId = context.customer.id ?? 0
            let owners = try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
                try await transaction.records(ids: ids, customerId: customerId, kind: ownerKindId)
            }
            for owner in owners { ownerTitles[owner.id] = title(of: owner, in: ownerKind, locale: context.locale) }
        }
        let table = RecordExport.table(data.page.items, kind: kind.definition, ownerTitles: ownerTitles,
                                       ownerLabel: kind.definition.ownerKind.flatMap { context.tenant.definition.recordKinds[$0]?.label.resolve(context.locale) },
                                       locale: context.locale)
        let stem = kind.id.filter { $0.isLetter || $0.isNumber || $0 == "_" }
        return UsageController.download(table, format: format, name: "\(stem)_\(today())", locale: context.locale)
    }

    // MARK: API

    private func apiList(_ request: Request, context: UserContext) async throws -> Response {
        let kind = try requireKind(context)
        let selection = selection(request, kind: kind, context: context)
        guard selection.problems.isEmpty else { throw PortalError.invalid(selection.problems) }
        let data = try await load(kind, selection: selection, context: context, chart: false)
        let body: RecordJSON = .object([
            "items": .array(data.page.items.map { RecordJSON.record($0, kind: kind.definition, userId: context.user.id) }),
            "total": .integer(Int64(data.page.total)), "page": .integer(Int64(selection.page)),
            "page_size": .integer(Int64(selection.limit)),
            "visible_from": kind.visibleFrom.map { .string($0.description) } ?? .null,
        ])
        return API.json(body)
    }

    private func apiRecord(context: UserContext) async throws -> Response {
        let (kind, record, _, _) = try await detailRecord(context: context)
        return API.json(RecordJSON.record(record, kind: kind.definition, userId: context.user.id))
    }
}

/// A JSON value of a record as the API writes it: each field typed as its schema says (`TenantRecordsSurface`).
indirect enum RecordJSON: Encodable, Sendable {
    case string(String), integer(Int64), boolean(Bool), null
    case array([RecordJSON])
    case object([String: RecordJSON])

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .string(let text): var single = encoder.singleValueContainer(); try single.encode(text)
        case .integer(let number): var single = encoder.singleValueContainer(); try single.encode(number)
        case .boolean(let flag): var single = encoder.singleValueContainer(); try single.encode(flag)
        case .null: var single = encoder.singleValueContainer(); try single.encodeNil()
        case .array(let items): var list = encoder.unkeyedContainer(); for item in items { try list.encode(item) }
        case .object(let entries):
            // Field ids written as given (the API's snake_case conversion leaves them alone, they are snake_case already).
            var keyed = encoder.container(keyedBy: AnyCodingKey.self)
            for (name, value) in entries { try keyed.encode(value, forKey: AnyCodingKey(stringValue: name)) }
        }
    }

    static func value(_ value: FieldValue) -> RecordJSON {
        switch value {
        case .text(let text): .string(text)
        case .integer(let number): .integer(number)
        case .decimal(let number): .string(number.description)
        case .date(let day): .string(day.description)
        case .boolean(let flag): .boolean(flag)
        case .option(let id): .string(id)
        }
    }

    static func record(_ record: TenantRecord, kind: RecordKindDefinition, userId: Int64?) -> RecordJSON {
        .object([
            "id": .integer(record.id), "external_id": .string(record.externalId),
            "date": record.date.map { .string($0) } ?? .null,
            "owner_id": record.ownerRecordId.map { .integer($0) } ?? .null,
            "assigned_to_me": .boolean(record.userId != nil && record.userId == userId),
            "fields": .object(kind.values(fromCanonical: record.values).mapValues(value)),
        ])
    }
}
