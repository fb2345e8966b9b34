import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// The invoices pages and their `/api/v1` operations: the list inside the tenant's window, the
/// detail, a print view, document downloads, paying online and the account statement.
struct InvoicesController {
    let services: PortalServices

    /// Seeing invoices, in every tenant's words; paying alone also opens the list (its open invoices only).
    static let invoices = PortalPage(route: Routes.invoices, titleKey: "invoices.title", features: BillingFeatures.view + BillingFeatures.pay)
    static let statement = PortalPage(route: Routes.statement, titleKey: "invoices.statement.title", features: BillingFeatures.statement)
    static let pages: [PortalPage] = [invoices, statement]

    static let apiOperations: [APIOperation] = [
        APIOperation("GET", Routes.invoices, summary: "The customer's invoices inside the tenant's visibility window, newest first",
                     feature: "invoices.view", parameters: [
                        .init("year", description: "Only invoices issued in this year", schema: .integer),
                        .init("status", description: "all (default), open, overdue or paid", schema: .enumeration(InvoiceFilter.Status.allCases.map(\.rawValue))),
                     ], success: (200, "InvoiceList")),
        APIOperation("GET", Routes.invoicesPersonal, summary: "The caller's own personal invoices (Dual Billing: private use of a company line), newest first",
                     feature: BillingFeatures.personal, success: (200, "PersonalInvoiceList")),
        APIOperation("GET", Routes.invoice, summary: "One invoice: amounts, contract, status, payments and documents",
                     feature: "invoices.view", parameters: [.init("id", in: "path", description: "Invoice id", schema: .integer)],
                     success: (200, "InvoiceDetail")),
        APIOperation("GET", Routes.invoiceDocument, summary: "Downloads a document of the invoice (the PDF), as an attachment",
                     feature: "invoices.view", parameters: [.init("id", in: "path", description: "Invoice id", schema: .integer),
                                                            .init("document_id", in: "path", description: "Document id", schema: .integer)],
                     success: (200, nil)),
        APIOperation("POST", Routes.invoicePayments, summary: "Simulated (demo) card payment: no payment provider is connected, nothing is charged; the card is checked, only its last four digits are kept, and the invoice, payment and statement credit are marked simulated. Idempotent: an invoice already paid is not charged again (200, outcome already_paid)",
                     feature: "invoices.pay", parameters: [.init("id", in: "path", description: "Invoice id", schema: .integer)],
                     requestBody: "PaymentRequest", success: (201, "PaymentResult"))
            .withOtherSuccess([200]),
        APIOperation("POST", Routes.invoicePayments, summary: "Simulated (demo) card payment of the pro-forma: no payment provider is connected, nothing is charged; the card is checked, only its last four digits are kept, and the records are marked simulated. Idempotent: an invoice already paid is not charged again (200, outcome already_paid)",
                     feature: "proforma.pay", parameters: [.init("id", in: "path", description: "Invoice id", schema: .integer)],
                     requestBody: "PaymentRequest", success: (201, "PaymentResult"))
            .withOtherSuccess([200]),
        APIOperation("GET", Routes.statement, summary: "The account statement: entries with debit, credit and running balance, and the total due",
                     feature: "statements.view", parameters: [.init("open", description: "true: open items only", schema: .boolean)],
                     success: (200, "Statement")),
        APIOperation("GET", Routes.statement, summary: "Payment status: the account statement with open items and the total due",
                     feature: "payments.view", parameters: [.init("open", description: "true: open items only", schema: .boolean)],
                     success: (200, "Statement")),
        APIOperation("GET", Routes.statementExport, summary: "The account statement inside its window as CSV or Excel, as an attachment",
                     feature: "statements.view", parameters: [.init("format", description: "csv (default) or xlsx", schema: .enumeration(["csv", "xlsx"])),
                                                              .init("open", description: "true: open items only", schema: .boolean)],
                     success: (200, nil)),
        APIOperation("GET", Routes.statementExport, summary: "Payment status as CSV or Excel, as an attachment",
                     feature: "payments.view", parameters: [.init("format", description: "csv (default) or xlsx", schema: .enumeration(["csv", "xlsx"])),
                                                            .init("open", description: "true: open items only", schema: .boolean)],
                     success: (200, nil)),
    ]

