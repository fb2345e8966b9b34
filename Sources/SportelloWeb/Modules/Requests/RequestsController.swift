import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// The requests pages and their `/api/v1` operations: the tenant's YAML request forms with their limits
/// (field lengths, choices, at most N lines, attachment types and sizes, `max_open` per group), the
/// customer's requests with their status history, and attachment downloads for the owner customer only.
struct RequestsController: ModuleController {
    let services: PortalServices

    /// WINDTRE: `requests.view`/`requests.create` (tickets) and `options.manage` (option activation);
    /// Tunda: `tickets.technical`/`tickets.administration`; TIM: `tracking.view` (request tracking).
    static let pages: [PortalPage] = [
        PortalPage(route: Routes.requests, titleKey: "requests.title",
                   features: ["requests.view", "requests.create", "tickets.technical", "tickets.administration", "tracking.view",
                              "options.manage"],
                   // Any feature a YAML request form names (TIM's SIM change, a fault report…) opens the page too.
                   tenantFeatures: { tenant in (tenant.requests ?? OrderedMap()).map(\.value.feature) }),
    ]

    /// The operations of the requests page: listed for every tenant the page opens for, a tenant's own request-form
    /// features included (an insurer's `claims.report`), each described with the first such feature the tenant defines.
    static let apiOperations: [APIOperation] = {
        let idParameter = APIOperation.Parameter("id", in: "path", required: true, description: "Request id", schema: .integer)
        let page = pages[0]
        return [
            APIOperation("GET", Routes.requests, summary: "The customer's requests the caller may read, newest first",
                         parameters: [.init("status", description: "`open` or `closed` to filter", schema: .enumeration(["open", "closed"]))],
                         success: (200, "RequestList"), page: page),
            APIOperation("GET", Routes.requestForms, summary: "The request forms the caller may submit, with their fields and limits",
                         success: (200, "RequestFormList"), page: page),
            APIOperation("POST", Routes.requests, summary: "Submit a request (attachments as base64); 409 `max_open` while another is open, 409 `form_closed` (with `opens_at`) outside the form's opening windows",
                         requestBody: "NewRequest", success: (201, "Request"), page: page),
            APIOperation("GET", Routes.request, summary: "One request with its fields, attachments and status history",
                         parameters: [idParameter], success: (200, "Request"), page: page),
            APIOperation("GET", Routes.requestAttachment, summary: "Download an attachment (the file itself)",
                         parameters: [idParameter, .init("attachment", in: "path", required: true, description: "Attachment id", schema: .integer)],
                         success: (200, nil), page: page),
        ]
    }()

    static let apiSchemas: [String: JSONSchema] = [
        "RequestSummary": .object([
            "id": .integer, "number": .integer, "form": .string(), "form_label": .string(), "subject": .string(), "status": .string(),
            "status_label": .string(), "open": .boolean, "created_at": .integer, "updated_at": .integer, "closed_at": .nullable(.integer),
        ], required: ["id", "number", "form", "form_label", "subject", "status", "status_label", "open", "created_at", "updated_at"]),
        "RequestList": .object(["requests": .array(.reference("RequestSummary"))], required: ["requests"]),
        "Request": .object([
            "request": .reference("RequestSummary"),
            "fields": .array(.object(["name": .string(), "label": .string(), "type": .string(),
                                      "value": .string(description: "A string, a number, a list of strings, {name, phone, email}, or for a `record` field {record_id, kind, external_id, label, exists}: the record the request points at (its label now, or when chosen if it no longer exists)")],
                                     required: ["name", "label", "type"])),
            "notify": .nullable(.enumeration(["email", "sms", "portal"])),
            "attachments": .array(.object(["id": .integer, "field": .nullable(.string()), "file_name": .string(), "content_type": .string(),
                                           "size": .integer, "url": .string()], required: ["id", "file_name", "content_type", "size", "url"])),
            "history": .array(.object(["at": .integer, "status": .string(), "status_label": .string(), "note": .nullable(.string())],
                                      required: ["at", "status", "status_label"])),
        ], required: ["request", "fields", "attachments", "history"]),
        "RequestFormList": .object(["forms": .array(.reference("RequestForm"))], required: ["forms"]),
        "RequestForm": .object([
            "id": .string(), "label": .string(), "feature": .string(), "group": .nullable(.string()), "max_open": .nullable(.integer),
            "description": .nullable(.string()),
            "available": .boolean, "blocked_by": .nullable(.integer), "notify": .array(.string()), "lifecycle": .array(.string()),
            "open": .boolean,
            "opens_at": .nullable(.string(format: "date-time", description: "While closed: when the form opens next (absent: never again)")),
            "closes_at": .nullable(.string(format: "date-time", description: "While open inside a window: when it closes")),
            "status_labels": .object([:]),
            "fields": .array(.object([
                "name": .string(), "label": .string(),
                "type": .enumeration(FormFieldType.allCases.map(\.rawValue)), "required": .boolean,
                "help": .nullable(.string()), "min": .nullable(.string()), "max": .nullable(.string()), "scale": .nullable(.integer),
                "option_labels": .nullable(.object([:])),
                "when": .nullable(.object(["field": .string(), "equals": .nullable(.string()), "in": .nullable(.array(.string())),
                                           "filled": .nullable(.boolean)], required: ["field"])),
                "max_length": .nullable(.integer), "max_items": .nullable(.integer), "options": .nullable(.array(.string())),
                "accept": .nullable(.array(.string())), "max_size_mb": .nullable(.integer),
                "record_kind": .nullable(.string(description: "`record` fields: the record kind the field picks from")),
                "records": .nullable(.array(.object(["id": .integer, "external_id": .string(), "label": .string()],
                                                    required: ["id", "external_id", "label"]))),
            ], required: ["name", "label", "type", "required"])),
        ], required: ["id", "label", "feature", "available", "open", "fields", "notify", "lifecycle", "status_labels"]),
        "NewRequest": .object([
            "form": .string(),
            "fields": .object([:]),
            "notify": .string(description: "The channel, when the form offers more than one"),
        ], required: ["form", "fields"]),
    ]

