import ArgumentParser
// `stdout` is a C global that Swift 6 would not let `lineBufferStandardOutput` read otherwise.
#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif
import Foundation
import Logging
import SportelloWeb

/// `sportello serve`'s settings as flags; each one also comes from an environment variable (`ServeSettings`),
/// and a flag given wins over its variable.
struct ServeOptions: ParsableArguments {
    @Option(help: "Port to listen on (default 8080; $SPORTELLO_PORT).")
    var port: Int?

    @Option(help: "Address to listen on (default 127.0.0.1; $SPORTELLO_HOST).")
    var hostname: String?

    @Flag(help: "Apply pending migrations instead of refusing to start ($SPORTELLO_MIGRATE=true).")
    var migrate = false

    @Option(help: "Templates folder: default/ plus one folder per tenant (default templates; $SPORTELLO_TEMPLATES).")
    var templates: String?

    @Option(help: "Scheme and port of e-mailed links, as scheme://{host}[:port]; each tenant's host takes {host}'s place ($SPORTELLO_PUBLIC_URL).")
    var publicURL: String?

    @Option(help: "Scheme used in e-mailed links: https behind a TLS proxy (default http; $SPORTELLO_PUBLIC_SCHEME).")
    var publicScheme: String?

    @Option(help: "Port used in e-mailed links, when it differs from --port: a proxy in front ($SPORTELLO_PUBLIC_PORT).")
    var publicPort: Int?

    @Flag(inversion: .prefixedNo, help: "Mark cookies Secure (default: on when the public scheme is https; $SPORTELLO_SECURE_COOKIES).")
    var secureCookies: Bool?

    // Its "(default: N)" is read by scripts/lib/bench_portal.sh.
    @Option(help: "bcrypt cost for new password hashes, 4…31; $SPORTELLO_PASSWORD_COST (default: 12)")
    var passwordCost: Int?

    @Option(name: .customLong("trusted-proxy"),
            help: "Address or CIDR range of a proxy allowed to set X-Forwarded-For/Forwarded (repeatable or comma-separated; also $SPORTELLO_TRUSTED_PROXIES).")
    var trustedProxy: [String] = []

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default info; $SPORTELLO_LOG_LEVEL).")
    var logLevel: String?

    @Option(help: "Log format: text or json (default text; $SPORTELLO_LOG_FORMAT).")
    var logFormat: String?

    @Option(help: "SQLite reader connections (default 4; $SPORTELLO_POOL_SIZE).")
    var poolSize: Int?

    @Option(help: "Seconds a request waits on a database that does not answer before it gets a 503 (default 3; $SPORTELLO_DATABASE_TIMEOUT).")
    var databaseTimeout: Double?

    @Flag(help: "Refuse to start when any tenant file is broken, as CI wants ($SPORTELLO_STRICT=true); without it the others serve and the broken tenant's hosts answer 503.")
    var strict = false

    @Option(help: "Seconds between checks of the tenant files and templates for changes; 0: reload only on SIGHUP or 'sportello reload' (default 2; $SPORTELLO_WATCH_INTERVAL).")
    var watchInterval: Double?

    @Option(help: "File keeping the validated tenant files' index between starts, so unchanged files are not parsed again; none: keep none (default data/tenant-index; $SPORTELLO_TENANT_INDEX).")
    var tenantIndex: String?

    @Option(help: "Tenants held built in memory at once; the others are built on their next request (default 1000; $SPORTELLO_RESIDENT_TENANTS).")
    var residentTenants: Int?

    @Option(help: "Address of the operations listener serving /metrics (default 127.0.0.1; $SPORTELLO_METRICS_HOST).")
    var metricsHost: String?

    @Option(help: "Port of the operations listener serving /metrics, /ready and /health; without it there is no /metrics ($SPORTELLO_METRICS_PORT).")
    var metricsPort: Int?

    /// The settings: these flags, else the environment, else the defaults (an unusable value exits with its source named).
    func resolve(database: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ServeSettings {
        var flags = ServeSettings.Flags()
        flags.hostname = hostname; flags.port = port; flags.database = database; flags.templates = templates
        flags.publicURL = publicURL; flags.publicScheme = publicScheme; flags.publicPort = publicPort
        flags.secureCookies = secureCookies; flags.trustedProxies = trustedProxy; flags.logLevel = logLevel; flags.logFormat = logFormat
        flags.poolSize = poolSize; flags.passwordCost = passwordCost; flags.databaseTimeout = databaseTimeout
        flags.metricsHostname = metricsHost; flags.metricsPort = metricsPort; flags.migrate = migrate ? true : nil
        flags.strict = strict ? true : nil; flags.watchInterval = watchInterval
        flags.tenantIndex = tenantIndex; flags.residentTenants = residentTenants
        do {
            return try ServeSettings.resolve(flags: flags, environment: environment)
        } catch let error as ServeSettingsError {
            throw ValidationError(error.description)
        }
    }

    /// Every logger of the process writes lines in the chosen format and level to standard output.
    static func bootstrapLogging(_ settings: ServeSettings) {
        let format = settings.logFormat, level = settings.logLevel
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, format: format, level: level) }
    }

    /// The environment variables, for `serve --help`.
    static var environmentHelp: String {
        "Every setting can also come from the environment (a flag given wins):\n"
            + ServeSettings.variables.map { "  \($0.name.padding(toLength: 27, withPad: " ", startingAt: 0)) \($0.help)" }.joined(separator: "\n")
            + "\nSee README.md, \"Operating Sportello\"."
    }
}

/// Makes standard output line-buffered (printed lines leave at once even when it is a pipe or a file, as under a
/// service manager), once at the start of a long-running command.
func lineBufferStandardOutput() {
    setvbuf(stdout, nil, _IOLBF, 0)
}
