import Foundation

/// One provider's customer area, as written in `tenants/<id>.yaml` (after `extends:` is applied).
public struct TenantDefinition: Decodable, Sendable {
    public var id: String
    public var name: String
    public var extends: [String]?
    public var hosts: [String]
    /// The IANA time zone the tenant's calendar rules are read in (default `Europe/Rome`).
    public var timeZone: String?
    public var locales: Locales
    public var branding: Branding
    public var contacts: Contacts?
    public var browsers: OrderedMap<String>?
    public var customerTypes: OrderedMap<CustomerType>
    /// The tenant's own customer fields, by id, beyond the platform's catalogue (`CustomerField`).
    public var customerFields: OrderedMap<FieldDefinition>?
    /// The tenant's own fields of each user, by id.
    public var userFields: OrderedMap<FieldDefinition>?
    public var login: LoginPolicy
    /// Actions users must complete after login before anything else opens, by id.
    public var requiredActions: OrderedMap<RequiredAction>?
    public var sections: OrderedMap<Section>
    public var features: OrderedMap<Feature>
    /// Per module, the tenant's choices for its options (see `CapabilityCatalogue`).
    public var capabilities: OrderedMap<OrderedMap<[String]>>?
    public var roles: OrderedMap<Role>
    public var flows: OrderedMap<Flow>
    public var retention: OrderedMap<RetentionRule>?
    /// The tenant's own kinds of record (vehicles, policies, meters…), by id (see `RecordKindDefinition`).
    public var records: OrderedMap<RecordKindDefinition>?
    public var requests: OrderedMap<RequestForm>?
    public var notifications: OrderedMap<NotificationRule>?
    public var fieldPolicies: FieldPolicies?
    /// The plugins the tenant uses (`plugins/<id>.yaml`), by id, with the features each carries out.
    public var plugins: OrderedMap<PluginBinding>?
    public var tests: [TenantTest]?
}

public struct Locales: Decodable, Sendable {
    public var `default`: String
    public var available: [String]
}

public struct Branding: Decodable, Sendable {
    public var primaryColor: String
    public var secondaryColor: String?
    public var accentColor: String?
    public var textColor: String?
    public var backgroundColor: String?
    public var logo: String?
    public var favicon: String?
}

public struct Contacts: Decodable, Sendable {
    public var customerCare: String?
    public var email: String?
    public var website: String?
    public var hours: LocalizedText?
}

/// How the platform treats a kind of customer (persons, businesses, public bodies).
public enum CustomerKind: String, Decodable, Sendable, CaseIterable {
    case person, business, publicBody = "public_body"
}

public struct CustomerType: Decodable, Sendable {
    public var label: LocalizedText
    public var kind: CustomerKind
    public var requiredFields: [String]
    public var optionalFields: [String]?
}

public enum LoginIdentifier: String, Decodable, Sendable, CaseIterable { case username, email }

public struct LoginPolicy: Decodable, Sendable {
    public var identifiers: [LoginIdentifier]
    public var caseSensitive: Bool
    public var password: PasswordPolicy
    public var lockout: LockoutPolicy?
    public var throttle: ThrottlePolicy?
    public var session: SessionPolicy
    public var totp: TOTPMode?
}

public enum PasswordRequirement: String, Decodable, Sendable, CaseIterable {
    case lowercase, uppercase, letter, digit, symbol
}

public struct PasswordPolicy: Decodable, Sendable {
    public var minLength: Int
    public var maxLength: Int?
    public var require: [PasswordRequirement]?
    public var forbidPersonalData: Bool?
    public var history: Int?
    public var maxAge: DurationSpec?
}

public struct LockoutPolicy: Decodable, Sendable {
    public var maxAttempts: Int
    public var window: DurationSpec
    public var duration: DurationSpec
}

public struct ThrottlePolicy: Decodable, Sendable {
    public var perIP: Int
    public var window: DurationSpec

    enum CodingKeys: String, CodingKey { case perIP = "perIp", window }
}

public struct SessionPolicy: Decodable, Sendable {
    public var idleTimeout: DurationSpec
    public var absoluteTimeout: DurationSpec
}

public enum TOTPMode: String, Decodable, Sendable, CaseIterable { case off, optional, required }

public struct Section: Decodable, Sendable {
    public var label: LocalizedText
}

