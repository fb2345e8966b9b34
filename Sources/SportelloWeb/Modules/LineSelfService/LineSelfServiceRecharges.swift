import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

// "Ricarica automatica": per SIM, by threshold (credit below X → recharge Y) or monthly (day 1–28, amount Y),
// charged on the invoice. The portal collects no card data: paying by a card registered at the payment service
// (a hosted "save card" page) is not built yet, so `card` is refused for new settings and changes; a setting stored
// with a card before shows it (ending ####) until it is changed, which moves it to the invoice. Created, changed,
// suspended, resumed and cancelled here; every change is audited.

extension LineSelfServiceController {
    struct RechargeJSON: Encodable {
        var id, lineId: Int64
        var identifier, mode: String
        var amount: API.Money
        var threshold: API.Money?
        var dayOfMonth: Int64?
        var paymentMethod: String
        var cardLastFour, cardExpiry: String?
        var status: String
        var nextRunOn: String?
        var createdAt, updatedAt: Int64
    }

    struct RechargeListJSON: Encodable {
        struct Line: Encodable { var id: Int64; var identifier: String; var rechargeId: Int64? }
        var recharges: [RechargeJSON]
        var lines: [Line]
        var amountsEuro: [Int64]
        var thresholdsEuro: [Int64]
        var paymentMethods = ["invoice"]
    }

    struct RechargeRequest: Decodable {
        var lineId: Int64?
        var mode: String?
        var amountEuro: Int64?
        var thresholdEuro: Int64?
        var dayOfMonth: Int64?
        var paymentMethod: String?
    }

    /// A submitted automatic recharge (form or API), before validation. Numbers that did not parse are nil
    /// with their text kept, so "abc" is reported as invalid rather than missing.
    struct RechargeInput: Sendable {
        var lineId: Int64?
        var lineText = ""
        var mode = ""
        var amountEuro: Int64?
        var amountText = ""
        var thresholdEuro: Int64?
        var thresholdText = ""
        var dayOfMonth: Int64?
        var dayText = ""
        var paymentMethod = ""

        init(form: SubmittedForm) {
            lineText = form["line_id"].trimmingCharacters(in: .whitespaces); lineId = Int64(lineText)
            mode = form["mode"]
            amountText = form["amount_euro"].trimmingCharacters(in: .whitespaces); amountEuro = Int64(amountText)
            thresholdText = form["threshold_euro"].trimmingCharacters(in: .whitespaces); thresholdEuro = Int64(thresholdText)
            dayText = form["day_of_month"].trimmingCharacters(in: .whitespaces); dayOfMonth = Int64(dayText)
            paymentMethod = form["payment_method"]
        }

        init(api body: RechargeRequest) {
            lineId = body.lineId; lineText = body.lineId.map(String.init) ?? ""
            mode = body.mode ?? ""
            amountEuro = body.amountEuro; amountText = body.amountEuro.map(String.init) ?? ""
            thresholdEuro = body.thresholdEuro; thresholdText = body.thresholdEuro.map(String.init) ?? ""
            dayOfMonth = body.dayOfMonth; dayText = body.dayOfMonth.map(String.init) ?? ""
            paymentMethod = body.paymentMethod ?? ""
        }
    }

    enum RechargeAction: String {
        case suspend, resume, cancel

        /// Where the action is posted.
        var route: Route {
            switch self {
            case .suspend: Routes.suspendAutomaticRecharge
            case .resume: Routes.resumeAutomaticRecharge
            case .cancel: Routes.cancelAutomaticRecharge
            }
        }

        /// What the action did, as the page's notice and the audit name it.
        var outcome: String {
            switch self {
            case .suspend: "suspended"
            case .resume: "resumed"
            case .cancel: "cancelled"
            }
        }
    }

