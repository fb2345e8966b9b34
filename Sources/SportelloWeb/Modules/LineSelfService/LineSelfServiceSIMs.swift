import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

// "Associazione SIM": which employee (user of the customer) each SIM is associated with, and the history
// of associations and dissociations. Read-only in the portal: changes come from staff and imports
// (`TenantTransaction.assignSIM`).

extension LineSelfServiceController {
    struct SIMJSON: Encodable {
        struct Employee: Encodable { var userId: Int64; var name: String }
        var lineId: Int64
        var identifier, status: String
        var employee: Employee?
        var associatedSince: Int64?
    }

    struct SIMEventJSON: Encodable {
        var id, lineId: Int64
        var identifier: String
        var at: Int64
        var action, employee: String
        var userId: Int64?
        var note: String?
    }

    struct SIMListJSON: Encodable { var sims: [SIMJSON]; var history: [SIMEventJSON] }

    struct SIMOverview: Sendable {
        var sims: [LineRecord]
        var users: [Int64: UserRecord]
        var history: [SIMAssignmentRecord]
        /// The history of the SIMs the user may see (before the filter by SIM).
        var allHistory: [SIMAssignmentRecord]
    }

    func addSIMRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.selfServiceSims) { request, context in
            let overview = try await simOverview(lineFilter: try lineFilter(request), context: context)
            return simsPage(overview, selected: try lineFilter(request), context: context)
        }
        group.get(Routes.selfServiceSims.api) { request, context in
            let overview = try await simOverview(lineFilter: try lineFilter(request), context: context)
            let identifiers = Dictionary(uniqueKeysWithValues: overview.sims.map { ($0.id ?? 0, $0.identifier) })
            return API.json(SIMListJSON(
                sims: overview.sims.map { sim in
                    let user = sim.assignedUserId.flatMap { overview.users[$0] }
                    return SIMJSON(lineId: sim.id ?? 0, identifier: sim.identifier, status: sim.status.rawValue,
                                   employee: user.map { .init(userId: $0.id ?? 0, name: Self.userName($0)) },
                                   associatedSince: associatedSince(sim, history: overview.allHistory))
                },
                history: overview.history.map { event in
                    SIMEventJSON(id: event.id ?? 0, lineId: event.lineId, identifier: identifiers[event.lineId] ?? "", at: event.at,
                                 action: event.action, employee: event.userName, userId: event.userId, note: event.note)
                }))
        }
    }

    /// `?line=` as a line id; an unreadable one is a 404 like another customer's line.
    private func lineFilter(_ request: Request) throws -> Int64? {
        guard let raw = request.uri.queryParameters["line"].map(String.init), !raw.isEmpty else { return nil }
        guard let id = Int64(raw) else { throw PortalError.notFound }
        return id
    }

    func simOverview(lineFilter: Int64?, context: UserContext) async throws -> SIMOverview {
        try context.require(page: Self.sims)
        let customerId = context.customer.id ?? 0
        let overview = try await read(context) { transaction in
            let sims = try await transaction.lines(customerId: customerId).filter { $0.kind == "sim" }
            let users = try await transaction.users(customerId: customerId)
            let history = try await transaction.simAssignments(customerId: customerId, limit: 500)
            return SIMOverview(sims: sims, users: Dictionary(uniqueKeysWithValues: users.compactMap { user in user.id.map { ($0, user) } }),
                               history: history, allHistory: history)
        }
        var visible = overview
        visible.sims = overview.sims.filter { may(Feature.sims, on: $0, context: context) }
        let ids = Set(visible.sims.compactMap(\.id))
        visible.allHistory = overview.history.filter { ids.contains($0.lineId) }
        if let lineFilter {
            guard ids.contains(lineFilter) else { throw PortalError.notFound }
            visible.history = visible.allHistory.filter { $0.lineId == lineFilter }
        } else {
            visible.history = visible.allHistory
        }
        return visible
    }

    /// When the SIM's current employee got it: the newest association of that user.
    private func associatedSince(_ sim: LineRecord, history: [SIMAssignmentRecord]) -> Int64? {
        guard let userId = sim.assignedUserId else { return nil }
        return history.first { $0.lineId == sim.id && $0.userId == userId && $0.action == "associated" }?.at
    }

    struct SIMsPageModel: Encodable {
        struct SIM: Encodable {
            var id: Int64
            var identifier, status: String
            var selected: Bool
            var employee, since: String?
        }
        struct Event: Encodable {
            var at, identifier, employee, action, actionClass: String
            var note: String?
        }
        var sims: [SIM]
        var hasSims: Bool
        var history: [Event]
        var hasHistory, filtered: Bool
        var selectedIdentifier: String?
    }

    private func simsPage(_ overview: SIMOverview, selected: Int64?, context: UserContext) -> Response {
        let locale = context.locale
        let identifiers = Dictionary(uniqueKeysWithValues: overview.sims.map { ($0.id ?? 0, $0.identifier) })
        func status(_ value: LineStatus) -> String {
            let key = "contracts.status.\(value.rawValue)"
            let text = t(key, context: context)
            return text == key ? value.rawValue : text
        }
        let model = SIMsPageModel(
            sims: overview.sims.map { sim in
                .init(id: sim.id ?? 0, identifier: sim.identifier, status: status(sim.status), selected: sim.id == selected,
                      employee: sim.assignedUserId.flatMap { overview.users[$0] }.map(Self.userName),
                      since: associatedSince(sim, history: overview.allHistory).map { Formatting.date($0, locale: locale) })
            },
            hasSims: !overview.sims.isEmpty,
            history: overview.history.map { event in
                .init(at: Formatting.dateTime(event.at, locale: locale), identifier: identifiers[event.lineId] ?? "",
                      employee: event.userName, action: t("selfservice.sims.action.\(event.action)", context: context),
                      actionClass: event.action, note: event.note)
            },
            hasHistory: !overview.history.isEmpty,
            filtered: selected != nil,
            selectedIdentifier: selected.flatMap { identifiers[$0] })
        return Pages.render("selfservice_sims", model, title: t("selfservice.sims.title", context: context), context: context)
    }
}
