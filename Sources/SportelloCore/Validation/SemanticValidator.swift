import Foundation

/// Checks what a structurally valid definition means: references, cycles, exclusivity,
/// credentials in flows, cardinality, and policies below the platform floor.
struct SemanticValidator {
    let tenant: LoadedTenant
    /// The plugin manifests tenants may use (and ids known without a manifest).
    let plugins: PluginCatalogue
    let passwordFloor: Int
    let capabilities: CapabilityCatalogue
    /// The named checks field validators may use.
    let checks: FieldChecks
    /// The day relative date bounds and examples are checked on (nil: the day of loading).
    let today: CalendarDay?
    var diagnostics = DiagnosticBag()

    init(tenant: LoadedTenant, plugins: PluginCatalogue, passwordFloor: Int, capabilities: CapabilityCatalogue,
         checks: FieldChecks = .standard, today: CalendarDay? = nil) {
        self.tenant = tenant
        self.plugins = plugins
        self.passwordFloor = passwordFloor
        self.capabilities = capabilities
        self.checks = checks
        self.today = today
    }

    var definition: TenantDefinition { tenant.definition }
    func at(_ path: String) -> SourceLocation { tenant.locations.value(path) }
    func key(_ path: String) -> SourceLocation { tenant.locations.key(path) }

    mutating func run() {
        checkIdentity()
        checkTimeZone()
        checkCustomFields()
        checkRecordKinds()
        checkCustomerTypes()
        checkLogin()
        checkRequiredActions()
        checkFeatures()
        checkRoles()
        checkFlows()
        checkRetention()
        checkRequests()
        checkNotifications()
        checkNotificationRules()  // Notifications/NotificationRulesValidation.swift
        checkFieldPolicies()
        checkPlugins()
        checkTests()
    }

    // MARK: references

    mutating func reference(_ name: String, kind: String, in known: some Collection<String>, at path: String, context: String, writtenAsKey: Bool = false) {
        guard !known.contains(name) else { return }
        let collections = ["feature": "features", "role": "roles", "section": "sections", "customer type": "customer_types", "flow": "flows",
                           "field": "customer_fields"]
        if let collection = collections[kind], tenant.locations.rejected.contains("\(collection)/\(name)") { return }
        diagnostics.error("unknown-\(kind.replacingSpaces)", at: writtenAsKey ? key(path) : at(path), "\(context) '\(name)' is not a known \(kind)",
                          hint: Suggest.hint(for: name, in: known))
    }

    mutating func references(_ names: [String]?, kind: String, in known: some Collection<String>, at path: String, context: String) {
        for (index, name) in (names ?? []).enumerated() {
            reference(name, kind: kind, in: known, at: "\(path)/\(index)", context: context)
        }
    }

    var featureIDs: [String] { definition.features.keys }
    private var roleIDs: [String] { definition.roles.keys }
    private var customerTypeIDs: [String] { definition.customerTypes.keys }
    /// Customer fields types, steps and policies may name: the catalogue and the tenant's `customer_fields`.
    var fieldNames: [String] { definition.customerFieldNames }

    // MARK: checks

    private mutating func checkIdentity() {
        let base = tenant.file.split(separator: "/").last.map { String($0.split(separator: ".").first ?? "") } ?? ""
        if !base.isEmpty, base != definition.id, !tenant.file.hasPrefix("<") {
            diagnostics.warning("id-file-mismatch", at: at("id"), "tenant id '\(definition.id)' differs from its file name '\(base)'",
                                hint: "name the file \(definition.id).yaml so it is easy to find")
        }
        if !definition.locales.available.contains(definition.locales.default) {
            diagnostics.error("unknown-locale", at: at("locales/default"), "default locale '\(definition.locales.default)' is not in 'available'",
                              hint: "add it to available: \(definition.locales.available + [definition.locales.default])")
        }
    }

