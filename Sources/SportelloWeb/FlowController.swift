import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// Registration and recovery pages, driven only by the steps in the tenant's YAML.
/// `GET /access/<flow>` shows the current step, `POST` submits it, `/access/<flow>/link?t=…` follows
/// an e-mailed link (invitation, verification, activation, reset). Progress lives in `flow_states`;
/// the browser holds only its secret, in a cookie scoped to the flow's path.
struct FlowController {
    let services: PortalServices

    /// How long an unfinished flow is kept when no step says otherwise.
    static let flowLifetime: Int64 = 2 * 3_600

    func addRoutes(to group: RouterGroup<TenantContext>) {
        group.get(Routes.accessFlow) { request, context in try await show(request, context: context) }
        group.post(Routes.accessFlow) { request, context in try await submit(request, context: context) }
        group.get(Routes.accessFlowLink) { request, context in try await followLink(request, context: context) }
        group.post(Routes.accessFlowRestart) { request, context in try await restart(request, context: context) }
    }

    // MARK: Loading and saving progress

    struct Loaded {
        var machine: FlowMachine
        var progress: FlowProgress
        var record: FlowStateRecord?
        /// The cookie naming a state created during this request, whichever step created it.
        var issuedCookie: Cookie?
        /// The recipient already had its hour's recovery mails: the steps do the decoy's work and send nothing.
        var recoveryMailCapped = false
    }

    private func machine(_ context: TenantContext) throws -> FlowMachine {
        guard let id = context.parameters.get("flow"), let flow = context.tenant.definition.flows[id] else { throw PortalError.notFound }
        return FlowMachine(flowId: id, flow: flow)
    }

    private func load(_ request: Request, context: TenantContext) async throws -> Loaded {
        let machine = try machine(context)
        if let secret = request.cookies[CookieName.flow]?.value, secret.count == 43 {
            let record = try await services.database.read(tenant: context.tenant.id, now: services.now) {
                try await $0.flowState(tokenHash: Secrets.hash(secret))
            }
            if let record, record.flow == machine.flowId,
               let progress = try? JSONDecoder().decode(FlowProgress.self, from: Data(record.data.utf8)) {
                return Loaded(machine: machine, progress: progress, record: record)
            }
        }
        return Loaded(machine: machine, progress: FlowProgress(flowId: machine.flowId), record: nil)
    }

    func flowCookie(_ value: String, flowId: String) -> Cookie {
        Cookie(name: CookieName.flow, value: value, path: Routes.accessFlow.path(flowId), secure: services.configuration.secureCookies,
               httpOnly: true, sameSite: .lax)
    }

    /// Replaces the flow secret (after following a link, possibly in another browser).
    private func rebind(_ record: inout FlowStateRecord, in transaction: TenantTransaction) async throws -> Cookie {
        let secret = Secrets.token(using: services.random)
        record.tokenHash = secret.hash
        record.updatedAt = transaction.now
        try await transaction.updateFlowState(record)
        return flowCookie(secret.plain, flowId: record.flow)
    }

    // MARK: Showing a step

    private func show(_ request: Request, context: TenantContext) async throws -> Response {
        let loaded = try await load(request, context: context)
        if loaded.record == nil && loaded.machine.startsFromInvitation {
            return notice(context, machine: loaded.machine, key: "flow.invitation_only", status: .ok)
        }
        if loaded.machine.isFinished(loaded.progress) {
            return notice(context, machine: loaded.machine, key: "flow.finished", status: .ok)
        }
        let chosenType = request.uri.queryParameters["type"].map { SubmittedForm(fields: ["customer_type": String($0)]) }
        return try await page(for: loaded, context: context, problems: [], form: chosenType)
    }

