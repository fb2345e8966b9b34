import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

// "Attivazione linee": lines being activated and the "Tienimi Aggiornato" switch. The switch is the user's
// choice for the tenant's notification rule about activations (the rule whose feature is
// `line_activation.view`), so the notification settings page shows the same choice.

extension LineSelfServiceController {
    struct ActivationJSON: Encodable {
        var id: Int64
        var kind: String
        var identifier: String?
        var offer: String
        var site: String?
        var requestedOn: String
        var expectedOn: String?
        var progress: Int64
        var stage, stageLabel: String
        var updatedAt: Int64
    }

    struct KeepUpdatedJSON: Encodable {
        struct ChannelJSON: Encodable { var channel: String; var enabled: Bool }
        var rule: String
        var channels: [ChannelJSON]
    }

    /// `keep_updated` is left out when the tenant has no notification rule for activations.
    struct ActivationListJSON: Encodable {
        var activations: [ActivationJSON]
        var keepUpdated: KeepUpdatedJSON?
    }

    struct KeepUpdatedRequest: Decodable { var channels: [String: Bool] }

    func addActivationRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.selfServiceActivations) { request, context in
            try await activationsPage(context: context, notice: notice(request, "selfservice.activations", allowed: ["saved"], context: context))
        }
        group.post(Routes.selfServiceKeepUpdated) { request, context in
            try context.require(page: Self.activations)
            let form = try await SubmittedForm.read(request, context: context)
            guard let state = try await keepUpdatedState(context: context) else { throw PortalError.notFound }
            let channels = Dictionary(uniqueKeysWithValues: state.channels.map { ($0.channel.rawValue, form["channel.\($0.channel.rawValue)"] == "1") })
            let problems = try await saveKeepUpdated(channels, context: context)
            if !problems.isEmpty { return try await activationsPage(context: context, problems: problems) }
            return Pages.redirect(Routes.selfServiceActivations.done("saved"))
        }
        group.get(Routes.selfServiceActivations.api) { _, context in
            try context.require(page: Self.activations)
            let list = try await activations(context: context)
            let keep = try await keepUpdatedState(context: context)
            return API.json(ActivationListJSON(activations: list.map { json($0, context: context) }, keepUpdated: keep.map(keepJSON)))
        }
        group.put(Routes.selfServiceKeepUpdated.api) { request, context in
            try context.require(page: Self.activations)
            let body = try await API.decode(KeepUpdatedRequest.self, from: request, context: context)
            guard try await keepUpdatedState(context: context) != nil else { throw PortalError.notFound }
            let problems = try await saveKeepUpdated(body.channels, context: context)
            if !problems.isEmpty { throw PortalError.invalid(problems) }
            guard let state = try await keepUpdatedState(context: context) else { throw PortalError.notFound }
            return API.json(keepJSON(state))
        }
    }

    /// The customer's activations in progress the user may see (with an own-line scope, only their line's).
    func activations(context: UserContext) async throws -> [LineActivationRecord] {
        try context.require(page: Self.activations)
        let customerId = context.customer.id ?? 0
        let ownOnly = ownLineOnly(Feature.activations, context: context)
        let userId = context.user.id
        return try await read(context) { transaction in
            let all = try await transaction.lineActivations(customerId: customerId)
            guard ownOnly else { return all }
            let mine = Set(try await transaction.lines(customerId: customerId).filter { $0.assignedUserId == userId }.compactMap(\.id))
            return all.filter { $0.lineId.map(mine.contains) ?? false }
        }
    }

    func json(_ activation: LineActivationRecord, context: UserContext) -> ActivationJSON {
        ActivationJSON(id: activation.id ?? 0, kind: activation.kind, identifier: activation.identifier, offer: activation.offer,
                       site: activation.site, requestedOn: activation.requestedOn, expectedOn: activation.expectedOn,
                       progress: activation.progress, stage: activation.stage,
                       stageLabel: t("selfservice.activations.stage.\(activation.stage)", context: context), updatedAt: activation.updatedAt)
    }

    /// The notification rule behind "Tienimi Aggiornato" in this tenant, if it has one.
    static func keepUpdatedRule(in definition: TenantDefinition) -> (id: String, rule: NotificationRule)? {
        (definition.notifications ?? OrderedMap()).first { $0.value.feature == Feature.activations }.map { ($0.key, $0.value) }
    }

    private func keepUpdatedState(context: UserContext) async throws -> NotificationsController.RuleState? {
        guard let (ruleId, _) = Self.keepUpdatedRule(in: context.tenant.definition) else { return nil }
        let userId = context.user.id ?? 0
        let stored = try await read(context) { try await $0.notificationPreferences(userId: userId) }
        return NotificationsController.states(context, stored: stored).first { $0.id == ruleId }
    }

    private func keepJSON(_ state: NotificationsController.RuleState) -> KeepUpdatedJSON {
        KeepUpdatedJSON(rule: state.id, channels: state.channels.map { .init(channel: $0.channel.rawValue, enabled: $0.enabled) })
    }

    /// Stores the switch through the notification preferences (validated and audited there).
    private func saveKeepUpdated(_ channels: [String: Bool], context: UserContext) async throws -> [FieldProblem] {
        guard let (ruleId, _) = Self.keepUpdatedRule(in: context.tenant.definition) else { throw PortalError.notFound }
        let problems = try await NotificationsController(services: services).apply(
            [.init(id: ruleId, channels: channels, threshold: nil, thresholdText: nil)], context: context)
        // Field names as this page and its API know them.
        return problems.map { problem in
            var renamed = problem
            if let channel = problem.field.split(separator: ".").last, problem.field.contains(".channels.") {
                renamed.field = "channels.\(channel)"
            }
            return renamed
        }
    }

    struct ActivationsPageModel: Encodable {
        struct Activation: Encodable {
            var id: Int64
            var offer, kind, requestedOn: String
            var progress: Int64
            var stage, updatedAt: String
            var identifier, site, expectedOn: String?
        }
        struct KeepUpdated: Encodable {
            struct Channel: Encodable {
                var name, id: String
                var checked: Bool
                var label: String
            }
            var channels: [Channel]
            var on: Bool
        }
        var activations: [Activation]
        var hasActivations: Bool
        var keepUpdated: KeepUpdated?
        var notice: String?
    }

    private func activationsPage(context: UserContext, notice: String? = nil, problems: [FieldProblem] = []) async throws -> Response {
        let list = try await activations(context: context)
        let keep = try await keepUpdatedState(context: context)
        let locale = context.locale
        let model = ActivationsPageModel(
            activations: list.map { activation in
                .init(id: activation.id ?? 0, offer: activation.offer, kind: t("selfservice.kind.\(activation.kind)", context: context),
                      requestedOn: Formatting.day(activation.requestedOn), progress: activation.progress,
                      stage: t("selfservice.activations.stage.\(activation.stage)", context: context),
                      updatedAt: Formatting.dateTime(activation.updatedAt, locale: locale),
                      identifier: activation.identifier, site: activation.site, expectedOn: activation.expectedOn.map { Formatting.day($0) })
            },
            hasActivations: !list.isEmpty,
            keepUpdated: keep.map { keep in
                .init(channels: keep.channels.map { channel in
                          .init(name: "channel.\(channel.channel.rawValue)", id: "keep-\(channel.channel.rawValue)", checked: channel.enabled,
                                label: t("selfservice.activations.keep.channel.\(channel.channel.rawValue)", context: context))
                      },
                      on: keep.channels.contains { $0.enabled })
            },
            notice: notice)
        return Pages.render("selfservice_activations", model, errors: problems, title: t("selfservice.activations.title", context: context),
                            context: context, status: problems.isEmpty ? .ok : .unprocessableContent)
    }
}

