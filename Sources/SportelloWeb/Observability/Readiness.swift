import Foundation
import Synchronization

/// What one readiness check found.
public enum ReadinessOutcome: Sendable, Equatable {
    case ready
    /// Ready, with something the operators should know (a tenant file kept out by a reload).
    case readyNoting(String)
    /// Not ready, and why (shown in `/ready`'s body: no secrets, no personal data).
    case notReady(String)
}

/// The named checks behind `/ready`: the instance takes traffic only when every one of them passes.
///
/// The portal adds `database` (a bounded `SELECT 1`) and `tenants` (at least one tenant is served); other parts
/// add their own with `add` (a tenant reload that keeps a bad file out, a retention job that fell behind…).
public final class ReadinessChecks: Sendable {
    public typealias Check = @Sendable () async -> ReadinessOutcome

    /// One check's result, as `/ready` lists it.
    public struct Result: Sendable, Encodable, Equatable {
        public var name: String
        public var ready: Bool
        public var detail: String?
    }

    private let checks = Mutex<[(name: String, check: Check)]>([])
    /// How long one check may take before it counts as not ready.
    public let timeout: Duration

    public init(timeout: Duration = .seconds(3)) {
        self.timeout = timeout
    }

    /// Adds (or replaces) the check called `name`.
    public func add(_ name: String, _ check: @escaping Check) {
        checks.withLock { checks in
            checks.removeAll { $0.name == name }
            checks.append((name, check))
        }
    }

    public var names: [String] { checks.withLock { $0.map(\.name) } }

    /// Runs every check side by side, each within `timeout`; in the order they were added.
    public func run() async -> [Result] {
        let all = checks.withLock { $0 }
        let timeout = timeout
        return await withTaskGroup(of: (Int, Result).self) { group in
            for (index, entry) in all.enumerated() {
                group.addTask {
                    let outcome = await withDeadline(timeout) { await entry.check() }
                    switch outcome {
                    case .ready?: return (index, Result(name: entry.name, ready: true))
                    case .readyNoting(let detail)?: return (index, Result(name: entry.name, ready: true, detail: detail))
                    case .notReady(let detail)?: return (index, Result(name: entry.name, ready: false, detail: detail))
                    case nil: return (index, Result(name: entry.name, ready: false, detail: "no answer within \(timeout)"))
                    }
                }
            }
            var results: [(Int, Result)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}

/// `/ready`'s JSON body.
struct ReadinessReport: Encodable {
    var ready: Bool
    var checks: [ReadinessChecks.Result]
    /// The names of the failing checks (empty when ready).
    var failing: [String]
}