    /// The tenant's own customer and user fields: ids that are snake_case and not the platform's, and each
    /// definition's own mistakes (see `FieldDefinition.issues`).
    private mutating func checkCustomFields() {
        guard definition.customerFields != nil || definition.userFields != nil else { return }
        let today = today ?? CalendarDay(instant: Int64(Date().timeIntervalSince1970))
        for (owner, collection, fields) in [(FieldOwner.customer, "customer_fields", definition.customerFields),
                                            (FieldOwner.user, "user_fields", definition.userFields)] {
            for (id, field) in fields ?? OrderedMap() {
                let path = "\(collection)/\(id)"
                if owner.reservedNames.contains(id) {
                    diagnostics.error("reserved-field", at: key(path),
                                      owner == .customer ? "'\(id)' is a platform customer field: a custom field cannot take its name"
                                                         : "'\(id)' is a platform user field: a custom field cannot take its name",
                                      hint: owner == .customer && CustomerField(rawValue: id) != nil
                                        ? "name '\(id)' directly in customer types and steps, or give your field another id"
                                        : "give your field another id")
                } else if id.contains(where: { $0 == "." || $0 == "-" }) {
                    diagnostics.error("invalid-id", at: key(path), "field id '\(id)' may hold only lowercase letters, digits and '_'",
                                      hint: "for example '\(String(id.map { $0 == "." || $0 == "-" ? "_" : $0 }))'")
                }
                for issue in field.issues(id: id, checks: checks, locales: definition.locales.available, today: today) {
                    if issue.code == "missing-key", tenant.locations.rejected.contains("\(path)/options") { continue }
                    let issuePath = issue.path.isEmpty ? path : "\(path)/\(issue.path)"
                    let location = issue.atKey ? key(issuePath) : at(issuePath)
                    switch issue.severity {
                    case .error: diagnostics.error(issue.code, at: location, issue.message, hint: issue.hint)
                    case .warning: diagnostics.warning(issue.code, at: location, issue.message, hint: issue.hint)
                    }
                }
            }
        }
    }

    private mutating func checkCustomerTypes() {
        for (id, type) in definition.customerTypes {
            references(type.requiredFields, kind: "field", in: fieldNames, at: "customer_types/\(id)/required_fields", context: "field")
            references(type.optionalFields, kind: "field", in: fieldNames, at: "customer_types/\(id)/optional_fields", context: "field")
        }
    }

    private mutating func checkLogin() {
        let policy = definition.login.password
        if policy.minLength < passwordFloor {
            diagnostics.warning("weak-password-policy", at: at("login/password/min_length"),
                                "password min_length \(policy.minLength) is below the platform floor of \(passwordFloor)",
                                hint: "raise it to \(passwordFloor) or more")
        }
        if let maximum = policy.maxLength, maximum < policy.minLength {
            diagnostics.error("impossible-policy", at: at("login/password/max_length"), "password max_length \(maximum) is below min_length \(policy.minLength)")
        }
        let session = definition.login.session
        if session.idleTimeout.seconds > session.absoluteTimeout.seconds {
            diagnostics.error("impossible-policy", at: at("login/session/idle_timeout"),
                              "idle_timeout \(session.idleTimeout) is longer than absolute_timeout \(session.absoluteTimeout)")
        }
        if definition.login.lockout == nil, !tenant.locations.rejected.contains("login/lockout") {
            diagnostics.warning("no-lockout", at: key("login"), "login has no lockout policy", hint: "add lockout: {max_attempts: 5, window: 15m, duration: 30m}")
        }
    }

    private mutating func checkFeatures() {
        var granted = Set<String>()
        for role in definition.roles.values {
            granted.formUnion(role.grants ?? [])
            granted.formUnion(role.exclusive ?? [])
            for toggle in (role.toggles?.values ?? []) { granted.formUnion(toggle.features) }
        }
        for (id, feature) in definition.features {
            reference(feature.section, kind: "section", in: definition.sections.keys, at: "features/\(id)/section", context: "section")
            if let plugin = feature.plugin {
                reference(plugin, kind: "plugin", in: plugins.ids.sorted(), at: "features/\(id)/plugin", context: "plugin")
                if definition.plugins?[plugin] == nil, plugins.ids.contains(plugin) {
                    diagnostics.error("undeclared-plugin", at: at("features/\(id)/plugin"), "feature '\(id)' uses plugin '\(plugin)' that is not listed in 'plugins'",
                                      hint: "add '\(plugin)' to plugins")
                }
            }
            if !granted.contains(id) {
                diagnostics.warning("unused-feature", at: key("features/\(id)"), "feature '\(id)' is granted to no role", hint: "grant it or remove it")
            }
        }
        checkCapabilityBindings()
    }

