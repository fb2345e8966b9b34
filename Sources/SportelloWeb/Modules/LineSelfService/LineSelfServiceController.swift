import Foundation
import Hummingbird
import SportelloCore
import SportelloStore

/// WINDTRE self-service (line activation, SIM association, promotions, automatic recharge): one page and a
/// few `/api/v1` operations per feature, each fenced to the customer and, where the role's scope says so,
/// to the user's own line. The pages live in `LineSelfService*.swift`.
struct LineSelfServiceController: ModuleController {
    let services: PortalServices

    enum Feature {
        static let activations = "line_activation.view"
        static let sims = "sim_association.view"
        static let promotions = "promotions.view"
        static let automaticRecharges = "recharges.automatic"
    }

    static let activations = PortalPage(route: Routes.selfServiceActivations, titleKey: "selfservice.activations.title",
                                        features: [Feature.activations])
    static let sims = PortalPage(route: Routes.selfServiceSims, titleKey: "selfservice.sims.title", features: [Feature.sims])
    static let promotions = PortalPage(route: Routes.selfServicePromotions, titleKey: "selfservice.promotions.title",
                                       features: [Feature.promotions])
    static let automaticRecharges = PortalPage(route: Routes.automaticRecharges, titleKey: "selfservice.recharges.title",
                                               features: [Feature.automaticRecharges])

    static let pages: [PortalPage] = [activations, sims, promotions, automaticRecharges]

    /// Amounts of an automatic recharge, in euro (those of an online recharge).
    static var rechargeAmounts: [Int64] { LinesController.rechargeAmounts }
    /// Credit levels, in euro, below which a threshold recharge starts.
    static let thresholds: [Int64] = [2, 3, 5, 10, 15, 20]

    private static let idParameter = APIOperation.Parameter("id", in: "path", description: "Automatic recharge id", schema: .integer)

    static let apiOperations: [APIOperation] = [
        APIOperation("GET", Routes.selfServiceActivations, summary: "Lines being activated, with stage and progress, and the user's \"keep me updated\" choice",
                     feature: Feature.activations, success: (200, "LineActivationList")),
        APIOperation("PUT", Routes.selfServiceKeepUpdated, summary: "Switch the progress messages (\"Tienimi Aggiornato\") on or off, per channel",
                     feature: Feature.activations, requestBody: "KeepUpdatedRequest", success: (200, "KeepUpdated")),
        APIOperation("GET", Routes.selfServiceSims, summary: "The customer's SIMs with the employee each is associated with, and the history of changes",
                     feature: Feature.sims,
                     parameters: [.init("line", description: "Only this SIM's history (line id)", schema: .integer)],
                     success: (200, "SIMAssociationList")),
        APIOperation("GET", Routes.selfServicePromotions, summary: "Promotions on offer to the customer today, the lines each applies to and how to activate it",
                     feature: Feature.promotions, success: (200, "PromotionList")),
        APIOperation("GET", Routes.automaticRecharges, summary: "Automatic recharges of the SIMs the user may act on, and the choices offered",
                     feature: Feature.automaticRecharges, success: (200, "AutomaticRechargeList")),
        APIOperation("POST", Routes.automaticRecharges, summary: "Set up an automatic recharge on a SIM (by threshold or monthly; card or invoice). Simulated: no payment or network system is connected, so no recharge is ever executed or charged",
                     feature: Feature.automaticRecharges, requestBody: "AutomaticRechargeRequest", success: (201, "AutomaticRecharge")),
        APIOperation("PUT", Routes.automaticRecharge, summary: "Change an automatic recharge (the card is kept unless a new one is given)",
                     feature: Feature.automaticRecharges, parameters: [idParameter], requestBody: "AutomaticRechargeRequest",
                     success: (200, "AutomaticRecharge")),
        APIOperation("POST", Routes.suspendAutomaticRecharge, summary: "Suspend an active automatic recharge",
                     feature: Feature.automaticRecharges, parameters: [idParameter], success: (200, "AutomaticRecharge")),
        APIOperation("POST", Routes.resumeAutomaticRecharge, summary: "Resume a suspended automatic recharge",
                     feature: Feature.automaticRecharges, parameters: [idParameter], success: (200, "AutomaticRecharge")),
        APIOperation("DELETE", Routes.automaticRecharge, summary: "Cancel an automatic recharge for good",
                     feature: Feature.automaticRecharges, parameters: [idParameter], success: (200, "AutomaticRecharge")),
    ]

