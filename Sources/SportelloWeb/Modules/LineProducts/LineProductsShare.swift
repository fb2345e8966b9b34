import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// Giga Smart Share: the packages, their SIMs and Giga, and the four changes of "Gestione GSS".
extension LineProductsController {
    enum ShareAction: String, Sendable {
        case package, referent, extraGiga = "extra", move = "moved"

        /// Where the change is posted.
        var route: Route {
            switch self {
            case .package: Routes.productsSharePackage
            case .referent: Routes.productsShareReferent
            case .extraGiga: Routes.productsShareExtraGiga
            case .move: Routes.productsShareMoves
            }
        }
    }

    /// The fields of one change, from a form or a JSON body.
    struct ShareInput {
        var packageCode: String?
        var referentName: String?
        var referentPhone: String?
        var extraCode: String?
        var lineId: Int64?
        var targetId: Int64?

        init(packageCode: String? = nil, referentName: String? = nil, referentPhone: String? = nil, extraCode: String? = nil,
             lineId: Int64? = nil, targetId: Int64? = nil) {
            self.packageCode = packageCode; self.referentName = referentName; self.referentPhone = referentPhone
            self.extraCode = extraCode; self.lineId = lineId; self.targetId = targetId
        }

        init(form: SubmittedForm) {
            self.init(packageCode: form.value("package_code"), referentName: form.value("referent_name"),
                      referentPhone: form.value("referent_phone"), extraCode: form.value("extra_code"),
                      lineId: form.value("line_id").flatMap { Int64($0) }, targetId: form.value("target_id").flatMap { Int64($0) })
        }
    }

    /// A package or an extra Giga pack on offer (catalogue kinds `gss_package`, `gss_extra_giga`).
    struct ShareOffer {
        var item: CatalogItemRecord
        var giga: Int64

        var view: ShareOfferView {
            ShareOfferView(code: item.code, title: item.title, giga: giga, price: item.priceCents.map { API.Money($0) },
                           billingPeriod: item.billingPeriod)
        }
    }

    struct ShareOfferView: Encodable {
        var code, title: String
        var giga: Int64
        var price: API.Money?
        var billingPeriod: String?
    }

    struct SharePlanView: Encodable {
        struct Sim: Encodable {
            var lineId: Int64
            var identifier, status: String
            var gigaUsed: Double
            var credit: API.Money?
        }
        var id: Int64
        var code, packageCode, packageTitle: String
        var gigaAllowance, extraGiga, totalGiga: Int64
        var gigaUsed: Double
        var usedPercent: Int
        var referentName: String?
        var referentPhone, status: String
        var simCount, deviceCount: Int
        var sims: [Sim]
        var actions: [String]
    }

    struct SharePlanList: Encodable {
        var sharePlans: [SharePlanView]
        var packages: [ShareOfferView]
        var extraGiga: [ShareOfferView]
    }

    struct ShareOverview {
        var plans: [SharePlanView]
        var packages: [ShareOffer]
        var extras: [ShareOffer]
    }

    /// Whether the user may change packages: granted, and not limited to their own line (a package is the company's).
    func mayManageShare(_ context: UserContext) -> Bool {
        defines(Feature.shareManage, context) && context.may(Feature.shareManage) && !ownLineOnly(Feature.shareManage, context: context)
    }

    /// The first instant of the current month: Giga are counted from there.
    func periodStart() -> Int64 {
        let today = CalendarDay(instant: services.now)
        return CalendarDay(year: today.year, month: today.month, day: 1).startInstant
    }

    static func offers(_ kind: String, customerType: String, day: String, in transaction: TenantTransaction) async throws -> [ShareOffer] {
        try await transaction.catalogItems(kind: kind, availableOn: day, to: customerType).compactMap { item in
            guard let giga = (data(of: item)["giga"] as? NSNumber)?.int64Value, giga > 0 else { return nil }
            return ShareOffer(item: item, giga: giga)
        }
    }

    // MARK: Reading

