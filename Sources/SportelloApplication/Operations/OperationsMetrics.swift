import CoreMetrics
import Foundation

/// Counters that ops read on `/metrics`, for the parts of the portal that are not requests: plugin calls,
/// logins, tenant reloads. They go through swift-metrics' global factory, which `sportello serve` (and
/// `buildApplication`) bootstrap with the Prometheus registry; without it they cost nothing.
///
/// Label values must come from a small fixed set (a plugin id, a tenant id, an outcome below): never a
/// user, an address or a path with ids in it.
public enum OperationsMetrics {
    /// How a plugin call ended.
    public enum PluginOutcome: String, Sendable, CaseIterable {
        case ok
        /// No connection (refused, DNS, TLS) or the connect timeout passed.
        case unreachable
        case timeout
        /// The plugin answered with a status outside 2xx.
        case refused
        /// A 2xx answer that could not be read.
        case invalidResponse = "invalid_response"
    }

    /// How a login attempt ended (`locked`: refused because the account is locked).
    public enum LoginOutcome: String, Sendable, CaseIterable {
        case ok, failed, locked, throttled
    }

    /// How reloading the tenant definitions ended (`sportello reload`, SIGHUP, a changed file).
    public enum ReloadOutcome: String, Sendable, CaseIterable {
        /// The new definitions serve.
        case applied
        /// Nothing had changed.
        case unchanged
        /// A file failed validation: the last good version keeps serving.
        case rejected
    }

    /// Metric names, shared with the tests and the README.
    public enum Name {
        public static let pluginCalls = "sportello_plugin_calls_total"
        public static let pluginCallDuration = "sportello_plugin_call_duration_seconds"
        public static let logins = "sportello_logins_total"
        public static let reloads = "sportello_tenant_reloads_total"
        public static let tenantFilesRejected = "sportello_tenant_files_rejected"
    }

    /// Counts one call to `plugin` (its manifest id, or its origin when the id is not known) and how long it took.
    public static func pluginCall(plugin: String, outcome: PluginOutcome, duration: Duration? = nil) {
        Counter(label: Name.pluginCalls, dimensions: [("plugin", plugin), ("outcome", outcome.rawValue)]).increment()
        if let duration {
            Timer(label: Name.pluginCallDuration, dimensions: [("plugin", plugin)]).recordNanoseconds(duration.nanoseconds)
        }
    }

    /// Counts one login attempt of `tenant`.
    public static func login(tenant: String, outcome: LoginOutcome) {
        Counter(label: Name.logins, dimensions: [("tenant", tenant), ("outcome", outcome.rawValue)]).increment()
    }

    /// Counts one reload of the tenant definitions (`tenant`: the tenant file concerned, or "*" for a whole reload).
    public static func reload(outcome: ReloadOutcome, tenant: String = "*") {
        Counter(label: Name.reloads, dimensions: [("tenant", tenant), ("outcome", outcome.rawValue)]).increment()
    }

    /// How many tenant files the last reload kept out (0 when every file is good; the served count is sampled on scrape).
    public static func tenantFilesRejected(_ count: Int) {
        Gauge(label: Name.tenantFilesRejected).record(count)
    }
}

extension Duration {
    /// The whole nanoseconds of this duration (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : product.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}
