import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// Contracts with their lines (SIMs, fixed lines, supply points, hosting) and services: status and expiry.
struct ContractsController: ModuleController {
    let services: PortalServices

    /// Unidata `contracts.view`, Tunda `services.view`, TIM `lines.view`.
    static let contracts = PortalPage(route: Routes.contracts, titleKey: "contracts.title", features: ["contracts.view", "services.view", "lines.view"])
    static let pages: [PortalPage] = [contracts]

    static let apiOperations: [APIOperation] = [
        APIOperation("GET", Routes.contracts, summary: "The customer's contracts with their lines and services",
                     feature: "contracts.view", otherFeatures: ["services.view", "lines.view"], success: (200, "ContractList")),
    ]

    static let apiSchemas: [String: JSONSchema] = [
        "ContractList": .object(["contracts": .array(.reference("Contract"))], required: ["contracts"]),
        "Contract": .object([
            "id": .integer, "code": .string(), "offer": .string(), "kind": .string(),
            "status": .enumeration(ContractStatus.allCases.map(\.rawValue)),
            "starts_on": .string(format: "date"), "expires_on": .nullable(.string(format: "date")),
            "lines": .array(.object(["id": .integer, "kind": .string(), "identifier": .string(), "description": .nullable(.string()),
                                     "status": .string(), "activated_on": .nullable(.string(format: "date")),
                                     "expires_on": .nullable(.string(format: "date"))], required: ["id", "kind", "identifier", "status"])),
            "services": .array(.object(["id": .integer, "name": .string(), "status": .string(), "line_id": .nullable(.integer),
                                        "monthly_fee": .object(["cents": .integer, "currency": .string()]),
                                        "expires_on": .nullable(.string(format: "date"))], required: ["id", "name", "status", "monthly_fee"])),
        ], required: ["id", "code", "offer", "kind", "status", "starts_on", "lines", "services"]),
    ]

    struct ContractView: Encodable {
        struct Line: Encodable {
            var id: Int64
            var kind, identifier: String
            var description: String?
            var status: String
            var activatedOn, expiresOn: String?
        }
        struct Service: Encodable {
            var id: Int64
            var name, status: String
            var lineId: Int64?
            var monthlyFee: API.Money
            var expiresOn: String?
        }
        var id: Int64
        var code, offer, kind, status, startsOn: String
        var expiresOn: String?
        var lines: [Line]
        var services: [Service]
    }

    struct ContractList: Encodable { var contracts: [ContractView] }

    func addRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.contracts) { _, context in try await page(context: context) }
        group.get(Routes.contracts.api) { _, context in
            try context.require(page: Self.contracts)
            return API.json(ContractList(contracts: try await load(context: context)))
        }
    }

    /// The customer's contracts; a role whose line feature is scoped to its own line sees only the
    /// lines assigned to the user (and contracts holding them).
    private func load(context: UserContext) async throws -> [ContractView] {
        let customerId = context.customer.id ?? 0
        let feature = Self.contracts.definedFeatures(in: context.tenant.definition).first { context.may($0) }
        let ownLineOnly = feature.flatMap { context.tenant.authorization.scope(context.session.principal, $0) } == .ownLine
        let userId = context.user.id
        let rows = try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
            var result: [(ContractRecord, [LineRecord], [ServiceRecord])] = []
            let lines = try await transaction.lines(customerId: customerId)
            for contract in try await transaction.contracts(customerId: customerId) {
                var own = lines.filter { $0.contractId == contract.id }
                if ownLineOnly { own = own.filter { $0.assignedUserId == userId } }
                if ownLineOnly && own.isEmpty { continue }
                var services = try await transaction.services(contractId: contract.id ?? 0)
                if ownLineOnly { services = services.filter { service in service.lineId.map { id in own.contains { $0.id == id } } ?? true } }
                result.append((contract, own, services))
            }
            return result
        }
        return rows.map { contract, lines, services in
            ContractView(id: contract.id ?? 0, code: contract.code, offer: contract.offer, kind: contract.kind, status: contract.status.rawValue,
                         startsOn: contract.startsOn, expiresOn: contract.expiresOn,
                         lines: lines.map { .init(id: $0.id ?? 0, kind: $0.kind, identifier: $0.identifier, description: $0.description,
                                                  status: $0.status.rawValue, activatedOn: $0.activatedOn, expiresOn: $0.expiresOn) },
                         services: services.map { .init(id: $0.id ?? 0, name: $0.name, status: $0.status.rawValue, lineId: $0.lineId,
                                                        monthlyFee: API.Money($0.monthlyFeeCents), expiresOn: $0.expiresOn) })
        }
    }

    /// What the contracts page shows: each contract with its lines and services, texts in the reader's locale.
    struct PageModel: Encodable {
        struct Contract: Encodable {
            var id: Int64
            var code, offer, kind, status, statusClass, startsOn: String
            var expiresOn: String
            var expiring: Bool
            var lines: [Line]
            var hasLines: Bool
            var services: [Service]
            var hasServices: Bool
        }
        struct Line: Encodable {
            var identifier, kind, description, status, statusClass, activatedOn, expiresOn: String
        }
        struct Service: Encodable {
            var name, status, statusClass, fee, expiresOn, line: String
        }
        var contracts: [Contract]
        var hasContracts: Bool
    }

    private func page(context: UserContext) async throws -> Response {
        try context.require(page: Self.contracts)
        let theme = context.tenant.theme
        let locale = context.locale
        let today = CalendarDay(instant: services.now).description
        let soon = CalendarDay(instant: services.now + 60 * 86_400).description
        func status(_ value: String) -> String { theme.text("contracts.status.\(value)", locale: locale) }
        func kind(_ value: String) -> String {
            let text = theme.text("contracts.kind.\(value)", locale: locale)
            return text == "contracts.kind.\(value)" ? value : text
        }
        let contracts = try await load(context: context)
        let model = PageModel(
            contracts: contracts.map { contract in
                PageModel.Contract(
                    id: contract.id, code: contract.code, offer: contract.offer, kind: kind(contract.kind),
                    status: status(contract.status), statusClass: contract.status,
                    startsOn: Formatting.day(contract.startsOn), expiresOn: Formatting.day(contract.expiresOn),
                    expiring: contract.expiresOn.map { $0 >= today && $0 <= soon } ?? false,
                    lines: contract.lines.map { line in
                        .init(identifier: line.identifier, kind: kind(line.kind), description: line.description ?? "",
                              status: status(line.status), statusClass: line.status,
                              activatedOn: Formatting.day(line.activatedOn), expiresOn: Formatting.day(line.expiresOn))
                    },
                    hasLines: !contract.lines.isEmpty,
                    services: contract.services.map { service in
                        .init(name: service.name, status: status(service.status), statusClass: service.status,
                              fee: Formatting.money(service.monthlyFee.cents, locale: locale), expiresOn: Formatting.day(service.expiresOn),
                              line: service.lineId.flatMap { id in contract.lines.first { $0.id == id }?.identifier } ?? "")
                    },
                    hasServices: !contract.services.isEmpty)
            },
            hasContracts: !contracts.isEmpty)
        return Pages.render("contracts", model, title: theme.text("contracts.title", locale: locale), context: context)
    }
}
