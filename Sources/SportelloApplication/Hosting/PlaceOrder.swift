import Foundation
import SportelloCore
import SportelloStore

/// What the domain registry said about a name, through the lookup plugin bound to the tenant's `domains.register`
/// feature (`domain_availability`).
public enum DomainRegistryOutcome: Sendable, Equatable {
    /// The registry answered; `sandbox` when the plugin is a test double (every page and answer says so).
    case answered(DomainAvailabilityAnswer, sandbox: Bool)
    /// No answer (down, slow, circuit open) or no plugin bound or connected: nobody knows whether the name is free.
    case failed(LookupError)

    public var isSandbox: Bool { if case .answered(_, let sandbox) = self { sandbox } else { false } }
}

/// Asks the domain registry (the lookup plugin bound to the tenant's `domains.register` feature).
public enum DomainRegistry {
    /// Whether `name` (normalised) is free at the registry. Never throws: a failure is an outcome the page shows.
    public static func ask(_ name: String, tenant: ServedTenant, lookups: LookupServices, now: Int64, locale: String) async -> DomainRegistryOutcome {
        let feature = tenant.definition.boundFeatureId(PlaceOrder.domainFeature) ?? PlaceOrder.domainFeature
        switch lookups.binding(for: feature, operation: .domainAvailability, in: tenant.definition) {
        case .unbound:
            return .failed(LookupError(.notConfigured, plugin: "", "no domain_availability plugin is bound to \(feature)"))
        case .notConnected(let plugin):
            return .failed(LookupError(.notConfigured, plugin: plugin, "plugin \(plugin) is bound but its endpoint or secret is not set"))
        case .bound(let client):
            do {
                let answer = try await client.ask(DomainAvailabilityRequest(domain: name, locale: locale), now: now)
                return .answered(answer, sandbox: client.isSandbox || answer.sandbox == true)
            } catch let error as LookupError {
                return .failed(error)
            } catch {
                return .failed(LookupError(.unavailable, plugin: client.id, "\(error)"))
            }
        }
    }
}

/// Whether a domain name can be ordered: well formed, with an extension on sale to the customer, not one of this
/// portal's domains, and free at the domain registry (asked through a lookup plugin). When the registry cannot be
/// asked, the name is not orderable and the problem says why (`registry_unavailable`, `registry_not_configured`):
/// nothing is ever ordered as if the name were free.
public struct DomainCheck: Sendable {
    /// The name as normalised (`www.Rossi-SRL.it` becomes `rossi-srl.it`), or as typed when it is malformed.
    public var name: String
    /// The extension's yearly price (net), when the extension is on sale to the customer.
    public var price: Int64?
    /// Why the name cannot be ordered, on the `name` field (in every locale of the tenant); nil when it can.
    public var problem: FieldProblem?
    /// What the registry said (nil when it was not asked: the name failed a check of the portal's own first).
    public var registry: DomainRegistryOutcome?

    public init(name: String, price: Int64? = nil, problem: FieldProblem? = nil, registry: DomainRegistryOutcome? = nil) {
        self.name = name; self.price = price; self.problem = problem; self.registry = registry
    }

    /// The answer came from a sandbox registry: shown as "prova"/"sandbox".
    public var isSandbox: Bool { registry?.isSandbox ?? false }

    /// The normalised name worth asking the registry about, nil when `typed` is malformed.
    public static func registryName(_ typed: String) -> String? {
        if case .success(let parsed) = DomainName.normalize(typed) { return parsed.name }
        return nil
    }

