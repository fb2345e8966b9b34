import HummingbirdBcrypt
import NIOPosix
import SportelloCore

/// bcrypt on NIO's blocking thread pool, so a login storm never stalls request handling.
public struct BcryptPasswordHasher: PasswordHashing {
    /// Work factor: 2^cost rounds. 12 in production; tests may lower it to keep suites fast.
    public let cost: UInt8

    public init(cost: UInt8 = 12) {
        self.cost = cost
    }

    public func hash(_ secret: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(secret, cost: cost) }
    }

    public func verify(_ secret: String, against hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(secret, hash: hash) }
    }
}
