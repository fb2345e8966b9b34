import Foundation

/// A help or knowledge-base article (Tunda "informazioni e consigli", Unidata "Help online").
public struct ArticleRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    /// `knowledge_base` (Tunda) or `help` (Unidata): which page lists it.
    public var collection: String
    public var category: String
    /// Stable, URL-safe name, unique per collection and locale (`cambiare-versione-php`).
    public var slug: String
    public var title: String
    public var summary: String?
    /// Plain text; paragraphs separated by a blank line.
    public var body: String
    public var locale: String
    /// `YYYY-MM-DD` of the last revision.
    public var updatedOn: String
    public var position: Int64

    public init(id: Int64? = nil, collection: String, category: String, slug: String, title: String, summary: String? = nil,
                body: String, locale: String, updatedOn: String, position: Int64 = 0) {
        self.id = id; self.collection = collection; self.category = category; self.slug = slug; self.title = title
        self.summary = summary; self.body = body; self.locale = locale; self.updatedOn = updatedOn; self.position = position
    }

    public var paragraphs: [String] {
        body.components(separatedBy: "\n\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    /// Whether every word of `query` occurs in the title, summary, category or body (case- and accent-insensitive).
    public func matches(_ query: String) -> Bool {
        let words = Self.words(query)
        guard !words.isEmpty else { return true }
        let haystack = Self.fold([title, summary ?? "", category, body].joined(separator: " "))
        return words.allSatisfy { haystack.contains($0) }
    }

    /// How well it matches: words found in the title count more than words in the text.
    public func score(_ query: String) -> Int {
        let title = Self.fold(self.title)
        return Self.words(query).reduce(0) { $0 + (title.contains($1) ? 3 : 1) }
    }

    public static func words(_ query: String) -> [String] {
        fold(query).split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init).filter { $0.count >= 2 }
    }

    static func fold(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: Locale(identifier: "it_IT"))
    }
}

/// Something the customer bought in the portal: a product of the catalogue or a domain registration,
/// paid through a pro-forma invoice; it starts once that is paid.
public struct OrderRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var customerId: Int64
    public var userId: Int64?
    /// `ORD-2026-000042`, unique per tenant.
    public var number: String
    /// `product` or `domain`.
    public var kind: String
    /// The catalogue code (`HOST-PRO`, or the extension `it` for a domain).
    public var itemCode: String
    public var title: String
    /// What it applies to: the domain name.
    public var target: String?
    /// `year`, `month` or `once`.
    public var billingPeriod: String?
    /// Years (domains) or billing periods bought.
    public var quantity: Int64
    public var netCents: Int64
    public var taxCents: Int64
    public var totalCents: Int64
    public var status: OrderStatus
    /// The pro-forma to pay.
    public var invoiceId: Int64?
    public var createdAt: Int64
    public var activatedOn: String?

    public init(id: Int64? = nil, customerId: Int64, userId: Int64? = nil, number: String, kind: String, itemCode: String,
                title: String, target: String? = nil, billingPeriod: String? = nil, quantity: Int64 = 1, netCents: Int64,
                taxCents: Int64, totalCents: Int64, status: OrderStatus = .awaitingPayment, invoiceId: Int64? = nil,
                createdAt: Int64, activatedOn: String? = nil) {
        self.id = id; self.customerId = customerId; self.userId = userId; self.number = number; self.kind = kind
        self.itemCode = itemCode; self.title = title; self.target = target; self.billingPeriod = billingPeriod
        self.quantity = quantity; self.netCents = netCents; self.taxCents = taxCents; self.totalCents = totalCents
        self.status = status; self.invoiceId = invoiceId; self.createdAt = createdAt; self.activatedOn = activatedOn
    }
}

/// Where an order stands: it waits for its pro-forma to be paid, then starts.
public enum OrderStatus: String, Codable, Sendable, CaseIterable {
    case awaitingPayment = "awaiting_payment"
    case active, cancelled
}

