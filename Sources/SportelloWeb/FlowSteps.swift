import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// What each kind of step does with a submitted form, and what happens on entering a step.
struct FlowSteps {
    let services: PortalServices
    let context: TenantContext

    enum Outcome {
        /// Show the step again with these problems.
        case problems([FieldProblem], HTTPResponse.Status? = nil)
        /// Save progress and show the (same or next) step.
        case stay([Cookie])
        /// Progress already saved; go on.
        case advanced([Cookie], redirect: String?)
        case response(Response)
    }

    var tenant: PortalTenant { context.tenant }
    var definition: TenantDefinition { tenant.definition }
    var accounts: Accounts { Accounts(services: services, tenant: tenant) }
    var locale: String { context.locale }

    private func problem(_ field: String, _ code: String, _ key: String, _ values: [String: String] = [:]) -> FieldProblem {
        var translations: [String: String] = [:]
        for locale in definition.locales.available { translations[locale] = tenant.theme.text(key, locale: locale, values) }
        return FieldProblem(field: field, code: code, message: LocalizedText(translations: translations))
    }

    // MARK: Submit

    func submit(_ step: FlowStep, form: SubmittedForm, loaded: inout FlowController.Loaded) async throws -> Outcome {
        let now = services.now
        switch step.step {
        case .invitation:
            let email = form.value("email") ?? ""
            var problems = UsernameRules.validateEmail(email, field: "email")
            // The invitee's own name: the account must not carry the customer's or the legal representative's.
            let firstName = (form.value("first_name") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            let lastName = (form.value("last_name") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            for (field, value) in [("first_name", firstName), ("last_name", lastName)] {
                if value.isEmpty { problems.append(problem(field, "required", "error.field_required")) }
                else if value.count > 100 || value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format }) {
                    problems.append(problem(field, "invalid", "error.field_invalid"))
                }
            }
            if !problems.isEmpty { return .problems(problems) }
            loaded.progress.firstName = firstName
            loaded.progress.lastName = lastName
            if email.lowercased() != loaded.progress.email?.lowercased() { loaded.progress.emailVerified = false }
            loaded.progress.email = email
            return try await advance(&loaded)

        case .verifyCustomer:
            return try await verifyCustomer(step, form: form, loaded: &loaded, now: now)

        case .customerDetails:
            // After verify_customer the type is the verified customer's, not a choice.
            let typeId = loaded.progress.customerId != nil ? (loaded.progress.customerType ?? "")
                : (form.value("customer_type") ?? definition.customerTypes.keys.first ?? "")
            guard let type = definition.customerTypes[typeId] else {
                return .problems([problem("customer_type", "required", "error.field_required")])
            }
            if form.value("change_type") != nil { return .problems([], .ok) }
            let details = CustomerDetailsFields(step: step, type: type, definition: definition)
            let fieldContext = FieldContext(locale: locale, tenant: definition, today: CalendarDay(instant: now))
            switch details.validate(form.fields, typeId: typeId, in: fieldContext) {
            case .failure(let problems):
                return .problems(problems.problems)
            case .success(let draft):
                loaded.progress.customerType = typeId
                loaded.progress.customerDraft = draft.values
                loaded.progress.email = draft.values["email"] ?? loaded.progress.email
                return try await advance(&loaded)
            }

        case .identify:
            // Existing and unknown identifiers do the same work; the floor hides whatever difference is left.
            let deadline = ContinuousClock.now + services.configuration.recoveryResponseFloor
            let outcome = try await identify(step, form: form, loaded: &loaded, now: now)
            try? await Task.sleep(until: deadline, clock: .continuous)
            return outcome

        case .credentials, .firstLoginCredentials:
            var problems: [FieldProblem] = []
            switch step.username ?? .chosen {
            case .assigned:
                if loaded.progress.username == nil { problems.append(problem("username", "required", "error.field_required")) }
            case .email:
                let email = form.value("email") ?? ""
                problems += UsernameRules.validateEmail(email, field: "email")
                if problems.isEmpty {
                    if email.lowercased() != loaded.progress.email?.lowercased() { loaded.progress.emailVerified = false }
                    loaded.progress.email = email
                    loaded.progress.username = email
                }
            case .chosen:
                let username = form.value("username") ?? ""
                problems += UsernameRules.validateChosen(username)
                if loaded.progress.email == nil {
                    let email = form.value("email") ?? ""
                    problems += UsernameRules.validateEmail(email, field: "email")
                    if problems.isEmpty { loaded.progress.email = email }
                }
                if problems.isEmpty { loaded.progress.username = username }
            }
            if problems.isEmpty, let taken = try await usernameTaken(loaded.progress, step: step) , taken {
                problems.append(problem(step.username == .email ? "email" : "username", "taken", "error.username_taken"))
            }
            if step.step == .firstLoginCredentials, problems.isEmpty {
                problems += try await passwordStep(step, form: form, loaded: &loaded)
            }
            if !problems.isEmpty { return .problems(problems) }
            return try await advance(&loaded)

        case .password:
            let problems = try await passwordStep(step, form: form, loaded: &loaded)
            if !problems.isEmpty { return .problems(problems) }
            return try await advance(&loaded)

        case .securityQuestion:
            let question = form.value("security_question") ?? ""
            var problems = SecurityAnswer.validate(question: question, answer: form["security_answer"],
                                                   confirmation: form["security_answer_confirmation"])
            if problems.isEmpty, !SecurityQuestions.isOffered(question) {
                problems.append(problem("security_question", "not_offered", "error.field_invalid"))
            }
            if !problems.isEmpty { return .problems(problems) }
            loaded.progress.securityQuestion = question
            loaded.progress.securityAnswerHash = try await services.passwords.hash(SecurityAnswer.normalise(form["security_answer"]))
            return try await advance(&loaded)

        case .securityAnswer:
            return try await securityAnswer(step, form: form, loaded: &loaded, now: now)

        case .controlCode:
            return try await controlCode(step, form: form, loaded: &loaded, now: now)

        case .emailVerification where step.deliversToRecord:
            // The link goes to the contact on record: nothing typed here is used.
            guard form.value("resend") != nil else { return .stay([]) }
            guard try await spendFlowMail(loaded, now: now) else { return tooManyMails(now: now) }
            return try await writeAndSave(&loaded) { transaction, loaded in
                try await sendLink(purpose: "email_verification", kind: "email_verification", step: step, loaded: &loaded, in: transaction)
            }

        case .emailVerification:
            if form.value("resend") != nil || loaded.progress.email == nil || form.value("email") != nil {
                if let email = form.value("email") {
                    let problems = UsernameRules.validateEmail(email, field: "email")
                    if !problems.isEmpty { return .problems(problems) }
                    loaded.progress.email = email
                    loaded.progress.emailVerified = false
                }
                guard loaded.progress.email != nil else { return .problems([problem("email", "required", "error.field_required")]) }
                guard try await spendFlowMail(loaded, now: now) else { return tooManyMails(now: now) }
                return try await writeAndSave(&loaded) { transaction, loaded in
                    try await sendLink(purpose: "email_verification", kind: "email_verification", step: step, loaded: &loaded, in: transaction)
                }
            }
            return .stay([])

        case .activation, .resetLink:
            // "Send it again": a fresh link replaces the previous one.
            guard form.value("resend") != nil else { return .stay([]) }
            let purpose = step.step == .activation ? "activation" : "password_reset"
            // Unknown identifiers count too, so a re-send past the cap answers the same for every identifier.
            guard try await spendFlowMail(loaded, now: now) else { return tooManyMails(now: now) }
            return try await writeAndSave(&loaded) { transaction, loaded in
                if step.step == .resetLink && loaded.progress.userId == nil {
                    try await decoyDelivery(kind: "password_reset", values: ["link": services.baseURL(for: tenant) + Routes.accessFlowLink.path(loaded.machine.flowId, query: ["t": ""]),
                                                                           "expires_on": "", "username": ""], in: transaction)
                    return
                }
                try await sendLink(purpose: purpose, kind: step.step == .activation ? "activation" : "password_reset",
                                   step: step, loaded: &loaded, in: transaction)
            }

        case .sendUsername, .temporaryPassword:
            return .stay([])

        case .summaryEmail, .confirmation:
            // "Prosegui": go on to automatic login, or to the login page.
            return try await advance(&loaded)

        case .automaticLogin:
            return try await advance(&loaded)
        }
    }

