import Foundation
import Logging

/// A setting of `sportello serve` that cannot be used, naming the flag or variable it came from.
public struct ServeSettingsError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Code: String, Sendable {
        case invalidValue = "invalid_value"
    }

    public var code: Code
    /// The flag or environment variable (`--port`, `SPORTELLO_PORT`).
    public var source: String
    public var message: String

    public init(_ code: Code, source: String, _ message: String) {
        self.code = code; self.source = source; self.message = message
    }

    public var description: String { "\(source): \(message)" }
}

/// Everything `sportello serve` needs to start, from its flags, else the environment, else the defaults
/// (`resolve`). Flags win over variables, variables over defaults.
public struct ServeSettings: Sendable, Equatable {
    public var hostname = "127.0.0.1"
    public var port = 8080
    /// `postgres://…` or an SQLite path; nil: `DATABASE_URL`, else `data/sportello.sqlite` (see `DatabaseLocation`).
    public var database: String?
    public var templates = "templates"
    /// Scheme and port of the links in e-mails (each tenant's first host between them).
    public var publicScheme = "http"
    public var publicPort: Int?
    public var secureCookies = false
    public var trustedProxies: [String] = []
    public var logLevel: Logger.Level = .info
    public var logFormat: LogFormat = .text
    /// SQLite: reader connections (the writer is one); PostgreSQL: see the README.
    public var poolSize = 4
    public var passwordCost = 12
    /// See `OperationsOptions.databaseTimeout`.
    public var databaseTimeout: Duration = .seconds(3)
    /// The operations listener (`/metrics`); nil: no metrics listener.
    public var metricsHostname = "127.0.0.1"
    public var metricsPort: Int?
    public var migrate = false
    /// Refuse to start when any tenant file is broken (CI); otherwise the others serve and its hosts answer 503.
    public var strict = false
    /// How often tenant files and templates are compared for changes (nil: only SIGHUP and `sportello reload`).
    public var watchInterval: Duration? = .seconds(2)
    /// Where the tenant index is kept between starts (nil: not kept, every start validates every file).
    public var tenantIndex: String? = "data/tenant-index"
    /// How many tenants known from the index are held built at once (the others are built on their next request).
    public var residentTenants = 1_000

    public init() {}

    /// The values given on the command line (nil: not given).
    public struct Flags: Sendable {
        public var hostname: String?
        public var port: Int?
        public var database: String?
        public var templates: String?
        public var publicURL: String?
        public var publicScheme: String?
        public var publicPort: Int?
        public var secureCookies: Bool?
        public var trustedProxies: [String] = []
        public var logLevel: String?
        public var logFormat: String?
        public var poolSize: Int?
        public var passwordCost: Int?
        public var databaseTimeout: Double?
        public var metricsHostname: String?
        public var metricsPort: Int?
        public var migrate: Bool?
        public var strict: Bool?
        /// Seconds; 0 turns watching off.
        public var watchInterval: Double?
        /// A path; `none` keeps no index on disk.
        public var tenantIndex: String?
        public var residentTenants: Int?

        public init() {}
    }

    /// The environment variables `serve` reads, with what each sets (for `--help` and the README).
    public static let variables: [(name: String, help: String)] = [
        ("SPORTELLO_HOST", "address to listen on (--hostname; default 127.0.0.1)"),
        ("SPORTELLO_PORT", "port to listen on (--port; default 8080)"),
        ("SPORTELLO_DATABASE_URL", "postgres://… or an SQLite path (--database; also DATABASE_URL; default data/sportello.sqlite)"),
        ("SPORTELLO_TEMPLATES", "templates folder (--templates; default templates)"),
        ("SPORTELLO_PUBLIC_URL", "scheme and port of e-mailed links, e.g. https://{host} or https://{host}:8443 (--public-url)"),
        ("SPORTELLO_PUBLIC_SCHEME", "scheme of e-mailed links (--public-scheme; default http)"),
        ("SPORTELLO_PUBLIC_PORT", "port of e-mailed links when a proxy listens on another (--public-port)"),
        ("SPORTELLO_SECURE_COOKIES", "true/false: Secure cookies (--secure-cookies; default true when the public scheme is https)"),
        ("SPORTELLO_TRUSTED_PROXIES", "comma-separated proxies allowed to name the client (--trusted-proxy)"),
        ("SPORTELLO_LOG_LEVEL", "trace, debug, info, notice, warning, error or critical (--log-level; default info)"),
        ("SPORTELLO_LOG_FORMAT", "text or json (--log-format; default text)"),
        ("SPORTELLO_POOL_SIZE", "SQLite reader connections (--pool-size; default 4)"),
        ("SPORTELLO_PASSWORD_COST", "bcrypt cost of new password hashes, 4…31 (--password-cost; default 12)"),
        ("SPORTELLO_DATABASE_TIMEOUT", "seconds a request waits on an unanswering database before its 503 (--database-timeout; default 3)"),
        ("SPORTELLO_METRICS_HOST", "address of the /metrics listener (--metrics-host; default 127.0.0.1)"),
        ("SPORTELLO_METRICS_PORT", "port of the /metrics listener; unset: no /metrics (--metrics-port)"),
        ("SPORTELLO_MIGRATE", "true: apply pending migrations at start (--migrate)"),
        ("SPORTELLO_STRICT", "true: refuse to start when a tenant file is broken (--strict; default: serve the others)"),
        ("SPORTELLO_WATCH_INTERVAL", "seconds between checks of the tenant files and templates; 0: no watching (--watch-interval; default 2)"),
        ("SPORTELLO_TENANT_INDEX", "file keeping the validated tenant files' index between starts; none: keep none (--tenant-index; default data/tenant-index)"),
        ("SPORTELLO_RESIDENT_TENANTS", "tenants held built in memory at once, the others built on their next request (--resident-tenants; default 1000)"),
    ]

