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
        group.get(Routes.lineDiagnosisFaultReport) { _, context in try await faultPage(context: context) }
        group.post(Routes.lineDiagnosisFaultReport) { request, context in
            let submission = try await RequestSubmission.read(request, context: context, limit: 1 << 20)
            var values = submission.values
            values["_csrf"] = nil
            switch try await reportFault(values: values, context: context) {
            case .created(let id):
                // Whoever may file a fault report may follow it on the requests page.
                return Pages.redirect(Routes.request.path(id, query: ["created": "1"]))
            case .invalid(let problems):
                return try await faultPage(context: context, values: values, problems: problems, status: .unprocessableContent)
            case .open(let open):
                return try await faultPage(context: context, values: values, open: open, status: .conflict)
            }
        }
        group.post(Routes.diagnosisFaultReportsResource.api) { request, context in
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
                return API.json(Created(requestId: id, url: Routes.request.api.path(id)), status: .created)
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
            let checked = forms.check(form, values: values, files: [:], lines: [line], invoices: [],
                                      today: context.tenant.definition.calendarDay(at: Date(timeIntervalSince1970: TimeInterval(now))))
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

    /// The fault report form: the form's fields (the line fixed), the update channels, any open report.
    struct FaultModel: Encodable {
        struct Field: Encodable {
            struct Option: Encodable {
                var value: String?
                var selected: Bool
            }
            var name, label: String
            var required: Bool
            var value, error: String?
            var isFixed, isSelect, isTextarea, isPerson, isInput: Bool?
            var options: [Option]?
            var maxLength, inputType: String?
            var personName, personPhone, personEmail, errorName, errorPhone, errorEmail: String?
        }
        struct NotifyChoice: Encodable {
            var value, label, index: String
            var selected: Bool
        }
        var diagnosisId, identifier: String
        var fields: [Field]
        var formLabel, resultTitle: String
        var hasNotify: Bool?
        var notifyChoices: [NotifyChoice]?
        var notifyError, openMessage: String?
    }

    private func faultPage(context: UserContext, values submitted: [String: [String]] = [:], problems: [FieldProblem] = [],
                           open: RequestRecord? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let (record, line, _, form) = try await faultContext(context)
        let locale = context.locale
        let errors = Dictionary(problems.map { ($0.field, $0.message.resolve(locale)) }, uniquingKeysWith: { first, _ in first })
        func first(_ name: String) -> String { submitted[name]?.first ?? "" }
        let fields = form.fields.filter { $0.type != .attachment }.map { field in
            let name = field.name
            var item = FaultModel.Field(name: name, label: field.label.resolve(locale), required: field.required ?? false,
                                        value: first(name).nonEmpty, error: errors[name]?.nonEmpty)
            switch field.type {
            case .line: item.isFixed = true; item.value = line.identifier.nonEmpty
            case .choice:
                item.isSelect = true
                item.options = (field.options ?? []).map { .init(value: $0.nonEmpty, selected: first(name) == $0) }
            case .textarea, .address:
                item.isTextarea = true
                item.maxLength = String(field.maxLength ?? RequestForms.defaultMaxLength(field.type))
            case .person:
                item.isPerson = true
                let user = context.user
                let defaultName = [user.firstName, user.lastName].compactMap { $0 }.joined(separator: " ")
                item.personName = (submitted.isEmpty ? defaultName : first("\(name)_name")).nonEmpty
                item.personPhone = first("\(name)_phone").nonEmpty
                item.personEmail = (submitted.isEmpty ? (user.email ?? "") : first("\(name)_email")).nonEmpty
                item.errorName = errors["\(name)_name"]?.nonEmpty; item.errorPhone = errors["\(name)_phone"]?.nonEmpty
                item.errorEmail = errors["\(name)_email"]?.nonEmpty
            case .date: item.isInput = true; item.inputType = "date"
            case .email: item.isInput = true; item.inputType = "email"
            case .phone: item.isInput = true; item.inputType = "tel"
            default:
                item.isInput = true; item.inputType = "text"
                item.maxLength = String(field.maxLength ?? RequestForms.defaultMaxLength(field.type))
            }
            return item
        }
        let forms = RequestForms(tenant: context.tenant, context: context)
        let channels = (form.notify ?? []).map(\.rawValue)
        var model = FaultModel(
            diagnosisId: String(record.id ?? 0), identifier: line.identifier, fields: fields, formLabel: form.label.resolve(locale),
            resultTitle: text("support.diagnosis.result_title", context, ["line": line.identifier]))
        if channels.count > 1 {
            model.hasNotify = true
            model.notifyChoices = channels.enumerated().map { index, channel in
                .init(value: channel, label: forms.text("requests.channel.\(channel)"), index: String(index),
                      selected: first("notify") == channel || (first("notify").isEmpty && index == 0))
            }
            model.notifyError = errors["notify"]?.nonEmpty
        }
        if let open { model.openMessage = text("support.fault.already_open", context, ["id": String(open.id ?? 0)]) }
        return Pages.render("support_fault", model, errors: problems,
                            title: text("support.fault.title", context, ["line": line.identifier]), context: context, status: status)
    }
}
