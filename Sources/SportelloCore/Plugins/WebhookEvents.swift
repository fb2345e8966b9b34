import Foundation

/// What a webhook may select and carry, known to `sportello validate` without the store.
public enum WebhookEvents {
    /// Every event type the portal records, in `EventType.all`'s order (SportelloStore; a test keeps the two equal).
    public static let types: [String] = [
        "invoice.issued", "invoice.paid", "request.created", "request.status_changed", "chat.replied", "registration.completed",
        "user.invited", "user.blocked", "user.unblocked", "user.role_changed", "line_activation.stage_reached",
        "usage.threshold_crossed", "record.created", "record.changed",
    ]

    /// Facts left out of a webhook's `data` unless the tenant's binding says `personal_data: true`: text people wrote
    /// (a request's subject, a staff note, an operator's name) and values that identify a person or a line (a line's
    /// number, a phone number or e-mail address — any fact whose name contains `phone` or `email` —, every value of a
    /// tenant-defined record, `value.<field>`). Ids, amounts, days, statuses and roles are always sent: the provider's
    /// systems already know whom they refer to.
    public static let personalFacts: Set<String> = ["subject", "note", "operator", "identifier"]

    /// Whether the fact `name` is personal (see `personalFacts`).
    public static func isPersonal(_ name: String) -> Bool {
        personalFacts.contains(name) || name.hasPrefix("value.") || name.contains("phone") || name.contains("email")
    }
}
