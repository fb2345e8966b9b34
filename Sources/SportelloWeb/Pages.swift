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

enum Pages {
    /// Renders `template` inside the tenant's layout, in the request's locale.
    static func render(_ template: String, _ values: [String: Any] = [:], title: String, context: some PageContext,
                       status: HTTPResponse.Status = .ok) -> Response {
        let tenant = context.tenant
        var all = baseValues(title: title, context: context)
        for (key, value) in values { all[key] = value }
        let html = tenant.theme.render(template, all) ?? "<!doctype html><title>\(HTMLEscaping.escape(title))</title><p>\(HTMLEscaping.escape(title))</p>"
        return htmlResponse(html, status: status)
    }

    static func baseValues(title: String, context: some PageContext) -> [String: Any] {
        let tenant = context.tenant
        let definition = tenant.definition
        var values: [String: Any] = [
            "title": tenant.title(title, locale: context.locale),
            "tenant_name": definition.name,
            "tenant_id": definition.id,
            "locale": context.locale,
            "t": tenant.theme.templateStrings(for: context.locale),
            "csrf": context.csrfToken,
            "has_logo": definition.branding.logo != nil,
            "logo": definition.branding.logo.flatMap { tenant.theme.staticFiles[$0] != nil ? $0 : nil } ?? "",
            "favicon": definition.branding.favicon.flatMap { tenant.theme.staticFiles[$0] != nil ? $0 : nil } ?? "",
            "year": currentYear(),
            "other_locales": definition.locales.available.filter { $0 != context.locale }.map { ["code": $0] },
        ]
        if let contacts = definition.contacts {
            if let care = contacts.customerCare { values["customer_care"] = care }
            if let email = contacts.email { values["contact_email"] = email }
        }
        if let session = context.currentSession {
            let role = definition.roles[session.user.role]
            values["user"] = [
                "name": [session.user.firstName, session.user.lastName].compactMap { $0 }.joined(separator: " ")
                    .nonEmpty ?? session.user.username,
                "username": session.user.username,
                "role_label": role?.label.resolve(context.locale) ?? session.user.role,
                "customer_name": session.customer.displayName,
            ]
            let nav = navigation(session: session, tenant: tenant, locale: context.locale)
            values["nav"] = nav
            values["has_nav"] = !nav.isEmpty
        }
        return values
    }

    /// The sections the user can open, each with the features the role grants (hidden otherwise).
    /// Features the home page shows (welcome box, administrative status).
    static let homePageFeatures: Set<String> = ["dashboard.view", "account_status.view"]

    static func navigation(session: ActiveSession, tenant: PortalTenant, locale: String) -> [[String: Any]] {
        var items: [[String: Any]] = []
        for section in tenant.sectionFeatures {
            let granted = section.features.filter { tenant.authorization.isAllowed(session.principal, $0) }
            guard !granted.isEmpty else { continue }
            // A section of home-page facts only (Unidata's welcome box) is the Home link itself.
            if granted.allSatisfy({ homePageFeatures.contains($0) }) { continue }
            let label = tenant.definition.sections[section.id]?.label.resolve(locale) ?? section.id
            items.append(["id": section.id, "label": label, "href": "/sections/\(section.id)"])
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

    /// Form problems as template values: `errors.<field>` holds the message shown next to the field.
    static func errorValues(_ problems: [FieldProblem], locale: String) -> [String: Any] {
        var byField: [String: String] = [:]
        for problem in problems where byField[problem.field] == nil { byField[problem.field] = problem.message.resolve(locale) }
        return ["errors": byField, "has_errors": !problems.isEmpty,
                "error_list": problems.map { ["field": $0.field, "message": $0.message.resolve(locale)] }]
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
