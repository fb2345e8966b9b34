import Foundation
import HummingbirdBcrypt
import NIOPosix
import SportelloCore
#if canImport(Glibc)
import Glibc
#endif

/// bcrypt on a thread pool of its own, so a login storm neither stalls request handling nor queues in
/// front of SQLite (which runs on NIO's shared blocking pool).
public struct BcryptPasswordHasher: PasswordHashing {
    /// Work factor: 2^cost rounds. 12 in production; tests may lower it to keep suites fast.
    public let cost: UInt8
    public let decoyHash: String

    /// One core is left to the rest of the server, and the hashing threads run in Linux's idle scheduling
    /// class, so pages keep their latency while a login storm keeps the pool busy. The price: when requests
    /// keep every core busy, logins wait for a quieter moment (sessions already open keep working).
    static let pool: NIOThreadPool = {
        let threads = max(1, ProcessInfo.processInfo.activeProcessorCount - 1)
        let pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
        lowerPriority(of: pool, threads: threads)
        return pool
    }()

    /// Lowers the scheduling of every thread of `pool` (nice 19 where the idle class is refused): each task
    /// waits until all have started, so each runs on its own thread.
    private static func lowerPriority(of pool: NIOThreadPool, threads: Int) {
        #if os(Linux)
        let started = DispatchGroup()
        let release = DispatchSemaphore(value: 0)
        for _ in 0..<threads {
            started.enter()
            pool.submit { _ in
                // On Linux scheduling belongs to a thread, and pid 0 means the calling one. SCHED_IDLE (5): the
                // thread runs on CPU time nothing else wants, and gives way at once when a request needs it.
                var parameters = sched_param(sched_priority: 0)
                if sched_setscheduler(0, 5, &parameters) != 0 {
                    _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
                }
                started.leave()
                release.wait()
            }
        }
        started.wait()
        for _ in 0..<threads { release.signal() }
        #endif
    }

    public init(cost: UInt8 = 12) {
        self.cost = cost
        decoyHash = Bcrypt.hash(UUID().uuidString + UUID().uuidString, cost: cost)
    }

    public func hash(_ secret: String) async throws -> String {
        let cost = self.cost
        return try await Self.pool.runIfActive { Bcrypt.hash(secret, cost: cost) }
    }

    public func verify(_ secret: String, against hash: String) async throws -> Bool {
        try await Self.pool.runIfActive { Bcrypt.verify(secret, hash: hash) }
    }
}