    /// The customer's packages as the user may see them: with the own-line scope, only the packages holding
    /// the user's SIM, and only that SIM in them.
    func shareOverview(context: UserContext, only planId: Int64? = nil) async throws -> ShareOverview {
        try context.require(page: Self.share)
        let customerId = context.customer.id ?? 0
        let customerType = context.customer.customerType
        let ownOnly = !context.may(Feature.shareView) ? ownLineOnly(Feature.shareManage, context: context) : ownLineOnly(Feature.shareView, context: context)
        let userId = context.user.id
        let since = periodStart()
        let day = CalendarDay(instant: services.now).description
        let manage = mayManageShare(context)
        let month = SharePlanRecord.month(of: CalendarDay(instant: services.now))
        return try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
            var plans = try await transaction.sharePlans(customerId: customerId)
            if let planId { plans = plans.filter { $0.id == planId } }
            let lines = try await transaction.productLines(customerId: customerId)
            let devices = try await transaction.devices(customerId: customerId)
            let bytes = try await transaction.dataBytes(lineIds: lines.filter { $0.sharePlanId != nil }.map(\.id), customerId: customerId, since: since)
            var views: [SharePlanView] = []
            for plan in plans {
                guard let id = plan.id else { continue }
                let planLines = lines.filter { $0.sharePlanId == id }
                let shown = ownOnly ? planLines.filter { $0.assignedUserId != nil && $0.assignedUserId == userId } : planLines
                if ownOnly && shown.isEmpty { continue }
                var sims: [SharePlanView.Sim] = []
                for line in shown {
                    let totals = try await transaction.prepaidCredit(lineId: line.id, customerId: customerId)
                    sims.append(.init(lineId: line.id, identifier: line.identifier, status: line.status.rawValue,
                                      gigaUsed: SharePlanRules.giga(fromBytes: bytes[line.id] ?? 0),
                                      // A prepaid SIM stops at zero: traffic beyond its recharges is not credit owed.
                                      credit: totals.recharged > 0 ? API.Money(max(0, totals.recharged - totals.spent)) : nil))
                }
                let used = planLines.reduce(Int64(0)) { $0 + (bytes[$1.id] ?? 0) }
                let lineIds = Set(planLines.map(\.id))
                let total = plan.totalGiga(in: month)
                views.append(SharePlanView(
                    id: id, code: plan.code, packageCode: plan.packageCode, packageTitle: plan.packageTitle,
                    gigaAllowance: plan.gigaAllowance, extraGiga: plan.extraGiga(in: month), totalGiga: total,
                    gigaUsed: SharePlanRules.giga(fromBytes: used),
                    usedPercent: total > 0 ? Int(min(999, used * 100 / (total * SharePlanRules.bytesPerGiga))) : 0,
                    referentName: plan.referentName, referentPhone: plan.referentPhone, status: plan.status.rawValue,
                    simCount: planLines.count, deviceCount: devices.filter { $0.lineId.map(lineIds.contains) ?? false }.count,
                    sims: sims,
                    actions: manage && plan.status == .active ? ["change_package", "change_referent", "buy_extra_giga", "move_sims"] : []))
            }
            return ShareOverview(plans: views,
                                 packages: try await Self.offers(CatalogKind.package, customerType: customerType, day: day, in: transaction),
                                 extras: try await Self.offers(CatalogKind.extraGiga, customerType: customerType, day: day, in: transaction))
        }
    }

    func sharePlanView(id: Int64, context: UserContext) async throws -> SharePlanView {
        guard let plan = try await shareOverview(context: context, only: id).plans.first else { throw PortalError.notFound }
        return plan
    }

    // MARK: Changes

    /// Applies one change to package `planId`; the problems with the input, empty when done. Permission and
    /// ownership come first: another customer's package is 404, a role without `gss.manage` 403.
    func perform(_ action: ShareAction, planId: Int64, input: ShareInput, context: UserContext) async throws -> [FieldProblem] {
        try context.require(page: Self.share)
        guard defines(Feature.shareManage, context) else { throw PortalError.notFound }
        guard mayManageShare(context) else { throw PortalError.forbidden(feature: Feature.shareManage) }
        let customerId = context.customer.id ?? 0
        let customerType = context.customer.customerType
        let userId = context.user.id
        let since = periodStart()
        let now = services.now
        let day = CalendarDay(instant: now).description
        let month = SharePlanRecord.month(of: CalendarDay(instant: now))
        let locale = context.locale
        return try await services.database.write(tenant: context.tenant.id, now: now) { transaction in
            guard var plan = try await transaction.sharePlan(id: planId, customerId: customerId) else { throw PortalError.notFound }
            guard plan.status == .active else {
                throw PortalError.conflict(context.tenant.theme.text("products.error.package_not_active", locale: locale))
            }
            let lines = try await transaction.productLines(customerId: customerId)
            func usedBytes(of id: Int64) async throws -> Int64 {
                let ids = lines.filter { $0.sharePlanId == id }.map(\.id)
                return try await transaction.dataBytes(lineIds: ids, customerId: customerId, since: since).values.reduce(0, +)
            }
            let target = String(planId)
            switch action {
            case .package:
                let offers = try await Self.offers(CatalogKind.package, customerType: customerType, day: day, in: transaction)
                guard let code = input.packageCode else { return [problem("package_code", "required", context: context)] }
                guard let offer = offers.first(where: { $0.item.code == code }) else { return [problem("package_code", "unknown_package", context: context)] }
                let used = try await usedBytes(of: planId)
                if let code = SharePlanRules.changeProblem(current: plan, newAllowance: offer.giga, usedBytes: used, month: month) {
                    return [problem("package_code", code, context: context,
                                    ["used": Self.giga(SharePlanRules.giga(fromBytes: used), locale: locale)])]
                }
                let upgrade = offer.giga > plan.gigaAllowance
                let detail = "\(plan.packageCode) (\(plan.gigaAllowance) GB) -> \(offer.item.code) (\(offer.giga) GB)"
                plan.packageCode = offer.item.code
                plan.packageTitle = offer.item.title
                plan.gigaAllowance = offer.giga
                plan.updatedAt = now
                try await transaction.updateSharePlan(plan)
                try await transaction.audit(upgrade ? "share_plan.upgraded" : "share_plan.downgraded", actorUserId: userId,
                                            targetKind: "share_plan", targetId: target, detail: detail)
            case .referent:
                var problems: [FieldProblem] = []
                let phone = input.referentPhone?.trimmingCharacters(in: .whitespaces) ?? ""
                if phone.isEmpty {
                    problems.append(problem("referent_phone", "required", context: context))
                } else if !Self.isMobile(phone) {
                    problems.append(problem("referent_phone", "not_mobile", context: context))
                }
                let name = input.referentName?.trimmingCharacters(in: .whitespaces)
                if let name, name.count > 80 { problems.append(problem("referent_name", "too_long", context: context, ["max": "80"])) }
                guard problems.isEmpty else { return problems }
                plan.referentPhone = phone
                plan.referentName = name?.isEmpty == false ? name : nil
                plan.updatedAt = now
                try await transaction.updateSharePlan(plan)
                try await transaction.audit("share_plan.referent_changed", actorUserId: userId, targetKind: "share_plan", targetId: target,
                                            detail: "referent phone ending \(phone.suffix(3))")
            case .extraGiga:
                let offers = try await Self.offers(CatalogKind.extraGiga, customerType: customerType, day: day, in: transaction)
                guard let code = input.extraCode else { return [problem("extra_code", "required", context: context)] }
                guard let offer = offers.first(where: { $0.item.code == code }) else { return [problem("extra_code", "unknown_package", context: context)] }
                // Extra Giga last until the end of the month they are bought in.
                plan.extraGiga = plan.extraGiga(in: month) + offer.giga
                plan.extraGigaMonth = month
                plan.updatedAt = now
                try await transaction.updateSharePlan(plan)
                let price = offer.item.priceCents.map { " \(Formatting.money($0, locale: "it"))" } ?? ""
                try await transaction.audit("share_plan.extra_giga_bought", actorUserId: userId, targetKind: "share_plan", targetId: target,
                                            detail: "\(offer.item.code): +\(offer.giga) GB\(price)")
            case .move:
                var problems: [FieldProblem] = []
                let line = input.lineId.flatMap { id in lines.first { $0.id == id } }
                if input.lineId == nil {
                    problems.append(problem("line_id", "required", context: context))
                } else if line == nil || line?.sharePlanId != planId || line?.kind != "sim" {
                    problems.append(problem("line_id", "not_in_package", context: context))
                } else if lines.filter({ $0.sharePlanId == planId }).count == 1 {
                    problems.append(problem("line_id", "last_sim", context: context))
                }
                var destination: SharePlanRecord?
                if let targetId = input.targetId, targetId != planId {
                    destination = try await transaction.sharePlan(id: targetId, customerId: customerId)
                }
                if input.targetId == nil {
                    problems.append(problem("target_id", "required", context: context))
                } else if input.targetId == planId {
                    problems.append(problem("target_id", "same_target", context: context))
                } else if destination == nil {
                    problems.append(problem("target_id", "unknown_target", context: context))
                }
                guard problems.isEmpty, let line, let destination, let destinationId = destination.id else { return problems }
                let simBytes = try await transaction.dataBytes(lineIds: [line.id], customerId: customerId, since: since)[line.id] ?? 0
                if let code = SharePlanRules.moveProblem(target: destination, targetBytes: try await usedBytes(of: destinationId), simBytes: simBytes,
                                                           month: month) {
                    return [problem("target_id", code, context: context)]
                }
                try await transaction.setSharePlan(lineId: line.id, customerId: customerId, sharePlanId: destinationId)
                try await transaction.audit("share_plan.sim_moved", actorUserId: userId, targetKind: "line", targetId: String(line.id),
                                            detail: "\(plan.code) -> \(destination.code)")
            }
            return []
        }
    }

    /// An Italian mobile number (the referent receives the threshold SMS).
    static func isMobile(_ phone: String) -> Bool {
        guard ItalianIdentifiers.isPlausibleItalianPhone(phone) else { return false }
        var digits = phone.filter { !" -./".contains($0) }
        if digits.hasPrefix("+39") { digits.removeFirst(3) } else if digits.hasPrefix("0039") { digits.removeFirst(4) }
        return digits.hasPrefix("3")
    }

    // MARK: Pages

    /// A package as the list and the detail page show it.
    struct PlanModel: Encodable {
        var id: Int64
        var code, packageTitle: String
        var gigaAllowance, extraGiga, totalGiga: Int64
        var gigaUsed, gigaLeft: String
        var usedPercent, meterPercent: Int
        var nearLimit, overLimit: Bool
        var referentPhone: String
        var referentName: String?
        var simCount, deviceCount: Int
        var status, statusClass: String
    }

    struct SharePageModel: Encodable {
        var plans: [PlanModel]
        var hasPlans: Bool
    }

    /// The package detail page: the package's values (as in the list) with its SIMs and, for a role that
    /// may change it, the choices of the four changes.
    struct PlanPageModel: Encodable {
        struct Sim: Encodable {
            var lineId: Int64
            var identifier, gigaUsed, status, statusClass: String
            var credit: String?
        }
        struct Offer: Encodable {
            var code, title: String
            var giga: Int64
            /// Packages only: whether it is the package's own.
            var current: Bool?
            var selected: Bool
            var price: String?
        }
        struct Target: Encodable {
            var id: Int64
            var code, title: String
            var selected: Bool
        }
        struct Movable: Encodable {
            var lineId: Int64
            var identifier: String
            var selected: Bool
        }
        /// What only a role that may change the package sees.
        struct Manage: Encodable {
            var packages: [Offer]
            var hasPackages: Bool
            var extras: [Offer]
            var hasExtras: Bool
            var targets: [Target]
            var hasTargets: Bool
            var movable: [Movable]
            var formReferentName, formReferentPhone: String
        }
        struct Details: Encodable {
            var sims: [Sim]
            var hasSims, canManage: Bool
            var notice: String?
        }
        var plan: PlanModel
        var details: Details
        var manage: Manage?

        /// The three parts side by side, as one object.
        func encode(to encoder: any Encoder) throws {
            try plan.encode(to: encoder)
            try details.encode(to: encoder)
            try manage?.encode(to: encoder)
        }
    }

    func sharePage(context: UserContext, notice: String?) async throws -> Response {
        let overview = try await shareOverview(context: context)
        let model = SharePageModel(plans: overview.plans.map { planModel($0, context: context) }, hasPlans: !overview.plans.isEmpty)
        return Pages.render("products_share", model, title: context.tenant.theme.text("products.share.title", locale: context.locale),
                            context: context)
    }

    func planModel(_ plan: SharePlanView, context: UserContext) -> PlanModel {
        let locale = context.locale
        return PlanModel(
            id: plan.id, code: plan.code, packageTitle: plan.packageTitle, gigaAllowance: plan.gigaAllowance,
            extraGiga: plan.extraGiga, totalGiga: plan.totalGiga, gigaUsed: Self.giga(plan.gigaUsed, locale: locale),
            gigaLeft: Self.giga(max(0, Double(plan.totalGiga) - plan.gigaUsed), locale: locale),
            usedPercent: plan.usedPercent, meterPercent: min(100, plan.usedPercent),
            nearLimit: plan.usedPercent >= 80 && plan.usedPercent < 100, overLimit: plan.usedPercent >= 100,
            referentPhone: plan.referentPhone, referentName: plan.referentName, simCount: plan.simCount, deviceCount: plan.deviceCount,
            status: label("contracts.status", plan.status, context: context), statusClass: plan.status)
    }

    func sharePlanPage(id: Int64, context: UserContext, notice: String? = nil, form: SubmittedForm? = nil,
                       problems: [FieldProblem] = []) async throws -> Response {
        let overview = try await shareOverview(context: context)
        guard let plan = overview.plans.first(where: { $0.id == id }) else { throw PortalError.notFound }
        let locale = context.locale
        let theme = context.tenant.theme
        let manage = plan.actions.contains("change_package")
        func price(_ offer: ShareOffer) -> String? { offer.item.priceCents.map { Formatting.money($0, locale: locale) } }
        var model = PlanPageModel(
            plan: planModel(plan, context: context),
            details: .init(
                sims: plan.sims.map { sim in
                    .init(lineId: sim.lineId, identifier: sim.identifier, gigaUsed: Self.giga(sim.gigaUsed, locale: locale),
                          status: label("contracts.status", sim.status, context: context), statusClass: sim.status,
                          credit: sim.credit.map { Formatting.money($0.cents, locale: locale) })
                },
                hasSims: !plan.sims.isEmpty, canManage: manage))
        if manage {
            let chosenPackage = form?.value("package_code")
            let others = overview.plans.filter { $0.id != plan.id && $0.status == "active" }
            model.manage = .init(
                packages: overview.packages.map { offer in
                    .init(code: offer.item.code, title: offer.item.title, giga: offer.giga, current: offer.item.code == plan.packageCode,
                          selected: offer.item.code == (chosenPackage ?? plan.packageCode), price: price(offer))
                },
                hasPackages: !overview.packages.isEmpty,
                extras: overview.extras.map { offer in
                    .init(code: offer.item.code, title: offer.item.title, giga: offer.giga,
                          selected: offer.item.code == form?.value("extra_code"), price: price(offer))
                },
                hasExtras: !overview.extras.isEmpty,
                targets: others.map { .init(id: $0.id, code: $0.code, title: $0.packageTitle, selected: String($0.id) == form?.value("target_id")) },
                hasTargets: !others.isEmpty,
                movable: plan.sims.map { .init(lineId: $0.lineId, identifier: $0.identifier, selected: String($0.lineId) == form?.value("line_id")) },
                formReferentName: form?.fields["referent_name"] ?? plan.referentName ?? "",
                formReferentPhone: form?.fields["referent_phone"] ?? plan.referentPhone)
        }
        if let notice, ["package", "referent", "extra", "moved"].contains(notice) {
            model.details.notice = theme.text("products.share.done.\(notice)", locale: locale)
        }
        let title = theme.text("products.share.plan_title", locale: locale, ["code": plan.code])
        return Pages.render("products_share_detail", model, errors: problems, title: title, context: context,
                            status: problems.isEmpty ? .ok : .unprocessableContent)
    }
}