    func addRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.requests) { request, context in try await list(request, context: context) }
        group.get(Routes.requestForm) { _, context in try await newForm(context: context) }
        group.post(Routes.requestForm) { request, context in try await submit(request, context: context) }
        group.get(Routes.request) { request, context in try await detail(request, context: context) }
        group.get(Routes.requestAttachment) { _, context in try await download(context: context) }

        group.get(Routes.requests.api) { request, context in try await apiList(request, context: context) }
        group.get(Routes.requestForms.api) { _, context in try await apiForms(context: context) }
        group.post(Routes.requests.api) { request, context in try await apiSubmit(request, context: context) }
        group.get(Routes.request.api) { _, context in try await apiDetail(context: context) }
        group.get(Routes.requestAttachment.api) { _, context in try await download(context: context) }
    }

    // MARK: Shared

    private func forms(_ context: UserContext) throws -> RequestForms {
        try context.require(page: Self.pages[0])
        return RequestForms(tenant: context.tenant, context: context)
    }

    private var customerId: (UserContext) -> Int64 { { $0.customer.id ?? 0 } }

    /// Every request of the customer, newest first, in one read.
    private func customerRequests(context: UserContext) async throws -> [RequestRecord] {
        let customer = customerId(context)
        return try await PageData.read("requests|\(customer)", tables: [.requests], context: context, services: services) {
            try await $0.requests(customerId: customer)
        }
    }

    /// The customer's requests the user may read.
    private func visibleRequests(_ forms: RequestForms, context: UserContext) async throws -> [RequestRecord] {
        try await customerRequests(context: context).filter { forms.canView($0) }
    }

    /// The open request that keeps the form from taking a new one (`max_open` reached in its group), if any.
    private func blocker(formId: String, _ forms: RequestForms, context: UserContext, in transaction: TenantTransaction) async throws -> RequestRecord? {
        guard let form = forms.form(formId), let maximum = form.maxOpen else { return nil }
        let open = try await transaction.openRequests(customerId: customerId(context), group: form.group, form: formId,
                                                      terminal: forms.terminal(for: formId))
        return open.count >= maximum ? open.first : nil
    }

    /// For each available form, the open request that keeps it from taking a new one (as `blocker`), found among the
    /// customer's requests `all` (newest first) rather than by a query per form.
    private func blockers(_ forms: RequestForms, among all: [RequestRecord]) -> [String: RequestRecord] {
        var result: [String: RequestRecord] = [:]
        for (id, form) in forms.available {
            guard let maximum = form.maxOpen else { continue }
            let terminal = Set(forms.terminal(for: id))
            let open = all.filter { request in
                (form.group.map { request.formGroup == $0 } ?? (request.form == id)) && !terminal.contains(request.status)
            }
            if open.count >= maximum { result[id] = open.first }
        }
        return result
    }

    /// The message shown when a new request must wait for the open one.
    private func blockedMessage(_ open: RequestRecord, form: RequestForm, _ forms: RequestForms) -> String {
        forms.text(form.maxOpen == 1 ? "requests.blocked_one" : "requests.blocked_many",
                   ["id": String(open.displayNumber), "subject": open.subject, "status": forms.statusLabel(open.status, form: open.form),
                    "max": String(form.maxOpen ?? 1)])
    }

    private func summary(_ request: RequestRecord, _ forms: RequestForms, locale: String) -> RequestSummary {
        RequestSummary(
            id: request.id ?? 0, number: request.displayNumber, subject: request.subject.nonEmpty,
            form: forms.label(ofForm: request.form).nonEmpty, status: forms.statusLabel(request.status, form: request.form).nonEmpty,
            statusId: request.status.nonEmpty, open: forms.isOpen(request),
            created: Formatting.dateTime(request.createdAt, locale: locale), updated: Formatting.dateTime(request.updatedAt, locale: locale),
            closed: request.closedAt.map { Formatting.dateTime($0, locale: locale) })
    }

    // MARK: Record fields

    private var today: CalendarDay { CalendarDay(instant: services.now) }

    private var nowDate: Date { Date(timeIntervalSince1970: TimeInterval(services.now)) }

    /// How the forms list tells when a form with opening windows takes requests: open until, opens on, no longer.
    private func windowNote(_ status: OpeningSchedule.Status, _ forms: RequestForms, locale: String) -> String? {
        let zone = forms.definition.calendarTimeZone
        switch status {
        case .open(let until?): return forms.text("requests.open_until", ["closes": Formatting.longDateTime(until, timeZone: zone, locale: locale)])
        case .open(nil): return nil
        case .closed(let next?): return forms.text("requests.opens_next", ["opens": Formatting.longDateTime(next, timeZone: zone, locale: locale)])
        case .closed(nil): return forms.text("requests.closed_for_good")
        }
    }

    /// Why `form` takes no submission now, naming when it opens next (nil while it is open).
    private func closedMessage(_ status: OpeningSchedule.Status, _ forms: RequestForms, locale: String) -> String? {
        guard case .closed(let next) = status else { return nil }
        guard let next else { return forms.text("requests.error.form_closed_for_good") }
        return forms.text("requests.error.form_closed", ["opens": Formatting.longDateTime(next, timeZone: forms.definition.calendarTimeZone, locale: locale)])
    }


    /// The records each `record` field of `form` lists for the user, by field name (empty when none may be picked).
    private func recordChoices(_ form: RequestForm, _ forms: RequestForms, context: UserContext,
                               in transaction: TenantTransaction) async throws -> [String: [TenantRecord]] {
        var result: [String: [TenantRecord]] = [:]
        for field in form.fields where field.type == .record {
            guard let query = forms.recordQuery(for: field, customerId: customerId(context), today: today) else {
                result[field.name] = []
                continue
            }
            result[field.name] = try await transaction.records(query).items
        }
        return result
    }

    /// The record each `record` field's submitted id names, by field name, when the user may choose it there: a
    /// record of the field's kind, of the user's customer, within the user's scope, filter and the kind's window.
    /// Any other id (another customer's record, another kind, one outside the filter or scope) finds nothing.
    private func chosenRecords(_ form: RequestForm, values: [String: [String]], _ forms: RequestForms, context: UserContext,
                               in transaction: TenantTransaction) async throws -> [String: TenantRecord] {
        var result: [String: TenantRecord] = [:]
        for field in form.fields where field.type == .record {
            guard let id = Int64(RequestForms.clean(values[field.name]?.first ?? "")), id > 0,
                  let query = forms.recordQuery(for: field, customerId: customerId(context), today: today),
                  let record = try await transaction.record(id: id, customerId: query.customerId, kind: query.kind, userId: query.userId),
                  RequestForms.matches(record, query) else { continue }
            result[field.name] = record
        }
        return result
    }

    /// A submission checked against the customer's lines, invoices and the records the user may pick.
    private func check(_ form: RequestForm, values: [String: [String]], files: [String: UploadedFile], _ forms: RequestForms,
                       context: UserContext, in transaction: TenantTransaction) async throws -> RequestForms.Checked {
        let customer = customerId(context)
        let lines = try await transaction.lines(customerId: customer)
        let invoices = try await transaction.invoices(customerId: customer, windows: context.tenant.windows)
        let records = try await chosenRecords(form, values: values, forms, context: context, in: transaction)
        return forms.check(form, values: values, files: files, lines: lines, invoices: invoices, records: records,
                           today: context.tenant.definition.calendarDay(at: nowDate))
    }

    /// The records a request's `record` fields still point at, by field name: the customer's record with the stored
    /// id, kind and external id (absent when it has been deleted since).
    private func referencedRecords(_ request: RequestRecord, _ forms: RequestForms,
                                   in transaction: TenantTransaction) async throws -> [String: TenantRecord] {
        guard let form = forms.form(request.form), form.fields.contains(where: { $0.type == .record }) else { return [:] }
        let fields = Self.decode(request.payload)["fields"] as? [String: Any] ?? [:]
        var result: [String: TenantRecord] = [:]
        for field in form.fields where field.type == .record {
            guard let reference = fields[field.name].flatMap(RequestForms.RecordReference.init) else { continue }
            let found = try await transaction.record(id: reference.id, customerId: request.customerId, kind: reference.kind)
            if reference.isStill(found), let found { result[field.name] = found }
        }
        return result
    }

    /// A stored `record` value as shown: the record's label now (its label when chosen, if it is gone), its id,
    /// kind and external id, and whether it still exists.
    struct ShownRecord {
        var id: Int64
        var kind, externalId, label: String
        var exists: Bool
    }

    // MARK: Pages

    private func list(_ request: Request, context: UserContext) async throws -> Response {
        let forms = try forms(context)
        let all = try await customerRequests(context: context)
        let requests = all.filter { forms.canView($0) }
        let blocked = blockers(forms, among: all)
        let open = requests.filter { forms.isOpen($0) }, closed = requests.filter { !forms.isOpen($0) }
        let available = forms.available.map { id, form -> ListPage.Form in
            var item = ListPage.Form(id: id, label: form.label.resolve(context.locale).nonEmpty,
                                     description: form.description?.resolve(context.locale).nonEmpty)
            if let open = blocked[id] { item.block(by: open, message: blockedMessage(open, form: form, forms)) }
            item.window = windowNote(forms.rules(form).status(at: nowDate, values: nil), forms, locale: context.locale)
            if case .closed = forms.rules(form).status(at: nowDate, values: nil) { item.closed = true }
            return item
        }
        let page = ListPage(
            openRequests: open.map { summary($0, forms, locale: context.locale) },
            closedRequests: closed.map { summary($0, forms, locale: context.locale) },
            hasRequests: !requests.isEmpty, hasOpen: !open.isEmpty, hasClosed: !closed.isEmpty,
            forms: available, canCreate: !available.isEmpty)
        return Pages.render("requests", page, title: forms.text("requests.title"), context: context)
    }

    /// "Only if «Kind of claim» is Vehicle accident": what a conditional field waits for, with the labels of the
    /// field (or of the picked record's field) and of its values.
    private func conditionNote(_ condition: FormCondition, form: RequestForm, forms: RequestForms, locale: String) -> String {
        let base = RequestFormRules.baseField(of: condition.field)
        let formField = form.fields.first { $0.name == base }
        var fieldLabel = formField?.label.resolve(locale) ?? base
        var definition: FieldDefinition?
        if condition.field.contains("."), let formField, let kind = forms.recordKind(of: formField) {
            let sub = String(condition.field.dropFirst(base.count + 1))
            definition = kind.fields[sub]
            fieldLabel = "\(fieldLabel): \(definition?.label.resolve(locale) ?? sub)"
        } else if let formField {
            definition = forms.rules(form).typedDefinition(of: formField)
        }
        if let filled = condition.filled {
            return forms.text(filled ? "requests.hint.only_when_filled" : "requests.hint.only_when_empty", ["field": fieldLabel])
        }
        let values = (condition.equals.map { [$0] } ?? condition.in ?? []).map { value in
            let shown = definition.flatMap { $0.value(fromCanonical: value) }.map { definition!.display($0, locale: locale) } ?? value
            return "«\(shown)»"
        }
        return forms.text("requests.hint.only_when", ["field": fieldLabel, "values": values.joined(separator: forms.text("requests.hint.or"))])
    }

    private func formPage(_ formId: String, _ form: RequestForm, forms: RequestForms, context: UserContext,
                          values: [String: [String]] = [:], problems: [FieldProblem] = []) async throws -> FormPage {
        let customer = customerId(context)
        let windows = context.tenant.windows
        let (lines, invoices, records) = try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
            (try await transaction.lines(customerId: customer), try await transaction.invoices(customerId: customer, windows: windows),
             try await recordChoices(form, forms, context: context, in: transaction))
        }
        let errors = Dictionary(problems.map { ($0.field, $0.message.resolve(context.locale)) }, uniquingKeysWith: { first, _ in first })
        func first(_ name: String) -> String { values[name]?.first ?? "" }
        func label(_ line: LineRecord) -> String? { [line.identifier, line.description].compactMap { $0 }.joined(separator: " · ").nonEmpty }
        let rules = forms.rules(form)
        let today = context.tenant.definition.calendarDay(at: nowDate)
        // The fields of picked records that conditions look at, carried on each record's option for the page's script.
        let conditionPaths = (form.fields.compactMap(\.when) + (form.open ?? []).compactMap(\.when)).map(\.field).filter { $0.contains(".") }
        let fields = form.fields.map { field -> FormPage.Field in
            let name = field.name
            var item = FormPage.Field(name: name, label: field.label.resolve(context.locale).nonEmpty, required: field.required ?? false,
                                      value: first(name).nonEmpty, error: errors[name]?.nonEmpty)
            func input(_ type: String, autocomplete: String) {
                item.isInput = true; item.inputType = type; item.autocomplete = autocomplete
            }
            var hints: [String] = []
            if let help = field.help?.resolve(context.locale).nonEmpty { hints.append(help) }
            if let condition = field.when {
                item.whenField = RequestFormRules.baseField(of: condition.field)
                item.whenPath = condition.field
                item.whenValues = (condition.equals.map { [$0] } ?? condition.in ?? []).joined(separator: "|").nonEmpty
                item.whenFilled = condition.filled.map { $0 ? "true" : "false" }
                hints.append(conditionNote(condition, form: form, forms: forms, locale: context.locale))
            }
            if [.integer, .decimal, .date].contains(field.type) {
                let scale = field.scale ?? 2
                let type: FieldType = field.type == .integer ? .integer : field.type == .decimal ? .decimal : .date
                func bound(_ text: String?) -> FieldValue? {
                    guard let text, let bound = FieldBound(text, type: type, scale: scale) else { return nil }
                    return bound.value(today: today)
                }
                let low = bound(field.min), high = bound(field.max)
                item.minValue = low?.canonical
                item.maxValue = high?.canonical
                // The hint writes the bounds as people read them (`0,00` in Italian), the attributes as the input takes them.
                if field.type != .date, low != nil || high != nil, let typed = rules.typedDefinition(of: field) {
                    hints.append(forms.text("requests.hint.range", ["min": low.map { typed.display($0, locale: context.locale) } ?? "–",
                                                                    "max": high.map { typed.display($0, locale: context.locale) } ?? "–"]))
                }
            }
            switch field.type {
            case .textarea, .address:
                item.isTextarea = true
                let maximum = field.maxLength ?? RequestForms.defaultMaxLength(field.type)
                item.maxLength = maximum
                hints.append(forms.text("requests.hint.max_length", ["max": String(maximum)]))
            case .choice:
                let options: [(id: String, label: String)] = field.optionsFrom.flatMap { rules.enumOptions($0) }
                    .map { $0.map { (id: $0.key, label: $0.value.resolve(context.locale)) } }
                    ?? (field.options ?? []).map { (id: $0, label: $0) }
                if options.count <= 4 { item.isRadio = true } else { item.isSelect = true }
                item.options = options.enumerated().map { index, option in
                    .init(value: option.id.nonEmpty, label: option.label.nonEmpty, selected: first(name) == option.id, index: index)
                }
            case .boolean:
                item.isRadio = true
                item.options = [("true", "requests.yes"), ("false", "requests.no")].enumerated().map { index, option in
                    .init(value: option.0.nonEmpty, label: forms.text(option.1).nonEmpty, selected: first(name) == option.0, index: index)
                }
            case .integer:
                input("text", autocomplete: "off")
                item.inputmode = "numeric"
            case .decimal:
                input("text", autocomplete: "off")
                item.inputmode = "decimal"
            case .line:
                if lines.isEmpty {
                    input("tel", autocomplete: "tel")
                } else {
                    item.isSelect = true
                    item.options = lines.map { .init(value: $0.identifier.nonEmpty, label: label($0), selected: first(name) == $0.identifier) }
                }
            case .lines:
                let maximum = field.maxItems ?? 10
                hints.append(forms.text("requests.hint.max_items", ["max": String(maximum)]))
                if lines.isEmpty {
                    item.isLinesText = true
                    item.value = (values[name] ?? []).joined(separator: "\n").nonEmpty
                } else {
                    item.isCheckboxes = true
                    let chosen = Set(values[name] ?? [])
                    item.options = lines.enumerated().map { index, line in
                        .init(value: line.identifier.nonEmpty, label: label(line), selected: chosen.contains(line.identifier), index: index)
                    }
                }
            case .invoice:
                if invoices.isEmpty {
                    input("text", autocomplete: "off")
                } else {
                    item.isSelect = true
                    item.options = invoices.map { invoice in
                        .init(value: invoice.number.nonEmpty, label: "\(invoice.number) · \(Formatting.day(invoice.issuedOn))",
                              selected: first(name) == invoice.number)
                    }
                }
            case .record:
                item.isSelect = true
                let kind = forms.recordKind(of: field)
                let choices = records[name] ?? []
                let carried = conditionPaths.filter { RequestFormRules.baseField(of: $0) == name }
                    .map { String($0.dropFirst(name.count + 1)) }
                item.options = choices.map { record in
                    var option = FormPage.Option(value: String(record.id),
                                                 label: kind.map { forms.recordLabel(record, kind: $0, locale: context.locale) }?.nonEmpty,
                                                 selected: first(name) == String(record.id))
                    option.data = carried.map { .init(name: $0.replacingOccurrences(of: "_", with: "-"), value: record.values[$0] ?? "") }
                    return option
                }
                if choices.isEmpty {
                    hints.append(forms.text("requests.hint.no_records", ["kind": kind?.labelPlural.resolve(context.locale) ?? ""]))
                }
            case .attachment:
                item.isFile = true
                let accept = field.accept ?? []
                item.accept = accept.map { ".\($0)" }.joined(separator: ",").nonEmpty
                hints.append(forms.text("requests.hint.attachment", ["types": accept.joined(separator: ", ").uppercased(),
                                                                     "max": String(field.maxSizeMb ?? 10)]))
            case .person:
                item.isPerson = true
                item.personName = first("\(name)_name").nonEmpty
                item.personPhone = first("\(name)_phone").nonEmpty
                item.personEmail = first("\(name)_email").nonEmpty
                item.errorName = errors["\(name)_name"]?.nonEmpty
                item.errorPhone = errors["\(name)_phone"]?.nonEmpty
                item.errorEmail = errors["\(name)_email"]?.nonEmpty
            case .email:
                input("email", autocomplete: "email")
            case .phone:
                input("tel", autocomplete: "tel")
            case .date:
                input("date", autocomplete: "off")
            case .number:
                input("text", autocomplete: "off")
                item.inputmode = "decimal"
            case .imei:
                input("text", autocomplete: "off")
                item.inputmode = "numeric"
                item.maxLength = 17
                hints.append(forms.text("requests.hint.imei"))
            case .text:
                input("text", autocomplete: "off")
                let maximum = field.maxLength ?? RequestForms.defaultMaxLength(field.type)
                item.maxLength = maximum
                if field.maxLength != nil { hints.append(forms.text("requests.hint.max_length", ["max": String(maximum)])) }
            }
            if !hints.isEmpty { item.hint = hints.joined(separator: " ").nonEmpty }
            let described = (hints.isEmpty ? [] : ["f-\(name)-hint"]) + (errors[name] == nil ? [] : ["f-\(name)-error"])
            if !described.isEmpty { item.describedby = described.joined(separator: " ") }
            return item
        }
        let channels = (form.notify ?? []).map(\.rawValue)
        var page = FormPage(formId: formId, formLabel: form.label.resolve(context.locale).nonEmpty, fields: fields,
                            multipart: form.fields.contains { $0.type == .attachment })
        page.description = form.description?.resolve(context.locale).nonEmpty
        page.closed = closedMessage(rules.status(at: nowDate, values: nil), forms, locale: context.locale)
        if page.closed == nil, case .open(let until?) = rules.status(at: nowDate, values: nil) {
            page.openUntil = forms.text("requests.open_until", ["closes": Formatting.longDateTime(until, timeZone: forms.definition.calendarTimeZone,
                                                                                                  locale: context.locale)]).nonEmpty
        }
        if channels.count > 1 {
            page.hasNotifyChoices = true
            page.notifyChoices = channels.map {
                .init(value: $0.nonEmpty, label: forms.text("requests.channel.\($0)").nonEmpty, selected: first("notify") == $0)
            }
            page.notifyError = errors["notify"]?.nonEmpty
        }
        if let group = form.group, form.maxOpen != nil {
            let siblings = forms.all.filter { $0.form.group == group }.map { $0.form.label.resolve(context.locale) }
            page.rule = forms.text(form.maxOpen == 1 ? "requests.rule_one" : "requests.rule_many",
                                   ["max": String(form.maxOpen ?? 1), "forms": siblings.joined(separator: ", ")]).nonEmpty
        } else if let maximum = form.maxOpen {
            page.rule = forms.text("requests.rule_form", ["max": String(maximum)]).nonEmpty
        }
        return page
    }

    private func availableForm(_ context: UserContext, _ forms: RequestForms) throws -> (String, RequestForm) {
        guard let formId = context.parameters.get("form"), let form = forms.form(formId),
              context.tenant.catalog.pageFilling(formOf: form.feature) == nil else { throw PortalError.notFound }
        try context.require(form.feature)
        return (formId, form)
    }

    private func newForm(context: UserContext) async throws -> Response {
        let forms = try forms(context)
        if let formId = context.parameters.get("form"), let form = forms.form(formId), let page = context.tenant.catalog.pageFilling(formOf: form.feature) {
            try context.require(form.feature)
            return Pages.redirect(page.path)
        }
        let (formId, form) = try availableForm(context, forms)
        var page = try await formPage(formId, form, forms: forms, context: context)
        let open = try await services.database.read(tenant: context.tenant.id, now: services.now) {
            try await blocker(formId: formId, forms, context: context, in: $0)
        }
        if let open { page.block(by: open, message: blockedMessage(open, form: form, forms)) }
        return Pages.render("requests_form", page, title: form.label.resolve(context.locale), context: context)
    }

    /// Outcome of storing a submission.
    private enum Stored {
        case created(Int64)
        case blocked(RequestRecord)
        case invalid([FieldProblem])
        /// Outside the form's opening windows (for what was chosen).
        case closed(OpeningSchedule.Status)
    }

    /// Checks and stores a submission in one transaction: the open-request limit is checked again inside it.
    private func store(formId: String, form: RequestForm, values: [String: [String]], files: [String: UploadedFile],
                       forms: RequestForms, context: UserContext) async throws -> Stored {
        let customer = customerId(context)
        let userId = context.user.id
        let now = services.now
        // A lookup plugin bound to the form (WINDTRE's option compatibility) is asked first, outside the transaction
        // (Sources/SportelloWeb/Lookup/RequestOptionCompatibility.swift).
        let compatibility = try await optionCompatibility(formId: formId, form: form, values: values, context: context)
        if let problems = compatibility?.problems, !problems.isEmpty { return .invalid(problems) }
        return try await services.database.write(tenant: context.tenant.id, now: now) { transaction in
            let checked = try await check(form, values: values, files: files, forms, context: context, in: transaction)
            if let open = try await blocker(formId: formId, forms, context: context, in: transaction) { return .blocked(open) }
            let status = forms.rules(form).status(at: Date(timeIntervalSince1970: TimeInterval(now)), values: checked.conditionValues)
            if case .closed = status { return .closed(status) }
            guard checked.problems.isEmpty else { return .invalid(checked.problems) }
            var payload: [String: Any] = ["fields": checked.fields]
            if let notify = checked.notify { payload["notify"] = notify }
            let record = RequestRecord(customerId: customer, userId: userId, form: formId, formGroup: form.group,
                                       subject: forms.subject(form, fields: checked.fields), payload: Self.encode(payload),
                                       status: forms.initialStatus(form), createdAt: now)
            let (requestId, requestNumber) = try await transaction.insertNumberedRequest(record, note: compatibility?.note)
            if !checked.files.isEmpty {
                var fields = checked.fields
                for (field, file) in checked.files {
                    let documentId = try await transaction.insertDocument(DocumentRecord(
                        ownerKind: "request", ownerId: requestId, fileName: file.fileName, contentType: file.contentType,
                        content: file.data, createdAt: now))
                    fields[field] = ["document_id": documentId, "file_name": file.fileName, "size": file.data.count,
                                     "content_type": file.contentType] as [String: Any]
                }
                payload["fields"] = fields
                try await transaction.updateRequestPayload(id: requestId, customerId: customer, payload: Self.encode(payload))
            }
            try await transaction.audit("request.created", actorUserId: userId, targetKind: "request", targetId: String(requestId),
                                        detail: "form \(formId), \(checked.files.count) attachment(s)")
            if let recipient = confirmationRecipient(form: form, notify: checked.notify, fields: checked.fields, context: context) {
                try await Accounts(services: services, tenant: context.tenant).queueMail("request_received", to: recipient, values: [
                    "number": String(requestNumber), "form": form.label.resolve(context.locale), "subject": record.subject,
                    "status": forms.statusLabel(record.status, form: record.form), "request_path": Routes.request.path(requestId),
                ], locale: context.locale, in: transaction)
            }
            return .created(requestId)
        }
    }

    /// Where the "request received" e-mail goes: the referent, else the submitter (when the form notifies by e-mail).
    private func confirmationRecipient(form: RequestForm, notify: String?, fields: [String: Any], context: UserContext) -> String? {
        let notice = RequestLifecycle.emailNotice(form: form, notify: notify, fields: fields)
        guard notice.notifies else { return nil }
        return notice.referent ?? context.user.email.flatMap { $0.isEmpty ? nil : $0 }
    }

    static func encode(_ payload: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ payload: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any] ?? [:]
    }

    private func submit(_ request: Request, context: UserContext) async throws -> Response {
        let forms = try forms(context)
        let (formId, form) = try availableForm(context, forms)
        let submission = try await RequestSubmission.read(request, context: context, limit: forms.bodyLimit(form))
        switch try await store(formId: formId, form: form, values: submission.values, files: submission.files, forms: forms, context: context) {
        case .created(let id):
            return Pages.redirect(Routes.request.path(id, query: ["created": "1"]))
        case .blocked(let open):
            var page = try await formPage(formId, form, forms: forms, context: context, values: submission.values)
            page.block(by: open, message: blockedMessage(open, form: form, forms))
            return Pages.render("requests_form", page, title: form.label.resolve(context.locale), context: context, status: .conflict)
        case .invalid(let problems):
            let page = try await formPage(formId, form, forms: forms, context: context, values: submission.values, problems: problems)
            return Pages.render("requests_form", page, errors: problems, title: form.label.resolve(context.locale), context: context,
                                status: .unprocessableContent)
        case .closed(let status):
            var page = try await formPage(formId, form, forms: forms, context: context, values: submission.values)
            page.closed = closedMessage(status, forms, locale: context.locale)
            return Pages.render("requests_form", page, title: form.label.resolve(context.locale), context: context, status: .conflict)
        }
    }

    /// A request as its pages show it: the request, its attachments, history and the records it points at.
    typealias Detail = (request: RequestRecord, documents: [DocumentRecord], history: [RequestEventRecord], records: [String: TenantRecord])

    /// A request, its attachments, history and records, if it belongs to the customer and the user may read it.
    private func loadDetail(_ context: UserContext, _ forms: RequestForms, id: Int64? = nil) async throws -> Detail {
        let requestId = try id ?? context.pathId()
        let customer = customerId(context)
        let found: Detail? = try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
            guard let request = try await transaction.request(id: requestId, customerId: customer) else { return nil }
            return (request, try await transaction.requestAttachments(requestId: requestId), try await transaction.requestHistory(requestId: requestId),
                    try await referencedRecords(request, forms, in: transaction))
        }
        guard let found, forms.canView(found.request) else { throw PortalError.notFound }
        return found
    }

    /// The submitted fields in the form's order; a `record` field as a `ShownRecord` (its label now, in `locale`).
    /// The fields of a request: typed values as people read them in `locale` when `readable` (pages), as stored
    /// otherwise (the API: decimals as exact text, booleans, option ids).
    private func displayFields(_ request: RequestRecord, _ forms: RequestForms, records: [String: TenantRecord],
                               locale: String, readable: Bool = true) -> [(name: String, label: String, type: String, value: Any)] {
        let payload = Self.decode(request.payload)
        let fields = payload["fields"] as? [String: Any] ?? payload
        if let form = forms.form(request.form) {
            return form.fields.compactMap { field in
                guard let value = fields[field.name], field.type != .attachment else { return nil }
                if field.type == .record, let reference = RequestForms.RecordReference(value) {
                    let current = records[field.name], kind = forms.definition.recordKinds[reference.kind]
                    let label = current.flatMap { record in kind.map { forms.recordLabel(record, kind: $0, locale: locale) } } ?? reference.label
                    return (field.name, field.label.resolve(locale), field.type.rawValue,
                            ShownRecord(id: reference.id, kind: reference.kind, externalId: reference.externalId, label: label, exists: current != nil))
                }
                if readable, let typed = forms.rules(form).typedDefinition(of: field) {
                    let canonical = field.type == .boolean ? ((value as? Bool).map { $0 ? "true" : "false" } ?? "\(value)") : AnyJSON.plain(value)
                    if let shown = typed.value(fromCanonical: canonical) {
                        return (field.name, field.label.resolve(locale), field.type.rawValue, typed.display(shown, locale: locale))
                    }
                }
                if readable, field.type == .date, let day = value as? String {
                    return (field.name, field.label.resolve(locale), field.type.rawValue, Formatting.day(day))
                }
                return (field.name, field.label.resolve(locale), field.type.rawValue, value)
            }
        }
        return fields.keys.sorted().map { ($0, $0.replacingOccurrences(of: "_", with: " ").capitalized, "text", fields[$0]!) }
    }

    private static func text(of value: Any, locale: String) -> String {
        switch value {
        case let record as ShownRecord: return record.label
        case let list as [Any]: return list.map { text(of: $0, locale: locale) }.joined(separator: ", ")
        case let person as [String: Any]:
            return ["name", "phone", "email"].compactMap { person[$0].map { text(of: $0, locale: locale) } }.joined(separator: " · ")
        case let number as NSNumber:
            let plain = number.decimalValue.description
            return locale == "en" ? plain : plain.replacingOccurrences(of: ".", with: ",")
        default: return "\(value)"
        }
    }

    private func detail(_ request: Request, context: UserContext) async throws -> Response {
        let forms = try forms(context)
        let (record, documents, history, records) = try await loadDetail(context, forms)
        let payload = Self.decode(record.payload)
        let fields = payload["fields"] as? [String: Any] ?? [:]
        let fieldByDocument = Dictionary(fields.compactMap { name, value -> (Int64, String)? in
            guard let entry = value as? [String: Any], let id = (entry["document_id"] as? NSNumber)?.int64Value else { return nil }
            return (id, name)
        }, uniquingKeysWith: { first, _ in first })
        let form = forms.form(record.form)
        let shown = displayFields(record, forms, records: records, locale: context.locale)
        var page = DetailPage(
            request: summary(record, forms, locale: context.locale),
            fields: shown.map { field in
                let gone = (field.value as? ShownRecord).map { !$0.exists } ?? false
                return .init(label: field.label.nonEmpty, value: Self.text(of: field.value, locale: context.locale).nonEmpty,
                             note: gone ? forms.text("requests.record_gone").nonEmpty : nil)
            },
            attachments: documents.map { document in
                let field = fieldByDocument[document.id ?? 0].flatMap { name in form?.fields.first { $0.name == name }?.label.resolve(context.locale) }
                return .init(id: document.id ?? 0, fileName: document.fileName.nonEmpty, field: field?.nonEmpty,
                             size: Self.size(document.content.count, locale: context.locale))
            },
            history: history.map { event in
                .init(at: Formatting.dateTime(event.at, locale: context.locale), status: forms.statusLabel(event.status, form: record.form).nonEmpty,
                      note: event.note?.nonEmpty)
            },
            hasFields: !shown.isEmpty, hasAttachments: !documents.isEmpty, hasLifecycle: false)
        if let notify = payload["notify"] as? String { page.notify = forms.text("requests.channel.\(notify)").nonEmpty }
        if let lifecycle = form?.lifecycle, !lifecycle.isEmpty {
            let reached = lifecycle.firstIndex(of: record.status) ?? -1
            page.lifecycle = lifecycle.enumerated().map { index, status in
                .init(label: forms.statusLabel(status, form: record.form).nonEmpty, done: index <= reached, current: index == reached)
            }
            page.hasLifecycle = true
        }
        if request.uri.queryParameters["created"] != nil { page.notice = forms.text("requests.created", ["id": String(record.displayNumber)]).nonEmpty }
        return Pages.render("requests_detail", page, title: forms.text("requests.detail_title", ["id": String(record.displayNumber)]), context: context)
    }

    static func size(_ bytes: Int, locale: String) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        let kilobytes = Double(bytes) / 1024
        if kilobytes < 1024 { return String(format: "%.0f KB", kilobytes) }
        let megabytes = String(format: "%.1f MB", kilobytes / 1024)
        return locale == "en" ? megabytes : megabytes.replacingOccurrences(of: ".", with: ",")
    }

    /// An attachment of a request of the user's own customer (404 for anyone else's).
    private func download(context: UserContext) async throws -> Response {
        let forms = try forms(context)
        let requestId = try context.pathId()
        let attachmentId = try context.pathId("attachment")
        let customer = customerId(context)
        let found: (RequestRecord, DocumentRecord)? = try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
            guard let request = try await transaction.request(id: requestId, customerId: customer),
                  let document = try await transaction.requestAttachment(id: attachmentId, requestId: requestId, customerId: customer) else { return nil }
            return (request, document)
        }
        guard let (request, document) = found, forms.canView(request) else { throw PortalError.notFound }
        let ascii = document.fileName.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0 != "\"" && $0 != "\\" ? String($0) : "_" }.joined()
        let encoded = document.fileName.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ascii
        var headers = HTTPFields()
        headers[.contentType] = document.contentType
        headers[.contentDisposition] = "attachment; filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)"
        headers[.cacheControl] = "private, no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: document.content)))
    }

    // MARK: API

    /// Any JSON value, for the submitted fields the API echoes.
    enum AnyJSON: Encodable {
        case string(String), number(Decimal), bool(Bool), array([AnyJSON]), object([String: AnyJSON]), null

        init(_ value: Any) {
            switch value {
            case let text as String: self = .string(text)
            case let number as NSNumber: self = .number(number.decimalValue)
            case let list as [Any]: self = .array(list.map(AnyJSON.init))
            case let object as [String: Any]: self = .object(object.mapValues(AnyJSON.init))
            default: self = .null
            }
        }

        func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let value): try container.encode(value)
            case .number(let value): try container.encode(value)
            case .bool(let value): try container.encode(value)
            case .array(let value): try container.encode(value)
            case .object(let value): try container.encode(value)
            case .null: try container.encodeNil()
            }
        }
    }

    struct SummaryJSON: Encodable {
        var id: Int64
        var number: Int64
        var form, formLabel, subject, status, statusLabel: String
        var open: Bool
        var createdAt, updatedAt: Int64
        var closedAt: Int64?
    }

    struct DetailJSON: Encodable {
        struct Field: Encodable { var name, label, type: String; var value: AnyJSON }
        struct Attachment: Encodable { var id: Int64; var field: String?; var fileName, contentType: String; var size: Int; var url: String }
        struct Event: Encodable { var at: Int64; var status, statusLabel: String; var note: String? }
        var request: SummaryJSON
        var fields: [Field]
        var notify: String?
        var attachments: [Attachment]
        var history: [Event]
    }

    struct FormJSON: Encodable {
        struct Field: Encodable {
            var name, label, type: String
            var required: Bool
            var maxLength, maxItems: Int?
            var options, accept: [String]?
            var maxSizeMb: Int?
            /// `record` fields: the record kind, and the records the caller may choose (the id to send, and a label).
            var recordKind: String?
            var records: [RecordChoice]?
            var help: String?
            /// `integer`, `decimal`, `date`: bounds as written (dates may be relative: `-3d`); `decimal`: places kept.
            var min, max: String?
            var scale: Int?
            /// `choice` fields: option id → label (the ids are what `options` lists and what to send).
            var optionLabels: [String: String]?
            /// Sent, required and stored only when this holds.
            var when: FormCondition?
        }
        struct RecordChoice: Encodable { var id: Int64; var externalId, label: String }
        var id, label, feature: String
        var description: String?
        var group: String?
        var maxOpen: Int?
        var available: Bool
        var blockedBy: Int64?
        /// Whether the form takes requests now (for some choice of its fields), and when that changes (ISO 8601).
        var open: Bool
        var opensAt, closesAt: String?
        var notify, lifecycle: [String]
        var statusLabels: [String: String]
        var fields: [Field]
    }

    private func summaryJSON(_ request: RequestRecord, _ forms: RequestForms) -> SummaryJSON {
        SummaryJSON(id: request.id ?? 0, number: request.displayNumber, form: request.form, formLabel: forms.label(ofForm: request.form), subject: request.subject,
                    status: request.status, statusLabel: forms.statusLabel(request.status, form: request.form), open: forms.isOpen(request),
                    createdAt: request.createdAt, updatedAt: request.updatedAt, closedAt: request.closedAt)
    }

    private func apiList(_ request: Request, context: UserContext) async throws -> Response {
        let forms = try forms(context)
        var requests = try await visibleRequests(forms, context: context)
        switch request.uri.queryParameters["status"].map(String.init) {
        case "open": requests = requests.filter { forms.isOpen($0) }
        case "closed": requests = requests.filter { !forms.isOpen($0) }
        case nil: break
        default:
            throw PortalError.invalid([FieldProblem(field: "status", code: "not_an_option", message: forms.localized("requests.error.not_an_option"))])
        }
        struct List: Encodable { var requests: [SummaryJSON] }
        return API.json(List(requests: requests.map { summaryJSON($0, forms) }))
    }

    private func apiForms(context: UserContext) async throws -> Response {
        let forms = try forms(context)
        let blocked = blockers(forms, among: try await customerRequests(context: context))
        let choices = try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
            var result: [String: [String: [TenantRecord]]] = [:]
            for (id, form) in forms.available where form.fields.contains(where: { $0.type == .record }) {
                result[id] = try await recordChoices(form, forms, context: context, in: transaction)
            }
            return result
        }
        let list = forms.available.map { id, form in
            let status = forms.rules(form).status(at: nowDate, values: nil)
            var opensAt: String?, closesAt: String?
            switch status {
            case .open(let until): closesAt = until.map { LocalTime.isoUTC($0) }
            case .closed(let next): opensAt = next.map { LocalTime.isoUTC($0) }
            }
            let isOpen = if case .open = status { true } else { false }
            return FormJSON(id: id, label: form.label.resolve(context.locale), feature: form.feature,
                     description: form.description?.resolve(context.locale), group: form.group, maxOpen: form.maxOpen,
                     available: blocked[id] == nil && isOpen, blockedBy: blocked[id]?.id, open: isOpen, opensAt: opensAt, closesAt: closesAt,
                     notify: (form.notify ?? []).map(\.rawValue),
                     lifecycle: form.lifecycle ?? [],
                     statusLabels: Dictionary(uniqueKeysWithValues: (form.lifecycle ?? []).map { ($0, forms.statusLabel($0, form: id)) }),
                     fields: form.fields.map { field in
                         var item = FormJSON.Field(name: field.name, label: field.label.resolve(context.locale), type: field.type.rawValue,
                                                   required: field.required ?? false,
                                                   maxLength: [.attachment, .lines, .choice, .person, .record].contains(field.type) ? nil
                                                       : (field.maxLength ?? RequestForms.defaultMaxLength(field.type)),
                                                   maxItems: field.type == .lines ? (field.maxItems ?? 10) : nil, options: field.options,
                                                   accept: field.accept, maxSizeMb: field.type == .attachment ? (field.maxSizeMb ?? 10) : nil)
                         item.help = field.help?.resolve(context.locale)
                         item.min = field.min
                         item.max = field.max
                         item.scale = field.type == .decimal ? (field.scale ?? 2) : nil
                         item.when = field.when
                         if [.integer, .decimal, .boolean, .date].contains(field.type) { item.maxLength = nil }
                         if field.type == .boolean { item.options = ["true", "false"] }
                         if field.type == .choice, let source = field.optionsFrom, let options = forms.rules(form).enumOptions(source) {
                             item.options = options.keys
                             item.optionLabels = Dictionary(uniqueKeysWithValues: options.map { ($0.key, $0.value.resolve(context.locale)) })
                         }
                         if field.type == .record {
                             item.recordKind = field.kind
                             let kind = forms.recordKind(of: field)
                             item.records = (choices[id]?[field.name] ?? []).map { record in
                                 .init(id: record.id, externalId: record.externalId,
                                       label: kind.map { forms.recordLabel(record, kind: $0, locale: context.locale) } ?? record.externalId)
                             }
                         }
                         return item
                     })
        }
        struct List: Encodable { var forms: [FormJSON] }
        return API.json(List(forms: list))
    }

    private func apiDetail(context: UserContext) async throws -> Response {
        let forms = try forms(context)
        let detail = try await loadDetail(context, forms)
        return API.json(detailJSON(detail, forms: forms, locale: context.locale))
    }

    /// A request as the API shows it: fields, attachments (with the field each belongs to) and history.
    private func detailJSON(_ detail: Detail, forms: RequestForms, locale: String) -> DetailJSON {
        let (record, documents, history, records) = detail
        let payload = Self.decode(record.payload)
        let fields = payload["fields"] as? [String: Any] ?? [:]
        let fieldByDocument = Dictionary(fields.compactMap { name, value -> (Int64, String)? in
            guard let entry = value as? [String: Any], let id = (entry["document_id"] as? NSNumber)?.int64Value else { return nil }
            return (id, name)
        }, uniquingKeysWith: { first, _ in first })
        let requestId = record.id ?? 0
        return DetailJSON(
            request: summaryJSON(record, forms),
            fields: displayFields(record, forms, records: records, locale: locale, readable: false).map { field in
                // A yes/no as a JSON boolean (stored ones read back as numbers that would show as 1 or 0).
                if field.type == FormFieldType.boolean.rawValue, let flag = field.value as? NSNumber {
                    return .init(name: field.name, label: field.label, type: field.type, value: .bool(flag.boolValue))
                }
                guard let shown = field.value as? ShownRecord else { return .init(name: field.name, label: field.label, type: field.type, value: AnyJSON(field.value)) }
                return .init(name: field.name, label: field.label, type: field.type, value: .object([
                    "record_id": .number(Decimal(shown.id)), "kind": .string(shown.kind), "external_id": .string(shown.externalId),
                    "label": .string(shown.label), "exists": .bool(shown.exists),
                ]))
            },
            notify: payload["notify"] as? String,
            attachments: documents.map { document in
                .init(id: document.id ?? 0, field: fieldByDocument[document.id ?? 0], fileName: document.fileName, contentType: document.contentType,
                      size: document.content.count, url: Routes.requestAttachment.api.path(requestId, document.id ?? 0))
            },
            history: history.map { .init(at: $0.at, status: $0.status, statusLabel: forms.statusLabel($0.status, form: record.form), note: $0.note) })
    }

    /// `POST /api/v1/requests`: `{"form": id, "fields": {…}, "notify": channel}`; person fields as
    /// `{"name", "phone", "email"}`, lines as a list, attachments as `{"file_name", "content_base64"}`.
    private func apiSubmit(_ request: Request, context: UserContext) async throws -> Response {
        let forms = try forms(context)
        try API.checkCSRF(request, context: context)
        let largest = forms.available.map { forms.bodyLimit($0.form) }.max() ?? (1 << 20)
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: largest) } catch {
            throw PortalError.badRequest("the body is larger than the forms accept")
        }
        guard let body = (try? JSONSerialization.jsonObject(with: Data(buffer: buffer))) as? [String: Any] else {
            throw PortalError.badRequest("the body is not the JSON this operation takes")
        }
        guard let formId = body["form"] as? String else {
            throw PortalError.invalid([FieldProblem(field: "form", code: "required", message: forms.localized("requests.error.required"))])
        }
        guard let form = forms.form(formId), context.tenant.catalog.pageFilling(formOf: form.feature) == nil else {
            throw PortalError.invalid([FieldProblem(field: "form", code: "unknown_form", message: forms.localized("requests.error.unknown_form"))])
        }
        try context.require(form.feature)
        let fields = body["fields"] as? [String: Any] ?? [:]
        var values: [String: [String]] = [:]
        var files: [String: UploadedFile] = [:]
        var problems: [FieldProblem] = []
        for field in form.fields {
            guard let raw = fields[field.name], !(raw is NSNull) else { continue }
            switch field.type {
            case .attachment:
                guard let object = raw as? [String: Any], let name = object["file_name"] as? String,
                      let encoded = object["content_base64"] as? String,
                      let data = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters) else {
                    problems.append(FieldProblem(field: field.name, code: "invalid_attachment", message: forms.localized("requests.error.invalid_attachment")))
                    continue
                }
                files[field.name] = UploadedFile(fileName: RequestSubmission.safeFileName(name), contentType: object["content_type"] as? String ?? "", data: data)
            case .person:
                guard let object = raw as? [String: Any] else {
                    problems.append(FieldProblem(field: "\(field.name)_name", code: "invalid_person", message: forms.localized("requests.error.invalid_person")))
                    continue
                }
                for part in ["name", "phone", "email"] { if let text = object[part] as? String { values["\(field.name)_\(part)"] = [text] } }
            case .lines:
                if let list = raw as? [Any] { values[field.name] = list.map { AnyJSON.plain($0) } } else { values[field.name] = [AnyJSON.plain(raw)] }
            case .record:
                // The record's id, alone or as the request shows it (`{"record_id": …}`).
                values[field.name] = [AnyJSON.plain((raw as? [String: Any])?["record_id"] ?? raw)]
            default:
                values[field.name] = [AnyJSON.plain(raw)]
            }
        }
        if let notify = body["notify"] as? String { values["notify"] = [notify] }
        guard problems.isEmpty else {
            // Report the shape problems together with every other field problem.
            let checked = try await services.database.read(tenant: context.tenant.id, now: services.now) { [values, files] transaction in
                try await check(form, values: values, files: files, forms, context: context, in: transaction).problems
            }
            let shaped = Set(problems.map(\.field))
            throw PortalError.invalid(problems + checked.filter { !shaped.contains($0.field) })
        }
        switch try await store(formId: formId, form: form, values: values, files: files, forms: forms, context: context) {
        case .created(let id):
            let detail = try await loadDetail(context, forms, id: id)
            return API.json(detailJSON(detail, forms: forms, locale: context.locale), status: .created)
        case .blocked(let open):
            let message = blockedMessage(open, form: form, forms)
            return API.json(APIErrorBody(error: .init(code: "max_open", message: message,
                                                      fields: [.init(field: "form", code: "max_open", message: message)])), status: .conflict)
        case .closed(let status):
            let message = closedMessage(status, forms, locale: context.locale) ?? ""
            var opensAt: String?
            if case .closed(let next?) = status { opensAt = LocalTime.isoUTC(next) }
            return API.json(APIErrorBody(error: .init(code: "form_closed", message: message, opensAt: opensAt,
                                                      fields: [.init(field: "form", code: "form_closed", message: message)])), status: .conflict)
        case .invalid(let problems):
            throw PortalError.invalid(problems)
        }
    }
}

extension RequestsController.AnyJSON {
    /// A scalar JSON value as the text a form would have sent.
    static func plain(_ value: Any) -> String {
        switch value {
        case let text as String: return text
        case let number as NSNumber: return number.stringValue
        default: return ""
        }
    }
}
