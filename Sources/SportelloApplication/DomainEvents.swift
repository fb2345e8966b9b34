import Foundation
import SportelloCore
import SportelloStore

/// Something that happened in one module that another module may act on, inside the same transaction
/// (a paid pro-forma starts the hosting it was issued for).
///
/// The durable record of the same happening is written by the store function that makes the change
/// (`TenantTransaction.recordEvent`, in the same transaction, so it exists if and only if the change commits) and
/// delivered after the commit to the modules' `EventConsumer`s. Both go by one name, an `EventType`: `name` is the
/// durable event's type, so a handler here and a consumer there subscribe to the same `invoice.paid`.
public enum DomainEvent: Sendable, Equatable {
    /// An invoice of `customerId` was paid (recorded durably as `EventType.invoicePaid` by `payInvoice`).
    case invoicePaid(invoiceId: Int64, customerId: Int64)

    /// The event's stable name (handlers subscribe by name; the audit log uses it): its durable `EventType`.
    public var name: String { type.rawValue }

    /// The type of the durable event recorded with it.
    public var type: EventType {
        switch self {
        case .invoicePaid: .invoicePaid
        }
    }
}

/// A module's reaction to an event, run in the transaction that raised it: if it throws, nothing of the
/// use case is written.
public struct DomainEventHandler: Sendable {
    /// The event name handled (`invoice.paid`).
    public let event: String
    /// The module handling it (for logs).
    public let module: String
    let handle: @Sendable (DomainEvent, ServedTenant, TenantTransaction) async throws -> Void

    public init(on event: String, module: String,
                _ handle: @escaping @Sendable (DomainEvent, ServedTenant, TenantTransaction) async throws -> Void) {
        self.event = event; self.module = module; self.handle = handle
    }
}

/// The handlers of every module, by event name, built once from the module list.
public struct DomainEvents: Sendable {
    private let handlers: [String: [DomainEventHandler]]

    public init(_ handlers: [DomainEventHandler] = []) {
        self.handlers = Dictionary(grouping: handlers, by: \.event)
    }

    /// Runs every handler of `event` in `transaction`, in registration order.
    public func publish(_ event: DomainEvent, tenant: ServedTenant, in transaction: TenantTransaction) async throws {
        for handler in handlers[event.name] ?? [] { try await handler.handle(event, tenant, transaction) }
    }

    /// The modules that react to `event`.
    public func modules(handling event: String) -> [String] { (handlers[event] ?? []).map(\.module) }
}