    /// The settings from `flags`, else `environment`, else the defaults; a value that cannot be used is an error
    /// naming its flag or variable (never silently the default).
    public static func resolve(flags: Flags = Flags(), environment: [String: String]) throws -> ServeSettings {
        let env = EnvironmentReader(environment)
        var settings = ServeSettings()
        settings.hostname = flags.hostname ?? env.string("SPORTELLO_HOST") ?? settings.hostname
        settings.port = try flags.port.map { try checkPort($0, source: "--port") } ?? env.port("SPORTELLO_PORT") ?? settings.port
        settings.database = flags.database ?? env.string("SPORTELLO_DATABASE_URL") ?? env.string("DATABASE_URL")
        settings.templates = flags.templates ?? env.string("SPORTELLO_TEMPLATES") ?? settings.templates

        // The public address: --public-url, else --public-scheme/--public-port, else the same from the environment.
        var scheme: String?, publicPort: Int?
        if let url = flags.publicURL {
            (scheme, publicPort) = try parsePublicURL(url, source: "--public-url")
        }
        if let flagScheme = flags.publicScheme { scheme = try checkScheme(flagScheme, source: "--public-scheme") }
        if let flagPort = flags.publicPort { publicPort = try checkPort(flagPort, source: "--public-port") }
        if scheme == nil && publicPort == nil, let url = env.string("SPORTELLO_PUBLIC_URL") {
            (scheme, publicPort) = try parsePublicURL(url, source: "SPORTELLO_PUBLIC_URL")
        }
        if scheme == nil, let envScheme = env.string("SPORTELLO_PUBLIC_SCHEME") { scheme = try checkScheme(envScheme, source: "SPORTELLO_PUBLIC_SCHEME") }
        if publicPort == nil { publicPort = try env.port("SPORTELLO_PUBLIC_PORT") }
        settings.publicScheme = scheme ?? settings.publicScheme
        settings.publicPort = publicPort
        settings.secureCookies = try flags.secureCookies ?? env.bool("SPORTELLO_SECURE_COOKIES") ?? (settings.publicScheme == "https")

        settings.trustedProxies = flags.trustedProxies + (env.string("SPORTELLO_TRUSTED_PROXIES").map { [$0] } ?? [])
        if let level = flags.logLevel {
            settings.logLevel = try parseLevel(level, source: "--log-level")
        } else if let level = env.string("SPORTELLO_LOG_LEVEL") {
            settings.logLevel = try parseLevel(level, source: "SPORTELLO_LOG_LEVEL")
        }
        if let format = flags.logFormat {
            settings.logFormat = try parseFormat(format, source: "--log-format")
        } else if let format = env.string("SPORTELLO_LOG_FORMAT") {
            settings.logFormat = try parseFormat(format, source: "SPORTELLO_LOG_FORMAT")
        }
        settings.poolSize = try flags.poolSize.map { try checkRange($0, 1...64, source: "--pool-size") }
            ?? env.int("SPORTELLO_POOL_SIZE", 1...64) ?? settings.poolSize
        settings.passwordCost = try flags.passwordCost.map { try checkRange($0, 4...31, source: "--password-cost") }
            ?? env.int("SPORTELLO_PASSWORD_COST", 4...31) ?? settings.passwordCost
        let timeout = try flags.databaseTimeout.map { try checkSeconds($0, source: "--database-timeout") }
            ?? env.seconds("SPORTELLO_DATABASE_TIMEOUT")
        if let timeout { settings.databaseTimeout = .milliseconds(Int64((timeout * 1_000).rounded())) }
        settings.metricsHostname = flags.metricsHostname ?? env.string("SPORTELLO_METRICS_HOST") ?? settings.metricsHostname
        settings.metricsPort = try flags.metricsPort.map { try checkPort($0, source: "--metrics-port") } ?? env.port("SPORTELLO_METRICS_PORT")
        settings.migrate = try flags.migrate ?? env.bool("SPORTELLO_MIGRATE") ?? false
        settings.strict = try flags.strict ?? env.bool("SPORTELLO_STRICT") ?? false
        let watch: Double?
        if let given = flags.watchInterval {
            watch = given == 0 ? 0 : try checkSeconds(given, source: "--watch-interval")
        } else if env.string("SPORTELLO_WATCH_INTERVAL") == "0" {
            watch = 0
        } else {
            watch = try env.seconds("SPORTELLO_WATCH_INTERVAL")
        }
        if let watch { settings.watchInterval = watch == 0 ? nil : .milliseconds(Int64((watch * 1_000).rounded())) }
        if let index = flags.tenantIndex ?? env.string("SPORTELLO_TENANT_INDEX") { settings.tenantIndex = index == "none" ? nil : index }
        settings.residentTenants = try flags.residentTenants.map { try checkRange($0, 1...1_000_000, source: "--resident-tenants") }
            ?? env.int("SPORTELLO_RESIDENT_TENANTS", 1...1_000_000) ?? settings.residentTenants
        return settings
    }

