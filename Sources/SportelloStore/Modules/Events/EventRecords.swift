import Foundation
import SportelloCore

/// The stable name of a kind of domain event (`invoice.issued`). Consumers, notification rules and webhooks select
/// events by it, and the in-process `DomainEvent`s of the application layer use the same names: never rename one.
public struct EventType: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public var description: String { rawValue }

    /// An invoice (or pro-forma) was issued: imported from the provider's systems, or created for an order.
    public static let invoiceIssued: EventType = "invoice.issued"
    /// An invoice's payment was confirmed: paid in the portal, or marked paid by an import.
    public static let invoicePaid: EventType = "invoice.paid"
    /// A customer's user (or the portal on their behalf) opened a request.
    public static let requestCreated: EventType = "request.created"
    /// Staff moved a request to another status (with the note they wrote, if any).
    public static let requestStatusChanged: EventType = "request.status_changed"
    /// An operator answered a customer's user in the support chat.
    public static let chatReplied: EventType = "chat.replied"
    /// A registration flow created a user (and, for a new customer, the customer).
    public static let registrationCompleted: EventType = "registration.completed"
    /// A user or staff invited someone to become a user of a customer.
    public static let userInvited: EventType = "user.invited"
    public static let userBlocked: EventType = "user.blocked"
    public static let userUnblocked: EventType = "user.unblocked"
    public static let userRoleChanged: EventType = "user.role_changed"
    /// A line activation reached a new stage (or a new percentage within its stage).
    public static let lineActivationStageReached: EventType = "line_activation.stage_reached"
    /// Usage that arrived took a consumption past a warning level (a percentage of an allowance).
    public static let usageThresholdCrossed: EventType = "usage.threshold_crossed"
    /// A record of one of the tenant's own kinds (`records:`) was created.
    public static let recordCreated: EventType = "record.created"
    /// A record of one of the tenant's own kinds changed (its values, date, owner or user).
    public static let recordChanged: EventType = "record.changed"

    /// Every type the portal records, for documentation and `sportello events list`.
    public static let all: [EventType] = [
        .invoiceIssued, .invoicePaid, .requestCreated, .requestStatusChanged, .chatReplied, .registrationCompleted,
        .userInvited, .userBlocked, .userUnblocked, .userRoleChanged, .lineActivationStageReached, .usageThresholdCrossed,
        .recordCreated, .recordChanged,
    ]
}

