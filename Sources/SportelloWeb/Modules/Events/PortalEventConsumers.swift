import Foundation
import SportelloApplication
import SportelloCore

/// What acts on a portal's recorded events, one list for `serve` and `sportello events deliver`: the modules'
/// consumers, one per webhook plugin some tenant binds (following each tenant's binding as it is when the event is
/// delivered), and the notification rules' — with the SMS worker that sends what the rules queue.
public struct PortalEventConsumers: Sendable {
    public let consumers: [any EventConsumer]
    public let webhooks: WebhookConsumers
    public let sms: SMSGateways
    /// Sends the SMS outbox through `sms` (a `Service` for `serve`; `deliverDue` for one pass).
    public let smsWorker: SMSDeliveryWorker

    /// - Parameter environment: where plugin endpoints and secrets are read (the process's environment).
    public init(services: PortalServices, plugins: PluginCatalogue,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        let registry = services.tenants
        // Which tenants bind each webhook comes from the tenant index: building 10,000 tenants to find out would undo it.
        let subscribers = Dictionary(uniqueKeysWithValues: plugins.manifests(of: .webhook).map { ($0.id, registry.ids(binding: $0.id)) })
        webhooks = WebhookConsumers(subscribers: subscribers, plugins: plugins, environment: environment,
                                    currentTenant: { registry.tenant(id: $0)?.definition })
        let sms = SMSGateways(plugins: plugins, environment: environment)
        self.sms = sms
        let worker = SMSDeliveryWorker(database: services.database, gateways: sms, tenants: { registry.ids },
                                       clock: services.clock, random: services.random)
        smsWorker = worker
        let notifications = NotificationRulesConsumer(services: services, sms: sms, wake: { worker.wake() })
        consumers = services.catalog.modules.flatMap(\.eventConsumers) + webhooks.consumers + [notifications]
    }

    /// One line per webhook and sms plugin: connected (sandbox or not) or why not.
    public var summary: [String] {
        var lines = webhooks.summary
        for (id, gateway) in sms.gateways.sorted(by: { $0.key < $1.key }) {
            lines.append("sms: \(id)\(gateway.isSandbox ? " (SANDBOX: no SMS reaches a phone)" : "") connected")
        }
        for (id, reason) in sms.unavailable.sorted(by: { $0.key < $1.key }) {
            lines.append("sms: \(id) not connected (\(reason)) — SMS wait in the SMS outbox")
        }
        return lines
    }
}
