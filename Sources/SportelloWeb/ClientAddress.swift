import Foundation

/// An address or CIDR range of a proxy allowed to say who the client is (`X-Forwarded-For`, `Forwarded`).
public struct TrustedProxy: Sendable, Equatable, CustomStringConvertible {
    /// The network's bytes (4 for IPv4, 16 for IPv6) and how many leading bits must match.
    let network: [UInt8]
    let prefixLength: Int
    public let description: String

    /// `10.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`; nil when the text is not an address or range.
    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: "/", maxSplits: 1).map(String.init)
        guard let first = parts.first, let bytes = ClientAddress.bytes(of: first) else { return nil }
        let bits = bytes.count * 8
        var length = bits
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), (0...bits).contains(parsed) else { return nil }
            length = parsed
        }
        network = bytes; prefixLength = length; description = trimmed
    }

    /// Parses a list separated by commas or spaces (flag values, `SPORTELLO_TRUSTED_PROXIES`); throws on a bad entry.
    public static func list(_ values: [String]) throws -> [TrustedProxy] {
        try values.flatMap { $0.split(whereSeparator: { $0 == "," || $0 == " " }) }.map { entry in
            guard let proxy = TrustedProxy(String(entry)) else { throw InvalidTrustedProxy(text: String(entry)) }
            return proxy
        }
    }

    public struct InvalidTrustedProxy: Error, CustomStringConvertible {
        public let text: String
        public var description: String { "'\(text)' is not an IP address or CIDR range (e.g. 10.0.0.1, 10.0.0.0/8, fd00::/8)" }
    }

    func contains(_ address: [UInt8]) -> Bool {
        guard address.count == network.count else { return false }
        var remaining = prefixLength
        for index in 0..<network.count where remaining > 0 {
            let take = min(8, remaining)
            let mask: UInt8 = take == 8 ? 0xFF : ~(0xFF >> UInt8(take))
            if address[index] & mask != network[index] & mask { return false }
            remaining -= take
        }
        return true
    }
}

/// Works out the client's address: the peer's, unless the peer is a trusted proxy; then the right-most
/// address of the forwarding chain that is not itself a trusted proxy. A header from an untrusted peer is
/// never read, so a client cannot choose the address its attempts are counted under.
public enum ClientAddress {
    public static func resolve(peer: String?, forwardedFor: [String], forwarded: [String], trusted: [TrustedProxy]) -> String? {
        guard let peer, !trusted.isEmpty, isTrusted(peer, trusted) else { return peer }
        // `Forwarded` (RFC 7239) wins when present; else `X-Forwarded-For`. Both list the nearest hop last.
        var chain = forwarded.flatMap { $0.split(separator: ",") }.compactMap { element -> String? in
            for pair in element.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == "for" else { continue }
                return unquote(String(parts[1]))
            }
            return nil
        }
        if chain.isEmpty {
            chain = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        for hop in chain.reversed() {
            guard bytes(of: hop) != nil else { return peer }   // garbage in the chain: count it as the proxy's own
            if !isTrusted(hop, trusted) { return canonical(hop) }
        }
        return chain.first.map(canonical) ?? peer
    }

    static func isTrusted(_ address: String, _ trusted: [TrustedProxy]) -> Bool {
        guard let bytes = bytes(of: address) else { return false }
        return trusted.contains { $0.contains(bytes) }
    }

    /// `"[2001:db8::1]:4711"` → `2001:db8::1`, `"192.0.2.1:80"` → `192.0.2.1`.
    static func unquote(_ text: String) -> String {
        var value = text.trimmingCharacters(in: .whitespaces)
        if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
        if value.hasPrefix("["), let end = value.firstIndex(of: "]") { return String(value[value.index(after: value.startIndex)..<end]) }
        if value.filter({ $0 == ":" }).count == 1, let colon = value.firstIndex(of: ":") { return String(value[..<colon]) }
        return value
    }

    static func canonical(_ address: String) -> String {
        let value = unquote(address)
        if value.hasPrefix("::ffff:"), bytes(of: String(value.dropFirst(7)))?.count == 4 { return String(value.dropFirst(7)) }
        return value
    }

    /// The address's bytes (IPv4-mapped IPv6 is read as IPv4), or nil.
    static func bytes(of text: String) -> [UInt8]? {
        let value = unquote(text)
        var v4 = in_addr()
        if inet_pton(AF_INET, value, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, value, &v6) == 1 {
            let all = withUnsafeBytes(of: &v6) { Array($0) }
            if all[0..<10].allSatisfy({ $0 == 0 }) && all[10] == 0xFF && all[11] == 0xFF { return Array(all[12...]) }
            return all
        }
        return nil
    }
}
