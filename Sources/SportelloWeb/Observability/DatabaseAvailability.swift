import Foundation
import SportelloStore
import Synchronization

/// The database is not answering: the request gets a 503 with `Retry-After` instead of waiting for it.
public struct DatabaseUnavailable: Error, Sendable, CustomStringConvertible {
    public static let code = "unavailable"
    public var description: String { "the database did not answer in time" }
}

/// Whether the database answers, found out with a bounded probe (`SELECT 1`) and remembered for a moment.
///
/// Why it is needed: during a PostgreSQL outage, postgres-nio's pool keeps a connection request waiting
/// while it retries connecting with back-off, until its circuit breaker trips after 60 seconds of failures
/// (`ConnectionPoolConfiguration.circuitBreakerTripAfter`, not settable through `PostgresClient`): that is the
/// ~68 s hang of issue 19. The portal does not wait for it: a request that takes longer than `timeout` has the
/// database probed (at most `timeout` more); when the probe fails the request is answered with a 503, and so is
/// every further request at once, while probes go on in the background (at most one a `downFor`, started by the
/// requests, `/ready` and `/metrics`) until one finds the database answering.
public final class DatabaseAvailability: Sendable {
    /// How long a request may wait on the database before it is probed, and how long a probe may take.
    public let timeout: Duration
    /// How often, at most, requests answered from a known outage start a probe in the background.
    public let downFor: Duration
    private let probe: @Sendable () async -> Bool
    private let state = Mutex(State())

    private struct State {
        var up = true
        var checkedAt: ContinuousClock.Instant?
        var downSince: Date?
        var running: Task<Bool, Never>?
    }

    /// `probe` answers whether the database is reachable; it need not honour cancellation (it is abandoned).
    public init(timeout: Duration = .seconds(3), downFor: Duration = .seconds(1), probe: @escaping @Sendable () async -> Bool) {
        self.timeout = timeout
        self.downFor = downFor
        self.probe = probe
    }

    /// Probes `database` with one indexed read on a reader connection (SQLite's single writer may be busy with a
    /// long write, which is no outage; on PostgreSQL any pooled connection).
    public convenience init(database: Database, timeout: Duration = .seconds(3)) {
        self.init(timeout: timeout) {
            (try? await database.readOneStatement(tenant: "_probe") { try await $0.counterHits(key: "_probe", since: .max) }) != nil
        }
    }

    /// The last probe failed: answer 503 at once (and `recheckInBackground`) until a probe finds it answering.
    public var isKnownDown: Bool { state.withLock { !$0.up } }

    /// The last known state (true until a probe fails), without probing.
    public var lastKnownUp: Bool { state.withLock { $0.up } }

    /// Since when the database has been found down (nil while it answers).
    public var downSince: Date? { state.withLock { $0.downSince } }

    /// Probes the database (one probe at a time: callers arriving meanwhile share its answer), within `timeout`.
    public func check() async -> Bool {
        let task: Task<Bool, Never> = state.withLock { state in
            if let running = state.running { return running }
            let task = Task { [probe, timeout] in
                let reachable = await withDeadline(timeout) { await probe() } ?? false
                self.record(reachable)
                return reachable
            }
            state.running = task
            return task
        }
        return await task.value
    }

    /// Starts a probe without waiting for it (a request answered 503 from the known state keeps recovery found out).
    public func recheckInBackground() {
        let stale = state.withLock { state in
            state.running == nil && (state.checkedAt.map { $0.duration(to: .now) >= downFor } ?? true)
        }
        if stale { Task { _ = await self.check() } }
    }

    private func record(_ reachable: Bool) {
        state.withLock { state in
            if !reachable && state.up { state.downSince = Date() }
            if reachable { state.downSince = nil }
            state.up = reachable
            state.checkedAt = .now
            state.running = nil
        }
    }
}

/// Runs `work` and returns its result, or nil when `timeout` passes first; `work` is then cancelled and abandoned
/// (left to finish on its own), so a callee that ignores cancellation cannot hold the caller.
func withDeadline<T: Sendable>(_ timeout: Duration, _ work: @escaping @Sendable () async -> T) async -> T? {
    let once = Once<T?>()
    return await withCheckedContinuation { continuation in
        once.set(continuation)
        let worker = TaskSlot()
        let timer = Task {
            do { try await Task.sleep(for: timeout) } catch { return }
            if once.resume(nil) { worker.cancel() }
        }
        worker.set(Task {
            let value = await work()
            timer.cancel()
            once.resume(value)
        })
    }
}

/// A continuation resumed once, by whichever of several tasks comes first (`set` before starting them).
final class Once<T: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<T, Never>?>(nil)

    func set(_ continuation: CheckedContinuation<T, Never>) {
        self.continuation.withLock { $0 = continuation }
    }

    /// Resumes with `value` if nothing resumed before; true when this call did.
    @discardableResult
    func resume(_ value: T) -> Bool {
        let taken = continuation.withLock { stored -> CheckedContinuation<T, Never>? in
            defer { stored = nil }
            return stored
        }
        taken?.resume(returning: value)
        return taken != nil
    }
}
