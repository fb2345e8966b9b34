import Foundation
import SportelloCore
import SportelloStore

/// Provider staff moving a request along its form's lifecycle (`sportello requests status`): the new
/// status joins the history with the note, and whoever the form notifies by e-mail is told.
public struct RequestStatusChanges: Sendable {
    let services: PortalServices
    let tenant: PortalTenant

    public init(services: PortalServices, tenant: PortalTenant) {
        self.services = services
        self.tenant = tenant
    }

    /// Why a change was refused, with a stable code.
    public struct Refusal: Error, Sendable {
        public var code: String
        public var message: String
    }

    /// The statuses a request of `formId` may take: its lifecycle and the statuses that end any request.
    func statuses(of formId: String) -> [String] {
        let lifecycle = tenant.definition.requests?[formId]?.lifecycle ?? ["open", "in_progress"]
        return lifecycle + RequestForms.terminalStatuses.filter { !lifecycle.contains($0) }
    }

    /// Sets the status and returns the updated request; queues the e-mail in the same transaction.
    @discardableResult
    public func apply(requestId: Int64, status: String, note: String?) async throws -> RequestRecord {
        let definition = tenant.definition
        let theme = tenant.theme
        let locale = definition.locales.default
        let note = note?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let note, note.count > 1_000 { throw Refusal(code: "note_too_long", message: "the note is longer than 1000 characters") }
        let accounts = Accounts(services: services, tenant: tenant)
        return try await services.database.write(tenant: tenant.id, now: services.now) { transaction in
            guard let request = try await transaction.request(id: requestId) else {
                throw Refusal(code: "not_found", message: "no request \(requestId) in \(definition.id)")
            }
            let allowed = statuses(of: request.form)
            guard allowed.contains(status) else {
                throw Refusal(code: "unknown_status", message: "'\(status)' is not a status of \(request.form): \(allowed.joined(separator: ", "))")
            }
            guard status != request.status else {
                throw Refusal(code: "unchanged", message: "request \(requestId) is already \(status)")
            }
            try await transaction.changeRequestStatus(id: requestId, to: status, note: note?.isEmpty == false ? note : nil)
            try await transaction.audit("request.status_changed", targetKind: "request", targetId: String(requestId),
                                        detail: "\(request.status) → \(status)")
            if let recipient = try await recipient(of: request, in: transaction) {
                let statusKey = "requests.status.\(status)"
                let statusLabel = theme.text(statusKey, locale: locale) == statusKey ? status : theme.text(statusKey, locale: locale)
                try await accounts.queueMail("request_status_changed", to: recipient, values: [
                    "number": String(requestId), "subject": request.subject, "status": statusLabel, "note": note ?? "",
                    "request_path": Routes.request.path(requestId),
                ], locale: locale, in: transaction)
            }
            return try await transaction.request(id: requestId) ?? request
        }
    }

    /// The referent named in the request when its form notifies by e-mail and e-mail was chosen, else the submitter.
    private func recipient(of request: RequestRecord, in transaction: TenantTransaction) async throws -> String? {
        guard let form = tenant.definition.requests?[request.form] else { return nil }
        let payload = (try? JSONSerialization.jsonObject(with: Data(request.payload.utf8))) as? [String: Any] ?? [:]
        let notice = RequestForms.emailNotice(form: form, notify: payload["notify"] as? String, fields: payload["fields"] as? [String: Any] ?? [:])
        guard notice.notifies else { return nil }
        if let referent = notice.referent { return referent }
        guard let userId = request.userId, let user = try await transaction.user(id: userId) else { return nil }
        return user.email.flatMap { $0.isEmpty ? nil : $0 }
    }
}
