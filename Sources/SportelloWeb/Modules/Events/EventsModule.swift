import Foundation
import SportelloApplication
import SportelloCore
import SportelloStore

extension PortalModule {
    /// Domain events: every meaningful change records one in its own transaction (`TenantTransaction.recordEvent`),
    /// and `EventDispatcher` hands them to the consumers of every module. No page, no capability: its tables, and the
    /// test consumer `EventLogFileConsumer` when `SPORTELLO_EVENTS_TEST_LOG` names a file.
    static let events = PortalModule("events", controllers: [],
        storage: .events,
        eventConsumers: [EventLogFileConsumer.fromEnvironment()].compactMap { $0 })
}
