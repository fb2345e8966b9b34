import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// The usage pages and their `/api/v1` operations: call detail per line inside the tenant's window
/// (with the line scopes of the role), its CSV/Excel export within the longest export range, and the
/// recharge history of prepaid lines.
struct UsageController: ModuleController {
    let services: PortalServices

    /// Unidata, WINDTRE, TIM `usage.view`; WINDTRE's Excel download is on the same page.
    static let usage = PortalPage(route: Routes.usage, titleKey: "usage.title", features: ["usage.view", "usage.export"])
    /// WINDTRE (Conto) and TIM (Consumi) `recharges.history`.
    static let recharges = PortalPage(route: Routes.recharges, titleKey: "usage.recharges.title", features: ["recharges.history"])
    static let pages: [PortalPage] = [usage, recharges]

    private static let usageParameters: [APIOperation.Parameter] = [
        .init("line", description: "Line id (default: the first line the user may see)", schema: .integer),
        .init("period", description: "day, week (current), month (current, default), 3months or custom", schema: .enumeration(UsageSelection.Period.allCases.map(\.rawValue))),
        .init("day", description: "For period=day: YYYY-MM-DD (default today)", schema: .string(format: "date")),
        .init("from", description: "For period=custom: first day, YYYY-MM-DD", schema: .string(format: "date")),
        .init("to", description: "For period=custom: last day (included), YYYY-MM-DD", schema: .string(format: "date")),
        .init("type", description: "all (default), calls, messages, internet or options", schema: .enumeration(UsageSelection.Kind.allCases.map(\.rawValue))),
    ]

    static let apiOperations: [APIOperation] = [
        APIOperation("GET", Routes.usage, summary: "Usage of one line in a period inside the tenant's window, newest first, cursor-paginated; with totals per kind",
                     feature: "usage.view",
                     parameters: usageParameters + [.init("cursor", description: "next_cursor of the previous page"),
                                                    .init("limit", description: "Rows per page, 1–500 (default 50)", schema: .integer)],
                     success: (200, "UsagePage")),
        APIOperation("GET", Routes.usageExport, summary: "The usage of one line in a period as CSV (UTF-8 with BOM, ';' separated) or Excel (.xlsx); a period longer than the tenant's export range is refused (422)",
                     feature: "usage.view",
                     parameters: usageParameters + [.init("format", required: true, description: "csv or xlsx", schema: .enumeration(["csv", "xlsx"]))],
                     success: (200, nil)),
        APIOperation("GET", Routes.recharges, summary: "Recharges and recharge attempts of the prepaid lines the user may see",
                     feature: "recharges.history", parameters: [.init("line", description: "Only this line", schema: .integer)],
                     success: (200, "Recharges")),
    ]

    static let apiSchemas: [String: JSONSchema] = [
        "UsageLine": .object(["id": .integer, "identifier": .string(), "kind": .string(), "description": .nullable(.string()),
                              "assigned_to_me": .boolean], required: ["id", "identifier", "kind", "assigned_to_me"]),
        "UsageRecord": .object([
            "id": .integer, "started_at": .integer, "kind": .enumeration(["call", "sms", "mms", "data", "option", "other"]),
            "counterpart": .nullable(.string()), "duration_seconds": .integer, "volume_bytes": .integer, "cost": .reference("Money"),
            "description": .nullable(.string()),
        ], required: ["id", "started_at", "kind", "duration_seconds", "volume_bytes", "cost"]),
        "UsageTotal": .object(["kind": .string(), "count": .integer, "duration_seconds": .integer, "volume_bytes": .integer,
                               "cost": .reference("Money")], required: ["kind", "count", "duration_seconds", "volume_bytes", "cost"]),
        "UsagePage": .object([
            "lines": .array(.reference("UsageLine")), "line_id": .integer,
            "period": .object(["name": .string(), "from": .string(format: "date"), "to": .string(format: "date")], required: ["name", "from", "to"]),
            "type": .string(), "items": .array(.reference("UsageRecord")), "next_cursor": .nullable(.string()),
            "totals": .array(.reference("UsageTotal")), "visible_from": .nullable(.string(format: "date")),
            "export_max_days": .nullable(.integer),
        ], required: ["lines", "line_id", "period", "type", "items", "totals"]),
        "Recharge": .object([
            "id": .integer, "line_id": .integer, "line": .string(), "recharged_at": .integer, "amount": .reference("Money"),
            "channel": .string(), "status": .string(), "transaction_id": .string(),
        ], required: ["id", "line_id", "line", "recharged_at", "amount", "channel", "status", "transaction_id"]),
        "Recharges": .object(["lines": .array(.reference("UsageLine")), "recharges": .array(.reference("Recharge")),
                              "attempts": .array(.reference("Recharge"))], required: ["lines", "recharges", "attempts"]),
    ]

