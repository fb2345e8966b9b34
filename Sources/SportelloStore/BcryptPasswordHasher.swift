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

    /// One core is left to the rest of the server, and the hashing threads run at a lower priority
    /// (nice 10), so pages keep their latency while a login storm keeps the pool busy.
    static let pool: NIOThreadPool = {
        let threads = max(1, ProcessInfo.processInfo.activeProcessorCount - 1)
        let pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
        lowerPriority(of: pool, threads: threads)
        return pool
    }()

    /// Renices every thread of `pool`: each task waits until all have started, so each runs on its own thread.
    private static func lowerPriority(of pool: NIOThreadPool, threads: Int) {
        #if os(Linux)
        let started = DispatchGroup()
        let release = DispatchSemaphore(value: 0)
        for _ in 0..<threads {
            started.enter()
            pool.submit { _ in
                // On Linux the nice value belongs to a thread, and `who == 0` means the calling one.
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
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
