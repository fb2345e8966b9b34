import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// Reports of the services already billed: per invoice (its billing period) and per line of the
/// invoiced contract, the usage charged by kind and the options/services fees, inside the invoice window.
extension TelcoSupportController {
    /// Usage kinds grouped as the report shows them.
    static let usageCategories: [(id: String, kinds: [String])] = [
        ("calls", ["call"]), ("messages", ["sms", "mms"]), ("data", ["data"]), ("options", ["option", "other"]),
    ]

    struct BilledUsage { var category: String; var count: Int; var durationSeconds, volumeBytes, costCents: Int64 }
    struct BilledService { var name: String; var monthlyFeeCents: Int64; var months: Int; var chargedCents: Int64 }
    struct BilledLine {
        var line: LineRecord
        var usage: [BilledUsage]
        var services: [BilledService]
        var usageCents: Int64 { usage.reduce(0) { $0 + $1.costCents } }
        var servicesCents: Int64 { services.reduce(0) { $0 + $1.chargedCents } }
        var totalCents: Int64 { usageCents + servicesCents }
    }
    struct BilledReport {
        var invoice: InvoiceRecord
        var lines: [BilledLine]
        var usageCents: Int64 { lines.reduce(0) { $0 + $1.usageCents } }
        var servicesCents: Int64 { lines.reduce(0) { $0 + $1.servicesCents } }
    }

    struct ReportSummaryJSON: Encodable {
        var invoiceId: Int64
        var number, issuedOn, periodFrom, periodTo: String
        var total: API.Money
        var status: String
    }