    // MARK: Steps with attempts

    /// The customers a platform lookup field names: the one with that customer code, else those with that
    /// partita IVA or codice fiscale.
    private static func builtinCandidates(_ field: String, _ value: String, in transaction: TenantTransaction) async throws -> [CustomerRecord] {
        switch field {
        case "customer_code":
            return try await transaction.customer(code: value.trimmingCharacters(in: .whitespaces).uppercased()).map { [$0] } ?? []
        default:
            let normalised = value.uppercased().replacingOccurrences(of: " ", with: "")
            let vat = normalised.hasPrefix("IT") ? String(normalised.dropFirst(2)) : normalised
            return try await transaction.customers(vatNumber: vat)
        }
    }

    private func verifyCustomer(_ step: FlowStep, form: SubmittedForm, loaded: inout FlowController.Loaded, now: Int64) async throws -> Outcome {
        let maxAttempts = step.maxAttempts ?? 5
        let window = Int64(step.window?.seconds ?? 900)
        let key = "verify|\(tenant.id)|\(loaded.machine.flowId)|\(context.remoteAddress ?? "-")"
        guard await services.limiter.allow(key, limit: maxAttempts, window: window, now: now) else {
            try await auditBurst("verify_customer.throttled", key: key, now: now)
            return .problems([problem("_form", "too_many_attempts", "error.too_many_attempts")], .tooManyRequests)
        }
        let match = step.match ?? []
        let custom = definition.customerFields
        let today = CalendarDay(instant: now)
        let fieldContext = FieldContext(locale: locale, tenant: definition, today: today)
        var problems: [FieldProblem] = []
        // A record field (a policy number) is checked as its field checks it: a value that cannot be one is said next
        // to the input (a format tells nothing about who holds it); records store the canonical form looked up.
        // An entry that names no field of the tenant's kinds is never held, so the match fails.
        var typedRecords: [(entry: String, field: RecordMatchField, value: String)] = []
        for entry in match {
            guard case .record = CustomerMatchKey(entry), let field = definition.recordMatchField(entry) else { continue }
            switch field.canonical(form.fields[entry], in: fieldContext) {
            case .success(let value): typedRecords.append((entry, field, value))
            case .failure(let found): problems += found.problems
            }
        }
        // Optional fields typed here (Unogas's phone) are checked now and written to the record with the account.
        let matchedInputs = Set(CustomerMatcher.formFields(for: match, kind: nil, custom: custom, records: definition.records).map(\.name))
        var extras: [String: String] = [:]
        for input in CustomerMatcher.formFields(for: [], optionalFields: step.optionalFields ?? [], kind: .person, custom: custom)
        where !matchedInputs.contains(input.name) {
            let raw = (form.value(input.name) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if raw.isEmpty { continue }
            if let field = custom?[input.name] {
                switch field.validate(raw, field: input.name, in: fieldContext) {
                case .success(let value): if let value { extras[input.name] = value.canonical }
                case .failure(let found): problems += found.problems
                }
                continue
            }
            switch CustomerDetailsForm.check(input.name, raw, kind: .person) {
            case .success(let value): extras[input.name] = value
            case .failure(let problem): problems.append(problem)
            }
        }
        if !problems.isEmpty { return .problems(problems) }
        // A CRM bound to the flow (a lookup plugin) verifies instead of the portal's records
        // (Sources/SportelloWeb/Lookup/FlowCustomerVerification.swift).
        var verifiedByCRM: CustomerRecord?
        switch try await verifyWithCRM(step, form: form, flowId: loaded.machine.flowId, now: now) {
        case .notBound: break
        case .refused(let refusal, let status): return .problems(refusal, status)
        case .verified(let customer): verifiedByCRM = customer
        }
        let records = typedRecords
        let lookupField = CustomerMatcher.lookupField(for: match)
        let lookupValue = form.value(lookupField) ?? ""
        let candidates: [(customer: CustomerRecord, values: [String: String], held: Set<String>)] = verifiedByCRM != nil ? [] :
            try await services.database.read(tenant: tenant.id, now: now) { transaction in
            func customers(_ ids: [Int64]) async throws -> [CustomerRecord] {
                var list: [CustomerRecord] = []
                for id in ids { if let customer = try await transaction.customer(id: id) { list.append(customer) } }
                return list
            }
            let found: [CustomerRecord]
            if let field = custom?[lookupField] {
                // One of the provider's own identifiers (a policy number): the customers holding exactly that value.
                let value = field.canonical(lookupValue, field: lookupField, today: today)
                found = try await customers(value.asyncMap { try await transaction.customers(withField: lookupField, equalTo: $0) } ?? [])
            } else if case .record = CustomerMatchKey(lookupField) {
                // A record field (a policy number): the customers with a record of that kind holding exactly that value.
                let typed = records.first { $0.entry == lookupField }
                found = try await customers(typed.asyncMap {
                    try await transaction.customers(withRecordOf: $0.field.kind, field: $0.field.field, equalTo: $0.value) } ?? [])
            } else {
                found = try await Self.builtinCandidates(lookupField, lookupValue, in: transaction)
            }
            let values = custom != nil && match.contains(where: { custom?[$0] != nil })
                ? try await transaction.customFieldValues(customers: found.compactMap(\.id)) : [:]
            // Every record field is confirmed on every candidate, the lookup one too: the customer must own the record.
            var result: [(customer: CustomerRecord, values: [String: String], held: Set<String>)] = []
            for customer in found {
                var held = Set<String>()
                for typed in records {
                    if try await transaction.customer(customer.id ?? 0, hasRecordOf: typed.field.kind, field: typed.field.field, equalTo: typed.value) {
                        held.insert(typed.entry)
                    }
                }
                result.append((customer, values[customer.id ?? 0] ?? [:], held))
            }
            return result
        }
        var matched: CustomerRecord? = verifiedByCRM
        for (customer, values, held) in candidates {
            guard let type = definition.customerTypes[customer.customerType] else { continue }
            let customMatch = custom.map { CustomerMatcher.CustomMatch(fields: $0, values: values, today: today) }
            if CustomerMatcher.matches(entered: form.fields, customer: customer, kind: type.kind, match: match, custom: customMatch,
                                       heldRecords: held) {
                matched = customer; break
            }
        }
        guard let customer = matched else {
            return .problems([FieldProblem(field: "_form", code: "no_match", message: CustomerMatcher.neutralMismatchMessage)])
        }
        if let role = loaded.progress.role ?? loaded.machine.flow.role,
           let refusal = try await cardinalityRefusal(role: role, customer: customer) {
            return .problems([refusal])
        }
        if let roles = loaded.machine.flow.customerTypes, !roles.contains(customer.customerType) {
            return .problems([FieldProblem(field: "_form", code: "no_match", message: CustomerMatcher.neutralMismatchMessage)])
        }
        await services.limiter.reset(key)
        loaded.progress.customerId = customer.id
        loaded.progress.customerType = customer.customerType
        loaded.progress.verifiedExtras = extras.isEmpty ? nil : extras
        // The address on record, never the one typed (they matched, but only the record is the provider's word).
        if match.contains("legal_rep_email") { loaded.progress.email = customer.legalRepEmail }
        return try await advance(&loaded)
    }

    /// Mails a flow may send one account, customer or address per hour (links, codes, usernames, re-sends).
    static let flowMailsPerHour: Int64 = 5

    /// Counts one more flow mail to whoever `loaded` is sending to: the account, else the customer on record, else
    /// the typed identifier or address (by hash: the counters hold no personal data). False past the hour's cap.
    private func spendFlowMail(_ loaded: FlowController.Loaded, now: Int64) async throws -> Bool {
        let who = loaded.progress.userId.map { "user:\($0)" } ?? loaded.progress.customerId.map { "customer:\($0)" }
            ?? loaded.progress.identifierDigest.map { "identifier:" + $0 } ?? "to:" + Secrets.hash((loaded.progress.email ?? "-").lowercased())
        let sent = try await services.limiter.add(tenant: tenant.id, key: "mail|flow|" + who, window: 3_600, now: now)
        return sent <= Self.flowMailsPerHour
    }

    /// The answer to a "send it again" past the cap: the wait, in the tenant's language.
    private func tooManyMails(now: Int64) -> Outcome {
        let minutes = max(1, Int((RateLimiter.retryAfter(window: 3_600, now: now) + 59) / 60))
        return .problems([problem("_form", "mail_limit_reached", "error.mail_limit_reached.message", ["minutes": String(minutes)])], .tooManyRequests)
    }

    private func identify(_ step: FlowStep, form: SubmittedForm, loaded: inout FlowController.Loaded, now: Int64) async throws -> Outcome {
        let identifier = form.value("identifier") ?? ""
        if identifier.isEmpty { return .problems([problem("identifier", "required", "error.field_required")]) }
        let key = "identify|\(tenant.id)|\(context.remoteAddress ?? "-")"
        let throttle = definition.login.throttle
        guard await services.limiter.allow(key, limit: throttle?.perIP ?? 20, window: Int64(throttle?.window.seconds ?? 60), now: now) else {
            try await auditBurst("recovery.throttled", key: key, now: now)
            return .problems([problem("_form", "too_many_attempts", "error.too_many_attempts")], .tooManyRequests)
        }
        let by = Set(step.by ?? ["username"])
        let caseSensitive = definition.login.caseSensitive
        let users: [UserRecord] = try await services.database.read(tenant: tenant.id, now: now) { transaction in
            var found: [UserRecord] = []
            if by.contains("username"), let user = try await transaction.user(usernameKey: UsernameRules.key(for: identifier, caseSensitive: caseSensitive)) {
                found.append(user)
            }
            if by.contains("email"), identifier.contains("@") {
                for user in try await transaction.users(email: identifier) where !found.contains(where: { $0.id == user.id }) { found.append(user) }
            }
            return found.filter { $0.status != .blocked }
        }
        let excluded = Set(loaded.machine.flow.excludedRoles ?? [])
        let eligible = users.filter { !excluded.contains($0.role) }
        loaded.progress.identified = true
        loaded.progress.email = identifier.contains("@") ? identifier : nil
        loaded.progress.userId = eligible.count == 1 ? eligible.first?.id : nil
        loaded.progress.identifierDigest = try services.database.sealer.keyedDigest("\(tenant.id)|\(identifier.lowercased())", purpose: "flow_mail_limit")
        let purpose = loaded.machine.flow.purpose
        let barred = users.filter { excluded.contains($0.role) }
        // However many addresses ask, one account gets at most a few recovery mails an hour. Both paths count (an
        // unknown identifier by itself), so existing and unknown ones do the same work.
        loaded.recoveryMailCapped = try await !spendFlowMail(loaded, now: now)
        let capped = loaded.recoveryMailCapped
        return try await advance(&loaded) { transaction, loaded in
            // Barred roles learn why by e-mail; the page stays the same for everyone.
            for user in barred {
                guard let email = user.email, let message = loaded.machine.flow.excludedMessage else { continue }
                try await accounts.queueMail("recovery_not_allowed", to: email, values: ["username": user.username,
                                                                                         "message": message.resolve(definition.locales.default)], in: transaction)
            }
            if capped, !users.isEmpty {
                try await transaction.audit("recovery.mail_capped", targetKind: "user", targetId: users.compactMap { $0.id.map(String.init) }.joined(separator: ","),
                                            detail: "more than \(Self.flowMailsPerHour) mails in an hour: none sent")
            }
            if purpose == .forgotUsername, !users.isEmpty, !capped, let email = users.first?.email {
                try await accounts.queueMail("forgot_username", to: email, values: ["usernames": users.map(\.username).joined(separator: "\n")],
                                             in: transaction)
                try await transaction.audit("recovery.username_sent", targetKind: "user", targetId: users.compactMap { $0.id.map(String.init) }.joined(separator: ","))
            } else if purpose == .forgotUsername {
                try await decoyDelivery(kind: "forgot_username", values: ["usernames": ""], in: transaction)
            }
        }
    }

    private func securityAnswer(_ step: FlowStep, form: SubmittedForm, loaded: inout FlowController.Loaded, now: Int64) async throws -> Outcome {
        let maxAttempts = step.maxAttempts ?? 3
        let answer = SecurityAnswer.normalise(form["security_answer"])
        // Attempts count per account (or per typed e-mail), not per browser: starting over does not reset them.
        let identity = "answer|\(tenant.id)|" + (loaded.progress.userId.map { "user:\($0)" } ?? "email:" + (loaded.progress.email ?? "-").lowercased())
        if await services.limiter.count(identity, window: 3_600, now: now) >= maxAttempts {
            loaded.progress.stepIndex = loaded.machine.steps.count
            try await saveAsIs(loaded) { _ in }
            return .response(failurePage(loaded, key: "flow.too_many_wrong_answers"))
        }
        var correct = false
        if let userId = loaded.progress.userId,
           let user = try await services.database.read(tenant: tenant.id, now: now, { try await $0.user(id: userId) }),
           let hash = user.securityAnswerHash, (user.lockedUntil ?? 0) <= now {
            correct = try await services.passwords.verify(answer, against: hash)
        } else {
            _ = try await services.passwords.verify(answer, against: services.passwords.decoyHash)
        }
        if correct {
            await services.limiter.reset(identity)
            return try await advance(&loaded)
        }
        _ = await services.limiter.allow(identity, limit: Int.max, window: 3_600, now: now)
        loaded.progress.failedAttempts += 1
        let accountAttempts = await services.limiter.count(identity, window: 3_600, now: now)
        if loaded.progress.failedAttempts >= maxAttempts || accountAttempts >= maxAttempts {
            loaded.progress.stepIndex = loaded.machine.steps.count
            let userId = loaded.progress.userId
            try await saveAsIs(loaded) { transaction in
                if let userId {
                    try await transaction.audit("recovery.security_answer_exhausted", targetKind: "user", targetId: String(userId),
                                                detail: "\(maxAttempts) wrong answers")
                }
            }
            return .response(failurePage(loaded, key: "flow.too_many_wrong_answers"))
        }
        try await saveAsIs(loaded) { _ in }
        return .problems([problem("security_answer", "wrong_answer", "error.wrong_answer",
                                  ["left": String(maxAttempts - loaded.progress.failedAttempts)])])
    }

    private func controlCode(_ step: FlowStep, form: SubmittedForm, loaded: inout FlowController.Loaded, now: Int64) async throws -> Outcome {
        let maxAttempts = step.maxAttempts ?? 3
        let code = (form.value("code") ?? "").filter(\.isNumber)
        let userId = loaded.progress.userId
        let verdict: Bool = try await services.database.write(tenant: tenant.id, now: now) { transaction in
            guard let userId, let token = try await transaction.liveToken(userId: userId, purpose: "control_code") else { return false }
            if Secrets.constantTimeEquals(Secrets.hash(code, salt: String(userId)), token.tokenHash) {
                return try await transaction.consumeToken(id: token.id ?? 0)
            }
            _ = try await transaction.recordTokenAttempt(id: token.id ?? 0)
            return false
        }
        if verdict { return try await advance(&loaded) }
        loaded.progress.failedAttempts += 1
        if loaded.progress.failedAttempts >= maxAttempts {
            loaded.progress.stepIndex = loaded.machine.steps.count
            try await saveAsIs(loaded) { transaction in
                if let userId {
                    try await transaction.revokeTokens(userId: userId, purpose: "control_code")
                    try await transaction.audit("recovery.control_code_exhausted", targetKind: "user", targetId: String(userId),
                                                detail: "\(maxAttempts) wrong codes")
                }
            }
            return .response(failurePage(loaded, key: "flow.too_many_wrong_codes"))
        }
        try await saveAsIs(loaded) { _ in }
        return .problems([problem("code", "wrong_code", "error.wrong_code", ["left": String(maxAttempts - loaded.progress.failedAttempts)])])
    }

    /// Saves progress without advancing (a failed attempt, a flow ended without success), with what else
    /// must happen in the same transaction.
    private func saveAsIs(_ loaded: FlowController.Loaded, _ also: @escaping @Sendable (TenantTransaction) async throws -> Void) async throws {
        let controller = FlowController(services: services)
        try await services.database.write(tenant: tenant.id, now: services.now) { transaction in
            try await also(transaction)
            var copy = loaded
            _ = try await controller.saveProgress(&copy, in: transaction)
        }
    }

    private func failurePage(_ loaded: FlowController.Loaded, key: String) -> Response {
        let flowPath = Routes.accessFlow.path(loaded.machine.flowId)
        let page = FlowController.NoticePage(message: tenant.theme.text(key, locale: locale), restartLink: flowPath,
                                             flowLabel: loaded.machine.flow.label.resolve(locale))
        var response = Pages.render("flow_done", page, title: loaded.machine.flow.label.resolve(locale), context: context, status: .tooManyRequests)
        response.setCookie(Cookie(name: CookieName.flow, value: "", maxAge: 0, path: flowPath, httpOnly: true, sameSite: .lax))
        return response
    }

    private func auditBurst(_ action: String, key: String, now: Int64) async throws {
        // One audit entry per burst: the first refusal in an hour.
        guard await services.limiter.allow("audit|\(key)", limit: 1, window: 3_600, now: now) else { return }
        try await services.database.write(tenant: tenant.id, now: now) {
            try await $0.audit(action, targetKind: "ip", targetId: context.remoteAddress ?? "unknown")
        }
    }

    // MARK: Passwords and usernames

    private func passwordStep(_ step: FlowStep, form: SubmittedForm, loaded: inout FlowController.Loaded) async throws -> [FieldProblem] {
        let now = services.now
        let userId = loaded.progress.userId, customerId = loaded.progress.customerId
        let (user, customer): (UserRecord?, CustomerRecord?) = try await services.database.read(tenant: tenant.id, now: now) { transaction in
            let user = try await userId.asyncMap { try await transaction.user(id: $0) } ?? nil
            let customer = try await customerId.asyncMap { try await transaction.customer(id: $0) } ?? nil
            return (user, customer)
        }
        let confirmation: String? = (step.confirm ?? true) ? form["password_confirmation"] : nil
        let personal = Accounts.personalData(user: user, customer: customer,
                                             extra: [loaded.progress.username, loaded.progress.email?.split(separator: "@").first.map(String.init)]
                                                + (loaded.progress.customerDraft.map { [$0["first_name"], $0["last_name"], $0["tax_code"]] } ?? []))
        let problems = try await accounts.passwordProblems(form["password"], confirmation: confirmation, personalData: personal, user: user)
        if problems.isEmpty { loaded.progress.passwordHash = try await services.passwords.hash(form["password"]) }
        return problems
    }

    /// Whether the username (or e-mail used as one) is already taken within the step's uniqueness scope.
    private func usernameTaken(_ progress: FlowProgress, step: FlowStep) async throws -> Bool? {
        guard progress.username != nil, step.username != .assigned else { return nil }
        let key = storedUsernameKey(progress, step: step)
        return try await services.database.read(tenant: tenant.id, now: services.now) { try await $0.user(usernameKey: key) != nil }
    }

    /// The key stored for the new account: the normalised username, except where the tenant lets sub-accounts
    /// reuse an e-mail (Tunda): there the key also names the customer, so the same e-mail can log in to each.
    func storedUsernameKey(_ progress: FlowProgress, step: FlowStep?) -> String {
        let key = UsernameRules.key(for: progress.username ?? "", caseSensitive: definition.login.caseSensitive)
        let uniqueAmongMainAccounts = definition.flows.values.contains { flow in flow.steps.contains { $0.unique == .mainAccounts } }
        if uniqueAmongMainAccounts, step?.unique == nil, let customerId = progress.customerId {
            return "\(key)#\(customerId)"
        }
        return key
    }

    private func cardinalityRefusal(role: String, customer: CustomerRecord, in transaction: TenantTransaction? = nil) async throws -> FieldProblem? {
        guard let cardinality = tenant.authorization.cardinality(of: role), let maximum = cardinality.max else { return nil }
        let existing: Int
        if let transaction {
            existing = try await count(role: role, per: cardinality.per, customer: customer, in: transaction)
        } else {
            existing = try await services.database.read(tenant: tenant.id, now: services.now) {
                try await count(role: role, per: cardinality.per, customer: customer, in: $0)
            }
        }
        guard existing >= maximum else { return nil }
        let label = definition.roles[role]?.label.resolve(locale) ?? role
        let key = cardinality.per == .vatNumber ? "error.cardinality_vat" : "error.cardinality_customer"
        return problem("_form", "cardinality", key, ["role": label, "max": String(maximum)])
    }

    private func count(role: String, per: CardinalityScope, customer: CustomerRecord, in transaction: TenantTransaction) async throws -> Int {
        switch per {
        case .vatNumber:
            if let vat = customer.vatNumber { return try await transaction.userCount(role: role, vatNumber: vat) }
            return try await transaction.userCount(role: role, customerId: customer.id ?? 0)
        case .customer, .contract:
            return try await transaction.userCount(role: role, customerId: customer.id ?? 0)
        }
    }

    // MARK: Advancing

    /// Moves past the current step, runs the steps that act on entry (sending links, creating the account),
    /// and saves — all in one transaction with any mail it queues.
    private func advance(_ loaded: inout FlowController.Loaded,
                         before: (@Sendable (TenantTransaction, inout FlowController.Loaded) async throws -> Void)? = nil) async throws -> Outcome {
        let completing = loaded.machine.completesAccount(after: loaded.progress)
        let unchanged = loaded
        loaded.machine.advance(&loaded.progress)
        let outcome = try await writeAndSave(&loaded) { transaction, loaded in
            if let before { try await before(transaction, &loaded) }
            if completing { try await completeAccount(&loaded, in: transaction) }
            try await enterSteps(&loaded, in: transaction)
        }
        // A refusal inside the transaction (cardinality, a username taken meanwhile) keeps the user on this step.
        if case .problems = outcome { loaded = unchanged }
        return outcome
    }

    private func writeAndSave(_ loaded: inout FlowController.Loaded,
                              _ body: @escaping @Sendable (TenantTransaction, inout FlowController.Loaded) async throws -> Void) async throws -> Outcome {
        let cookies: [Cookie]
        let redirect: String?
        let working: FlowController.Loaded
        let start = loaded
        do {
            (working, cookies, redirect) = try await services.database.write(tenant: tenant.id, now: services.now) { transaction in
                var inner = start
                try await body(transaction, &inner)
                var cookies: [Cookie] = []
                var redirect: String?
                if inner.machine.step(inner.progress)?.step == .automaticLogin, let userId = inner.progress.userId,
                   let user = try await transaction.user(id: userId) {
                    inner.machine.advance(&inner.progress)
                    // A user with an authenticator app (`enrol_totp`) logs in with its code: no session without it
                    // (the flow ends on the login page).
                    if (user.totpSecret ?? "").isEmpty {
                        cookies += try await Sessions.start(for: user, tenant: tenant, services: services, in: transaction)
                        redirect = Routes.dashboard.path()
                    }
                }
                _ = try await FlowController(services: services).saveProgress(&inner, in: transaction)
                if let cookie = inner.issuedCookie { cookies.append(cookie) }
                if redirect == nil, inner.machine.isFinished(inner.progress) { redirect = Routes.login.done(inner.machine.flow.kind.rawValue) }
                return (inner, cookies, redirect)
            }
        } catch let refusal as FieldProblem {
            return .problems([refusal])
        }
        loaded = working
        services.mailQueued()
        return .advanced(cookies, redirect: redirect)
    }

    /// Acts on the step just entered where it needs no input: sends the link or code, issues the
    /// temporary password, sends the summary; skips a verification the user has already passed.
    func enterSteps(_ loaded: inout FlowController.Loaded, in transaction: TenantTransaction) async throws {
        while let step = loaded.machine.step(loaded.progress) {
            switch step.step {
            case .activation, .emailVerification:
                if loaded.progress.emailVerified {
                    loaded.machine.advance(&loaded.progress)
                    continue
                }
                if step.step == .activation || loaded.progress.email != nil || step.deliversToRecord {
                    try await sendLink(purpose: step.step == .activation ? "activation" : "email_verification",
                                       kind: step.step == .activation ? "activation" : "email_verification",
                                       step: step, loaded: &loaded, in: transaction)
                }
                return
            case .resetLink:
                if loaded.progress.userId != nil, !loaded.recoveryMailCapped {
                    try await sendLink(purpose: "password_reset", kind: "password_reset", step: step, loaded: &loaded, in: transaction)
                } else {
                    try await decoyDelivery(kind: "password_reset", values: ["link": services.baseURL(for: tenant) + Routes.accessFlowLink.path(loaded.machine.flowId, query: ["t": ""]),
                                                                           "expires_on": "", "username": ""], in: transaction)
                }
                return
            case .controlCode:
                if !loaded.recoveryMailCapped, let userId = loaded.progress.userId, let user = try await transaction.user(id: userId), let email = user.email {
                    try await transaction.revokeTokens(userId: userId, purpose: "control_code")
                    let code = Secrets.numericCode(length: step.length ?? 6, salt: String(userId), using: services.random)
                    let lifetime = Int64(step.expires?.seconds ?? 900)
                    try await transaction.insertToken(OneTimeTokenRecord(userId: userId, purpose: "control_code", tokenHash: code.hash,
                                                                         createdAt: transaction.now, expiresAt: transaction.now + lifetime))
                    try await accounts.queueMail("control_code", to: email, values: ["code": code.plain, "username": user.username,
                                                                                     "expires_in_minutes": String(lifetime / 60)], in: transaction)
                } else {
                    _ = try await transaction.user(id: -1)
                    try await decoyDelivery(kind: "control_code", values: ["code": services.random.digits(step.length ?? 6), "username": "",
                                                                           "expires_in_minutes": ""], in: transaction)
                }
                return
            case .temporaryPassword:
                if let userId = loaded.progress.userId, var user = try await transaction.user(id: userId), let email = user.email {
                    let length = step.length ?? 8
                    let temporary = step.charset == .alphanumeric
                        ? services.random.string(length, alphabet: Array("abcdefghijkmnpqrstuvwxyz23456789"))
                        : services.random.digits(length)
                    let hash = try await services.passwords.hash(temporary)
                    try await accounts.applyPassword(hash: hash, to: &user, in: transaction)
                    if step.forceChange ?? true { user.status = .mustChangePassword }
                    try await transaction.updateUser(user)
                    let lifetime = Int64(step.expires?.seconds ?? 86_400)
                    try await transaction.insertToken(OneTimeTokenRecord(userId: userId, purpose: "temporary_password",
                                                                         tokenHash: Secrets.hash(hash), createdAt: transaction.now,
                                                                         expiresAt: transaction.now + lifetime))
                    try await accounts.queueMail("temporary_password", to: email, values: [
                        "username": user.username, "password": temporary,
                        "expires_on": Formatting.dateTime(transaction.now + lifetime, locale: definition.locales.default)], in: transaction)
                    try await transaction.audit("recovery.temporary_password", targetKind: "user", targetId: String(userId))
                }
                return
            case .summaryEmail:
                if let userId = loaded.progress.userId, let user = try await transaction.user(id: userId), let email = user.email {
                    let customer = try await transaction.customer(id: user.customerId)
                    try await accounts.queueMail("registration_summary", to: email, values: [
                        "username": user.username, "customer_code": customer?.customerCode ?? "",
                        "summary_note": step.message?.resolve(definition.locales.default) ?? ""], in: transaction)
                }
                return
            default:
                return
            }
        }
    }

    /// E-mails a single-use link for the current step; the link names this flow state.
    func sendLink(purpose: String, kind: String, step: FlowStep, loaded: inout FlowController.Loaded,
                  in transaction: TenantTransaction) async throws {
        if loaded.record == nil { _ = try await FlowController(services: services).saveProgress(&loaded, in: transaction) }
        guard let stateId = loaded.record?.id else { return }
        var recipient = loaded.progress.email
        var username: String?
        if let userId = loaded.progress.userId, let user = try await transaction.user(id: userId) {
            recipient = user.email ?? recipient
            username = user.username
            try await transaction.revokeTokens(userId: userId, purpose: purpose)
        }
        if let targets = step.deliverTo, !targets.isEmpty {
            // `deliver_to:` the first contact available, in the order written; a contact on record proves the
            // customer, an address typed in the form proves only a mailbox.
            let customer = try await loaded.progress.customerId.asyncMap { try await transaction.customer(id: $0) } ?? nil
            var chosen: String?
            for target in targets {
                if target == .entered { chosen = loaded.progress.email } else if let customer { chosen = target.contact(on: customer) }
                if chosen != nil {
                    loaded.progress.sentTo = target.isOnRecord ? ContactMasking.email(chosen ?? "") : nil
                    break
                }
            }
            guard let chosen else { throw problem("_form", "no_contact_on_record", "error.no_contact_on_record") }
            recipient = chosen
            if loaded.progress.sentTo != nil { loaded.progress.email = chosen }
        }
        guard let recipient else { return }
        let lifetime = Int64(step.expires?.seconds ?? 86_400)
        let token = Secrets.token(using: services.random)
        try await transaction.insertToken(OneTimeTokenRecord(userId: loaded.progress.userId, purpose: purpose, tokenHash: token.hash,
                                                             createdAt: transaction.now, expiresAt: transaction.now + lifetime,
                                                             data: String(stateId)))
        if var record = loaded.record, record.expiresAt < transaction.now + lifetime {
            record.expiresAt = transaction.now + lifetime
            try await transaction.updateFlowState(record)
            loaded.record = record
        }
        let link = services.baseURL(for: tenant) + Routes.accessFlowLink.path(loaded.machine.flowId, query: ["t": token.plain])
        var values = ["link": link, "expires_on": Formatting.dateTime(transaction.now + lifetime, locale: definition.locales.default)]
        if let username { values["username"] = username }
        try await accounts.queueMail(kind, to: recipient, values: values, in: transaction)
    }

    /// The work a delivery to a real account does, for an identifier that has none, so the two answer in the
    /// same time: the same token revocation and insert (a random, never-sent token that opens nothing) and the
    /// same rendering, but no e-mail (an unknown identifier gets nothing, like a barred one on the page).
    func decoyDelivery(kind: String, values: [String: String], in transaction: TenantTransaction) async throws {
        try await transaction.revokeTokens(userId: -1, purpose: "decoy")
        let token = Secrets.token(using: services.random)
        try await transaction.insertToken(OneTimeTokenRecord(userId: nil, purpose: "decoy", tokenHash: token.hash,
                                                             createdAt: transaction.now, expiresAt: transaction.now, usedAt: transaction.now))
        var all = values
        all["portal_url"] = services.baseURL(for: tenant)
        _ = try services.mail.compose(kind: kind, tenant: definition, locale: definition.locales.default,
                                      recipient: "decoy@invalid", values: all, createdAt: transaction.now)
    }

    // MARK: Completing the account

    /// Creates the account (registration) or stores the new password (recovery) once every input is in.
    func completeAccount(_ loaded: inout FlowController.Loaded, in transaction: TenantTransaction) async throws {
        let progress = loaded.progress
        let now = transaction.now
        if loaded.machine.flow.kind == .recovery {
            guard let userId = progress.userId, var user = try await transaction.user(id: userId) else { return }
            if let hash = progress.passwordHash {
                try await accounts.applyPassword(hash: hash, to: &user, in: transaction)
                try await transaction.audit("recovery.password_reset", targetKind: "user", targetId: String(userId))
                if let email = user.email { try await accounts.queueMail("password_changed", to: email, values: ["username": user.username], in: transaction) }
            }
            return
        }
        guard let role = progress.role ?? loaded.machine.flow.role else { return }
        var customerId = progress.customerId
        if customerId == nil, let draft = progress.customerDraft, let typeId = progress.customerType {
            let code = try await newCustomerCode(in: transaction)
            var customer = CustomerRecordDraft(customerType: typeId, values: draft).customerRecord(customerCode: code, createdAt: now)
            customer.id = nil
            let id = try await transaction.insertCustomer(customer)
            customerId = id
            // The tenant's own fields typed at customer_details (canonical, already validated).
            let own = CustomerDetailsFields.ownValues(draft, in: definition)
            if !own.isEmpty { try await transaction.setCustomFieldValues(own.mapValues { Optional($0) }, of: .customer(id)) }
            try await transaction.audit("customer.registered", targetKind: "customer", targetId: String(id))
        }
        guard let customerId, var customer = try await transaction.customer(id: customerId) else { return }
        if progress.customerId != nil {
            // What the registrant typed about a customer already on record (an optional phone at verify_customer,
            // a customer_details step after it) is stored, except the data the verification matched.
            var changes = progress.verifiedExtras ?? [:]
            if let draft = progress.customerDraft { changes.merge(draft) { $1 } }
            let matched = Set(loaded.machine.steps.filter { $0.step == .verifyCustomer }
                .flatMap { CustomerMatcher.formFields(for: $0.match ?? [], kind: nil, custom: definition.customerFields,
                                                      records: definition.records).map(\.name) })
            changes = changes.filter { !matched.contains($0.key) && !["tax_id", "tax_code", "vat_number"].contains($0.key) }
            let updated = CustomerRecordDraft(customerType: customer.customerType, values: changes).applied(to: customer)
            // The tenant's own fields are stored beside the record, only those whose value changes.
            let own = CustomerDetailsFields.ownValues(changes, in: definition)
            let stored = own.isEmpty ? [:] : try await transaction.customFieldValues(of: .customer(customerId))
            let ownChanged = own.filter { stored[$0.key] != $0.value }
            if updated != customer || !ownChanged.isEmpty {
                if updated != customer { try await transaction.updateCustomer(updated) }
                if !ownChanged.isEmpty { try await transaction.setCustomFieldValues(ownChanged.mapValues { Optional($0) }, of: .customer(customerId)) }
                try await transaction.audit("customer.updated_at_registration", targetKind: "customer", targetId: String(customerId),
                                            detail: changes.keys.sorted().joined(separator: ","))
                customer = updated
            }
        }
        if let refusal = try await cardinalityRefusal(role: role, customer: customer, in: transaction) { throw refusal }
        let currentStep = loaded.machine.steps.last { [.credentials, .firstLoginCredentials].contains($0.step) }
        let key = storedUsernameKey(progress, step: currentStep)
        if try await transaction.user(usernameKey: key) != nil {
            throw problem(currentStep?.username == .email ? "email" : "username", "taken", "error.username_taken")
        }
        let toggles = definition.roles[role]?.toggles?.compactMap { id, toggle in (toggle.default ?? false) ? id : nil } ?? []
        var user = UserRecord(customerId: customerId, username: progress.username ?? progress.email ?? "", usernameKey: key,
                              email: progress.email,
                              firstName: progress.invitationId != nil ? progress.firstName : (customer.firstName ?? customer.legalRepFirstName),
                              lastName: progress.invitationId != nil ? progress.lastName : (customer.lastName ?? customer.legalRepLastName),
                              passwordHash: progress.passwordHash,
                              role: role, toggles: toggles, creatorUserId: progress.creatorUserId, status: .active,
                              securityQuestion: progress.securityQuestion, securityAnswerHash: progress.securityAnswerHash,
                              createdAt: now, passwordChangedAt: now, locale: locale)
        // A flow that proved the address (a link or code it sent, an invitation e-mailed to it) verifies it: the
        // `verify_email` required action will not ask again.
        if loaded.progress.emailVerified, let email = user.email, !email.isEmpty,
           email.lowercased() == loaded.progress.email?.lowercased() {
            user.markEmailVerified(at: now)
        }
        user.id = try await transaction.insertUser(user)
        loaded.progress.userId = user.id
        loaded.progress.customerId = customerId
        if let invitationId = progress.invitationId, var invitation = try await transaction.invitation(id: invitationId) {
            invitation.acceptedAt = now
            try await transaction.updateInvitation(invitation)
        }
        try await transaction.audit("registration.completed", actorUserId: user.id, targetKind: "user", targetId: String(user.id ?? 0),
                                    detail: "flow \(loaded.machine.flowId), role \(role)")
        try await transaction.recordEvent(.registrationCompleted(user, flow: loaded.machine.flowId, newCustomer: progress.customerId == nil,
                                                                 invitationId: progress.invitationId))
        if !loaded.machine.has(.summaryEmail), let email = user.email {
            try await accounts.queueMail("registration_completed", to: email, values: ["username": user.username], in: transaction)
        }
    }

    private func newCustomerCode(in transaction: TenantTransaction) async throws -> String {
        for _ in 0..<10 {
            let code = "\(tenant.id.prefix(3).uppercased())-\(services.random.digits(8))"
            if try await transaction.customer(code: code) == nil { return code }
        }
        throw PortalError.badRequest("customer code")
    }
}

extension FlowController {
    /// Saves progress inside `transaction`; returns the cookie to set when the state is new.
    func saveProgress(_ loaded: inout Loaded, in transaction: TenantTransaction) async throws -> Cookie? {
        let data = String(decoding: try JSONEncoder().encode(loaded.progress), as: UTF8.self)
        if var record = loaded.record {
            record.data = data
            record.updatedAt = transaction.now
            if loaded.machine.isFinished(loaded.progress) { record.completedAt = transaction.now }
            try await transaction.updateFlowState(record)
            loaded.record = record
            return nil
        }
        let secret = Secrets.token(using: services.random)
        var record = FlowStateRecord(tokenHash: secret.hash, flow: loaded.machine.flowId, data: data, createdAt: transaction.now,
                                     updatedAt: transaction.now, expiresAt: transaction.now + Self.flowLifetime)
        record.id = try await transaction.insertFlowState(record)
        loaded.record = record
        let cookie = flowCookie(secret.plain, flowId: loaded.machine.flowId)
        loaded.issuedCookie = cookie
        return cookie
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        switch self {
        case .some(let value): try await transform(value)
        case .none: nil
        }
    }
}

/// The fields a `customer_details` step collects for one customer type: the catalogue's (`CustomerDetailsForm`) and
/// the tenant's own `customer_fields`, named in the step's `fields`/`optional_fields` or in the type's
/// `required_fields`/`optional_fields`, each shown where it is listed, with its label, help, input type and length,
/// and checked by its validators (messages in the customer's language). Their canonical values join the draft under
/// their field ids and are stored as custom field values when the account is created.
struct CustomerDetailsFields {
    /// One of the tenant's own fields on the form.
    struct Custom {
        var id: String
        var definition: FieldDefinition
        var required: Bool
        /// How many catalogue inputs come before it.
        var position: Int
    }

