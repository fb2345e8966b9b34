import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// Line self-service: prepaid credit, online recharge (by card through the payments plugin bound to `recharges.online`,
/// or charged on the bill), blocking a lost or stolen SIM and switching a line's options on and off. Each action needs its own feature, narrowed to the user's own line
/// where the role's scope says so (TIM's Amministratore Light and Utilizzatore).
struct LinesController: ModuleController {
    let services: PortalServices

    enum Feature {
        static let credit = "credit.view"
        static let recharge = "recharges.online"
        static let block = "sim.block"
        static let options = ["options.manage", "mobile_services.manage"]
    }

    static let lines = PortalPage(route: Routes.lines, titleKey: "lines.title",
                                  features: [Feature.credit, Feature.recharge, Feature.block] + Feature.options)
    static let pages: [PortalPage] = [lines]

    /// Amounts offered for an online recharge, in euro.
    static let rechargeAmounts: [Int64] = [5, 10, 15, 20, 25, 50, 100]

    static let apiOperations: [APIOperation] = [
        APIOperation("GET", Routes.lines, summary: "The lines the user may act on, with credit, options and permitted actions",
                     feature: Feature.recharge, otherFeatures: [Feature.credit, Feature.block] + Feature.options, success: (200, "LineList")),
        APIOperation("POST", Routes.lineBlock, summary: "Block (theft or loss) or unblock a SIM", feature: Feature.block,
                     parameters: [.init("id", in: "path", description: "Line id", schema: .integer)], requestBody: "LineBlockRequest",
                     success: (200, "LineState")),
        APIOperation("POST", Routes.lineRecharges, summary: "Recharge a prepaid line online with a method bound to the feature. `card`: the payment is created at the provider (payments plugin) and the customer completes it on `redirect_url`; the recharge is recorded only when the provider's signed notification confirms it (a refused or cancelled payment is listed among the recharge attempts). `bill`: charged on the next bill, the recharge is recorded at once. 503 when the method is not available here or the provider does not answer (nothing is charged)", feature: Feature.recharge,
                     parameters: [.init("id", in: "path", description: "Line id", schema: .integer)], requestBody: "RechargeRequest",
                     success: (201, "RechargeResult"))
            .withError(503, "Online payment is not available here (`unavailable`) or the payment provider did not answer (`provider_unreachable`): nothing was charged"),
        APIOperation("POST", Routes.lineService, summary: "Switch one of the line's options on or off",
                     feature: "options.manage", otherFeatures: ["mobile_services.manage"],
                     parameters: [.init("id", in: "path", description: "Line id", schema: .integer),
                                  .init("service_id", in: "path", description: "Service id", schema: .integer)],
                     requestBody: "ServiceSwitchRequest", success: (200, "LineState")),
    ]

    static let apiSchemas: [String: JSONSchema] = [
        "LineList": .object(["lines": .array(.reference("LineState"))], required: ["lines"]),
        "LineState": .object([
            "id": .integer, "identifier": .string(), "kind": .string(), "status": .string(),
            "credit": .nullable(.object(["cents": .integer, "currency": .string()])),
            "actions": .array(.enumeration(["block", "unblock", "recharge", "switch_options"])),
            "services": .array(.object(["id": .integer, "name": .string(), "status": .string(),
                                        "monthly_fee": .object(["cents": .integer, "currency": .string()])], required: ["id", "name", "status"])),
        ], required: ["id", "identifier", "kind", "status", "actions", "services"]),
        "LineBlockRequest": .object(["action": .enumeration(["block", "unblock"]),
                                     "reason": .nullable(.enumeration(["theft", "loss"]))], required: ["action"]),
        "RechargeRequest": .object(["amount_euro": .integer,
                                    "method": .string(description: "A method bound to the feature: card (the provider's page) or bill (charged on the next bill); absent, the first one available")],
                                   required: ["amount_euro"]),
        "RechargeResult": .object([
            "outcome": .enumeration(["payment_started", "recharged"]),
            "line": .reference("LineState"),
            "redirect_url": .nullable(.string(description: "The provider's page where the customer completes the card payment")),
            "payment": .nullable(.object([
                "id": .integer, "status": .string(), "amount": .object(["cents": .integer, "currency": .string()]), "method": .string(),
                "sandbox": .boolean, "status_href": .string(description: "GET it (the portal's page of the payment) for the status"),
            ], required: ["id", "status", "amount", "method", "sandbox"])),
            "recharge": .nullable(.object([
                "id": .integer, "amount": .object(["cents": .integer, "currency": .string()]), "channel": .string(), "status": .string(),
                "recharged_at": .integer,
            ], required: ["id", "amount", "channel", "status", "recharged_at"])),
        ], required: ["outcome", "line"]),
        "ServiceSwitchRequest": .object(["action": .enumeration(["activate", "deactivate"])], required: ["action"]),
    ]