    func addBilledReportRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.billedReports) { _, context in try await reportsPage(context: context) }
        group.get(Routes.billedReport) { _, context in try await reportPage(context: context) }
        group.get(Routes.billedReportExport) { request, context in try await exportReport(request, context: context) }
        group.get(Routes.billedReportsResource.api) { _, context in
            struct List: Encodable { var reports: [ReportSummaryJSON]; var visibleFrom: String? }
            let invoices = try await billedInvoices(context: context)
            let from = context.tenant.windows.earliestDay(for: .invoices, now: services.now)?.description
            return API.json(List(reports: invoices.map(summaryJSON), visibleFrom: from))
        }
        group.get(Routes.billedReportResource.api) { _, context in
            API.json(reportJSON(try await report(context: context)))
        }
        group.get(Routes.billedReportExportResource.api) { request, context in try await exportReport(request, context: context, api: true) }
    }

    private func summaryJSON(_ invoice: InvoiceRecord) -> ReportSummaryJSON {
        ReportSummaryJSON(invoiceId: invoice.id ?? 0, number: invoice.number, issuedOn: invoice.issuedOn, periodFrom: invoice.periodFrom ?? "",
                          periodTo: invoice.periodTo ?? "", total: API.Money(invoice.totalCents), status: invoice.status.rawValue)
    }

    /// The customer's invoices inside the window that cover a billing period, newest first.
    func billedInvoices(context: UserContext) async throws -> [InvoiceRecord] {
        try context.require(page: Self.billedReports)
        let customer = customerId(context)
        let windows = context.tenant.windows
        return try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
            try await transaction.invoices(customerId: customer, windows: windows)
        }.filter { $0.periodFrom.flatMap(CalendarDay.init) != nil && $0.periodTo.flatMap(CalendarDay.init) != nil }
    }

    /// Whole months a period spans (at least one), for the services' monthly fees.
    static func months(from: CalendarDay, to: CalendarDay) -> Int {
        let days = Double(to.adding(days: 1).startInstant - from.startInstant) / 86_400
        return max(1, Int((days / 30.44).rounded()))
    }

    /// The report of the invoice named in the path: 404 unless it is the customer's, inside the window, with a period.
    func report(context: UserContext) async throws -> BilledReport {
        try context.require(page: Self.billedReports)
        let invoiceId = try context.pathId("invoice_id")
        let customer = customerId(context)
        let windows = context.tenant.windows
        let (invoice, lines, usage, lineServices) = try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
            guard let invoice = try await transaction.invoice(id: invoiceId, customerId: customer, windows: windows),
                  let from = invoice.periodFrom.flatMap(CalendarDay.init), let to = invoice.periodTo.flatMap(CalendarDay.init) else {
                throw PortalError.notFound
            }
            var lines = try await transaction.lines(customerId: customer)
            if let contract = invoice.contractId { lines = lines.filter { $0.contractId == contract } }
            lines = lines.filter { inScope($0, feature: Feature.billedReports, context) }
            let ids = lines.compactMap(\.id)
            let usage = try await transaction.billedUsage(lineIds: ids, customerId: customer, from: from.startInstant, to: to.adding(days: 1).startInstant)
            return (invoice, lines, usage, try await transaction.services(lineIds: ids))
        }
        let from = CalendarDay(invoice.periodFrom ?? "")!, to = CalendarDay(invoice.periodTo ?? "")!
        let months = Self.months(from: from, to: to)
        let billed = lines.map { line -> BilledLine in
            let mine = usage.filter { $0.lineId == line.id }
            let known = Set(Self.usageCategories.flatMap(\.kinds))
            let categories = Self.usageCategories.compactMap { category -> BilledUsage? in
                let rows = mine.filter { category.kinds.contains($0.kind) || (category.id == "options" && !known.contains($0.kind)) }
                guard !rows.isEmpty else { return nil }
                return BilledUsage(category: category.id, count: rows.reduce(0) { $0 + $1.count },
                                   durationSeconds: rows.reduce(0) { $0 + $1.durationSeconds }, volumeBytes: rows.reduce(0) { $0 + $1.volumeBytes },
                                   costCents: rows.reduce(0) { $0 + $1.costCents })
            }
            // A service counts when it is active, or was until a day inside or after the period.
            let charged = lineServices.filter { $0.lineId == line.id && ($0.status == .active || ($0.expiresOn ?? "") >= from.description) }
                .map { BilledService(name: $0.name, monthlyFeeCents: $0.monthlyFeeCents, months: months, chargedCents: $0.monthlyFeeCents * Int64(months)) }
            return BilledLine(line: line, usage: categories, services: charged)
        }
        return BilledReport(invoice: invoice, lines: billed)
    }

    private func reportJSON(_ report: BilledReport) -> some Encodable {
        struct Usage: Encodable { var category: String; var count: Int; var durationSeconds, volumeBytes: Int64; var cost: API.Money }
        struct Service: Encodable { var name: String; var monthlyFee: API.Money; var months: Int; var charged: API.Money }
        struct Line: Encodable { var lineId: Int64; var identifier, kind: String; var usage: [Usage]; var services: [Service]; var total: API.Money }
        struct Body: Encodable { var invoice: ReportSummaryJSON; var lines: [Line]; var usageTotal, servicesTotal, total: API.Money }
        return Body(invoice: summaryJSON(report.invoice), lines: report.lines.map { line in
            Line(lineId: line.line.id ?? 0, identifier: line.line.identifier, kind: line.line.kind,
                 usage: line.usage.map { Usage(category: $0.category, count: $0.count, durationSeconds: $0.durationSeconds, volumeBytes: $0.volumeBytes,
                                               cost: API.Money($0.costCents)) },
                 services: line.services.map { Service(name: $0.name, monthlyFee: API.Money($0.monthlyFeeCents), months: $0.months,
                                                       charged: API.Money($0.chargedCents)) },
                 total: API.Money(line.totalCents))
        }, usageTotal: API.Money(report.usageCents), servicesTotal: API.Money(report.servicesCents),
           total: API.Money(report.usageCents + report.servicesCents))
    }

    private func period(_ invoice: InvoiceRecord, _ context: UserContext) -> String {
        text("support.billed.period_range", context, ["from": Formatting.day(invoice.periodFrom), "to": Formatting.day(invoice.periodTo)])
    }

    struct BilledReportsModel: Encodable {
        struct Report: Encodable { var id, number, period, issued, total, status: String }
        var reports: [Report]
        var hasReports: Bool
        var window: String?
    }

    private func reportsPage(context: UserContext) async throws -> Response {
        let invoices = try await billedInvoices(context: context)
        let locale = context.locale
        let model = BilledReportsModel(
            reports: invoices.map { invoice in
                .init(id: String(invoice.id ?? 0), number: invoice.number, period: period(invoice, context),
                      issued: Formatting.day(invoice.issuedOn), total: Formatting.money(invoice.totalCents, locale: locale),
                      status: label("support.billed.invoice_status", invoice.status, context))
            },
            hasReports: !invoices.isEmpty,
            window: context.tenant.windows.earliestDay(for: .invoices, now: services.now).map {
                text("support.billed.window", context, ["day": Formatting.day($0.description)])
            })
        return Pages.render("billed_reports", model, title: text("support.billed.title", context), context: context)
    }

    private func usageText(_ usage: BilledUsage, _ context: UserContext) -> String {
        switch usage.category {
        case "calls": return text("support.billed.detail.calls", context, ["count": String(usage.count), "duration": UsageFormat.duration(usage.durationSeconds)])
        case "data": return text("support.billed.detail.data", context, ["count": String(usage.count),
                                                                         "volume": UsageFormat.volume(usage.volumeBytes, locale: context.locale)])
        case "messages": return text("support.billed.detail.messages", context, ["count": String(usage.count)])
        default: return text("support.billed.detail.count", context, ["count": String(usage.count)])
        }
    }

    struct BilledReportModel: Encodable {
        /// Amounts per usage category (`usageCategories`).
        struct Categories: Encodable { var calls, messages, data, options: String }
        struct Line: Encodable {
            struct Service: Encodable { var name, fee, months, charged: String }
            struct Usage: Encodable { var label, detail, cost: String }
            var id, identifier, kind: String
            var calls, messages, data, options: String
            var servicesTotal, total: String
            var services: [Service]
            var hasServices: Bool
            var usage: [Usage]
            var hasUsage: Bool
        }
        var invoiceId, number, period, issued, invoiceNet, invoiceTotal: String
        var lines: [Line]
        var hasLines: Bool
        var usageTotal, servicesTotal, grandTotal: String
        var totals: Categories
        var reportsTitle: String
    }

    private func reportPage(context: UserContext) async throws -> Response {
        let report = try await report(context: context)
        let locale = context.locale
        let invoice = report.invoice
        func money(_ cents: Int64) -> String { Formatting.money(cents, locale: locale) }
        func cost(_ line: BilledLine, _ category: String) -> Int64 { line.usage.first { $0.category == category }?.costCents ?? 0 }
        func total(_ category: String) -> String { money(report.lines.reduce(0) { $0 + cost($1, category) }) }
        let model = BilledReportModel(
            invoiceId: String(invoice.id ?? 0), number: invoice.number, period: period(invoice, context),
            issued: Formatting.day(invoice.issuedOn), invoiceNet: money(invoice.netCents), invoiceTotal: money(invoice.totalCents),
            lines: report.lines.map { line in
                .init(id: String(line.line.id ?? 0), identifier: line.line.identifier, kind: label("contracts.kind", line.line.kind, context),
                      calls: money(cost(line, "calls")), messages: money(cost(line, "messages")), data: money(cost(line, "data")),
                      options: money(cost(line, "options")),
                      servicesTotal: money(line.servicesCents), total: money(line.totalCents),
                      services: line.services.map { service in
                          .init(name: service.name, fee: money(service.monthlyFeeCents), months: String(service.months),
                                charged: money(service.chargedCents))
                      },
                      hasServices: !line.services.isEmpty,
                      usage: line.usage.map { .init(label: label("support.billed.category", $0.category, context), detail: usageText($0, context),
                                                    cost: money($0.costCents)) },
                      hasUsage: !line.usage.isEmpty)
            },
            hasLines: !report.lines.isEmpty,
            usageTotal: money(report.usageCents), servicesTotal: money(report.servicesCents),
            grandTotal: money(report.usageCents + report.servicesCents),
            totals: .init(calls: total("calls"), messages: total("messages"), data: total("data"), options: total("options")),
            reportsTitle: text("support.billed.title", context))
        return Pages.render("billed_reports_detail", model,
                            title: text("support.billed.detail_title", context, ["number": invoice.number]), context: context)
    }

    private func exportReport(_ request: Request, context: UserContext, api: Bool = false) async throws -> Response {
        let format = request.uri.queryParameters["format"].map(String.init) ?? "csv"
        guard ["csv", "xlsx"].contains(format) else {
            throw PortalError.invalid([FieldProblem(field: "format", code: "invalid", message: localized("support.billed.error.format", context))])
        }
        let report = try await report(context: context)
        let invoice = report.invoice
        let header = ["invoice", "period_from", "period_to", "line", "line_kind", "category", "description", "quantity", "amount_eur"]
            .map { text("support.billed.column.\($0)", context) }
        var rows: [[SpreadsheetCell]] = []
        for line in report.lines {
            let start: [SpreadsheetCell] = [.text(invoice.number), .text(Formatting.day(invoice.periodFrom)), .text(Formatting.day(invoice.periodTo)),
                                            .text(line.line.identifier), .text(label("contracts.kind", line.line.kind, context))]
            for usage in line.usage {
                rows.append(start + [.text(label("support.billed.category", usage.category, context)), .text(usageText(usage, context)),
                                     .integer(Int64(usage.count)), .number(Double(usage.costCents) / 100, decimals: 2)])
            }
            for service in line.services {
                rows.append(start + [.text(text("support.billed.category.fees", context)),
                                     .text(text("support.billed.fee_detail", context, ["name": service.name, "months": String(service.months)])),
                                     .integer(Int64(service.months)), .number(Double(service.chargedCents) / 100, decimals: 2)])
            }
        }
        let table = SpreadsheetTable(sheetName: text("support.billed.sheet", context), header: header, rows: rows)
        let name = "\(text("support.billed.file_stem", context))_\(invoice.number.filter { $0.isLetter || $0.isNumber })"
        return UsageController.download(table, format: format, name: name, locale: context.locale)
    }
}
