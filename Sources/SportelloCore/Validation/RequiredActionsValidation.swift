import Foundation

extension SemanticValidator {
    /// `required_actions:`: known roles, customer types and fields, and the keys each type needs.
    mutating func checkRequiredActions() {
        let roles = definition.roles.keys, types = definition.customerTypes.keys
        for (id, action) in definition.requiredActions ?? OrderedMap() {
            let path = "required_actions/\(id)"
            if id.contains(where: { $0 == "." || $0 == "/" || $0 == " " }) {
                diagnostics.error("invalid-id", at: key(path), "required action id '\(id)' may hold only letters, digits, '_' and '-'",
                                  hint: "for example '\(String(id.map { $0 == "." || $0 == "/" || $0 == " " ? "_" : $0 }))'")
            }
            if id == RequiredActionRules.forcedPasswordChangeId, action.type != .changePassword {
                diagnostics.error("reserved-id", at: key(path),
                                  "'\(id)' names the forced password change: an action of type \(action.type.rawValue) cannot take it",
                                  hint: "give the action another id")
            }
            references(action.roles, kind: "role", in: roles, at: "\(path)/roles", context: "role")
            references(action.customerTypes, kind: "customer type", in: types, at: "\(path)/customer_types", context: "customer type")
            if let roles = action.roles, roles.isEmpty {
                diagnostics.warning("asks-nobody", at: at("\(path)/roles"), "required action '\(id)' lists no role: nobody is asked",
                                    hint: "remove roles: to ask every role")
            }
            if let every = action.every, !action.type.repeats {
                diagnostics.error("invalid-option", at: at("\(path)/every"),
                                  "'every' applies to confirm_customer_data, accept_terms and change_password, not to \(action.type.rawValue)",
                                  hint: "remove every: \(every)")
            } else if let every = action.every, every.seconds < 86_400 {
                diagnostics.error("invalid-value", at: at("\(path)/every"), "required action '\(id)' would be asked again every \(every)",
                                  hint: "ask again after one day at least (for example every: 12mo)")
            }
            checkKeys(of: action, id: id, path: path)
        }
    }

    /// The keys each type needs, and those it does not use.
    private mutating func checkKeys(of action: RequiredAction, id: String, path: String) {
        let type = action.type.rawValue
        let termsOnly: [(String, Bool)] = [("version", action.version != nil), ("text", action.text != nil), ("document", action.document != nil)]
        switch action.type {
        case .acceptTerms:
            for (name, present) in termsOnly.prefix(2) where !present && !tenant.locations.rejected.contains("\(path)/\(name)") {
                diagnostics.error("missing-key", at: at(path), "required action '\(id)' (accept_terms) needs '\(name)'",
                                  hint: name == "version" ? "for example version: \"2026-01\" (publishing a new version asks everyone again)"
                                                          : "write the text accepted, in every language of the tenant")
            }
            if let version = action.version, version.trimmingCharacters(in: .whitespaces).isEmpty {
                diagnostics.error("invalid-value", at: at("\(path)/version"), "required action '\(id)' has an empty version")
            }
        case .confirmCustomerData:
            if (action.fields ?? []).isEmpty, !tenant.locations.rejected.contains("\(path)/fields") {
                diagnostics.error("missing-key", at: at(path), "required action '\(id)' (confirm_customer_data) needs 'fields'",
                                  hint: "for example fields: [email, phone, address]")
            }
            references(action.fields, kind: "field", in: fieldNames, at: "\(path)/fields", context: "field")
            for (index, field) in (action.fields ?? []).enumerated() where RequiredActionRules.unconfirmableFields.contains(field) {
                diagnostics.error("unsupported-field", at: at("\(path)/fields/\(index)"),
                                  "field '\(field)' cannot be confirmed by a required action",
                                  hint: field == "iban" ? "the IBAN is changed on the billing page" : "remove it from fields")
            }
        case .changePassword:
            if action.every == nil {
                diagnostics.warning("no-effect", at: key(path),
                                    "change_password without 'every' asks only after a temporary password, which happens without it too",
                                    hint: "add every: 12mo to ask for a new password once a year")
            }
        case .verifyEmail, .enrolTOTP:
            break
        }
        if action.type != .acceptTerms {
            for (name, present) in termsOnly where present {
                diagnostics.error("invalid-option", at: key("\(path)/\(name)"), "'\(name)' applies only to accept_terms, not to \(type)",
                                  hint: "remove it")
            }
        }
        if action.type != .confirmCustomerData, action.fields != nil {
            diagnostics.error("invalid-option", at: key("\(path)/fields"), "'fields' applies only to confirm_customer_data, not to \(type)",
                              hint: "remove it")
        }
    }
}