    /// The step's lists and the type without the tenant's own fields: what `CustomerDetailsForm` handles.
    let fields: [String]
    let optionalFields: [String]
    let type: CustomerType
    let custom: [Custom]

    init(step: FlowStep, type: CustomerType, definition: TenantDefinition) {
        let own = definition.customerFields ?? OrderedMap()
        let stepFields = step.fields ?? [], stepOptional = step.optionalFields ?? []
        fields = stepFields.filter { own[$0] == nil }
        optionalFields = stepOptional.filter { own[$0] == nil }
        var catalogueType = type
        catalogueType.requiredFields = type.requiredFields.filter { own[$0] == nil }
        catalogueType.optionalFields = type.optionalFields?.filter { own[$0] == nil }
        self.type = catalogueType
        // In the order the inputs are built: the step's required, its optional, the type's required, its optional.
        let listed = stepFields.map { ($0, true) } + stepOptional.map { ($0, false) }
            + type.requiredFields.map { ($0, true) } + (type.optionalFields ?? []).map { ($0, false) }
        let typeRequired = Set(type.requiredFields)
        var bare = catalogueType
        bare.requiredFields = []
        bare.optionalFields = nil
        let allInputs = CustomerDetailsForm.inputs(fields: fields, optionalFields: optionalFields, type: catalogueType).map(\.name)
        var custom: [Custom] = []
        for (index, (name, required)) in listed.enumerated() {
            guard let field = own[name] else { continue }
            let isRequired = required || typeRequired.contains(name) || field.isRequired
            if let existing = custom.firstIndex(where: { $0.id == name }) {
                custom[existing].required = custom[existing].required || isRequired
                continue
            }
            // After the catalogue inputs of the names listed before it (those are a prefix of the built inputs).
            let before = Set(CustomerDetailsForm.inputs(fields: listed[..<index].map(\.0).filter { own[$0] == nil }, optionalFields: [],
                                                        type: bare).map(\.name))
            custom.append(Custom(id: name, definition: field, required: isRequired,
                                 position: allInputs.prefix { before.contains($0) }.count))
        }
        self.custom = custom
    }

