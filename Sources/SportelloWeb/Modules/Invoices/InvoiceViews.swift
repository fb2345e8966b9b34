import Foundation
import SportelloApplication
import SportelloCore
import SportelloStore

/// The billing features of the five tenants, by what they let a user do. The same capability has
/// different ids in different tenants; a page opens when the tenant defines one of them and the role grants it.
enum BillingFeatures {
    /// Seeing invoices: Unidata, Unogas, Tunda, WINDTRE and TIM `invoices.view`; TIM's detail and Dual
    /// Billing personal invoices; WINDTRE's download and call detail on the invoice.
    static let view = ["invoices.view", "invoices.detail", "invoices.download", "invoices.personal", "invoices.call_detail"]
    /// TIM's Dual Billing: the user's own personal invoices, listed apart from the company's.
    static let personal = "invoices.personal"
    /// Paying online: Unidata and TIM `invoices.pay`, Tunda `proforma.pay`.
    static let pay = ["invoices.pay", "proforma.pay"]
    /// The account statement: Unidata `statements.view`, Tunda `payments.view` (payment status).
    static let statement = ["statements.view", "payments.view"]
    /// Downloading and printing: WINDTRE has a feature of its own; elsewhere seeing an invoice includes
    /// printing and saving it ("visualizzare, stampare, salvare").
    static func download(in tenant: TenantDefinition) -> [String] {
        tenant.feature("invoices.download") != nil ? ["invoices.download"] : view
    }

    /// The features of `list` that the tenant defines.
    static func defined(_ list: [String], in context: UserContext) -> [String] {
        list.filter { context.tenant.definition.feature($0) != nil }
    }

    /// Whether the role grants any of `list` (features the tenant lacks are never granted).
    static func mayAny(_ list: [String], _ context: UserContext) -> Bool {
        list.contains { context.may($0) }
    }

    /// 404 when the tenant has none of `list`, 403 when the role grants none.
    static func requireAny(_ list: [String], _ context: UserContext) throws {
        let defined = defined(list, in: context)
        guard !defined.isEmpty else { throw PortalError.notFound }
        guard defined.contains(where: { context.may($0) }) else { throw PortalError.forbidden(feature: defined[0]) }
    }
}

/// How an invoice looks to the customer today.
enum InvoiceState: String, CaseIterable {
    case paid, unpaid, overdue, partiallyPaid = "partially_paid"

    init(_ invoice: InvoiceRecord, today: CalendarDay) {
        if invoice.status == .paid { self = .paid }
        else if invoice.dueOn < today.description { self = .overdue }
        else if invoice.status == .partiallyPaid { self = .partiallyPaid }
        else { self = .unpaid }
    }

    var isOpen: Bool { self != .paid }
}

/// The invoice list's filters (`?year=2026&status=open`).
struct InvoiceFilter {
    enum Status: String, CaseIterable { case all, open, overdue, paid }
    var year: Int?
    var status: Status = .all

    /// Reads the query; unknown values are problems (the page shows them, the API answers 422).
    static func read(_ query: (String) -> String?, text: (String) -> LocalizedText) -> (InvoiceFilter, [FieldProblem]) {
        var filter = InvoiceFilter()
        var problems: [FieldProblem] = []
        if let year = query("year"), !year.isEmpty {
            if let value = Int(year), (1900...9999).contains(value) { filter.year = value } else {
                problems.append(FieldProblem(field: "year", code: "invalid", message: text("invoices.filter.error.year")))
            }
        }
        if let status = query("status"), !status.isEmpty {
            if let value = Status(rawValue: status) { filter.status = value } else {
                problems.append(FieldProblem(field: "status", code: "invalid", message: text("invoices.filter.error.status")))
            }
        }
        return (filter, problems)
    }

    func matches(_ invoice: InvoiceRecord, today: CalendarDay) -> Bool {
        if let year, !invoice.issuedOn.hasPrefix(LocalTime.pad(year, 4) + "-") { return false }
        let state = InvoiceState(invoice, today: today)
        switch status {
        case .all: return true
        case .open: return state.isOpen
        case .overdue: return state == .overdue
        case .paid: return state == .paid
        }
    }
}

