import Foundation
import Synchronization

/// Where "now" comes from; injected so tests can move time (token expiry, lockouts, windows).
public protocol WallClock: Sendable {
    func now() -> Date
}

/// The machine's clock.
public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock that only moves when told to (tests).
public final class ManualWallClock: WallClock {
    private let current: Mutex<Date>

    public init(_ start: Date) { current = Mutex(start) }

    public func now() -> Date { current.withLock { $0 } }

    public func advance(by seconds: TimeInterval) { current.withLock { $0 += seconds } }

    public func set(_ date: Date) { current.withLock { $0 = date } }
}

/// Where secrets come from; injected so tests can be repeatable. Production uses the system CSPRNG.
public protocol SecureRandomSource: Sendable {
    func bytes(_ count: Int) -> [UInt8]
}

extension SecureRandomSource {
    /// A fraction in [0, 1) from two bytes (the jitter of retry delays).
    public func jitter() -> Double {
        let bytes = bytes(2)
        return Double(UInt16(bytes[0]) << 8 | UInt16(bytes[1])) / 65536
    }
}

/// The operating system's cryptographically secure generator (`getrandom` on Linux).
public struct SystemSecureRandom: SecureRandomSource {
    public init() {}
    public func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}

extension SecureRandomSource {
    /// A uniformly drawn decimal string of `length` digits (control codes, temporary numeric passwords).
    public func digits(_ length: Int) -> String {
        var result = ""
        while result.count < length {
            for byte in bytes(length * 2) where byte < 250 && result.count < length {
                result.append(Character(String(byte % 10)))
            }
        }
        return result
    }

    /// A uniformly drawn string over `alphabet` (rejection sampling, no modulo bias).
    public func string(_ length: Int, alphabet: [Character]) -> String {
        precondition(!alphabet.isEmpty && alphabet.count <= 256)
        let limit = 256 - 256 % alphabet.count
        var result = ""
        while result.count < length {
            for byte in bytes(length * 2) where Int(byte) < limit && result.count < length {
                result.append(alphabet[Int(byte) % alphabet.count])
            }
        }
        return result
    }
}