/// How much data a feature covers for a user: only their own line, or every line of the customer.
public enum FeatureScope: String, Decodable, Sendable, CaseIterable, Comparable {
    case ownLine = "own_line", allLines = "all_lines"

    public static func < (lhs: FeatureScope, rhs: FeatureScope) -> Bool {
        lhs == .ownLine && rhs == .allLines
    }
}

public struct Feature: Decodable, Sendable {
    public var label: LocalizedText
    public var section: String
    /// The capability slot the feature opens (`invoices.pay`); absent, the feature's own id when that is a slot.
    public var capability: String?
    /// The title of the page the feature opens, in the tenant's words.
    public var pageTitle: LocalizedText?
    public var scopes: [FeatureScope]?
    public var plugin: String?
}

/// What one user may do to another user.
public enum UserAction: String, Decodable, Sendable, CaseIterable {
    case create, edit, changeRole = "change_role", changeToggles = "change_toggles", block, delete
}

public struct Role: Decodable, Sendable {
    public var label: LocalizedText
    public var description: LocalizedText?
    public var inherits: [String]?
    public var grants: [String]?
    public var exclusive: [String]?
    public var scopes: OrderedMap<FeatureScope>?
    public var toggles: OrderedMap<Toggle>?
    public var manages: OrderedMap<Management>?
    public var cardinality: Cardinality?
    public var changeableInPortal: Bool?
    public var changeHint: LocalizedText?
    public var customerTypes: [String]?
}

/// A per-user yes/no switch on top of a role (Unidata's Referente Semplice, Tunda's sub-accounts).
public struct Toggle: Decodable, Sendable {
    public var label: LocalizedText
    public var features: [String]
    public var `default`: Bool?
}

public struct Management: Decodable, Sendable {
    public var actions: [UserAction]
    /// Actions allowed only on users this user created (WINDTRE: only the creator deletes).
    public var creatorOnly: [UserAction]?
}

public enum CardinalityScope: String, Decodable, Sendable, CaseIterable {
    case customer, vatNumber = "vat_number", contract
}

public struct Cardinality: Decodable, Sendable {
    public var min: Int?
    public var max: Int?
    public var per: CardinalityScope
}

public enum FlowKind: String, Decodable, Sendable, CaseIterable {
    case registration, recovery
}

public enum FlowPurpose: String, Decodable, Sendable, CaseIterable {
    case register, forgotUsername = "forgot_username", resetPassword = "reset_password"
}

public struct Flow: Decodable, Sendable {
    public var kind: FlowKind
    public var purpose: FlowPurpose?
    public var label: LocalizedText
    /// Role given to the user the flow creates (registration flows).
    public var role: String?
    public var customerTypes: [String]?
    public var excludedRoles: [String]?
    public var excludedMessage: LocalizedText?
    public var steps: [FlowStep]
}

/// The building blocks a flow is made of; each is configurable in YAML.
public enum StepKind: String, Decodable, Sendable, CaseIterable {
    case invitation
    case verifyCustomer = "verify_customer"
    case customerDetails = "customer_details"
    case identify
    case credentials
    case password
    case securityQuestion = "security_question"
    case securityAnswer = "security_answer"
    case emailVerification = "email_verification"
    case activation
    case firstLoginCredentials = "first_login_credentials"
    case controlCode = "control_code"
    case temporaryPassword = "temporary_password"
    case resetLink = "reset_link"
    case sendUsername = "send_username"
    case summaryEmail = "summary_email"
    case confirmation
    case automaticLogin = "automatic_login"

    /// Steps after which the user has a password of their own.
    public var setsPassword: Bool {
        [.password, .firstLoginCredentials, .temporaryPassword].contains(self)
    }
}

public enum UsernameSource: String, Decodable, Sendable, CaseIterable {
    case email, chosen, assigned
}

public enum UniquenessScope: String, Decodable, Sendable, CaseIterable {
    case tenant, mainAccounts = "main_accounts", customer
}

public enum Charset: String, Decodable, Sendable, CaseIterable { case numeric, alphanumeric }

public enum StaffOrUser: String, Decodable, Sendable, CaseIterable { case staff, user }

