import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// The invoices pages and their `/api/v1` operations: the list inside the tenant's window, the
/// detail, a print view, document downloads, paying online and the account statement.
struct InvoicesController: ModuleController {
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
        APIOperation("POST", Routes.invoicePayments, summary: "Starts paying the invoice through the payments plugin bound to the feature: the payment is created at the provider and the customer must complete it on `redirect_url` (the provider's page). The invoice is marked paid only when the provider's signed notification arrives (follow it on GET /payments/{id}). 200 with outcome already_paid when nothing is due; 503 when online payment is not available or the provider does not answer (nothing is charged)",
                     feature: "invoices.pay", parameters: [.init("id", in: "path", description: "Invoice id", schema: .integer)],
                     requestBody: "PaymentRequest", success: (201, "PaymentResult"))
            .withOtherSuccess([200])
            .withError(503, "Online payment is not available here (`unavailable`) or the payment provider did not answer (`provider_unreachable`): nothing was charged"),
        APIOperation("POST", Routes.invoicePayments, summary: "Starts paying the pro-forma through the payments plugin bound to the feature (Tunda: PayPal), as for invoices: paid only when the provider's signed notification arrives; 503 when online payment is not available or the provider does not answer",
                     feature: "proforma.pay", parameters: [.init("id", in: "path", description: "Invoice id", schema: .integer)],
                     requestBody: "PaymentRequest", success: (201, "PaymentResult"))
            .withOtherSuccess([200])
            .withError(503, "Online payment is not available here (`unavailable`) or the payment provider did not answer (`provider_unreachable`): nothing was charged"),
        APIOperation("GET", Routes.onlinePayment, summary: "An online payment of the customer: its status (created, pending, paid, failed, cancelled, refunded), amount, method and whether it went through a sandbox",
                     feature: "invoices.pay", parameters: [.init("id", in: "path", description: "Online payment id", schema: .integer)],
                     success: (200, "OnlinePayment")),
        APIOperation("GET", Routes.onlinePayment, summary: "An online payment of the customer (pro-forma): its status, amount, method and whether it went through a sandbox",
                     feature: "proforma.pay", parameters: [.init("id", in: "path", description: "Online payment id", schema: .integer)],
                     success: (200, "OnlinePayment")),
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
        "OnlinePayment": .object([
            "id": .integer, "invoice_id": .nullable(.integer), "status": .enumeration(OnlinePaymentStatus.allCases.map(\.rawValue)),
            "status_label": .string(), "amount": .reference("Money"), "method": .string(), "method_label": .string(),
            "sandbox": .boolean, "sandbox_label": .nullable(.string()), "created_at": .string(format: "date-time"),
            "confirmed_at": .nullable(.string(format: "date-time")), "redirect_url": .nullable(.string(description: "The provider's page, while the payment waits for the customer")),
            "problem": .nullable(.enumeration(OnlinePaymentProblem.allCases.map(\.rawValue))),
        ], required: ["id", "status", "status_label", "amount", "method", "method_label", "sandbox", "created_at"]),
        "InvoiceDetail": .object([
            "invoice": .reference("Invoice"), "amount_due": .reference("Money"), "payments": .array(.reference("Payment")),
            "online_payments": .array(.reference("OnlinePayment")),
            "documents": .array(.reference("InvoiceDocument")),
            "contract": .nullable(.object(["id": .integer, "code": .string(), "offer": .string()], required: ["id", "code", "offer"])),
        ], required: ["invoice", "amount_due", "payments", "online_payments", "documents"]),
        "PaymentRequest": .object([
            "method": .enumeration(PaymentMethod.allCases.map(\.rawValue)),
        ], required: []),
        "PaymentResult": .object([
            "outcome": .enumeration(["started", "already_paid"]), "invoice": .reference("Invoice"), "payment": .nullable(.reference("OnlinePayment")),
            "redirect_url": .nullable(.string(description: "The provider's page where the customer completes the payment")),
        ], required: ["outcome", "invoice"]),
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
        return try await PageData.read("invoices.personal|\(customerId)|\(holder)", tables: [.invoices], context: context, services: services) {
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
        let all = try await PageData.read("invoices|\(customerId)", tables: [.invoices], context: context, services: services) {
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
        /// Payments made (or tried) through a payments plugin, newest first.
        var onlinePayments: [OnlinePaymentRecord]
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
                              documents: try await transaction.invoiceDocumentSummaries(invoiceId: id),
                              onlinePayments: try await transaction.onlinePayments(invoiceId: id, customerId: customerId))
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
            var onlinePayments: [BillingViews.OnlinePaymentRow]
            var hasOnlinePayments: Bool
            var documents: [Document]
            var hasDocuments, canPrint: Bool
            var contract: Contract?
            var heading: String
            var callDetailHref, callDetailNote, notice: String?
        }
        /// The payment page: the methods of the bound payments plugin, or why online payment is not available.
        struct PaymentForm: Encodable {
            struct Method: Encodable { var value, label: String; var checked: Bool }
            struct OpenPayment: Encodable { var href, label: String }
            var canView: Bool
            var action, payHeading: String
            var available, sandbox: Bool
            var provider: String?
            var methods: [Method]
            var failure: String?
            var openPayments: [OpenPayment]
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
            onlinePayments: data.onlinePayments.map { views.onlinePaymentRow($0) }, hasOnlinePayments: !data.onlinePayments.isEmpty,
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

