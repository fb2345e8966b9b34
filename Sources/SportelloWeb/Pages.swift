import Foundation
import Hummingbird
import SportelloCore
import SportelloStore

/// What a page needs to know about the request it answers (tenant, locale, CSRF secret, user).
public protocol PageContext {
    var tenant: PortalTenant { get }
    var locale: String { get }
    var csrfToken: String { get }
    var currentSession: ActiveSession? { get }
    var viaBearerToken: Bool { get }
}

extension TenantContext: PageContext { public var currentSession: ActiveSession? { session } }
extension UserContext: PageContext { public var currentSession: ActiveSession? { session } }

/// A form's problems as templates read them, in the reader's language: `errors.<field>` is the message
/// shown next to the field (the first problem of each field), `error_list` the summary at the top.
struct FormErrors: Encodable {
    struct Item: Encodable { var field, message: String }
    var errors: [String: String]
    var hasErrors: Bool
    var errorList: [Item]

    init(_ problems: [FieldProblem], locale: String) {
        var byField: [String: String] = [:]
        for problem in problems where byField[problem.field] == nil { byField[problem.field] = problem.message.resolve(locale) }
        errors = byField
        hasErrors = !problems.isEmpty
        errorList = problems.map { Item(field: $0.field, message: $0.message.resolve(locale)) }
    }
}

/// The error page: what went wrong, its stable code and the HTTP status.
struct ErrorPage: Encodable {
    var message, code: String
    var status: Int
}

/// What the layout around every page reads: the tenant's name and branding, the request's locale and
/// CSRF token, the signed-in user and the sections they may open.
struct LayoutModel: Encodable {
    struct User: Encodable {
        var name, username, roleLabel, customerName: String
    }
    struct NavigationItem: Encodable {
        var id, label, href: String
    }
    struct Locale: Encodable { var code: String }

    var title, tenantName, tenantId, locale: String
    var t: TemplateData
    var csrf: String
    var hasLogo: Bool
    var logo, favicon, year: String
    var otherLocales: [Locale]
    var customerCare, contactEmail: String?
    var user: User?
    var nav: [NavigationItem]?
    var hasNav: Bool?

    /// What `TemplateData(encoding:)` makes of the layout, built directly: every page renders it, and the generic
    /// encoder's casts and key conversions were a tenth of the home page's time (LayoutTemplateDataTests keeps the two equal).
    var templateData: TemplateData {
        var entries: [String: TemplateData] = [
            "title": .text(title), "tenant_name": .text(tenantName), "tenant_id": .text(tenantId), "locale": .text(locale),
            "t": t, "csrf": .text(csrf), "has_logo": .bool(hasLogo), "logo": .text(logo), "favicon": .text(favicon), "year": .text(year),
            "other_locales": .list(otherLocales.map { .object(["code": .text($0.code)]) }),
        ]
        entries.reserveCapacity(16)
        if let customerCare { entries["customer_care"] = .text(customerCare) }
        if let contactEmail { entries["contact_email"] = .text(contactEmail) }
        if let user {
            entries["user"] = .object(["name": .text(user.name), "username": .text(user.username), "role_label": .text(user.roleLabel),
                                       "customer_name": .text(user.customerName)])
        }
        if let nav { entries["nav"] = .list(nav.map { .object(["id": .text($0.id), "label": .text($0.label), "href": .text($0.href)]) }) }
        if let hasNav { entries["has_nav"] = .bool(hasNav) }
        return .object(entries)
    }
}

enum Pages {
    /// Renders `template` with `model` inside the tenant's layout, in the request's locale; `errors` (a form's
    /// problems, see `FormErrors`) are read under the model's own values.
    static func render(_ template: String, _ model: some Encodable, errors: [FieldProblem] = [], title: String,
                       context: some PageContext, status: HTTPResponse.Status = .ok) -> Response {
        var layout = layout(title: title, context: context).templateData
        if !errors.isEmpty, case .object(var entries) = layout,
           case .object(let problems) = TemplateData(encoding: FormErrors(errors, locale: context.locale)) {
            entries.merge(problems) { $1 }
            layout = .object(entries)
        }
        return htmlResponse(html(template, TemplateData(encoding: model), layout: layout, context: context), status: status)
    }

    /// A page printed on its own (an invoice, a statement): the layout's values without the navigation.
    static func renderDocument(_ template: String, _ model: some Encodable, title: String, context: some PageContext) -> Response {
        var layout = layout(title: title, context: context)
        layout.nav = nil
        layout.hasNav = nil
        return htmlResponse(html(template, TemplateData(encoding: model), layout: layout.templateData, context: context))
    }