/// One fact an event carries, as it travels in JSON.
public enum EventFact: Sendable, Equatable, Codable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    case string(String)
    case integer(Int64)
    case bool(Bool)
    case strings([String])
    case integers([Int64])
    case null

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }

    /// `.string`, or `.null` for nil.
    public static func optional(_ value: String?) -> EventFact { value.map { .string($0) } ?? .null }
    /// `.integer`, or `.null` for nil.
    public static func optional(_ value: Int64?) -> EventFact { value.map { .integer($0) } ?? .null }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .integer(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([Int64].self) { self = .integers(value) }
        else { self = .strings(try container.decode([String].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .strings(let value): try container.encode(value)
        case .integers(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }

    public var string: String? { if case .string(let value) = self { value } else { nil } }
    public var integer: Int64? { if case .integer(let value) = self { value } else { nil } }
}

/// An event about to be recorded (`TenantTransaction.recordEvent`): what happened, to which customer, about what, by
/// whom, and the facts a notification or a webhook needs (ids and values, never labels: those depend on the reader's
/// language). The tenant and the time are the transaction's.
public struct EventDraft: Sendable, Equatable {
    public var type: EventType
    /// The customer the event is about; nil for the tenant's own events. A customer's events are delivered in order.
    public var customerId: Int64?
    /// What the event is about (`invoice`, `request`, `user`, `line_activation`, `record`, `share_plan`…) and its id.
    public var subjectKind: String
    public var subjectId: Int64?
    /// The user who made the change, when one did (nil for staff, imports and the portal itself).
    public var actorUserId: Int64?
    public var facts: [String: EventFact]

    public init(_ type: EventType, customerId: Int64?, subject subjectKind: String, id subjectId: Int64?, actorUserId: Int64? = nil,
                facts: [String: EventFact] = [:]) {
        self.type = type; self.customerId = customerId; self.subjectKind = subjectKind; self.subjectId = subjectId
        self.actorUserId = actorUserId; self.facts = facts
    }
}

/// An event as stored: the draft with its id (the order events happened in), tenant and time.
public struct RecordedEvent: Sendable, Equatable {
    public var id: Int64
    public var tenant: String
    public var type: EventType
    public var customerId: Int64?
    public var subjectKind: String
    public var subjectId: Int64?
    public var actorUserId: Int64?
    public var facts: [String: EventFact]
    /// Unix seconds.
    public var occurredAt: Int64
    /// Whether a dispatcher has created its deliveries yet.
    public var fannedOut: Bool

    public init(id: Int64, tenant: String, type: EventType, customerId: Int64?, subjectKind: String, subjectId: Int64?,
                actorUserId: Int64?, facts: [String: EventFact], occurredAt: Int64, fannedOut: Bool) {
        self.id = id; self.tenant = tenant; self.type = type; self.customerId = customerId; self.subjectKind = subjectKind
        self.subjectId = subjectId; self.actorUserId = actorUserId; self.facts = facts; self.occurredAt = occurredAt; self.fannedOut = fannedOut
    }

    /// The event as one JSON object (what a webhook would post): `id`, `tenant`, `type`, `customer_id`, `subject`,
    /// `actor_user_id`, `occurred_at` (Unix seconds) and `data` (the facts), keys sorted.
    public func json() -> String {
        struct Subject: Encodable { var kind: String; var id: Int64? }
        struct Body: Encodable {
            var id: Int64, tenant: String, type: String, customerId: Int64?, subject: Subject, actorUserId: Int64?, occurredAt: Int64
            var data: [String: EventFact]
            enum CodingKeys: String, CodingKey {
                case id, tenant, type, subject, data
                case customerId = "customer_id", actorUserId = "actor_user_id", occurredAt = "occurred_at"
            }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(id, forKey: .id); try container.encode(tenant, forKey: .tenant); try container.encode(type, forKey: .type)
                try container.encode(customerId, forKey: .customerId); try container.encode(subject, forKey: .subject)
                try container.encode(actorUserId, forKey: .actorUserId); try container.encode(occurredAt, forKey: .occurredAt)
                try container.encode(data, forKey: .data)
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = Body(id: id, tenant: tenant, type: type.rawValue, customerId: customerId, subject: Subject(kind: subjectKind, id: subjectId),
                        actorUserId: actorUserId, occurredAt: occurredAt, data: facts)
        return (try? String(decoding: encoder.encode(body), as: UTF8.self)) ?? "{}"
    }
}

/// Where one event stands with one consumer.
public enum EventDeliveryStatus: String, Codable, Sendable, CaseIterable {
    /// Not confirmed yet: due at `nextAttemptAt`, or under a dispatcher's lease until `claimedUntil`.
    case pending
    /// The consumer confirmed it.
    case delivered
    /// Given up after the last attempt (or refused for good): listed for ops, no longer holding the customer's later events.
    case dead
}

/// One event's delivery to one consumer.
public struct EventDelivery: Codable, Sendable, Equatable {
    public var id: Int64?
    public var eventId: Int64
    /// The consumer's stable id.
    public var consumer: String
    /// The event's customer id, 0 for events without one: deliveries of one key to one consumer go in event order.
    public var customerKey: Int64
    public var status: EventDeliveryStatus
    /// Attempts started (a claim counts as one, so a process killed mid-delivery has used one).
    public var attempts: Int
    public var nextAttemptAt: Int64
    /// The end of the lease of the dispatcher delivering it now (0 when none).
    public var claimedUntil: Int64
    /// The last failure's code and message (never personal data: see `EventDeliveryFailure`).
    public var lastError: String?
    public var deliveredAt: Int64?
    public var createdAt: Int64

    public init(id: Int64? = nil, eventId: Int64, consumer: String, customerKey: Int64, status: EventDeliveryStatus = .pending,
                attempts: Int = 0, nextAttemptAt: Int64, claimedUntil: Int64 = 0, lastError: String? = nil, deliveredAt: Int64? = nil,
                createdAt: Int64) {
        self.id = id; self.eventId = eventId; self.consumer = consumer; self.customerKey = customerKey; self.status = status
        self.attempts = attempts; self.nextAttemptAt = nextAttemptAt; self.claimedUntil = claimedUntil; self.lastError = lastError
        self.deliveredAt = deliveredAt; self.createdAt = createdAt
    }
}

/// A delivery a dispatcher holds under lease, with its event.
public struct ClaimedDelivery: Sendable, Equatable {
    /// The delivery as claimed (attempts already counting this one, `claimedUntil` the lease's end).
    public var delivery: EventDelivery
    public var event: RecordedEvent
}

/// Turns event recording off for the work of `body` in this task (demo data: a fabricated history must not notify
/// anyone). Everything else records events.
public enum EventRecording {
    @TaskLocal public static var isSuppressed = false

    /// Runs `body` without recording events.
    public static func suppressed<T>(_ body: () async throws -> T) async rethrows -> T {
        try await $isSuppressed.withValue(true) { try await body() }
    }
}
