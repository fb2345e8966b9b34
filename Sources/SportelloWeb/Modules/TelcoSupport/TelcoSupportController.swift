import Foundation
import Hummingbird
import SportelloCore
import SportelloStore

/// TIM lines, offers, billed reports and online assistance: exclusive offers and their activation (a
/// tracked request, one open per offer), reports of the services already billed per invoice and line
/// (page, CSV/Excel, API), the chat with operators, the contact channels, and the fixed-line diagnosis.
struct TelcoSupportController: ModuleController {
    let services: PortalServices

    enum Feature {
        static let offersView = "offers.view"
        static let offersActivate = "offers.activate"
        static let billedReports = "usage.billed_reports"
        static let chat = "support.chat"
        static let contact = "support.contact"
        static let diagnosis = "support.line_diagnosis"
        static let faultReport = "support.fault_report"
    }

    /// Offers are activated here (one open activation per offer), not through the generic form.
    static let offers = PortalPage(route: Routes.offers, titleKey: "support.offers.title", features: [Feature.offersView, Feature.offersActivate],
                                   fillsRequestForms: true)
    static let billedReports = PortalPage(route: Routes.billedReports, titleKey: "support.billed.title", features: [Feature.billedReports])
    static let chat = PortalPage(route: Routes.supportChat, titleKey: "support.chat.title", features: [Feature.chat])
    static let contact = PortalPage(route: Routes.supportContact, titleKey: "support.contact.title", features: [Feature.contact])
    static let diagnosis = PortalPage(route: Routes.lineDiagnosis, titleKey: "support.diagnosis.title", features: [Feature.diagnosis])

    static let pages: [PortalPage] = [offers, billedReports, chat, contact, diagnosis]

    private static func idParameter(_ name: String, _ description: String) -> APIOperation.Parameter {
        .init(name, in: "path", required: true, description: description, schema: .integer)
    }

    static let apiOperations: [APIOperation] = [
        APIOperation("GET", Routes.offers, summary: "Exclusive offers for the customer's type on offer today, with any activation in progress",
                     feature: Feature.offersView, otherFeatures: [Feature.offersActivate], success: (200, "OfferList")),
        APIOperation("POST", Routes.offerActivationsResource, summary: "Ask to activate an offer: opens a tracked request; 409 `duplicate_activation` while one for the same offer is open",
                     feature: Feature.offersActivate,
                     parameters: [.init("code", in: "path", required: true, description: "Offer code")],
                     requestBody: "OfferActivationRequest", success: (201, "OfferActivation")),
        APIOperation("GET", Routes.billedReportsResource, summary: "Invoices (billing periods) inside the tenant's window whose billed services can be reported",
                     feature: Feature.billedReports, success: (200, "BilledReportList")),
        APIOperation("GET", Routes.billedReportResource, summary: "What one invoice charged per line: usage by kind and options/services fees",
                     feature: Feature.billedReports, parameters: [idParameter("invoice_id", "Invoice id")], success: (200, "BilledReport")),
        APIOperation("GET", Routes.billedReportExportResource, summary: "The billed-services report of one invoice as CSV (UTF-8 with BOM, ';' separated) or Excel (.xlsx)",
                     feature: Feature.billedReports,
                     parameters: [idParameter("invoice_id", "Invoice id"),
                                  .init("format", required: true, description: "csv or xlsx", schema: .enumeration(["csv", "xlsx"]))],
                     success: (200, nil)),
        APIOperation("GET", Routes.supportChat, summary: "The caller's conversation with the operators (oldest first) and the operators' hours",
                     feature: Feature.chat, success: (200, "ChatConversation")),
        APIOperation("POST", Routes.supportChatMessagesResource, summary: "Write to the operators (at most 1000 characters)",
                     feature: Feature.chat, requestBody: "ChatMessageRequest", success: (201, "ChatConversation")),
        APIOperation("GET", Routes.supportContactsResource, summary: "How to reach the operators: channels, numbers, hours and whether they are open now",
                     feature: Feature.contact, success: (200, "SupportContacts")),
        APIOperation("GET", Routes.diagnosesResource, summary: "The fixed lines the caller may diagnose, with their latest diagnoses",
                     feature: Feature.diagnosis, success: (200, "LineDiagnosisOverview")),
        APIOperation("POST", Routes.diagnosesResource, summary: "Run a diagnosis of a fixed line: the network test of the lookup plugin bound to support.line_diagnosis (network: unavailable when it does not answer) and the checks of the portal's records; the result is saved in its history",
                     feature: Feature.diagnosis, requestBody: "LineDiagnosisRequest", success: (201, "LineDiagnosis")),
        APIOperation("GET", Routes.diagnosisResource, summary: "One saved diagnosis with its checks",
                     feature: Feature.diagnosis, parameters: [idParameter("id", "Diagnosis id")], success: (200, "LineDiagnosis")),
        APIOperation("POST", Routes.diagnosisFaultReportsResource, summary: "Report the fault a diagnosis found: the fault report form with the diagnosed line filled in; 409 `fault_report_open` while one is open for the line",
                     feature: Feature.faultReport, parameters: [idParameter("id", "Diagnosis id")], requestBody: "FaultReportFromDiagnosis",
                     success: (201, "FaultReportCreated")),
    ]

