import Foundation
import SportelloCore
import SportelloStore

/// What a catalogue product provides, from its `data` JSON (hosting plans have quotas; add-ons raise one).
public struct HostingProductDetails: Decodable, Sendable {
    /// `domain` (a name typed by the customer), `hosting` (one of the customer's hosting accounts) or nil.
    public var needs: String?
    public var diskMb: Int64?
    public var trafficMb: Int64?
    public var mailboxes: Int64?
    public var extraMailboxes: Int64?

    public init(_ item: CatalogItemRecord) {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        self = item.data.flatMap { try? decoder.decode(HostingProductDetails.self, from: Data($0.utf8)) } ?? HostingProductDetails()
    }

    public init() {}

    public var isHostingPlan: Bool { diskMb != nil }

    /// The quantities offered: years for yearly products, months for monthly ones.
    public static func quantities(for period: String?) -> [Int64] { period == "month" ? [1, 3, 6, 12] : [1, 2, 3] }
}

/// Starting what a customer paid for (Tunda's shop and domains): hosting plans become a contract, a line and a
/// hosting account; other products a service on the domain's contract; domains become active. Each order
/// starts once. Runs on `invoice.paid`, in the payment's transaction, and when pages list orders (paid elsewhere).
public enum HostingProvisioning {
    /// The hosting module's reaction to a paid invoice.
    public static let handlers = [
        DomainEventHandler(on: "invoice.paid", module: "hosting") { event, tenant, transaction in
            guard case .invoicePaid(_, let customerId) = event,
                  tenant.definition.feature("services.buy") != nil || tenant.definition.feature("domains.register") != nil else { return }
            try await startPaidOrders(customerId: customerId, in: transaction)
        },
    ]

    /// Starts every order of `customerId` whose pro-forma is paid and that has not started yet.
    public static func startPaidOrders(customerId: Int64, in transaction: TenantTransaction) async throws {
        let day = CalendarDay(instant: transaction.now)
        for order in try await transaction.paidOrdersAwaitingActivation(customerId: customerId) {
            guard let id = order.id, try await transaction.markOrderActive(id: id, customerId: customerId, on: day.description) else { continue }
            try await provision(order, on: day, at: transaction.now, in: transaction)
            try await transaction.audit("order.activated", targetKind: "order", targetId: String(id),
                                        detail: "\(order.number) \(order.itemCode) \(order.target ?? "")")
        }
    }

    static func provision(_ order: OrderRecord, on day: CalendarDay, at instant: Int64, in transaction: TenantTransaction) async throws {
        let customerId = order.customerId
        let months = Int(order.quantity) * (order.billingPeriod == "month" ? 1 : 12)
        if order.kind == "domain" {
            try await transaction.activateDomain(orderId: order.id ?? 0, customerId: customerId, on: day, years: Int(order.quantity))
            return
        }
        let product = try await transaction.catalogItem(kind: "product", code: order.itemCode)
        let details = product.map(HostingProductDetails.init) ?? HostingProductDetails()
        let expires = day.adding(months: months).description
        let monthlyFee = order.billingPeriod == "month" ? (product?.priceCents ?? 0) : (product?.priceCents ?? 0) / 12
        let lines = try await transaction.lines(customerId: customerId)
        if details.isHostingPlan, let domain = order.target {
            let contractId = try await transaction.insertContract(ContractRecord(
                customerId: customerId, code: order.number, offer: order.title, kind: "hosting", startsOn: day.description, expiresOn: expires))
            let lineId = try await transaction.insertLine(LineRecord(customerId: customerId, contractId: contractId, kind: "hosting",
                                                                     identifier: domain, description: order.title, activatedOn: day.description,
                                                                     expiresOn: expires))
            try await transaction.insertService(ServiceRecord(contractId: contractId, lineId: lineId, name: order.title,
                                                              monthlyFeeCents: monthlyFee, expiresOn: expires))
            var username = String(domain.prefix { $0 != "." }.filter { $0.isLetter || $0.isNumber }.prefix(12))
            if username.isEmpty { username = "web" }
            var candidate = username, suffix = 1
            while try await transaction.hostingUsernameExists(candidate) { suffix += 1; candidate = "\(username)\(suffix)" }
            try await transaction.insertHostingAccount(HostingAccountRecord(
                customerId: customerId, lineId: lineId, orderId: order.id, domain: domain, planCode: order.itemCode, planTitle: order.title,
                server: "web\(1 + (order.id ?? 0) % 12).tunda.it", username: candidate, diskQuotaMb: details.diskMb ?? 0,
                trafficQuotaMb: details.trafficMb ?? 0, mailboxQuota: details.mailboxes ?? 0, expiresOn: expires, createdAt: instant))
            return
        }
        if let extra = details.extraMailboxes, let domain = order.target,
           let account = try await transaction.hostingAccounts(customerId: customerId).first(where: { $0.domain == domain }), let accountId = account.id {
            try await transaction.raiseMailboxQuota(by: extra, hostingAccountId: accountId, customerId: customerId)
        }
        // The service joins the contract of the domain's line, or a contract of its own.
        if let line = lines.first(where: { $0.identifier == order.target }) {
            try await transaction.insertService(ServiceRecord(contractId: line.contractId, lineId: line.id, name: order.title,
                                                              monthlyFeeCents: monthlyFee, expiresOn: expires))
        } else {
            let contractId = try await transaction.insertContract(ContractRecord(
                customerId: customerId, code: order.number, offer: order.title, kind: "hosting", startsOn: day.description, expiresOn: expires))
            try await transaction.insertService(ServiceRecord(contractId: contractId, name: [order.title, order.target].compactMap { $0 }.joined(separator: " – "),
                                                              monthlyFeeCents: monthlyFee, expiresOn: expires))
        }
    }
}
