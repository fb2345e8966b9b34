import Foundation
import SportelloCore
import SportelloStore

/// Whether a domain name can be ordered: well formed, with an extension on sale to the customer, and not taken.
/// No registry is asked: only this portal's domains and a labelled list of well-known names count as taken.
public struct DomainCheck: Sendable {
    /// The name as normalised (`www.Rossi-SRL.it` becomes `rossi-srl.it`), or as typed when it is malformed.
    public var name: String
    /// The extension's yearly price (net), when the extension is on sale to the customer.
    public var price: Int64?
    /// Why the name cannot be ordered, on the `name` field (in every locale of the tenant); nil when it can.
    public var problem: FieldProblem?

    public init(name: String, price: Int64? = nil, problem: FieldProblem? = nil) {
        self.name = name; self.price = price; self.problem = problem
    }

    /// A clearly labelled demo list: names everybody knows are registered, under any extension. Until a
    /// registry lookup is connected, these (and this portal's own domains) are the only names the check
    /// knows to be taken; every answer says the check is a demo.
    public static let wellKnownRegisteredLabels: Set<String> = [
        "google", "youtube", "gmail", "facebook", "instagram", "whatsapp", "amazon", "apple", "microsoft", "bing", "yahoo",
        "wikipedia", "twitter", "linkedin", "netflix", "tiktok", "paypal", "ebay", "booking", "zalando", "spotify",
        "repubblica", "corriere", "gazzetta", "ilsole24ore", "ansa", "rai", "mediaset", "poste", "posteitaliane", "inps",
        "agenziaentrate", "governo", "tim", "telecomitalia", "windtre", "wind", "vodafone", "iliad", "fastweb", "enel", "eni",
        "aruba", "register", "tunda", "unidata", "unogas", "unicredit", "intesasanpaolo", "trenitalia", "italo", "alitalia", "ita-airways",
    ]

    /// Checks `typed` for a customer of `customerType`, with the extensions on sale on the transaction's day.
    public static func run(_ typed: String, customerType: String, tenant: ServedTenant, in transaction: TenantTransaction) async throws -> DomainCheck {
        func problem(_ code: String, _ key: String, _ values: [String: String] = [:]) -> FieldProblem {
            FieldProblem(field: "name", code: code, message: tenant.texts.localized(key, in: tenant.definition, values))
        }
        switch DomainName.normalize(typed) {
        case .failure(let reason):
            return DomainCheck(name: typed.trimmingCharacters(in: .whitespacesAndNewlines),
                               problem: problem(reason.rawValue, "hosting.error.domain.\(reason.rawValue)"))
        case .success(let parsed):
            let day = CalendarDay(instant: transaction.now).description
            guard let ext = try await transaction.catalogItems(kind: "domain_extension", availableOn: day, to: customerType)
                .first(where: { $0.code == parsed.extension }) else {
                return DomainCheck(name: parsed.name, problem: problem("unsupported_extension", "hosting.error.domain.unsupported_extension",
                                                                       ["extension": ".\(parsed.extension)"]))
            }
            if try await transaction.domainTaken(parsed.name) || wellKnownRegisteredLabels.contains(parsed.label) {
                return DomainCheck(name: parsed.name, price: ext.priceCents, problem: problem("taken", "hosting.error.domain.taken", ["domain": parsed.name]))
            }
            return DomainCheck(name: parsed.name, price: ext.priceCents)
        }
    }
}

/// A customer's user orders from the shop (Tunda): a product of the catalogue, or the registration of a domain.
/// The order and its pro-forma (payable for `HostingPolicy.proformaDays` days) are written in one transaction, with
/// the audit record; a domain is reserved for the customer at once. What was ordered starts once the pro-forma is
/// paid (`HostingProvisioning`).
public struct PlaceOrder: Sendable {
    /// The feature that lets a role buy products.
    public static let productFeature = "services.buy"
    /// The feature that lets a role register domains.
    public static let domainFeature = "domains.register"

    /// What is ordered.
    public enum Input: Sendable {
        /// A product on sale to the customer. `domain` is for products that apply to a domain (hosting plans, SSL),
        /// `hostingAccountId` for add-ons to one of the customer's active hosting accounts; `quantity` counts the
        /// product's billing periods (the first quantity offered when nil).
        case product(code: String, domain: String?, hostingAccountId: Int64?, quantity: Int64?)
        /// A domain for `years` (one when nil); the order's title is written in `locale`.
        case domain(name: String, years: Int64?, locale: String)
    }

    let services: ApplicationServices

    public init(services: ApplicationServices) { self.services = services }

    /// Places the order; the result carries the pro-forma's id. Refusals: `forbidden` (the role may not buy that, or
    /// staff), `not_found` (no such product on sale to the customer), `invalid` (every problem at once, on the input's
    /// fields, in every locale of the tenant: a malformed, unsupported or taken domain, a domain already hosted, a
    /// hosting account that is not one of the customer's active ones, a quantity or a number of years not offered).
    public func callAsFunction(tenant: ServedTenant, acting: Acting, _ input: Input) async throws -> OrderRecord {
        let feature: String
        switch input {
        case .product: feature = Self.productFeature
        case .domain: feature = Self.domainFeature
        }
        guard case .user(_, let userId, let customerId) = acting, acting.may(feature, in: tenant) else {
            throw UseCaseRefusal(code: "forbidden", message: "the role may not use \(feature)")
        }
        return try await services.database.write(tenant: tenant.id, now: services.now) { transaction in
            guard let customer = try await transaction.customer(id: customerId) else {
                throw UseCaseRefusal(code: "not_found", message: "no customer \(customerId)")
            }
            switch input {
            case .product(let code, let domain, let hostingAccountId, let quantity):
                return try await orderProduct(code: code, domain: domain, hostingAccountId: hostingAccountId, quantity: quantity,
                                              customer: customer, userId: userId, tenant: tenant, in: transaction)
            case .domain(let name, let years, let locale):
                return try await orderDomain(name: name, years: years, locale: locale, customer: customer, userId: userId,
                                             tenant: tenant, in: transaction)
            }
        }
    }

