import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

// "Promozioni": the tenant's catalogue items of kind `promotion` on offer today to the customer's type, the
// customer's lines each one applies to, and how to activate it (by phone only: WINDTRE "contattando il 1928").
// An item's `data` JSON may carry `activation_phone`, `line_kinds` (`sim`, `fixed_line`…) and `conditions`.

extension LineSelfServiceController {
    struct PromotionJSON: Encodable {
        struct Activation: Encodable { var channel = "phone"; var phone: String?; var online = false }
        struct EligibleLine: Encodable { var id: Int64; var identifier, kind: String }
        var id: Int64
        var code, title: String
        var description, category: String?
        var price: API.Money?
        var billingPeriod: String?
        var validFrom, validTo: String?
        var conditions: String?
        var activation: Activation
        var eligibleLines: [EligibleLine]
    }

    struct PromotionListJSON: Encodable { var promotions: [PromotionJSON] }

    /// The parts of a promotion's `data` this page reads.
    struct PromotionDetails: Decodable {
        var activationPhone: String?
        var lineKinds: [String]?
        var conditions: String?

        init(_ json: String?) {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            self = json.flatMap { try? decoder.decode(Self.self, from: Data($0.utf8)) } ?? Self(activationPhone: nil, lineKinds: nil, conditions: nil)
        }

        init(activationPhone: String?, lineKinds: [String]?, conditions: String?) {
            self.activationPhone = activationPhone; self.lineKinds = lineKinds; self.conditions = conditions
        }
    }

    func addPromotionRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.selfServicePromotions) { _, context in try await promotionsPage(context: context) }
        group.get(Routes.selfServicePromotions.api) { _, context in
            API.json(PromotionListJSON(promotions: try await promotions(context: context)))
        }
    }

    func promotions(context: UserContext) async throws -> [PromotionJSON] {
        try context.require(page: Self.promotions)
        let customerId = context.customer.id ?? 0
        let customerType = context.customer.customerType
        let today = CalendarDay(instant: services.now).description
        let (items, lines) = try await read(context) { transaction in
            (try await transaction.catalogItems(kind: "promotion", availableOn: today, to: customerType),
             try await transaction.lines(customerId: customerId))
        }
        let usable = lines.filter { $0.status == .active && may(Feature.promotions, on: $0, context: context) }
        let care = context.tenant.definition.contacts?.customerCare
        return items.map { item in
            let details = PromotionDetails(item.data)
            let eligible = usable.filter { line in details.lineKinds.map { $0.contains(line.kind) } ?? true }
            return PromotionJSON(id: item.id ?? 0, code: item.code, title: item.title, description: item.description, category: item.category,
                                 price: item.priceCents.map { API.Money($0) }, billingPeriod: item.billingPeriod,
                                 validFrom: item.validFrom, validTo: item.validTo, conditions: details.conditions,
                                 activation: .init(phone: care ?? details.activationPhone),
                                 eligibleLines: eligible.map { .init(id: $0.id ?? 0, identifier: $0.identifier, kind: $0.kind) })
        }
    }

    struct PromotionsPageModel: Encodable {
        struct Promotion: Encodable {
            struct Line: Encodable { var identifier, kind: String }
            var id: Int64
            var title: String
            var description, conditions, price, validTo, phone, phoneHref: String?
            var lines: [Line]
            var hasLines: Bool
        }
        var promotions: [Promotion]
        var hasPromotions: Bool
    }

    private func promotionsPage(context: UserContext) async throws -> Response {
        let list = try await promotions(context: context)
        let locale = context.locale
        let promotions = list.map { promotion in
            PromotionsPageModel.Promotion(
                id: promotion.id, title: promotion.title, description: promotion.description, conditions: promotion.conditions,
                price: promotion.price.map { price in
                    let amount = price.cents == 0 ? t("selfservice.promotions.free", context: context) : Formatting.money(price.cents, locale: locale)
                    let period = promotion.billingPeriod.map { t("selfservice.promotions.period.\($0)", context: context) }
                    return [amount, period].compactMap { $0 }.joined(separator: " ")
                },
                validTo: promotion.validTo.map { Formatting.day($0) },
                phone: promotion.activation.phone,
                phoneHref: promotion.activation.phone.map { "tel:" + $0.filter { $0.isNumber || $0 == "+" } },
                lines: promotion.eligibleLines.map { .init(identifier: $0.identifier, kind: t("selfservice.kind.\($0.kind)", context: context)) },
                hasLines: !promotion.eligibleLines.isEmpty)
        }
        return Pages.render("selfservice_promotions", PromotionsPageModel(promotions: promotions, hasPromotions: !promotions.isEmpty),
                            title: t("selfservice.promotions.title", context: context), context: context)
    }
}
