import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// Line self-service: prepaid credit, online recharge, blocking a lost or stolen SIM and switching a
/// line's options on and off. Each action needs its own feature, narrowed to the user's own line
/// where the role's scope says so (TIM's Amministratore Light and Utilizzatore).
struct LinesController {
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
        APIOperation("POST", Routes.lineRecharges, summary: "Recharge a prepaid line online by card (simulated: no payment provider is connected, nothing is charged; the recharge row is marked simulated)", feature: Feature.recharge,
                     parameters: [.init("id", in: "path", description: "Line id", schema: .integer)], requestBody: "RechargeRequest",
                     success: (201, "LineState")),
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
        "RechargeRequest": .object(["amount_euro": .integer, "card_holder": .string(), "card_number": .string(description: "Luhn-checked; never stored"),
                                    "card_expiry": .string(description: "MM/YY"), "card_cvv": .string()],
                                   required: ["amount_euro", "card_holder", "card_number", "card_expiry", "card_cvv"]),
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
    struct RechargeRequest: Decodable { var amountEuro: Int64?; var cardHolder, cardNumber, cardExpiry, cardCvv: String? }
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
            let card = CardDetails(holder: form["card_holder"], number: form["card_number"], expiry: form["card_expiry"], cvv: form["card_cvv"])
            let problems = try await recharge(lineId: id, amountEuro: Int64(form["amount_euro"]), card: card, context: context)
            if !problems.isEmpty {
                return try await rechargePage(lineId: id, context: context, form: form, problems: problems, status: .unprocessableContent)
            }
            return Pages.redirect(Routes.lines.done("recharged"))
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
            let card = CardDetails(holder: body.cardHolder ?? "", number: body.cardNumber ?? "", expiry: body.cardExpiry ?? "", cvv: body.cardCvv ?? "")
            let problems = try await recharge(lineId: id, amountEuro: body.amountEuro, card: card, context: context)
            if !problems.isEmpty { throw PortalError.invalid(problems) }
            return API.json(try await state(of: id, context: context), status: .created)
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
        let rows: [(LineRecord, [ServiceRecord], Int64?)] = try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
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

    /// Records an online recharge paid by card; the problems with the form, empty when done.
    private func recharge(lineId: Int64, amountEuro: Int64?, card: CardDetails, context: UserContext) async throws -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if !Self.rechargeAmounts.contains(amountEuro ?? -1) {
            problems.append(FieldProblem(field: "amount_euro", code: "invalid", message: text("lines.error.amount", context: context)))
        }
        problems += card.problems(now: services.now) { text($0, context: context) }
        // Permission and ownership first: a forbidden line is 403/404 whatever the form says.
        let customerId = context.customer.id ?? 0
        _ = try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
            try await ownedLine(lineId, for: [Feature.recharge], context: context, in: transaction)
        }
        guard problems.isEmpty, let amount = amountEuro else { return problems }
        let now = services.now
        let userId = context.user.id
        let lastFour = card.lastFour
        try await services.database.write(tenant: context.tenant.id, now: now) { transaction in
            let line = try await ownedLine(lineId, for: [Feature.recharge], context: context, in: transaction)
            guard line.status == .active else { throw PortalError.conflict(context.tenant.theme.text("lines.error.not_active", locale: context.locale)) }
            let id = try await transaction.insertRecharge(RechargeRecord(customerId: customerId, lineId: lineId, rechargedAt: now,
                                                                         amountCents: amount * 100, channel: "online_card", status: .completed,
                                                                         simulated: true))
            try await transaction.audit("line.recharged", actorUserId: userId, targetKind: "line", targetId: String(lineId),
                                        detail: "recharge \(id), \(amount) EUR, card ending \(lastFour), simulated=true")
        }
        return []
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
        if let notice, ["blocked", "unblocked", "recharged", "activated", "deactivated"].contains(notice) {
            model.notice = theme.text("lines.done.\(notice)", locale: locale)
        }
        return Pages.render("lines", model, errors: problems, title: theme.text("lines.title", locale: locale), context: context,
                            status: problems.isEmpty ? .ok : .unprocessableContent)
    }

    /// The recharge form of one line: the amounts offered and the card fields with their problems.
    struct RechargePage: Encodable {
        struct Amount: Encodable {
            var value: Int64
            var label: String
            var selected: Bool
        }
        var lineId: Int64
        var identifier: String
        var amounts: [Amount]
        var cardHolder, cardExpiry: String
        var errors: [String: String]
        var hasErrors: Bool
    }

    private func rechargePage(lineId: Int64, context: UserContext, form: SubmittedForm?, problems: [FieldProblem],
                              status: HTTPResponse.Status = .ok) async throws -> Response {
        let line = try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
            try await ownedLine(lineId, for: [Feature.recharge], context: context, in: transaction)
        }
        let locale = context.locale
        let chosen = Int64(form?["amount_euro"] ?? "") ?? 10
        let model = RechargePage(
            lineId: lineId, identifier: line.identifier,
            amounts: Self.rechargeAmounts.map { .init(value: $0, label: Formatting.money($0 * 100, locale: locale), selected: $0 == chosen) },
            cardHolder: form?["card_holder"] ?? "", cardExpiry: form?["card_expiry"] ?? "",
            errors: Dictionary(problems.map { ($0.field, $0.message.resolve(locale)) }, uniquingKeysWith: { first, _ in first }),
            hasErrors: !problems.isEmpty)
        return Pages.render("line_recharge", model, title: context.tenant.theme.text("lines.recharge.title", locale: locale),
                            context: context, status: status)
    }
}