    /// What a step's page shows (`flow_form`, `flow_check_email` or `flow_done`).
    struct StepPage: Encodable {
        struct CustomerType: Encodable { var id, label: String; var selected: Bool }
        struct Input: Encodable {
            struct Option: Encodable { var value, text: String; var selected: Bool }
            var name, label, type: String
            var required: Bool
            var value, autocomplete: String
            var error: String?
            var hint: String?
            var maxlength: Int?
            var select: Bool?
            var options: [Option]?
        }
        var flowId, flowLabel, stepKind: String
        var stepIndex, stepNumber, stepCount: Int
        var action, stepMessage: String
        var hasStepMessage: Bool
        var notice, assignedUsername: String?
        var customerTypes: [CustomerType]?
        var chooseCustomerType: Bool?
        var caseSensitiveNote, question: String?
        var inputmodeNumeric, resend: Bool?
        var sentTo, message: String?
        var continueButton, loginLink: Bool?
        var inputs: [Input] = []
    }

    /// A flow's message page (`flow_done`) outside the steps: finished, invitation only, a link that does not work.
    struct NoticePage: Encodable {
        var message: String
        var loginLink = true
        var restartLink: String?
        var flowLabel: String
    }

    private func page(for loaded: Loaded, context: TenantContext, problems: [FieldProblem], form: SubmittedForm?,
                      status: HTTPResponse.Status? = nil) async throws -> Response {
        let machine = loaded.machine
        let progress = loaded.progress
        guard let step = machine.step(progress) else {
            return notice(context, machine: machine, key: "flow.finished", status: .ok)
        }
        let locale = context.locale
        let theme = context.tenant.theme
        var model = StepPage(
            flowId: machine.flowId, flowLabel: machine.flow.label.resolve(locale), stepKind: step.step.rawValue,
            stepIndex: progress.stepIndex, stepNumber: progress.stepIndex + 1, stepCount: machine.steps.count,
            action: Routes.accessFlow.path(machine.flowId), stepMessage: step.message?.resolve(locale) ?? "",
            hasStepMessage: step.message != nil)
        var password: PasswordFields?
        var entered: [String: String] = form?.fields ?? [:]
        entered["_csrf"] = nil
        for secret in ["password", "password_confirmation", "security_answer", "security_answer_confirmation", "code"] {
            entered[secret] = nil
        }
        var inputs: [FormInput] = []
        var template = "flow_form"
        switch step.step {
        case .invitation:
            entered["email"] = entered["email"] ?? progress.email ?? ""
            entered["first_name"] = entered["first_name"] ?? progress.firstName ?? ""
            entered["last_name"] = entered["last_name"] ?? progress.lastName ?? ""
            inputs = [FormInput(name: "first_name", label: label(theme, "field.first_name", locale), type: "text", autocomplete: "given-name", required: true),
                      FormInput(name: "last_name", label: label(theme, "field.last_name", locale), type: "text", autocomplete: "family-name", required: true),
                      FormInput(name: "email", label: label(theme, "field.email", locale), type: "email", autocomplete: "email", required: true)]
            if let types = step.adminEmailFor, let type = progress.customerType, types.contains(type) {
                model.notice = theme.text("flow.admin_email_required", locale: locale)
            }
            model.assignedUsername = progress.username
        case .verifyCustomer:
            inputs = CustomerMatcher.formFields(for: step.match ?? [], optionalFields: step.optionalFields ?? [], kind: nil,
                                                custom: context.tenant.definition.customerFields, records: context.tenant.definition.records)
            model.notice = FlowSteps.crmNotice(flowId: machine.flowId, definition: context.tenant.definition,
                                               lookups: services.application.lookups, locale: locale)
        case .customerDetails:
            let types = context.tenant.definition.customerTypes
            var chosen = form?.value("customer_type") ?? progress.customerType ?? types.keys.first ?? ""
            if let customerId = progress.customerId {
                // A customer already verified: its own type, its record's values shown (and stored) back.
                chosen = progress.customerType ?? chosen
                if form == nil, let (customer, own) = try await services.database.read(tenant: context.tenant.id, now: services.now, {
                    transaction -> (CustomerRecord, [String: String])? in
                    guard let customer = try await transaction.customer(id: customerId) else { return nil }
                    return (customer, try await transaction.customFieldValues(of: .customer(customerId)))
                }) {
                    entered = CustomerRecordDraft.values(of: customer).merging(own) { $1 }.merging(progress.customerDraft ?? [:]) { $1 }
                }
            }
            model.customerTypes = types.map { id, type in .init(id: id, label: type.label.resolve(locale), selected: id == chosen) }
            model.chooseCustomerType = types.count > 1 && progress.customerId == nil
            if let type = types[chosen] {
                inputs = CustomerDetailsFields(step: step, type: type, definition: context.tenant.definition).inputs
            }
        case .identify:
            let by = step.by ?? ["username"]
            let key = by.count > 1 ? "field.username_or_email" : (by.first == "email" ? "field.email" : "field.username")
            inputs = [FormInput(name: "identifier", label: label(theme, key, locale), type: by == ["email"] ? "email" : "text",
                                autocomplete: "username", required: true)]
            if let excluded = machine.flow.excludedMessage { model.notice = excluded.resolve(locale) }
        case .credentials, .firstLoginCredentials:
            switch step.username ?? .chosen {
            case .assigned:
                model.assignedUsername = progress.username ?? ""
            case .email:
                entered["email"] = entered["email"] ?? progress.email ?? ""
                inputs.append(FormInput(name: "email", label: label(theme, "field.email_as_username", locale), type: "email", autocomplete: "email", required: true))
            case .chosen:
                inputs.append(FormInput(name: "username", label: label(theme, "field.username", locale), type: "text", autocomplete: "username", required: true))
                if progress.email == nil {
                    inputs.append(FormInput(name: "email", label: label(theme, "field.email", locale), type: "email", autocomplete: "email", required: true))
                }
            }
            if context.tenant.definition.login.caseSensitive { model.caseSensitiveNote = theme.text("flow.case_sensitive", locale: locale) }
            if step.step == .firstLoginCredentials { password = passwordFields(step: step, context: context) }
        case .password:
            password = passwordFields(step: step, context: context)
        case .securityQuestion:
            template = "flow_form"
            inputs = [FormInput(name: "security_question", label: label(theme, "field.security_question", locale), type: "select", autocomplete: "off", required: true),
                      FormInput(name: "security_answer", label: label(theme, "field.security_answer", locale), type: "password", autocomplete: "off", required: true),
                      FormInput(name: "security_answer_confirmation", label: label(theme, "field.security_answer_confirmation", locale), type: "password", autocomplete: "off", required: true)]
        case .securityAnswer:
            model.question = try await questionFor(progress, tenant: context.tenant)
            inputs = [FormInput(name: "security_answer", label: label(theme, "field.security_answer", locale), type: "password", autocomplete: "off", required: true)]
        case .controlCode:
            model.notice = theme.text("flow.control_code_sent", locale: locale)
            inputs = [FormInput(name: "code", label: label(theme, "field.control_code", locale), type: "text", autocomplete: "one-time-code", required: true)]
            model.inputmodeNumeric = true
        case .emailVerification where step.deliversToRecord:
            template = "flow_check_email"
            model.resend = true
            model.sentTo = progress.sentTo
        case .emailVerification:
            if progress.email != nil && !progress.emailVerified {
                template = "flow_check_email"
                model.resend = true
            } else {
                inputs = [FormInput(name: "email", label: label(theme, "field.email", locale), type: "email", autocomplete: "email", required: true)]
            }
        case .activation, .resetLink, .sendUsername:
            template = "flow_check_email"
            model.resend = step.step != .sendUsername
            if step.deliversToRecord { model.sentTo = progress.sentTo }
        case .temporaryPassword:
            template = "flow_done"
            model.message = theme.text("flow.temporary_password_sent", locale: locale)
            model.loginLink = true
        case .summaryEmail, .confirmation:
            template = "flow_done"
            let next = machine.steps.dropFirst(progress.stepIndex + 1).first?.step
            model.message = theme.text(machine.flow.kind == .registration ? "flow.registration_done" : "flow.recovery_done", locale: locale)
            model.continueButton = next == .automaticLogin
            model.loginLink = next != .automaticLogin
        case .automaticLogin:
            template = "flow_done"
            model.continueButton = true
        }
        model.inputs = inputs.map { input in
            var item = StepPage.Input(name: input.name, label: input.label.resolve(locale), type: input.type, required: input.required,
                                      value: entered[input.name] ?? "", autocomplete: input.autocomplete ?? "off",
                                      error: problems.first { $0.field == input.name }?.message.resolve(locale),
                                      hint: input.hint?.resolve(locale), maxlength: input.maxLength)
            if input.name == "security_question" {
                // Users pick from the same list recovery draws its decoys from.
                item.select = true
                item.options = SecurityQuestions.suggested(locale).map { .init(value: $0, text: $0, selected: $0 == entered[input.name]) }
            } else if let options = Self.choices(input, definition: context.tenant.definition, value: entered[input.name], locale: locale) {
                item.select = true
                item.options = options
            }
            return item
        }
        let title = machine.flow.label.resolve(locale)
        return Pages.render(template, WithPasswordFields(page: model, fields: password), errors: problems, title: title, context: context,
                            status: status ?? (problems.isEmpty ? .ok : .unprocessableContent))
    }

