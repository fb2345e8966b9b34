import Foundation
import HTTPTypes
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// Online payments: the page the payment provider sends the customer back to (it only shows the payment's current
/// status: "being confirmed" until the provider's notification arrives), its API twin, and the endpoint where payments
/// plugins POST their signed notifications.
struct OnlinePaymentsController: ModuleController {
    let services: PortalServices

    func addRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.onlinePayment) { request, context in try await page(request, context: context) }
        group.get(Routes.onlinePayment.api) { _, context in try await apiStatus(context: context) }
    }

    /// The notification endpoint needs a tenant (the Host header) and no session: the signature is the credential.
    func addPublicRoutes(to group: RouterGroup<TenantContext>) {
        group.post(Routes.paymentNotifications) { request, context in try await notification(request, context: context) }
    }

    private func views(_ context: UserContext) -> BillingViews { BillingViews(context: context, today: CalendarDay(instant: services.now)) }

    /// The customer's payment (only theirs: another customer's, another tenant's or a missing one is a 404), with the
    /// invoice it pays or the line it recharges. A recharge's payment needs the feature it was made through (and, for a
    /// role scoped to its own line, that line); an invoice's, a payment feature.
    private func load(context: UserContext) async throws -> (OnlinePaymentRecord, InvoiceRecord?, LineRecord?) {
        let mayRecharge = context.tenant.definition.feature(Self.rechargeFeature) != nil && context.may(Self.rechargeFeature)
        if !mayRecharge { try BillingFeatures.requireAny(BillingFeatures.pay, context) }
        let id = try context.pathId()
        let customerId = context.customer.id ?? 0
        let found = try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction -> (OnlinePaymentRecord, InvoiceRecord?, LineRecord?)? in
            guard let payment = try await transaction.onlinePayment(id: id, customerId: customerId) else { return nil }
            let invoice = try await payment.invoiceId.asyncMapBilling {
                try await transaction.invoice(id: $0, customerId: customerId, windows: .unlimited)
            } ?? nil
            let line = try await payment.lineId.asyncMapBilling { try await transaction.line(id: $0, customerId: customerId) } ?? nil
            return (payment, invoice, line)
        }
        guard let found else { throw PortalError.notFound }
        if found.0.purpose == "recharge" {
            guard mayRecharge else { throw PortalError.forbidden(feature: Self.rechargeFeature) }
            if context.tenant.authorization.scope(context.session.principal, Self.rechargeFeature) == .ownLine,
               found.2?.assignedUserId == nil || found.2?.assignedUserId != context.user.id {
                throw PortalError.forbidden(feature: Self.rechargeFeature)
            }
        } else {
            try BillingFeatures.requireAny(BillingFeatures.pay, context)
        }
        return found
    }

    /// The feature a line's online recharge is made through (LinesController).
    static let rechargeFeature = "recharges.online"

    /// What the payment page says, by status.
    struct StatusPage: Encodable {
        var heading, status, statusLabel, message, amount, method: String
        var invoiceNumber: String?
        var sandbox: Bool
        /// The provider's page, while the customer still has to pay there.
        var providerHref, provider: String?
        /// Waiting for the provider's notification: the page's script asks `pollHref` for the status and reloads once it changes.
        var refreshes: Bool
        var refreshHref, pollHref, rawStatus: String
        var invoiceHref, retryHref: String?
        var reference: String?
        /// A recharge's payment: the line, the way back to the lines, the retry button's own words.
        var lineIdentifier, backHref, backLabel, retryLabel: String?
    }

    private func page(_ request: Request, context: UserContext) async throws -> Response {
        let (payment, invoice, line) = try await load(context: context)
        let views = views(context)
        if payment.purpose == "recharge" { return rechargePage(payment, line: line, returned: request.uri.queryParameters["return"] != nil, context: context) }
        let returned = request.uri.queryParameters["return"] != nil
        let provider = services.application.payments[payment.plugin]?.manifest.name
        let number = invoice?.number ?? ""
        var model = StatusPage(
            heading: views.text("payments.page.heading_\(payment.purpose == "proforma" ? "proforma" : "invoice")", ["number": number]),
            status: payment.problem == .amountMismatch ? "failed" : payment.status.rawValue, statusLabel: views.onlineStatusLabel(payment),
            message: "", amount: views.money(payment.amountCents), method: views.methodLabel(payment.method),
            invoiceNumber: invoice?.number, sandbox: payment.sandbox, provider: provider, refreshes: false,
            refreshHref: Routes.onlinePayment.path(payment.id ?? 0, query: ["return": "1"]),
            pollHref: Routes.onlinePayment.api.path(payment.id ?? 0), rawStatus: payment.status.rawValue,
            reference: payment.pspReference)
        if let id = invoice?.id, BillingFeatures.mayAny(BillingFeatures.view, context) { model.invoiceHref = Routes.invoice.path(id) }
        let canRetry = invoice.map { $0.status != .paid } ?? false
        let retry = invoice?.id.map { Routes.invoicePay.path($0) }
        switch payment.status {
        case .created, .pending:
            Self.describeOpen(payment, returned: returned, provider: provider, views: views, into: &model)
        case .paid:
            model.message = views.text(payment.sandbox ? "payments.page.paid_sandbox" : "payments.page.paid")
            if payment.problem == .invoiceAlreadyPaid { model.message += " " + views.text("payments.page.paid_twice") }
        case .failed:
            switch payment.problem {
            case .amountMismatch?: model.message = views.text("payments.page.mismatch")
            case .providerUnreachable?: model.message = views.text("payments.error.unreachable"); if canRetry { model.retryHref = retry }
            default: model.message = views.text("payments.page.failed"); if canRetry { model.retryHref = retry }
            }
        case .cancelled:
            model.message = views.text("payments.page.cancelled")
            if canRetry { model.retryHref = retry }
        case .refunded:
            model.message = views.text("payments.page.refunded")
        }
        return Pages.render("payment", model, title: model.heading, context: context)
    }

    /// An open payment's message: the way to the provider's page, or (back from it, or not yet created there) that its
    /// answer is awaited, with the page refreshing itself.
    private static func describeOpen(_ payment: OnlinePaymentRecord, returned: Bool, provider: String?, views: BillingViews,
                                     into model: inout StatusPage) {
        if payment.status == .pending, !returned, let href = payment.redirectUrl {
            model.providerHref = href
            model.message = views.text("payments.page.go_to_provider", ["provider": provider ?? payment.plugin])
        } else {
            model.message = views.text("payments.page.confirming")
            model.refreshes = true
            model.providerHref = payment.redirectUrl
        }
    }

    /// The page of a recharge's payment: as an invoice's, with the line, the recharge's own outcome and a way back to it.
    private func rechargePage(_ payment: OnlinePaymentRecord, line: LineRecord?, returned: Bool, context: UserContext) -> Response {
        let views = views(context)
        let provider = services.application.payments[payment.plugin]?.manifest.name
        let identifier = line?.identifier ?? ""
        var model = StatusPage(
            heading: views.text("payments.page.heading_recharge", ["number": identifier]),
            status: payment.problem == .amountMismatch ? "failed" : payment.status.rawValue, statusLabel: views.onlineStatusLabel(payment),
            message: "", amount: views.money(payment.amountCents), method: views.text("lines.recharge.method.\(payment.method)"),
            invoiceNumber: nil, sandbox: payment.sandbox, provider: provider, refreshes: false,
            refreshHref: Routes.onlinePayment.path(payment.id ?? 0, query: ["return": "1"]),
            pollHref: Routes.onlinePayment.api.path(payment.id ?? 0), rawStatus: payment.status.rawValue,
            reference: payment.pspReference)
        model.lineIdentifier = line?.identifier
        model.backHref = Routes.lines.path()
        model.backLabel = views.text("payments.page.back_to_lines")
        let retry = line.flatMap { $0.status == .active ? $0.id : nil }.map { Routes.lineRecharge.path($0) }
        switch payment.status {
        case .created, .pending:
            Self.describeOpen(payment, returned: returned, provider: provider, views: views, into: &model)
        case .paid:
            model.message = views.text(payment.sandbox ? "payments.page.recharge_paid_sandbox" : "payments.page.recharge_paid")
        case .failed:
            switch payment.problem {
            case .amountMismatch?: model.message = views.text("payments.page.recharge_mismatch")
            case .providerUnreachable?: model.message = views.text("payments.error.unreachable"); model.retryHref = retry
            default: model.message = views.text("payments.page.recharge_failed"); model.retryHref = retry
            }
        case .cancelled:
            model.message = views.text("payments.page.recharge_cancelled")
            model.retryHref = retry
        case .refunded:
            model.message = views.text("payments.page.refunded")
        }
        if model.retryHref != nil { model.retryLabel = views.text("payments.page.retry_recharge") }
        return Pages.render("payment", model, title: model.heading, context: context)
    }

    private func apiStatus(context: UserContext) async throws -> Response {
        let (payment, _, _) = try await load(context: context)
        return API.json(views(context).onlinePayment(payment))
    }

    /// `POST /payments/notify/<plugin>`: 200 once recorded (also for a repeat), 401 for a bad or stale signature,
    /// 404 when the tenant does not use the plugin or the payment is unknown, 400 for a body that is not a notification.
    /// Any other answer (the database down) makes the provider try again later.
    private func notification(_ request: Request, context: TenantContext) async throws -> Response {
        guard let plugin = context.parameters.get("plugin") else { throw PortalError.notFound }
        let buffer = try await request.body.collect(upTo: 64 * 1024)
        let body = Array(buffer.readableBytesView)
        struct Answer: Encodable { var status: String }
        do {
            let outcome = try await ApplyPaymentNotification(services: services.application)(
                tenant: context.tenant.served, plugin: plugin, timestamp: request.headers[HTTPField.Name(PluginSignature.timestampHeader)!],
                signature: request.headers[HTTPField.Name(PluginSignature.signatureHeader)!], body: body)
            switch outcome {
            case .duplicate: return API.json(Answer(status: "duplicate"))
            case .recorded(let result, _): return API.json(Answer(status: result.rawValue))
            }
        } catch let refusal as UseCaseRefusal {
            let status: HTTPResponse.Status = switch refusal.code {
            case "unauthorized": .unauthorized
            case "invalid": .badRequest
            default: .notFound
            }
            return API.json(APIErrorBody(error: .init(code: refusal.code, message: refusal.message)), status: status)
        }
    }
}
