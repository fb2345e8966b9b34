import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// Buying services: the shop, the order form, the orders with their pro-forma, and starting what was paid.
extension HostingController {
    static let shopOperations: [APIOperation] = [
        APIOperation("GET", Routes.serviceProducts, summary: "Products on sale (hosting plans, SSL, backup, e-mail, PEC) with price and billing period",
                     feature: Feature.buy, success: (200, "ProductList")),
        APIOperation("POST", Routes.serviceOrders, summary: "Orders a product: creates the order and its pro-forma; the service starts once the pro-forma is paid",
                     feature: Feature.buy, requestBody: "ProductOrderRequest", success: (201, "Order")),
        APIOperation("GET", Routes.serviceOrders, summary: "The customer's orders (products and domain registrations) with status and pro-forma",
                     feature: Feature.buy, otherFeatures: [Feature.domains], success: (200, "OrderList")),
    ]

    static let shopSchemas: [String: JSONSchema] = [
        "Product": .object([
            "code": .string(), "title": .string(), "description": .nullable(.string()), "category": .string(),
            "price": .reference("Money"), "billing_period": .enumeration(["year", "month", "once"]),
            "needs": .nullable(.enumeration(["domain", "hosting"])), "quantities": .array(.integer),
            "disk_mb": .nullable(.integer), "traffic_mb": .nullable(.integer), "mailboxes": .nullable(.integer),
        ], required: ["code", "title", "category", "price", "billing_period", "quantities"]),
        "ProductList": .object(["products": .array(.reference("Product")), "vat_percent": .integer], required: ["products", "vat_percent"]),
        "ProductOrderRequest": .object([
            "product_code": .string(), "domain": .nullable(.string(description: "For products that apply to a domain")),
            "hosting_account_id": .nullable(.integer), "quantity": .nullable(.integer),
        ], required: ["product_code"]),
        "Order": .object([
            "id": .integer, "number": .string(), "kind": .enumeration(["product", "domain"]), "item_code": .string(), "title": .string(),
            "target": .nullable(.string()), "quantity": .integer, "billing_period": .nullable(.string()),
            "net": .reference("Money"), "tax": .reference("Money"), "total": .reference("Money"),
            "status": .enumeration(OrderStatus.allCases.map(\.rawValue)), "created_at": .string(format: "date-time"), "activated_on": .nullable(.string(format: "date")),
            "proforma": .nullable(.object(["id": .integer, "number": .string(), "status": .string(), "due_on": .string(format: "date"),
                                           "href": .string()], required: ["id", "number", "status", "due_on", "href"])),
        ], required: ["id", "number", "kind", "item_code", "title", "quantity", "net", "tax", "total", "status", "created_at"]),
        "OrderList": .object(["orders": .array(.reference("Order"))], required: ["orders"]),
    ]

    struct ProductView: Encodable {
        var code, title: String
        var description: String?
        var category: String
        var price: API.Money
        var billingPeriod: String
        var needs: String?
        var quantities: [Int64]
        var diskMb, trafficMb, mailboxes: Int64?
    }

    struct ProductList: Encodable { var products: [ProductView]; var vatPercent: Int64 }

    struct OrderView: Encodable {
        struct Proforma: Encodable { var id: Int64; var number, status, dueOn, href: String }
        var id: Int64
        var number, kind, itemCode, title: String
        var target: String?
        var quantity: Int64
        var billingPeriod: String?
        var net, tax, total: API.Money
        var status: String
        var createdAt: String
        var activatedOn: String?
        var proforma: Proforma?
    }

    struct OrderList: Encodable { var orders: [OrderView] }

    struct ProductOrderRequest: Decodable {
        var productCode: String
        var domain: String?
        var hostingAccountId: Int64?
        var quantity: Int64?
    }