    static let apiSchemas: [String: JSONSchema] = [
        "Money": .object(["cents": .integer, "currency": .enumeration(["EUR"])], required: ["cents", "currency"]),
        "Invoice": .object([
            "id": .integer, "number": .string(), "issued_on": .string(format: "date"), "due_on": .string(format: "date"),
            "period_from": .nullable(.string(format: "date")), "period_to": .nullable(.string(format: "date")),
            "net": .reference("Money"), "tax": .reference("Money"), "total": .reference("Money"),
            "status": .enumeration(InvoiceState.allCases.map(\.rawValue)), "overdue": .boolean,
            "paid_on": .nullable(.string(format: "date")), "contract_id": .nullable(.integer),
            "simulated": .boolean, "simulated_label": .nullable(.string()),
        ], required: ["id", "number", "issued_on", "due_on", "net", "tax", "total", "status", "overdue", "simulated"]),
        "PersonalInvoiceList": .object(["items": .array(.reference("Invoice")), "visible_from": .nullable(.string())], required: ["items"]),
        "InvoiceList": .object([
            "items": .array(.reference("Invoice")),
            "visible_from": .nullable(.string(format: "date", description: "The first day of the visibility window (null: no limit)")),
            "open_count": .integer, "overdue_count": .integer, "total_due": .reference("Money"), "overdue_due": .reference("Money"),
            "years": .array(.integer),
        ], required: ["items", "open_count", "overdue_count", "total_due", "overdue_due", "years"]),
        "Payment": .object([
            "id": .integer, "invoice_id": .nullable(.integer), "paid_on": .string(format: "date"), "amount": .reference("Money"),
            "method": .string(), "reference": .nullable(.string()),
            "simulated": .boolean, "simulated_label": .nullable(.string()),
        ], required: ["id", "paid_on", "amount", "method", "simulated"]),
        "InvoiceDocument": .object(["id": .integer, "file_name": .string(), "content_type": .string(), "href": .string()],
                                   required: ["id", "file_name", "content_type", "href"]),
        "InvoiceDetail": .object([
            "invoice": .reference("Invoice"), "amount_due": .reference("Money"), "payments": .array(.reference("Payment")),
            "documents": .array(.reference("InvoiceDocument")),
            "contract": .nullable(.object(["id": .integer, "code": .string(), "offer": .string()], required: ["id", "code", "offer"])),
        ], required: ["invoice", "amount_due", "payments", "documents"]),
        "PaymentRequest": .object([
            "card_holder": .string(), "card_number": .string(description: "12 to 19 digits, Luhn-checked; never stored"),
            "card_expiry": .string(description: "MM/YY, not in the past"), "card_cvv": .string(description: "3 digits (4 for American Express)"),
        ], required: ["card_holder", "card_number", "card_expiry", "card_cvv"]),
        "PaymentResult": .object([
            "outcome": .enumeration(["paid", "already_paid"]), "invoice": .reference("Invoice"), "payment": .nullable(.reference("Payment")),
            "simulated": .boolean, "simulated_label": .string(),
        ], required: ["outcome", "invoice", "simulated", "simulated_label"]),
        "StatementEntry": .object([
            "id": .integer, "booked_on": .string(format: "date"), "due_on": .nullable(.string(format: "date")), "description": .string(),
            "debit": .nullable(.reference("Money")), "credit": .nullable(.reference("Money")), "balance": .reference("Money"),
            "open": .boolean, "overdue": .boolean, "invoice_id": .nullable(.integer),
            "simulated": .boolean, "simulated_label": .nullable(.string()),
        ], required: ["id", "booked_on", "description", "balance", "open", "overdue", "simulated"]),
        "Statement": .object([
            "entries": .array(.reference("StatementEntry")), "total_due": .reference("Money"), "overdue_due": .reference("Money"),
            "balance": .reference("Money"), "balance_brought_forward": .reference("Money"),
            "visible_from": .nullable(.string(format: "date")), "open_only": .boolean,
        ], required: ["entries", "total_due", "overdue_due", "balance", "balance_brought_forward", "open_only"]),
    ]

