import Crypto
import Foundation
import SportelloCore

/// A freshly drawn secret: `plain` goes to the user (link, cookie, code), only `hash` is stored.
public struct IssuedSecret: Sendable {
    public var plain: String
    public var hash: String
}

/// Secrets for links, sessions and codes: 256-bit random tokens, stored as SHA-256 hex digests.
public enum Secrets {
    /// 32 random bytes as base64url without padding (43 characters).
    public static func token(using random: some SecureRandomSource) -> IssuedSecret {
        let plain = Data(random.bytes(32)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return IssuedSecret(plain: plain, hash: hash(plain))
    }

    /// A numeric code of `length` digits (e-mailed control codes); its hash is salted with `salt`
    /// (the user id) so equal codes of different users hash differently.
    public static func numericCode(length: Int, salt: String, using random: some SecureRandomSource) -> IssuedSecret {
        let plain = random.digits(length)
        return IssuedSecret(plain: plain, hash: hash(plain, salt: salt))
    }

    /// SHA-256 hex digest of `value` (tokens are random enough that no per-token salt is needed).
    public static func hash(_ value: String, salt: String = "") -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: Data((salt + value).utf8)) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    /// Compares two strings in time that depends only on their lengths.
    public static func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8), b = Array(rhs.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}