    func addRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.usage) { request, context in try await usagePage(request, context: context) }
        group.get(Routes.usageExport) { request, context in try await export(request, context: context, api: false) }
        group.get(Routes.recharges) { request, context in try await rechargesPage(request, context: context) }
        group.get(Routes.usage.api) { request, context in try await apiUsage(request, context: context) }
        group.get(Routes.usageExport.api) { request, context in try await export(request, context: context, api: true) }
        group.get(Routes.recharges.api) { request, context in try await apiRecharges(request, context: context) }
    }

    // MARK: Shared

    private func text(_ context: UserContext) -> (String, [String: String]) -> LocalizedText {
        let tenant = context.tenant
        return { key, values in tenant.localized(key, values) }
    }

    private func string(_ key: String, _ context: UserContext, _ values: [String: String] = [:]) -> String {
        context.tenant.theme.text(key, locale: context.locale, values)
    }

    /// The lines whose data `feature` shows to this user: every line of the customer, or only the lines
    /// assigned to the user when the role's scope is `own_line` (TIM's Utilizzatore).
    private func visibleLines(context: UserContext, feature: String) async throws -> [LineRecord] {
        let customerId = context.customer.id ?? 0
        let lines = try await PageData.read("lines|\(customerId)", tables: [.lines], context: context, services: services) {
            try await $0.lines(customerId: customerId)
        }
        let usable = lines.filter { $0.kind != "hosting" && $0.kind != "supply_point" }
        if context.tenant.authorization.scope(context.session.principal, feature) == .ownLine {
            return usable.filter { $0.assignedUserId != nil && $0.assignedUserId == context.user.id }
        }
        return usable
    }

    private func lineLabel(_ line: LineRecord, context: UserContext) -> String {
        let kind = string("usage.line_kind.\(line.kind)", context)
        return "\(line.identifier) – \(kind.hasPrefix("usage.") ? line.kind : kind)"
    }

    private func query(_ request: Request) -> (String) -> String? {
        { request.uri.queryParameters[Substring($0)].map(String.init) }
    }

    /// The line asked for (it must be one the user may see, else 404) or the first one.
    private func chosenLine(_ selection: UsageSelection, lines: [LineRecord]) throws -> LineRecord? {
        if let id = selection.lineId {
            guard let line = lines.first(where: { $0.id == id }) else { throw PortalError.notFound }
            return line
        }
        return lines.first
    }

    private func exportFeature(_ context: UserContext) -> String {
        context.tenant.definition.feature("usage.export") != nil ? "usage.export" : "usage.view"
    }

    // MARK: Usage page

    private struct UsageData: Sendable {
        var page: Page<UsageRecord>
        var totals: [UsageTotal]
        /// The period's sums per month, for the page's chart (nil for the API).
        var months: [UsageMonth]?
    }

    private func loadUsage(line: LineRecord, selection: UsageSelection, context: UserContext,
                           months: Bool = false) async throws -> Result<UsageData, VisibilityError> {
        let windows = context.tenant.windows
        let query = UsageQuery(lineId: line.id ?? 0, period: selection.range, kinds: selection.kind.recordKinds, after: selection.after,
                               limit: selection.limit)
        do {
            let key = "usage|\(query.lineId)|\(query.period.map { "\($0.from)-\($0.to)" } ?? "window")|\(query.kinds.joined(separator: ","))|"
                + "\(query.after.map(String.init(describing:)) ?? "")|\(query.limit)|\(months)"
            let data = try await PageData.read(key, tables: [.usageRecords], context: context, services: services) { transaction in
                UsageData(page: try await transaction.usage(query, windows: windows),
                          totals: try await transaction.usageTotals(lineId: query.lineId, period: query.period, kinds: query.kinds, windows: windows),
                          months: months ? try await transaction.usageByMonth(lineId: query.lineId, period: query.period, kinds: query.kinds,
                                                                              windows: windows) : nil)
            }
            return .success(data)
        } catch let error as VisibilityError {
            return .failure(error)
        }
    }

    private func dayText(_ day: CalendarDay) -> String { Formatting.day(day.description) }

    /// Local date and time for `<time datetime>` (Europe/Rome, no offset).
    static func localISO(_ instant: Int64) -> String {
        LocalTime(instant: instant).isoLocal
    }

    private func usagePage(_ request: Request, context: UserContext) async throws -> Response {
        try context.require(page: Self.usage)
        try context.require("usage.view")
        let text = text(context)
        var (selection, problems) = UsageSelection.read(query(request), now: services.now, text: text)
        let lines = try await visibleLines(context: context, feature: "usage.view")
        let line = try chosenLine(selection, lines: lines)
        var data: UsageData?
        if let line, problems.isEmpty {
            switch try await loadUsage(line: line, selection: selection, context: context, months: true) {
            case .success(let loaded): data = loaded
            case .failure(let error):
                let field = selection.period == .day ? "day" : (selection.period == .custom ? "from" : "period")
                problems.append(UsageSelection.problem(for: error, field: field, text: text, dayText: dayText))
            }
        }
        if problems.contains(where: { $0.field == "cursor" || $0.field == "limit" }) { selection.after = nil }
        let model = usageModel(selection: selection, lines: lines, line: line, data: data, context: context)
        return Pages.render("usage", model, errors: problems, title: string("usage.title", context), context: context,
                            status: problems.isEmpty ? .ok : .unprocessableContent)
    }

    /// A choice of a select (period, kind).
    struct Choice: Encodable {
        var value, label: String
        var selected: Bool
    }

    struct UsageModel: Encodable {
        struct Line: Encodable {
            var id, label: String
            var selected, mine: Bool
        }
        struct Record: Encodable {
            var startedAt, startedAtIso, kind: String
            var counterpart, duration, volume: String?
            var cost: String
            var description: String?
        }
        struct Total: Encodable { var kind, count, duration, volume, cost: String }
        var lines: [Line]
        var hasLines, severalLines, ownLineOnly: Bool
        var periods, kinds: [Choice]
        var formDay, formFrom, formTo, today: String
        var custom, canExport: Bool
        var minDay, windowNote, exportNote, lineId, lineLabel: String?
        var periodLabel: String
        var records: [Record]?
        var hasRecords: Bool?
        var totals: [Total]?
        var hasTotals: Bool?
        var totalCost, nextHref, firstHref: String?
        /// The traffic and cost per month: an SVG and its data table (markup escaped by `Chart`).
        var chart: String?
        var hasChart: Bool?
        var loaded: Bool?
        var exportFrom, exportTo: String
        var exportXlsx: Bool
        var exportType: String
        var exportErrors: [String: String]
        var hasExportErrors: Bool
    }

    private func usageModel(selection: UsageSelection, lines: [LineRecord], line: LineRecord?, data: UsageData?, context: UserContext,
                            exportProblems: [FieldProblem] = [], exportForm: (from: String, to: String, format: String)? = nil) -> UsageModel {
        let locale = context.locale
        let windows = context.tenant.windows
        let earliest = windows.earliestDay(for: .usage, now: services.now)
        let maxDays = windows.exportMaximumDays(for: .usage)
        let today = CalendarDay(instant: services.now)
        // The export form: the shown period, cut to the longest export that ends on its last day.
        var exportFrom = selection.firstDay
        if let maxDays, selection.lastDay.adding(days: -(maxDays - 1)) > exportFrom { exportFrom = selection.lastDay.adding(days: -(maxDays - 1)) }
        if let earliest, exportFrom < earliest { exportFrom = earliest }
        var exportErrors: [String: String] = [:]
        for problem in exportProblems where exportErrors[problem.field] == nil { exportErrors[problem.field] = problem.message.resolve(locale) }
        var model = UsageModel(
            lines: lines.map { candidate in
                .init(id: String(candidate.id ?? 0), label: lineLabel(candidate, context: context), selected: candidate.id == line?.id,
                      mine: candidate.assignedUserId != nil && candidate.assignedUserId == context.user.id)
            },
            hasLines: !lines.isEmpty,
            severalLines: lines.count > 1,
            ownLineOnly: context.tenant.authorization.scope(context.session.principal, "usage.view") == .ownLine,
            periods: UsageSelection.Period.allCases.map { period in
                Choice(value: period.rawValue, label: string("usage.period.\(period.rawValue)", context), selected: period == selection.period)
            },
            kinds: UsageSelection.Kind.allCases.map { kind in
                Choice(value: kind.rawValue, label: string("usage.kind_filter.\(kind.rawValue)", context), selected: kind == selection.kind)
            },
            formDay: (selection.day ?? today).description, formFrom: selection.firstDay.description, formTo: selection.lastDay.description,
            today: today.description, custom: selection.period == .custom, canExport: context.may(exportFeature(context)),
            minDay: earliest?.description, windowNote: earliest.map { string("usage.window_note", context, ["date": dayText($0)]) },
            exportNote: maxDays.map { string("usage.export.max_note", context, ["days": String($0)]) },
            lineId: line.map { String($0.id ?? 0) }, lineLabel: line.map { lineLabel($0, context: context) },
            periodLabel: string("usage.period_range", context, ["from": dayText(selection.firstDay), "to": dayText(selection.lastDay)]),
            exportFrom: exportForm?.from ?? exportFrom.description, exportTo: exportForm?.to ?? selection.lastDay.description,
            exportXlsx: (exportForm?.format ?? "xlsx") != "csv", exportType: selection.kind.rawValue,
            exportErrors: exportErrors, hasExportErrors: !exportProblems.isEmpty)
        if let data {
            model.records = data.page.items.map { record in
                .init(startedAt: Formatting.dateTime(record.startedAt, locale: locale), startedAtIso: Self.localISO(record.startedAt),
                      kind: string("usage.kind.\(record.kind)", context), counterpart: record.counterpart?.nonEmpty,
                      duration: record.kind == "call" || record.kind == "data" ? UsageFormat.duration(record.durationSeconds) : nil,
                      volume: record.volumeBytes > 0 ? UsageFormat.volume(record.volumeBytes, locale: locale) : nil,
                      cost: Formatting.money(record.costCents, locale: locale), description: record.description?.nonEmpty)
            }
            model.hasRecords = !data.page.items.isEmpty
            model.totals = data.totals.map { total in
                .init(kind: string("usage.kind.\(total.kind)", context), count: String(total.count),
                      duration: total.durationSeconds > 0 ? UsageFormat.duration(total.durationSeconds) : "–",
                      volume: total.volumeBytes > 0 ? UsageFormat.volume(total.volumeBytes, locale: locale) : "–",
                      cost: Formatting.money(total.costCents, locale: locale))
            }
            model.hasTotals = !data.totals.isEmpty
            model.totalCost = Formatting.money(data.totals.reduce(0) { $0 + $1.costCents }, locale: locale)
            if let months = data.months, !data.totals.isEmpty, let line {
                model.chart = monthlyChart(months, selection: selection, line: line, context: context)
                    .html(palette: ChartPalette(branding: context.tenant.definition.branding))
                model.hasChart = true
            }
            let base = "\(Routes.usage.path())?\(selection.query(line: line?.id))"
            if let next = data.page.next { model.nextHref = "\(base)&after=\(next)" }
            if selection.after != nil { model.firstHref = base }
            model.loaded = true
        }
        return model
    }

    // MARK: Chart

    /// What the chart counts as traffic: data volume, unless the type shown has none (calls: minutes; else events).
    private enum TrafficMeasure {
        case volume(gigabytes: Bool), minutes, messages, events

        init(_ months: [UsageMonth], kind: UsageSelection.Kind) {
            let volume = months.map(\.volumeBytes).max() ?? 0
            let duration = months.contains { $0.durationSeconds > 0 }
            switch kind {
            case .calls: self = .minutes
            case .messages: self = .messages
            case .all, .internet, .options:
                if volume > 0 || kind == .internet { self = .volume(gigabytes: volume >= 1_000_000_000) } else { self = duration ? .minutes : .events }
            }
        }

        var key: String {
            switch self {
            case .volume: "usage.chart.series.data"
            case .minutes: "usage.chart.series.calls"
            case .messages: "usage.chart.series.messages"
            case .events: "usage.chart.series.events"
            }
        }

        func value(_ month: UsageMonth) -> Double {
            switch self {
            case .volume(let gigabytes): Double(month.volumeBytes) / (gigabytes ? 1_000_000_000 : 1_000_000)
            case .minutes: Double(month.durationSeconds) / 60
            case .messages, .events: Double(month.count)
            }
        }

        func format(locale: String, largest: Double) -> ChartValueFormat {
            switch self {
            case .volume(let gigabytes): .number(unit: gigabytes ? "GB" : "MB", fractionDigits: gigabytes ? 2 : 1, locale: locale)
            case .minutes: .number(unit: "min", fractionDigits: largest >= 100 ? 0 : 1, locale: locale)
            case .messages, .events: .number(unit: "", fractionDigits: 0, locale: locale)
            }
        }
    }

    /// Traffic (bars, in the brand colour) and cost (a line with markers, in euros) per month of the shown
    /// period, each on its own axis.
    private func monthlyChart(_ months: [UsageMonth], selection: UsageSelection, line: LineRecord, context: UserContext) -> Chart {
        let locale = context.locale
        let measure = TrafficMeasure(months, kind: selection.kind)
        let traffic = months.map(measure.value)
        let categories = months.enumerated().map { index, month in
            let short = string("chart.month_short.\(month.month)", context)
            return Chart.Category(string("chart.month_year", context, ["month": string("chart.month.\(month.month)", context), "year": String(month.year)]),
                                  axisLines: index == 0 || month.month == 1 ? [short, String(month.year)] : [short])
        }
        let trafficLabel = string(measure.key, context)
        let costLabel = string("usage.chart.series.cost", context)
        let period = string("usage.period_range", context, ["from": dayText(selection.firstDay), "to": dayText(selection.lastDay)])
        return Chart(
            id: "usage-chart",
            title: string("usage.chart.title", context),
            description: string("usage.chart.description", context, ["traffic": trafficLabel, "cost": costLabel, "line": line.identifier, "period": period]),
            categories: categories,
            axes: [.init(format: measure.format(locale: locale, largest: traffic.max() ?? 0)), .init(format: .money(locale: locale))],
            series: [.init(trafficLabel, kind: .bar, axis: 0, values: traffic),
                     .init(costLabel, kind: .line, axis: 1, values: months.map { Double($0.costCents) / 100 })],
            texts: .init(noData: string("chart.no_data", context), table: string("chart.table", context),
                         categoryHeader: string("chart.month_header", context)))
    }

    // MARK: Export

    private func export(_ request: Request, context: UserContext, api: Bool) async throws -> Response {
        try context.require(page: Self.usage)
        try context.require("usage.view")
        let feature = exportFeature(context)
        try context.require(feature)
        let text = text(context)
        let (selection, readProblems) = UsageSelection.read(query(request), now: services.now, text: text)
        var problems = readProblems.filter { $0.field != "cursor" && $0.field != "limit" }
        let format = request.uri.queryParameters["format"].map(String.init) ?? ""
        if !["csv", "xlsx"].contains(format) {
            problems.append(FieldProblem(field: "format", code: format.isEmpty ? "required" : "invalid", message: text("usage.error.format", [:])))
        }
        let lines = try await visibleLines(context: context, feature: "usage.view")
        let line = try chosenLine(selection, lines: lines)
        if line == nil { problems.append(FieldProblem(field: "line", code: "no_line", message: text("usage.error.no_line", [:]))) }
        var records: [UsageRecord] = []
        if problems.isEmpty, let line {
            let windows = context.tenant.windows
            do {
                records = try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
                    try await transaction.usageExport(lineId: line.id ?? 0, period: selection.range, kinds: selection.kind.recordKinds, windows: windows)
                }
            } catch let error as VisibilityError {
                problems.append(UsageSelection.problem(for: error, field: "from", text: text, dayText: dayText))
            }
        }
        guard problems.isEmpty, let line else {
            if api { throw PortalError.invalid(problems) }
            // Back to the page, the problems next to the export fields, what was typed kept.
            let pageProblems = readProblems.filter { $0.field == "line" || $0.field == "type" }
            guard pageProblems.isEmpty else { throw PortalError.invalid(pageProblems) }
            let shown = UsageSelection.read({ name in
                ["line": selection.lineId.map(String.init), "type": selection.kind.rawValue][name] ?? nil
            }, now: services.now, text: text).0
            var data: UsageData?
            if let line, case .success(let loaded) = try await loadUsage(line: line, selection: shown, context: context, months: true) { data = loaded }
            let model = usageModel(selection: shown, lines: lines, line: line, data: data, context: context, exportProblems: problems,
                                   exportForm: (request.uri.queryParameters["from"].map(String.init) ?? "",
                                                request.uri.queryParameters["to"].map(String.init) ?? "", format))
            return Pages.render("usage", model, title: string("usage.title", context), context: context, status: .unprocessableContent)
        }
        let table = exportTable(records, line: line, context: context)
        let name = "\(string("usage.export.file_stem", context))_\(line.identifier.filter { $0.isLetter || $0.isNumber })_\(selection.firstDay)_\(selection.lastDay)"
        return Self.download(table, format: format, name: name, locale: context.locale)
    }

    /// `table` as a CSV (`format == "csv"`) or XLSX attachment named `name`, never cached.
    static func download(_ table: SpreadsheetTable, format: String, name: String, locale: String) -> Response {
        let body = format == "csv" ? SpreadsheetWriter.csv(table, locale: locale) : SpreadsheetWriter.xlsx(table)
        var headers = HTTPFields()
        headers[.contentType] = format == "csv" ? SpreadsheetWriter.csvContentType : SpreadsheetWriter.xlsxContentType
        headers[.contentDisposition] = InvoicesController.attachment(fileName: "\(name).\(format)")
        headers[.cacheControl] = "private, no-store"
        headers[.contentLength] = String(body.count)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    private func exportTable(_ records: [UsageRecord], line: LineRecord, context: UserContext) -> SpreadsheetTable {
        let header = ["date_time", "line", "type", "counterpart", "duration_seconds", "duration", "volume_mb", "cost_eur", "description"]
            .map { string("usage.export.column.\($0)", context) }
        var kindLabels: [String: String] = [:]
        let rows = records.map { record -> [SpreadsheetCell] in
            let kind = kindLabels[record.kind] ?? {
                let label = string("usage.kind.\(record.kind)", context)
                kindLabels[record.kind] = label
                return label
            }()
            return [
                .dateTime(record.startedAt), .text(line.identifier), .text(kind), .text(record.counterpart ?? ""),
                .integer(record.durationSeconds), .text(record.durationSeconds > 0 ? UsageFormat.duration(record.durationSeconds) : ""),
                .number(Double(record.volumeBytes) / 1_000_000, decimals: 2), .number(Double(record.costCents) / 100, decimals: 2),
                .text(record.description ?? ""),
            ]
        }
        return SpreadsheetTable(sheetName: string("usage.export.sheet", context), header: header, rows: rows)
    }

    // MARK: API

    struct LineBody: Encodable {
        var id: Int64
        var identifier: String
        var kind: String
        var description: String?
        var assignedToMe: Bool
    }

    private func lineBody(_ line: LineRecord, context: UserContext) -> LineBody {
        LineBody(id: line.id ?? 0, identifier: line.identifier, kind: line.kind, description: line.description,
                 assignedToMe: line.assignedUserId != nil && line.assignedUserId == context.user.id)
    }

    struct UsagePageBody: Encodable {
        struct Period: Encodable { var name: String; var from: String; var to: String }
        struct Item: Encodable {
            var id: Int64
            var startedAt: Int64
            var kind: String
            var counterpart: String?
            var durationSeconds: Int64
            var volumeBytes: Int64
            var cost: API.Money
            var description: String?
        }
        struct Total: Encodable { var kind: String; var count: Int; var durationSeconds: Int64; var volumeBytes: Int64; var cost: API.Money }
        var lines: [LineBody]
        var lineId: Int64?
        var period: Period
        var type: String
        var items: [Item]
        var nextCursor: String?
        var totals: [Total]
        var visibleFrom: String?
        var exportMaxDays: Int?
    }

    private func apiUsage(_ request: Request, context: UserContext) async throws -> Response {
        try context.require(page: Self.usage)
        try context.require("usage.view")
        let text = text(context)
        let (selection, problems) = UsageSelection.read(query(request), now: services.now, text: text)
        guard problems.isEmpty else { throw PortalError.invalid(problems) }
        let lines = try await visibleLines(context: context, feature: "usage.view")
        let line = try chosenLine(selection, lines: lines)
        var data: UsageData?
        if let line {
            switch try await loadUsage(line: line, selection: selection, context: context) {
            case .success(let loaded): data = loaded
            case .failure(let error):
                let field = selection.period == .day ? "day" : (selection.period == .custom ? "from" : "period")
                throw PortalError.invalid([UsageSelection.problem(for: error, field: field, text: text, dayText: dayText)])
            }
        }
        let windows = context.tenant.windows
        return API.json(UsagePageBody(
            lines: lines.map { lineBody($0, context: context) }, lineId: line?.id,
            period: .init(name: selection.period.rawValue, from: selection.firstDay.description, to: selection.lastDay.description),
            type: selection.kind.rawValue,
            items: (data?.page.items ?? []).map {
                UsagePageBody.Item(id: $0.id ?? 0, startedAt: $0.startedAt, kind: $0.kind, counterpart: $0.counterpart, durationSeconds: $0.durationSeconds,
                      volumeBytes: $0.volumeBytes, cost: .init($0.costCents), description: $0.description)
            },
            nextCursor: data?.page.next?.description,
            totals: (data?.totals ?? []).map { UsagePageBody.Total(kind: $0.kind, count: $0.count, durationSeconds: $0.durationSeconds, volumeBytes: $0.volumeBytes, cost: .init($0.costCents)) },
            visibleFrom: windows.earliestDay(for: .usage, now: services.now)?.description,
            exportMaxDays: windows.exportMaximumDays(for: .usage)))
    }

    // MARK: Recharges

    private struct RechargeData: Sendable {
        var lines: [LineRecord]
        var shown: [LineRecord]
        var recharges: [RechargeRecord]
    }

    private func loadRecharges(_ request: Request, context: UserContext) async throws -> RechargeData {
        try context.require(page: Self.recharges)
        let lines = try await visibleLines(context: context, feature: "recharges.history").filter { $0.kind == "sim" }
        var shown = lines
        if let raw = request.uri.queryParameters["line"].map(String.init), !raw.isEmpty {
            guard let id = Int64(raw), let line = lines.first(where: { $0.id == id }) else { throw PortalError.notFound }
            shown = [line]
        }
        let ids = shown.compactMap(\.id)
        let customerId = context.customer.id ?? 0
        let windows = context.tenant.windows
        let recharges = try await services.database.read(tenant: context.tenant.id, now: services.now) {
            try await $0.recharges(lineIds: ids, customerId: customerId, windows: windows)
        }
        return RechargeData(lines: lines, shown: shown, recharges: recharges)
    }

    struct RechargesModel: Encodable {
        struct Line: Encodable {
            var id, label: String
            var selected: Bool
        }
        struct Row: Encodable {
            var date, line, amount, channel, status: String
            var failed: Bool
            var transaction: String
        }
        var lines: [Line]
        var severalLines, hasLines, ownLineOnly: Bool
        var recharges: [Row]
        var hasRecharges: Bool
        var attempts: [Row]
        var hasAttempts: Bool
        var total: String
    }

    private func rechargesPage(_ request: Request, context: UserContext) async throws -> Response {
        let data = try await loadRecharges(request, context: context)
        let locale = context.locale
        let byId = Dictionary(uniqueKeysWithValues: data.lines.compactMap { line in line.id.map { ($0, line) } })
        func row(_ recharge: RechargeRecord) -> RechargesModel.Row {
            .init(date: Formatting.dateTime(recharge.rechargedAt, locale: locale),
                  line: byId[recharge.lineId]?.identifier ?? "",
                  amount: Formatting.money(recharge.amountCents, locale: locale),
                  channel: label("usage.recharges.channel.\(recharge.channel)", fallback: recharge.channel, context),
                  status: label("usage.recharges.status.\(recharge.status.rawValue)", fallback: recharge.status.rawValue, context),
                  failed: recharge.status != .completed,
                  transaction: recharge.externalId ?? "TX\(recharge.id ?? 0)")
        }
        let chosen = data.shown.count == 1 && data.lines.count > 1 ? data.shown.first?.id : nil
        let completed = data.recharges.filter { $0.status == .completed }
        let model = RechargesModel(
            lines: data.lines.map { line in .init(id: String(line.id ?? 0), label: lineLabel(line, context: context), selected: line.id == chosen) },
            severalLines: data.lines.count > 1,
            hasLines: !data.lines.isEmpty,
            ownLineOnly: context.tenant.authorization.scope(context.session.principal, "recharges.history") == .ownLine,
            recharges: completed.map(row),
            hasRecharges: !completed.isEmpty,
            attempts: data.recharges.map(row),
            hasAttempts: !data.recharges.isEmpty,
            total: Formatting.money(completed.reduce(0) { $0 + $1.amountCents }, locale: locale))
        return Pages.render("recharges", model, title: string("usage.recharges.title", context), context: context)
    }

    private func label(_ key: String, fallback: String, _ context: UserContext) -> String {
        let text = string(key, context)
        return text == key ? fallback : text
    }

    struct RechargeBody: Encodable {
        var id: Int64
        var lineId: Int64
        var line: String
        var rechargedAt: Int64
        var amount: API.Money
        var channel: String
        var status: String
        var transactionId: String
    }

    struct RechargesBody: Encodable {
        var lines: [LineBody]
        var recharges: [RechargeBody]
        var attempts: [RechargeBody]
    }

    private func apiRecharges(_ request: Request, context: UserContext) async throws -> Response {
        let data = try await loadRecharges(request, context: context)
        let byId = Dictionary(uniqueKeysWithValues: data.lines.compactMap { line in line.id.map { ($0, line) } })
        let bodies = data.recharges.map { recharge in
            RechargeBody(id: recharge.id ?? 0, lineId: recharge.lineId, line: byId[recharge.lineId]?.identifier ?? "",
                         rechargedAt: recharge.rechargedAt, amount: .init(recharge.amountCents), channel: recharge.channel,
                         status: recharge.status.rawValue, transactionId: recharge.externalId ?? "TX\(recharge.id ?? 0)")
        }
        return API.json(RechargesBody(lines: data.lines.map { lineBody($0, context: context) },
                                      recharges: bodies.filter { $0.status == RechargeStatus.completed.rawValue }, attempts: bodies))
    }
}