    func addRechargeRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.automaticRecharges) { request, context in
            try await rechargesPage(context: context,
                                    notice: notice(request, "selfservice.recharges", allowed: ["created", "changed", "suspended", "resumed", "cancelled"],
                                                   context: context))
        }
        group.get(Routes.newAutomaticRecharge) { request, context in
            let line = request.uri.queryParameters["line"].map(String.init) ?? ""
            return try await rechargeForm(context: context, existing: nil, values: ["line_id": line], problems: [])
        }
        group.post(Routes.automaticRecharges) { request, context in
            let form = try await SubmittedForm.read(request, context: context)
            let (problems, _) = try await createRecharge(RechargeInput(form: form), context: context)
            if !problems.isEmpty { return try await rechargeForm(context: context, existing: nil, values: form.fields, problems: problems) }
            return Pages.redirect(Routes.automaticRecharges.done("created"))
        }
        group.get(Routes.automaticRecharge) { _, context in
            let existing = try await ownedRecharge(try context.pathId(), context: context).recharge
            return try await rechargeForm(context: context, existing: existing, values: [:], problems: [])
        }
        group.post(Routes.automaticRecharge) { request, context in
            let form = try await SubmittedForm.read(request, context: context)
            let rechargeId = try context.pathId()
            let (problems, _) = try await changeRecharge(rechargeId, RechargeInput(form: form), context: context)
            if !problems.isEmpty {
                let existing = try await ownedRecharge(rechargeId, context: context).recharge
                return try await rechargeForm(context: context, existing: existing, values: form.fields, problems: problems)
            }
            return Pages.redirect(Routes.automaticRecharges.done("changed"))
        }
        for action in [RechargeAction.suspend, .resume, .cancel] {
            group.post(action.route) { request, context in
                _ = try await SubmittedForm.read(request, context: context)
                _ = try await act(action, on: try context.pathId(), context: context)
                return Pages.redirect(Routes.automaticRecharges.done(action.outcome))
            }
        }

        group.get(Routes.automaticRecharges.api) { _, context in
            let (recharges, lines) = try await rechargeOverview(context: context)
            let identifiers = Dictionary(uniqueKeysWithValues: lines.map { ($0.id ?? 0, $0.identifier) })
            let live = Dictionary(recharges.map { ($0.lineId, $0.id ?? 0) }, uniquingKeysWith: { first, _ in first })
            return API.json(RechargeListJSON(
                recharges: recharges.map { json($0, identifier: identifiers[$0.lineId] ?? "") },
                lines: lines.map { .init(id: $0.id ?? 0, identifier: $0.identifier, rechargeId: live[$0.id ?? 0]) },
                amountsEuro: Self.rechargeAmounts, thresholdsEuro: Self.thresholds))
        }
        group.post(Routes.automaticRecharges.api) { request, context in
            let body = try await API.decode(RechargeRequest.self, from: request, context: context)
            let (problems, created) = try await createRecharge(RechargeInput(api: body), context: context)
            guard problems.isEmpty, let created else { throw PortalError.invalid(problems) }
            return API.json(try await rechargeJSON(created, context: context), status: .created)
        }
        group.put(Routes.automaticRecharge.api) { request, context in
            let body = try await API.decode(RechargeRequest.self, from: request, context: context)
            let (problems, changed) = try await changeRecharge(try context.pathId(), RechargeInput(api: body), context: context)
            guard problems.isEmpty, let changed else { throw PortalError.invalid(problems) }
            return API.json(try await rechargeJSON(changed, context: context))
        }
        for action in [RechargeAction.suspend, .resume] {
            group.post(action.route.api) { request, context in
                try API.checkCSRF(request, context: context)
                let record = try await act(action, on: try context.pathId(), context: context)
                return API.json(try await rechargeJSON(record, context: context))
            }
        }
        group.delete(Routes.automaticRecharge.api) { request, context in
            try API.checkCSRF(request, context: context)
            let record = try await act(.cancel, on: try context.pathId(), context: context)
            return API.json(try await rechargeJSON(record, context: context))
        }
    }

    // MARK: Reading

    /// The SIMs the user may set automatic recharges on, and their recharges that are not cancelled.
    func rechargeOverview(context: UserContext) async throws -> ([AutomaticRechargeRecord], [LineRecord]) {
        try context.require(page: Self.automaticRecharges)
        let customerId = context.customer.id ?? 0
        let (recharges, lines) = try await read(context) { transaction in
            (try await transaction.automaticRecharges(customerId: customerId), try await transaction.lines(customerId: customerId))
        }
        let sims = lines.filter { $0.kind == "sim" && may(Feature.automaticRecharges, on: $0, context: context) }
        let ids = Set(sims.compactMap(\.id))
        return (recharges.filter { ids.contains($0.lineId) }, sims)
    }

    /// The recharge and its SIM if they are the customer's and the user may act on that SIM: 404 for
    /// another customer's, 403 when the role (or its own-line scope) does not allow it.
    func ownedRecharge(_ id: Int64, context: UserContext) async throws -> (recharge: AutomaticRechargeRecord, line: LineRecord) {
        try context.require(page: Self.automaticRecharges)
        let customerId = context.customer.id ?? 0
        let found: (AutomaticRechargeRecord, LineRecord)? = try await read(context) { transaction in
            guard let recharge = try await transaction.automaticRecharge(id: id, customerId: customerId),
                  let line = try await transaction.line(id: recharge.lineId, customerId: customerId) else { return nil }
            return (recharge, line)
        }
        guard let (recharge, line) = found else { throw PortalError.notFound }
        guard may(Feature.automaticRecharges, on: line, context: context) else { throw PortalError.forbidden(feature: Feature.automaticRecharges) }
        return (recharge, line)
    }

    func json(_ recharge: AutomaticRechargeRecord, identifier: String) -> RechargeJSON {
        RechargeJSON(id: recharge.id ?? 0, lineId: recharge.lineId, identifier: identifier, mode: recharge.mode,
                     amount: API.Money(recharge.amountCents), threshold: recharge.thresholdCents.map { API.Money($0) },
                     dayOfMonth: recharge.dayOfMonth, paymentMethod: recharge.paymentMethod, cardLastFour: recharge.cardLastFour,
                     cardExpiry: recharge.cardExpiry, status: recharge.status.rawValue,
                     nextRunOn: recharge.nextMonthlyRun(after: CalendarDay(instant: services.now))?.description,
                     createdAt: recharge.createdAt, updatedAt: recharge.updatedAt)
    }

    private func rechargeJSON(_ recharge: AutomaticRechargeRecord, context: UserContext) async throws -> RechargeJSON {
        let customerId = context.customer.id ?? 0
        let line = try await read(context) { try await $0.line(id: recharge.lineId, customerId: customerId) }
        return json(recharge, identifier: line?.identifier ?? "")
    }

    // MARK: Validation

    /// Every problem with the settings (not the SIM): mode, amount, threshold or day, and payment (the invoice only).
    private func settingProblems(_ input: RechargeInput, existing: AutomaticRechargeRecord?, context: UserContext) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        func add(_ field: String, _ code: String, _ key: String, _ values: [String: String] = [:]) {
            problems.append(problem(field, code, key, values, context: context))
        }
        if input.mode.isEmpty { add("mode", "required", "selfservice.recharges.error.mode") }
        else if !["threshold", "monthly"].contains(input.mode) { add("mode", "invalid", "selfservice.recharges.error.mode") }
        if input.amountText.isEmpty { add("amount_euro", "required", "selfservice.recharges.error.amount") }
        else if !Self.rechargeAmounts.contains(input.amountEuro ?? -1) { add("amount_euro", "invalid", "selfservice.recharges.error.amount") }
        if input.mode == "threshold" {
            if input.thresholdText.isEmpty { add("threshold_euro", "required", "selfservice.recharges.error.threshold") }
            else if let threshold = input.thresholdEuro, Self.thresholds.contains(threshold) {
                if let amount = input.amountEuro, Self.rechargeAmounts.contains(amount), threshold >= amount {
                    add("threshold_euro", "not_below_amount", "selfservice.recharges.error.threshold_vs_amount")
                }
            } else { add("threshold_euro", "invalid", "selfservice.recharges.error.threshold") }
        }
        if input.mode == "monthly" {
            if input.dayText.isEmpty { add("day_of_month", "required", "selfservice.recharges.error.day") }
            else if !(1...28).contains(input.dayOfMonth ?? 0) { add("day_of_month", "out_of_range", "selfservice.recharges.error.day") }
        }
        if input.paymentMethod.isEmpty { add("payment_method", "required", "selfservice.recharges.error.payment") }
        else if input.paymentMethod != "invoice" { add("payment_method", "invalid", "selfservice.recharges.error.payment") }
        return problems
    }

    /// The settings of `input` applied to `record` (already validated).
    private func apply(_ input: RechargeInput, to record: inout AutomaticRechargeRecord) {
        record.mode = input.mode
        record.amountCents = (input.amountEuro ?? 0) * 100
        record.thresholdCents = input.mode == "threshold" ? input.thresholdEuro.map { $0 * 100 } : nil
        record.dayOfMonth = input.mode == "monthly" ? input.dayOfMonth : nil
        record.paymentMethod = input.paymentMethod
        record.cardLastFour = nil
        record.cardExpiry = nil
    }

    private static func summary(_ record: AutomaticRechargeRecord) -> String {
        let what = record.mode == "threshold" ? "below \((record.thresholdCents ?? 0) / 100) EUR" : "monthly on day \(record.dayOfMonth ?? 0)"
        let paid = record.paymentMethod == "card" ? "card ending \(record.cardLastFour ?? "?")" : "on the invoice"
        return "line \(record.lineId): \(record.amountCents / 100) EUR \(what), \(paid)"
    }

    // MARK: Actions

    /// Sets up an automatic recharge; the problems with the request, or the new record.
    func createRecharge(_ input: RechargeInput, context: UserContext) async throws -> ([FieldProblem], AutomaticRechargeRecord?) {
        try context.require(page: Self.automaticRecharges)
        var problems: [FieldProblem] = []
        let customerId = context.customer.id ?? 0
        if input.lineText.isEmpty {
            problems.append(problem("line_id", "required", "selfservice.recharges.error.line", context: context))
        } else if let lineId = input.lineId {
            // Permission and ownership first: a forbidden SIM is 403/404 whatever else the form says.
            let (line, live) = try await read(context) { transaction in
                (try await transaction.line(id: lineId, customerId: customerId),
                 try await transaction.liveAutomaticRecharge(lineId: lineId, customerId: customerId))
            }
            guard let line else { throw PortalError.notFound }
            guard may(Feature.automaticRecharges, on: line, context: context) else { throw PortalError.forbidden(feature: Feature.automaticRecharges) }
            if line.kind != "sim" {
                problems.append(problem("line_id", "not_sim", "selfservice.recharges.error.not_sim", context: context))
            } else if line.status != .active {
                problems.append(problem("line_id", "not_active", "selfservice.recharges.error.not_active", context: context))
            } else if live != nil {
                problems.append(problem("line_id", "already_set", "selfservice.recharges.error.already_set", context: context))
            }
        } else {
            problems.append(problem("line_id", "invalid", "selfservice.recharges.error.line", context: context))
        }
        problems += settingProblems(input, existing: nil, context: context)
        guard problems.isEmpty, let lineId = input.lineId else { return (problems, nil) }
        let now = services.now
        var record = AutomaticRechargeRecord(customerId: customerId, lineId: lineId, mode: input.mode, amountCents: 0, paymentMethod: input.paymentMethod,
                                             createdAt: now, updatedAt: now, createdByUserId: context.user.id)
        apply(input, to: &record)
        let userId = context.user.id
        let draft = record
        let alreadySet = problem("line_id", "already_set", "selfservice.recharges.error.already_set", context: context)
        let created: AutomaticRechargeRecord? = try await write(context) { transaction in
            // Checked again inside the transaction: two submissions at once make one recharge.
            guard try await transaction.liveAutomaticRecharge(lineId: lineId, customerId: customerId) == nil else { return nil }
            var saved = draft
            saved.id = try await transaction.insertAutomaticRecharge(draft)
            try await transaction.audit("automatic_recharge.created", actorUserId: userId, targetKind: "automatic_recharge",
                                        targetId: String(saved.id ?? 0), detail: Self.summary(saved))
            return saved
        }
        guard let created else { return ([alreadySet], nil) }
        return ([], created)
    }

    /// Changes an automatic recharge's settings (the SIM stays); the problems, or the changed record.
    func changeRecharge(_ id: Int64, _ input: RechargeInput, context: UserContext) async throws -> ([FieldProblem], AutomaticRechargeRecord?) {
        let (existing, _) = try await ownedRecharge(id, context: context)
        guard existing.status != .cancelled else { throw PortalError.conflict(t("selfservice.recharges.error.cancelled", context: context)) }
        if !input.lineText.isEmpty && input.lineId != existing.lineId {
            return ([problem("line_id", "immutable", "selfservice.recharges.error.line_immutable", context: context)], nil)
        }
        let problems = settingProblems(input, existing: existing, context: context)
        guard problems.isEmpty else { return (problems, nil) }
        var changed = existing
        apply(input, to: &changed)
        changed.updatedAt = services.now
        guard changed != existing else { return ([], existing) }
        let userId = context.user.id
        let record = changed
        try await write(context) { transaction in
            try await transaction.updateAutomaticRecharge(record)
            try await transaction.audit("automatic_recharge.changed", actorUserId: userId, targetKind: "automatic_recharge",
                                        targetId: String(id), detail: Self.summary(record))
        }
        return ([], record)
    }

    /// Suspends, resumes or cancels; 409 when the recharge is not in a state that allows it.
    func act(_ action: RechargeAction, on id: Int64, context: UserContext) async throws -> AutomaticRechargeRecord {
        var (record, _) = try await ownedRecharge(id, context: context)
        let allowed: Bool = switch action {
        case .suspend: record.status == .active
        case .resume: record.status == .suspended
        case .cancel: record.status != .cancelled
        }
        guard allowed else { throw PortalError.conflict(t("selfservice.recharges.error.state_\(action.rawValue)", context: context)) }
        let now = services.now
        switch action {
        case .suspend: record.status = .suspended
        case .resume: record.status = .active
        case .cancel: record.status = .cancelled; record.cancelledAt = now
        }
        record.updatedAt = now
        let userId = context.user.id
        let saved = record
        try await write(context) { transaction in
            try await transaction.updateAutomaticRecharge(saved)
            try await transaction.audit("automatic_recharge.\(action.outcome)", actorUserId: userId, targetKind: "automatic_recharge",
                                        targetId: String(id), detail: "line \(saved.lineId)")
        }
        return saved
    }

    // MARK: Pages

    private func describe(_ record: AutomaticRechargeRecord, context: UserContext) -> String {
        let locale = context.locale
        if record.mode == "threshold" {
            return t("selfservice.recharges.describe.threshold", ["amount": Formatting.money(record.amountCents, locale: locale),
                                                                  "threshold": Formatting.money(record.thresholdCents ?? 0, locale: locale)], context: context)
        }
        return t("selfservice.recharges.describe.monthly", ["amount": Formatting.money(record.amountCents, locale: locale),
                                                            "day": String(record.dayOfMonth ?? 0)], context: context)
    }

    private func paymentText(_ record: AutomaticRechargeRecord, context: UserContext) -> String {
        if record.paymentMethod == "card" {
            return t("selfservice.recharges.payment.card_ending", ["last_four": record.cardLastFour ?? "····",
                                                                   "expiry": record.cardExpiry ?? ""], context: context)
        }
        return t("selfservice.recharges.payment.invoice", context: context)
    }

    struct RechargesPageModel: Encodable {
        struct Recharge: Encodable {
            var id: Int64
            var identifier, describe, payment, status, statusClass: String
            var active, suspended: Bool
            var nextRun: String?
        }
        struct SIM: Encodable {
            var id: Int64
            var identifier: String
        }
        var recharges: [Recharge]
        var hasRecharges: Bool
        var freeSims: [SIM]
        var hasFreeSims, hasSims: Bool
        var notice: String?
    }

    private func rechargesPage(context: UserContext, notice: String?) async throws -> Response {
        let (recharges, sims) = try await rechargeOverview(context: context)
        let identifiers = Dictionary(uniqueKeysWithValues: sims.map { ($0.id ?? 0, $0.identifier) })
        let covered = Set(recharges.map(\.lineId))
        let today = CalendarDay(instant: services.now)
        let rows = recharges.map { record in
            RechargesPageModel.Recharge(
                id: record.id ?? 0, identifier: identifiers[record.lineId] ?? "", describe: describe(record, context: context),
                payment: paymentText(record, context: context),
                status: t("selfservice.recharges.status.\(record.status.rawValue)", context: context), statusClass: record.status.rawValue,
                active: record.status == .active, suspended: record.status == .suspended,
                nextRun: record.nextMonthlyRun(after: today).map { Formatting.day($0.description) })
        }
        let free = sims.filter { $0.status == .active && !covered.contains($0.id ?? 0) }
        let model = RechargesPageModel(recharges: rows, hasRecharges: !rows.isEmpty,
                                       freeSims: free.map { .init(id: $0.id ?? 0, identifier: $0.identifier) }, hasFreeSims: !free.isEmpty,
                                       hasSims: !sims.isEmpty, notice: notice)
        return Pages.render("selfservice_recharges", model, title: t("selfservice.recharges.title", context: context), context: context)
    }

    struct RechargeFormModel: Encodable {
        struct SIM: Encodable {
            var id: Int64
            var identifier: String
            var selected: Bool
        }
        struct Choice: Encodable {
            var value: Int64
            var label: String
            var selected: Bool
        }
        var editing: Bool
        var action: String
        var sims: [SIM]
        var modeThreshold, modeMonthly: Bool
        var amounts, thresholds: [Choice]
        var dayOfMonth: String
        /// The SIM of the recharge being changed.
        var identifier: String?
        var storedCard: String?
    }

    private func rechargeForm(context: UserContext, existing: AutomaticRechargeRecord?, values form: [String: String],
                              problems: [FieldProblem]) async throws -> Response {
        let (recharges, sims) = try await rechargeOverview(context: context)
        let covered = Set(recharges.map(\.lineId))
        let locale = context.locale
        func value(_ name: String, _ stored: String?) -> String { form[name] ?? stored ?? "" }
        let mode = value("mode", existing?.mode ?? "threshold")
        let amount = value("amount_euro", existing.map { String($0.amountCents / 100) } ?? "20")
        let threshold = value("threshold_euro", existing?.thresholdCents.map { String($0 / 100) } ?? "5")
        let lineChoice = form["line_id"] ?? ""
        func choices(_ euros: [Int64], selected: String) -> [RechargeFormModel.Choice] {
            euros.map { .init(value: $0, label: Formatting.money($0 * 100, locale: locale), selected: String($0) == selected) }
        }
        var model = RechargeFormModel(
            editing: existing != nil,
            action: existing.map { Routes.automaticRecharge.path($0.id ?? 0) } ?? Routes.automaticRecharges.path(),
            sims: sims.filter { $0.status == .active && !covered.contains($0.id ?? 0) }.map { sim in
                .init(id: sim.id ?? 0, identifier: sim.identifier, selected: String(sim.id ?? 0) == lineChoice)
            },
            modeThreshold: mode == "threshold", modeMonthly: mode == "monthly",
            amounts: choices(Self.rechargeAmounts, selected: amount), thresholds: choices(Self.thresholds, selected: threshold),
            dayOfMonth: value("day_of_month", existing?.dayOfMonth.map(String.init)),
            )
        if let existing {
            model.identifier = sims.first { $0.id == existing.lineId }?.identifier ?? ""
            if existing.paymentMethod == "card", let lastFour = existing.cardLastFour {
                model.storedCard = t("selfservice.recharges.payment.card_ending", ["last_four": lastFour, "expiry": existing.cardExpiry ?? ""],
                                     context: context)
            }
        }
        let title = t(existing == nil ? "selfservice.recharges.new_title" : "selfservice.recharges.edit_title", context: context)
        return Pages.render("selfservice_recharge_form", model, errors: problems, title: title, context: context,
                            status: problems.isEmpty ? .ok : .unprocessableContent)
    }
}
