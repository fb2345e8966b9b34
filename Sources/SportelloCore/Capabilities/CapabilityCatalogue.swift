import Foundation

/// Something the portal can do for a tenant's users, served by one module (a page, its API operations,
/// its storage), bound to the tenant's own features by slot. Pure data: the validator, `schema` and
/// `reference` read it without knowing the web layer.
public struct Capability: Sendable {
    /// The module's id (`invoices`).
    public var id: String
    public var summary: String
    public var slots: [CapabilitySlot]
    /// Choices the tenant makes for the module under `capabilities: {<id>: {…}}`.
    public var options: [CapabilityOption]

    public init(_ id: String, _ summary: String, _ slots: [CapabilitySlot], options: [CapabilityOption] = []) {
        self.id = id; self.summary = summary; self.slots = slots; self.options = options
    }
}

/// A choice a tenant makes for a module: a list picked from the values the module knows, in the order the
/// portal offers them; absent, every value is offered in the default order.
public struct CapabilityOption: Sendable {
    public var name: String
    public var summary: String
    public var values: [String]

    public init(_ name: String, _ summary: String, values: [String]) {
        self.name = name; self.summary = summary; self.values = values
    }
}

/// One thing a capability lets a feature do (`invoices.pay`). A tenant's feature binds to a slot with
/// `capability: invoices.pay`, or by being named after it.
public struct CapabilitySlot: Sendable {
    /// The slot's full name, `<capability>.<slot>` or a name of its own the five providers already use.
    public var name: String
    public var summary: String

    public init(_ name: String, _ summary: String) { self.name = name; self.summary = summary }
}

/// Every capability the platform ships; the web modules serve exactly these slots (a test checks both ways).
public enum CapabilityCatalogue {
    public static let all: [Capability] = [
        Capability("dashboard", "The home page after login: welcome box, administrative status, coverage tile.", [
            .init("dashboard.view", "The welcome box with the user's and customer's data."),
            .init("account_status.view", "The administrative status (unpaid invoices highlighted)."),
        ]),
        Capability("contracts", "The customer's contracts and services.", [
            .init("contracts.view", "Active contracts and services."),
        ]),
        Capability("invoices", "Invoices: list, detail, documents, payment.", [
            .init("invoices.view", "List and open the customer's invoices (print and save included unless the tenant binds a download slot)."),
            .init("invoices.detail", "The invoice's detail lines."),
            .init("invoices.download", "Download, e-mail and print invoices, as a feature of its own."),
            .init("invoices.call_detail", "The call detail attached to an invoice."),
            .init("invoices.personal", "The user's own personal invoices (Dual Billing), apart from the company's."),
            .init("invoices.pay", "Pay invoices online (a demo payment until a payment plugin is bound)."),
            .init("proforma.pay", "Pay pro-forma invoices online (a demo payment until a payment plugin is bound)."),
        ]),
        Capability("statement", "The account statement: debits, credits, running balance; print and export.", [
            .init("statements.view", "The account statement."),
            .init("payments.view", "The payment status of the customer's documents."),
        ]),
        Capability("billing_settings", "How invoices are delivered and paid.", [
            .init("billing.delivery_payment", "Change invoice delivery and payment method."),
            .init("invoices.paperless", "Paperless billing (invoices by e-mail only)."),
            .init("invoices.direct_debit", "Direct debit of invoices."),
            .init("invoices.shipping_address", "Where paper invoices and traffic documentation are shipped."),
        ], options: [
            .init("delivery_options", "How invoices can be delivered, in the order offered.", values: ["paper", "email", "paperless"]),
            .init("payment_methods", "Payment methods a customer can choose online, in the order offered (a method the provider set, such as a card, is kept while current).",
                  values: ["sepa", "bank_transfer", "postal_slip"]),
        ]),
        Capability("usage", "Usage and traffic, recharges and credit.", [
            .init("usage.view", "Usage and traffic of the customer's lines."),
            .init("usage.export", "Download the traffic as a spreadsheet."),
            .init("usage.billed_reports", "Reports of billed services."),
            .init("credit.view", "Residual credit of prepaid lines."),
            .init("recharges.online", "Recharge a prepaid line online (a demo until a payment plugin is bound)."),
            .init("recharges.history", "The history of recharges."),
            .init("recharges.automatic", "Automatic recharge settings."),
        ]),
        Capability("lines", "The customer's lines and what can be done on them.", [
            .init("lines.view", "Offers and services active on each line."),
            .init("lines.pin_puk", "PIN and PUK codes of a SIM."),
            .init("options.manage", "Activate and deactivate options on lines."),
            .init("mobile_services.manage", "Mobile and premium services of a line."),
            .init("sim.block", "Block or unblock a SIM (theft and loss)."),
        ]),
        Capability("line_products", "Shared data bundles, devices and coverage.", [
            .init("gss.view", "Shared data bundles (Giga Smart Share)."),
            .init("gss.manage", "Manage shared data bundles."),
            .init("devices.view", "Devices bought with the lines."),
            .init("coverage.view", "Network coverage check."),
        ]),
        Capability("line_self_service", "Promotions, line activation and SIM association.", [
            .init("promotions.view", "Promotions available to the customer."),
            .init("line_activation.view", "The progress of a line's activation."),
            .init("sim_association.view", "Which SIM belongs to which user."),
        ]),
        Capability("telco_support", "Offers, contact channels, chat, fault reports and line diagnosis.", [
            .init("offers.view", "Exclusive offers for the customer."),
            .init("offers.activate", "Activate an exclusive offer."),
            .init("support.contact", "Contact channels and opening hours."),
            .init("support.chat", "Chat with the provider's operators."),
            .init("support.fault_report", "Report a fault on a line."),
            .init("support.line_diagnosis", "Diagnose a fixed line (a demo until a diagnosis plugin is bound)."),
            .init("tracking.view", "Status of activation, expansion, offer and option requests."),
        ]),
        Capability("hosting", "Hosting services, the shop and domains.", [
            .init("services.view", "Services with their status and expiry."),
            .init("services.buy", "Buy services (pro-forma first)."),
            .init("domains.register", "Search and register domains (availability is a demo until a registrar plugin is bound)."),
            .init("hosting.manage", "Manage shared hosting accounts."),
            .init("hosting.unblock_ip", "Unblock an IP address blocked by the firewall."),
        ]),
        Capability("help", "Help pages and the knowledge base.", [
            .init("help.view", "Online help."),
            .init("knowledge_base.view", "Knowledge base articles."),
        ]),
        Capability("requests", "Requests and tickets from the tenant's own forms.", [
            .init("requests.view", "Every request of the customer, whatever form it came from."),
            .init("requests.create", "New requests from the generic forms."),
            .init("tickets.administration", "Administrative tickets."),
            .init("tickets.technical", "Technical support tickets."),
        ]),
        Capability("users", "The customer's users: invite, change role and switches, block, delete.", [
            .init("users.create", "Register (invite) users."),
            .init("users.manage", "Manage users and their access profiles."),
            .init("users.change_role", "Change users' web profile."),
            .init("sub_accounts.manage", "Create or remove sub-accounts."),
        ]),
        Capability("profile", "The user's own data and the customer record.", [
            .init("profile.edit", "Edit one's own personal data."),
            .init("customer_data.view", "View the customer's data."),
            .init("customer_data.edit", "Change the customer's master data."),
            .init("company.view", "View the company's data."),
            .init("company.communications_email", "Change the company's communications e-mail."),
            .init("company.registered_office", "Change the company's registered office address."),
        ]),
        Capability("notifications", "What the user is told, and how.", [
            .init("notifications.manage", "Notification settings."),
            .init("notify.invoices", "Receive invoices by e-mail."),
            .init("notify.payment_requests", "Receive payment requests."),
            .init("notify.services", "Receive service communications."),
            .init("notify.tickets", "Receive ticket replies."),
        ]),
    ]

