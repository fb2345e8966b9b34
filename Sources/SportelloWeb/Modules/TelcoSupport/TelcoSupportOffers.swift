import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// Exclusive offers (`catalog_items` of kind `offer`) and their activation through the tenant's
/// `offers.activate` request form: a tracked request, never two open for the same offer.
extension TelcoSupportController {
    struct OfferJSON: Encodable {
        var code, title: String
        var description, category: String?
        var price: API.Money?
        var billingPeriod, validTo: String?
        var highlights: [String]
        var lineKind: String?
        var activationFee: API.Money?
        var canActivate: Bool
        var openRequestId: Int64?
        var openRequestStatus: String?
    }

    struct ActivationBody: Decodable {
        struct Person: Decodable { var name, phone, email: String? }
        var lines: [String]?
        var referent: Person?
        var notes: String?
    }

    enum ActivationOutcome {
        case created(RequestRecord)
        case duplicate(RequestRecord)
        case invalid([FieldProblem])
    }

    /// An offer as the customer sees it, with the activation already open for it, if any.
    struct OfferView {
        var item: CatalogItemRecord
        var data: OfferData
        var open: RequestRecord?
    }

    func addOfferRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.offers) { request, context in
            try await offersPage(context: context, notice: Self.notice(context, request, allowed: ["requested"], prefix: "support.offers.done"))
        }
        group.get(Routes.offer) { _, context in try await offerPage(context: context) }
        group.post(Routes.offerActivation) { request, context in
            // Checkboxes repeat `lines`: the request-form reader keeps every value (and checks the CSRF token).
            let submission = try await RequestSubmission.read(request, context: context, limit: 1 << 20)
            var values = submission.values
            values["_csrf"] = nil
            let code = try offerCode(context)
            switch try await activate(code: code, values: values, context: context) {
            case .created(let record):
                let forms = RequestForms(tenant: context.tenant, context: context)
                return Pages.redirect(forms.canView(record) ? Routes.request.path(record.id ?? 0, query: ["created": "1"])
                                                            : Routes.offers.done("requested"))
            case .duplicate(let open):
                return try await offerPage(context: context, values: values, blocked: open, status: .conflict)
            case .invalid(let problems):
                return try await offerPage(context: context, values: values, problems: problems, status: .unprocessableContent)
            }
        }
        group.get(Routes.offers.api) { _, context in
            struct List: Encodable { var offers: [OfferJSON] }
            let views = try await offerViews(context: context)
            return API.json(List(offers: views.map { offerJSON($0, context: context) }))
        }
        group.post(Routes.offerActivationsResource.api) { request, context in
            let body = try await API.decode(ActivationBody.self, from: request, context: context)
            var values: [String: [String]] = [:]
            if let lines = body.lines { values["lines"] = lines }
            if let person = body.referent {
                values["referent_name"] = person.name.map { [$0] }
                values["referent_phone"] = person.phone.map { [$0] }
                values["referent_email"] = person.email.map { [$0] }
            }
            if let notes = body.notes { values["notes"] = [notes] }
            let code = try offerCode(context)
            switch try await activate(code: code, values: values, context: context) {
            case .created(let record):
                struct Created: Encodable { var requestId: Int64; var status, statusLabel, offer, url: String }
                let forms = RequestForms(tenant: context.tenant, context: context)
                return API.json(Created(requestId: record.id ?? 0, status: record.status, statusLabel: forms.statusLabel(record.status),
                                        offer: code, url: Routes.request.api.path(record.id ?? 0)), status: .created)
            case .duplicate(let open):
                let message = duplicateMessage(open, context: context)
                return API.json(APIErrorBody(error: .init(code: "duplicate_activation", message: message,
                                                          fields: [.init(field: "offer", code: "duplicate_activation", message: message)])),
                                status: .conflict)
            case .invalid(let problems):
                throw PortalError.invalid(problems)
            }
        }
    }

    private func offerCode(_ context: UserContext) throws -> String {
        guard let code = context.parameters.get("code"), !code.isEmpty, code.count <= 40 else { throw PortalError.notFound }
        return code
    }

    private func activationForm(_ context: UserContext) -> (id: String, form: RequestForm)? {
        requestForm(for: Feature.offersActivate, context)
    }

    /// The offers on sale today to the customer's type, each with its open activation.
    func offerViews(context: UserContext) async throws -> [OfferView] {
        try context.require(page: Self.offers)
        let customer = customerId(context)
        let type = context.customer.customerType
        let today = CalendarDay(instant: services.now).description
        let forms = RequestForms(tenant: context.tenant, context: context)
        let formId = activationForm(context)?.id
        let terminal = formId.map { forms.terminal(for: $0) } ?? []
        let (items, open) = try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
            (try await transaction.catalogItems(kind: "offer", availableOn: today, to: type),
             try await transaction.openRequests(customerId: customer, forms: formId.map { [$0] } ?? [], terminal: terminal))
        }
        return items.map { item in
            OfferView(item: item, data: OfferData.decode(item.data),
                      open: open.first { Self.payloadFields($0)["offer"] as? String == item.code })
        }
    }

    private func canActivate(_ view: OfferView, context: UserContext) -> Bool {
        context.tenant.definition.feature(Feature.offersActivate) != nil && context.may(Feature.offersActivate)
            && activationForm(context) != nil && view.open == nil
    }

    private func offerJSON(_ view: OfferView, context: UserContext) -> OfferJSON {
        OfferJSON(code: view.item.code, title: view.item.title, description: view.item.description, category: view.item.category,
                  price: view.item.priceCents.map { API.Money($0) }, billingPeriod: view.item.billingPeriod, validTo: view.item.validTo,
                  highlights: view.data.highlights ?? [], lineKind: view.data.lineKind,
                  activationFee: view.data.activationFeeCents.map { API.Money($0) }, canActivate: canActivate(view, context: context),
                  openRequestId: view.open?.id, openRequestStatus: view.open?.status)
    }

    func duplicateMessage(_ open: RequestRecord, context: UserContext) -> String {
        let forms = RequestForms(tenant: context.tenant, context: context)
        return text("support.offers.duplicate", context, ["id": String(open.displayNumber), "status": forms.statusLabel(open.status)])
    }

    /// Checks an activation with the form's own rules and stores it as a request, in one transaction.
    func activate(code: String, values submitted: [String: [String]], context: UserContext) async throws -> ActivationOutcome {
        try context.require(page: Self.offers)
        try context.require(Feature.offersActivate)
        guard let (formId, form) = activationForm(context) else { throw PortalError.notFound }
        let forms = RequestForms(tenant: context.tenant, context: context)
        let customer = customerId(context)
        let userId = context.user.id
        let type = context.customer.customerType
        let now = services.now
        let today = CalendarDay(instant: now).description
        let missingLines = localized("support.offers.error.lines_required", context)
        let noLines = localized("support.offers.error.no_lines", context)
        return try await services.database.write(tenant: context.tenant.id, now: now) { transaction in
            guard let offer = try await transaction.catalogItems(kind: "offer", availableOn: today, to: type).first(where: { $0.code == code }) else {
                throw PortalError.notFound
            }
            let data = OfferData.decode(offer.data)
            let open = try await transaction.openRequests(customerId: customer, forms: [formId], terminal: forms.terminal(for: formId))
            if let same = open.first(where: { Self.payloadFields($0)["offer"] as? String == code }) { return .duplicate(same) }
            if let maximum = form.maxOpen {
                let blocking = try await transaction.openRequests(customerId: customer, group: form.group, form: formId,
                                                                  terminal: forms.terminal(for: formId))
                if blocking.count >= maximum, let first = blocking.first { return .duplicate(first) }
            }
            var values = submitted
            values["offer"] = [code]
            var extra: [FieldProblem] = []
            var eligible: [LineRecord] = []
            if let kind = data.lineKind {
                eligible = try await transaction.lines(customerId: customer).filter { $0.kind == kind && $0.status == .active }
                let chosen = (values["lines"] ?? []).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
                if eligible.isEmpty {
                    extra.append(FieldProblem(field: "lines", code: "no_lines", message: noLines))
                    values["lines"] = nil
                } else if chosen.isEmpty {
                    extra.append(FieldProblem(field: "lines", code: "lines_required", message: missingLines))
                }
            } else {
                values["lines"] = nil   // A company-wide offer names no line.
            }
            var checked = forms.check(form, values: values, files: [:], lines: eligible, invoices: [],
                                      today: context.tenant.definition.calendarDay(at: Date(timeIntervalSince1970: TimeInterval(services.now))))
            let flagged = Set(extra.map(\.field))
            checked.problems = extra + checked.problems.filter { !flagged.contains($0.field) }
            guard checked.problems.isEmpty else { return .invalid(checked.problems) }
            var payload: [String: Any] = ["fields": checked.fields]
            if let notify = checked.notify { payload["notify"] = notify }
            let label = form.label.resolve(context.tenant.definition.locales.default)
            var record = RequestRecord(customerId: customer, userId: userId, form: formId, formGroup: form.group,
                                       subject: String("\(label): \(offer.title)".prefix(200)), payload: RequestsController.encode(payload),
                                       status: forms.initialStatus(form), createdAt: now)
            let id = try await transaction.insertRequest(record, note: nil)
            record.id = id
            let lines = (checked.fields["lines"] as? [String] ?? []).joined(separator: ", ")
            try await transaction.audit("offer.activation_requested", actorUserId: userId, targetKind: "request", targetId: String(id),
                                        detail: "offer \(code)" + (lines.isEmpty ? "" : ", lines \(lines)"))
            return .created(record)
        }
    }

    // MARK: Pages

    /// An offer as its card and its page show it; `form` and `offersTitle` only on its page.
    struct OfferModel: Encodable {
        /// The activation form.
        struct Form: Encodable {
            struct Line: Encodable {
                var index, value, label: String
                var selected: Bool
            }
            var needsLines, hasLines: Bool
            var lines: [Line]
            var referentName, referentPhone, referentEmail, notes: String?
            var notesMax: String
        }
        var code, title: String
        var description, category: String?
        var highlights: [TextItem]
        var hasHighlights, canActivate: Bool
        var price, activationFee, validTo, lineKind, openMessage, openId: String?
        var form: Form?
        var offersTitle: String?
    }

    struct OffersModel: Encodable {
        var offers: [OfferModel]
        var hasOffers: Bool
        var notice, activationNote: String?
    }

    private func offerModel(_ view: OfferView, context: UserContext) -> OfferModel {
        let locale = context.locale
        let item = view.item
        let highlights = view.data.highlights ?? []
        var model = OfferModel(code: item.code, title: item.title, description: item.description?.nonEmpty, category: item.category?.nonEmpty,
                               highlights: highlights.map { .init(text: $0.nonEmpty) }, hasHighlights: !highlights.isEmpty,
                               canActivate: canActivate(view, context: context))
        if let price = item.priceCents {
            let amount = Formatting.money(price, locale: locale)
            model.price = item.billingPeriod.map { text("support.offers.period.\($0)", context, ["amount": amount]) } ?? amount
        }
        if let fee = view.data.activationFeeCents {
            model.activationFee = text("support.offers.activation_fee", context, ["amount": Formatting.money(fee, locale: locale)])
        }
        if let until = item.validTo { model.validTo = text("support.offers.valid_to", context, ["day": Formatting.day(until)]) }
        if let kind = view.data.lineKind { model.lineKind = label("support.offers.line_kind", kind, context) }
        if let open = view.open {
            let forms = RequestForms(tenant: context.tenant, context: context)
            model.openMessage = duplicateMessage(open, context: context)
            if forms.canView(open) { model.openId = String(open.id ?? 0) }
        }
        return model
    }

    private func offersPage(context: UserContext, notice: String?) async throws -> Response {
        let views = try await offerViews(context: context)
        var model = OffersModel(offers: views.map { offerModel($0, context: context) }, hasOffers: !views.isEmpty, notice: notice?.nonEmpty)
        if context.may(Feature.offersView) && !context.may(Feature.offersActivate) && context.tenant.definition.feature(Feature.offersActivate) != nil {
            model.activationNote = text("support.offers.activation_reserved", context)
        }
        return Pages.render("offers", model, title: text("support.offers.title", context), context: context)
    }

    private func offerPage(context: UserContext, values submitted: [String: [String]] = [:], problems: [FieldProblem] = [],
                           blocked: RequestRecord? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let code = try offerCode(context)
        guard let view = try await offerViews(context: context).first(where: { $0.item.code == code }) else { throw PortalError.notFound }
        var model = offerModel(view, context: context)
        if let blocked { model.openMessage = duplicateMessage(blocked, context: context); model.canActivate = false }
        if canActivate(view, context: context) && blocked == nil {
            let customer = customerId(context)
            let kind = view.data.lineKind
            let lines = try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
                try await transaction.lines(customerId: customer).filter { kind != nil && $0.kind == kind && $0.status == .active }
            }
            let chosen = Set(submitted["lines"] ?? [])
            func first(_ name: String) -> String { submitted[name]?.first ?? "" }
            let user = context.user
            let defaultName = [user.firstName, user.lastName].compactMap { $0 }.joined(separator: " ")
            model.form = OfferModel.Form(
                needsLines: kind != nil, hasLines: !lines.isEmpty,
                lines: lines.enumerated().map { index, line in
                    .init(index: String(index), value: line.identifier,
                          label: [line.identifier, line.description].compactMap { $0 }.joined(separator: " · "), selected: chosen.contains(line.identifier))
                },
                referentName: (submitted.isEmpty ? defaultName : first("referent_name")).nonEmpty,
                referentPhone: first("referent_phone").nonEmpty,
                referentEmail: (submitted.isEmpty ? (user.email ?? "") : first("referent_email")).nonEmpty,
                notes: first("notes").nonEmpty,
                notesMax: String(activationForm(context)?.form.fields.first { $0.name == "notes" }?.maxLength ?? 300))
        }
        model.offersTitle = text("support.offers.title", context)
        return Pages.render("offers_detail", model, errors: problems, title: view.item.title, context: context, status: status)
    }
}