    /// Features bind to capability slots (`capability:` or their own name); every other feature must be used by
    /// a request form, a notification setting or a plugin, or it opens nothing.
    private mutating func checkCapabilityBindings() {
        let slots = capabilities.slots.keys.sorted()
        let usedByTenant = Set((definition.requests?.values ?? []).map(\.feature) + (definition.notifications?.values ?? []).compactMap(\.feature)
                               + definition.recordKinds.values.flatMap(\.features))
        // A record kind dropped for a mistake of its own may be the one that uses a feature: say nothing then.
        let recordsIncomplete = tenant.locations.rejected.contains { $0 == "records" || $0.hasPrefix("records/") }
        var boundBy: [String: String] = [:]
        for (id, feature) in definition.features {
            if let capability = feature.capability {
                reference(capability, kind: "capability", in: slots, at: "features/\(id)/capability", context: "capability")
                if capabilities.isSlot(id), capability != id {
                    diagnostics.error("slot-name-bound-elsewhere", at: at("features/\(id)/capability"),
                                      "feature '\(id)' is named after the slot '\(id)' but binds to '\(capability)'",
                                      hint: "rename the feature or bind it to '\(id)'")
                }
            }
            guard let slot = feature.capability ?? (capabilities.isSlot(id) ? id : nil) else {
                if !usedByTenant.contains(id), feature.plugin == nil, !recordsIncomplete {
                    // A misspelt slot, else a slot doing the same thing elsewhere (`bills.pay` → `invoices.pay`).
                    let suggestion = Suggest.closest(to: id, in: slots)
                        ?? slots.first { $0.split(separator: ".").last == id.split(separator: ".").last }
                    diagnostics.warning("unbound-feature", at: key("features/\(id)"),
                                        "feature '\(id)' opens no page: it binds to no capability and no request form or notification uses it",
                                        hint: suggestion.map { "bind it with capability: \($0)" } ?? "bind it with capability: <slot> (see Capabilities in docs/REFERENCE.md)")
                }
                continue
            }
            guard capabilities.isSlot(slot) else { continue }
            if let other = boundBy[slot] {
                diagnostics.error("capability-bound-twice", at: key("features/\(id)"),
                                  "features '\(other)' and '\(id)' both bind to capability '\(slot)'", hint: "bind one feature per slot")
            } else {
                boundBy[slot] = id
            }
        }
    }

    private mutating func checkRoles() {
        var exclusiveOwner: [String: String] = [:]
        for (id, role) in definition.roles {
            for (index, feature) in (role.exclusive ?? []).enumerated() { if exclusiveOwner[feature] == nil { exclusiveOwner[feature] = id } else {
                diagnostics.error("exclusive-conflict", at: at("roles/\(id)/exclusive/\(index)"),
                                  "feature '\(feature)' is exclusive to role '\(exclusiveOwner[feature]!)' but also exclusive to '\(id)'")
            } }
        }
        for (id, role) in definition.roles {
            let path = "roles/\(id)"
            references(role.inherits, kind: "role", in: roleIDs, at: "\(path)/inherits", context: "inherited role")
            references(role.grants, kind: "feature", in: featureIDs, at: "\(path)/grants", context: "role '\(id)' grants")
            references(role.exclusive, kind: "feature", in: featureIDs, at: "\(path)/exclusive", context: "role '\(id)' has exclusive")
            references(role.customerTypes, kind: "customer type", in: customerTypeIDs, at: "\(path)/customer_types", context: "customer type")
            for (index, feature) in (role.grants ?? []).enumerated() {
                if let owner = exclusiveOwner[feature], owner != id {
                    diagnostics.error("exclusive-conflict", at: at("\(path)/grants/\(index)"),
                                      "role '\(id)' grants '\(feature)', which is exclusive to role '\(owner)'",
                                      hint: "remove it from '\(id)' or from the exclusive list of '\(owner)'")
                }
            }
            for (toggleID, toggle) in role.toggles ?? OrderedMap() {
                references(toggle.features, kind: "feature", in: featureIDs, at: "\(path)/toggles/\(toggleID)/features", context: "toggle '\(toggleID)' enables")
                for (index, feature) in toggle.features.enumerated() {
                    if let owner = exclusiveOwner[feature], owner != id {
                        diagnostics.error("exclusive-conflict", at: at("\(path)/toggles/\(toggleID)/features/\(index)"),
                                          "toggle '\(toggleID)' enables '\(feature)', which is exclusive to role '\(owner)'")
                    }
                }
            }
            for (feature, scope) in role.scopes ?? OrderedMap() {
                reference(feature, kind: "feature", in: featureIDs, at: "\(path)/scopes/\(feature)", context: "scope for feature", writtenAsKey: true)
                if let supported = definition.features[feature]?.scopes, !supported.contains(scope) {
                    diagnostics.error("unsupported-scope", at: at("\(path)/scopes/\(feature)"),
                                      "feature '\(feature)' does not support scope '\(scope.rawValue)'",
                                      hint: "it supports \(supported.map(\.rawValue).joined(separator: ", "))")
                } else if definition.features[feature] != nil, definition.features[feature]?.scopes == nil {
                    diagnostics.error("unsupported-scope", at: at("\(path)/scopes/\(feature)"), "feature '\(feature)' declares no scopes",
                                      hint: "add scopes: [own_line, all_lines] to the feature")
                }
            }
            for (target, management) in role.manages ?? OrderedMap() {
                reference(target, kind: "role", in: roleIDs, at: "\(path)/manages/\(target)", context: "managed role", writtenAsKey: true)
                for (index, action) in (management.creatorOnly ?? []).enumerated() where !management.actions.contains(action) {
                    diagnostics.error("invalid-value", at: at("\(path)/manages/\(target)/creator_only/\(index)"),
                                      "creator_only names '\(action.rawValue)', which is not among the actions",
                                      hint: "add it to actions")
                }
                if definition.roles[target]?.changeableInPortal == false {
                    let changing = management.actions.filter { [.create, .changeRole, .delete].contains($0) }
                    if !changing.isEmpty {
                        diagnostics.error("unchangeable-role", at: key("\(path)/manages/\(target)"),
                                          "role '\(target)' cannot be changed in the portal, yet '\(id)' may \(changing.map(\.rawValue).joined(separator: ", ")) it")
                    }
                }
            }
            if let cardinality = role.cardinality {
                if let maximum = cardinality.max, maximum == 0 {
                    diagnostics.error("impossible-cardinality", at: at("\(path)/cardinality/max"), "role '\(id)' allows at most 0 users, so nobody can hold it",
                                      hint: "remove the role or raise max")
                }
                if let maximum = cardinality.max, let minimum = cardinality.min, minimum > maximum {
                    diagnostics.error("impossible-cardinality", at: at("\(path)/cardinality/min"),
                                      "role '\(id)' needs at least \(minimum) users but allows at most \(maximum)")
                }
            }
            if role.changeableInPortal == false, role.changeHint == nil {
                diagnostics.warning("missing-hint", at: key(path), "role '\(id)' cannot be changed in the portal but gives no change_hint",
                                    hint: "tell users whom to call, e.g. change_hint: Chiama il 191")
            }
        }
        checkInheritanceCycles()
        checkDelegationElevation()
    }

