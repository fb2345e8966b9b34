import Crypto
import Foundation
import Synchronization

/// Encrypts the stored values the portal must read again in clear (a SIM's PIN and PUK, the bodies of
/// queued e-mails until they are sent): AES-GCM with a 256-bit key kept outside the database, so a copy
/// of the database alone does not reveal them.
///
/// The key is `SPORTELLO_DATA_KEY` (base64 of 32 bytes) when set, else the file `keyFile`. That file is
/// created with mode 600 on first use only when `createKeyFile` is true (SQLite, whose key lives next to
/// the database); otherwise a missing file is an error, so a second host never silently draws a key of
/// its own. The key is read only when first needed.
public final class FieldSealer: Sendable {
    /// Prefix of sealed values; values without it (written before sealing existed) are read as they are.
    static let prefix = "sealed:v1:"
    /// What the key's fingerprint authenticates (see `fingerprint()`).
    static let fingerprintLabel = "sportello data key fingerprint v1"

    private let keyFile: String
    private let environment: [String: String]
    private let createKeyFile: Bool
    private let key = Mutex<SymmetricKey?>(nil)

    public init(keyFile: String, environment: [String: String] = ProcessInfo.processInfo.environment, createKeyFile: Bool = true) {
        self.keyFile = keyFile
        self.environment = environment
        self.createKeyFile = createKeyFile
    }

    /// A sealer with a key of its own, kept in memory only (tests).
    public init(key: SymmetricKey) {
        keyFile = ""
        environment = [:]
        createKeyFile = false
        self.key.withLock { $0 = key }
    }

    /// Where the key comes from, for messages (never the key).
    public var sourceDescription: String {
        if let text = environment["SPORTELLO_DATA_KEY"], !text.isEmpty { return "SPORTELLO_DATA_KEY" }
        return keyFile.isEmpty ? "a key in memory" : "the key file \(keyFile)"
    }

    /// Whether `stored` was written by `seal` (and needs the key to be read).
    public static func isSealed(_ stored: String) -> Bool { stored.hasPrefix(prefix) }

    /// Identifies the key without revealing it: HMAC-SHA256 of a fixed label under the key, in hex. Kept
    /// in the database, it lets an instance started with another key refuse to run.
    public func fingerprint() throws -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data(Self.fingerprintLabel.utf8), using: try currentKey())
        return code.map { String(format: "%02x", $0) }.joined()
    }

    public func seal(_ plain: String) throws -> String {
        let box = try AES.GCM.seal(Data(plain.utf8), using: try currentKey())
        guard let combined = box.combined else { throw StoreError(.invalidInput, "AES-GCM gave no combined box") }
        return Self.prefix + combined.base64EncodedString()
    }

    public func open(_ stored: String) throws -> String {
        guard stored.hasPrefix(Self.prefix) else { return stored }
        guard let data = Data(base64Encoded: String(stored.dropFirst(Self.prefix.count))) else {
            throw StoreError(.invalidInput, "a sealed value is not base64")
        }
        let plain = try AES.GCM.open(try AES.GCM.SealedBox(combined: data), using: try currentKey())
        return String(decoding: plain, as: UTF8.self)
    }

    /// HMAC-SHA256 (hex) of `value` under a key derived from the data key: stable across restarts and
    /// instances, unpredictable without the key (decoy choices that must not reveal whether an account exists).
    public func keyedDigest(_ value: String, purpose: String) throws -> String {
        let derived = HKDF<SHA256>.deriveKey(inputKeyMaterial: try currentKey(), info: Data("sportello.\(purpose)".utf8), outputByteCount: 32)
        return HMAC<SHA256>.authenticationCode(for: Data(value.utf8), using: derived).map { String(format: "%02x", $0) }.joined()
    }

    private func currentKey() throws -> SymmetricKey {
        try key.withLock { current in
            if let current { return current }
            let loaded = try loadKey()
            current = loaded
            return loaded
        }
    }

    private func loadKey() throws -> SymmetricKey {
        if let text = environment["SPORTELLO_DATA_KEY"], !text.isEmpty {
            guard let data = Data(base64Encoded: text), data.count == 32 else {
                throw StoreError(.dataKey, "SPORTELLO_DATA_KEY must be the base64 of 32 bytes (openssl rand -base64 32)")
            }
            return SymmetricKey(data: data)
        }
        let url = URL(fileURLWithPath: keyFile)
        if let data = FileManager.default.contents(atPath: keyFile) {
            guard let decoded = Data(base64Encoded: String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)),
                  decoded.count == 32 else { throw StoreError(.dataKey, "\(keyFile) does not hold a base64 key of 32 bytes") }
            return SymmetricKey(data: decoded)
        }
        guard createKeyFile else {
            throw StoreError(.dataKey, "the data key file \(keyFile) (SPORTELLO_DATA_KEY_FILE) does not exist: copy the key every instance uses there, or create the first one with 'openssl rand -base64 32 > \(keyFile)'")
        }
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fresh = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        // Written aside, then linked into place: when two processes start together, the second reads the first's key.
        let temporary = keyFile + ".new-" + UUID().uuidString
        guard FileManager.default.createFile(atPath: temporary, contents: Data(fresh.base64EncodedString().utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw StoreError(.cannotOpen, "cannot write the data key file \(keyFile)")
        }
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        if link(temporary, keyFile) != 0 && errno != EEXIST {
            throw StoreError(.cannotOpen, "cannot create the data key file \(keyFile)")
        }
        return try loadKey()
    }
}