    /// How this user pays here: the plugin bound to their payment feature and its methods, or why online payment is not available.
    private func offer(_ context: UserContext) -> PaymentOffer? {
        services.application.payments.offer(tenant: context.tenant.served, acting: context.acting)
    }

    private func payPage(_ data: DetailData, context: UserContext, selected: String?, problems: [FieldProblem], failure: String? = nil,
                         status: HTTPResponse.Status = .ok) -> Response {
        let views = makeViews(context)
        var page = invoicePage(data, context: context)
        let offer = offer(context)
        let methods = offer?.methods ?? []
        let heading = views.text(offer?.purpose == "proforma" ? "payments.form.heading_proforma" : "invoices.pay.heading", ["number": data.invoice.number])
        let chosen = selected.flatMap(PaymentMethod.init(rawValue:)) ?? methods.first
        page.payment = .init(
            canView: BillingFeatures.mayAny(BillingFeatures.view, context), action: Routes.invoicePay.path(data.invoice.id ?? 0),
            payHeading: heading,
            available: offer?.isAvailable == true, sandbox: offer?.gateway?.isSandbox == true,
            provider: offer?.gateway?.manifest.name,
            methods: methods.map { .init(value: $0.rawValue, label: views.methodLabel($0.rawValue), checked: $0 == chosen) },
            failure: failure,
            openPayments: data.onlinePayments.filter { $0.status == .pending && $0.redirectUrl != nil }.prefix(1).map { payment in
                .init(href: Routes.onlinePayment.path(payment.id ?? 0), label: views.text("payments.continue_open",
                      ["method": views.methodLabel(payment.method), "amount": views.money(payment.amountCents)]))
            })
        return Pages.render("invoice_pay", page, errors: problems, title: heading, context: context, status: status)
    }

    private func payPage(context: UserContext) async throws -> Response {
        try BillingFeatures.requireAny(BillingFeatures.pay, context)
        let data = try await loadDetail(context: context)
        if data.invoice.status == .paid { return Pages.redirect(afterPayment(data.invoice, notice: "already_paid", context: context)) }
        // Not available here: the page says so (a 200: the page itself works), and offers no form.
        return payPage(data, context: context, selected: nil, problems: [])
    }

    private func afterPayment(_ invoice: InvoiceRecord, notice: String, context: UserContext) -> String {
        BillingFeatures.mayAny(BillingFeatures.view, context)
            ? Routes.invoice.path(invoice.id ?? 0, query: ["notice": notice]) : Routes.invoices.path(query: ["notice": notice])
    }

    /// The portal's address for this tenant with `path` (the provider calls and redirects to absolute URLs).
    private func absolute(_ path: String, context: UserContext) -> String {
        services.baseURL(for: context.tenant) + path
    }

    private enum PaymentStart {
        case started(OnlinePaymentRecord)
        case alreadyPaid
        case rejected([FieldProblem])
        /// Not available here, or the provider did not answer: the message to show (nothing was charged).
        case failed(code: String, message: String)
    }

