import Foundation
import Logging
import SportelloApplication
import SportelloCore
import SportelloStore

/// Acts on the tenants' notification rules (`notifications:` entries with `on:`): for each recorded event, evaluates
/// the rules it triggers (`NotificationEvaluator`) against the customer's users and their choices, and queues the
/// messages — e-mail in the outbox (`MailDeliveryWorker` sends it), SMS in the SMS outbox (`SMSDeliveryWorker`) — in one
/// transaction that also marks the event as acted on. A redelivered event finds the mark and queues nothing: each
/// message is queued once.
///
/// E-mail: the rule's `mail:` template (`templates/<tenant>/mail/<mail>.<locale>.mustache`) with the event's facts as
/// values, else the `notification` template with the rule's `subject` and `message`. SMS: the rule's `message`, through
/// the sms plugin the tenant binds (queued even while that plugin is not connected: it waits, never dropped).
public struct NotificationRulesConsumer: EventConsumer {
    public let id = "notification_rules"
    let database: Database
    let tenants: TenantRegistry
    let mail: any MailComposer
    let sms: SMSGateways
    let wake: @Sendable () -> Void
    let clock: any WallClock
    let logger: Logger

    /// - Parameter wake: called after messages were queued (the mail and SMS workers' `wake`).
    public init(database: Database, tenants: TenantRegistry, mail: any MailComposer, sms: SMSGateways,
                wake: @escaping @Sendable () -> Void = {}, clock: any WallClock = SystemWallClock(),
                logger: Logger = Logger(label: "sportello.notifications")) {
        self.database = database; self.tenants = tenants; self.mail = mail; self.sms = sms; self.wake = wake; self.clock = clock
        self.logger = logger
    }

    /// The consumer of the portal: its database, tenants and mail templates.
    public init(services: PortalServices, sms: SMSGateways, wake: @escaping @Sendable () -> Void = {}) {
        self.init(database: services.database, tenants: services.tenants, mail: services.mail, sms: sms,
                  wake: { services.mailQueued(); wake() }, clock: services.clock)
    }

    public func accepts(_ event: RecordedEvent) -> Bool {
        guard event.customerId != nil, let tenant = tenants.tenant(id: event.tenant) else { return false }
        return (tenant.definition.notifications ?? OrderedMap()).values.contains { $0.on == event.type.rawValue }
    }

    public func deliver(_ event: RecordedEvent) async throws {
        guard let tenant = tenants.tenant(id: event.tenant), let customerId = event.customerId else { return }
        let definition = tenant.definition
        let subject = Self.notificationEvent(event)
        guard !NotificationEvaluator.triggeredRules(definition, by: subject).isEmpty else { return }
        let now = Int64(clock.now().timeIntervalSince1970)
        let audience = try await database.read(tenant: tenant.id, now: now) { transaction in
            try await Self.audience(customerId: customerId, tenant: tenant, in: transaction)
        }
        let messages = NotificationEvaluator.evaluate(subject, tenant: definition, audience: audience)
        let plugin = sms.plugin(for: definition)
        let sandbox = plugin.flatMap { sms[$0]?.isSandbox } ?? false
        let mail = mail
        var queued = (emails: 0, sms: 0)
        let outcome = try await database.write(tenant: tenant.id, now: now) { transaction -> (emails: Int, sms: Int)? in
            guard try await !transaction.wasNotified(eventId: event.id) else { return nil }
            var counts = (emails: 0, sms: 0)
            for message in messages {
                switch message.channel {
                case .email:
                    var values = message.values
                    if message.mailTemplate == nil {
                        values["subject"] = message.subject ?? ""
                        values["message"] = message.text
                    }
                    let record = try mail.compose(kind: message.mailTemplate ?? "notification", tenant: definition, locale: message.locale,
                                                  recipient: message.address, values: values, createdAt: transaction.now)
                    try await transaction.enqueueMail(record)
                    counts.emails += 1
                case .sms:
                    guard let plugin else { continue }
                    try await transaction.enqueueSMS(SMSRecord(createdAt: transaction.now, eventId: event.id, rule: message.rule, plugin: plugin,
                                                               sandbox: sandbox, recipient: message.address, body: message.text,
                                                               locale: message.locale))
                    counts.sms += 1
                case .portal:
                    continue
                }
            }
            try await transaction.markNotified(eventId: event.id, emails: counts.emails, sms: counts.sms)
            return counts
        }
        guard let outcome else {
            logger.debug("event already notified", metadata: ["tenant": "\(tenant.id)", "event": "\(event.id)"])
            return
        }
        queued = outcome
        if messages.contains(where: { $0.channel == .sms }) && plugin == nil {
            logger.warning("notification rules send SMS but the tenant binds no connected sms plugin",
                           metadata: ["tenant": "\(tenant.id)", "event": "\(event.id)"])
        }
        if queued.emails + queued.sms > 0 {
            logger.info("notifications queued", metadata: ["tenant": "\(tenant.id)", "event": "\(event.id)", "type": "\(event.type)",
                                                           "emails": "\(queued.emails)", "sms": "\(queued.sms)"])
            wake()
        }
    }

    /// The event as the evaluator reads it.
    static func notificationEvent(_ event: RecordedEvent) -> NotificationEvent {
        var facts: [String: NotificationFact] = [:]
        for (name, fact) in event.facts {
            switch fact {
            case .string(let value): facts[name] = .text(value)
            case .integer(let value): facts[name] = .number(value)
            case .bool(let value): facts[name] = .flag(value)
            case .strings(let values): facts[name] = .list(values)
            case .integers(let values): facts[name] = .list(values.map(String.init))
            case .null: continue
            }
        }
        return NotificationEvent(id: event.id, type: event.type.rawValue, customerId: event.customerId, subjectKind: event.subjectKind,
                                 subjectId: event.subjectId, actorUserId: event.actorUserId, facts: facts)
    }

    /// The customer's active users: their addresses, which rules their role grants, whether they administer the
    /// customer, and their saved choices.
    static func audience(customerId: Int64, tenant: PortalTenant, in transaction: TenantTransaction) async throws -> NotificationAudience {
        let rules = tenant.definition.notifications ?? OrderedMap()
        let customer = try await transaction.customer(id: customerId)
        let authorization = tenant.authorization
        var users: [NotificationUser] = []
        for user in try await transaction.users(customerId: customerId) where user.status == .active {
            guard let id = user.id else { continue }
            let principal = try? authorization.principal(role: user.role, toggles: Set(user.toggleList), customerType: customer?.customerType)
            var granted = Set<String>()
            for (ruleId, rule) in rules {
                if let feature = rule.feature, let principal, authorization.isAllowed(principal, feature) { granted.insert(ruleId) }
            }
            let administrator = principal.map { principal in
                authorization.roleIDs.contains { role in
                    if case .success = authorization.mayManage(actor: principal, actorID: String(id), action: .create,
                                                               target: ManagedUser(role: role)) { return true }
                    return false
                }
            } ?? false
            var choices: [String: [Channel: Bool]] = [:]
            for preference in try await transaction.notificationPreferences(userId: id) {
                if let channel = Channel(rawValue: preference.channel) { choices[preference.rule, default: [:]][channel] = preference.enabled }
            }
            users.append(NotificationUser(id: id, email: user.verifiedEmail ?? user.email, isAdministrator: administrator,
                                          grantedRules: granted, choices: choices, locale: user.locale))
        }
        return NotificationAudience(users: users, customerMobile: customer?.mobile)
    }
}