/// Where a registration's link or code goes (`deliver_to:`): the address typed in the flow, or a contact
/// the provider already holds on the customer record. A registration that verifies a customer must
/// deliver to the record, so that knowing public data (VAT number, codice fiscale) is not enough.
public enum DeliveryTarget: String, Decodable, Sendable, CaseIterable {
    /// The e-mail address the user typed in this flow.
    case entered
    case customerEmail = "customer.email"
    case customerLegalRepEmail = "customer.legal_rep_email"
    case customerPec = "customer.pec"

    /// True for a contact the provider holds on the customer record.
    public var isOnRecord: Bool { self != .entered }

    /// The contact on `customer`'s record this target names (nil for `entered` or when the record has none).
    public func contact(on customer: CustomerRecord) -> String? {
        let value: String?
        switch self {
        case .entered: value = nil
        case .customerEmail: value = customer.email
        case .customerLegalRepEmail: value = customer.legalRepEmail
        case .customerPec: value = customer.pec
        }
        guard let value = value?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }
}

public struct FlowStep: Decodable, Sendable {
    public var step: StepKind
    public var expires: DurationSpec?
    public var fields: [String]?
    public var optionalFields: [String]?
    public var match: [String]?
    public var maxAttempts: Int?
    public var window: DurationSpec?
    public var username: UsernameSource?
    public var unique: UniquenessScope?
    public var confirm: Bool?
    public var strengthMeter: Bool?
    public var showToggle: Bool?
    public var length: Int?
    public var charset: Charset?
    public var forceChange: Bool?
    public var issuedBy: StaffOrUser?
    public var reissue: Bool?
    public var prefillEmail: Bool?
    public var adminEmailFor: [String]?
    public var by: [String]?
    /// email_verification / activation: where the link goes, first available wins (default: the typed address).
    public var deliverTo: [DeliveryTarget]?
    public var message: LocalizedText?

    /// Whether this step sends its link to a contact on the customer record (never to a typed address).
    public var deliversToRecord: Bool { !(deliverTo ?? []).isEmpty && (deliverTo ?? []).allSatisfy(\.isOnRecord) }
}

public enum RecordKind: String, Decodable, Sendable, CaseIterable {
    case invoices, statements, payments, usage, recharges, requests, auditLog = "audit_log", sessions, invitations, tokens, outbox
}

public struct RetentionRule: Decodable, Sendable {
    public var visibleFor: DurationSpec?
    public var exportMaxRange: DurationSpec?
    public var deleteAfter: DurationSpec?
}

public enum FormFieldType: String, Decodable, Sendable, CaseIterable {
    case text, textarea, choice, email, phone, date, number, line, lines, invoice, imei, attachment, address, person
    /// Whole numbers (`min`, `max`), exact decimals (`scale`, `min`, `max`: `12.5` stays 12.5) and yes/no.
    case integer, decimal, boolean
    /// One of the customer's records of a tenant-defined kind (`kind:`, optionally narrowed by `filter:`).
    case record
}

public struct FormField: Decodable, Sendable {
    public var name: String
    public var label: LocalizedText
    public var type: FormFieldType
    public var required: Bool?
    public var maxLength: Int?
    public var maxItems: Int?
    public var options: [String]?
    public var accept: [String]?
    public var maxSizeMb: Int?
    /// `record` fields: the id of the record kind (under `records:`) whose records the field picks from.
    public var kind: String?
    /// `record` fields: only records whose field (the key: an enum, boolean or text field of the kind) holds the
    /// value, as the field normalises it (`RecordKindDefinition.filter(_:equals:in:)`).
    public var filter: OrderedMap<String>?
    /// A short explanation shown under the input.
    public var help: LocalizedText?
    /// `integer`, `decimal` and `date` fields: the smallest and largest value (dates also relative: `-3d`, `today`).
    public var min: String?
    public var max: String?
    /// `decimal` fields: decimal places kept (default 2); more are refused, never rounded.
    public var scale: Int?
    /// `choice` fields: the options of a tenant `enum` field (`<record kind>.<field>` or a customer field id), by id
    /// with their labels, instead of `options`.
    public var optionsFrom: String?
    /// The field is shown, required and stored only when this holds.
    public var when: FormCondition?
}

