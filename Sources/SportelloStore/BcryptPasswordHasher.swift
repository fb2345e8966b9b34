import Foundation
import HummingbirdBcrypt
import NIOPosix
import SportelloCore

/// bcrypt on a thread pool of its own, so a login storm neither stalls request handling nor queues in
/// front of SQLite (which runs on NIO's shared blocking pool).
public struct BcryptPasswordHasher: PasswordHashing {
    /// Work factor: 2^cost rounds. 12 in production; tests may lower it to keep suites fast.
    public let cost: UInt8
    public let decoyHash: String

    /// One core is left to the rest of the server.
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: max(1, ProcessInfo.processInfo.activeProcessorCount - 1))
        pool.start()
        return pool
    }()

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
