import Foundation
import Hummingbird
import SportelloCore
import SportelloStore

/// Invoice delivery, payment method and invoice shipping address: which parts the tenant has and how the
/// user may change each one.
struct BillingPolicy {
    /// The tenant's `capabilities: {billing_settings: {delivery_options, payment_methods}}`, else every option.
    let deliveryOptions: [String]
    /// Methods a customer can choose online; a method set by the provider (card, PayPal) is kept as long as it is current.
    let paymentOptions: [String]
    /// Every value the module knows (the OpenAPI enumerations; a tenant offers these or fewer).
    static let allDeliveryOptions = Capability.billingSettings.optionValues("delivery_options")
    static let allPaymentOptions = Capability.billingSettings.optionValues("payment_methods")
    let deliveryShown: Bool
    let deliveryMode: ChangeMode
    let paymentShown: Bool
    let paymentMode: ChangeMode
    let shippingShown: Bool
    let shippingEditable: Bool

    init(context: UserContext) {
        let definition = context.tenant.definition
        deliveryOptions = definition.option("delivery_options", of: "billing_settings", defaults: Self.allDeliveryOptions)
        paymentOptions = definition.option("payment_methods", of: "billing_settings", defaults: Self.allPaymentOptions)
        let delivery = [ProfileFeatures.deliveryAndPayment, ProfileFeatures.paperless].filter { definition.feature($0) != nil }
        let payment = [ProfileFeatures.deliveryAndPayment, ProfileFeatures.directDebit].filter { definition.feature($0) != nil }
        deliveryShown = !delivery.isEmpty
        deliveryMode = ChangeMode.of(delivery, context: context)
        paymentShown = !payment.isEmpty
        paymentMode = ChangeMode.of(payment, context: context)
        shippingShown = definition.feature(ProfileFeatures.shippingAddress) != nil
        shippingEditable = context.may(ProfileFeatures.shippingAddress)
    }

    func paymentOptions(current: String) -> [String] {
        paymentOptions.contains(current) ? paymentOptions : paymentOptions + [current]
    }
}

/// A change of the billing settings as submitted (page or API); nil parts stay as they are.
struct BillingChange {
    var delivery: String?
    var payment: String?
    var iban: String?
    var mandateAccepted: Bool?
    var shipping: [String: String]?
}

extension ProfileController {
    static let shippingFields = ["recipient", "street", "postal_code", "city", "province"]

    struct BillingOutcome {
        var applied: [String] = []
        var requestIds: [Int64] = []
        var isEmpty: Bool { applied.isEmpty && requestIds.isEmpty }
    }