    func addShopRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.serviceShop) { _, context in try await shopPage(context: context) }
        group.get(Routes.serviceShopProduct) { _, context in try await productPage(context: context, form: nil, problems: []) }
        group.post(Routes.serviceShopProduct) { request, context in
            let form = try await SubmittedForm.read(request, context: context)
            let order = ProductOrderRequest(productCode: context.parameters.get("code") ?? "", domain: form.value("domain"),
                                            hostingAccountId: form.value("hosting_account_id").flatMap { Int64($0) },
                                            quantity: form.value("quantity").flatMap { Int64($0) })
            do {
                let placed = try await placeProductOrder(order, context: context)
                return Pages.redirect(Routes.serviceOrders.path(query: ["done": "ordered", "order": String(placed.id ?? 0)]))
            } catch PortalError.invalid(let problems) {
                return try await productPage(context: context, form: form, problems: problems)
            }
        }
        group.get(Routes.serviceOrders) { request, context in try await ordersPage(request, context: context) }

        group.get(Routes.serviceProducts.api) { _, context in
            try context.require(page: Self.shop)
            let products = try await availableProducts(context)
            return API.json(ProductList(products: products.map(productView), vatPercent: HostingPolicy.vatPercent))
        }
        group.post(Routes.serviceOrders.api) { request, context in
            let body = try await API.decode(ProductOrderRequest.self, from: request, context: context)
            let order = try await placeProductOrder(body, context: context)
            let proformas = try await read(context) { [customerId = context.customer.id ?? 0] in
                try await $0.invoices(ids: order.invoiceId.map { [$0] } ?? [], customerId: customerId)
            }
            return API.json(orderView(order, proformas: proformas, context: context), status: .created)
        }
        group.get(Routes.serviceOrders.api) { _, context in
            let (orders, proformas) = try await loadOrders(context)
            return API.json(OrderList(orders: orders.map { orderView($0, proformas: proformas, context: context) }))
        }
    }

    // MARK: Reading

    func availableProducts(_ context: UserContext) async throws -> [CatalogItemRecord] {
        let day = today.description
        let type = context.customer.customerType
        return try await read(context) { try await $0.catalogItems(kind: "product", availableOn: day, to: type) }
    }

    func productView(_ item: CatalogItemRecord) -> ProductView {
        let details = HostingProductDetails(item)
        return ProductView(code: item.code, title: item.title, description: item.description, category: item.category ?? "other",
                           price: API.Money(item.priceCents ?? 0), billingPeriod: item.billingPeriod ?? "once", needs: details.needs,
                           quantities: HostingProductDetails.quantities(for: item.billingPeriod), diskMb: details.diskMb,
                           trafficMb: details.trafficMb, mailboxes: details.mailboxes)
    }

    func loadOrders(_ context: UserContext) async throws -> ([OrderRecord], [Int64: InvoiceRecord]) {
        try context.require(page: Self.orders)
        try await activatePaidOrders(context)
        let customerId = context.customer.id ?? 0
        let mayDomains = context.may(Feature.domains), mayProducts = context.may(Feature.buy)
        return try await read(context) { transaction in
            let orders = try await transaction.orders(customerId: customerId).filter { $0.kind == "domain" ? mayDomains : mayProducts }
            return (orders, try await transaction.invoices(ids: orders.compactMap(\.invoiceId), customerId: customerId))
        }
    }

    func orderView(_ order: OrderRecord, proformas: [Int64: InvoiceRecord], context: UserContext) -> OrderView {
        let proforma = order.invoiceId.flatMap { id in proformas[id].map { (id, $0) } }.map { id, invoice in
            OrderView.Proforma(id: id, number: invoice.number, status: invoice.status.rawValue, dueOn: invoice.dueOn, href: Routes.invoice.api.path(id))
        }
        let created = LocalTime.isoUTC(order.createdAt)
        return OrderView(id: order.id ?? 0, number: order.number, kind: order.kind, itemCode: order.itemCode, title: order.title,
                         target: order.target, quantity: order.quantity, billingPeriod: order.billingPeriod,
                         net: API.Money(order.netCents), tax: API.Money(order.taxCents), total: API.Money(order.totalCents),
                         status: order.status.rawValue, createdAt: created, activatedOn: order.activatedOn, proforma: proforma)
    }

    // MARK: Ordering

    /// Orders a product through `PlaceOrder`: 404 for a product not on sale, every problem at once (422).
    func placeProductOrder(_ request: ProductOrderRequest, context: UserContext) async throws -> OrderRecord {
        try context.require(page: Self.shop)
        return try await place(.product(code: request.productCode, domain: request.domain, hostingAccountId: request.hostingAccountId,
                                        quantity: request.quantity), context: context)
    }

    /// Places an order through the `PlaceOrder` use case, its refusals as HTTP answers: 403 when the role may not
    /// order that, 404 for a product not on sale, 422 with the problems next to their fields.
    func place(_ input: PlaceOrder.Input, context: UserContext) async throws -> OrderRecord {
        do {
            return try await PlaceOrder(services: services.application)(tenant: context.tenant.served, acting: context.acting, input)
        } catch let refusal as UseCaseRefusal {
            switch refusal.code {
            case "invalid": throw PortalError.invalid(refusal.problems)
            case "forbidden":
                if case .domain = input { throw PortalError.forbidden(feature: Feature.domains) }
                throw PortalError.forbidden(feature: Feature.buy)
            default: throw PortalError.notFound
            }
        }
    }

    // MARK: Starting what was paid

    /// Starts the customer's orders whose pro-forma has been paid (on the invoices page, by PayPal or by
    /// Tunda's staff): hosting plans become a contract, a line and a hosting account; other products a
    /// service on the domain's contract; domains become active. Each order starts once.
    func activatePaidOrders(_ context: UserContext) async throws {
        let customerId = context.customer.id ?? 0
        let waiting = try await read(context) { try await $0.paidOrdersAwaitingActivation(customerId: customerId) }
        guard !waiting.isEmpty else { return }
        try await write(context) { transaction in try await HostingProvisioning.startPaidOrders(customerId: customerId, in: transaction) }
    }

    // MARK: Pages

    private func priceLabel(_ cents: Int64, period: String?, _ context: UserContext) -> String {
        string("hosting.price.\(period ?? "once")", context, ["amount": money(cents, context)])
    }

    /// What the shop shows: the products on sale by category.
    struct ShopPage: Encodable {
        struct Category: Encodable {
            var id, label: String
            var products: [Product]
        }
        struct Product: Encodable {
            var code, title, description, price: String
            var facts: [String]
            var hasFacts: Bool
        }
        var categories: [Category]
        var hasProducts, mayDomains: Bool
    }

    private func shopPage(context: UserContext) async throws -> Response {
        try context.require(page: Self.shop)
        let products = try await availableProducts(context)
        var categories: [String] = []
        for product in products where !categories.contains(product.category ?? "other") { categories.append(product.category ?? "other") }
        let model = ShopPage(
            categories: categories.map { category in
                ShopPage.Category(
                    id: category, label: label("hosting.category", category, context),
                    products: products.filter { ($0.category ?? "other") == category }.map { item in
                        let details = HostingProductDetails(item)
                        var facts: [String] = []
                        if let disk = details.diskMb { facts.append(string("hosting.plan.disk", context, ["value": Self.size(disk)])) }
                        if let traffic = details.trafficMb { facts.append(string("hosting.plan.traffic", context, ["value": Self.size(traffic)])) }
                        if let boxes = details.mailboxes { facts.append(string("hosting.plan.mailboxes", context, ["value": String(boxes)])) }
                        return ShopPage.Product(code: item.code, title: item.title, description: item.description ?? "",
                                                price: priceLabel(item.priceCents ?? 0, period: item.billingPeriod, context),
                                                facts: facts, hasFacts: !facts.isEmpty)
                    })
            },
            hasProducts: !products.isEmpty,
            mayDomains: context.may(Feature.domains) && context.tenant.definition.feature(Feature.domains) != nil)
        return Pages.render("hosting_shop", model, title: string("hosting.shop.title", context), context: context)
    }

    /// What a product's order form shows.
    struct ProductPage: Encodable {
        struct Account: Encodable { var id: Int64; var domain: String; var selected: Bool }
        struct Quantity: Encodable { var value: Int64; var selected: Bool; var label: String }
        var code, productTitle, description, price: String
        var needsDomain, needsHosting: Bool
        var domain: String
        var accounts: [Account]
        var hasAccounts, canOrder: Bool
        var quantityLabel: String
        var quantities: [Quantity]
        var vat: String
    }

    private func productPage(context: UserContext, form: SubmittedForm?, problems: [FieldProblem]) async throws -> Response {
        try context.require(page: Self.shop)
        try context.require(Feature.buy)
        let code = context.parameters.get("code") ?? ""
        guard let product = try await availableProducts(context).first(where: { $0.code == code }) else { throw PortalError.notFound }
        let details = HostingProductDetails(product)
        let customerId = context.customer.id ?? 0
        let accounts = try await read(context) { try await $0.hostingAccounts(customerId: customerId) }.filter { $0.status == .active }
        let chosenQuantity = form?.value("quantity").flatMap { Int64($0) } ?? HostingProductDetails.quantities(for: product.billingPeriod)[0]
        let chosenAccount = form?.value("hosting_account_id").flatMap { Int64($0) }
        let price = product.priceCents ?? 0
        let model = ProductPage(
            code: product.code, productTitle: product.title, description: product.description ?? "",
            price: priceLabel(price, period: product.billingPeriod, context),
            needsDomain: details.needs == "domain", needsHosting: details.needs == "hosting",
            domain: form?["domain"] ?? "",
            accounts: accounts.map { .init(id: $0.id ?? 0, domain: $0.domain, selected: $0.id == chosenAccount) },
            hasAccounts: !accounts.isEmpty,
            canOrder: details.needs != "hosting" || !accounts.isEmpty,
            quantityLabel: string(product.billingPeriod == "month" ? "hosting.order.months" : "hosting.order.years", context),
            quantities: HostingProductDetails.quantities(for: product.billingPeriod).map { quantity in
                let net = price * quantity
                return .init(value: quantity, selected: quantity == chosenQuantity,
                             label: counted(product.billingPeriod == "month" ? "hosting.order.months_option" : "hosting.order.years_option", quantity,
                                            context, ["total": money(net + HostingPolicy.tax(on: net), context)]))
            },
            vat: String(HostingPolicy.vatPercent))
        return Pages.render("hosting_order", model, errors: problems, title: string("hosting.order.title", context, ["product": product.title]),
                            context: context, status: problems.isEmpty ? .ok : .unprocessableContent)
    }

    /// What the orders page shows: each order with its pro-forma and what can be done with it.
    struct OrdersPage: Encodable {
        struct Order: Encodable {
            var number, date, title, quantity, total, status, statusClass: String
            var proformaNumber, proformaHref, payHref, activated, target: String?
        }
        var orders: [Order]
        var hasOrders, mayShop, mayDomains: Bool
        var notice: String?
    }

    private func ordersPage(_ request: Request, context: UserContext) async throws -> Response {
        let (orders, proformas) = try await loadOrders(context)
        let mayPay = context.may("proforma.pay") || context.may("invoices.pay")
        let mayView = context.may("invoices.view") || context.may("payments.view")
        let model = OrdersPage(
            orders: orders.map { order in
                var row = OrdersPage.Order(
                    number: order.number, date: Formatting.date(order.createdAt, locale: context.locale), title: order.title,
                    quantity: counted(order.billingPeriod == "month" ? "hosting.order.months_short" : "hosting.order.years_short", order.quantity, context),
                    total: money(order.totalCents, context),
                    status: label("hosting.order.status", order.status, context), statusClass: order.status.rawValue)
                if let proforma = order.invoiceId.flatMap({ proformas[$0] }), let id = proforma.id {
                    row.proformaNumber = proforma.number
                    if mayView { row.proformaHref = Routes.invoice.path(id) }
                    if mayPay && proforma.status != .paid && order.status == .awaitingPayment { row.payHref = Routes.invoicePay.path(id) }
                }
                row.activated = order.activatedOn.map { Formatting.day($0) }
                if let target = order.target, !order.title.contains(target) { row.target = target }
                return row
            },
            hasOrders: !orders.isEmpty,
            mayShop: context.may(Feature.buy) && context.tenant.definition.feature(Feature.buy) != nil,
            mayDomains: context.may(Feature.domains) && context.tenant.definition.feature(Feature.domains) != nil,
            notice: notice(request, allowed: ["ordered", "domain_ordered"], prefix: "hosting.done", context))
        return Pages.render("hosting_orders", model, title: string("hosting.orders.title", context), context: context)
    }

    /// Megabytes as people read them (`1,5 GB`, `500 MB`).
    static func size(_ megabytes: Int64) -> String {
        if megabytes >= 1024 {
            let gigabytes = Double(megabytes) / 1024
            return gigabytes.rounded() == gigabytes ? "\(Int(gigabytes)) GB" : String(format: "%.1f GB", gigabytes).replacingOccurrences(of: ".", with: ",")
        }
        return "\(megabytes) MB"
    }
}
