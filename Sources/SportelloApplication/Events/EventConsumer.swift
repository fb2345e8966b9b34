import Foundation
import SportelloCore
import SportelloStore

/// Something that acts on recorded domain events, outside the transaction that recorded them: notification rules,
/// webhooks, SMS gateways, other plugins. Modules list theirs (`PortalModule.eventConsumers`); the event dispatcher
/// hands each event a consumer accepts to `deliver` at least once, a customer's events in the order they happened,
/// retrying failures with back-off.
///
/// `deliver` may see an event twice (a dispatcher killed after delivering and before recording it), so it must be
/// idempotent on `event.id` (with `event.tenant`).
public protocol EventConsumer: Sendable {
    /// The consumer's stable id, stored with each delivery: renaming it orphans the deliveries under the old id.
    var id: String { get }
    /// Whether the consumer wants `event` (its type, its tenant…); asked once per event, when its deliveries are
    /// created. Events recorded while a consumer is not listed are not delivered to it later.
    func accepts(_ event: RecordedEvent) -> Bool
    /// Acts on the event; throwing means "not delivered": an `EventDeliveryFailure` says why in words kept for ops
    /// (no personal data) and whether trying again can help; any other error is recorded by its type name only.
    func deliver(_ event: RecordedEvent) async throws
    /// When a failed delivery is tried again and given up: the dispatcher's `defaults`, or the consumer's own (a
    /// webhook plugin's `retry:`).
    func retrySchedule(over defaults: RetrySchedule) -> RetrySchedule
}

extension EventConsumer {
    public func accepts(_ event: RecordedEvent) -> Bool { true }
    public func retrySchedule(over defaults: RetrySchedule) -> RetrySchedule { defaults }
}

/// Why a consumer did not take an event.
public typealias EventDeliveryFailure = DeliveryFailure

/// Why a receiver (an event consumer, an SMS gateway) did not take what was sent to it, in words safe to store and show
/// to ops (no personal data, no secrets).
public struct DeliveryFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable code (`timeout`, `http_503`, `refused`).
    public var code: String
    public var message: String
    /// True when trying again cannot help (the receiver refused the event): the delivery is dead at once.
    public var isPermanent: Bool

    public init(code: String, message: String, isPermanent: Bool = false) {
        self.code = code; self.message = message; self.isPermanent = isPermanent
    }

    public var description: String { "\(code): \(message)" }

    /// What is stored as a delivery's last error for `error`: a failure's code and message (at most 300 characters),
    /// else only the error's type name (its description could quote personal data).
    public static func storedText(for error: any Error) -> String {
        if let failure = error as? DeliveryFailure { return String(failure.description.prefix(300)) }
        return "error: \(String(describing: type(of: error)))"
    }
}