    /// Validates a billing change, then applies it (or records a change request) in one transaction.
    /// Problems name the fields as the API does: `invoice_delivery`, `payment_method`, `iban`,
    /// `sepa_mandate_accepted`, `shipping_address.<field>`.
    func changeBilling(context: UserContext, change: BillingChange,
                       earlier: [FieldProblem] = []) async throws -> Result<BillingOutcome, FieldProblems> {
        let theme = context.tenant.theme
        let policy = BillingPolicy(context: context)
        let current = try await snapshot(context)
        let customer = current.customer
        var problems = FieldProblems(earlier)
        func problem(_ field: String, _ code: String, _ key: String, _ values: [String: String] = [:]) {
            problems.append(CustomerDataPolicy.problem(field, code, key, theme: theme, values))
        }

        var newDelivery: String?
        if let delivery = change.delivery {
            if !policy.deliveryShown || policy.deliveryMode == .readOnly {
                if delivery != customer.invoiceDelivery { problem("invoice_delivery", "read_only", "profile.error.read_only") }
            } else if !policy.deliveryOptions.contains(delivery) {
                problem("invoice_delivery", delivery.isEmpty ? "required" : "invalid_choice",
                        delivery.isEmpty ? "profile.billing.error.choose_delivery" : "profile.error.invalid_choice")
            } else if delivery != customer.invoiceDelivery {
                newDelivery = delivery
            }
        }

        var newPayment: String?
        var newIBAN: String??
        if let payment = change.payment {
            let ibanText = (change.iban ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if !policy.paymentShown || policy.paymentMode == .readOnly {
                if payment != customer.paymentMethod || !ibanText.isEmpty { problem("payment_method", "read_only", "profile.error.read_only") }
            } else if !policy.paymentOptions(current: customer.paymentMethod).contains(payment) {
                problem("payment_method", payment.isEmpty ? "required" : "invalid_choice",
                        payment.isEmpty ? "profile.billing.error.choose_payment" : "profile.error.invalid_choice")
            } else if payment == "sepa" {
                var changing = customer.paymentMethod != "sepa"
                if ibanText.isEmpty {
                    if customer.paymentMethod != "sepa" || customer.iban == nil { problem("iban", "required", "profile.billing.error.iban_required") }
                } else {
                    switch CustomerDetailsForm.validate(["iban": ibanText], fields: ["iban"], optionalFields: [],
                                                        type: CustomerDataPolicy.bareType(kind: .person), typeId: customer.customerType) {
                    case .success(let draft):
                        let normalised = draft.values["iban"] ?? ibanText
                        if normalised != customer.iban || customer.paymentMethod != "sepa" {
                            changing = true
                            newIBAN = .some(normalised)
                        }
                    case .failure(let found):
                        problems.append(contentsOf: found.problems)
                    }
                }
                if changing {
                    newPayment = "sepa"
                    if change.mandateAccepted != true {
                        problem("sepa_mandate_accepted", "mandate_required", "profile.billing.error.mandate_required", ["tenant": context.tenant.definition.name])
                    }
                }
            } else if payment != customer.paymentMethod {
                newPayment = payment
                newIBAN = .some(nil)   // no direct debit any more: the bank details are not kept
            }
        } else if let iban = change.iban, !iban.trimmingCharacters(in: .whitespaces).isEmpty {
            problem("payment_method", "required", "profile.billing.error.choose_payment")
        }

        var shipping: [String: String]?
        if let submitted = change.shipping {
            if !policy.shippingEditable {
                problem("shipping_address", "read_only", "profile.error.read_only")
            } else {
                var entered: [String: String] = [:]
                for name in ["street", "postal_code", "city", "province"] { entered[name] = submitted[name] ?? "" }
                switch CustomerDetailsForm.validate(entered, fields: ["street", "postal_code", "city", "province"], optionalFields: [],
                                                    type: CustomerDataPolicy.bareType(kind: .person), typeId: customer.customerType) {
                case .success(let draft):
                    var values = draft.values
                    let recipient = (submitted["recipient"] ?? "").split(whereSeparator: \.isWhitespace).joined(separator: " ")
                    if recipient.count > 100 {
                        problem("shipping_address.recipient", "too_long", "profile.billing.error.recipient_too_long")
                    } else if !recipient.isEmpty {
                        values["recipient"] = recipient
                    }
                    shipping = values
                case .failure(let found):
                    problems.append(contentsOf: found.problems.map {
                        FieldProblem(field: "shipping_address.\($0.field)", code: $0.code, message: $0.message)
                    })
                }
            }
        }
        guard problems.isEmpty else { return .failure(problems) }

        guard newDelivery != nil || newPayment != nil || shipping != nil else { return .success(BillingOutcome()) }
        let (delivery, payment, iban, shippingAddress) = (newDelivery, newPayment, newIBAN, shipping)
        let tenant = context.tenant
        let accounts = Accounts(services: services, tenant: tenant)
        let locale = context.locale
        let defaultLocale = tenant.definition.locales.default
        @Sendable func label(_ kind: String, _ value: String) -> String { theme.text("profile.billing.\(kind).\(value)", locale: defaultLocale) }
        let actor = current.user.id
        let userEmail = current.user.email
        let directDelivery = delivery != nil && policy.deliveryMode == .direct
        let directPayment = payment != nil && policy.paymentMode == .direct
        let outcome = try await services.database.write(tenant: tenant.id, now: services.now) { transaction -> BillingOutcome in
            var outcome = BillingOutcome()
            guard var stored = try await transaction.customer(id: customer.id ?? 0) else { throw PortalError.loginRequired }
            var requested: [(String, String?, String?)] = []
            var requestedLabels: [String] = []
            if let delivery {
                if directDelivery {
                    try await transaction.audit("billing.invoice_delivery_changed", actorUserId: actor, targetKind: "customer",
                                                targetId: String(stored.id ?? 0), detail: "\(stored.invoiceDelivery) → \(delivery)")
                    stored.invoiceDelivery = delivery
                    outcome.applied.append("invoice_delivery")
                } else {
                    requested.append(("invoice_delivery", stored.invoiceDelivery, delivery))
                    requestedLabels.append(theme.text("profile.billing.delivery_title", locale: defaultLocale) + ": " + label("delivery", delivery))
                }
            }
            if let payment {
                let ibanValue: String? = iban ?? stored.iban
                if directPayment {
                    try await transaction.audit("billing.payment_method_changed", actorUserId: actor, targetKind: "customer",
                                                targetId: String(stored.id ?? 0),
                                                detail: "\(stored.paymentMethod) → \(payment)" + (iban != nil && payment == "sepa" ? " (new IBAN)" : ""))
                    stored.paymentMethod = payment
                    stored.iban = payment == "sepa" ? ibanValue : nil
                    outcome.applied.append("payment_method")
                } else {
                    requested.append(("payment_method", stored.paymentMethod, payment))
                    if payment == "sepa", let newValue = ibanValue { requested.append(("iban", IBANMask.mask(stored.iban), newValue)) }
                    requestedLabels.append(theme.text("profile.billing.payment_title", locale: defaultLocale) + ": " + label("payment", payment))
                }
            }
            if !outcome.applied.isEmpty { try await transaction.updateCustomer(stored) }
            if outcome.applied.contains("payment_method"), let email = userEmail, !email.isEmpty {
                try await accounts.queueMail("profile_billing_changed", to: email, values: [
                    "payment_method": theme.text("profile.billing.payment.\(stored.paymentMethod)", locale: locale),
                    "iban_masked": IBANMask.mask(stored.iban) ?? "",
                ], locale: locale, in: transaction)
            }
            if !requested.isEmpty {
                let id = try await transaction.insertRequest(RequestRecord(
                    customerId: stored.id ?? 0, userId: actor, form: RequestForm.billing, formGroup: "profile",
                    subject: theme.text("profile.request.subject_billing", locale: defaultLocale, ["changes": requestedLabels.joined(separator: "; ")]),
                    payload: Self.payload(requested), createdAt: transaction.now))
                try await transaction.audit("billing.change_requested", actorUserId: actor, targetKind: "request", targetId: String(id),
                                            detail: "fields: " + requested.map(\.0).joined(separator: ", "))
                outcome.requestIds.append(id)
            }
            if let shipping = shippingAddress {
                let address = [shipping["recipient"], shipping["street"],
                                [shipping["postal_code"], shipping["city"]].compactMap { $0 }.joined(separator: " ")
                                    + (shipping["province"].map { " (\($0))" } ?? "")].compactMap { $0 }.joined(separator: ", ")
                var payload: [String: Any] = [:]
                for (key, value) in shipping { payload[key] = value }
                let data = (try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])) ?? Data("{}".utf8)
                let id = try await transaction.insertRequest(RequestRecord(
                    customerId: stored.id ?? 0, userId: actor, form: RequestForm.shipping, formGroup: "profile",
                    subject: theme.text("profile.request.subject_shipping", locale: defaultLocale, ["address": address]),
                    payload: String(decoding: data, as: UTF8.self), createdAt: transaction.now))
                try await transaction.audit("billing.shipping_address_requested", actorUserId: actor, targetKind: "request", targetId: String(id))
                outcome.requestIds.append(id)
            }
            return outcome
        }
        if outcome.applied.contains("payment_method") { services.mailQueued() }
        return .success(outcome)
    }

    // MARK: Page

    func billingPage(_ request: Request, context: UserContext) async throws -> Response {
        try context.require(page: Self.billingPage)
        var notice: String?
        if let done = request.uri.queryParameters["done"], ["saved", "requested", "unchanged"].contains(String(done)) {
            notice = context.tenant.theme.text("profile.billing.notice.\(done)", locale: context.locale)
        }
        return try await renderBilling(context: context, snapshot: try await snapshot(context), form: nil, problems: [], notice: notice)
    }

    /// What the billing page shows: each part the tenant has, with what the user may change.
    struct BillingPageModel: Encodable {
        struct Option: Encodable {
            var value, label: String
            var description: String?
            var checked: Bool
        }
        struct Delivery: Encodable {
            var editable, request: Bool
            var current: String
            var options: [Option]
            var error: String?
        }
        struct Payment: Encodable {
            var editable, request: Bool
            var current: String
            var ibanMasked: String?
            var options: [Option]
            var iban: String
            var mandateChecked: Bool
            var mandateText: String
            var errorPaymentMethod, errorIban, errorSepaMandateAccepted: String?
        }
        struct Input: Encodable {
            var name, id, label: String
            var required: Bool
            var autocomplete, value: String
            var error: String?
        }
        struct Shipping: Encodable {
            var editable: Bool
            var current: String
            var inputs: [Input]
            var error: String?
        }
        var notice: String?
        var hasErrors: Bool
        var errorList: [ProblemLink]
        var delivery: Delivery?
        var payment: Payment?
        var shipping: Shipping?
        var pending: [RequestRow]
        var hasPending: Bool
    }

    func renderBilling(context: UserContext, snapshot: Snapshot, form: SubmittedForm?, problems: [FieldProblem], notice: String?,
                       status: HTTPResponse.Status = .ok) async throws -> Response {
        typealias Model = BillingPageModel
        let theme = context.tenant.theme
        let locale = context.locale
        func t(_ key: String, _ values: [String: String] = [:]) -> String { theme.text(key, locale: locale, values) }
        var errors: [String: String] = [:]
        for problem in problems where errors[problem.field] == nil { errors[problem.field] = problem.message.resolve(locale) }
        let policy = BillingPolicy(context: context)
        let customer = snapshot.customer
        let section = form?["section"]
        let pending = snapshot.requests.filter { ($0.form == RequestForm.billing || $0.form == RequestForm.shipping) && $0.isOpen }
            .map { requestRow($0, locale: locale, theme: theme) }
        var model = Model(
            notice: notice,
            hasErrors: !problems.isEmpty,
            errorList: problems.map { problem in
                let id = problem.field.replacingOccurrences(of: "shipping_address.", with: "shipping_")
                return ProblemLink(message: problem.message.resolve(locale), href: "#f-\(id == "shipping_address" ? "shipping_street" : id)")
            },
            pending: pending, hasPending: !pending.isEmpty)
        if policy.deliveryShown {
            let chosen = section == "delivery" ? form?["invoice_delivery"] ?? customer.invoiceDelivery : customer.invoiceDelivery
            model.delivery = .init(
                editable: policy.deliveryMode != .readOnly, request: policy.deliveryMode == .request,
                current: t("profile.billing.delivery.\(customer.invoiceDelivery)"),
                options: policy.deliveryOptions.map { option in
                    .init(value: option, label: t("profile.billing.delivery.\(option)"), description: t("profile.billing.delivery_help.\(option)"),
                          checked: option == chosen)
                },
                error: errors["invoice_delivery"])
        }
        if policy.paymentShown {
            let chosen = section == "payment" ? form?["payment_method"] ?? customer.paymentMethod : customer.paymentMethod
            model.payment = .init(
                editable: policy.paymentMode != .readOnly, request: policy.paymentMode == .request,
                current: t("profile.billing.payment.\(customer.paymentMethod)"),
                ibanMasked: customer.paymentMethod == "sepa" ? IBANMask.mask(customer.iban) : nil,
                options: policy.paymentOptions(current: customer.paymentMethod).map { option in
                    .init(value: option, label: t("profile.billing.payment.\(option)"), checked: option == chosen)
                },
                iban: section == "payment" ? form?["iban"] ?? "" : "",
                mandateChecked: section == "payment" && form?["sepa_mandate_accepted"] == "1",
                mandateText: t("profile.billing.mandate_text", ["tenant": context.tenant.definition.name]),
                errorPaymentMethod: errors["payment_method"], errorIban: errors["iban"],
                errorSepaMandateAccepted: errors["sepa_mandate_accepted"])
        }
        if policy.shippingShown {
            let address = [customer.street, [customer.postalCode, customer.city].compactMap { $0 }.joined(separator: " ")
                           + (customer.province.map { " (\($0))" } ?? "")].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ", ")
            let labels = ["recipient": t("profile.billing.shipping.recipient"), "street": t("profile.billing.shipping.street"),
                          "postal_code": t("profile.billing.shipping.postal_code"), "city": t("profile.billing.shipping.city"),
                          "province": t("profile.billing.shipping.province")]
            let autocomplete = ["recipient": "name", "street": "address-line1", "postal_code": "postal-code", "city": "address-level2",
                                "province": "address-level1"]
            model.shipping = .init(
                editable: policy.shippingEditable,
                current: address.isEmpty ? "—" : address,
                inputs: Self.shippingFields.map { name in
                    .init(name: "shipping_\(name)", id: "f-shipping_\(name)", label: labels[name] ?? name, required: name != "recipient",
                          autocomplete: autocomplete[name] ?? "off", value: section == "shipping" ? form?["shipping_\(name)"] ?? "" : "",
                          error: errors["shipping_address.\(name)"])
                },
                error: errors["shipping_address"])
        }
        return Pages.render("billing", model, title: t("profile.billing.title"), context: context, status: status)
    }

    func postBilling(_ request: Request, context: UserContext) async throws -> Response {
        try context.require(page: Self.billingPage)
        let form = try await SubmittedForm.read(request, context: context)
        var change = BillingChange()
        switch form["section"] {
        case "delivery": change.delivery = form["invoice_delivery"]
        case "payment":
            change.payment = form["payment_method"]
            change.iban = form["iban"]
            change.mandateAccepted = form["sepa_mandate_accepted"] == "1"
        case "shipping":
            var shipping: [String: String] = [:]
            for name in Self.shippingFields { shipping[name] = form["shipping_\(name)"] }
            change.shipping = shipping
        default:
            throw PortalError.badRequest("unknown section")
        }
        switch try await changeBilling(context: context, change: change) {
        case .success(let outcome):
            let done = outcome.isEmpty ? "unchanged" : outcome.requestIds.isEmpty ? "saved" : "requested"
            return Pages.redirect(Routes.profileBilling.done(done))
        case .failure(let problems):
            return try await renderBilling(context: context, snapshot: try await snapshot(context), form: form, problems: problems.problems,
                                           notice: nil, status: .unprocessableContent)
        }
    }

    // MARK: API

    struct BillingJSON: Encodable {
        struct Option: Encodable { var value, label: String }
        struct Delivery: Encodable { var value: String; var options: [Option]; var changeMode: ChangeMode }
        struct Payment: Encodable {
            var value: String; var options: [Option]; var ibanMasked: String?; var changeMode: ChangeMode
            enum CodingKeys: String, CodingKey { case value, options, ibanMasked, changeMode }
            func encode(to encoder: Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(value, forKey: .value); try container.encode(options, forKey: .options)
                try container.encode(ibanMasked, forKey: .ibanMasked); try container.encode(changeMode, forKey: .changeMode)
            }
        }
        struct Shipping: Encodable { var editable: Bool; var current: String? }
        var invoiceDelivery: Delivery?
        var paymentMethod: Payment?
        var shippingAddress: Shipping?
        var pendingRequests: [ChangeRequestJSON]
    }

    func billingJSON(context: UserContext, snapshot: Snapshot) -> BillingJSON {
        let theme = context.tenant.theme, locale = context.locale
        let policy = BillingPolicy(context: context)
        let customer = snapshot.customer
        var json = BillingJSON(pendingRequests: snapshot.requests
            .filter { ($0.form == RequestForm.billing || $0.form == RequestForm.shipping) && $0.isOpen }.map(ChangeRequestJSON.init))
        if policy.deliveryShown {
            json.invoiceDelivery = .init(value: customer.invoiceDelivery, options: policy.deliveryOptions.map {
                .init(value: $0, label: theme.text("profile.billing.delivery.\($0)", locale: locale))
            }, changeMode: policy.deliveryMode)
        }
        if policy.paymentShown {
            json.paymentMethod = .init(value: customer.paymentMethod, options: policy.paymentOptions(current: customer.paymentMethod).map {
                .init(value: $0, label: theme.text("profile.billing.payment.\($0)", locale: locale))
            }, ibanMasked: customer.paymentMethod == "sepa" ? IBANMask.mask(customer.iban) : nil, changeMode: policy.paymentMode)
        }
        if policy.shippingShown {
            let address = [customer.street, [customer.postalCode, customer.city].compactMap { $0 }.joined(separator: " ")]
                .compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ", ")
            json.shippingAddress = .init(editable: policy.shippingEditable, current: address.isEmpty ? nil : address)
        }
        return json
    }

    func apiBilling(context: UserContext) async throws -> Response {
        try context.require(page: Self.billingPage)
        return API.json(billingJSON(context: context, snapshot: try await snapshot(context)))
    }

    func apiPutBilling(_ request: Request, context: UserContext) async throws -> Response {
        try context.require(page: Self.billingPage)
        let body = try await ProfileJSONBody.object(request, context: context)
        let theme = context.tenant.theme
        var problems = FieldProblems()
        var change = BillingChange()
        for (key, value) in body.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "invoice_delivery", "payment_method", "iban":
                guard let text = value as? String else {
                    problems.append(CustomerDataPolicy.problem(key, "invalid_type", "profile.error.invalid_type", theme: theme)); continue
                }
                if key == "invoice_delivery" { change.delivery = text } else if key == "payment_method" { change.payment = text } else { change.iban = text }
            case "sepa_mandate_accepted":
                guard let flag = ProfileJSONBody.bool(value) else {
                    problems.append(CustomerDataPolicy.problem(key, "invalid_type", "profile.error.invalid_type", theme: theme)); continue
                }
                change.mandateAccepted = flag
            case "shipping_address":
                guard let object = value as? [String: Any] else {
                    problems.append(CustomerDataPolicy.problem(key, "invalid_type", "profile.error.invalid_type", theme: theme)); continue
                }
                var shipping: [String: String] = [:]
                for (name, raw) in object {
                    guard Self.shippingFields.contains(name) else {
                        problems.append(CustomerDataPolicy.problem("shipping_address.\(name)", "unknown_field", "profile.error.unknown_field", theme: theme))
                        continue
                    }
                    guard let text = ProfileJSONBody.string(raw) else {
                        problems.append(CustomerDataPolicy.problem("shipping_address.\(name)", "invalid_type", "profile.error.invalid_type", theme: theme))
                        continue
                    }
                    shipping[name] = text
                }
                change.shipping = shipping
            default:
                problems.append(CustomerDataPolicy.problem(key, "unknown_field", "profile.error.unknown_field", theme: theme))
            }
        }
        switch try await changeBilling(context: context, change: change, earlier: problems.problems) {
        case .success:
            return API.json(billingJSON(context: context, snapshot: try await snapshot(context)))
        case .failure(let found):
            throw PortalError.invalid(found.problems)
        }
    }
}