    private mutating func checkInheritanceCycles() {
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        func visit(_ id: String, _ stack: [String], _ validator: inout SemanticValidator) {
            if state[id] == 2 { return }
            if state[id] == 1 {
                let cycle = stack[(stack.firstIndex(of: id) ?? 0)...] + [id]
                let from = stack.last ?? id
                let index = validator.definition.roles[from]?.inherits?.firstIndex(of: id) ?? 0
                validator.diagnostics.error("role-cycle", at: validator.at("roles/\(from)/inherits/\(index)"),
                                            "role hierarchy has a cycle: \(cycle.joined(separator: " → "))",
                                            hint: "a role cannot inherit from itself, directly or through others")
                return
            }
            state[id] = 1
            for parent in validator.definition.roles[id]?.inherits ?? [] where validator.definition.roles[parent] != nil {
                visit(parent, stack + [id], &validator)
            }
            state[id] = 2
        }
        for id in roleIDs { visit(id, [], &self) }
    }

    /// A role may create or reconfigure only roles that hold nothing it lacks itself.
    private mutating func checkDelegationElevation() {
        guard !diagnostics.items.contains(where: { $0.code == "role-cycle" }) else { return }
        let closure = RoleClosure(definition)
        for (id, role) in definition.roles {
            let own = closure.maximumFeatures(of: id)
            for (target, management) in role.manages ?? OrderedMap() where definition.roles[target] != nil {
                guard management.actions.contains(where: { [.create, .changeRole, .changeToggles].contains($0) }) else { continue }
                let extra = closure.maximumFeatures(of: target).subtracting(own).filter { definition.features[$0] != nil }
                if !extra.isEmpty {
                    diagnostics.error("delegation-elevation", at: key("roles/\(id)/manages/\(target)"),
                                      "role '\(id)' may create '\(target)', which can hold features '\(id)' lacks: \(extra.sorted().joined(separator: ", "))",
                                      hint: "no user may hand out more than they hold")
                }
            }
        }
    }