/// Template values and API bodies for billing records.
struct BillingViews {
    let context: UserContext
    let today: CalendarDay

    var locale: String { context.locale }
    var theme: PortalTheme { context.tenant.theme }

    func text(_ key: String, _ values: [String: String] = [:]) -> String { theme.text(key, locale: locale, values) }

    /// A UI string in every locale, for field problems (the API and the page resolve it).
    func localized(_ key: String, _ values: [String: String] = [:]) -> LocalizedText {
        var translations: [String: String] = [:]
        for code in context.tenant.definition.locales.available { translations[code] = theme.text(key, locale: code, values) }
        return LocalizedText(translations: translations)
    }

    func money(_ cents: Int64) -> String { Formatting.money(cents, locale: locale) }

    func period(_ invoice: InvoiceRecord) -> String {
        switch (invoice.periodFrom, invoice.periodTo) {
        case let (from?, to?): return text("invoices.period_range", ["from": Formatting.day(from), "to": Formatting.day(to)])
        case let (from?, nil): return Formatting.day(from)
        default: return ""
        }
    }

    /// An invoice as the list, detail, payment and print pages show it; empty texts are left out.
    struct InvoiceRow: Encodable {
        var id: String
        var number, issuedOn, issuedOnIso, dueOn, dueOnIso, period: String?
        var total, net, tax, state, stateLabel: String
        var overdue, open: Bool
        var paidOn: String?
        var canOpen, canPay, simulated: Bool
        var simulatedLabel: String?
    }

    func invoiceRow(_ invoice: InvoiceRecord, canOpen: Bool, canPay: Bool) -> InvoiceRow {
        let state = InvoiceState(invoice, today: today)
        return InvoiceRow(
            id: String(invoice.id ?? 0), number: invoice.number.nonEmpty, issuedOn: Formatting.day(invoice.issuedOn).nonEmpty,
            issuedOnIso: invoice.issuedOn.nonEmpty, dueOn: Formatting.day(invoice.dueOn).nonEmpty, dueOnIso: invoice.dueOn.nonEmpty,
            period: period(invoice).nonEmpty, total: money(invoice.totalCents), net: money(invoice.netCents), tax: money(invoice.taxCents),
            state: state.rawValue, stateLabel: stateLabel(invoice, state), overdue: state == .overdue, open: state.isOpen,
            paidOn: Formatting.day(invoice.paidOn).nonEmpty, canOpen: canOpen, canPay: canPay && state.isOpen,
            simulated: invoice.simulated == true, simulatedLabel: invoice.simulated == true ? text("invoices.simulated.invoice").nonEmpty : nil)
    }

    /// "Pagata" for a real payment; "Pagata (simulazione)" when only the demo card form marked it paid.
    func stateLabel(_ invoice: InvoiceRecord, _ state: InvoiceState) -> String {
        invoice.simulated == true && state == .paid ? text("invoices.status.paid_simulated") : text("invoices.status.\(state.rawValue)")
    }

    // MARK: API bodies

    struct Invoice: Encodable {
        var id: Int64
        var number: String
        var issuedOn: String
        var dueOn: String
        var periodFrom: String?
        var periodTo: String?
        var net: API.Money
        var tax: API.Money
        var total: API.Money
        /// `paid`, `unpaid`, `partially_paid` or `overdue` (unpaid past the due date).
        var status: String
        var overdue: Bool
        var paidOn: String?
        var contractId: Int64?
        /// True when the invoice was marked paid by the simulated (demo) card payment: nothing was charged.
        var simulated: Bool
        var simulatedLabel: String?
    }

    func invoice(_ record: InvoiceRecord) -> Invoice {
        let state = InvoiceState(record, today: today)
        return Invoice(id: record.id ?? 0, number: record.number, issuedOn: record.issuedOn, dueOn: record.dueOn,
                       periodFrom: record.periodFrom, periodTo: record.periodTo, net: .init(record.netCents), tax: .init(record.taxCents),
                       total: .init(record.totalCents), status: state.rawValue, overdue: state == .overdue, paidOn: record.paidOn,
                       contractId: record.contractId, simulated: record.simulated == true,
                       simulatedLabel: record.simulated == true ? text("invoices.simulated.invoice") : nil)
    }