    /// Starts a payment through the `StartOnlinePayment` use case; its refusals come back as what the page or the API shows.
    private func startPayment(invoiceId: Int64, method: String?, context: UserContext) async throws -> PaymentStart {
        do {
            let payment = try await StartOnlinePayment(services: services.application)(
                tenant: context.tenant.served, acting: context.acting, invoiceId: invoiceId, method: method, locale: context.locale,
                returnURL: { [base = services.baseURL(for: context.tenant)] id in base + Routes.onlinePayment.path(id, query: ["return": "1"]) },
                notifyURL: absolute(Routes.paymentNotifications.path(offer(context)?.plugin ?? "none"), context: context))
            return .started(payment)
        } catch let refusal as UseCaseRefusal {
            let views = makeViews(context)
            switch refusal.code {
            case "invalid": return .rejected(refusal.problems)
            case "already_paid": return .alreadyPaid
            case "unavailable": return .failed(code: "unavailable", message: views.text("payments.unavailable"))
            case "provider_unreachable": return .failed(code: "provider_unreachable", message: views.text("payments.error.unreachable"))
            case "forbidden": throw PortalError.forbidden(feature: BillingFeatures.defined(BillingFeatures.pay, in: context).first ?? "invoices.pay")
            default: throw PortalError.notFound
            }
        }
    }

    /// Starts the payment and leads to its page, which sends the customer on to the provider's.
    private func pay(_ request: Request, context: UserContext) async throws -> Response {
        try BillingFeatures.requireAny(BillingFeatures.pay, context)
        let form = try await SubmittedForm.read(request, context: context)
        let data = try await loadDetail(context: context)
        if data.invoice.status == .paid { return Pages.redirect(afterPayment(data.invoice, notice: "already_paid", context: context)) }
        switch try await startPayment(invoiceId: data.invoice.id ?? 0, method: form["method"], context: context) {
        case .started(let payment):
            return Pages.redirect(Routes.onlinePayment.path(payment.id ?? 0))
        case .alreadyPaid:
            return Pages.redirect(afterPayment(data.invoice, notice: "already_paid", context: context))
        case .rejected(let problems):
            return payPage(data, context: context, selected: form["method"], problems: problems, status: .unprocessableContent)
        case .failed(_, let message):
            let fresh = try await loadDetail(context: context)
            return payPage(fresh, context: context, selected: form["method"], problems: [], failure: message, status: .serviceUnavailable)
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
        return try await PageData.read("statement|\(customerId)|\(openOnly)", tables: [.statementEntries, .invoices], context: context,
                                       services: services) { transaction in
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
        /// Payments made (or tried) through a payments plugin, newest first.
        var onlinePayments: [BillingViews.OnlinePayment]
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
            onlinePayments: data.onlinePayments.map { views.onlinePayment($0) },
            documents: canDownload ? data.documents.map {
                .init(id: $0.id, fileName: $0.fileName, contentType: $0.contentType, href: Routes.invoiceDocument.api.path(id, $0.id))
            } : [],
            contract: data.contract.map { .init(id: $0.id ?? 0, code: $0.code, offer: $0.offer) }))
    }

    struct PaymentRequest: Decodable {
        var method: String?
    }

    struct PaymentResult: Encodable {
        /// `started`: the customer goes on to `redirect_url`; `already_paid`: nothing was started.
        var outcome: String
        var invoice: BillingViews.Invoice
        var payment: BillingViews.OnlinePayment?
        var redirectUrl: String?
    }

    private func apiPay(_ request: Request, context: UserContext) async throws -> Response {
        try BillingFeatures.requireAny(BillingFeatures.pay, context)
        let body = try await API.decode(PaymentRequest.self, from: request, context: context)
        let id = try invoiceId(context)
        let invoice = try await loadInvoice(id, context: context)
        let views = makeViews(context)
        if invoice.status == .paid { return API.json(PaymentResult(outcome: "already_paid", invoice: views.invoice(invoice))) }
        switch try await startPayment(invoiceId: id, method: body.method, context: context) {
        case .started(let payment):
            return API.json(PaymentResult(outcome: "started", invoice: views.invoice(invoice), payment: views.onlinePayment(payment),
                                          redirectUrl: payment.redirectUrl), status: .created)
        case .alreadyPaid:
            return API.json(PaymentResult(outcome: "already_paid", invoice: views.invoice(try await loadInvoice(id, context: context))))
        case .rejected(let problems):
            throw PortalError.invalid(problems)
        case .failed(let code, let message):
            return API.json(APIErrorBody(error: .init(code: code, message: message)), status: .serviceUnavailable)
        }
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