/// A shared-hosting account on one of Tunda's servers, one per hosting line.
public struct HostingAccountRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var customerId: Int64
    public var lineId: Int64?
    public var orderId: Int64?
    public var domain: String
    /// The plan's catalogue code and title.
    public var planCode: String
    public var planTitle: String
    public var server: String
    public var username: String
    public var diskUsedMb: Int64
    public var diskQuotaMb: Int64
    public var trafficUsedMb: Int64
    public var trafficQuotaMb: Int64
    public var mailboxes: Int64
    public var mailboxQuota: Int64
    public var phpVersion: String
    public var status: HostingAccountStatus
    public var expiresOn: String
    public var createdAt: Int64

    public init(id: Int64? = nil, customerId: Int64, lineId: Int64? = nil, orderId: Int64? = nil, domain: String, planCode: String,
                planTitle: String, server: String, username: String, diskUsedMb: Int64 = 0, diskQuotaMb: Int64,
                trafficUsedMb: Int64 = 0, trafficQuotaMb: Int64, mailboxes: Int64 = 0, mailboxQuota: Int64,
                phpVersion: String = HostingPolicy.defaultPHPVersion, status: HostingAccountStatus = .active, expiresOn: String, createdAt: Int64) {
        self.id = id; self.customerId = customerId; self.lineId = lineId; self.orderId = orderId; self.domain = domain
        self.planCode = planCode; self.planTitle = planTitle; self.server = server; self.username = username
        self.diskUsedMb = diskUsedMb; self.diskQuotaMb = diskQuotaMb; self.trafficUsedMb = trafficUsedMb
        self.trafficQuotaMb = trafficQuotaMb; self.mailboxes = mailboxes; self.mailboxQuota = mailboxQuota
        self.phpVersion = phpVersion; self.status = status; self.expiresOn = expiresOn; self.createdAt = createdAt
    }
}

/// Where a shared-hosting account stands.
public enum HostingAccountStatus: String, Codable, Sendable, CaseIterable {
    case active, suspended, expired
}

/// An address the shared-hosting firewall blocked (too many failed logins on FTP, mail, the CMS…).
public struct BlockedAddressRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var customerId: Int64
    public var hostingAccountId: Int64
    /// Normalised textual form (`203.0.113.7`, `2001:db8::1`).
    public var address: String
    /// `ftp_login`, `mail_login`, `cms_login`, `ssh_login`, `port_scan`.
    public var reason: String
    /// The service that tripped the rule (`FTP`, `IMAP`, `wp-login.php`…).
    public var service: String?
    public var blockedAt: Int64
    public var unblockedAt: Int64?
    public var unblockedBy: Int64?

    public init(id: Int64? = nil, customerId: Int64, hostingAccountId: Int64, address: String, reason: String, service: String? = nil,
                blockedAt: Int64, unblockedAt: Int64? = nil, unblockedBy: Int64? = nil) {
        self.id = id; self.customerId = customerId; self.hostingAccountId = hostingAccountId; self.address = address
        self.reason = reason; self.service = service; self.blockedAt = blockedAt; self.unblockedAt = unblockedAt
        self.unblockedBy = unblockedBy
    }
}

/// A domain registered (or being registered) for a customer.
public struct DomainRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var customerId: Int64
    public var orderId: Int64?
    /// Lower-case ASCII name with its extension (`rossi-srl.it`); unique per tenant.
    public var name: String
    /// The extension, without the dot (`it`).
    public var tld: String
    public var status: DomainStatus
    public var registeredOn: String?
    public var expiresOn: String?
    public var autoRenew: Bool
    public var createdAt: Int64

    public init(id: Int64? = nil, customerId: Int64, orderId: Int64? = nil, name: String, tld: String, status: DomainStatus,
                registeredOn: String? = nil, expiresOn: String? = nil, autoRenew: Bool = true, createdAt: Int64) {
        self.id = id; self.customerId = customerId; self.orderId = orderId; self.name = name; self.tld = tld
        self.status = status; self.registeredOn = registeredOn; self.expiresOn = expiresOn; self.autoRenew = autoRenew
        self.createdAt = createdAt
    }
}

/// Where a domain registration stands.
public enum DomainStatus: String, Codable, Sendable, CaseIterable {
    /// Reserved for the customer, awaiting the payment of its pro-forma.
    case pending
    case active, expired
}

/// Rules of Tunda's shared hosting and domain registrations.
public enum HostingPolicy {
    /// PHP versions a shared-hosting account may switch to.
    public static let phpVersions = ["7.4", "8.1", "8.2", "8.3", "8.4"]
    public static let defaultPHPVersion = "8.3"
    /// VAT on services and domains.
    public static let vatPercent: Int64 = 22
    /// Days a pro-forma stays payable.
    public static let proformaDays = 10
    public static let registrationYears: ClosedRange<Int64> = 1...5

