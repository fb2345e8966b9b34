import Foundation
import HummingbirdOTP
import SportelloCore
import SportelloStore

/// Authenticator-app codes (RFC 6238: 6 digits, 30-second steps, HMAC-SHA1, as every authenticator app reads
/// them) for the `enrol_totp` required action and the login code that follows the password once enrolled.
enum TOTPCodes {
    /// The letters a secret is drawn from: 32 of them carry 190 random bits (the app gets them base32-encoded).
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    static func newSecret(using random: any SecureRandomSource) -> String { random.string(32, alphabet: alphabet) }

    /// The `otpauth://totp/…` URI an authenticator app reads (as a QR code or pasted).
    static func uri(secret: String, account: String, issuer: String) -> String {
        TOTP(secret: secret).createAuthenticatorURL(label: "\(issuer):\(account)", issuer: issuer)
    }

    /// The base32 secret the URI carries, for typing it into an app by hand (in groups of four).
    static func typedSecret(_ uri: String) -> String {
        let secret = URLComponents(string: uri)?.queryItems?.first { $0.name == "secret" }?.value ?? ""
        return stride(from: 0, to: secret.count, by: 4).map { start in
            let from = secret.index(secret.startIndex, offsetBy: start)
            return String(secret[from..<secret.index(from, offsetBy: min(4, secret.count - start))])
        }.joined(separator: " ")
    }

    /// The code of `secret` at `instant`, six digits.
    static func code(secret: String, at instant: Int64) -> String {
        let value = TOTP(secret: secret).compute(date: Date(timeIntervalSince1970: TimeInterval(instant)))
        let digits = String(value)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// Whether `typed` is the code of `secret` at `now`, or of the step before or after it (a phone's clock
    /// may be off by a few seconds, and a code typed at the end of its step arrives in the next).
    static func verify(_ typed: String, secret: String, at now: Int64) -> Bool {
        let code = typed.filter { !$0.isWhitespace }
        guard code.count == 6, code.allSatisfy(\.isASCII), code.allSatisfy(\.isNumber) else { return false }
        return [-30, 0, 30].contains { Secrets.constantTimeEquals(Self.code(secret: secret, at: now + Int64($0)), code) }
    }
}