    /// Checks `typed` for a customer of `customerType`, with the extensions on sale on the transaction's day.
    /// `registry` is what the registry said about the normalised name (asked before the transaction, never inside it);
    /// nil stops after the portal's own checks (the caller then asks the registry and calls `applying`).
    public static func run(_ typed: String, customerType: String, tenant: ServedTenant, registry: DomainRegistryOutcome?,
                           in transaction: TenantTransaction) async throws -> DomainCheck {
        switch DomainName.normalize(typed) {
        case .failure(let reason):
            return DomainCheck(name: typed.trimmingCharacters(in: .whitespacesAndNewlines),
                               problem: problem(reason.rawValue, "hosting.error.domain.\(reason.rawValue)", tenant: tenant))
        case .success(let parsed):
            let day = CalendarDay(instant: transaction.now).description
            guard let ext = try await transaction.catalogItems(kind: "domain_extension", availableOn: day, to: customerType)
                .first(where: { $0.code == parsed.extension }) else {
                return DomainCheck(name: parsed.name, problem: problem("unsupported_extension", "hosting.error.domain.unsupported_extension",
                                                                       ["extension": ".\(parsed.extension)"], tenant: tenant))
            }
            if try await transaction.domainTaken(parsed.name) {
                return DomainCheck(name: parsed.name, price: ext.priceCents, problem: problem("taken", "hosting.error.domain.taken", ["domain": parsed.name], tenant: tenant))
            }
            let check = DomainCheck(name: parsed.name, price: ext.priceCents)
            return registry.map { check.applying($0, tenant: tenant) } ?? check
        }
    }

    /// This check (which passed the portal's own checks) with the registry's answer.
    public func applying(_ registry: DomainRegistryOutcome, tenant: ServedTenant) -> DomainCheck {
        var check = self
        check.registry = registry
        guard check.problem == nil else { return check }
        switch registry {
        case .answered(let answer, _):
            if !answer.available {
                let reserved = answer.reason == "reserved"
                check.problem = Self.problem(reserved ? "reserved" : "taken", reserved ? "hosting.error.domain.reserved" : "hosting.error.domain.taken",
                                             ["domain": name], tenant: tenant)
            }
        case .failed(let error):
            let configured = error.code != .notConfigured
            check.problem = Self.problem(configured ? "registry_unavailable" : "registry_not_configured",
                                         configured ? "hosting.error.domain.registry_unavailable" : "hosting.error.domain.registry_not_configured",
                                         ["domain": name], tenant: tenant)
        }
        return check
    }

    static func problem(_ code: String, _ key: String, _ values: [String: String] = [:], tenant: ServedTenant) -> FieldProblem {
        FieldProblem(field: "name", code: code, message: tenant.texts.localized(key, in: tenant.definition, values))
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
    /// fields, in every locale of the tenant: a malformed, unsupported or taken domain, a registry that cannot be asked, a domain already hosted, a
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
        // The registry is asked before the transaction opens (a slow registry never holds the database).
        var registry: DomainRegistryOutcome?
        if case .domain(let typed, _, let locale) = input, let name = DomainCheck.registryName(typed) {
            registry = await DomainRegistry.ask(name, tenant: tenant, lookups: services.lookups, now: services.now, locale: locale)
        }
        return try await services.database.write(tenant: tenant.id, now: services.now) { [registry] transaction in
            guard let customer = try await transaction.customer(id: customerId) else {
                throw UseCaseRefusal(code: "not_found", message: "no customer \(customerId)")
            }
            switch input {
            case .product(let code, let domain, let hostingAccountId, let quantity):
                return try await orderProduct(code: code, domain: domain, hostingAccountId: hostingAccountId, quantity: quantity,
                                              customer: customer, userId: userId, tenant: tenant, in: transaction)
            case .domain(let name, let years, let locale):
                return try await orderDomain(name: name, years: years, locale: locale, customer: customer, userId: userId,
                                             tenant: tenant, registry: registry, in: transaction)
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
                             tenant: ServedTenant, registry: DomainRegistryOutcome?, in transaction: TenantTransaction) async throws -> OrderRecord {
        let customerId = customer.id ?? 0
        // A malformed name has no registry outcome; a well-formed one always has one (answered or failed).
        let check = try await DomainCheck.run(typed, customerType: customer.customerType, tenant: tenant,
                                              registry: registry ?? .failed(LookupError(.notConfigured, plugin: "", "not asked")), in: transaction)
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
                                    detail: "\(order.number) \(name) \(years)y total_cents=\(order.totalCents)\(check.isSandbox ? " registry=sandbox" : "")")
        return order
    }
}
