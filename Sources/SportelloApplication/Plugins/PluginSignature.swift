import Crypto
import Foundation

/// How the portal and its plugins prove a message came from the other side: HMAC-SHA256, keyed with the plugin's
/// `signing_key` secret, over `<timestamp>.<body>` (the timestamp in Unix seconds, the body's exact bytes), sent as
/// `Sportello-Timestamp: <seconds>` and `Sportello-Signature: sha256=<hex>`. The receiver refuses a timestamp
/// farther than its replay window from its own clock, so an intercepted message cannot be replayed later.
public struct PluginSignature: Sendable {
    public static let timestampHeader = "Sportello-Timestamp"
    public static let signatureHeader = "Sportello-Signature"
    static let scheme = "sha256="

    private let key: SymmetricKey

    public init(secret: String) { key = SymmetricKey(data: Data(secret.utf8)) }

    /// The `Sportello-Signature` value for `body` sent at `timestamp`.
    public func sign(timestamp: Int64, body: some Sequence<UInt8>) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Self.signed(timestamp: timestamp, body: body), using: key)
        return Self.scheme + code.map { String(format: "%02x", $0) }.joined()
    }

    /// Why a message was refused.
    public enum Refusal: String, Error, Sendable {
        /// No timestamp or no signature header.
        case missing
        /// A header that is not a number or not `sha256=<64 hex digits>`.
        case malformed
        /// The timestamp is outside the replay window.
        case stale
        /// The signature does not match (wrong key, or the body or timestamp was changed).
        case mismatch
    }

    /// Checks the two headers of a message received at `now`; a timestamp more than `window` seconds away (either way)
    /// is refused before the signature is even computed. The comparison takes the same time whatever the bytes.
    public func verify(timestamp: String?, signature: String?, body: [UInt8], now: Int64, window: Int) -> Refusal? {
        guard let timestamp = timestamp?.trimmingCharacters(in: .whitespaces), let signature = signature?.trimmingCharacters(in: .whitespaces),
              !timestamp.isEmpty, !signature.isEmpty else { return .missing }
        guard let seconds = Int64(timestamp), signature.hasPrefix(Self.scheme),
              let expected = Self.bytes(hex: String(signature.dropFirst(Self.scheme.count))), expected.count == SHA256.byteCount else {
            return .malformed
        }
        guard abs(now - seconds) <= Int64(window) else { return .stale }
        let signed = Self.signed(timestamp: seconds, body: body)
        return HMAC<SHA256>.isValidAuthenticationCode(expected, authenticating: signed, using: key) ? nil : .mismatch
    }

    private static func signed(timestamp: Int64, body: some Sequence<UInt8>) -> [UInt8] {
        Array("\(timestamp).".utf8) + Array(body)
    }

    private static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
