import Foundation
import SportelloCore
import SportelloStore

/// The JSON a webhook POSTs for one event: a stable schema (version 1), keys sorted, no secrets.
///
/// ```json
/// {"customer_id": 12, "data": {"invoice_id": 7, "number": "2026/000123", "total_cents": 12200, …},
///  "id": 42, "occurred_at": "2026-12-07T01:00:00Z", "occurred_at_unix": 1796605200, "redacted": [],
///  "schema": 1, "subject": {"id": 7, "kind": "invoice"}, "actor_user_id": null, "tenant": "unidata",
///  "type": "invoice.issued"}
/// ```
///
/// - `id`: the event's id in the tenant (what `sportello events list` shows); with `tenant` it names the event for
///   good, and the `Idempotency-Key` header is `<tenant>:<id>`: a retry or a replay sends the same key.
/// - `data`: the event's facts (ids, amounts in cents, days `YYYY-MM-DD`, statuses; never labels). Personal facts
///   (`WebhookEvents.isPersonal`) are left out and their names listed in `redacted`, unless the tenant's binding says
///   `personal_data: true`.
public struct WebhookPayload: Sendable {
    public static let schemaVersion = 1

    /// The body for `event`, personal facts left out unless `personalData`.
    public static func body(for event: RecordedEvent, personalData: Bool) -> Data {
        var data: [String: EventFact] = [:]
        var redacted: [String] = []
        for (name, fact) in event.facts {
            if !personalData && WebhookEvents.isPersonal(name) {
                if fact != .null { redacted.append(name) }
            } else {
                data[name] = fact
            }
        }
        let body = Body(schema: schemaVersion, id: event.id, tenant: event.tenant, type: event.type.rawValue,
                        occurredAt: iso8601(event.occurredAt), occurredAtUnix: event.occurredAt, customerId: event.customerId,
                        subject: Subject(kind: event.subjectKind, id: event.subjectId), actorUserId: event.actorUserId,
                        data: data, redacted: redacted.sorted())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(body)) ?? Data("{}".utf8)
    }

    /// `Idempotency-Key` of `event`: the same for every attempt and every replay.
    public static func idempotencyKey(for event: RecordedEvent) -> String { "\(event.tenant):\(event.id)" }

    static func iso8601(_ seconds: Int64) -> String {
        LocalTime.isoUTC(seconds)
    }

    struct Subject: Encodable {
        var kind: String
        var id: Int64?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(kind, forKey: .kind)
            try container.encode(id, forKey: .id)
        }

        enum CodingKeys: String, CodingKey { case kind, id }
    }

    struct Body: Encodable {
        var schema: Int
        var id: Int64
        var tenant: String
        var type: String
        var occurredAt: String
        var occurredAtUnix: Int64
        var customerId: Int64?
        var subject: Subject
        var actorUserId: Int64?
        var data: [String: EventFact]
        var redacted: [String]

        enum CodingKeys: String, CodingKey {
            case schema, id, tenant, type, subject, data, redacted
            case occurredAt = "occurred_at", occurredAtUnix = "occurred_at_unix", customerId = "customer_id", actorUserId = "actor_user_id"
        }

        // Explicit so that absent values are `null`, not missing keys: the schema has every key, always.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(schema, forKey: .schema); try container.encode(id, forKey: .id)
            try container.encode(tenant, forKey: .tenant); try container.encode(type, forKey: .type)
            try container.encode(occurredAt, forKey: .occurredAt); try container.encode(occurredAtUnix, forKey: .occurredAtUnix)
            try container.encode(customerId, forKey: .customerId); try container.encode(subject, forKey: .subject)
            try container.encode(actorUserId, forKey: .actorUserId); try container.encode(data, forKey: .data)
            try container.encode(redacted, forKey: .redacted)
        }
    }
}