    /// Every slot by name.
    public static let slots: [String: (capability: Capability, slot: CapabilitySlot)] = {
        var result: [String: (capability: Capability, slot: CapabilitySlot)] = [:]
        for capability in all { for slot in capability.slots { result[slot.name] = (capability, slot) } }
        return result
    }()

    public static func isSlot(_ name: String) -> Bool { slots[name] != nil }
}

extension TenantDefinition {
    /// The values the tenant chose for a module's option (`capabilities: {billing_settings: {payment_methods: […]}}`),
    /// else every value the option knows.
    public func option(_ name: String, of capability: String) -> [String] {
        // Object keys arrive in camelCase from the schema walker (`billing_settings` → `billingSettings`).
        capabilities?[camelCase(capability)]?[camelCase(name)] ?? Self.optionValues(name, of: capability)
    }

    /// Every value a module's option knows, in the default order.
    public static func optionValues(_ name: String, of capability: String) -> [String] {
        CapabilityCatalogue.all.first { $0.id == capability }?.options.first { $0.name == name }?.values ?? []
    }

    /// The slot `featureId` binds to: its `capability:`, else its own name when that is a slot.
    public func slot(of featureId: String) -> String? {
        guard let feature = features[featureId] else { return nil }
        if let capability = feature.capability { return capability }
        return CapabilityCatalogue.isSlot(featureId) ? featureId : nil
    }

    /// The tenant's feature `name` names: a feature of that id, else the feature bound to the slot `name`.
    public func feature(_ name: String) -> Feature? {
        if let feature = features[name] { return feature }
        return boundFeatureId(name).flatMap { features[$0] }
    }

    /// The id of the tenant's feature bound to `slot` (its own name for the slot), nil when none is.
    public func boundFeatureId(_ slot: String) -> String? {
        if let feature = features[slot], feature.capability == nil || feature.capability == slot { return slot }
        return features.keys.first { features[$0]?.capability == slot }
    }
}