// MARK: - Progress reported by staff or an import

/// Records an activation's progress and e-mails the users who asked to be kept updated. Staff tools and
/// imports call this (the store function does the work; this adds the tenant's roles and mail templates).
public enum LineActivationProgress {
    /// The subscription for `customer` of `tenant`: the rule behind "Tienimi Aggiornato", the role check,
    /// and the `line_activation_progress` e-mail in the tenant's default language.
    static func subscription(tenant: PortalTenant, customer: CustomerRecord, services: PortalServices) -> LineActivationSubscription? {
        guard let (ruleId, rule) = LineSelfServiceController.keepUpdatedRule(in: tenant.definition),
              rule.channels.contains(.email) else { return nil }
        let definition = tenant.definition
        let locale = definition.locales.default
        let mail = services.mail
        let pageURL = services.baseURL(for: tenant) + Routes.selfServiceActivations.path()
        let portalURL = services.baseURL(for: tenant)
        let customerType = customer.customerType
        return LineActivationSubscription(
            rule: ruleId, defaultEnabled: rule.default ?? false,
            mayReceive: { user in
                guard let principal = try? tenant.authorization.principal(role: user.role, toggles: Set(user.toggleList),
                                                                          customerType: customerType) else { return false }
                return tenant.authorization.isAllowed(principal, LineSelfServiceController.Feature.activations)
            },
            compose: { activation, user in
                var values: [String: String] = [
                    "name": LineSelfServiceController.userName(user), "offer": activation.offer,
                    "stage": tenant.theme.text("selfservice.activations.stage.\(activation.stage)", locale: locale),
                    "progress": String(activation.progress), "page_url": pageURL, "portal_url": portalURL,
                    "requested_on": Formatting.day(activation.requestedOn),
                    "line": activation.identifier ?? activation.offer,
                ]
                if let expected = activation.expectedOn { values["expected_on"] = Formatting.day(expected) }
                if let site = activation.site { values["site"] = site }
                if activation.status == .completed { values["completed"] = "1" }
                return try mail.compose(kind: "line_activation_progress", tenant: definition, locale: locale,
                                        recipient: user.email ?? "", values: values, createdAt: services.now)
            })
    }

    /// Moves activation `id` of `tenant` to `stage` (and `progress`, `expectedOn`), queueing the e-mails in
    /// the same transaction and waking the delivery worker once it commits.
    @discardableResult
    public static func advance(id: Int64, stage: LineActivationStage, progress: Int64? = nil, expectedOn: String? = nil,
                               actorUserId: Int64? = nil, tenant: PortalTenant, services: PortalServices) async throws -> LineActivationChange {
        let change = try await services.database.write(tenant: tenant.id, now: services.now) { transaction in
            guard let activation = try await transaction.lineActivation(id: id),
                  let customer = try await transaction.customer(id: activation.customerId) else {
                throw StoreError(.notFound, "no line activation \(id)")
            }
            return try await transaction.advanceLineActivation(
                id: id, stage: stage, progress: progress, expectedOn: expectedOn, actorUserId: actorUserId,
                subscription: subscription(tenant: tenant, customer: customer, services: services))
        }
        if !change.notifiedUserIds.isEmpty { services.mailQueued() }
        return change
    }
}