    /// The choices of an `enum` or `boolean` field of the tenant's own (a customer field, or a record field a
    /// `verify_customer` step matches on), shown as a `<select>`: option ids as values, labels in `locale`, and an
    /// empty choice first unless the field is required and has a value. Nil for any other input.
    static func choices(_ input: FormInput, definition: TenantDefinition, value: String?, locale: String) -> [StepPage.Input.Option]? {
        guard let field = definition.customerFields?[input.name] ?? definition.recordMatchField(input.name)?.definition else { return nil }
        var choices: [(String, String)]
        switch field.type {
        case .enumeration: choices = (field.options ?? OrderedMap()).map { ($0.key, $0.value.resolve(locale)) }
        case .boolean: choices = [true, false].map { ($0 ? "true" : "false", field.display(.boolean($0), locale: locale)) }
        default: return nil
        }
        let current = value ?? ""   // an option id (what the select sends, what is stored)
        if !input.required || current.isEmpty { choices.insert(("", "—"), at: 0) }
        return choices.map { .init(value: $0.0, text: $0.1, selected: $0.0 == current) }
    }

    private func passwordFields(step: FlowStep, context: TenantContext) -> PasswordFields {
        PasswordFields(policy: context.tenant.definition.login.password, locale: context.locale, confirm: step.confirm ?? true,
                       strengthMeter: step.strengthMeter ?? false, showToggle: step.showToggle ?? false)
    }

