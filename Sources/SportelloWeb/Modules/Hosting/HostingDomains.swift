import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// Domain registration: the availability check, the order with its pro-forma, the customer's domains.
extension HostingController {
    static let domainOperations: [APIOperation] = [
        APIOperation("GET", Routes.domains, summary: "The customer's domains with expiry and auto-renew, and the extensions on sale with their yearly price",
                     feature: Feature.domains, success: (200, "DomainList")),
        APIOperation("GET", Routes.domainAvailability, summary: "Whether a domain name can be registered: well formed, with a supported extension, not one of this portal's domains, and free at the domain registry (asked through the lookup plugin bound to domains.register). A registry that cannot be asked gives reason registry_unavailable (retry later) or registry_not_configured, never a free name; an answer from a sandbox registry carries sandbox: true",
                     feature: Feature.domains, parameters: [.init("name", required: true, description: "The domain name (rossi-srl.it)")],
                     success: (200, "DomainAvailability")),
        APIOperation("POST", Routes.domains, summary: "Orders the registration of a free domain: creates the order and its pro-forma; registration starts once paid",
                     feature: Feature.domains, requestBody: "DomainOrderRequest", success: (201, "Order")),
        APIOperation("POST", Routes.domainAutoRenew, summary: "Switches automatic renewal of one of the customer's domains on or off",
                     feature: Feature.domains, parameters: [.init("id", in: "path", description: "Domain id", schema: .integer)],
                     requestBody: "AutoRenewRequest", success: (200, "Domain")),
    ]

    static let domainSchemas: [String: JSONSchema] = [
        "Domain": .object([
            "id": .integer, "name": .string(), "extension": .string(), "status": .enumeration(DomainStatus.allCases.map(\.rawValue)),
            "registered_on": .nullable(.string(format: "date")), "expires_on": .nullable(.string(format: "date")), "auto_renew": .boolean,
        ], required: ["id", "name", "extension", "status", "auto_renew"]),
        "DomainExtension": .object(["extension": .string(), "description": .nullable(.string()), "yearly_price": .reference("Money")],
                                   required: ["extension", "yearly_price"]),
        "DomainList": .object(["domains": .array(.reference("Domain")), "extensions": .array(.reference("DomainExtension"))],
                              required: ["domains", "extensions"]),
        "DomainAvailability": .object([
            "name": .string(), "available": .boolean,
            "reason": .nullable(.enumeration(["required", "too_long", "invalid_characters", "invalid_label", "missing_extension",
                                              "unsupported_extension", "taken", "reserved", "registry_unavailable", "registry_not_configured"])),
            "message": .nullable(.string(description: "Why not, in the reader's language")),
            "lookup_error": .nullable(.enumeration(["lookup_unavailable", "lookup_timeout", "lookup_circuit_open", "lookup_invalid_response",
                                                    "lookup_not_configured"])),
            "yearly_price": .nullable(.reference("Money")), "years": .array(.integer),
            "sandbox": .boolean, "sandbox_label": .nullable(.string()),
        ], required: ["name", "available", "years", "sandbox"]),
        "DomainOrderRequest": .object(["name": .string(), "years": .nullable(.integer)], required: ["name"]),
        "AutoRenewRequest": .object(["auto_renew": .boolean], required: ["auto_renew"]),
    ]

    struct DomainView: Encodable {
        var id: Int64
        var name, `extension`, status: String
        var registeredOn, expiresOn: String?
        var autoRenew: Bool
    }

    struct ExtensionView: Encodable { var `extension`: String; var description: String?; var yearlyPrice: API.Money }
    struct DomainList: Encodable { var domains: [DomainView]; var extensions: [ExtensionView] }

    struct DomainAvailability: Encodable {
        var name: String
        var available: Bool
        var reason: String?
        var yearlyPrice: API.Money?
        var years: [Int64]
        var message: String?
        /// Why the registry could not be asked (`lookup_timeout`…), when it could not.
        var lookupError: String?
        /// The registry that answered is a test double.
        var sandbox: Bool
        var sandboxLabel: String?
    }

    struct DomainOrderRequest: Decodable { var name: String?; var years: Int64? }
    struct AutoRenewRequest: Decodable { var autoRenew: Bool }

