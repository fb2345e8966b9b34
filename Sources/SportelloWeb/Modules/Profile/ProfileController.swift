import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// The profile pages and their `/api/v1` operations: the user's own data and the customer record
/// (`/profile`), invoice delivery and payment method (`/profile/billing`).
struct ProfileController: ModuleController {
    let services: PortalServices

    static let pages: [PortalPage] = [
        PortalPage(route: Routes.profile, titleKey: "profile.title",
                   features: [ProfileFeatures.ownData, ProfileFeatures.customerView, ProfileFeatures.customerEdit,
                              ProfileFeatures.companyView, ProfileFeatures.communicationsEmail, ProfileFeatures.registeredOffice]),
        PortalPage(route: Routes.profileBilling, titleKey: "profile.billing.title",
                   features: [ProfileFeatures.deliveryAndPayment, ProfileFeatures.paperless, ProfileFeatures.directDebit,
                              ProfileFeatures.shippingAddress]),
    ]

    static var profilePage: PortalPage { pages[0] }
    static var billingPage: PortalPage { pages[1] }

    /// Request forms the profile pages record (they are not YAML forms: the provider's staff handles them).
    enum RequestForm {
        static let customerData = "customer_data_change"
        static let billing = "billing_change"
        static let shipping = "invoice_shipping_address"
        static let all = [customerData, billing, shipping]
    }

    static let apiOperations: [APIOperation] = [
        APIOperation("GET", Routes.profile, summary: "The user's own data and the customer record, with what the user may change",
                     success: (200, "Profile"), page: pages[0]),
        APIOperation("PATCH", Routes.profile, summary: "Change the user's own data and/or the customer record (only the fields sent; "
                     + "the tenant's own fields by their id, as `user.fields` and `customer.fields` name them); "
                     + "where the user may only ask for a change, a change request is recorded instead",
                     requestBody: "ProfileUpdate", success: (200, "Profile"), page: pages[0]),
        APIOperation("GET", Routes.profileBilling, summary: "Invoice delivery, payment method (masked IBAN) and invoice shipping address",
                     success: (200, "BillingSettings"), page: pages[1]),
        APIOperation("PUT", Routes.profileBilling, summary: "Change invoice delivery, payment method (SEPA direct debit with IBAN) "
                     + "or request a new invoice shipping address; parts left out are not changed",
                     requestBody: "BillingUpdate", success: (200, "BillingSettings"), page: pages[1]),
    ]

    static let apiSchemas: [String: JSONSchema] = [
        "Profile": .object([
            "user": .reference("ProfileUser"),
            "customer": .nullable(.reference("ProfileCustomer")),
            "links": .object(["password_change": .string(), "billing": .nullable(.string()), "notifications": .nullable(.string())],
                             required: ["password_change"]),
        ], required: ["user", "customer", "links"]),
        "ProfileUser": .object([
            "username": .string(), "first_name": .nullable(.string()), "last_name": .nullable(.string()),
            "email": .nullable(.string(format: "email")),
            "email_is_username": .boolean, "editable": .boolean,
            "fields": .array(.reference("ProfileField")),
        ], required: ["username", "email_is_username", "editable", "fields"]),
        "ProfileCustomer": .object([
            "code": .string(), "type": .string(), "type_label": .string(),
            "change_mode": .enumeration(["direct", "request", "read_only"]),
            "change_hint": .nullable(.string(description: "The tenant's hint for the immutable fields, in the request's language")),
            "fields": .array(.reference("ProfileField")),
            "pending_requests": .array(.reference("ChangeRequest")),
        ], required: ["code", "type", "type_label", "change_mode", "fields", "pending_requests"]),
        "ProfileField": .object([
            "name": .string(), "label": .string(), "value": .nullable(.string()), "required": .boolean,
            "editable": .boolean, "immutable": .boolean,
        ], required: ["name", "label", "value", "required", "editable", "immutable"]),
        "ChangeRequest": .object([
            "id": .integer, "form": .string(), "subject": .string(), "status": .string(),
            "created_at": .integer, "fields": .array(.string()),
        ], required: ["id", "form", "subject", "status", "created_at", "fields"]),
        "ProfileUpdate": updateSchema(for: nil),
        "BillingSettings": .object([
            "invoice_delivery": .nullable(.object([
                "value": .string(), "options": .array(.reference("BillingOption")),
                "change_mode": .enumeration(["direct", "request", "read_only"]),
            ], required: ["value", "options", "change_mode"])),
            "payment_method": .nullable(.object([
                "value": .string(), "options": .array(.reference("BillingOption")),
                "iban_masked": .nullable(.string(description: "Country, check digits and last four characters")),
                "change_mode": .enumeration(["direct", "request", "read_only"]),
            ], required: ["value", "options", "change_mode"])),
            "shipping_address": .nullable(.object([
                "editable": .boolean, "current": .nullable(.string(description: "The customer's address on record")),
            ], required: ["editable"])),
            "pending_requests": .array(.reference("ChangeRequest")),
        ], required: ["pending_requests"]),
        "BillingOption": .object(["value": .string(), "label": .string()], required: ["value", "label"]),
        "BillingUpdate": .object([
            "invoice_delivery": .enumeration(BillingPolicy.allDeliveryOptions),
            "payment_method": .enumeration(BillingPolicy.allPaymentOptions),
            "iban": .string(description: "Required with `sepa` unless an IBAN is already on record"),
            "sepa_mandate_accepted": .boolean,
            "shipping_address": .object(["recipient": .string(), "street": .string(), "postal_code": .string(), "city": .string(),
                                         "province": .string()], required: ["street", "postal_code", "city", "province"]),
        ]),
    ]