    private func label(_ theme: PortalTheme, _ key: String, _ locale: String) -> LocalizedText {
        LocalizedText(translations: [locale: theme.text(key, locale: locale)])
    }

    private func notice(_ context: TenantContext, machine: FlowMachine, key: String, status: HTTPResponse.Status,
                        values: [String: String] = [:]) -> Response {
        let theme = context.tenant.theme
        var message = theme.text(key, locale: context.locale, values)
        if let care = context.tenant.definition.contacts?.customerCare {
            message += " " + theme.text("flow.contact_customer_care", locale: context.locale, ["phone": care])
        }
        return Pages.render("flow_done", NoticePage(message: message, flowLabel: machine.flow.label.resolve(context.locale)),
                            title: machine.flow.label.resolve(context.locale), context: context, status: status)
    }

    /// The user's own security question, or for an unknown account a decoy chosen from the e-mail typed,
    /// so the page looks the same whether or not the account exists.
    private func questionFor(_ progress: FlowProgress, tenant: PortalTenant) async throws -> String {
        if let userId = progress.userId,
           let user = try await services.database.read(tenant: tenant.id, now: services.now, { try await $0.user(id: userId) }),
           let question = user.securityQuestion {
            return question
        }
        // Same read as for a real account, then a question from the list real users pick from, chosen by a
        // keyed hash of the identifier: stable for that identifier, unpredictable without the data key.
        _ = try await services.database.read(tenant: tenant.id, now: services.now, { try await $0.user(id: -1) })
        let digest = try services.database.sealer.keyedDigest("\(tenant.id)|\((progress.email ?? "").lowercased())", purpose: "decoy_question")
        return SecurityQuestions.decoy(digest: digest, locale: tenant.definition.locales.default)
    }