    struct Payment: Encodable {
        var id: Int64
        var invoiceId: Int64?
        var paidOn: String
        var amount: API.Money
        var method: String
        var reference: String?
        /// True for a payment recorded by the simulated (demo) card form: no payment provider, nothing charged.
        var simulated: Bool
        var simulatedLabel: String?
    }

    func payment(_ record: PaymentRecord) -> Payment {
        Payment(id: record.id ?? 0, invoiceId: record.invoiceId, paidOn: record.paidOn, amount: .init(record.amountCents),
                method: record.method, reference: record.reference, simulated: record.simulated == true,
                simulatedLabel: record.simulated == true ? text("invoices.simulated.payment") : nil)
    }

    /// A payment as the invoice's page lists it.
    struct PaymentRow: Encodable {
        var paidOn, amount, method, reference: String
        var simulatedLabel: String?
    }

    func paymentRow(_ record: PaymentRecord) -> PaymentRow {
        PaymentRow(paidOn: Formatting.day(record.paidOn), amount: money(record.amountCents), method: methodLabel(record.method),
                   reference: record.reference ?? "", simulatedLabel: record.simulated == true ? text("invoices.simulated.payment") : nil)
    }

    /// An online payment (made through a payments plugin) as the API returns it.
    struct OnlinePayment: Encodable {
        var id: Int64
        var invoiceId: Int64?
        /// `created`, `pending`, `paid`, `failed`, `cancelled` or `refunded`.
        var status: String
        var statusLabel: String
        var amount: API.Money
        var method: String
        var methodLabel: String
        /// Made through a sandbox plugin: nothing real was charged.
        var sandbox: Bool
        var sandboxLabel: String?
        var createdAt: String
        var confirmedAt: String?
        /// The provider's page, while the payment waits for the customer there.
        var redirectUrl: String?
        var problem: String?
    }

    func onlinePayment(_ record: OnlinePaymentRecord) -> OnlinePayment {
        OnlinePayment(id: record.id ?? 0, invoiceId: record.invoiceId, status: record.status.rawValue, statusLabel: onlineStatusLabel(record),
                      amount: API.Money(record.amountCents), method: record.method, methodLabel: methodLabel(record.method),
                      sandbox: record.sandbox, sandboxLabel: record.sandbox ? text("payments.sandbox.badge") : nil,
                      createdAt: Self.iso(record.createdAt), confirmedAt: record.confirmedAt.map(Self.iso),
                      redirectUrl: record.status == .pending ? record.redirectUrl : nil, problem: record.problem?.rawValue)
    }

    static func iso(_ instant: Int64) -> String {
        LocalTime.isoUTC(instant)
    }

    /// "In attesa di conferma", "Pagato", "Importo non corrispondente"…: a problem says more than the status.
    func onlineStatusLabel(_ record: OnlinePaymentRecord) -> String {
        if let problem = record.problem, problem != .invoiceAlreadyPaid { return text("payments.problem.\(problem.rawValue)") }
        return text("payments.status.\(record.status.rawValue)")
    }

    /// An online payment as the invoice's page lists it.
    struct OnlinePaymentRow: Encodable {
        var href, createdAt, amount, method, status, statusLabel: String
        var sandboxLabel: String?
    }

    func onlinePaymentRow(_ record: OnlinePaymentRecord) -> OnlinePaymentRow {
        OnlinePaymentRow(href: Routes.onlinePayment.path(record.id ?? 0), createdAt: Formatting.dateTime(record.createdAt, locale: locale),
                         amount: Formatting.money(record.amountCents, locale: locale), method: methodLabel(record.method),
                         status: record.problem == .amountMismatch ? "failed" : record.status.rawValue, statusLabel: onlineStatusLabel(record),
                         sandboxLabel: record.sandbox ? text("payments.sandbox.badge") : nil)
    }

    func methodLabel(_ method: String) -> String {
        let key = "invoices.method.\(method)"
        let label = text(key)
        return label == key ? method : label
    }
}