    /// `ProfileUpdate` for a tenant: the user's own data with the tenant's `user_fields:`, the customer record with its
    /// `customer_fields:` (each by id, a text in the form its type takes; `null` clears it). Without a tenant, the
    /// catalogue's fields only.
    static func updateSchema(for definition: TenantDefinition?) -> JSONSchema {
        let locale = definition?.locales.default ?? "en"
        func own(_ field: FieldDefinition, of owner: String) -> JSONSchema {
            let format: String? = switch field.type {
            case .date: "date"
            case .email: "email"
            default: nil
            }
            var description = "\(field.label.resolve(locale)): the tenant's own \(owner) field (\(field.type.rawValue))"
            if field.type == .enumeration, let options = field.options { description += "; one of " + options.keys.joined(separator: ", ") }
            if field.type == .boolean { description += "; true or false" }
            return .nullable(.string(format: format, description: description))
        }
        var user: [String: JSONSchema] = ["first_name": .string(), "last_name": .string(), "email": .string(format: "email"),
                                          "current_password": .string(format: "password", description: "Needed to change the e-mail")]
        for (id, field) in definition?.userFields ?? OrderedMap() { user[id] = own(field, of: "user") }
        var customer = Dictionary(uniqueKeysWithValues: customerFieldNames.map { ($0, JSONSchema.nullable(.string())) })
        for (id, field) in definition?.customerFields ?? OrderedMap() { customer[id] = own(field, of: "customer") }
        return .object(["user": .object(user), "customer": .object(customer)])
    }

    /// The schemas that differ per tenant (listed in that tenant's OpenAPI document): `ProfileUpdate` with its own fields.
    static func tenantSchemas(_ definition: TenantDefinition) -> [String: JSONSchema] {
        guard !(definition.userFields ?? OrderedMap()).isEmpty || !(definition.customerFields ?? OrderedMap()).isEmpty else { return [:] }
        return ["ProfileUpdate": updateSchema(for: definition)]
    }

    /// Every customer field the API accepts in `ProfileUpdate.customer`.
    static let customerFieldNames = [
        "first_name", "last_name", "company_name", "tax_code", "vat_number", "birth_date", "birth_place", "email",
        "communications_email", "phone", "mobile", "pec", "recipient_code", "street", "postal_code", "city", "province",
        "legal_rep_first_name", "legal_rep_last_name", "legal_rep_birth_date", "legal_rep_tax_code", "legal_rep_email",
        "legal_rep_mobile",
    ]

