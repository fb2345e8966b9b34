import Foundation
import Hummingbird
import SportelloCore
import SportelloStore

/// A fault report opened from a diagnosis: the tenant's `support.fault_report` form with the diagnosed
/// line filled in, checked by the form's own rules, stored as a tracked request and linked to the diagnosis.
extension TelcoSupportController {
    enum FaultOutcome {
        case created(Int64)
        case invalid([FieldProblem])
        case open(RequestRecord)
    }

    func addFaultReportRoutes(to group: RouterGroup<UserContext>) {
        group.get("/support/diagnosis/:id/fault-report") { _, context in try await faultPage(context: context) }
        group.post("/support/diagnosis/:id/fault-report") { request, context in
            let submission = try await RequestSubmission.read(request, context: context, limit: 1 << 20)
            var values = submission.values
            values["_csrf"] = nil
            switch try await reportFault(values: values, context: context) {
            case .created(let id):
                // Whoever may file a fault report may follow it on the requests page.
                return Pages.redirect("/requests/\(id)?created=1")
            case .invalid(let problems):
                return try await faultPage(context: context, values: values, problems: problems, status: .unprocessableContent)
            case .open(let open):
                return try await faultPage(context: context, values: values, open: open, status: .conflict)
            }
        }
        group.post("\(API.prefix)/support/diagnoses/:id/fault-reports") { request, context in
            try API.checkCSRF(request, context: context)
            let buffer = try await request.body.collect(upTo: 1 << 20)
            guard let body = (try? JSONSerialization.jsonObject(with: Data(buffer: buffer))) as? [String: Any] else {
                throw PortalError.badRequest("the body is not the JSON this operation takes")
            }
            var values: [String: [String]] = [:]
            for (name, raw) in body["fields"] as? [String: Any] ?? [:] {
                if let person = raw as? [String: Any] {
                    for part in ["name", "phone", "email"] { if let text = person[part] as? String { values["\(name)_\(part)"] = [text] } }
                } else {
                    values[name] = [RequestsController.AnyJSON.plain(raw)]
                }
            }
            if let notify = body["notify"] as? String { values["notify"] = [notify] }
            switch try await reportFault(values: values, context: context) {
            case .created(let id):
                struct Created: Encodable { var requestId: Int64; var url: String }
                return API.json(Created(requestId: id, url: "\(API.prefix)/requests/\(id)"), status: .created)
            case .invalid(let problems):
                throw PortalError.invalid(problems)
            case .open(let open):
                let message = text("support.fault.already_open", context, ["id": String(open.id ?? 0)])
                return API.json(APIErrorBody(error: .init(code: "fault_report_open", message: message, fields: nil)), status: .conflict)
            }
        }
    }

    /// The diagnosis, its line and the fault form, when the diagnosis calls for a report the user may file.
    private func faultContext(_ context: UserContext) async throws -> (LineDiagnosisRecord, LineRecord, String, RequestForm) {
        try context.require(Feature.faultReport)
        let (record, line, _) = try await loadDiagnosis(context: context)
        guard let (formId, form) = requestForm(for: Feature.faultReport, context),
              !form.fields.contains(where: { $0.type == .attachment && $0.required == true }) else { throw PortalError.notFound }
        guard LineDiagnosis.suggestsFaultReport(DiagnosisCheck.decode(record.checks)), record.faultRequestId == nil else {
            throw PortalError.conflict(text("support.fault.not_needed", context))
        }
        return (record, line, formId, form)
    }