    // MARK: Submitting a step

    private func submit(_ request: Request, context: TenantContext) async throws -> Response {
        let form = try await SubmittedForm.read(request, context: context)
        var loaded = try await load(request, context: context)
        if loaded.record == nil && loaded.machine.startsFromInvitation {
            return notice(context, machine: loaded.machine, key: "flow.invitation_only", status: .ok)
        }
        guard let step = loaded.machine.step(loaded.progress) else {
            return notice(context, machine: loaded.machine, key: "flow.finished", status: .ok)
        }
        if let sent = Int(form["step"]), sent != loaded.progress.stepIndex {
            return Pages.redirect(Routes.accessFlow.path(loaded.machine.flowId))
        }
        let steps = FlowSteps(services: services, context: context)
        let outcome = try await steps.submit(step, form: form, loaded: &loaded)
        switch outcome {
        case .problems(let problems, let status):
            return try await page(for: loaded, context: context, problems: problems, form: form, status: status)
        case .stay(let cookies):
            var cookies = cookies
            let current = loaded
            let (saved, cookie) = try await services.database.write(tenant: context.tenant.id, now: services.now) { transaction in
                var copy = current
                let cookie = try await saveProgress(&copy, in: transaction)
                return (copy, cookie)
            }
            loaded = saved
            if let cookie { cookies.append(cookie) }
            var response = Pages.redirect(Routes.accessFlow.path(loaded.machine.flowId))
            response.setCookies(cookies)
            return response
        case .advanced(let cookies, let redirect):
            var response = Pages.redirect(redirect ?? Routes.accessFlow.path(loaded.machine.flowId))
            response.setCookies(cookies)
            return response
        case .response(let response):
            return response
        }
    }

    private func restart(_ request: Request, context: TenantContext) async throws -> Response {
        _ = try await SubmittedForm.read(request, context: context)
        let machine = try machine(context)
        var response = Pages.redirect(Routes.accessFlow.path(machine.flowId))
        response.setCookie(Cookie(name: CookieName.flow, value: "", maxAge: 0, path: Routes.accessFlow.path(machine.flowId), httpOnly: true, sameSite: .lax))
        return response
    }

    // MARK: Links from e-mails

