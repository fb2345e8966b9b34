import Foundation

/// What a required action asks of the user before anything else opens (Keycloak's "required actions").
public enum RequiredActionType: String, Decodable, Sendable, CaseIterable {
    /// Check and confirm the customer's data (`fields`), prefilled and editable.
    case confirmCustomerData = "confirm_customer_data"
    /// Accept the tenant's terms or consents (`version`); a new version asks again.
    case acceptTerms = "accept_terms"
    /// Choose a new password (also after a temporary password).
    case changePassword = "change_password"
    /// Prove control of the user's e-mail address.
    case verifyEmail = "verify_email"
    /// Enrol an authenticator app (TOTP).
    case enrolTOTP = "enrol_totp"
}

/// An action some users must complete after login before any page or API operation answers (`required_actions:`).
public struct RequiredAction: Decodable, Sendable {
    public var type: RequiredActionType
    public var label: LocalizedText
    /// Shown above the action's form.
    public var message: LocalizedText?
    /// Roles that must complete it (default: every role).
    public var roles: [String]?
    /// Customer types that must complete it (default: every type).
    public var customerTypes: [String]?
    /// accept_terms: the version accepted; a different version asks everyone again.
    public var version: String?
    /// accept_terms: the text accepted.
    public var text: LocalizedText?
    /// accept_terms: a link to the full document.
    public var document: String?
    /// confirm_customer_data: the customer fields shown, prefilled and editable.
    public var fields: [String]?
    /// Ask again this long after the last completion (e.g. confirm the data every 12 months).
    public var every: DurationSpec?
}

extension TenantSchema {
    public static let requiredAction = ObjectSchema("required action", "An action users must complete after login before any page or API operation answers (Keycloak's required actions); pages lead to it and the API answers 403 `required_action` naming it. Each completion is audited.", [
        .required("type", .choice(RequiredActionType.allCases.map(\.rawValue)), "What is asked: confirm_customer_data, accept_terms, change_password, verify_email (a link e-mailed to the user's address) or enrol_totp (an authenticator app; login then asks for its code).", example: "accept_terms"),
        .required("label", .text, "The action's title, in every language of the tenant.", example: "{it: Informativa privacy, en: Privacy notice}"),
        .optional("message", .text, "Shown above the action's form.", example: "{it: \"Abbiamo aggiornato le condizioni.\", en: \"We have updated our terms.\"}"),
        .optional("roles", .list(.identifier), "Roles that must complete it (default: every role).", example: "[admin]"),
        .optional("customer_types", .list(.identifier), "Customer types that must complete it (default: every type).", example: "[business]"),
        .optional("version", .string, "accept_terms: the version of the text; publishing a new version asks everyone again.", example: "\"2026-01\""),
        .optional("text", .text, "accept_terms: the text accepted.", example: "{it: \"Accetto le condizioni del servizio.\", en: \"I accept the terms of service.\"}"),
        .optional("document", .string(.path), "accept_terms: a link to the full document.", example: "/static/terms-2026.pdf"),
        .optional("fields", .list(.identifier), "confirm_customer_data: customer fields (the catalogue's or the tenant's own) shown prefilled and editable.", example: "[email, phone, address]"),
        .optional("every", .duration, "confirm_customer_data, accept_terms: ask again this long after the last completion; change_password: ask for a new password once it is older than this (without it, only a temporary password asks).", example: "12mo"),
    ])
}

extension RequiredActionType {
    /// Whether `every:` applies: the action is asked again that long after it was last completed.
    public var repeats: Bool { [.confirmCustomerData, .acceptTerms, .changePassword].contains(self) }

    /// Whether a completion is kept in the required-action completions (accept_terms, confirm_customer_data);
    /// the others are read off the user record (the password's age and status, the verified e-mail, the
    /// authenticator's secret).
    public var isRecorded: Bool { [.confirmCustomerData, .acceptTerms].contains(self) }
}

/// One completion of a required action by one user, as stored (`required_action_completions`): the latest
/// one per user and action is kept, the audit log has every one.
public struct RequiredActionCompletion: Codable, Sendable, Equatable {
    public var id: Int64?
    public var userId: Int64
    /// The action's id in `required_actions:`.
    public var actionId: String
    /// accept_terms: the version accepted.
    public var version: String?
    public var completedAt: Int64

    public init(id: Int64? = nil, userId: Int64, actionId: String, version: String? = nil, completedAt: Int64) {
        self.id = id; self.userId = userId; self.actionId = actionId; self.version = version; self.completedAt = completedAt
    }
}