    func reportFault(values submitted: [String: [String]], context: UserContext) async throws -> FaultOutcome {
        let (record, line, formId, form) = try await faultContext(context)
        let forms = RequestForms(tenant: context.tenant, context: context)
        var filled = submitted
        for field in form.fields where field.type == .line { filled[field.name] = [line.identifier] }
        let values = filled
        let customer = customerId(context)
        let userId = context.user.id
        let now = services.now
        return try await services.database.write(tenant: context.tenant.id, now: now) { transaction in
            if let open = try await openFaults(for: line, context: context, in: transaction).first { return .open(open) }
            let checked = forms.check(form, values: values, files: [:], lines: [line], invoices: [])
            guard checked.problems.isEmpty else { return .invalid(checked.problems) }
            if let maximum = form.maxOpen,
               try await transaction.openRequests(customerId: customer, group: form.group, form: formId, terminal: forms.terminal(for: formId)).count >= maximum {
                return .invalid([FieldProblem(field: "form", code: "max_open", message: localized("support.fault.max_open", context))])
            }
            var payload: [String: Any] = ["fields": checked.fields]
            if let notify = checked.notify { payload["notify"] = notify }
            let requestId = try await transaction.insertRequest(RequestRecord(
                customerId: customer, userId: userId, form: formId, formGroup: form.group, subject: forms.subject(form, fields: checked.fields),
                payload: RequestsController.encode(payload), status: forms.initialStatus(form), createdAt: now),
                note: "diagnosis \(record.id ?? 0)")
            try await transaction.linkFaultReport(diagnosisId: record.id ?? 0, customerId: customer, requestId: requestId)
            try await transaction.audit("request.created", actorUserId: userId, targetKind: "request", targetId: String(requestId),
                                        detail: "form \(formId), from diagnosis \(record.id ?? 0) of line \(line.id ?? 0)")
            return .created(requestId)
        }
    }

    private func faultPage(context: UserContext, values submitted: [String: [String]] = [:], problems: [FieldProblem] = [],
                           open: RequestRecord? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let (record, line, _, form) = try await faultContext(context)
        let locale = context.locale
        let errors = Dictionary(problems.map { ($0.field, $0.message.resolve(locale)) }, uniquingKeysWith: { first, _ in first })
        func first(_ name: String) -> String { submitted[name]?.first ?? "" }
        let fields = form.fields.filter { $0.type != .attachment }.map { field -> [String: Any] in
            let name = field.name
            var item: [String: Any] = ["name": name, "label": field.label.resolve(locale), "required": field.required ?? false,
                                       "value": first(name), "error": errors[name] ?? ""]
            switch field.type {
            case .line: item["is_fixed"] = true; item["value"] = line.identifier
            case .choice:
                item["is_select"] = true
                item["options"] = (field.options ?? []).map { ["value": $0, "selected": first(name) == $0] }
            case .textarea, .address:
                item["is_textarea"] = true
                item["max_length"] = String(field.maxLength ?? RequestForms.defaultMaxLength(field.type))
            case .person:
                item["is_person"] = true
                let user = context.user
                let defaultName = [user.firstName, user.lastName].compactMap { $0 }.joined(separator: " ")
                item["person_name"] = submitted.isEmpty ? defaultName : first("\(name)_name")
                item["person_phone"] = first("\(name)_phone")
                item["person_email"] = submitted.isEmpty ? (user.email ?? "") : first("\(name)_email")
                item["error_name"] = errors["\(name)_name"] ?? ""; item["error_phone"] = errors["\(name)_phone"] ?? ""
                item["error_email"] = errors["\(name)_email"] ?? ""
            case .date: item["is_input"] = true; item["input_type"] = "date"
            case .email: item["is_input"] = true; item["input_type"] = "email"
            case .phone: item["is_input"] = true; item["input_type"] = "tel"
            default:
                item["is_input"] = true; item["input_type"] = "text"
                item["max_length"] = String(field.maxLength ?? RequestForms.defaultMaxLength(field.type))
            }
            return item
        }
        let forms = RequestForms(tenant: context.tenant, context: context)
        let channels = (form.notify ?? []).map(\.rawValue)
        var values: [String: Any] = [
            "diagnosis_id": String(record.id ?? 0), "identifier": line.identifier, "fields": fields,
            "form_label": form.label.resolve(locale), "result_title": text("support.diagnosis.result_title", context, ["line": line.identifier]),
        ]
        if channels.count > 1 {
            values["has_notify"] = true
            values["notify_choices"] = channels.enumerated().map { index, channel -> [String: Any] in
                ["value": channel, "label": forms.text("requests.channel.\(channel)"), "index": String(index),
                 "selected": first("notify") == channel || (first("notify").isEmpty && index == 0)]
            }
            values["notify_error"] = errors["notify"] ?? ""
        }
        if let open { values["open_message"] = text("support.fault.already_open", context, ["id": String(open.id ?? 0)]) }
        values.merge(Pages.errorValues(problems, locale: locale)) { $1 }
        return Pages.render("support_fault", TemplateValues.pruned(values),
                            title: text("support.fault.title", context, ["line": line.identifier]), context: context, status: status)
    }
}