    static let apiSchemas: [String: JSONSchema] = [
        "Offer": .object([
            "code": .string(), "title": .string(), "description": .nullable(.string()), "category": .nullable(.string()),
            "price": .nullable(.reference("Money")), "billing_period": .nullable(.string()), "valid_to": .nullable(.string(format: "date")),
            "highlights": .array(.string()), "line_kind": .nullable(.string()), "activation_fee": .nullable(.reference("Money")),
            "can_activate": .boolean, "open_request_id": .nullable(.integer), "open_request_status": .nullable(.string()),
        ], required: ["code", "title", "highlights", "can_activate"]),
        "OfferList": .object(["offers": .array(.reference("Offer"))], required: ["offers"]),
        "OfferActivationRequest": .object([
            "lines": .array(.string()), "referent": .object(["name": .string(), "phone": .string(), "email": .string()], required: ["name"]),
            "notes": .string(description: "At most 300 characters"),
        ], required: ["referent"]),
        "OfferActivation": .object(["request_id": .integer, "status": .string(), "status_label": .string(), "offer": .string(), "url": .string()],
                                   required: ["request_id", "status", "status_label", "offer", "url"]),
        "BilledReportSummary": .object([
            "invoice_id": .integer, "number": .string(), "issued_on": .string(format: "date"), "period_from": .string(format: "date"),
            "period_to": .string(format: "date"), "total": .reference("Money"), "status": .string(),
        ], required: ["invoice_id", "number", "issued_on", "period_from", "period_to", "total", "status"]),
        "BilledReportList": .object(["reports": .array(.reference("BilledReportSummary")), "visible_from": .nullable(.string(format: "date"))],
                                    required: ["reports"]),
        "BilledReport": .object([
            "invoice": .reference("BilledReportSummary"),
            "lines": .array(.object([
                "line_id": .integer, "identifier": .string(), "kind": .string(),
                "usage": .array(.object(["category": .enumeration(["calls", "messages", "data", "options"]), "count": .integer,
                                         "duration_seconds": .integer, "volume_bytes": .integer, "cost": .reference("Money")],
                                        required: ["category", "count", "duration_seconds", "volume_bytes", "cost"])),
                "services": .array(.object(["name": .string(), "monthly_fee": .reference("Money"), "months": .integer, "charged": .reference("Money")],
                                           required: ["name", "monthly_fee", "months", "charged"])),
                "total": .reference("Money"),
            ], required: ["line_id", "identifier", "kind", "usage", "services", "total"])),
            "usage_total": .reference("Money"), "services_total": .reference("Money"), "total": .reference("Money"),
        ], required: ["invoice", "lines", "usage_total", "services_total", "total"]),
        "ChatMessage": .object(["id": .integer, "author": .enumeration(["customer", "operator", "system"]), "author_name": .nullable(.string()),
                                "body": .string(), "sent_at": .integer], required: ["id", "author", "body", "sent_at"]),
        "ChatConversation": .object([
            "messages": .array(.reference("ChatMessage")), "operators_available": .nullable(.boolean),
            "hours": .array(.string()), "max_length": .integer,
        ], required: ["messages", "hours", "max_length"]),
        "ChatMessageRequest": .object(["body": .string(description: "1 to 1000 characters")], required: ["body"]),
        "SupportContacts": .object(["channels": .array(.object([
            "code": .string(), "title": .string(), "description": .nullable(.string()), "phone": .nullable(.string()),
            "email": .nullable(.string()), "path": .nullable(.string()), "hours": .array(.string()), "open_now": .nullable(.boolean),
        ], required: ["code", "title", "hours"]))], required: ["channels"]),
        "FaultReportFromDiagnosis": .object([
            "fields": .object([:]), "notify": .string(description: "The channel, when the form offers more than one"),
        ], required: ["fields"]),
        "FaultReportCreated": .object(["request_id": .integer, "url": .string()], required: ["request_id", "url"]),
        "LineDiagnosisRequest": .object(["line_id": .integer], required: ["line_id"]),
        "LineDiagnosis": .object([
            "id": .integer, "line_id": .integer, "line": .string(), "run_at": .integer, "outcome": .enumeration(["ok", "warning", "fault"]),
            "checks": .array(.object(["id": .string(), "outcome": .enumeration(["ok", "warning", "fault"]), "message": .string()],
                                     required: ["id", "outcome", "message"])),
            "fault_report_suggested": .boolean, "fault_report_url": .nullable(.string()), "fault_request_id": .nullable(.integer),
            "simulated": .boolean,
            "network": .enumeration(["answered", "unavailable", "not_connected"]),
            "sandbox": .boolean,
            "network_reference": .nullable(.string()), "simulated_label": .nullable(.string()),
        ], required: ["id", "line_id", "line", "run_at", "outcome", "checks", "fault_report_suggested", "simulated", "network", "sandbox"]),
        "LineDiagnosisOverview": .object([
            "lines": .array(.object(["id": .integer, "identifier": .string(), "status": .string(), "latest": .nullable(.reference("LineDiagnosis"))],
                                    required: ["id", "identifier", "status"])),
        ], required: ["lines"]),
    ]

