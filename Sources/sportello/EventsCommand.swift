import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SportelloApplication
import SportelloCore
import SportelloMail
import SportelloStore
import SportelloWeb

/// `sportello events …`: the domain events each change records, and their delivery to the modules' consumers.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Deliver, list, replay or purge the domain events (what 'serve' delivers in the background).",
        discussion: """
        Every meaningful change records an event in its own transaction (invoice.issued, invoice.paid, request.created, \
        request.status_changed, chat.replied, registration.completed, user.invited, user.blocked, user.unblocked, \
        user.role_changed, line_activation.stage_reached, usage.threshold_crossed, record.created, record.changed). \
        Events go to the consumers of the portal's modules at least once, a customer's events in the order they \
        happened, failures retried with back-off; a delivery that fails too often is dead until replayed. Webhook \
        plugins are consumers named webhook:<plugin id>: 'list --failed' shows their dead deliveries and \
        'replay --consumer webhook:<plugin id>' sends them again.
        """,
        subcommands: [Deliver.self, List.self, Replay.self, Purge.self])

    /// The tenant ids to work on: the ones named, else every valid tenant of the definitions.
    struct TenantSelection: ParsableArguments {
        @Option(name: .customLong("tenant"), help: "A tenant id (repeatable; default: every tenant of the definitions).")
        var tenantIds: [String] = []

        @OptionGroup var definitions: DefinitionOptions

        func ids() throws -> [String] {
            if !tenantIds.isEmpty { return tenantIds }
            let result = try definitions.load()
            for diagnostic in result.errors { printError(diagnostic.description) }
            return result.tenants.map(\.definition.id)
        }
    }

    struct Deliver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deliver due events to the consumers 'serve' runs (modules, webhook plugins, notification rules): until stopped, or one pass with --once.")

        @OptionGroup var tenants: TenantSelection
        @OptionGroup var database: DatabaseOptions

        @Flag(help: "One pass: deliver what is due now, print what happened, and exit.")
        var once = false

        @Option(help: "Seconds a claimed delivery is left to this process before another may take it again.")
        var lease: Int64 = 120

        @Option(help: "Seconds between passes (without --once).")
        var pollInterval: Int = 5

        @Option(help: "Directory of page and e-mail templates (the notification rules' e-mails).")
        var templates: String = "templates"

        func validate() throws {
            guard lease > 0 else { throw ValidationError("--lease must be positive") }
            guard pollInterval > 0 else { throw ValidationError("--poll-interval must be positive") }
        }

        func run() async throws {
            let ids = try tenants.ids()
            let settings = EventDispatcher.Settings(pollInterval: .seconds(pollInterval), lease: lease)
            try await withDatabase(database) { db in
                try await db.requireMigrated()
                // The same consumers as `serve` (modules, webhook plugins, notification rules), over the same tenants
                // and templates: messages the rules queue wait in the outboxes for the mail and SMS workers.
                let result = try tenants.definitions.load()
                let templatesURL = URL(fileURLWithPath: templates)
                let mail = ReloadableMailTemplates(try MailTemplates(root: templatesURL))
                let registry = TenantRegistry()
                let reloader = TenantReloader(sources: TenantSources(paths: tenants.definitions.tenantPaths, plugins: result.plugins,
                                                                     templates: templatesURL),
                                              registry: registry, mail: mail, capabilities: PortalModules.capabilities)
                for rejection in await reloader.reload(trigger: "start").rejected {
                    printError("\(rejection.file): not loaded — its events wait until it is fixed")
                }
                let services = PortalServices(configuration: WebConfiguration(templatesDirectory: templatesURL), database: db,
                                              tenants: registry, mail: mail, payments: PaymentGateways(plugins: result.plugins),
                                              lookups: LookupServices(plugins: result.plugins))
                let eventConsumers = PortalEventConsumers(services: services, plugins: result.plugins)
                for line in eventConsumers.summary { print(line) }
                let dispatcher = EventDispatcher(database: db, consumers: eventConsumers.consumers, tenants: { ids }, settings: settings)
                if dispatcher.consumerIds.isEmpty {
                    print("no event consumer is configured: events are handed out to nobody (and purged after \(settings.retention / 86_400) days)")
                }
                if once {
                    let report = await dispatcher.deliverDue()
                    print("\(ids.count) tenant(s): \(report)")
                    if !report.tenantErrors.isEmpty { throw ExitCode(1) }
                    return
                }
                print("delivering events of \(ids.count) tenant(s) to \(dispatcher.consumerIds.joined(separator: ", ")) (stop with Ctrl-C)")
                let group = ServiceGroup(configuration: .init(services: [dispatcher], gracefulShutdownSignals: [.sigterm, .sigint],
                                                              logger: Logger(label: "sportello.events")))
                try await group.run()
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a tenant's events, newest first, with each consumer's delivery (ids, types and states only: no personal data).")

        @Option(help: "Tenant id.")
        var tenant: String

        @OptionGroup var database: DatabaseOptions

        @Flag(help: "Only events not yet delivered (waiting to be handed out, or a delivery pending).")
        var pending = false

        @Flag(help: "Only events with a dead delivery, or a pending one whose last attempt failed.")
        var failed = false

        @Option(help: "At most this many events.")
        var limit: Int = 50

        func validate() throws {
            if pending && failed { throw ValidationError("--pending and --failed exclude each other") }
            guard limit > 0 else { throw ValidationError("--limit must be positive") }
        }

        func run() async throws {
            let filter: EventLogFilter = pending ? .pending : (failed ? .failed : .all)
            let limit = limit
            let log = try await withDatabase(database) { db in
                try await db.requireMigrated()
                return try await db.read(tenant: tenant) { try await $0.eventLog(filter, limit: limit) }
            }
            let what = filter == .all ? "" : " \(filter.rawValue)"
            guard !log.isEmpty else {
                print("\(tenant): no\(what) events")
                return
            }
            print("\(tenant): \(log.count)\(what) event(s), newest first")
            for (event, deliveries) in log {
                let subject = "\(event.subjectKind)" + (event.subjectId.map { " #\($0)" } ?? "")
                print("  #\(event.id)  \(Self.time(event.occurredAt))  \(event.type)  customer \(event.customerId.map(String.init) ?? "-")  \(subject)")
                if !event.fannedOut { print("      waiting to be handed out") }
                if event.fannedOut && deliveries.isEmpty { print("      no consumer took it") }
                for delivery in deliveries {
                    var state = delivery.status.rawValue
                    switch delivery.status {
                    case .delivered: state += " \(Self.time(delivery.deliveredAt ?? 0))"
                    case .pending:
                        if delivery.attempts > 0 { state += ", attempt \(delivery.attempts)" }
                        state += delivery.claimedUntil > 0 ? ", being delivered (lease until \(Self.time(delivery.claimedUntil)))"
                                                          : ", next \(Self.time(delivery.nextAttemptAt))"
                    case .dead: state += " after \(delivery.attempts) attempt(s)"
                    }
                    print("      → \(delivery.consumer): \(state)" + (delivery.lastError.map { "; last error: \($0)" } ?? ""))
                }
            }
        }

        static func time(_ seconds: Int64) -> String {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyy-MM-dd HH:mm:ss'Z'"
            return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make dead deliveries pending again (due now, attempts reset): one event's, one consumer's, or all of a tenant's.")

        @Option(help: "Tenant id.")
        var tenant: String

        @Option(help: "Only this event's dead deliveries.")
        var event: Int64?

        @Option(help: "Only this consumer's dead deliveries.")
        var consumer: String?

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let (event, consumer) = (event, consumer)
            let count = try await withDatabase(database) { db in
                try await db.requireMigrated()
                return try await db.write(tenant: tenant) { try await $0.replayDeadDeliveries(eventId: event, consumer: consumer) }
            }
            print("\(tenant): \(count) dead deliver\(count == 1 ? "y" : "ies") pending again")
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete the events every consumer has taken that are older than the retention (what 'serve' does once a day).")

        @OptionGroup var tenants: TenantSelection
        @OptionGroup var database: DatabaseOptions

        @Option(help: "Keep events younger than this many days.")
        var olderThanDays: Int64 = 30

        func run() async throws {
            let ids = try tenants.ids()
            let settings = EventDispatcher.Settings(retention: olderThanDays * 86_400)
            let deleted = try await withDatabase(database) { db in
                try await db.requireMigrated()
                return await EventDispatcher(database: db, consumers: [], tenants: { ids }, settings: settings).purgeDelivered()
            }
            for id in ids { print("\(id): \(deleted[id] ?? 0) event(s) deleted") }
        }
    }
}