    private func followLink(_ request: Request, context: TenantContext) async throws -> Response {
        let machine = try machine(context)
        guard let token = request.uri.queryParameters["t"].map(String.init), token.count == 43 else {
            return notice(context, machine: machine, key: "flow.link_invalid", status: .badRequest)
        }
        let hash = Secrets.hash(token)
        let tenant = context.tenant
        let now = services.now
        // An invitation flow's own link, or one sent by a later step (activating a changed e-mail address).
        if machine.startsFromInvitation,
           try await services.database.read(tenant: tenant.id, now: now, { try await $0.invitation(tokenHash: hash) }) != nil {
            return try await followInvitation(hash: hash, machine: machine, context: context, now: now)
        }
        // Verification, activation and reset links: a one-time token that names the flow state.
        let outcome: (Cookie?, String?)
        do {
            outcome = try await services.database.write(tenant: tenant.id, now: now) { transaction in
                var found: OneTimeTokenRecord?
                for purpose in ["email_verification", "activation", "password_reset"] {
                    if let token = try await transaction.token(hash: hash, purpose: purpose) { found = token; break }
                }
                guard let record = found else { return (nil, "flow.link_invalid") }
                if record.usedAt != nil { return (nil, "flow.link_used") }
                if record.expiresAt <= now { return (nil, "flow.link_expired") }
                guard let stateId = record.data.flatMap(Int64.init),
                      var state = try await transaction.flowStateById(stateId), state.flow == machine.flowId,
                      state.completedAt == nil,
                      var progress = try? JSONDecoder().decode(FlowProgress.self, from: Data(state.data.utf8)) else {
                    return (nil, "flow.link_invalid")
                }
                guard try await transaction.consumeToken(id: record.id ?? 0) else { return (nil, "flow.link_used") }
                // The link proves the mailbox: move past the step that sent it.
                var completing = false
                if let index = machine.steps.firstIndex(where: { [.emailVerification, .activation, .resetLink].contains($0.step) }),
                   progress.stepIndex <= index {
                    progress.stepIndex = index
                    progress.emailVerified = true
                    completing = machine.completesAccount(after: progress)
                    machine.advance(&progress)
                }
                var loaded = Loaded(machine: machine, progress: progress, record: state)
                state.expiresAt = max(state.expiresAt, now + Self.flowLifetime)
                loaded.record = state
                let steps = FlowSteps(services: services, context: context)
                if completing { try await steps.completeAccount(&loaded, in: transaction) }
                try await steps.enterSteps(&loaded, in: transaction)
                _ = try await saveProgress(&loaded, in: transaction)
                var rebound = loaded.record!
                let cookie = try await rebind(&rebound, in: transaction)
                return (cookie, nil)
            }
        } catch let refusal as FieldProblem {
            // The account could not be created (a cardinality limit reached meanwhile): the link stays unused.
            return Pages.render("flow_done", NoticePage(message: refusal.message.resolve(context.locale),
                                                        flowLabel: machine.flow.label.resolve(context.locale)),
                                title: machine.flow.label.resolve(context.locale), context: context, status: .conflict)
        }
        services.mailQueued()
        if let key = outcome.1 {
            return notice(context, machine: machine, key: key, status: key == "flow.link_expired" ? .gone : .badRequest)
        }
        var response = Pages.redirect(Routes.accessFlow.path(machine.flowId))
        if let cookie = outcome.0 { response.setCookie(cookie) }
        return response
    }

    private func followInvitation(hash: String, machine: FlowMachine, context: TenantContext, now: Int64) async throws -> Response {
        let tenant = context.tenant
        let result: (Cookie?, String?, [String: String]) = try await services.database.write(tenant: tenant.id, now: now) { transaction in
            guard let invitation = try await transaction.invitation(tokenHash: hash) else { return (nil, "flow.link_invalid", [:]) }
            if invitation.acceptedAt != nil { return (nil, "flow.invitation_used", [:]) }
            if invitation.revokedAt != nil { return (nil, "flow.invitation_revoked", [:]) }
            if invitation.expiresAt <= now {
                return (nil, "flow.invitation_expired", ["date": Formatting.date(invitation.expiresAt, locale: context.locale)])
            }
            if let role = machine.flow.role, role != invitation.role { return (nil, "flow.link_invalid", [:]) }
            let customer = try await transaction.customer(id: invitation.customerId)
            var progress = FlowProgress(flowId: machine.flowId)
            progress.invitationId = invitation.id
            progress.customerId = invitation.customerId
            progress.customerType = customer?.customerType
            progress.role = invitation.role
            progress.email = invitation.email
            progress.username = invitation.username.isEmpty ? nil : invitation.username
            progress.creatorUserId = invitation.createdBy
            progress.emailVerified = true
            var loaded = Loaded(machine: machine, progress: progress, record: nil)
            let step = machine.steps.first
            let lifetime = Int64(step?.expires?.seconds ?? 86_400)
            let cookie = try await saveProgress(&loaded, in: transaction)
            if var record = loaded.record {
                record.expiresAt = max(record.expiresAt, min(invitation.expiresAt, now + lifetime))
                try await transaction.updateFlowState(record)
            }
            return (cookie, nil, [:])
        }
        if let key = result.1 { return notice(context, machine: machine, key: key, status: key == "flow.invitation_expired" ? .gone : .badRequest, values: result.2) }
        var response = Pages.redirect(Routes.accessFlow.path(machine.flowId))
        if let cookie = result.0 { response.setCookie(cookie) }
        return response
    }
}