    func addRoutes(to group: RouterGroup<UserContext>) {
        addOfferRoutes(to: group)
        addBilledReportRoutes(to: group)
        addChatRoutes(to: group)
        addDiagnosisRoutes(to: group)
        addFaultReportRoutes(to: group)
    }

    // MARK: Shared

    /// A line of text in a page's list (hours, highlights); nil when empty.
    struct TextItem: Encodable { var text: String? }

    func customerId(_ context: UserContext) -> Int64 { context.customer.id ?? 0 }

    func text(_ key: String, _ context: UserContext, _ values: [String: String] = [:]) -> String {
        context.tenant.theme.text(key, locale: context.locale, values)
    }

    /// A UI string in every locale of the tenant (for field problems).
    func localized(_ key: String, _ context: UserContext, _ values: [String: String] = [:]) -> LocalizedText {
        context.tenant.localized(key, values)
    }

    /// The label under `prefix.value`, the value itself when there is none.
    func label(_ prefix: String, _ value: String, _ context: UserContext) -> String {
        let key = "\(prefix).\(value)"
        let text = text(key, context)
        return text == key ? value.replacingOccurrences(of: "_", with: " ") : text
    }

    /// The label of a status (or any other value of a fixed set) under `prefix`.
    func label<Value: RawRepresentable>(_ prefix: String, _ value: Value, _ context: UserContext) -> String where Value.RawValue == String {
        label(prefix, value.rawValue, context)
    }

    /// Whether the user's scope for `feature` lets them see `line` (their own line only, when so narrowed).
    func inScope(_ line: LineRecord, feature: String, _ context: UserContext) -> Bool {
        guard context.tenant.authorization.scope(context.session.principal, feature) == .ownLine else { return true }
        return line.assignedUserId != nil && line.assignedUserId == context.user.id
    }

    /// The request form of the tenant's YAML that serves `feature`, if any.
    func requestForm(for feature: String, _ context: UserContext) -> (id: String, form: RequestForm)? {
        RequestForms(tenant: context.tenant, context: context).all.first { $0.form.feature == feature }
    }

    static func payloadFields(_ request: RequestRecord) -> [String: Any] {
        let payload = RequestsController.decode(request.payload)
        return payload["fields"] as? [String: Any] ?? [:]
    }

    static func notice(_ context: UserContext, _ request: Request, allowed: [String], prefix: String) -> String? {
        guard let done = request.uri.queryParameters["done"].map(String.init), allowed.contains(done) else { return nil }
        return context.tenant.theme.text("\(prefix).\(done)", locale: context.locale)
    }
}