extension FormField {
    /// A `record` field's `filter:` as conditions on records of `kind`, each value normalised as its field stores it;
    /// nil when an entry names no field of the kind, a date or number field, or a value the field refuses (which
    /// `validate` reports), so that a form whose filter cannot be applied offers no record rather than every one.
    public func recordFilters(of kind: RecordKindDefinition, in context: FieldContext) -> [RecordFilter]? {
        var filters: [RecordFilter] = []
        for (id, value) in filter ?? OrderedMap() {
            guard let field = kind.fields[id], !field.type.isOrdered,
                  case .success(let condition?) = kind.filter(id, equals: value, in: context) else { return nil }
            filters.append(condition)
        }
        return filters
    }
}

public enum Channel: String, Decodable, Sendable, CaseIterable { case email, sms, portal }

public struct RequestForm: Decodable, Sendable {
    public var label: LocalizedText
    public var feature: String
    public var group: String?
    public var maxOpen: Int?
    public var fields: [FormField]
    public var lifecycle: [String]?
    public var notify: [Channel]?
    /// Shown under the form's title (and in the forms list).
    public var description: LocalizedText?
    /// When the form accepts submissions (any window that applies); always when absent.
    public var open: [OpeningWindow]?
    /// Limits on how long after a date the form may be submitted ("within 3 days of the event").
    public var deadlines: [FormDeadline]?
    /// Labels of the lifecycle's statuses, in every language of the tenant (else the platform's).
    public var statusLabels: OrderedMap<LocalizedText>?
}

/// A form may be submitted only within `within` of the date a `date` field holds (an insurance claim within 3 days
/// of the event): a date further back is refused, with `message` or the platform's words naming the last day.
public struct FormDeadline: Decodable, Sendable {
    public var field: String
    public var within: DurationSpec
    public var message: LocalizedText?
}

public struct NotificationRule: Decodable, Sendable {
    public var label: LocalizedText
    public var feature: String?
    public var channels: [Channel]
    public var thresholds: [Int]?
    public var recipients: [String]?
    public var `default`: Bool?
    // Notification rules (Sources/SportelloCore/Notifications/NotificationRules.swift): the event that triggers the
    // entry, conditions on its facts, the channels sent by the rule engine and the message.
    public var on: String?
    public var when: OrderedMap<String>?
    public var send: [Channel]?
    public var subject: LocalizedText?
    public var message: LocalizedText?
    public var mail: String?
}

public struct FieldPolicies: Decodable, Sendable {
    public var immutable: [String]?
    public var changeHint: LocalizedText?
}

/// An assertion a provider writes about its own definition, run by `sportello test`.
public struct TenantTest: Decodable, Sendable {
    public var name: String?
    /// The role under test (assertions on features, scopes, user actions and flows).
    public var role: String?
    /// The request form under test (assertions on its rules: `at`, `values`, `open`, `shown`, `hidden`, `required`…).
    public var form: String?
    /// When, in the tenant's time zone: `yyyy-mm-dd` or `yyyy-mm-ddThh:mm` (default: now).
    public var at: String?
    /// The submission's values by field (`<record field>.<field>` for the picked record's fields), as stored.
    public var values: OrderedMap<String>?
    /// Whether the form takes the request at `at`.
    public var open: Bool?
    /// The form is closed at `at` and opens next then (`yyyy-mm-ddThh:mm`), or `never`.
    public var opensAt: String?
    /// Fields shown for `values`; fields hidden; fields shown and required.
    public var shown: [String]?
    public var hidden: [String]?
    public var required: [String]?
    /// Date fields whose deadline `values` miss at `at`.
    public var missedDeadlines: [String]?
    public var toggles: [String]?
    public var customerType: String?
    public var can: [String]?
    public var cannot: [String]?
    public var scope: OrderedMap<FeatureScope>?
    public var may: OrderedMap<[String]>?
    public var mayNot: OrderedMap<[String]>?
    public var creatorOnly: OrderedMap<[String]>?
    public var canUseFlow: [String]?
    public var cannotUseFlow: [String]?
    public var exclusive: [String]?
    public var changeableInPortal: Bool?
}

extension TenantDefinition {
    /// The customer fields customer types, flow steps and field policies may name: the platform's catalogue, then
    /// the tenant's own (`customer_fields:`).
    public var customerFieldNames: [String] { CustomerField.allNames + (customerFields?.keys ?? []) }
}