    private mutating func checkFlows() {
        for (id, flow) in definition.flows {
            let path = "flows/\(id)"
            references(flow.customerTypes, kind: "customer type", in: customerTypeIDs, at: "\(path)/customer_types", context: "customer type")
            references(flow.excludedRoles, kind: "role", in: roleIDs, at: "\(path)/excluded_roles", context: "excluded role")
            let kinds = flow.steps.map(\.step)
            switch flow.kind {
            case .registration:
                if let role = flow.role {
                    reference(role, kind: "role", in: roleIDs, at: "\(path)/role", context: "registration role")
                } else {
                    diagnostics.error("missing-key", at: key(path), "registration flow '\(id)' does not say which role it creates", hint: "add role: <role id>")
                }
                if !kinds.contains(where: \.setsPassword) {
                    diagnostics.error("no-credentials", at: at("\(path)/steps"), "registration flow '\(id)' has no step that sets credentials",
                                      hint: "add a 'password', 'first_login_credentials' or 'temporary_password' step")
                }
                if kinds.contains(.password), !kinds.contains(.credentials), !kinds.contains(.invitation) {
                    diagnostics.error("no-credentials", at: at("\(path)/steps"), "registration flow '\(id)' sets a password but never a username",
                                      hint: "add a 'credentials' step before 'password'")
                }
            case .recovery:
                if flow.purpose == nil {
                    diagnostics.error("missing-key", at: key(path), "recovery flow '\(id)' needs a purpose", hint: "purpose: forgot_username or reset_password")
                }
                if flow.purpose == .resetPassword, !kinds.contains(where: \.setsPassword) {
                    diagnostics.error("no-credentials", at: at("\(path)/steps"), "password recovery flow '\(id)' never lets the user set a password",
                                      hint: "add a 'password' or 'temporary_password' step")
                }
                if flow.purpose == .forgotUsername, !kinds.contains(.sendUsername) {
                    diagnostics.error("incomplete-flow", at: at("\(path)/steps"), "flow '\(id)' recovers the username but has no 'send_username' step")
                }
            }
            checkDelivery(id, flow: flow, path: path)
            if let first = kinds.firstIndex(of: .firstLoginCredentials), !kinds[..<first].contains(.activation) {
                diagnostics.error("step-order", at: at("\(path)/steps/\(first)"), "'first_login_credentials' needs an 'activation' step before it")
            }
            if let last = kinds.firstIndex(of: .automaticLogin), last != kinds.count - 1 {
                diagnostics.error("step-order", at: at("\(path)/steps/\(last)"), "'automatic_login' must be the last step")
            }
            var seen = Set<StepKind>()
            for (index, step) in flow.steps.enumerated() {
                let stepPath = "\(path)/steps/\(index)"
                if !seen.insert(step.step).inserted {
                    diagnostics.warning("duplicate-step", at: at(stepPath), "step '\(step.step.rawValue)' appears twice in flow '\(id)'")
                }
                if [.invitation, .activation, .resetLink, .controlCode, .emailVerification].contains(step.step), step.expires == nil,
                   !tenant.locations.rejected.contains("\(stepPath)/expires") {
                    diagnostics.error("missing-expiry", at: at(stepPath), "step '\(step.step.rawValue)' needs 'expires'", hint: "for example expires: 30d")
                }
                checkMatch(step.match, at: "\(stepPath)/match")
                references(step.fields, kind: "field", in: fieldNames, at: "\(stepPath)/fields", context: "field")
                references(step.optionalFields, kind: "field", in: fieldNames, at: "\(stepPath)/optional_fields", context: "field")
                references(step.by, kind: "field", in: CustomerField.allNames, at: "\(stepPath)/by", context: "field")
                references(step.adminEmailFor, kind: "customer type", in: customerTypeIDs, at: "\(stepPath)/admin_email_for", context: "customer type")
                if step.step == .verifyCustomer, (step.match ?? []).isEmpty {
                    diagnostics.error("missing-key", at: at(stepPath), "step 'verify_customer' needs 'match'", hint: "for example match: [customer_code, tax_id]")
                }
                if step.step == .customerDetails, (step.fields ?? []).isEmpty {
                    diagnostics.error("missing-key", at: at(stepPath), "step 'customer_details' needs 'fields'")
                }
            }
        }
    }

    /// A registration that verifies a customer against public data must prove control of a contact on
    /// record: its link goes to the customer record's address, never only to one typed in the form.
    private mutating func checkDelivery(_ id: String, flow: Flow, path: String) {
        let kinds = flow.steps.map(\.step)
        let delivering: Set<StepKind> = [.emailVerification, .activation]
        for (index, step) in flow.steps.enumerated() where (step.deliverTo ?? []).contains(where: \.isOnRecord) {
            let known = kinds[..<index].contains(.verifyCustomer) || kinds.first == .invitation
            if !known {
                diagnostics.error("deliver-to-record", at: at("\(path)/steps/\(index)/deliver_to"),
                                  "step '\(step.step.rawValue)' delivers to the customer record, but flow '\(id)' has no customer yet at that point",
                                  hint: "put a 'verify_customer' step before it, or use deliver_to: [entered]")
            }
        }
        // An invitation went to an address someone already trusted chose: it proves the mailbox by itself.
        guard flow.kind == .registration, kinds.first != .invitation, let verify = kinds.firstIndex(of: .verifyCustomer) else { return }
        let senders = flow.steps.enumerated().filter { $0.offset > verify && delivering.contains($0.element.step) }
        if senders.contains(where: { $0.element.deliversToRecord }) { return }
        if let typed = senders.first {
            diagnostics.warning("typed-delivery", at: at("\(path)/steps/\(typed.offset)"),
                                "registration flow '\(id)' verifies a customer but its '\(typed.element.step.rawValue)' step delivers only to an address typed in the form: anyone who knows the customer's data can take the account",
                                hint: "add deliver_to: [customer.legal_rep_email] (or customer.email) so the link goes to a contact on record")
        } else {
            diagnostics.warning("typed-delivery", at: at("\(path)/steps/\(verify)"),
                                "registration flow '\(id)' verifies a customer but never sends a link to a contact on record: anyone who knows the customer's data can take the account",
                                hint: "add an 'activation' step with deliver_to: [customer.email] after 'verify_customer'")
        }
    }

