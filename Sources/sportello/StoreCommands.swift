import ArgumentParser
import Foundation
import SportelloCore
import SportelloStore
import SportelloWeb
import SportelloApplication
import SportelloMail
import ServiceLifecycle
import Hummingbird
import Logging

/// Which database to use: `--database`, else `SPORTELLO_DATABASE_URL`, else `DATABASE_URL`, else `data/sportello.sqlite`.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "postgres://user:password@host:port/db, or an SQLite file path (default: $SPORTELLO_DATABASE_URL, else $DATABASE_URL, else data/sportello.sqlite).")
    var database: String?

    var location: DatabaseLocation { DatabaseLocation.fromEnvironment(override: database ?? Self.fromEnvironment) }

    /// `SPORTELLO_DATABASE_URL` when set and not empty.
    static var fromEnvironment: String? {
        ProcessInfo.processInfo.environment["SPORTELLO_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// True when nothing was configured: the development default, which may be set up automatically.
    var isDevelopmentDefault: Bool {
        database == nil && Self.fromEnvironment == nil && (ProcessInfo.processInfo.environment["DATABASE_URL"] ?? "").isEmpty
    }

    func open(readers: Int = 4) async throws -> Database {
        do {
            return try await Database.open(location, modules: PortalModules.storage, readers: readers)
        } catch let error as StoreError {
            throw ValidationError(error.message)
        }
    }
}

func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

/// Opens the database (`readers`: SQLite reader connections), runs `body`, and closes it whatever happens.
func withDatabase<T>(_ options: DatabaseOptions, readers: Int = 4, _ body: (Database) async throws -> T) async throws -> T {
    let database = try await options.open(readers: readers)
    do {
        let result = try await body(database)
        await database.close()
        return result
    } catch {
        await database.close()
        throw error
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or update the database schema (safe to run again).")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        try await withDatabase(database) { db in
            let report = try await db.migrate()
            for id in report.applied { print("applied \(id)") }
            print(report.applied.isEmpty ? "\(db.location): up to date (\(report.alreadyApplied.count) migrations)"
                                         : "\(db.location): \(report.applied.count) migration(s) applied")
            if db.engine == .postgres, try await !db.rowLevelSecurityApplies() {
                printError("warning: the PostgreSQL role is a superuser or has BYPASSRLS, so row-level security does not apply to it; connect as an ordinary role")
            }
        }
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import customers, contracts, lines, invoices, payments, usage, recharges and the tenant's own record kinds (JSON Lines or CSV).",
        discussion: """
        Every record carries the provider's external_id (for the tenant's own kinds, the value of the kind's
        external_id field); importing the same file twice changes nothing. Customer rows may carry the tenant's
        customer_fields; a row of one of its record kinds has type <kind id>, its fields, and customer (the
        customer's external_id) or owner (the owner record's external id), and optionally user (a username).
        The whole file is checked first: any bad line is reported with its number and nothing is written.
        """)

    @OptionGroup var tenantOption: TenantOption
    @OptionGroup var database: DatabaseOptions

    @Argument(help: "The file to import (.jsonl or .csv).")
    var file: String

    @Option(help: "Record kind for a CSV file without a 'type' column (customer, contract, line, invoice, payment, usage, recharge, or one of the tenant's records: kinds); default: from the file name.")
    var kind: String?

    @Option(help: "jsonl or csv (default: from the file extension).")
    var format: String?

    func run() async throws {
        let tenant = try tenantOption.load().definition
        var recordKind: ImportKind?
        if let kind {
            guard let parsed = ImportKind(name: kind, recordKinds: tenant.recordKinds.keys) else {
                let names = ImportKind.builtIn.map(\.rawValue) + tenant.recordKinds.keys
                let hint = Suggest.closest(to: kind, in: names).map { "; did you mean '\($0)'?" } ?? ""
                throw ValidationError("unknown kind '\(kind)' (one of \(names.joined(separator: ", "))\(hint))")
            }
            recordKind = parsed
        }
        var fileFormat: ImportFormat?
        if let format {
            guard let parsed = ImportFormat(rawValue: format) else { throw ValidationError("--format must be jsonl or csv") }
            fileFormat = parsed
        }
        let started = Date()
        try await withDatabase(database) { db in
            try await db.requireMigrated()
            do {
                let report = try await Importer(database: db, tenant: tenant).importFile(at: file, format: fileFormat, kind: recordKind)
                let parts = report.written.keys.sorted().compactMap { kind in report.written[kind].flatMap { $0 > 0 ? "\($0) \(kind.rawValue)" : nil } }
                print("\(file): imported \(report.total) record(s) into \(tenant.id) (\(parts.joined(separator: ", "))) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
            } catch let rejected as ImportRejected {
                for problem in rejected.problems.prefix(100) { printError("\(file):\(problem.line): error: \(problem.message)") }
                if rejected.problems.count > 100 { printError("… and \(rejected.problems.count - 100) more") }
                printError("\(file): \(rejected.problems.count) problem(s); nothing was imported")
                throw ExitCode(1)
            } catch let error as StoreError {
                printError("\(file): error: \(error.message)")
                throw ExitCode(1)
            }
        }
    }
}

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Fill the database with realistic demo data for every tenant and print logins.")

    @OptionGroup var definitions: DefinitionOptions
    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Delete each tenant's existing data first.")
    var replace = false

    @Option(help: "Random seed (same seed, same data).")
    var seed: UInt64 = 2026

    @Option(help: "bcrypt cost for the demo passwords.")
    var cost: UInt8 = 10

    func run() async throws {
        let loaded = try definitions.load()
        for diagnostic in loaded.errors { printError(diagnostic.description) }
        try await withDatabase(database) { db in
            let migration = try await db.migrate()
            if !migration.applied.isEmpty { print("\(db.location): \(migration.applied.count) migration(s) applied") }
            let logins = try await seedDemo(db, tenants: loaded.tenants.map(\.definition), replace: replace, seed: seed, cost: cost)
            printLogins(logins, tenants: loaded.tenants.map(\.definition))
        }
        if loaded.hasErrors { throw ExitCode(1) }
    }
}