    func addRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.invoices) { request, context in try await list(request, context: context) }
        group.get(Routes.invoice) { request, context in try await detail(request, context: context) }
        group.get(Routes.invoicePrint) { _, context in try await printView(context: context) }
        group.get(Routes.invoiceDocument) { _, context in try await document(context: context) }
        group.get(Routes.invoicePay) { _, context in try await payPage(context: context) }
        group.post(Routes.invoicePay) { request, context in try await pay(request, context: context) }
        group.get(Routes.statement) { request, context in try await statementPage(request, context: context) }
        group.get(Routes.statementPrint) { request, context in try await statementPrint(request, context: context) }
        group.get(Routes.statementExport) { request, context in try await statementExport(request, context: context) }

        group.get(Routes.invoices.api) { request, context in try await apiList(request, context: context) }
        group.get(Routes.invoicesPersonal.api) { _, context in try await apiPersonal(context: context) }
        group.get(Routes.invoice.api) { _, context in try await apiDetail(context: context) }
        group.get(Routes.invoiceDocument.api) { _, context in try await document(context: context) }
        group.post(Routes.invoicePayments.api) { request, context in try await apiPay(request, context: context) }
        group.get(Routes.statement.api) { request, context in try await apiStatement(request, context: context) }
        group.get(Routes.statementExport.api) { request, context in try await statementExport(request, context: context) }
    }

    // MARK: Shared

    private func makeViews(_ context: UserContext) -> BillingViews {
        BillingViews(context: context, today: CalendarDay(instant: services.now))
    }

    private func invoiceId(_ context: UserContext) throws -> Int64 {
        let id = try context.pathId()
        return id
    }

    /// The customer's invoice inside the window, or 404 (another customer's, another tenant's, or too old).
    private func loadInvoice(_ id: Int64, context: UserContext) async throws -> InvoiceRecord {
        let customerId = context.customer.id ?? 0
        let windows = context.tenant.windows
        let personalOf = personalHolder(context)
        let invoice = try await services.database.read(tenant: context.tenant.id, now: services.now) {
            try await $0.invoice(id: id, customerId: customerId, windows: windows, personalOf: personalOf)
        }
        guard let invoice else { throw PortalError.notFound }
        return invoice
    }

    /// The user whose personal invoices (TIM's Dual Billing) this user may see: themselves, with `invoices.personal`.
    private func personalHolder(_ context: UserContext) -> Int64? {
        context.may(BillingFeatures.personal) ? context.user.id : nil
    }

    /// The user's own personal invoices inside the window, newest first (empty without `invoices.personal`).
    private func personalInvoices(context: UserContext) async throws -> [InvoiceRecord] {
        guard let holder = personalHolder(context) else { return [] }
        let customerId = context.customer.id ?? 0
        let windows = context.tenant.windows
        return try await services.database.read(tenant: context.tenant.id, now: services.now) {
            try await $0.invoices(customerId: customerId, windows: windows, holderUserId: holder)
        }
    }

    private struct Overview {
        var invoices: [InvoiceRecord]
        var shown: [InvoiceRecord]
        var years: [Int]
        var openCount = 0, overdueCount = 0
        var totalDue: Int64 = 0, overdueDue: Int64 = 0
    }

    /// One indexed query (customer, issued_on) for the whole window; filters and totals in memory.
    private func overview(context: UserContext, filter: InvoiceFilter, payableOnly: Bool) async throws -> Overview {
        let customerId = context.customer.id ?? 0
        let windows = context.tenant.windows
        let all = try await services.database.read(tenant: context.tenant.id, now: services.now) {
            try await $0.invoices(customerId: customerId, windows: windows)
        }
        let today = CalendarDay(instant: services.now)
        var result = Overview(invoices: all, shown: [], years: [])
        var years = Set<Int>()
        for invoice in all {
            if let year = Int(invoice.issuedOn.prefix(4)) { years.insert(year) }
            let state = InvoiceState(invoice, today: today)
            if state.isOpen {
                result.openCount += 1
                result.totalDue += invoice.totalCents
                if state == .overdue { result.overdueCount += 1; result.overdueDue += invoice.totalCents }
            }
            if filter.matches(invoice, today: today), !payableOnly || state.isOpen { result.shown.append(invoice) }
        }
        result.years = years.sorted(by: >)
        return result
    }

    // MARK: Pages

    /// What the invoice list shows: the summary, the filters, the invoices and (TIM's Dual Billing) the personal ones.
    struct ListPage: Encodable {
        struct Year: Encodable { var value: String; var selected: Bool }
        struct Status: Encodable { var value, label: String; var selected: Bool }
        var invoices: [BillingViews.InvoiceRow]
        var hasInvoices: Bool
        var years: [Year]
        var statuses: [Status]
        var payableOnly, canPay: Bool
        var openCount, totalDue: String
        var hasDue: Bool
        var overdueCount, overdueDue: String
        var hasOverdue, filtered: Bool
        var windowNote, notice: String?
        var personalSection: Bool?
        var personalInvoices: [BillingViews.InvoiceRow]?
        var hasPersonalInvoices: Bool?
    }

    private func list(_ request: Request, context: UserContext) async throws -> Response {
        try context.require(page: Self.invoices)
        let views = makeViews(context)
        let canView = BillingFeatures.mayAny(BillingFeatures.view, context)
        let canPay = BillingFeatures.mayAny(BillingFeatures.pay, context)
        let (filter, problems) = InvoiceFilter.read({ request.uri.queryParameters[Substring($0)].map(String.init) }, text: { views.localized($0) })
        let overview = try await overview(context: context, filter: filter, payableOnly: !canView)
        let earliest = context.tenant.windows.earliestDay(for: .invoices, now: services.now)
        var model = ListPage(
            invoices: overview.shown.map { views.invoiceRow($0, canOpen: canView, canPay: canPay) },
            hasInvoices: !overview.shown.isEmpty,
            years: overview.years.map { .init(value: String($0), selected: $0 == filter.year) },
            statuses: InvoiceFilter.Status.allCases.map { status in
                .init(value: status.rawValue, label: views.text("invoices.filter.status_\(status.rawValue)"), selected: status == filter.status)
            },
            payableOnly: !canView, canPay: canPay,
            openCount: String(overview.openCount), totalDue: views.money(overview.totalDue), hasDue: overview.openCount > 0,
            overdueCount: String(overview.overdueCount), overdueDue: views.money(overview.overdueDue), hasOverdue: overview.overdueCount > 0,
            filtered: filter.year != nil || filter.status != InvoiceFilter.Status.all,
            windowNote: earliest.map { views.text("invoices.window_note", ["date": Formatting.day($0.description)]) },
            notice: notice(request, views: views))
        if context.may(BillingFeatures.personal) {
            let personal = try await personalInvoices(context: context)
            model.personalSection = true
            model.personalInvoices = personal.map { views.invoiceRow($0, canOpen: true, canPay: canPay) }
            model.hasPersonalInvoices = !personal.isEmpty
        }
        return Pages.render("invoices", model, errors: problems, title: views.text("invoices.title"), context: context,
                            status: problems.isEmpty ? .ok : .unprocessableContent)
    }

    /// The notice after paying (`?notice=paid` or `already_paid`).
    private func notice(_ request: Request, views: BillingViews) -> String? {
        guard let notice = request.uri.queryParameters["notice"].map(String.init), ["paid", "already_paid"].contains(notice) else { return nil }
        return views.text("invoices.notice.\(notice)")
    }

    private struct DetailData: Sendable {
        var invoice: InvoiceRecord
        var contract: ContractRecord?
        var payments: [PaymentRecord]
        var documents: [DocumentSummary]
    }

    private func loadDetail(context: UserContext) async throws -> DetailData {
        let id = try invoiceId(context)
        let customerId = context.customer.id ?? 0
        let windows = context.tenant.windows
        let personalOf = personalHolder(context)
        let data = try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction -> DetailData? in
            guard let invoice = try await transaction.invoice(id: id, customerId: customerId, windows: windows, personalOf: personalOf) else { return nil }
            let contract = try await invoice.contractId.asyncMapBilling { try await transaction.contract(id: $0, customerId: customerId) } ?? nil
            return DetailData(invoice: invoice, contract: contract,
                              payments: try await transaction.payments(invoiceId: id, customerId: customerId),
                              documents: try await transaction.invoiceDocumentSummaries(invoiceId: id))
        }
        guard let data else { throw PortalError.notFound }
        return data
    }

    private func amountDue(_ data: DetailData) -> Int64 {
        guard data.invoice.status != .paid else { return 0 }
        return max(data.invoice.totalCents - data.payments.reduce(0) { $0 + $1.amountCents }, 0)
    }

    /// An invoice's page (detail, payment form or print view): the invoice's row with the parts of the page beside it.
    struct InvoicePage: Encodable {
        struct Detail: Encodable {
            struct Document: Encodable { var href, fileName, kind: String }
            struct Contract: Encodable { var code, offer: String }
            var amountDue: String
            var payments: [BillingViews.PaymentRow]
            var hasPayments: Bool
            var documents: [Document]
            var hasDocuments, canPrint: Bool
            var contract: Contract?
            var heading: String
            var callDetailHref, callDetailNote, notice: String?
        }
        struct PaymentForm: Encodable {
            var canView: Bool
            var formHolder, formNumber, formExpiry, action, payHeading: String
        }
        var invoice: BillingViews.InvoiceRow
        var detail: Detail
        var payment: PaymentForm?

        func encode(to encoder: any Encoder) throws {
            try invoice.encode(to: encoder)
            try detail.encode(to: encoder)
            try payment?.encode(to: encoder)
        }
    }

    /// A page printed on its own, with the customer's data (empty texts left out) and when it was printed.
    struct PrintedCopy<Page: Encodable>: Encodable {
        struct Print: Encodable {
            struct Customer: Encodable { var name, code, vatNumber, taxCode, address: String? }
            var customer: Customer
            var printedOn: String
        }
        var page: Page
        var print: Print

        func encode(to encoder: any Encoder) throws {
            try page.encode(to: encoder)
            try print.encode(to: encoder)
        }
    }

    private func printedCopy<Page>(_ page: Page, context: UserContext, address: Bool) -> PrintedCopy<Page> {
        let customer = context.customer
        let street: [String?] = [customer.street, [customer.postalCode, customer.city, customer.province.map { "(\($0))" }].compactMap { $0 }.joined(separator: " ")]
        return PrintedCopy(page: page, print: .init(
            customer: .init(name: customer.displayName.nonEmpty, code: customer.customerCode.nonEmpty, vatNumber: customer.vatNumber?.nonEmpty,
                            taxCode: customer.taxCode?.nonEmpty,
                            address: address ? street.compactMap { $0?.nonEmpty }.joined(separator: ", ").nonEmpty : nil),
            printedOn: Formatting.dateTime(services.now, locale: context.locale)))
    }

    private func invoicePage(_ data: DetailData, context: UserContext) -> InvoicePage {
        let views = makeViews(context)
        let invoice = data.invoice
        let id = invoice.id ?? 0
        let canDownload = BillingFeatures.mayAny(BillingFeatures.download(in: context.tenant.definition), context)
        let canPay = BillingFeatures.mayAny(BillingFeatures.pay, context)
        var detail = InvoicePage.Detail(
            amountDue: views.money(amountDue(data)), payments: data.payments.map { views.paymentRow($0) }, hasPayments: !data.payments.isEmpty,
            documents: data.documents.map { document in
                .init(href: Routes.invoiceDocument.path(id, document.id), fileName: document.fileName,
                      kind: document.contentType == "application/pdf" ? "PDF" : document.contentType)
            },
            hasDocuments: !data.documents.isEmpty && canDownload, canPrint: canDownload,
            contract: data.contract.map { .init(code: $0.code, offer: $0.offer) },
            heading: views.text("invoices.detail.heading", ["number": invoice.number]))
        // WINDTRE's call detail on the invoice: the traffic of the billed period, where the usage window still shows it.
        if context.may("invoices.call_detail"), context.may("usage.view"), let from = invoice.periodFrom.flatMap(CalendarDay.init),
           let to = invoice.periodTo.flatMap(CalendarDay.init) {
            let earliest = context.tenant.windows.earliestDay(for: .usage, now: services.now)
            if earliest.map({ from >= $0 }) ?? true {
                detail.callDetailHref = Routes.usage.path(query: ["period": "custom", "from": from.description, "to": to.description])
            } else {
                detail.callDetailNote = views.text("invoices.detail.call_detail_outside")
            }
        }
        return InvoicePage(invoice: views.invoiceRow(invoice, canOpen: true, canPay: canPay), detail: detail)
    }

    private func detail(_ request: Request, context: UserContext) async throws -> Response {
        try BillingFeatures.requireAny(BillingFeatures.view, context)
        let data = try await loadDetail(context: context)
        let views = makeViews(context)
        var page = invoicePage(data, context: context)
        page.detail.notice = notice(request, views: views)
        return Pages.render("invoice", page, title: views.text("invoices.detail.heading", ["number": data.invoice.number]), context: context)
    }

    private func printView(context: UserContext) async throws -> Response {
        try BillingFeatures.requireAny(BillingFeatures.download(in: context.tenant.definition), context)
        let data = try await loadDetail(context: context)
        let views = makeViews(context)
        let title = views.text("invoices.detail.heading", ["number": data.invoice.number])
        return Pages.renderDocument("invoice_print", printedCopy(invoicePage(data, context: context), context: context, address: true),
                                    title: title, context: context)
    }

    /// A document of the customer's own invoice inside the window, as an attachment.
    private func document(context: UserContext) async throws -> Response {
        try BillingFeatures.requireAny(BillingFeatures.download(in: context.tenant.definition), context)
        let id = try invoiceId(context)
        let documentId = try context.pathId("document_id")
        let customerId = context.customer.id ?? 0
        let windows = context.tenant.windows
        let personalOf = personalHolder(context)
        let document = try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction -> DocumentRecord? in
            guard try await transaction.invoice(id: id, customerId: customerId, windows: windows, personalOf: personalOf) != nil else { return nil }
            return try await transaction.invoiceDocument(id: documentId, invoiceId: id)
        }
        guard let document else { throw PortalError.notFound }
        var headers = HTTPFields()
        headers[.contentType] = Self.safeContentType(document.contentType)
        headers[.contentDisposition] = Self.attachment(fileName: document.fileName)
        headers[.cacheControl] = "private, no-store"
        headers[.contentLength] = String(document.content.count)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: document.content)))
    }

    static func safeContentType(_ stored: String) -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "/.+-"))
        let parts = stored.split(separator: "/")
        guard parts.count == 2, stored.count < 100, stored.unicodeScalars.allSatisfy({ allowed.contains($0) }) else {
            return "application/octet-stream"
        }
        return stored
    }

    /// `attachment; filename="…"; filename*=UTF-8''…` with an ASCII fallback name and the exact one encoded.
    static func attachment(fileName: String) -> String {
        let base = (fileName as NSString).lastPathComponent
        let fallback = String(base.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "._-")
        let encoded = base.addingPercentEncoding(withAllowedCharacters: allowed) ?? fallback
        return "attachment; filename=\"\(fallback.isEmpty ? "documento" : fallback)\"; filename*=UTF-8''\(encoded)"
    }

    // MARK: Paying online

    private func payPage(_ data: DetailData, context: UserContext, form: SubmittedForm?, problems: [FieldProblem],
                         status: HTTPResponse.Status = .ok) -> Response {
        let views = makeViews(context)
        var page = invoicePage(data, context: context)
        page.payment = .init(canView: BillingFeatures.mayAny(BillingFeatures.view, context), formHolder: form?["card_holder"] ?? "",
                             formNumber: form?["card_number"] ?? "", formExpiry: form?["card_expiry"] ?? "",
                             action: Routes.invoicePay.path(data.invoice.id ?? 0),
                             payHeading: views.text("invoices.pay.heading", ["number": data.invoice.number]))
        return Pages.render("invoice_pay", page, errors: problems, title: views.text("invoices.pay.heading", ["number": data.invoice.number]),
                            context: context, status: status)
    }

    private func payPage(context: UserContext) async throws -> Response {
        try BillingFeatures.requireAny(BillingFeatures.pay, context)
        let data = try await loadDetail(context: context)
        if data.invoice.status == .paid { return Pages.redirect(afterPayment(data.invoice, notice: "already_paid", context: context)) }
        return payPage(data, context: context, form: nil, problems: [])
    }

    private func afterPayment(_ invoice: InvoiceRecord, notice: String, context: UserContext) -> String {
        BillingFeatures.mayAny(BillingFeatures.view, context)
            ? Routes.invoice.path(invoice.id ?? 0, query: ["notice": notice]) : Routes.invoices.path(query: ["notice": notice])
    }

    private enum PaymentAttempt {
        case done(PayInvoice.Outcome)
        case rejected([FieldProblem])
    }

    /// Pays through the `PayInvoice` use case; card problems come back field by field.
    private func attemptPayment(invoiceId: Int64, card: CardDetails, context: UserContext) async throws -> PaymentAttempt {
        do {
            return .done(try await PayInvoice(services: services.application)(tenant: context.tenant.served, acting: context.acting,
                                                                             invoiceId: invoiceId, card: card))
        } catch let refusal as UseCaseRefusal {
            switch refusal.code {
            case "invalid": return .rejected(refusal.problems)
            case "forbidden": throw PortalError.forbidden(feature: BillingFeatures.defined(BillingFeatures.pay, in: context).first ?? "invoices.pay")
            default: throw PortalError.notFound
            }
        }
    }

    private func pay(_ request: Request, context: UserContext) async throws -> Response {
        try BillingFeatures.requireAny(BillingFeatures.pay, context)
        let form = try await SubmittedForm.read(request, context: context)
        let data = try await loadDetail(context: context)
        if data.invoice.status == .paid { return Pages.redirect(afterPayment(data.invoice, notice: "already_paid", context: context)) }
        let card = CardDetails(holder: form["card_holder"], number: form["card_number"], expiry: form["card_expiry"], cvv: form["card_cvv"])
        switch try await attemptPayment(invoiceId: data.invoice.id ?? 0, card: card, context: context) {
        case .rejected(let problems):
            return payPage(data, context: context, form: form, problems: problems, status: .unprocessableContent)
        case .done(.paid):
            return Pages.redirect(afterPayment(data.invoice, notice: "paid", context: context))
        case .done(.alreadyPaid):
            return Pages.redirect(afterPayment(data.invoice, notice: "already_paid", context: context))
        }
    }

    // MARK: Statement

    private struct StatementData: Sendable {
        var entries: [StatementEntryRecord]
        var broughtForward: Int64
        /// The invoices the rows may link to (the customer's, inside the invoices' window).
        var linkable: Set<Int64>
    }

    /// The statement inside its window: the later of the statement's and the invoices' windows, so no
    /// row leads to an invoice the customer can no longer open; what came before is the balance brought forward.
    private func loadStatement(context: UserContext, openOnly: Bool) async throws -> StatementData {
        let customerId = context.customer.id ?? 0
        let windows = context.tenant.windows
        let earliest = windows.statementEarliestDay(now: services.now)
        return try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
            let entries = try await transaction.statement(customerId: customerId, openOnly: openOnly, windows: windows)
            let forward = try await earliest.asyncMapBilling { try await transaction.statementBalance(customerId: customerId, bookedBefore: $0) } ?? 0
            let ids = Array(Set(entries.compactMap(\.invoiceId)))
            let linkable = try await transaction.visibleInvoiceIds(ids, customerId: customerId, windows: windows)
            return StatementData(entries: entries, broughtForward: forward, linkable: linkable)
        }
    }

    private struct StatementLine {
        var entry: StatementEntryRecord
        var balance: Int64
        var overdue: Bool
    }

    /// Entries newest first, each with the balance after it (computed oldest to newest).
    private func statementLines(_ data: StatementData, today: CalendarDay) -> (lines: [StatementLine], balance: Int64, due: Int64, overdue: Int64) {
        var balance = data.broughtForward
        var due: Int64 = 0, overdue: Int64 = 0
        var lines: [StatementLine] = []
        for entry in data.entries.reversed() {
            balance += entry.amountCents
            let late = entry.isOpen && entry.amountCents > 0 && (entry.dueOn.map { $0 < today.description } ?? false)
            if entry.isOpen { due += entry.amountCents }
            if late { overdue += entry.amountCents }
            lines.append(StatementLine(entry: entry, balance: balance, overdue: late))
        }
        return (lines.reversed(), balance, due, overdue)
    }

    private func openOnlyQuery(_ request: Request) -> Bool {
        ["1", "true", "on"].contains(request.uri.queryParameters["open"].map(String.init) ?? "")
    }

    private func statementStateLabel(_ line: StatementLine, views: BillingViews) -> String {
        views.text(line.entry.isOpen ? (line.overdue ? "invoices.statement.overdue" : "invoices.statement.open") : "invoices.statement.closed")
    }

    /// What the statement page (and its print view) shows: the entries newest first with their balance, and the totals.
    struct StatementPage: Encodable {
        struct Entry: Encodable {
            var bookedOn, dueOn, description, debit, credit, balance: String
            var open, overdue: Bool
            var stateLabel: String
            var simulatedLabel, invoiceHref, payHref: String?
        }
        var entries: [Entry]
        var hasEntries, openOnly, showBalance: Bool
        var totalDue: String
        var hasDue: Bool
        var overdueDue: String
        var hasOverdue: Bool
        var balance, printHref, exportCsvHref, exportXlsxHref: String
        var broughtForward, windowNote: String?
    }

    private func statementModel(_ request: Request, context: UserContext) async throws -> StatementPage {
        let views = makeViews(context)
        let openOnly = openOnlyQuery(request)
        let data = try await loadStatement(context: context, openOnly: openOnly)
        let computed = statementLines(data, today: views.today)
        let canPay = BillingFeatures.mayAny(BillingFeatures.pay, context)
        let canView = BillingFeatures.mayAny(BillingFeatures.view, context)
        let earliest = context.tenant.windows.statementEarliestDay(now: services.now)
        func exportHref(_ format: String) -> String {
            openOnly ? Routes.statementExport.path(query: ["format": format, "open": "1"]) : Routes.statementExport.path(query: ["format": format])
        }
        return StatementPage(
            entries: computed.lines.map { line in
                let entry = line.entry
                var row = StatementPage.Entry(
                    bookedOn: Formatting.day(entry.bookedOn), dueOn: Formatting.day(entry.dueOn), description: entry.description,
                    debit: entry.amountCents > 0 ? views.money(entry.amountCents) : "",
                    credit: entry.amountCents < 0 ? views.money(-entry.amountCents) : "",
                    balance: views.money(line.balance), open: entry.isOpen, overdue: line.overdue,
                    stateLabel: statementStateLabel(line, views: views),
                    simulatedLabel: entry.simulated == true ? views.text("invoices.simulated.payment") : nil)
                // Only invoices the customer can still open are linked (never a 404 from the statement).
                if let invoiceId = entry.invoiceId, data.linkable.contains(invoiceId) {
                    if canView { row.invoiceHref = Routes.invoice.path(invoiceId) }
                    if canPay && entry.isOpen && entry.amountCents > 0 { row.payHref = Routes.invoicePay.path(invoiceId) }
                }
                return row
            },
            hasEntries: !computed.lines.isEmpty, openOnly: openOnly, showBalance: !openOnly,
            totalDue: views.money(computed.due), hasDue: computed.due > 0,
            overdueDue: views.money(computed.overdue), hasOverdue: computed.overdue > 0,
            balance: views.money(computed.balance),
            printHref: openOnly ? Routes.statementPrint.path(query: ["open": "1"]) : Routes.statementPrint.path(),
            exportCsvHref: exportHref("csv"), exportXlsxHref: exportHref("xlsx"),
            broughtForward: earliest != nil && !openOnly ? views.money(data.broughtForward) : nil,
            windowNote: earliest.map { views.text(openOnly ? "invoices.statement.window_note_open" : "invoices.statement.window_note",
                                                  ["date": Formatting.day($0.description)]) })
    }

    private func statementPage(_ request: Request, context: UserContext) async throws -> Response {
        try context.require(page: Self.statement)
        let views = makeViews(context)
        let model = try await statementModel(request, context: context)
        return Pages.render("statement", model, title: views.text("invoices.statement.title"), context: context)
    }

    /// The statement as a page to print (no navigation), same window and rows as the page.
    private func statementPrint(_ request: Request, context: UserContext) async throws -> Response {
        try context.require(page: Self.statement)
        let views = makeViews(context)
        let model = try await statementModel(request, context: context)
        return Pages.renderDocument("statement_print", printedCopy(model, context: context, address: false),
                                    title: views.text("invoices.statement.title"), context: context)
    }

    /// The statement as CSV or Excel (`?format=csv|xlsx`, `?open=1` for the open items), through the
    /// portal's one spreadsheet download helper.
    private func statementExport(_ request: Request, context: UserContext) async throws -> Response {
        try context.require(page: Self.statement)
        let views = makeViews(context)
        let format = request.uri.queryParameters["format"].map(String.init) ?? "csv"
        guard ["csv", "xlsx"].contains(format) else {
            throw PortalError.invalid([FieldProblem(field: "format", code: "invalid", message: views.localized("invoices.statement.error.format"))])
        }
        let openOnly = openOnlyQuery(request)
        let data = try await loadStatement(context: context, openOnly: openOnly)
        let computed = statementLines(data, today: views.today)
        let header = ["booked_on", "description", "due_on", "debit", "credit", "balance", "state", "invoice", "simulated"]
            .map { views.text("invoices.statement.export.\($0)") }
        var rows: [[SpreadsheetCell]] = []
        if !openOnly, context.tenant.windows.statementEarliestDay(now: services.now) != nil {
            rows.append([.text(""), .text(views.text("invoices.statement.brought_forward")), .text(""), .text(""), .text(""),
                         .number(Double(data.broughtForward) / 100, decimals: 2), .text(""), .text(""), .text("")])
        }
        func euros(_ cents: Int64) -> SpreadsheetCell { .number(Double(cents) / 100, decimals: 2) }
        for line in computed.lines.reversed() {
            let entry = line.entry
            let debit: SpreadsheetCell = entry.amountCents > 0 ? euros(entry.amountCents) : .text("")
            let credit: SpreadsheetCell = entry.amountCents < 0 ? euros(-entry.amountCents) : .text("")
            let invoice: String = entry.invoiceId.flatMap { data.linkable.contains($0) ? String($0) : nil } ?? ""
            let simulated: String = entry.simulated == true ? views.text("invoices.simulated.payment") : ""
            var row: [SpreadsheetCell] = [.text(entry.bookedOn), .text(entry.description), .text(entry.dueOn ?? ""), debit, credit]
            row.append(euros(line.balance))
            row.append(.text(statementStateLabel(line, views: views)))
            row.append(.text(invoice))
            row.append(.text(simulated))
            rows.append(row)
        }
        let table = SpreadsheetTable(sheetName: views.text("invoices.statement.export.sheet"), header: header, rows: rows)
        return UsageController.download(table, format: format, name: "estratto-conto-\(views.today)", locale: context.locale)
    }

    // MARK: API

    struct InvoiceList: Encodable {
        var items: [BillingViews.Invoice]
        var visibleFrom: String?
        var openCount: Int
        var overdueCount: Int
        var totalDue: API.Money
        var overdueDue: API.Money
        var years: [Int]
    }

    private func apiList(_ request: Request, context: UserContext) async throws -> Response {
        try context.require(page: Self.invoices)
        let views = makeViews(context)
        let (filter, problems) = InvoiceFilter.read({ request.uri.queryParameters[Substring($0)].map(String.init) }, text: { views.localized($0) })
        guard problems.isEmpty else { throw PortalError.invalid(problems) }
        let overview = try await overview(context: context, filter: filter, payableOnly: !BillingFeatures.mayAny(BillingFeatures.view, context))
        let earliest = context.tenant.windows.earliestDay(for: .invoices, now: services.now)
        return API.json(InvoiceList(items: overview.shown.map { views.invoice($0) }, visibleFrom: earliest?.description,
                                    openCount: overview.openCount, overdueCount: overview.overdueCount,
                                    totalDue: .init(overview.totalDue), overdueDue: .init(overview.overdueDue), years: overview.years))
    }

    struct PersonalInvoiceList: Encodable {
        var items: [BillingViews.Invoice]
        var visibleFrom: String?
    }

    private func apiPersonal(context: UserContext) async throws -> Response {
        try context.require(BillingFeatures.personal)
        let views = makeViews(context)
        let earliest = context.tenant.windows.earliestDay(for: .invoices, now: services.now)
        return API.json(PersonalInvoiceList(items: try await personalInvoices(context: context).map { views.invoice($0) },
                                            visibleFrom: earliest?.description))
    }

    struct InvoiceDetailBody: Encodable {
        struct Document: Encodable { var id: Int64; var fileName: String; var contentType: String; var href: String }
        struct Contract: Encodable { var id: Int64; var code: String; var offer: String }
        var invoice: BillingViews.Invoice
        var amountDue: API.Money
        var payments: [BillingViews.Payment]
        var documents: [Document]
        var contract: Contract?
    }

    private func apiDetail(context: UserContext) async throws -> Response {
        try BillingFeatures.requireAny(BillingFeatures.view, context)
        let data = try await loadDetail(context: context)
        let views = makeViews(context)
        let canDownload = BillingFeatures.mayAny(BillingFeatures.download(in: context.tenant.definition), context)
        let id = data.invoice.id ?? 0
        return API.json(InvoiceDetailBody(
            invoice: views.invoice(data.invoice), amountDue: .init(amountDue(data)), payments: data.payments.map { views.payment($0) },
            documents: canDownload ? data.documents.map {
                .init(id: $0.id, fileName: $0.fileName, contentType: $0.contentType, href: Routes.invoiceDocument.api.path(id, $0.id))
            } : [],
            contract: data.contract.map { .init(id: $0.id ?? 0, code: $0.code, offer: $0.offer) }))
    }

    struct PaymentRequest: Decodable {
        var cardHolder: String?
        var cardNumber: String?
        var cardExpiry: String?
        var cardCvv: String?
    }

    struct PaymentResult: Encodable {
        var outcome: String
        var invoice: BillingViews.Invoice
        var payment: BillingViews.Payment?
        /// Always true until a real payment service is connected: the card form is a demo and charges nothing.
        var simulated: Bool = true
        var simulatedLabel: String
    }

    private func apiPay(_ request: Request, context: UserContext) async throws -> Response {
        try BillingFeatures.requireAny(BillingFeatures.pay, context)
        let body = try await API.decode(PaymentRequest.self, from: request, context: context)
        let id = try invoiceId(context)
        let invoice = try await loadInvoice(id, context: context)
        let views = makeViews(context)
        if invoice.status == .paid { return try await alreadyPaid(id, context: context) }
        let card = CardDetails(holder: body.cardHolder ?? "", number: body.cardNumber ?? "", expiry: body.cardExpiry ?? "", cvv: body.cardCvv ?? "")
        switch try await attemptPayment(invoiceId: id, card: card, context: context) {
        case .rejected(let problems):
            throw PortalError.invalid(problems)
        case .done(.paid(let payment)):
            let updated = try await loadInvoice(id, context: context)
            return API.json(PaymentResult(outcome: "paid", invoice: views.invoice(updated), payment: views.payment(payment),
                                          simulatedLabel: views.text("invoices.simulated.payment")), status: .created)
        case .done(.alreadyPaid):
            return try await alreadyPaid(id, context: context)
        }
    }

    private func alreadyPaid(_ id: Int64, context: UserContext) async throws -> Response {
        let views = makeViews(context)
        let data = try await loadDetail(context: context)
        _ = id
        return API.json(PaymentResult(outcome: "already_paid", invoice: views.invoice(data.invoice), payment: data.payments.first.map { views.payment($0) },
                                      simulated: data.invoice.simulated == true,
                                      simulatedLabel: views.text(data.invoice.simulated == true ? "invoices.simulated.payment" : "invoices.simulated.none")))
    }

    struct StatementBody: Encodable {
        struct Entry: Encodable {
            var id: Int64
            var bookedOn: String
            var dueOn: String?
            var description: String
            var debit: API.Money?
            var credit: API.Money?
            var balance: API.Money
            var open: Bool
            var overdue: Bool
            /// Only an invoice the customer can still open (inside the invoices' window).
            var invoiceId: Int64?
            /// True for the credit of a simulated (demo) payment: nothing was charged.
            var simulated: Bool
            var simulatedLabel: String?
        }
        var entries: [Entry]
        var totalDue: API.Money
        var overdueDue: API.Money
        var balance: API.Money
        var balanceBroughtForward: API.Money
        var visibleFrom: String?
        var openOnly: Bool
    }

    private func apiStatement(_ request: Request, context: UserContext) async throws -> Response {
        try context.require(page: Self.statement)
        let raw = request.uri.queryParameters["open"].map(String.init) ?? ""
        guard ["", "0", "1", "true", "false"].contains(raw) else {
            throw PortalError.invalid([FieldProblem(field: "open", code: "invalid", message: makeViews(context).localized("invoices.statement.error.open"))])
        }
        let openOnly = raw == "1" || raw == "true"
        let data = try await loadStatement(context: context, openOnly: openOnly)
        let computed = statementLines(data, today: CalendarDay(instant: services.now))
        let earliest = context.tenant.windows.statementEarliestDay(now: services.now)
        let views = makeViews(context)
        return API.json(StatementBody(
            entries: computed.lines.map { line in
                let entry = line.entry
                return .init(id: entry.id ?? 0, bookedOn: entry.bookedOn, dueOn: entry.dueOn, description: entry.description,
                             debit: entry.amountCents > 0 ? .init(entry.amountCents) : nil,
                             credit: entry.amountCents < 0 ? .init(-entry.amountCents) : nil,
                             balance: .init(line.balance), open: entry.isOpen, overdue: line.overdue,
                             invoiceId: entry.invoiceId.flatMap { data.linkable.contains($0) ? $0 : nil },
                             simulated: entry.simulated == true,
                             simulatedLabel: entry.simulated == true ? views.text("invoices.simulated.payment") : nil)
            },
            totalDue: .init(computed.due), overdueDue: .init(computed.overdue), balance: .init(computed.balance),
            balanceBroughtForward: .init(data.broughtForward), visibleFrom: earliest?.description, openOnly: openOnly))
    }
}

extension Optional {
    /// `map` with an async transform (for lookups that depend on an optional id).
    func asyncMapBilling<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        switch self {
        case .some(let value): try await transform(value)
        case .none: nil
        }
    }
}