    private mutating func checkRetention() {
        for (kind, rule) in definition.retention ?? OrderedMap() {
            let path = "retention/\(kind)"
            if RecordKind(rawValue: kind) == nil, definition.records?[kind] != nil {
                diagnostics.error("unknown-record-kind", at: key(path), "'\(kind)' is one of the tenant's own record kinds, whose retention is written with the kind",
                                  hint: "move this rule to records/\(kind)/retention")
            } else if RecordKind(rawValue: kind) == nil {
                diagnostics.error("unknown-record-kind", at: key(path), "'\(kind)' is not a kind of record",
                                  hint: Suggest.hint(for: kind, in: RecordKind.allCases.map(\.rawValue)) ?? "use one of \(RecordKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if let export = rule.exportMaxRange, let visible = rule.visibleFor, export.seconds > visible.seconds + 86_400 * 3 {
                diagnostics.warning("export-beyond-window", at: at("\(path)/export_max_range"),
                                    "exports may span \(export) but only \(visible) of \(kind) are visible")
            }
            if let delete = rule.deleteAfter, let visible = rule.visibleFor, delete.seconds < visible.seconds {
                diagnostics.error("impossible-retention", at: at("\(path)/delete_after"),
                                  "\(kind) are deleted after \(delete) but should stay visible for \(visible)")
            }
        }
    }

    private mutating func checkRequests() {
        for (id, form) in definition.requests ?? OrderedMap() {
            let path = "requests/\(id)"
            reference(form.feature, kind: "feature", in: featureIDs, at: "\(path)/feature", context: "request form feature")
            var names = Set<String>()
            for (index, field) in form.fields.enumerated() {
                let fieldPath = "\(path)/fields/\(index)"
                if !names.insert(field.name).inserted {
                    diagnostics.error("duplicate-field", at: at("\(fieldPath)/name"), "field '\(field.name)' appears twice in form '\(id)'")
                }
                if field.type == .choice, (field.options ?? []).isEmpty, field.optionsFrom == nil {
                    diagnostics.error("missing-key", at: at(fieldPath), "choice field '\(field.name)' needs 'options' or 'options_from'")
                }
                if field.maxItems != nil, field.type != .lines {
                    diagnostics.error("invalid-option", at: at("\(fieldPath)/max_items"), "max_items applies only to fields of type lines")
                }
                if field.maxLength != nil, ![.text, .textarea].contains(field.type) {
                    diagnostics.error("invalid-option", at: at("\(fieldPath)/max_length"), "max_length applies only to text and textarea fields")
                }
                if field.accept != nil || field.maxSizeMb != nil, field.type != .attachment {
                    diagnostics.error("invalid-option", at: at("\(fieldPath)/\(field.accept != nil ? "accept" : "max_size_mb")"), "accept and max_size_mb apply only to attachment fields")
                }
                if field.type == .record {
                    checkRecordFormField(field, form: id, at: fieldPath)
                } else if field.kind != nil || field.filter != nil {
                    diagnostics.error("invalid-option", at: key("\(fieldPath)/\(field.kind != nil ? "kind" : "filter")"),
                                      "kind and filter apply only to fields of type record", hint: "write type: record, or remove the key")
                }
            }
            checkFormRules(id, form: form, path: path)
        }
    }

    /// A `record` field: its `kind` must be a record kind, and each `filter` entry an enum, boolean or text field of
    /// that kind with a value the field accepts.
    private mutating func checkRecordFormField(_ field: FormField, form: String, at path: String) {
        let kinds = definition.recordKinds
        let known = kinds.isEmpty ? "declare the kind under records:" : "record kinds: \(kinds.keys.joined(separator: ", "))"
        guard let kindID = field.kind else {
            diagnostics.error("missing-key", at: at(path), "record field '\(field.name)' of form '\(form)' needs 'kind'",
                              hint: kinds.isEmpty ? known : "for example kind: \(kinds.keys[0]) (\(known))")
            return
        }
        guard let kind = kinds[kindID] else {
            if !tenant.locations.rejected.contains("records/\(kindID)") {
                diagnostics.error("unknown-record-kind", at: at("\(path)/kind"), "kind '\(kindID)' of record field '\(field.name)' is not a record kind",
                                  hint: Suggest.hint(for: kindID, in: kinds.keys) ?? known)
            }
            return
        }
        let context = FieldContext(locale: definition.locales.default, tenant: definition,
                                   today: today ?? CalendarDay(instant: Int64(Date().timeIntervalSince1970)), checks: checks)
        let filterable = kind.fields.filter { !$0.value.type.isOrdered }.map(\.key)
        for (fieldID, value) in field.filter ?? OrderedMap() {
            let entryPath = "\(path)/filter/\(fieldID)"
            guard let recordField = kind.fields[fieldID] else {
                if tenant.locations.rejected.contains("records/\(kindID)/fields/\(fieldID)") { continue }
                diagnostics.error("unknown-field", at: key(entryPath), "filter '\(fieldID)' of record field '\(field.name)' is not a field of record kind '\(kindID)'",
                                  hint: Suggest.hint(for: fieldID, in: kind.fields.keys)
                                    ?? (filterable.isEmpty ? nil : "fields to filter by: \(filterable.joined(separator: ", "))"))
                continue
            }
            guard !recordField.type.isOrdered else {
                diagnostics.error("invalid-field-type", at: key(entryPath),
                                  "filter '\(fieldID)' of record field '\(field.name)' is a \(recordField.type.rawValue) field; a filter compares an enum, boolean or text field",
                                  hint: filterable.isEmpty ? nil : "fields to filter by: \(filterable.joined(separator: ", "))")
                continue
            }
            let options = recordField.type == .enumeration ? (recordField.options?.keys ?? []) : []
            switch kind.filter(fieldID, equals: value, in: context) {
            case .success(.some):
                break
            case .success(.none):
                diagnostics.error("invalid-value", at: at(entryPath), "filter '\(fieldID)' of record field '\(field.name)' has no value",
                                  hint: options.isEmpty ? nil : "options: \(options.joined(separator: ", "))")
            case .failure(let problems):
                let reason = problems.problems.first.map { " (\($0.message.resolve("en")))" } ?? ""
                diagnostics.error("invalid-value", at: at(entryPath),
                                  "'\(value)' does not fit field '\(fieldID)' of record kind '\(kindID)' in the filter of record field '\(field.name)'\(reason)",
                                  hint: Suggest.hint(for: value, in: options) ?? (options.isEmpty ? nil : "options: \(options.joined(separator: ", "))"))
            }
        }
    }

    private mutating func checkNotifications() {
        for (id, rule) in definition.notifications ?? OrderedMap() {
            if let feature = rule.feature {
                reference(feature, kind: "feature", in: featureIDs, at: "notifications/\(id)/feature", context: "notification feature")
            }
            if let thresholds = rule.thresholds, thresholds != thresholds.sorted() || Set(thresholds).count != thresholds.count {
                diagnostics.error("invalid-value", at: at("notifications/\(id)/thresholds"), "thresholds must be increasing without repeats")
            }
        }
    }

    private mutating func checkFieldPolicies() {
        // The tenant's own user fields are kept as the profile keeps its catalogue fields.
        let names = fieldNames + (definition.userFields?.keys ?? []).filter { !fieldNames.contains($0) }
        references(definition.fieldPolicies?.immutable, kind: "field", in: names, at: "field_policies/immutable", context: "immutable field")
    }

    /// Each plugin the tenant names exists; each feature it binds exists, takes a plugin of that kind, is bound once,
    /// and (payments) offers methods the provider has.
    private mutating func checkPlugins() {
        var boundBy: [String: String] = [:]
        for (id, binding) in definition.plugins ?? OrderedMap() {
            reference(id, kind: "plugin", in: plugins.ids.sorted(), at: "plugins/\(id)", context: "plugin", writtenAsKey: true)
            let manifest = plugins[id]
            checkWebhookBinding(id, binding, manifest: manifest)  // Validation/PluginValidation.swift
            checkLookupBinding(id, binding, manifest: manifest)  // Plugins/LookupBindingValidation.swift
            for (featureId, featureBinding) in binding.features ?? OrderedMap() {
                let path = "plugins/\(id)/features/\(featureId)"
                guard let feature = definition.features[featureId] else {
                    reference(featureId, kind: "feature", in: featureIDs, at: path, context: "feature", writtenAsKey: true)
                    continue
                }
                if let first = boundBy[featureId] {
                    diagnostics.error("duplicate-binding", at: key(path), "feature '\(featureId)' is already bound to plugin '\(first)'",
                                      hint: "a feature is carried out by one plugin")
                    continue
                }
                boundBy[featureId] = id
                if let other = feature.plugin, other != id {
                    diagnostics.error("conflicting-plugin", at: key(path), "feature '\(featureId)' names plugin '\(other)' but is bound to '\(id)'",
                                      hint: "remove 'plugin: \(other)' from the feature or bind it under plugins: {\(other): …}")
                }
                guard let manifest else { continue }  // known by id only: nothing more to compare
                let slot = feature.capability ?? (capabilities.isSlot(featureId) ? featureId : nil)
                let accepted = slot.flatMap { capabilities.slots[$0]?.slot.plugin }
                guard accepted == manifest.kind else {
                    let takers = capabilities.all.flatMap(\.slots).filter { $0.plugin == manifest.kind }.map(\.name)
                    let what = accepted.map { "takes a \($0.rawValue) plugin" } ?? "takes no plugin"
                    diagnostics.error("plugin-kind-mismatch", at: key(path),
                                      "feature '\(featureId)' \(slot.map { "(capability \($0)) " } ?? "")\(what), not the \(manifest.kind.rawValue) plugin '\(id)'",
                                      hint: takers.isEmpty ? nil : "\(manifest.kind.rawValue) plugins carry out \(takers.joined(separator: ", "))")
                    continue
                }
                if manifest.kind == .payments {
                    checkPaymentMethods(featureBinding, manifest: manifest, slot: slot, at: path)
                } else if featureBinding.methods != nil {
                    diagnostics.error("unknown-key", at: key("\(path)/methods"), "'methods' applies to payments plugins, and '\(id)' is a \(manifest.kind.rawValue) plugin")
                }
            }
        }
    }

    private mutating func checkPaymentMethods(_ binding: PluginFeatureBinding, manifest: PluginManifest, slot: String?, at path: String) {
        guard let methods = binding.methods else {
            let offered = manifest.payments?.methods.map(\.rawValue) ?? []
            diagnostics.error("missing-key", at: key(path), "binding a payments plugin needs 'methods'",
                              hint: "plugin '\(manifest.id)' offers \(offered.joined(separator: ", ")): for example {methods: [\(offered.first ?? "card")]}")
            return
        }
        let offered = manifest.payments?.methods ?? []
        var seen = Set<PaymentMethod>()
        for (index, method) in methods.enumerated() {
            if !seen.insert(method).inserted {
                diagnostics.error("duplicate-value", at: at("\(path)/methods/\(index)"), "method '\(method.rawValue)' is listed twice")
            } else if !method.needsProvider {
                // Charged to the next bill: the portal records it, whatever the provider offers; only where a bill can take it.
                if !PaymentMethod.billSlots.contains(slot ?? "") {
                    diagnostics.error("unsupported-method", at: at("\(path)/methods/\(index)"),
                                      "method 'bill' (charge on the next bill) applies to recharges, not to '\(slot ?? "?")'",
                                      hint: "bind it to \(PaymentMethod.billSlots.sorted().joined(separator: ", "))")
                }
            } else if !offered.contains(method) {
                diagnostics.error("unsupported-method", at: at("\(path)/methods/\(index)"), "plugin '\(manifest.id)' does not offer the method '\(method.rawValue)'",
                                  hint: "it offers \(offered.map(\.rawValue).joined(separator: ", "))")
            }
        }
    }

    private mutating func checkTests() {
        let actions = UserAction.allCases.map(\.rawValue)
        for (index, test) in (definition.tests ?? []).enumerated() {
            let path = "tests/\(index)"
            checkFormTest(test, at: path)
            guard let testRole = test.role else {
                if test.form == nil {
                    diagnostics.error("missing-key", at: at(path), "a test needs 'role' (what a role may do) or 'form' (a request form's rules)")
                }
                continue
            }
            reference(testRole, kind: "role", in: roleIDs, at: "\(path)/role", context: "test role")
            if let role = definition.roles[testRole] {
                references(test.toggles, kind: "toggle", in: role.toggles?.keys ?? [], at: "\(path)/toggles", context: "toggle of '\(testRole)'")
            }
            if let type = test.customerType { reference(type, kind: "customer type", in: customerTypeIDs, at: "\(path)/customer_type", context: "customer type") }
            references(test.can, kind: "feature", in: featureIDs, at: "\(path)/can", context: "feature")
            references(test.cannot, kind: "feature", in: featureIDs, at: "\(path)/cannot", context: "feature")
            references(test.exclusive, kind: "feature", in: featureIDs, at: "\(path)/exclusive", context: "feature")
            references(test.canUseFlow, kind: "flow", in: definition.flows.keys, at: "\(path)/can_use_flow", context: "flow")
            references(test.cannotUseFlow, kind: "flow", in: definition.flows.keys, at: "\(path)/cannot_use_flow", context: "flow")
            for feature in test.scope?.keys ?? [] {
                reference(feature, kind: "feature", in: featureIDs, at: "\(path)/scope/\(feature)", context: "feature", writtenAsKey: true)
            }
            for (name, map) in [("may", test.may), ("may_not", test.mayNot), ("creator_only", test.creatorOnly)] {
                for (action, roles) in map ?? OrderedMap() {
                    if !actions.contains(action) {
                        diagnostics.error("unknown-action", at: key("\(path)/\(name)/\(action)"), "'\(action)' is not a user action",
                                          hint: Suggest.hint(for: action, in: actions) ?? "use one of \(actions.joined(separator: ", "))")
                    }
                    references(roles, kind: "role", in: roleIDs, at: "\(path)/\(name)/\(action)", context: "role")
                }
            }
        }
    }
}

extension String {
    var replacingSpaces: String { split(separator: " ").joined(separator: "-") }
}