/// Seeds each tenant that has no customers yet (or all, with `replace`); returns the logins created.
func seedDemo(_ db: Database, tenants: [TenantDefinition], replace: Bool, seed: UInt64, cost: UInt8) async throws -> [DemoLogin] {
    var logins: [DemoLogin] = []
    for tenant in tenants {
        let existing = try await db.read(tenant: tenant.id) { try await $0.customers(limit: 1).count }
        if existing > 0 {
            guard replace else {
                print("\(tenant.id): already has data, left as it is (use --replace to rebuild)")
                continue
            }
            try await db.write(tenant: tenant.id) { try await $0.deleteAllTenantData() }
        }
        let started = Date()
        let summary = try await DemoDataGenerator(tenant: tenant, now: now(), seed: seed, hasher: BcryptPasswordHasher(cost: cost))
            .generate(into: db)
        let counts = summary.counts.filter { $0.1 > 0 }.map { "\($0.1) \($0.0.rawValue)" }.joined(separator: ", ")
        print("\(tenant.id): \(counts) (\(String(format: "%.1f", Date().timeIntervalSince(started))) s)")
        logins += summary.logins
    }
    return logins
}

func printLogins(_ logins: [DemoLogin], tenants: [TenantDefinition]) {
    guard !logins.isEmpty else { return }
    print("\nDemo logins (password for all: \(DemoDataGenerator.password))")
    for tenant in tenants {
        let mine = logins.filter { $0.tenant == tenant.id }
        guard !mine.isEmpty else { continue }
        // The address `serve` would print with the same environment (SPORTELLO_PUBLIC_URL, SPORTELLO_PORT…).
        let address = (try? ServeSettings.resolve(environment: ProcessInfo.processInfo.environment)) ?? ServeSettings()
        print("  \(tenant.name) — \(address.publicURL(host: tenant.hosts.first(where: { $0.hasSuffix(".localhost") }) ?? tenant.hosts.first ?? tenant.id))")
        let width = mine.map { $0.role.count + $0.customerType.count + 3 }.max() ?? 10
        for login in mine {
            let label = "\(login.role) (\(login.customerType))"
            print("    \(label.padding(toLength: width, withPad: " ", startingAt: 0))  \(login.username)")
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve every tenant's portal.", discussion: ServeOptions.environmentHelp)

    @OptionGroup var definitions: DefinitionOptions
    @OptionGroup var database: DatabaseOptions

    /// Every setting also from the environment (ServeConfiguration.swift); flags win.
    @OptionGroup var options: ServeOptions

    /// Tenants the start-up banner lists one by one.
    static let bannerTenants = 50

    func run() async throws {
        // Output goes out line by line (a service's log must not wait in a buffer until exit).
        lineBufferStandardOutput()
        let settings = try options.resolve(database: database.database)
        ServeOptions.bootstrapLogging(settings)
        let port = settings.port, hostname = settings.hostname, templates = settings.templates, migrate = settings.migrate
        let publicScheme = settings.publicScheme, publicPort = settings.publicPort, secureCookies = settings.secureCookies
        let passwordCost = settings.passwordCost, trustedProxy = settings.trustedProxies
        let trustedProxies: [TrustedProxy]
        do {
            trustedProxies = try TrustedProxy.list(trustedProxy)
        } catch {
            printError("error: --trusted-proxy / SPORTELLO_TRUSTED_PROXIES: \(error)")
            throw ExitCode(1)
        }
        // The tenants serve from a registry the reloader swaps whole (LiveTenants/): at start, then whenever a file
        // changes (--watch-interval), on SIGHUP and on `sportello reload`. Files the tenant index knows unchanged are
        // not parsed again (--tenant-index); their tenants are built on their first request.
        let plugins = PluginCatalogue.load(directory: definitions.plugins)
        for diagnostic in plugins.diagnostics { printError(diagnostic.description) }
        let templatesURL = URL(fileURLWithPath: templates)
        let mailTemplates = ReloadableMailTemplates(try MailTemplates(root: templatesURL))
        let registry = TenantRegistry()
        let reloader = TenantReloader(sources: TenantSources(paths: definitions.tenantPaths, plugins: plugins, templates: templatesURL,
                                                             indexPath: settings.tenantIndex, residentLimit: settings.residentTenants),
                                      registry: registry, mail: mailTemplates, capabilities: PortalModules.capabilities)
        let started = await reloader.reload(trigger: "start")
        for warning in started.warnings { printError(warning) }
        for rejection in started.rejected {
            for line in rejection.errors { printError(line) }
            printError("\(rejection.file): not served\(rejection.tenant.map { " (tenant \($0))" } ?? "") — its hosts answer 503 until the file is fixed")
        }
        // A broken tenant file keeps only itself out (its hosts answer 503), unless --strict; with no tenant at all
        // there is nothing to serve.
        if settings.strict && !started.rejected.isEmpty || registry.count == 0 {
            if !settings.strict { printError("error: no tenant file loads") }
            throw ExitCode(1)
        }
        print("tenants: \(registry.count) served, \(started.validatedFiles) file(s) validated, \(registry.count - min(registry.count, started.validatedFiles)) from the tenant index\(settings.tenantIndex.map { " (\($0))" } ?? "")")
        try await withDatabase(database, readers: settings.poolSize) { db in
            let pending = try await db.pendingMigrations()
            if !pending.isEmpty {
                if database.isDevelopmentDefault || migrate {
                    let fresh = pending.first == "0001_tables"
                    _ = try await db.migrate()
                    print("\(db.location): \(pending.count) migration(s) applied")
                    if fresh && database.isDevelopmentDefault {
                        print("A new development database: filling it with demo data…")
                        let tenants = registry.definitions
                        printLogins(try await seedDemo(db, tenants: tenants, replace: false, seed: 2026, cost: UInt8(clamping: passwordCost)), tenants: tenants)
                    }
                } else {
                    printError("error: \(db.location) is not migrated (\(pending.joined(separator: ", "))): run 'sportello migrate' first, or 'sportello serve --migrate'")
                    throw ExitCode(1)
                }
            }
            if db.engine == .postgres, try await !db.rowLevelSecurityApplies() {
                printError("warning: the PostgreSQL role bypasses row-level security; tenant fencing relies on the query layer alone")
            }
            // The banner names every tenant of a small deployment; a large one is summed up (building 10,000 tenants
            // to print them would undo the index).
            let listed = registry.ids.prefix(Self.bannerTenants)
            for id in listed {
                guard let tenant = registry.tenant(id: id) else { continue }
                let count = try await db.read(tenant: id) { transaction in
                    (try await transaction.customers(limit: 1_000).count)
                }
                print("  \(summary(tenant.definition)) — \(count) customers")
                for host in tenant.definition.hosts { print("    \(settings.publicURL(host: host))") }
            }
            if registry.count > listed.count { print("  … and \(registry.count - listed.count) more tenants") }
            let configuration = WebConfiguration(hostname: hostname, port: port, templatesDirectory: templatesURL,
                                                 publicScheme: publicScheme, publicPort: publicPort, secureCookies: secureCookies,
                                                 trustedProxies: trustedProxies)
            if !trustedProxies.isEmpty { print("trusted proxies: \(trustedProxies.map(\.description).joined(separator: ", "))") }
            var extra: [any Service] = []
            var wake: @Sendable () -> Void = {}
            if let smtp = try SMTPConfiguration.fromEnvironment() {
                let worker = MailDeliveryWorker(database: db, smtp: smtp, tenants: { registry.ids },
                                                senderName: { id in registry.tenant(id: id)?.definition.name })
                extra.append(worker)
                wake = { worker.wake() }
                print("mail: delivering through \(smtp)")
            } else {
                print("mail: no SPORTELLO_SMTP_URL set — e-mails stay in the outbox; list them with 'sportello mail'")
            }
            let payments = PaymentGateways(plugins: plugins)
            for gateway in payments.gateways.values.sorted(by: { $0.id < $1.id }) {
                print("payments: \(gateway.id) (\(gateway.manifest.name)\(gateway.isSandbox ? ", SANDBOX: no real charge" : "")) at \(gateway.baseURL)")
            }
            for (id, reason) in payments.unavailable.sorted(by: { $0.key < $1.key }) {
                print("payments: \(id) not connected (\(reason)) — its payment pages say online payment is not available")
            }
            // Lookup plugins (plugins/<id>.yaml, kind: lookup): connected when their endpoint and secret are set.
            let lookups = LookupServices(plugins: plugins)
            for client in lookups.clients.values.sorted(by: { $0.id < $1.id }) {
                print("lookup: \(client.id) (\(client.operation?.rawValue ?? "?")\(client.isSandbox ? ", SANDBOX data" : "")) at \(client.baseURL)")
            }
            for (id, reason) in lookups.unavailable.sorted(by: { $0.key < $1.key }) {
                print("lookup: \(id) not connected (\(reason)) — the pages bound to it say the service is not available")
            }
            let services = PortalServices(configuration: configuration, database: db, tenants: registry,
                                          passwords: BcryptPasswordHasher(cost: UInt8(clamping: passwordCost)), mail: mailTemplates, mailQueued: wake,
                                          payments: payments, lookups: lookups)
            // Retention: the tenants' record kinds (delete_after) and the platform's own limits (RetentionPolicy), daily.
            extra.append(PlatformRetentionJob(services: services))
            // The events' consumers (SportelloWeb/Modules/Events/PortalEventConsumers): the modules', the webhook plugins',
            // the notification rules' (with the SMS worker for the sms plugins).
            let eventConsumers = PortalEventConsumers(services: services, plugins: plugins)
            for line in eventConsumers.summary { print(line) }
            extra.append(eventConsumers.smsWorker)
            extra.append(OverdueInvoicesJob(services: services))
            let events = EventDispatcher(database: db, consumers: eventConsumers.consumers,
                                         tenants: { registry.ids }, clock: services.clock, random: services.random)
            extra.append(events)
            print("events: delivering to \(events.consumerIds.isEmpty ? "no consumer yet (recorded, purged after 30 days)" : events.consumerIds.joined(separator: ", "))")
            // Operations: request log, metrics, /ready, the 503 of a database outage (SportelloWeb/Observability).
            let operations = Operations(services: services, options: settings.operationsOptions)
            operations.attach(reloader)
            extra.append(TenantWatcher(reloader: reloader, interval: settings.watchInterval))
            print("tenants: reloaded on SIGHUP, 'sportello reload'" + (settings.watchInterval.map { " and file changes (checked every \($0))" } ?? " (file watching off)"))
            if let metricsPort = settings.metricsPort {
                extra.append(buildOperationsApplication(services: services, operations: operations,
                                                        hostname: settings.metricsHostname, port: metricsPort))
                print("operations: /metrics, /ready and /health on http://\(settings.metricsHostname):\(metricsPort)/")
            } else {
                print("operations: /ready and /health on every host; no /metrics (set --metrics-port or SPORTELLO_METRICS_PORT)")
            }
            print("logs: \(settings.logFormat.rawValue), level \(settings.logLevel.rawValue); database timeout \(settings.databaseTimeout)")
            print("serving \(registry.count) portals on \(hostname):\(port)")
            try await buildApplication(services: services, extraServices: extra, operations: operations).runService()
        }
    }
}

/// `sportello records …`: the tenants' own record kinds (`records:`).
struct RecordsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "records", abstract: "Work on the tenants' own record kinds (records:).",
                                                    subcommands: [RecordsPurge.self])
}