    static let apiSchemas: [String: JSONSchema] = [
        "LineActivationList": .object(["activations": .array(.reference("LineActivation")),
                                       "keep_updated": .reference("KeepUpdated")], required: ["activations"]),
        "LineActivation": .object([
            "id": .integer, "kind": .enumeration(["fixed_line", "sim"]), "identifier": .nullable(.string()), "offer": .string(),
            "site": .nullable(.string()), "requested_on": .string(format: "date"), "expected_on": .nullable(.string(format: "date")),
            "progress": .integer, "stage": .enumeration(LineActivationStage.allCases.map(\.rawValue)), "stage_label": .string(),
            "updated_at": .integer,
        ], required: ["id", "kind", "offer", "requested_on", "progress", "stage", "stage_label", "updated_at"]),
        "KeepUpdated": .object([
            "rule": .string(description: "The notification rule the switch stores"),
            "channels": .array(.object(["channel": .enumeration(Channel.allCases.map(\.rawValue)), "enabled": .boolean],
                                       required: ["channel", "enabled"])),
        ], required: ["rule", "channels"]),
        "KeepUpdatedRequest": .object(["channels": .object(Dictionary(uniqueKeysWithValues: Channel.allCases.map { ($0.rawValue, JSONSchema.boolean) }))],
                                      required: ["channels"]),
        "SIMAssociationList": .object([
            "sims": .array(.object([
                "line_id": .integer, "identifier": .string(), "status": .string(),
                "employee": .nullable(.object(["user_id": .integer, "name": .string()], required: ["user_id", "name"])),
                "associated_since": .nullable(.integer),
            ], required: ["line_id", "identifier", "status", "employee"])),
            "history": .array(.object([
                "id": .integer, "line_id": .integer, "identifier": .string(), "at": .integer,
                "action": .enumeration(["associated", "dissociated"]), "employee": .string(), "user_id": .nullable(.integer),
                "note": .nullable(.string()),
            ], required: ["id", "line_id", "identifier", "at", "action", "employee"])),
        ], required: ["sims", "history"]),
        "PromotionList": .object(["promotions": .array(.reference("Promotion"))], required: ["promotions"]),
        "Promotion": .object([
            "id": .integer, "code": .string(), "title": .string(), "description": .nullable(.string()), "category": .nullable(.string()),
            "price": .nullable(.object(["cents": .integer, "currency": .string()])),
            "billing_period": .nullable(.enumeration(["month", "year", "once"])),
            "valid_from": .nullable(.string(format: "date")), "valid_to": .nullable(.string(format: "date")),
            "conditions": .nullable(.string()),
            "activation": .object(["channel": .enumeration(["phone"]), "phone": .nullable(.string()), "online": .boolean],
                                  required: ["channel", "online"]),
            "eligible_lines": .array(.object(["id": .integer, "identifier": .string(), "kind": .string()], required: ["id", "identifier", "kind"])),
        ], required: ["id", "code", "title", "activation", "eligible_lines"]),
        "AutomaticRechargeList": .object([
            "recharges": .array(.reference("AutomaticRecharge")),
            "lines": .array(.object(["id": .integer, "identifier": .string(), "recharge_id": .nullable(.integer)], required: ["id", "identifier"])),
            "amounts_euro": .array(.integer), "thresholds_euro": .array(.integer),
            "payment_methods": .array(.enumeration(["card", "invoice"])),
        ], required: ["recharges", "lines", "amounts_euro", "thresholds_euro", "payment_methods"]),
        "AutomaticRecharge": .object([
            "id": .integer, "line_id": .integer, "identifier": .string(), "mode": .enumeration(["threshold", "monthly"]),
            "amount": .object(["cents": .integer, "currency": .string()]),
            "threshold": .nullable(.object(["cents": .integer, "currency": .string()])), "day_of_month": .nullable(.integer),
            "payment_method": .enumeration(["card", "invoice"]), "card_last_four": .nullable(.string()), "card_expiry": .nullable(.string()),
            "status": .enumeration(AutomaticRechargeStatus.allCases.map(\.rawValue)), "next_run_on": .nullable(.string(format: "date")),
            "created_at": .integer, "updated_at": .integer,
        ], required: ["id", "line_id", "identifier", "mode", "amount", "payment_method", "status", "created_at", "updated_at"]),
        "AutomaticRechargeRequest": .object([
            "line_id": .integer, "mode": .enumeration(["threshold", "monthly"]), "amount_euro": .integer,
            "threshold_euro": .nullable(.integer), "day_of_month": .nullable(.integer),
            "payment_method": .enumeration(["card", "invoice"]),
            "card_holder": .nullable(.string()), "card_number": .nullable(.string(description: "Luhn-checked; only the last four digits are kept")),
            "card_expiry": .nullable(.string(description: "MM/YY")), "card_cvv": .nullable(.string()),
        ], required: ["mode", "amount_euro", "payment_method"]),
    ]

