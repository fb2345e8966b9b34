import Foundation
import SportelloCore
import SportelloStore

/// The lifecycle every request shares: the statuses that end a request whatever its form says.
public enum RequestLifecycle {
    public static let terminalStatuses = ["closed", "completed", "rejected", "cancelled"]

    /// The statuses a request of `formId` may take: its form's lifecycle and the statuses that end any request.
    public static func statuses(of formId: String, in tenant: TenantDefinition) -> [String] {
        let lifecycle = tenant.requests?[formId]?.lifecycle ?? ["open", "in_progress"]
        return lifecycle + terminalStatuses.filter { !lifecycle.contains($0) }
    }

    /// Whether a request of `form` is told about by e-mail (the form notifies by e-mail and no other channel
    /// was chosen), and the address of the referent the form names, if any (else the submitter's is used).
    public static func emailNotice(form: RequestForm, notify: String?, fields: [String: Any]) -> (notifies: Bool, referent: String?) {
        guard (form.notify ?? []).contains(where: { $0.rawValue == "email" }), notify == nil || notify == "email" else { return (false, nil) }
        for field in form.fields where field.type == .person {
            if let person = fields[field.name] as? [String: Any], let email = person["email"] as? String, !email.isEmpty { return (true, email) }
        }
        return (true, nil)
    }
}

/// Provider staff move a request along its form's lifecycle (`sportello requests status`): the new status
/// joins the history with the note, and whoever the form notifies by e-mail is told, in the same transaction.
public struct MoveRequest: Sendable {
    let services: ApplicationServices

    public init(services: ApplicationServices) { self.services = services }

    /// Sets the status and returns the updated request. Refusals: `forbidden` (not staff), `note_too_long`,
    /// `not_found`, `unknown_status` (with the statuses allowed), `unchanged`.
    @discardableResult
    public func callAsFunction(tenant: ServedTenant, acting: Acting, requestId: Int64, status: String, note: String?) async throws -> RequestRecord {
        guard case .staff = acting else { throw UseCaseRefusal(code: "forbidden", message: "only the provider's staff move requests") }
        let definition = tenant.definition
        let locale = definition.locales.default
        let note = note?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let note, note.count > 1_000 { throw UseCaseRefusal(code: "note_too_long", message: "the note is longer than 1000 characters") }
        let services = services
        let result = try await services.database.write(tenant: tenant.id, now: services.now) { transaction in
            guard let request = try await transaction.request(id: requestId) else {
                throw UseCaseRefusal(code: "not_found", message: "no request \(requestId) in \(definition.id)")
            }
            let allowed = RequestLifecycle.statuses(of: request.form, in: definition)
            guard allowed.contains(status) else {
                throw UseCaseRefusal(code: "unknown_status", message: "'\(status)' is not a status of \(request.form): \(allowed.joined(separator: ", "))")
            }
            guard status != request.status else {
                throw UseCaseRefusal(code: "unchanged", message: "request \(requestId) is already \(status)")
            }
            try await transaction.changeRequestStatus(id: requestId, to: status, note: note?.isEmpty == false ? note : nil)
            try await transaction.audit("request.status_changed", targetKind: "request", targetId: String(requestId),
                                        detail: "\(request.status) → \(status)")
            var mailed = false
            if let recipient = try await Self.recipient(of: request, tenant: definition, in: transaction) {
                let statusLabel = definition.requests?[request.form]?.statusLabels?[status]?.resolve(locale)
                    ?? tenant.texts.existingText("requests.status.\(status)", locale: locale) ?? status
                try await services.queueMail("request_status_changed", to: recipient, values: [
                    "number": String(requestId), "subject": request.subject, "status": statusLabel, "note": note ?? "",
                    "request_path": services.paths.request(requestId),
                ], locale: locale, tenant: definition, in: transaction)
                mailed = true
            }
            return (try await transaction.request(id: requestId) ?? request, mailed)
        }
        if result.1 { services.mailQueued() }
        return result.0
    }

    /// The referent named in the request when its form notifies by e-mail and e-mail was chosen, else the submitter.
    private static func recipient(of request: RequestRecord, tenant: TenantDefinition, in transaction: TenantTransaction) async throws -> String? {
        guard let form = tenant.requests?[request.form] else { return nil }
        let payload = (try? JSONSerialization.jsonObject(with: Data(request.payload.utf8))) as? [String: Any] ?? [:]
        let notice = RequestLifecycle.emailNotice(form: form, notify: payload["notify"] as? String, fields: payload["fields"] as? [String: Any] ?? [:])
        guard notice.notifies else { return nil }
        if let referent = notice.referent { return referent }
        guard let userId = request.userId, let user = try await transaction.user(id: userId) else { return nil }
        return user.email.flatMap { $0.isEmpty ? nil : $0 }
    }
}