struct RecordsPurge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Delete the records whose kind's retention.delete_after has passed (what 'serve' does once a day), and print what was deleted.",
        discussion: "A record is deleted when its date is older than its kind's delete_after, with the records it owns; records "
            + "without a date are kept. Each tenant is purged in a transaction of its own: a tenant that fails is reported "
            + "and the others are purged all the same (the exit status is then 1).")

    @OptionGroup var selection: TenantSelection

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let (tenants, hadErrors) = try selection.load()
        let chosen = tenants
        let report = try await withDatabase(database) { db in
            try await db.requireMigrated()
            // Failures are printed below; the log keeps only their cause.
            var logger = Logger(label: "sportello.retention")
            logger.logLevel = .error
            return await RecordRetentionJob(database: db, tenants: TenantDirectory { chosen }, logger: logger).purgeExpired()
        }
        for tenant in chosen {
            if report.failed.contains(tenant.id) {
                printError("\(tenant.id): error: the purge failed; nothing was deleted")
            } else if let deleted = report.deleted[tenant.id] {
                let kinds = deleted.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
                print("\(tenant.id): deleted \(kinds.joined(separator: ", ")) (each count with the records they own)")
            } else {
                let deleting = tenant.recordKinds.filter { $0.value.retention?.deleteAfter != nil }.map(\.key)
                print("\(tenant.id): nothing expired" + (deleting.isEmpty ? " (no record kind has delete_after)" : ""))
            }
        }
        print("\(report.total) record(s) deleted" + (report.failed.isEmpty ? "" : ", \(report.failed.count) tenant(s) failed"))
        if !report.failed.isEmpty || hadErrors { throw ExitCode(1) }
    }
}

/// Writes numbered audit entries one transaction at a time and prints each number once committed;
/// the durability test kills it with SIGKILL and checks every acknowledged number survived.
struct WriteProbe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "_write-probe", abstract: "Durability probe (for tests).",
                                                    shouldDisplay: false)

    @OptionGroup var database: DatabaseOptions

    @Option var count: Int = 100_000

    func run() async throws {
        try await withDatabase(database) { db in
            _ = try await db.migrate()
            for number in 1...count {
                try await db.write(tenant: "probe") { try await $0.audit("probe.write", targetId: String(number)) }
                FileHandle.standardOutput.write(Data("ack \(number)\n".utf8))
            }
        }
    }
}