    /// The form's inputs, catalogue and own fields in the order they are listed.
    var inputs: [FormInput] {
        var inputs = CustomerDetailsForm.inputs(fields: fields, optionalFields: optionalFields, type: type)
        for field in custom.reversed() {
            inputs.insert(field.definition.formInput(name: field.id, required: field.required), at: min(field.position, inputs.count))
        }
        return inputs
    }

    /// Validates every input at once; the draft holds the catalogue's normalised values and the own fields'
    /// canonical ones. Problems come in the order of the inputs.
    func validate(_ entered: [String: String], typeId: String, in context: FieldContext) -> Result<CustomerRecordDraft, FieldProblems> {
        var problems: [FieldProblem] = []
        var draft = CustomerRecordDraft(customerType: typeId, values: [:])
        switch CustomerDetailsForm.validate(entered, fields: fields, optionalFields: optionalFields, type: type, typeId: typeId) {
        case .success(let catalogue): draft = catalogue
        case .failure(let found): problems += found.problems
        }
        for field in custom {
            var definition = field.definition
            if field.required { definition.required = true }
            switch definition.validate(entered[field.id], field: field.id, in: context) {
            case .success(let value): if let value { draft.values[field.id] = value.canonical }
            case .failure(let found): problems += found.problems
            }
        }
        guard problems.isEmpty else {
            let order = Dictionary(inputs.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
            let sorted = problems.enumerated().sorted { (order[$0.element.field] ?? .max, $0.offset) < (order[$1.element.field] ?? .max, $1.offset) }
            return .failure(FieldProblems(sorted.map(\.element)))
        }
        return .success(draft)
    }

    /// The own fields' values in `values` (a draft, or what `verify_customer` collected), by field id.
    static func ownValues(_ values: [String: String], in definition: TenantDefinition) -> [String: String] {
        guard let own = definition.customerFields else { return [:] }
        return values.filter { own[$0.key] != nil }
    }
}