    private func orderProduct(code: String, domain: String?, hostingAccountId: Int64?, quantity: Int64?, customer: CustomerRecord,
                              userId: Int64?, tenant: ServedTenant, in transaction: TenantTransaction) async throws -> OrderRecord {
        let customerId = customer.id ?? 0
        let today = CalendarDay(instant: transaction.now)
        guard let product = try await transaction.catalogItems(kind: "product", availableOn: today.description, to: customer.customerType)
            .first(where: { $0.code == code }) else {
            throw UseCaseRefusal(code: "not_found", message: "no product \(code) on sale to this customer")
        }
        func problem(_ field: String, _ code: String, _ key: String, _ values: [String: String] = [:]) -> FieldProblem {
            FieldProblem(field: field, code: code, message: tenant.texts.localized(key, in: tenant.definition, values))
        }
        let details = HostingProductDetails(product)
        let accounts = try await transaction.hostingAccounts(customerId: customerId)
        var problems: [FieldProblem] = []
        var target: String?
        switch details.needs {
        case "domain":
            switch DomainName.normalize(domain ?? "") {
            case .success(let name):
                target = name.name
                if details.isHostingPlan, accounts.contains(where: { $0.domain == name.name }) {
                    problems.append(problem("domain", "already_hosted", "hosting.error.already_hosted", ["domain": name.name]))
                }
            case .failure(let reason):
                problems.append(problem("domain", reason.rawValue, "hosting.error.domain.\(reason.rawValue)"))
            }
        case "hosting":
            if let account = accounts.first(where: { $0.id == hostingAccountId && $0.status == .active }) {
                target = account.domain
            } else {
                problems.append(problem("hosting_account_id", hostingAccountId == nil ? "required" : "invalid", "hosting.error.hosting_account"))
            }
        default:
            break
        }
        let quantities = HostingProductDetails.quantities(for: product.billingPeriod)
        let quantity = quantity ?? quantities[0]
        if !quantities.contains(quantity) {
            problems.append(problem("quantity", "invalid", "hosting.error.quantity"))
        }
        guard problems.isEmpty else { throw UseCaseRefusal(code: "invalid", message: "the order is not valid", problems: problems) }
        let net = (product.priceCents ?? 0) * quantity
        let draft = OrderRecord(customerId: customerId, userId: userId, number: "", kind: "product", itemCode: product.code,
                                title: product.title, target: target, billingPeriod: product.billingPeriod, quantity: quantity,
                                netCents: net, taxCents: HostingPolicy.tax(on: net), totalCents: net + HostingPolicy.tax(on: net),
                                createdAt: transaction.now)
        let order = try await transaction.placeOrder(draft, issuedOn: today, proformaDays: HostingPolicy.proformaDays)
        try await transaction.audit("order.created", actorUserId: userId, targetKind: "order", targetId: String(order.id ?? 0),
                                    detail: "\(order.number) \(order.itemCode) x\(order.quantity) \(order.target ?? "") total_cents=\(order.totalCents)")
        return order
    }

    private func orderDomain(name typed: String, years: Int64?, locale: String, customer: CustomerRecord, userId: Int64?,
                             tenant: ServedTenant, in transaction: TenantTransaction) async throws -> OrderRecord {
        let customerId = customer.id ?? 0
        let check = try await DomainCheck.run(typed, customerType: customer.customerType, tenant: tenant, in: transaction)
        var problems = check.problem.map { [$0] } ?? []
        let years = years ?? 1
        if !HostingPolicy.registrationYears.contains(years) {
            problems.append(FieldProblem(field: "years", code: "invalid", message: tenant.texts.localized("hosting.error.years", in: tenant.definition)))
        }
        guard problems.isEmpty, let price = check.price else {
            throw UseCaseRefusal(code: "invalid", message: "the domain cannot be ordered", problems: problems)
        }
        let name = check.name
        let net = price * years
        let tld = String(name.split(separator: ".", maxSplits: 1).last ?? "")
        let draft = OrderRecord(customerId: customerId, userId: userId, number: "", kind: "domain", itemCode: tld,
                                title: tenant.texts.text("hosting.domains.order_title", locale: locale, ["domain": name]), target: name,
                                billingPeriod: "year", quantity: years, netCents: net, taxCents: HostingPolicy.tax(on: net),
                                totalCents: net + HostingPolicy.tax(on: net), createdAt: transaction.now)
        let order = try await transaction.placeOrder(draft, issuedOn: CalendarDay(instant: transaction.now), proformaDays: HostingPolicy.proformaDays)
        // The unique name settles a race between two customers ordering the same free name.
        try await transaction.insertDomain(DomainRecord(customerId: customerId, orderId: order.id, name: name, tld: tld,
                                                        status: .pending, autoRenew: true, createdAt: transaction.now))
        try await transaction.audit("domain.ordered", actorUserId: userId, targetKind: "order", targetId: String(order.id ?? 0),
                                    detail: "\(order.number) \(name) \(years)y total_cents=\(order.totalCents)")
        return order
    }
}