    public static func tax(on net: Int64) -> Int64 { (net * vatPercent + 50) / 100 }
}

/// Why a domain name cannot be registered as typed.
public enum DomainNameProblem: String, Error, Sendable {
    case required, tooLong = "too_long", invalidCharacters = "invalid_characters", invalidLabel = "invalid_label"
    case missingExtension = "missing_extension"
}

/// Domain names as typed by people: `www.Rossi-SRL.it ` becomes `rossi-srl.it`.
public enum DomainName {
    /// The normalised name, or the problem with it. Only ASCII (LDH) names: internationalised names are refused.
    public static func normalize(_ text: String) -> Result<(name: String, label: String, extension: String), DomainNameProblem> {
        var name = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        for prefix in ["http://", "https://"] where name.hasPrefix(prefix) { name.removeFirst(prefix.count) }
        if let slash = name.firstIndex(of: "/") { name = String(name[..<slash]) }
        if name.hasPrefix("www.") { name.removeFirst(4) }
        if name.hasSuffix(".") { name.removeLast() }
        guard !name.isEmpty else { return .failure(.required) }
        guard name.count <= 253 else { return .failure(.tooLong) }
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }) else {
            return .failure(.invalidCharacters)
        }
        guard let dot = name.firstIndex(of: ".") else { return .failure(.missingExtension) }
        let label = String(name[..<dot])
        let ext = String(name[name.index(after: dot)...])
        guard !ext.isEmpty, ext.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ validLabel(String($0)) && $0.first!.isLetter })
        else { return .failure(.missingExtension) }
        guard validLabel(label) else { return .failure(.invalidLabel) }
        return .success((name, label, ext))
    }

    /// 1–63 letters, digits and hyphens, not starting or ending with a hyphen, no `--` in positions 3–4.
    static func validLabel(_ label: String) -> Bool {
        guard (1...63).contains(label.count), !label.hasPrefix("-"), !label.hasSuffix("-") else { return false }
        let characters = Array(label)
        if characters.count >= 4, characters[2] == "-", characters[3] == "-" { return false }
        return true
    }
}

/// IPv4 and IPv6 addresses as typed by people.
public enum IPAddress {
    /// The canonical textual form of an IPv4 or IPv6 address, nil when `text` is neither.
    public static func normalize(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let v4 = ipv4(trimmed) { return v4.map(String.init).joined(separator: ".") }
        if let v6 = ipv6(trimmed) { return format(v6) }
        return nil
    }

    static func ipv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  !(part.count > 1 && part.hasPrefix("0")), let value = UInt8(part) else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    static func ipv6(_ text: String) -> [UInt16]? {
        var text = text
        if text.hasPrefix("[") && text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        guard text.contains(":"), text.count <= 45 else { return nil }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String, allowIPv4Tail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if index == pieces.count - 1, allowIPv4Tail, piece.contains("."), let v4 = ipv4(String(piece)) {
                    result.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                    result.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                    continue
                }
                guard (1...4).contains(piece.count), piece.allSatisfy(\.isHexDigit), let value = UInt16(piece, radix: 16) else { return nil }
                result.append(value)
            }
            return result
        }
        if halves.count == 1 {
            guard let all = groups(halves[0], allowIPv4Tail: true), all.count == 8 else { return nil }
            return all
        }
        guard let head = groups(halves[0], allowIPv4Tail: false), let tail = groups(halves[1], allowIPv4Tail: true),
              head.count + tail.count <= 7 else { return nil }
        return head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
    }

    /// RFC 5952: lower case, no leading zeros, the longest run of two or more zero groups as `::`.
    static func format(_ groups: [UInt16]) -> String {
        var bestStart = -1, bestLength = 0, start = -1
        for index in 0...groups.count {
            if index < groups.count && groups[index] == 0 {
                if start < 0 { start = index }
            } else if start >= 0 {
                if index - start > bestLength { bestStart = start; bestLength = index - start }
                start = -1
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard bestLength >= 2 else { return hex.joined(separator: ":") }
        return hex[..<bestStart].joined(separator: ":") + "::" + hex[(bestStart + bestLength)...].joined(separator: ":")
    }
}