    struct LineState: Encodable {
        struct Service: Encodable { var id: Int64; var name, status: String; var monthlyFee: API.Money }
        var id: Int64
        var identifier, kind, status: String
        var credit: API.Money?
        var actions: [String]
        var services: [Service]
    }

    struct LineList: Encodable { var lines: [LineState] }
    struct BlockRequest: Decodable { var action: String; var reason: String? }
    struct RechargeRequest: Decodable { var amountEuro: Int64?; var method: String? }

    struct RechargeResult: Encodable {
        struct Payment: Encodable {
            var id: Int64
            var status: String
            var amount: API.Money
            var method: String
            var sandbox: Bool
            var statusHref: String
        }
        struct Recharge: Encodable {
            var id: Int64
            var amount: API.Money
            var channel, status: String
            var rechargedAt: Int64
        }
        var outcome: String
        var line: LineState
        var redirectUrl: String?
        var payment: Payment?
        var recharge: Recharge?
    }
    struct SwitchRequest: Decodable { var action: String }

    func addRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.lines) { request, context in try await page(context: context, notice: request.uri.queryParameters["done"].map(String.init)) }
        group.post(Routes.lineBlock) { request, context in
            let form = try await SubmittedForm.read(request, context: context)
            let problems = try await block(lineId: try lineId(context), action: form["action"], reason: form.value("reason"), context: context)
            if !problems.isEmpty { return try await page(context: context, problems: problems) }
            return Pages.redirect(Routes.lines.done(form["action"] == "unblock" ? "unblocked" : "blocked"))
        }
        group.get(Routes.lineRecharge) { _, context in try await rechargePage(lineId: try lineId(context), context: context, form: nil, problems: []) }
        group.post(Routes.lineRecharge) { request, context in
            let form = try await SubmittedForm.read(request, context: context)
            let id = try lineId(context)
            switch try await recharge(lineId: id, amountEuro: Int64(form["amount_euro"]), method: form.value("method"), context: context) {
            case .rejected(let problems):
                return try await rechargePage(lineId: id, context: context, form: form, problems: problems, status: .unprocessableContent)
            case .failed(_, let message):
                return try await rechargePage(lineId: id, context: context, form: form, problems: [], failure: message, status: .serviceUnavailable)
            case .done(.recharged):
                return Pages.redirect(Routes.lines.done("recharged_bill"))
            case .done(.paymentStarted(let payment)):
                // The payment's page sends the customer on to the provider's, and shows the outcome when they come back.
                return Pages.redirect(Routes.onlinePayment.path(payment.id ?? 0))
            }
        }
        group.post(Routes.lineService) { request, context in
            let form = try await SubmittedForm.read(request, context: context)
            _ = try await switchService(lineId: try lineId(context), serviceId: try serviceId(context), action: form["action"], context: context)
            return Pages.redirect(Routes.lines.done(form["action"] == "activate" ? "activated" : "deactivated"))
        }

        group.get(Routes.lines.api) { _, context in API.json(LineList(lines: try await states(context: context))) }
        group.post(Routes.lineBlock.api) { request, context in
            let body = try await API.decode(BlockRequest.self, from: request, context: context)
            let id = try lineId(context)
            let problems = try await block(lineId: id, action: body.action, reason: body.reason, context: context)
            if !problems.isEmpty { throw PortalError.invalid(problems) }
            return API.json(try await state(of: id, context: context))
        }
        group.post(Routes.lineRecharges.api) { request, context in
            let body = try await API.decode(RechargeRequest.self, from: request, context: context)
            let id = try lineId(context)
            switch try await recharge(lineId: id, amountEuro: body.amountEuro, method: body.method, context: context) {
            case .rejected(let problems):
                throw PortalError.invalid(problems)
            case .failed(let code, let message):
                return API.json(APIErrorBody(error: .init(code: code, message: message)), status: .serviceUnavailable)
            case .done(let outcome):
                let line = try await state(of: id, context: context)
                switch outcome {
                case .recharged(let recharge):
                    return API.json(RechargeResult(outcome: "recharged", line: line, recharge: .init(
                        id: recharge.id ?? 0, amount: API.Money(recharge.amountCents), channel: recharge.channel, status: recharge.status.rawValue,
                        rechargedAt: recharge.rechargedAt)), status: .created)
                case .paymentStarted(let payment):
                    return API.json(RechargeResult(outcome: "payment_started", line: line, redirectUrl: payment.redirectUrl, payment: .init(
                        id: payment.id ?? 0, status: payment.status.rawValue, amount: API.Money(payment.amountCents), method: payment.method,
                        sandbox: payment.sandbox, statusHref: Routes.onlinePayment.path(payment.id ?? 0))), status: .created)
                }
            }
        }
        group.post(Routes.lineService.api) { request, context in
            let body = try await API.decode(SwitchRequest.self, from: request, context: context)
            let id = try lineId(context)
            _ = try await switchService(lineId: id, serviceId: try serviceId(context), action: body.action, context: context)
            return API.json(try await state(of: id, context: context))
        }
    }

    private func lineId(_ context: UserContext) throws -> Int64 { try context.pathId() }

    private func serviceId(_ context: UserContext) throws -> Int64 { try context.pathId("service_id") }

    // MARK: Permissions per line

    /// Whether the user may use `feature` on `line`: granted, and the line is theirs when the scope is their own line.
    private func may(_ feature: String, on line: LineRecord, context: UserContext) -> Bool {
        guard context.tenant.definition.feature(feature) != nil, context.may(feature) else { return false }
        if context.tenant.authorization.scope(context.session.principal, feature) == .ownLine {
            return line.assignedUserId != nil && line.assignedUserId == context.user.id
        }
        return true
    }

    private func actions(for line: LineRecord, context: UserContext) -> [String] {
        var actions: [String] = []
        if line.kind == "sim" && may(Feature.block, on: line, context: context) {
            actions.append(line.status == .suspended ? "unblock" : "block")
        }
        if line.kind == "sim" && line.status == .active && may(Feature.recharge, on: line, context: context) { actions.append("recharge") }
        if Feature.options.contains(where: { may($0, on: line, context: context) }) && line.status == .active { actions.append("switch_options") }
        return actions
    }

    private func visible(_ line: LineRecord, context: UserContext) -> Bool {
        Self.lines.features.contains { may($0, on: line, context: context) }
    }

    // MARK: Reading

    private func states(context: UserContext) async throws -> [LineState] {
        try context.require(page: Self.lines)
        let customerId = context.customer.id ?? 0
        // What the user may see of each line follows from their role and toggles, which are stored in `users`: a change
        // to them moves the data version on like any other write.
        let rows: [(LineRecord, [ServiceRecord], Int64?)] = try await PageData.read(
            "lines.states|\(context.user.id ?? 0)", tables: [.lines, .services, .recharges, .usageRecords, .users], context: context, services: services
        ) { transaction in
            var rows: [(LineRecord, [ServiceRecord], Int64?)] = []
            for line in try await transaction.lines(customerId: customerId) where visible(line, context: context) {
                var credit: Int64?
                if may(Feature.credit, on: line, context: context) {
                    let totals = try await transaction.prepaidCredit(lineId: line.id ?? 0, customerId: customerId)
                    if totals.recharged > 0 { credit = totals.recharged - totals.spent }
                }
                rows.append((line, try await transaction.services(lineId: line.id ?? 0), credit))
            }
            return rows
        }
        return rows.map { line, lineServices, credit in
            LineState(id: line.id ?? 0, identifier: line.identifier, kind: line.kind, status: line.status.rawValue, credit: credit.map { API.Money($0) },
                      actions: actions(for: line, context: context),
                      services: lineServices.map { .init(id: $0.id ?? 0, name: $0.name, status: $0.status.rawValue, monthlyFee: API.Money($0.monthlyFeeCents)) })
        }
    }

    private func state(of id: Int64, context: UserContext) async throws -> LineState {
        guard let state = try await states(context: context).first(where: { $0.id == id }) else { throw PortalError.notFound }
        return state
    }

    /// The line if it is the customer's and the user may use `feature` on it: 404 for another customer's
    /// line, 403 when the role (or its scope) does not allow it.
    private func ownedLine(_ id: Int64, for features: [String], context: UserContext, in transaction: TenantTransaction) async throws -> LineRecord {
        try context.require(page: Self.lines)
        guard let line = try await transaction.line(id: id, customerId: context.customer.id ?? 0) else { throw PortalError.notFound }
        guard features.contains(where: { may($0, on: line, context: context) }) else {
            throw PortalError.forbidden(feature: features.first { context.tenant.definition.feature($0) != nil } ?? features[0])
        }
        return line
    }

    private func text(_ key: String, context: UserContext) -> LocalizedText {
        var translations: [String: String] = [:]
        for locale in context.tenant.definition.locales.available { translations[locale] = context.tenant.theme.text(key, locale: locale) }
        return LocalizedText(translations: translations)
    }

    // MARK: Actions

    /// Blocks or unblocks a SIM; the problems with the request, empty when done.
    private func block(lineId: Int64, action: String, reason: String?, context: UserContext) async throws -> [FieldProblem] {
        guard action == "block" || action == "unblock" else {
            return [FieldProblem(field: "action", code: "invalid", message: text("lines.error.action", context: context))]
        }
        if action == "block", !["theft", "loss"].contains(reason ?? "") {
            // Check the permission before reporting the missing reason.
            _ = try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
                try await ownedLine(lineId, for: [Feature.block], context: context, in: transaction)
            }
            return [FieldProblem(field: "reason", code: "required", message: text("lines.error.reason", context: context))]
        }
        let userId = context.user.id
        try await services.database.write(tenant: context.tenant.id, now: services.now) { transaction in
            var line = try await ownedLine(lineId, for: [Feature.block], context: context, in: transaction)
            guard line.kind == "sim" else { throw PortalError.conflict(context.tenant.theme.text("lines.error.not_sim", locale: context.locale)) }
            let target: LineStatus = action == "block" ? .suspended : .active
            guard line.status != target else { return }
            line.status = target
            try await transaction.updateLine(line)
            try await transaction.audit(action == "block" ? "line.blocked" : "line.unblocked", actorUserId: userId, targetKind: "line",
                                        targetId: String(lineId), detail: reason)
        }
        return []
    }

    /// What a recharge request led to.
    enum RechargeAttempt {
        case done(RechargeLine.Outcome)
        /// Problems with the form (amount, method).
        case rejected([FieldProblem])
        /// Not available here, or the provider did not answer: the code and the message to show (nothing was charged).
        case failed(code: String, message: String)
    }

    /// How the tenant lets this line be recharged: the methods bound to `recharges.online` and the connected plugin.
    private func rechargeOffer(_ context: UserContext) -> PaymentOffer {
        services.application.payments.rechargeOffer(tenant: context.tenant.served, feature: Feature.recharge)
    }

    /// Recharges a line with a bound method: charged on the bill at once, or a payment started at the provider (the
    /// recharge is recorded when its signed notification arrives). No card data ever reaches the portal.
    private func recharge(lineId: Int64, amountEuro: Int64?, method: String?, context: UserContext) async throws -> RechargeAttempt {
        // Permission and ownership first: a forbidden line is 403/404 whatever the form says.
        let line = try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
            try await ownedLine(lineId, for: [Feature.recharge], context: context, in: transaction)
        }
        guard line.kind == "sim", line.status == .active else {
            throw PortalError.conflict(context.tenant.theme.text("lines.error.not_active", locale: context.locale))
        }
        guard let amount = amountEuro, Self.rechargeAmounts.contains(amount) else {
            return .rejected([FieldProblem(field: "amount_euro", code: "invalid", message: text("lines.error.amount", context: context))])
        }
        let offer = rechargeOffer(context)
        let base = services.baseURL(for: context.tenant)
        do {
            let outcome = try await RechargeLine(services: services.application)(
                tenant: context.tenant.served, acting: context.acting, feature: Feature.recharge, lineId: lineId, amountCents: amount * 100,
                method: method, locale: context.locale,
                returnURL: { id in base + Routes.onlinePayment.path(id, query: ["return": "1"]) },
                notifyURL: base + Routes.paymentNotifications.path(offer.plugin ?? "none"))
            return .done(outcome)
        } catch let refusal as UseCaseRefusal {
            let theme = context.tenant.theme
            switch refusal.code {
            case "invalid": return .rejected(refusal.problems)
            case "unavailable": return .failed(code: "unavailable", message: theme.text("payments.unavailable", locale: context.locale))
            case "provider_unreachable": return .failed(code: "provider_unreachable", message: theme.text("payments.error.unreachable", locale: context.locale))
            case "not_active": throw PortalError.conflict(theme.text("lines.error.not_active", locale: context.locale))
            case "forbidden": throw PortalError.forbidden(feature: Feature.recharge)
            default: throw PortalError.notFound
            }
        }
    }

    private func switchService(lineId: Int64, serviceId: Int64, action: String, context: UserContext) async throws -> Void {
        guard action == "activate" || action == "deactivate" else {
            throw PortalError.invalid([FieldProblem(field: "action", code: "invalid", message: text("lines.error.action", context: context))])
        }
        let userId = context.user.id
        try await services.database.write(tenant: context.tenant.id, now: services.now) { transaction in
            let line = try await ownedLine(lineId, for: Feature.options, context: context, in: transaction)
            guard var service = try await transaction.services(lineId: lineId).first(where: { $0.id == serviceId }) else { throw PortalError.notFound }
            guard line.status == .active else { throw PortalError.conflict(context.tenant.theme.text("lines.error.not_active", locale: context.locale)) }
            let target: ServiceStatus = action == "activate" ? .active : .inactive
            guard service.status != target else { return }
            service.status = target
            try await transaction.updateService(service)
            try await transaction.audit(action == "activate" ? "service.activated" : "service.deactivated", actorUserId: userId,
                                        targetKind: "service", targetId: String(serviceId), detail: "line \(lineId)")
        }
    }

    // MARK: Pages

    /// The lines page: each line with its credit, the actions the user may take and its options.
    struct PageModel: Encodable {
        struct Line: Encodable {
            struct Service: Encodable {
                var id, lineId: Int64
                var name, status: String
                var active: Bool
                var fee: String
            }
            var id: Int64
            var identifier, kind, status, statusClass, credit: String
            var canBlock, canUnblock, canRecharge, canSwitch: Bool
            var services: [Service]
            var hasServices: Bool
        }
        var lines: [Line]
        var hasLines: Bool
        var notice: String?
    }

    private func page(context: UserContext, notice: String? = nil, problems: [FieldProblem] = []) async throws -> Response {
        let theme = context.tenant.theme
        let locale = context.locale
        let states = try await states(context: context)
        func label(_ prefix: String, _ value: String) -> String {
            let text = theme.text("\(prefix).\(value)", locale: locale)
            return text == "\(prefix).\(value)" ? value : text
        }
        var model = PageModel(
            lines: states.map { line in
                PageModel.Line(
                    id: line.id, identifier: line.identifier, kind: label("contracts.kind", line.kind),
                    status: label("contracts.status", line.status), statusClass: line.status,
                    credit: line.credit.map { Formatting.money($0.cents, locale: locale) } ?? "",
                    canBlock: line.actions.contains("block"), canUnblock: line.actions.contains("unblock"),
                    canRecharge: line.actions.contains("recharge"), canSwitch: line.actions.contains("switch_options"),
                    services: line.services.map { service in
                        .init(id: service.id, lineId: line.id, name: service.name, status: label("contracts.status", service.status),
                              active: service.status == ServiceStatus.active.rawValue, fee: Formatting.money(service.monthlyFee.cents, locale: locale))
                    },
                    hasServices: !line.services.isEmpty)
            },
            hasLines: !states.isEmpty)
        if let notice, ["blocked", "unblocked", "recharged_bill", "activated", "deactivated"].contains(notice) {
            model.notice = theme.text("lines.done.\(notice)", locale: locale)
        }
        return Pages.render("lines", model, errors: problems, title: theme.text("lines.title", locale: locale), context: context,
                            status: problems.isEmpty ? .ok : .unprocessableContent)
    }

    /// The recharge form of one line: the amounts offered and the methods the tenant binds (the card only when the
    /// payments plugin is connected; no card field: the provider's page takes the card).
    struct RechargePage: Encodable {
        struct Amount: Encodable {
            var value: Int64
            var label: String
            var selected: Bool
        }
        struct Method: Encodable {
            var value, label: String
            var hint: String?
            var checked: Bool
        }
        var lineId: Int64
        var identifier: String
        var amounts: [Amount]
        var methods: [Method]
        /// Some bound method can be used now.
        var available: Bool
        /// The card is bound but its plugin is not connected here.
        var cardUnavailable: Bool
        var sandbox: Bool
        var provider: String?
        var failure: String?
        var errors: [String: String]
        var hasErrors: Bool
    }

    private func rechargePage(lineId: Int64, context: UserContext, form: SubmittedForm?, problems: [FieldProblem], failure: String? = nil,
                              status: HTTPResponse.Status = .ok) async throws -> Response {
        let line = try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
            try await ownedLine(lineId, for: [Feature.recharge], context: context, in: transaction)
        }
        let locale = context.locale
        let theme = context.tenant.theme
        let chosen = Int64(form?["amount_euro"] ?? "") ?? 10
        let offer = rechargeOffer(context)
        let usable = offer.methods.filter(offer.isUsable)
        let selected = form.flatMap { PaymentMethod(rawValue: $0["method"]) }.flatMap { usable.contains($0) ? $0 : nil } ?? usable.first
        func label(_ method: PaymentMethod) -> String {
            let key = "lines.recharge.method.\(method.rawValue)"
            let text = theme.text(key, locale: locale)
            return text == key ? method.rawValue : text
        }
        let model = RechargePage(
            lineId: lineId, identifier: line.identifier,
            amounts: Self.rechargeAmounts.map { .init(value: $0, label: Formatting.money($0 * 100, locale: locale), selected: $0 == chosen) },
            methods: usable.map { method in
                .init(value: method.rawValue, label: label(method),
                      hint: theme.text("lines.recharge.method_hint.\(method.rawValue)", locale: locale, ["provider": offer.gateway?.manifest.name ?? ""]),
                      checked: method == selected)
            },
            available: !usable.isEmpty, cardUnavailable: offer.methods.contains { $0.needsProvider } && offer.gateway == nil,
            sandbox: usable.contains { $0.needsProvider } && offer.gateway?.isSandbox == true, provider: offer.gateway?.manifest.name,
            failure: failure,
            errors: Dictionary(problems.map { ($0.field, $0.message.resolve(locale)) }, uniquingKeysWith: { first, _ in first }),
            hasErrors: !problems.isEmpty)
        return Pages.render("line_recharge", model, title: theme.text("lines.recharge.title", locale: locale),
                            context: context, status: status)
    }
}