    func addRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.profile) { request, context in try await profilePage(request, context: context) }
        group.post(Routes.profileAccount) { request, context in try await postOwnData(request, context: context) }
        group.post(Routes.profileCustomer) { request, context in try await postCustomer(request, context: context) }
        group.get(Routes.profileBilling) { request, context in try await billingPage(request, context: context) }
        group.post(Routes.profileBilling) { request, context in try await postBilling(request, context: context) }
        group.get(Routes.profile.api) { _, context in try await apiProfile(context: context) }
        group.patch(Routes.profile.api) { request, context in try await apiPatchProfile(request, context: context) }
        group.get(Routes.profileBilling.api) { _, context in try await apiBilling(context: context) }
        group.put(Routes.profileBilling.api) { request, context in try await apiPutBilling(request, context: context) }
    }

    // MARK: Loading

    struct Snapshot {
        var user: UserRecord
        var customer: CustomerRecord
        var requests: [RequestRecord]
        /// The customer's values of the tenant's own fields.
        var customValues: [String: String]
        /// The user's values of the tenant's own user fields.
        var userValues: [String: String]
    }

    func snapshot(_ context: UserContext) async throws -> Snapshot {
        let userId = context.user.id ?? 0, customerId = context.customer.id ?? 0
        return try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
            guard let user = try await transaction.user(id: userId), let customer = try await transaction.customer(id: customerId),
                  user.customerId == customerId else { throw PortalError.loginRequired }
            let requests = try await transaction.requests(customerId: customerId, forms: RequestForm.all)
            let customValues = try await transaction.customFieldValues(of: .customer(customerId))
            let userValues = try await transaction.customFieldValues(of: .user(userId))
            return Snapshot(user: user, customer: customer, requests: requests, customValues: customValues, userValues: userValues)
        }
    }

    // MARK: Changing the profile

    struct ProfileOutcome {
        var ownChanged = false
        var emailChanged = false
        /// Whether any of the tenant's own user fields changed.
        var userFieldsChanged = false
        var customerChanges: [CustomerDataPolicy.Change] = []
        var requestId: Int64?
    }

    /// Checks and applies a change of the own data (with the tenant's own user fields, `userFields` by id) and/or the
    /// customer record. Problems name the fields as `user.<name>` and `customer.<name>`; nothing is written unless
    /// every part is valid.
    func changeProfile(context: UserContext, own: OwnDataPolicy.Update?, userFields submittedUserFields: [String: String]? = nil,
                       customer submitted: [String: String]?,
                       rejectUnknown: Bool, earlier: [FieldProblem] = []) async throws -> Result<ProfileOutcome, FieldProblems> {
        let theme = context.tenant.theme
        let current = try await snapshot(context)
        var problems = FieldProblems()
        var ownResult: OwnDataPolicy.Validated?
        let ownPolicy = OwnDataPolicy(context: context, user: current.user)
        if let own {
            switch ownPolicy.validate(own, theme: theme) {
            case .success(let validated):
                ownResult = validated
                if validated.emailChanged {
                    let matches = try await services.passwords.verify(own.currentPassword ?? "",
                                                                      against: current.user.passwordHash ?? services.passwords.decoyHash)
                    if !matches {
                        problems.append(CustomerDataPolicy.problem("current_password", "wrong_password", "password.current_wrong", theme: theme))
                    }
                }
            case .failure(let found):
                problems.append(contentsOf: found.problems)
            }
        }
        problems = FieldProblems(earlier + problems.problems.map { FieldProblem(field: "user.\($0.field)", code: $0.code, message: $0.message) })
        var userChanges: [CustomerDataPolicy.Change] = []
        if let submittedUserFields, !submittedUserFields.isEmpty {
            let userPolicy = UserFieldsPolicy(context: context, values: current.userValues, now: services.now)
            switch userPolicy.validate(submittedUserFields, locale: context.locale, theme: theme) {
            case .success(let found): userChanges = found
            case .failure(let found):
                problems.append(contentsOf: found.problems.map { FieldProblem(field: "user.\($0.field)", code: $0.code, message: $0.message) })
            }
        }
        let customerPolicy = CustomerDataPolicy(context: context, customer: current.customer, customValues: current.customValues, now: services.now)
        var changes: [CustomerDataPolicy.Change] = []
        if let submitted {
            if !customerPolicy.visible {
                for name in submitted.keys.sorted() {
                    problems.append(CustomerDataPolicy.problem("customer.\(name)", "read_only", "profile.error.read_only", theme: theme))
                }
            } else {
                switch customerPolicy.validate(submitted, locale: context.locale, theme: theme, rejectUnknown: rejectUnknown) {
                case .success(let found): changes = found
                case .failure(let found):
                    problems.append(contentsOf: found.problems.map { FieldProblem(field: "customer.\($0.field)", code: $0.code, message: $0.message) })
                }
            }
        }
        guard problems.isEmpty else { return .failure(problems) }

        let tenant = context.tenant
        let accounts = Accounts(services: services, tenant: tenant)
        let actor = current.user.id
        let locale = context.locale
        let ownChanged = ownResult.map { result in
            result.firstName != (current.user.firstName ?? "") || result.lastName != (current.user.lastName ?? "") || result.emailChanged
                || result.email != (current.user.email ?? "")
        } ?? false
        var outcome = ProfileOutcome(ownChanged: ownChanged, emailChanged: ownResult?.emailChanged ?? false,
                                     userFieldsChanged: !userChanges.isEmpty, customerChanges: changes)
        guard ownChanged || !userChanges.isEmpty || !changes.isEmpty else { return .success(outcome) }
        let requestSubject = Self.changeSubject(fields: changes.map(\.field), inputs: customerPolicy.inputs, tenant: tenant)
        let (validatedOwn, customerChanges, userFieldChanges) = (ownResult, changes, userChanges)
        if let result = ownResult, result.emailChanged || result.email != (current.user.email ?? "") {
            try await MailLimits(services: services.application, tenant: tenant.served)
                .spend(.emailChange, userId: actor, customerId: current.customer.id ?? 0, recipient: result.email)
        }
        do {
            outcome.requestId = try await services.database.write(tenant: tenant.id, now: services.now) { transaction -> Int64? in
                guard var user = try await transaction.user(id: current.user.id ?? 0),
                      var customer = try await transaction.customer(id: current.customer.id ?? 0),
                      user.customerId == customer.id else { throw PortalError.loginRequired }
                var changedFields: [String] = []
                if let result = validatedOwn, ownChanged {
                    let oldEmail = user.email
                    if result.firstName != (user.firstName ?? "") { changedFields.append("first_name") }
                    if result.lastName != (user.lastName ?? "") { changedFields.append("last_name") }
                    if result.email != (user.email ?? "") { changedFields.append("email") }
                    user.firstName = result.firstName
                    user.lastName = result.lastName
                    let usernameChanges = result.emailChanged && ownPolicy.emailIsUsername
                    if usernameChanges {
                        let key = ownPolicy.usernameKey(for: result.email)
                        if try await transaction.usernameKeyTaken(key, exceptUserId: user.id ?? 0) {
                            throw FieldProblems([CustomerDataPolicy.problem("user.email", "email_taken", "profile.error.email_taken", theme: theme)])
                        }
                        user.username = result.email
                        user.usernameKey = key
                    }
                    user.email = result.email
                    try await transaction.updateUser(user)
                    if !userFieldChanges.isEmpty { try await Self.saveUserFields(userFieldChanges, of: user, in: transaction, changed: &changedFields) }
                    try await transaction.audit("profile.updated", actorUserId: actor, targetKind: "user", targetId: String(user.id ?? 0),
                                                detail: "fields: " + changedFields.joined(separator: ", "))
                    if result.emailChanged {
                        try await transaction.audit("profile.email_changed", actorUserId: actor, targetKind: "user",
                                                    targetId: String(user.id ?? 0),
                                                    detail: usernameChanges ? "the e-mail is the username: login name changed too" : nil)
                        let values = ["username": user.username, "new_email_masked": Self.maskEmail(result.email),
                                      "username_changed": usernameChanges ? "1" : ""]
                        if let oldEmail, !oldEmail.isEmpty {
                            try await accounts.queueMail("profile_email_changed", to: oldEmail, values: values, locale: locale, in: transaction)
                        }
                        try await accounts.queueMail("profile_email_added", to: result.email, values: values, locale: locale, in: transaction)
                    }
                } else if !userFieldChanges.isEmpty {
                    try await Self.saveUserFields(userFieldChanges, of: user, in: transaction, changed: &changedFields)
                    try await transaction.audit("profile.updated", actorUserId: actor, targetKind: "user", targetId: String(user.id ?? 0),
                                                detail: "fields: " + changedFields.joined(separator: ", "))
                }
                guard !customerChanges.isEmpty else { return nil }
                let fieldList = customerChanges.map(\.field).joined(separator: ", ")
                switch customerPolicy.mode {
                case .direct:
                    var customValues: [String: String?] = [:]
                    for change in customerChanges {
                        if customerPolicy.isCustom(change.field) { customValues[change.field] = change.new } else {
                            CustomerDataPolicy.set(change.field, change.new, on: &customer)
                        }
                    }
                    try await transaction.updateCustomer(customer)
                    if !customValues.isEmpty { try await transaction.setCustomFieldValues(customValues, of: .customer(customer.id ?? 0)) }
                    try await transaction.audit("customer_data.updated", actorUserId: actor, targetKind: "customer",
                                                targetId: String(customer.id ?? 0), detail: "fields: " + fieldList)
                    return nil
                case .request:
                    let payload = Self.payload(customerChanges.map { ($0.field, $0.old, $0.new) })
                    let id = try await transaction.insertRequest(RequestRecord(
                        customerId: customer.id ?? 0, userId: user.id, form: RequestForm.customerData, formGroup: "profile",
                        subject: requestSubject, payload: payload, createdAt: transaction.now))
                    try await transaction.audit("customer_data.change_requested", actorUserId: actor, targetKind: "request",
                                                targetId: String(id), detail: "fields: " + fieldList)
                    return id
                case .readOnly:
                    throw PortalError.forbidden(feature: ProfileFeatures.customerEdit)
                }
            }
        } catch let found as FieldProblems {
            return .failure(found)
        }
        if outcome.emailChanged { services.mailQueued() }
        return .success(outcome)
    }

    /// Stores the changed values of the tenant's own user fields and adds their ids to `changed` (the audit names
    /// fields, never values).
    static func saveUserFields(_ changes: [CustomerDataPolicy.Change], of user: UserRecord, in transaction: TenantTransaction,
                               changed: inout [String]) async throws {
        var values: [String: String?] = [:]
        for change in changes { values[change.field] = change.new }
        try await transaction.setCustomFieldValues(values, of: .user(user.id ?? 0))
        changed += changes.map(\.field)
    }

    /// `mario.rossi@example.it` → `m***i@example.it`: enough to recognise, not to read off an old mailbox.
    static func maskEmail(_ email: String) -> String {
        let parts = email.split(separator: "@", maxSplits: 1)
        guard parts.count == 2, let first = parts[0].first else { return "***" }
        let last = parts[0].count > 1 ? String(parts[0].last!) : ""
        return "\(first)***\(last)@\(parts[1])"
    }

    static func payload(_ changes: [(String, String?, String?)]) -> String {
        var object: [String: Any] = [:]
        for (field, old, new) in changes { object[field] = ["from": old ?? NSNull(), "to": new ?? NSNull()] as [String: Any] }
        let data = (try? JSONSerialization.data(withJSONObject: ["changes": object], options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// The subject of a change request, in the tenant's default language (staff read it): the fields' labels.
    static func changeSubject(fields: [String], inputs: [FormInput], tenant: PortalTenant) -> String {
        let locale = tenant.definition.locales.default
        let labels = fields.map { field in inputs.first { $0.name == field }?.label.resolve(locale) ?? field }
        return tenant.theme.text("profile.request.subject_customer", locale: locale, ["fields": labels.joined(separator: ", ")])
    }

    /// The fields a stored change request names (from its JSON payload).
    static func requestFields(_ request: RequestRecord) -> [String] {
        guard let data = request.payload.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [] }
        if let changes = object["changes"] as? [String: Any] { return changes.keys.sorted() }
        return object.keys.filter { $0 != "note" }.sorted()
    }

    // MARK: Pages

    private func profilePage(_ request: Request, context: UserContext) async throws -> Response {
        try context.require(page: Self.profilePage)
        var notice: String?
        if let done = request.uri.queryParameters["done"], ["account", "email", "customer", "requested", "unchanged"].contains(String(done)) {
            notice = context.tenant.theme.text("profile.notice.\(done)", locale: context.locale)
        }
        return try await renderProfile(context: context, snapshot: try await snapshot(context), ownForm: nil, customerForm: nil,
                                       problems: [], notice: notice)
    }

    /// A problem in a form's summary, linking to its field.
    struct ProblemLink: Encodable { var message, href: String }

    /// A pending change request as the profile pages list it.
    struct RequestRow: Encodable { var id, subject, date, status: String }

    /// What the profile page shows: the user's own data, and the customer record when the user may see it.
    struct ProfilePageModel: Encodable {
        struct Input: Encodable {
            var name, id, label, type, autocomplete: String
            var required: Bool
            var value: String
            var maxlength, hint, error: String?
            /// The choices of an `enum` or `boolean` field of the tenant's own, shown as a `<select>`.
            var options: [FieldChoices.Option]? = nil
            var select = false
        }
        struct Fact: Encodable {
            var label, value: String
            var immutable: Bool?
            var id, error: String?
        }
        struct Customer: Encodable {
            var facts: [Fact]
            var inputs: [Input]
            var editing, modeRequest, hasErrors: Bool
            var errorList: [ProblemLink]
            var changeHint, readonlyHint: String?
            var pending: [RequestRow]
            var hasPending: Bool
        }
        var username: String
        var ownEditable: Bool
        var ownInputs: [Input]
        var ownFacts: [Fact]
        var emailIsUsername, ownHasErrors: Bool
        var ownErrorList: [ProblemLink]
        /// The tenant's hint for changing an immutable field, when one of the user's own fields is.
        var ownChangeHint: String?
        var notice: String?
        var customer: Customer?
        var links: ProfileJSON.Links
    }

    private func renderProfile(context: UserContext, snapshot: Snapshot, ownForm: SubmittedForm?, customerForm: SubmittedForm?,
                               problems: [FieldProblem], notice: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
        typealias Model = ProfilePageModel
        let theme = context.tenant.theme
        let locale = context.locale
        func t(_ key: String, _ values: [String: String] = [:]) -> String { theme.text(key, locale: locale, values) }
        var errors: [String: String] = [:]
        for problem in problems where errors[problem.field] == nil { errors[problem.field] = problem.message.resolve(locale) }
        let definition = context.tenant.definition
        let own = OwnDataPolicy(context: context, user: snapshot.user)
        let user = snapshot.user

        func ownInput(_ name: String, label: String, type: String, autocomplete: String, value: String?, required: Bool,
                      hint: String? = nil) -> Model.Input {
            let password = name == "current_password"
            return Model.Input(name: password ? name : "user_\(name)", id: password ? "f-\(name)" : "f-user_\(name)", label: label, type: type,
                               autocomplete: autocomplete, required: required,
                               value: password ? "" : ownForm?["user_\(name)"] ?? value ?? "", hint: hint, error: errors["user.\(name)"])
        }
        // The tenant's own user fields: inputs after the name when the user may change them, else facts.
        let userFields = UserFieldsPolicy(context: context, values: snapshot.userValues, now: services.now).fields
        var userFieldInputs: [Model.Input] = []
        var userFieldFacts: [Model.Fact] = []
        for state in userFields {
            let name = "user_\(state.id)"
            let error = errors["user.\(state.id)"]
            if state.editable && own.editable {
                let value = ownForm?[name] ?? state.value ?? ""
                let options = FieldChoices.options(state.field, value: value, required: state.input.required, locale: locale)
                userFieldInputs.append(.init(name: name, id: "f-\(name)", label: state.input.label.resolve(locale), type: state.input.type,
                                             autocomplete: "off", required: state.input.required, value: value,
                                             maxlength: state.input.maxLength.map { String($0) }, hint: state.input.hint?.resolve(locale),
                                             error: error, options: options, select: options != nil))
            } else {
                let shown = UserFieldsPolicy.display(state, locale: locale)
                userFieldFacts.append(.init(label: state.input.label.resolve(locale), value: shown.isEmpty ? "—" : shown,
                                            immutable: state.immutable, id: "f-\(name)", error: error))
            }
        }
        var ownInputs: [Model.Input] = []
        if own.editable {
            ownInputs = [
                ownInput("first_name", label: t("profile.user.first_name"), type: "text", autocomplete: "given-name", value: user.firstName, required: true),
                ownInput("last_name", label: t("profile.user.last_name"), type: "text", autocomplete: "family-name", value: user.lastName, required: true),
            ] + userFieldInputs + [
                ownInput("email", label: t("profile.user.email"), type: "email", autocomplete: "email", value: user.email, required: true,
                         hint: own.emailIsUsername ? t("profile.user.email_is_username") : t("profile.user.email_hint")),
                ownInput("current_password", label: t("profile.user.current_password"), type: "password", autocomplete: "current-password",
                         value: nil, required: false, hint: t("profile.user.current_password_hint")),
            ]
        }
        let ownProblems = problems.filter { $0.field.hasPrefix("user.") }
        var model = Model(
            username: user.username,
            ownEditable: own.editable,
            ownInputs: ownInputs,
            ownFacts: own.editable ? userFieldFacts : [
                .init(label: t("profile.user.name"), value: [user.firstName, user.lastName].compactMap { $0 }.joined(separator: " ")),
                .init(label: t("profile.user.email"), value: user.email ?? "—"),
            ] + userFieldFacts,
            emailIsUsername: own.emailIsUsername,
            ownHasErrors: !ownProblems.isEmpty,
            ownErrorList: ownProblems.map { problem in
                ProblemLink(message: problem.message.resolve(locale),
                            href: "#f-\(problem.field == "user.current_password" ? "current_password" : problem.field.replacingOccurrences(of: ".", with: "_"))")
            },
            ownChangeHint: userFields.contains(where: \.immutable) ? definition.fieldPolicies?.changeHint?.resolve(locale) : nil,
            notice: notice,
            links: links(context))

        let policy = CustomerDataPolicy(context: context, customer: snapshot.customer, customValues: snapshot.customValues, now: services.now)
        if policy.visible {
            let customer = snapshot.customer
            let editing = policy.hasEditable
            var facts = [Model.Fact(label: t("profile.customer.code"), value: customer.customerCode)]
            if let type = definition.customerTypes[customer.customerType] {
                facts.append(.init(label: t("profile.customer.type"), value: type.label.resolve(locale)))
            }
            var inputs: [Model.Input] = []
            for field in policy.fields {
                let label = field.input.label.resolve(locale)
                let error = errors["customer.\(field.input.name)"]
                let tenantField = definition.customerFields?[field.input.name]
                if editing && field.editable {
                    let value = customerForm?[field.input.name] ?? field.value ?? ""
                    let options = FieldChoices.options(tenantField, value: value, required: field.input.required, locale: locale)
                    inputs.append(.init(name: field.input.name, id: "f-\(field.input.name)", label: label, type: field.input.type,
                                        autocomplete: field.input.autocomplete ?? "off", required: field.input.required,
                                        value: value,
                                        maxlength: field.input.maxLength.map { String($0) }, hint: field.input.hint?.resolve(locale), error: error,
                                        options: options, select: options != nil))
                } else {
                    var shown = field.input.type == "date" ? Formatting.day(field.value) : field.value ?? ""
                    if let tenantField, let stored = field.value, let value = tenantField.value(fromCanonical: stored) {
                        shown = tenantField.display(value, locale: locale)
                    }
                    facts.append(.init(label: label, value: shown.isEmpty ? "—" : shown, immutable: field.immutable,
                                       id: "f-\(field.input.name)", error: error))
                }
            }
            let customerProblems = problems.filter { $0.field.hasPrefix("customer.") }
            var readonlyHint: String?
            if policy.mode == .readOnly || policy.fields.contains(where: { !$0.editable && !$0.immutable }) {
                readonlyHint = definition.contacts?.customerCare.map { t("profile.customer.readonly_hint_phone", ["phone": $0]) }
                    ?? t("profile.customer.readonly_hint")
            }
            let pending = snapshot.requests.filter { $0.form == RequestForm.customerData && $0.isOpen }.map { requestRow($0, locale: locale, theme: theme) }
            model.customer = .init(
                facts: facts, inputs: inputs, editing: editing && !inputs.isEmpty,
                modeRequest: policy.mode == .request,
                hasErrors: !customerProblems.isEmpty,
                errorList: customerProblems.map { ProblemLink(message: $0.message.resolve(locale), href: "#f-\($0.field.dropFirst("customer.".count))") },
                changeHint: policy.fields.contains(where: { $0.immutable }) ? definition.fieldPolicies?.changeHint?.resolve(locale) : nil,
                readonlyHint: readonlyHint,
                pending: pending, hasPending: !pending.isEmpty)
        }
        return Pages.render("profile", model, title: t("profile.title"), context: context, status: status)
    }

    func requestRow(_ request: RequestRecord, locale: String, theme: PortalTheme) -> RequestRow {
        RequestRow(id: String(request.id ?? 0), subject: request.subject, date: Formatting.date(request.createdAt, locale: locale),
                   status: theme.text("profile.request_status.\(request.status)", locale: locale))
    }

    private func links(_ context: UserContext) -> ProfileJSON.Links {
        var links = ProfileJSON.Links(passwordChange: Routes.passwordChange.path())
        if (try? context.require(page: Self.billingPage)) != nil { links.billing = Routes.profileBilling.path() }
        if let notifications = NotificationsController.pages.first, (try? context.require(page: notifications)) != nil {
            links.notifications = notifications.path
        }
        return links
    }

    private func postOwnData(_ request: Request, context: UserContext) async throws -> Response {
        try context.require(page: Self.profilePage)
        let form = try await SubmittedForm.read(request, context: context)
        let update = OwnDataPolicy.Update(firstName: form.fields["user_first_name"], lastName: form.fields["user_last_name"],
                                          email: form.fields["user_email"], currentPassword: form.fields["current_password"])
        var userFields: [String: String] = [:]
        for id in context.tenant.definition.userFields?.keys ?? [] {
            if let value = form.fields["user_\(id)"] { userFields[id] = value }
        }
        switch try await changeProfile(context: context, own: update, userFields: userFields, customer: nil, rejectUnknown: false) {
        case .success(let outcome):
            let done = outcome.emailChanged ? "email" : outcome.ownChanged || outcome.userFieldsChanged ? "account" : "unchanged"
            return Pages.redirect(Routes.profile.done(done))
        case .failure(let problems):
            return try await renderProfile(context: context, snapshot: try await snapshot(context), ownForm: form, customerForm: nil,
                                           problems: problems.problems, notice: nil, status: .unprocessableContent)
        }
    }

    private func postCustomer(_ request: Request, context: UserContext) async throws -> Response {
        try context.require(page: Self.profilePage)
        let form = try await SubmittedForm.read(request, context: context)
        var submitted: [String: String] = [:]
        let names = Self.customerFieldNames + (context.tenant.definition.customerFields?.keys ?? [])
        for name in names { if let value = form.fields[name] { submitted[name] = value } }
        switch try await changeProfile(context: context, own: nil, customer: submitted, rejectUnknown: false) {
        case .success(let outcome):
            let done = outcome.customerChanges.isEmpty ? "unchanged" : outcome.requestId != nil ? "requested" : "customer"
            return Pages.redirect(Routes.profile.done(done))
        case .failure(let problems):
            return try await renderProfile(context: context, snapshot: try await snapshot(context), ownForm: nil, customerForm: form,
                                           problems: problems.problems, notice: nil, status: .unprocessableContent)
        }
    }

    // MARK: API

    struct ProfileJSON: Encodable {
        struct User: Encodable {
            var username: String
            var firstName, lastName, email: String?
            var emailIsUsername: Bool
            var editable: Bool
            /// The tenant's own user fields (`user_fields:`) with the user's values.
            var fields: [Field]
        }
        struct Field: Encodable {
            var name, label: String
            var value: String?
            var required, editable, immutable: Bool

            enum CodingKeys: String, CodingKey { case name, label, value, required, editable, immutable }
            func encode(to encoder: Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(name, forKey: .name); try container.encode(label, forKey: .label)
                try container.encode(value, forKey: .value)   // null, not left out
                try container.encode(required, forKey: .required); try container.encode(editable, forKey: .editable)
                try container.encode(immutable, forKey: .immutable)
            }
        }
        struct Customer: Encodable {
            var code, type, typeLabel: String
            var changeMode: ChangeMode
            var changeHint: String?
            var fields: [Field]
            var pendingRequests: [ChangeRequestJSON]
        }
        struct Links: Encodable { var passwordChange: String; var billing: String? = nil; var notifications: String? = nil }
        var user: User
        var customer: Customer?
        var links: Links
    }

    struct ChangeRequestJSON: Encodable {
        var id: Int64
        var form, subject, status: String
        var createdAt: Int64
        var fields: [String]

        init(_ request: RequestRecord) {
            id = request.id ?? 0; form = request.form; subject = request.subject; status = request.status
            createdAt = request.createdAt; fields = ProfileController.requestFields(request)
        }
    }

    func profileJSON(context: UserContext, snapshot: Snapshot) -> ProfileJSON {
        let own = OwnDataPolicy(context: context, user: snapshot.user)
        let user = snapshot.user
        let policy = CustomerDataPolicy(context: context, customer: snapshot.customer, customValues: snapshot.customValues, now: services.now)
        let locale = context.locale
        var customer: ProfileJSON.Customer?
        if policy.visible {
            let definition = context.tenant.definition
            customer = .init(code: snapshot.customer.customerCode, type: snapshot.customer.customerType,
                             typeLabel: definition.customerTypes[snapshot.customer.customerType]?.label.resolve(locale) ?? snapshot.customer.customerType,
                             changeMode: policy.hasEditable ? policy.mode : .readOnly,
                             changeHint: definition.fieldPolicies?.changeHint?.resolve(locale),
                             fields: policy.fields.map { field in
                                 .init(name: field.input.name, label: field.input.label.resolve(locale), value: field.value,
                                       required: field.input.required, editable: field.editable && policy.mode != .readOnly,
                                       immutable: field.immutable)
                             },
                             pendingRequests: snapshot.requests.filter { $0.form == RequestForm.customerData && $0.isOpen }.map(ChangeRequestJSON.init))
        }
        let userFields = UserFieldsPolicy(context: context, values: snapshot.userValues, now: services.now).fields.map { state in
            ProfileJSON.Field(name: state.id, label: state.input.label.resolve(locale), value: state.value, required: state.input.required,
                              editable: state.editable, immutable: state.immutable)
        }
        return ProfileJSON(user: .init(username: user.username, firstName: user.firstName, lastName: user.lastName, email: user.email,
                                       emailIsUsername: own.emailIsUsername, editable: own.editable, fields: userFields),
                           customer: customer, links: links(context))
    }

    private func apiProfile(context: UserContext) async throws -> Response {
        try context.require(page: Self.profilePage)
        return API.json(profileJSON(context: context, snapshot: try await snapshot(context)))
    }

    private func apiPatchProfile(_ request: Request, context: UserContext) async throws -> Response {
        try context.require(page: Self.profilePage)
        let body = try await ProfileJSONBody.object(request, context: context)
        var problems = FieldProblems()
        let theme = context.tenant.theme
        for key in body.keys.sorted() where key != "user" && key != "customer" {
            problems.append(CustomerDataPolicy.problem(key, "unknown_field", "profile.error.unknown_field", theme: theme))
        }
        var own: OwnDataPolicy.Update?
        var userFields: [String: String]?
        if let raw = body["user"] {
            if let object = raw as? [String: Any] {
                var update = OwnDataPolicy.Update()
                for (key, value) in object.sorted(by: { $0.key < $1.key }) {
                    guard let text = ProfileJSONBody.string(value) else {
                        problems.append(CustomerDataPolicy.problem("user.\(key)", "invalid_type", "profile.error.invalid_type", theme: theme))
                        continue
                    }
                    switch key {
                    case "first_name": update.firstName = text
                    case "last_name": update.lastName = text
                    case "email": update.email = text
                    case "current_password": update.currentPassword = text
                    case "username":
                        problems.append(CustomerDataPolicy.problem("user.username", "read_only", "profile.error.username_read_only", theme: theme))
                    case _ where context.tenant.definition.userFields?[key] != nil:
                        userFields = (userFields ?? [:]).merging([key: text]) { _, new in new }
                    default:
                        problems.append(CustomerDataPolicy.problem("user.\(key)", "unknown_field", "profile.error.unknown_field", theme: theme))
                    }
                }
                // Only the tenant's own fields sent: the name and e-mail are left alone (and not checked again).
                let ownKeys: Set<String> = ["first_name", "last_name", "email", "current_password", "username"]
                if userFields == nil || object.keys.contains(where: ownKeys.contains) { own = update }
            } else {
                problems.append(CustomerDataPolicy.problem("user", "invalid_type", "profile.error.invalid_type", theme: theme))
            }
        }
        var customer: [String: String]?
        if let raw = body["customer"] {
            if let object = raw as? [String: Any] {
                var submitted: [String: String] = [:]
                for (key, value) in object {
                    guard let text = ProfileJSONBody.string(value) else {
                        problems.append(CustomerDataPolicy.problem("customer.\(key)", "invalid_type", "profile.error.invalid_type", theme: theme))
                        continue
                    }
                    submitted[key] = text
                }
                customer = submitted
            } else {
                problems.append(CustomerDataPolicy.problem("customer", "invalid_type", "profile.error.invalid_type", theme: theme))
            }
        }
        switch try await changeProfile(context: context, own: own, userFields: userFields, customer: customer, rejectUnknown: true,
                                       earlier: problems.problems) {
        case .success:
            return API.json(profileJSON(context: context, snapshot: try await snapshot(context)))
        case .failure(let found):
            throw PortalError.invalid(found.problems)
        }
    }
}

/// JSON bodies read field by field, so that every unknown field or wrong type is reported (a decoder
/// would stop at the first) — with the same CSRF rule as `API.decode`.
enum ProfileJSONBody {
    static func object(_ request: Request, context: UserContext) async throws -> [String: Any] {
        try API.checkCSRF(request, context: context)
        let buffer = try await request.body.collect(upTo: 256 * 1024)
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any] else {
            throw PortalError.badRequest("the body must be a JSON object")
        }
        return object
    }

    /// Whether a parsed JSON value is `true`/`false` (Foundation also lets the numbers 0 and 1 cast to Bool).
    static func isBoolean(_ value: Any) -> Bool { String(describing: type(of: value)).contains("Bool") }

    /// A JSON boolean, nil for anything else.
    static func bool(_ value: Any) -> Bool? { isBoolean(value) ? value as? Bool : nil }

    /// A JSON integer, nil for anything else (booleans and fractions included).
    static func integer(_ value: Any) -> Int? {
        guard !isBoolean(value), let number = value as? NSNumber, let int = value as? Int, Double(int) == number.doubleValue else { return nil }
        return int
    }

    /// A JSON string as text, `null` as empty (clears an optional field); anything else is not accepted.
    static func string(_ value: Any) -> String? {
        if value is NSNull { return "" }
        return value as? String
    }
}