    private static func html(_ template: String, _ page: TemplateData, layout: TemplateData, context: some PageContext) -> String {
        if let html = context.tenant.theme.render(template, page, layout: layout, locale: context.locale) { return html }
        let title = HTMLEscaping.escape(layout.child("title")?.printed ?? "")
        return "<!doctype html><title>\(title)</title><p>\(title)</p>"
    }

    static func layout(title: String, context: some PageContext) -> LayoutModel {
        let tenant = context.tenant
        let definition = tenant.definition
        var layout = LayoutModel(
            title: tenant.title(title, locale: context.locale), tenantName: definition.name, tenantId: definition.id,
            locale: context.locale, t: tenant.theme.templateStrings(for: context.locale), csrf: context.csrfToken,
            hasLogo: definition.branding.logo != nil,
            logo: definition.branding.logo.flatMap { tenant.theme.staticFiles[$0] != nil ? $0 : nil } ?? "",
            favicon: definition.branding.favicon.flatMap { tenant.theme.staticFiles[$0] != nil ? $0 : nil } ?? "",
            year: currentYear(),
            otherLocales: definition.locales.available.filter { $0 != context.locale }.map { .init(code: $0) },
            customerCare: definition.contacts?.customerCare, contactEmail: definition.contacts?.email)
        if let session = context.currentSession {
            let role = definition.roles[session.user.role]
            layout.user = .init(
                name: [session.user.firstName, session.user.lastName].compactMap { $0 }.joined(separator: " ").nonEmpty ?? session.user.username,
                username: session.user.username, roleLabel: role?.label.resolve(context.locale) ?? session.user.role,
                customerName: session.customer.displayName)
            let nav = navigation(session: session, tenant: tenant, locale: context.locale)
            layout.nav = nav
            layout.hasNav = !nav.isEmpty
        }
        return layout
    }

    /// Features the home page shows (welcome box, administrative status).
    static let homePageFeatures: Set<String> = ["dashboard.view", "account_status.view"]

    /// Whether `feature` of `tenant` only shows on the home page: it binds to one of `homePageFeatures` (`home.welcome:
    /// {capability: dashboard.view}`) or is named after one.
    static func isHomePageFeature(_ feature: String, in tenant: TenantDefinition) -> Bool {
        homePageFeatures.contains(tenant.slot(of: feature) ?? feature)
    }

    /// The sections the user can open, each with the features the role grants (hidden otherwise).
    static func navigation(session: ActiveSession, tenant: PortalTenant, locale: String) -> [LayoutModel.NavigationItem] {
        var items: [LayoutModel.NavigationItem] = []
        for section in tenant.sectionFeatures {
            let granted = section.features.filter { tenant.authorization.isAllowed(session.principal, $0) }
            guard !granted.isEmpty else { continue }
            // A section of home-page facts only (Unidata's welcome box) is the Home link itself.
            if granted.allSatisfy({ isHomePageFeature($0, in: tenant.definition) }) { continue }
            let label = tenant.definition.sections[section.id]?.label.resolve(locale) ?? section.id
            items.append(.init(id: section.id, label: label, href: Routes.section.path(section.id)))
        }
        return items
    }

    /// The calendar year for the footer, without building a `Calendar` per request.
    private static func currentYear() -> String {
        var seconds = time_t(Date().timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(Int(parts.tm_year) + 1900)
    }

    static func htmlResponse(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}

/// A submitted `application/x-www-form-urlencoded` form.
public struct SubmittedForm: Sendable {
    public var fields: [String: String]

    public subscript(_ name: String) -> String { fields[name] ?? "" }

    /// The trimmed value, nil when empty.
    public func value(_ name: String) -> String? {
        let value = (fields[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        return value.isEmpty ? nil : value
    }

    static func parse(_ body: String) -> SubmittedForm {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            let name = decode(parts[0])
            if fields[name] == nil { fields[name] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return SubmittedForm(fields: fields)
    }

    /// Reads the form and checks its CSRF token against the browser's secret and, when logged in, the session.
    static func read(_ request: Request, context: some PageContext) async throws -> SubmittedForm {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        let form = parse(String(buffer: buffer))
        let sent = form["_csrf"]
        guard !context.csrfToken.isEmpty, !sent.isEmpty,
              Secrets.constantTimeEquals(sent, context.csrfToken) else { throw PortalError.csrfRejected }
        if let session = context.currentSession,
           !Secrets.constantTimeEquals(Secrets.hash(sent), session.record.csrfTokenHash) {
            throw PortalError.csrfRejected
        }
        return form
    }
}
