import Foundation
import Logging
import ServiceLifecycle
import SportelloCore
import Synchronization

/// The settings of an outbox worker (mail, SMS): how often it looks, how long a claim holds, how many rows a claim
/// takes, and the retry schedule of what could not be delivered.
public struct OutboxSettings: Sendable {
    public var pollInterval: Duration
    /// Seconds a claimed row is left alone before another pass may take it again.
    public var lease: Int64
    /// Rows claimed per transaction.
    public var batchSize: Int
    public var firstRetryDelay: Int64
    public var maximumRetryDelay: Int64

    public init(pollInterval: Duration = .seconds(5), lease: Int64 = 120, batchSize: Int = 20, firstRetryDelay: Int64 = 30,
                maximumRetryDelay: Int64 = 3600) {
        self.pollInterval = pollInterval; self.lease = lease; self.batchSize = batchSize
        self.firstRetryDelay = firstRetryDelay; self.maximumRetryDelay = maximumRetryDelay
    }

    /// 30 s × 2^(attempts − 1), at most an hour, plus up to 10 % jitter; never given up.
    public var schedule: RetrySchedule { RetrySchedule(firstDelay: firstRetryDelay, maximumDelay: maximumRetryDelay) }
}

/// What one pass of a worker did; the tenants it could not serve are named in `tenantErrors`.
public protocol WorkerPassReport: Sendable, CustomStringConvertible {
    var isEmpty: Bool { get }
    var tenantErrors: [String] { get set }
}

/// What one pass of an outbox worker did, by outbox row.
public struct OutboxReport: WorkerPassReport, Equatable {
    /// A row of one tenant's outbox.
    public struct Row: Sendable, Hashable, CustomStringConvertible {
        public var tenant: String
        public var id: Int64
        public init(tenant: String, id: Int64) { self.tenant = tenant; self.id = id }
        public var description: String { "\(tenant)#\(id)" }
    }

    /// Taken by the relay or gateway, now `sent`.
    public var sent: [Row] = []
    /// Not delivered this time, still pending with a later attempt.
    public var deferred: [Row] = []
    /// Refused for good (or given up), no longer pending.
    public var failed: [Row] = []
    /// Tenants whose outbox could not be read or updated (database errors).
    public var tenantErrors: [String] = []

    public init() {}

    public var isEmpty: Bool { sent.isEmpty && deferred.isEmpty && failed.isEmpty && tenantErrors.isEmpty }

    public var description: String {
        "\(sent.count) sent, \(deferred.count) deferred, \(failed.count) failed"
            + (tenantErrors.isEmpty ? "" : ", errors in \(tenantErrors.joined(separator: ", "))")
    }
}

/// The loop every background delivery worker runs (mail, SMS, domain events): a pass, then a pause of up to the poll
/// interval cut short by `wake()`, until `stop()`, the task's cancellation or the service group's graceful shutdown
/// (a pass under way finishes the item it is on). A pass visits the tenants one by one; a tenant whose rows cannot be
/// read or written is logged and reported, and the pass goes on with the others.
public final class WorkerLoop: Sendable {
    /// What the worker does, for its log lines (`mail delivery`).
    public let name: String
    private let logger: Logger
    private let signal = WakeSignal()
    private let stopping = Atomic<Bool>(false)

    public init(name: String, logger: Logger) {
        self.name = name; self.logger = logger
    }

    /// Whether passes should end at the next item.
    public var isStopping: Bool { stopping.load(ordering: .relaxed) || Task.isCancelled }

    /// Starts a pass now instead of at the next poll (call after committing a transaction that queued work).
    public func wake() { signal.fire() }

    /// Ends `run` after the item under way; passes under way stop there too.
    public func stop() {
        stopping.store(true, ordering: .relaxed)
        signal.fire()
    }

    /// Runs `pass` until stopped, pausing up to `pollInterval` between passes; `metadata` is logged at the start,
    /// and each pass that did something.
    public func run(every pollInterval: Duration, metadata: Logger.Metadata = [:], pass: () async -> some WorkerPassReport) async {
        logger.info("\(name) started", metadata: metadata.merging(["poll": "\(pollInterval)"]) { $1 })
        await withGracefulShutdownHandler {
            while !isStopping {
                let report = await pass()
                if !report.isEmpty { logger.info("\(name) pass", metadata: ["report": "\(report)"]) }
                if isStopping { break }
                await signal.wait(upTo: pollInterval)
            }
        } onGracefulShutdown: { [self] in
            stop()
        }
        logger.info("\(name) stopped")
    }

    /// One pass: `body` for each tenant until stopped, adding to `report`; the tenants whose `body` threw are added to
    /// its `tenantErrors`.
    public func pass<Report: WorkerPassReport>(over tenants: [String], into report: Report,
                                               _ body: (String, inout Report) async throws -> Void) async -> Report {
        var report = report
        let failed = await forEachTenant(tenants) { tenant in try await body(tenant, &report) }
        report.tenantErrors += failed
        return report
    }

    /// Runs `body` for each tenant until stopped; returns the tenants whose `body` threw, each logged (not
    /// `String(reflecting:)`: a database error's details can quote bound values such as addresses or bodies).
    public func forEachTenant(_ tenants: [String], _ body: (String) async throws -> Void) async -> [String] {
        var failed: [String] = []
        for tenant in tenants {
            if isStopping { break }
            do {
                try await body(tenant)
            } catch {
                failed.append(tenant)
                logger.error("\(name) failed for a tenant", metadata: ["tenant": "\(tenant)", "error": "\(error)"])
            }
        }
        return failed
    }
}

/// Wakes one waiter early; a `fire()` with nobody waiting is remembered for the next wait.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func fire() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns after `fire()`, after `timeout`, or when the task is cancelled.
    func wait(upTo timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: timeout) }
            group.addTask { await self.wait() }
            await group.next()
            group.cancelAll()
        }
    }

    private func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