    func addDomainRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.domains) { request, context in
            try await domainsPage(context: context, checked: query(request, "name"),
                                  notice: notice(request, allowed: ["auto_renew_on", "auto_renew_off"], prefix: "hosting.done", context))
        }
        group.post(Routes.domainRegister) { request, context in
            let form = try await SubmittedForm.read(request, context: context)
            do {
                let order = try await placeDomainOrder(DomainOrderRequest(name: form["name"], years: form.value("years").flatMap { Int64($0) }), context: context)
                return Pages.redirect(Routes.serviceOrders.path(query: ["done": "domain_ordered", "order": String(order.id ?? 0)]))
            } catch PortalError.invalid(let problems) {
                return try await domainsPage(context: context, checked: form["name"], problems: problems)
            }
        }
        group.post(Routes.domainAutoRenew) { request, context in
            let form = try await SubmittedForm.read(request, context: context)
            let on = form["auto_renew"] == "on"
            _ = try await setAutoRenew(domainId: try context.pathId("id"), on: on, context: context)
            return Pages.redirect(Routes.domains.done(on ? "auto_renew_on" : "auto_renew_off"))
        }

        group.get(Routes.domains.api) { _, context in
            let (domains, extensions) = try await domainData(context)
            return API.json(DomainList(domains: domains.map(domainView), extensions: extensions.map {
                ExtensionView(extension: $0.code, description: $0.description, yearlyPrice: API.Money($0.priceCents ?? 0))
            }))
        }
        group.get(Routes.domainAvailability.api) { request, context in
            try context.require(page: Self.domainsPage)
            let check = try await availability(query(request, "name") ?? "", context: context)
            var lookupError: String?
            if case .failed(let error)? = check.registry { lookupError = error.code.rawValue }
            return API.json(DomainAvailability(name: check.name, available: check.problem == nil, reason: check.problem?.code,
                                               yearlyPrice: check.price.map { API.Money($0) },
                                               years: check.problem == nil ? HostingPolicy.registrationYears.map { $0 } : [],
                                               message: check.problem?.message.resolve(context.locale), lookupError: lookupError,
                                               sandbox: check.isSandbox,
                                               sandboxLabel: check.isSandbox ? string("hosting.domains.sandbox", context) : nil))
        }
        group.post(Routes.domains.api) { request, context in
            let body = try await API.decode(DomainOrderRequest.self, from: request, context: context)
            let order = try await placeDomainOrder(body, context: context)
            let proformas = try await read(context) { [customerId = context.customer.id ?? 0] in
                try await $0.invoices(ids: order.invoiceId.map { [$0] } ?? [], customerId: customerId)
            }
            return API.json(orderView(order, proformas: proformas, context: context), status: .created)
        }
        group.post(Routes.domainAutoRenew.api) { request, context in
            let body = try await API.decode(AutoRenewRequest.self, from: request, context: context)
            return API.json(domainView(try await setAutoRenew(domainId: try context.pathId("id"), on: body.autoRenew, context: context)))
        }
    }

    func domainView(_ domain: DomainRecord) -> DomainView {
        DomainView(id: domain.id ?? 0, name: domain.name, extension: domain.tld, status: domain.status.rawValue, registeredOn: domain.registeredOn,
                   expiresOn: domain.expiresOn, autoRenew: domain.autoRenew)
    }

    func domainData(_ context: UserContext) async throws -> ([DomainRecord], [CatalogItemRecord]) {
        try context.require(page: Self.domainsPage)
        try await activatePaidOrders(context)
        let customerId = context.customer.id ?? 0
        let day = today.description
        let type = context.customer.customerType
        return try await read(context) { transaction in
            (try await transaction.domains(customerId: customerId),
             try await transaction.catalogItems(kind: "domain_extension", availableOn: day, to: type))
        }
    }

    /// The availability check of `typed` for the signed-in customer (`DomainCheck`): the portal's own checks first,
    /// then, only for a name that passed them, the registry (outside any transaction).
    func availability(_ typed: String, context: UserContext) async throws -> DomainCheck {
        let type = context.customer.customerType
        let tenant = context.tenant.served
        let local = try await read(context) { try await DomainCheck.run(typed, customerType: type, tenant: tenant, registry: nil, in: $0) }
        guard local.problem == nil else { return local }
        let registry = await DomainRegistry.ask(local.name, tenant: tenant, lookups: services.application.lookups, now: services.now,
                                                locale: context.locale)
        return local.applying(registry, tenant: tenant)
    }

    /// Orders a domain through `PlaceOrder`, the title in the reader's language; every problem at once (422).
    func placeDomainOrder(_ request: DomainOrderRequest, context: UserContext) async throws -> OrderRecord {
        try context.require(page: Self.domainsPage)
        return try await place(.domain(name: request.name ?? "", years: request.years, locale: context.locale), context: context)
    }

    func setAutoRenew(domainId: Int64, on: Bool, context: UserContext) async throws -> DomainRecord {
        try context.require(page: Self.domainsPage)
        try context.require(Feature.domains)
        let customerId = context.customer.id ?? 0
        let userId = context.user.id
        return try await write(context) { transaction in
            guard var domain = try await transaction.domain(id: domainId, customerId: customerId) else { throw PortalError.notFound }
            guard domain.autoRenew != on else { return domain }
            try await transaction.setAutoRenew(on, domainId: domainId, customerId: customerId)
            try await transaction.audit(on ? "domain.auto_renew_on" : "domain.auto_renew_off", actorUserId: userId, targetKind: "domain",
                                        targetId: String(domainId), detail: domain.name)
            domain.autoRenew = on
            return domain
        }
    }

    /// What the domains page shows: the customer's domains, the prices, and the outcome of a check.
    struct DomainsPage: Encodable {
        struct Domain: Encodable {
            var id: Int64
            var name, status, statusClass, registered, expires: String
            var autoRenew, editable: Bool
        }
        struct Extension: Encodable { var name, description, price: String }
        struct Available: Encodable {
            struct Years: Encodable { var value: Int64; var label: String }
            var name, message: String
            var sandboxLabel: String?
            var years: [Years]
        }
        var domains: [Domain]
        var hasDomains: Bool
        var extensions: [Extension]
        var name: String
        var available: Available?
        /// The registry's answer came from a sandbox (also shown when the name is taken).
        var sandboxLabel: String?
        var notice: String?
    }

    private func domainsPage(context: UserContext, checked: String?, notice: String? = nil, problems: [FieldProblem] = []) async throws -> Response {
        let (domains, extensions) = try await domainData(context)
        var model = DomainsPage(
            domains: domains.map { domain in
                .init(id: domain.id ?? 0, name: domain.name, status: label("hosting.domains.status", domain.status, context),
                      statusClass: domain.status.rawValue, registered: Formatting.day(domain.registeredOn), expires: Formatting.day(domain.expiresOn),
                      autoRenew: domain.autoRenew, editable: domain.status != .pending)
            },
            hasDomains: !domains.isEmpty,
            extensions: extensions.map { .init(name: $0.title, description: $0.description ?? "",
                                               price: string("hosting.price.year", context, ["amount": money($0.priceCents ?? 0, context)])) },
            name: checked ?? "", notice: notice)
        var allProblems = problems
        if let checked, !problems.contains(where: { $0.field == "name" }), !checked.trimmingCharacters(in: .whitespaces).isEmpty {
            let check = try await availability(checked, context: context)
            model.name = check.name
            if check.isSandbox, check.problem != nil { model.sandboxLabel = string("hosting.domains.sandbox", context) }
            if let problem = check.problem {
                allProblems.append(problem)
            } else if let price = check.price {
                model.available = .init(
                    name: check.name, message: string("hosting.domains.available", context, ["domain": check.name]),
                    sandboxLabel: check.isSandbox ? string("hosting.domains.sandbox", context) : nil,
                    years: HostingPolicy.registrationYears.map { years in
                        let net = price * years
                        return .init(value: years, label: counted("hosting.order.years_option", years, context,
                                                                  ["total": money(net + HostingPolicy.tax(on: net), context)]))
                    })
            }
        }
        // An unavailable name is an answer to the check, not a failed submission: only a rejected order is 422.
        return Pages.render("hosting_domains", model, errors: allProblems, title: string("hosting.domains.title", context), context: context,
                            status: problems.isEmpty ? .ok : .unprocessableContent)
    }
}