    /// Where `host` is reached from outside, as e-mailed links write it (`https://portal.example`, `http://a.localhost:8080`).
    public func publicURL(host: String) -> String {
        let port = publicPort ?? self.port
        let defaultPort = publicScheme == "https" ? 443 : 80
        return "\(publicScheme)://\(host)\(port == defaultPort ? "" : ":\(port)")/"
    }

    /// `scheme://{host}[:port][/]`: the scheme and the port (nil: the scheme's default); the host is each tenant's own.
    static func parsePublicURL(_ text: String, source: String) throws -> (String, Int?) {
        let usage = "expected scheme://{host} or scheme://{host}:port (each tenant's host goes in place of {host}), got '\(text)'"
        guard let separator = text.range(of: "://") else { throw ServeSettingsError(.invalidValue, source: source, usage) }
        let scheme = try checkScheme(String(text[..<separator.lowerBound]), source: source)
        var rest = Substring(text[separator.upperBound...])
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard rest.hasPrefix("{host}") else { throw ServeSettingsError(.invalidValue, source: source, usage) }
        rest = rest.dropFirst("{host}".count)
        if rest.isEmpty { return (scheme, scheme == "https" ? 443 : 80) }
        guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()) else { throw ServeSettingsError(.invalidValue, source: source, usage) }
        return (scheme, try checkPort(port, source: source))
    }

    static func checkScheme(_ text: String, source: String) throws -> String {
        let scheme = text.lowercased()
        guard scheme == "http" || scheme == "https" else { throw ServeSettingsError(.invalidValue, source: source, "expected http or https, got '\(text)'") }
        return scheme
    }

    static func checkPort(_ port: Int, source: String) throws -> Int { try checkRange(port, 1...65_535, source: source) }

    static func checkRange(_ value: Int, _ range: ClosedRange<Int>, source: String) throws -> Int {
        guard range.contains(value) else {
            throw ServeSettingsError(.invalidValue, source: source, "expected \(range.lowerBound)…\(range.upperBound), got \(value)")
        }
        return value
    }

    static func checkSeconds(_ value: Double, source: String) throws -> Double {
        guard value > 0, value <= 600 else { throw ServeSettingsError(.invalidValue, source: source, "expected seconds in (0, 600], got \(value)") }
        return value
    }

    static func parseLevel(_ text: String, source: String) throws -> Logger.Level {
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            throw ServeSettingsError(.invalidValue, source: source,
                                     "expected one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
        }
        return level
    }

    static func parseFormat(_ text: String, source: String) throws -> LogFormat {
        guard let format = LogFormat(rawValue: text.lowercased()) else {
            throw ServeSettingsError(.invalidValue, source: source, "expected text or json, got '\(text)'")
        }
        return format
    }
}

/// Typed reads of environment variables: an empty variable counts as unset; a value that does not parse throws.
struct EnvironmentReader {
    let values: [String: String]

    init(_ values: [String: String]) { self.values = values }

    func string(_ name: String) -> String? {
        guard let value = values[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    func int(_ name: String, _ range: ClosedRange<Int>) throws -> Int? {
        guard let text = string(name) else { return nil }
        guard let value = Int(text) else { throw ServeSettingsError(.invalidValue, source: name, "expected a whole number, got '\(text)'") }
        return try ServeSettings.checkRange(value, range, source: name)
    }

    func port(_ name: String) throws -> Int? { try int(name, 1...65_535) }

    func seconds(_ name: String) throws -> Double? {
        guard let text = string(name) else { return nil }
        guard let value = Double(text) else { throw ServeSettingsError(.invalidValue, source: name, "expected seconds, got '\(text)'") }
        return try ServeSettings.checkSeconds(value, source: name)
    }

    func bool(_ name: String) throws -> Bool? {
        guard let text = string(name) else { return nil }
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ServeSettingsError(.invalidValue, source: name, "expected true or false, got '\(text)'")
        }
    }
}

extension ServeSettings {
    /// The operations options these settings give (`buildApplication`'s `operations`).
    public var operationsOptions: OperationsOptions {
        OperationsOptions(databaseTimeout: databaseTimeout, retryAfterSeconds: 5, requestLogger: Logger(label: "sportello.http"))
    }
}