    func addRoutes(to group: RouterGroup<UserContext>) {
        addActivationRoutes(to: group)
        addSIMRoutes(to: group)
        addPromotionRoutes(to: group)
        addRechargeRoutes(to: group)
    }

    // MARK: Shared helpers

    /// Whether the user may use `feature` on `line`: granted, and the line is theirs when the scope is their own line.
    func may(_ feature: String, on line: LineRecord, context: UserContext) -> Bool {
        guard context.tenant.definition.feature(feature) != nil, context.may(feature) else { return false }
        if context.tenant.authorization.scope(context.session.principal, feature) == .ownLine {
            return line.assignedUserId != nil && line.assignedUserId == context.user.id
        }
        return true
    }

    /// Whether the role narrows `feature` to the user's own line.
    func ownLineOnly(_ feature: String, context: UserContext) -> Bool {
        context.tenant.authorization.scope(context.session.principal, feature) == .ownLine
    }

    /// A UI string in every locale of the tenant (for field problems).
    func text(_ key: String, _ values: [String: String] = [:], context: UserContext) -> LocalizedText {
        context.tenant.localized(key, values)
    }

    func t(_ key: String, _ values: [String: String] = [:], context: UserContext) -> String {
        context.tenant.theme.text(key, locale: context.locale, values)
    }

    func problem(_ field: String, _ code: String, _ key: String, _ values: [String: String] = [:], context: UserContext) -> FieldProblem {
        FieldProblem(field: field, code: code, message: text(key, values, context: context))
    }

    func read<T: Sendable>(_ context: UserContext, _ body: @escaping @Sendable (TenantTransaction) async throws -> T) async throws -> T {
        try await services.database.read(tenant: context.tenant.id, now: services.now, body)
    }

    func write<T: Sendable>(_ context: UserContext, _ body: @escaping @Sendable (TenantTransaction) async throws -> T) async throws -> T {
        try await services.database.write(tenant: context.tenant.id, now: services.now, body)
    }

    static func userName(_ user: UserRecord) -> String {
        [user.firstName, user.lastName].compactMap { $0 }.joined(separator: " ").nonEmpty ?? user.username
    }

    func notice(_ request: Request, _ prefix: String, allowed: [String], context: UserContext) -> String? {
        guard let done = request.uri.queryParameters["done"].map(String.init), allowed.contains(done) else { return nil }
        return t("\(prefix).done.\(done)", context: context)
    }
}
