import Foundation

/// Where and how to hand mail to a relay, from `SPORTELLO_SMTP_URL` and `SPORTELLO_MAIL_FROM`.
///
/// - `smtp://host:port` — plain SMTP (default port 25);
/// - `smtp://user:password@host:587?starttls=required` — STARTTLS, then AUTH PLAIN or LOGIN;
/// - `smtps://user:password@host:465` — TLS from the first byte.
///
/// Query options: `starttls=required|opportunistic|never` (default `never` for `smtp://`),
/// `tls_verify=false` (accept any certificate: development relays only), `helo=NAME` (default: the
/// sender's domain), `connect_timeout=SECONDS` (10), `timeout=SECONDS` (30, per reply),
/// `session_timeout=SECONDS` (60, everything after connecting for one message).
/// Credentials are sent only over TLS, except to a relay on the loopback interface. Percent-encode
/// reserved characters in the user name and password (`@` is `%40`).
public struct SMTPConfiguration: Sendable, Equatable, CustomStringConvertible {
    public enum Security: String, Sendable {
        /// No TLS at all.
        case none
        /// STARTTLS when the relay offers it, plain otherwise.
        case opportunisticStartTLS = "opportunistic"
        /// STARTTLS or no delivery.
        case requiredStartTLS = "required"
        /// TLS from the first byte (`smtps://`).
        case implicitTLS = "implicit"
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var username: String?
    public var password: String?
    /// False only with `tls_verify=false`: the relay's certificate is not checked.
    public var tlsVerify: Bool
    /// The name given in EHLO/HELO.
    public var heloName: String
    /// The envelope sender and the `From` address (tenants' names replace the display name).
    public var from: MailAddress
    public var connectTimeout: Duration
    public var replyTimeout: Duration
    public var sessionTimeout: Duration

    public static let defaultFrom = "Sportello <no-reply@sportello.localhost>"

    public init(host: String, port: Int = 25, security: Security = .none, username: String? = nil,
                password: String? = nil, tlsVerify: Bool = true, heloName: String? = nil,
                from: MailAddress = MailAddress(parsing: SMTPConfiguration.defaultFrom)!,
                connectTimeout: Duration = .seconds(10), replyTimeout: Duration = .seconds(30),
                sessionTimeout: Duration = .seconds(60)) {
        self.host = host; self.port = port; self.security = security; self.username = username
        self.password = password; self.tlsVerify = tlsVerify; self.heloName = heloName ?? from.domain
        self.from = from; self.connectTimeout = connectTimeout; self.replyTimeout = replyTimeout
        self.sessionTimeout = sessionTimeout
    }

    /// Parses a relay URL (see the type's documentation); the error never repeats the password.
    public init(url text: String, from: String = SMTPConfiguration.defaultFrom) throws {
        guard let sender = MailAddress(parsing: from) else {
            throw MailConfigurationError("SPORTELLO_MAIL_FROM is not an e-mail address: \(from)")
        }
        guard let parts = URLComponents(string: text), let scheme = parts.scheme?.lowercased(),
              let host = parts.host, !host.isEmpty else {
            throw MailConfigurationError("SPORTELLO_SMTP_URL must look like smtp://host:port or smtps://host:465")
        }
        var security: Security
        switch scheme {
        case "smtp": security = .none
        case "smtps": security = .implicitTLS
        default: throw MailConfigurationError("SPORTELLO_SMTP_URL: unknown scheme '\(scheme)' (smtp or smtps)")
        }
        var tlsVerify = true
        var helo: String?
        var timeouts: [String: Duration] = [:]
        for item in parts.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "starttls":
                guard scheme == "smtp" else { throw MailConfigurationError("SPORTELLO_SMTP_URL: starttls applies to smtp:// only") }
                switch value {
                case "required", "true", "yes": security = .requiredStartTLS
                case "opportunistic": security = .opportunisticStartTLS
                case "never", "false", "no": security = .none
                default: throw MailConfigurationError("SPORTELLO_SMTP_URL: starttls must be required, opportunistic or never")
                }
            case "tls_verify":
                guard ["true", "false"].contains(value) else { throw MailConfigurationError("SPORTELLO_SMTP_URL: tls_verify must be true or false") }
                tlsVerify = value == "true"
            case "helo":
                guard !value.isEmpty, value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }) else {
                    throw MailConfigurationError("SPORTELLO_SMTP_URL: helo must be a host name")
                }
                helo = value
            case "connect_timeout", "timeout", "session_timeout":
                guard let seconds = Double(value), seconds > 0 else {
                    throw MailConfigurationError("SPORTELLO_SMTP_URL: \(item.name) must be a number of seconds")
                }
                timeouts[item.name] = .milliseconds(Int64(seconds * 1000))
            default:
                throw MailConfigurationError("SPORTELLO_SMTP_URL: unknown option '\(item.name)' (starttls, tls_verify, helo, connect_timeout, timeout, session_timeout)")
            }
        }
        let username = parts.user.flatMap { $0.isEmpty ? nil : $0 }
        let password = parts.password
        if username != nil, security == .none || security == .opportunisticStartTLS, !Self.isLoopback(host) {
            throw MailConfigurationError("SPORTELLO_SMTP_URL: credentials are sent only over TLS; add ?starttls=required or use smtps://")
        }
        self.init(host: host, port: parts.port ?? (security == .implicitTLS ? 465 : 25), security: security,
                  username: username, password: password, tlsVerify: tlsVerify, heloName: helo, from: sender,
                  connectTimeout: timeouts["connect_timeout"] ?? .seconds(10),
                  replyTimeout: timeouts["timeout"] ?? .seconds(30),
                  sessionTimeout: timeouts["session_timeout"] ?? .seconds(60))
    }

    /// The relay of `SPORTELLO_SMTP_URL` with the sender of `SPORTELLO_MAIL_FROM`; nil when no relay is
    /// configured (development: mail stays in the outbox, `sportello mail` shows it).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SMTPConfiguration? {
        guard let url = environment["SPORTELLO_SMTP_URL"], !url.isEmpty else { return nil }
        let from = environment["SPORTELLO_MAIL_FROM"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultFrom
        return try SMTPConfiguration(url: url, from: from)
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]"
    }

    /// The URL with the password masked: `smtp://user:***@host:587?starttls=required`.
    public var description: String {
        var text = security == .implicitTLS ? "smtps://" : "smtp://"
        if let username {
            text += username.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? "user"
            if password != nil { text += ":***" }
            text += "@"
        }
        text += host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        text += ":\(port)"
        var options: [String] = []
        switch security {
        case .requiredStartTLS: options.append("starttls=required")
        case .opportunisticStartTLS: options.append("starttls=opportunistic")
        case .none, .implicitTLS: break
        }
        if !tlsVerify { options.append("tls_verify=false") }
        return options.isEmpty ? text : text + "?" + options.joined(separator: "&")
    }
}

/// A relay setting that cannot be used, with a message safe to print (no password).
public struct MailConfigurationError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Why a message was not delivered, with a stable `code` and the relay's reply (never a credential).
public struct MailDeliveryError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case connectionFailed = "connection_failed"
        case timeout
        /// A 4xx reply: try again later.
        case rejectedTemporarily = "rejected_temporarily"
        /// A 5xx reply.
        case rejectedPermanently = "rejected_permanently"
        case tlsFailed = "tls_failed"
        case authFailed = "auth_failed"
        /// The message itself cannot be sent (an address SMTP cannot carry).
        case invalidMessage = "invalid_message"
    }

    /// Where in the conversation it happened.
    public enum Stage: String, Sendable {
        case connect, greeting, hello, startTLS = "starttls", auth, sender = "mail_from", recipient = "rcpt_to", data
    }

    public var code: Code
    public var stage: Stage
    /// The relay's reply code, when it answered.
    public var replyCode: Int?
    /// The relay's reply text or what went wrong locally.
    public var message: String

    public init(_ code: Code, stage: Stage, replyCode: Int? = nil, message: String) {
        self.code = code; self.stage = stage; self.replyCode = replyCode
        self.message = String(message.prefix(400))
    }

    /// True when retrying cannot help this message: the relay refused the recipient or the content for
    /// good, or the message cannot be written. A refusal before that (greeting, EHLO, AUTH, MAIL FROM)
    /// is a relay problem: the message waits until it is fixed.
    public var isPermanent: Bool {
        switch code {
        case .invalidMessage: true
        case .rejectedPermanently: stage == .recipient || stage == .data
        default: false
        }
    }

    /// `rejected_permanently (rcpt_to): 550 5.1.1 mailbox unavailable`
    public var description: String {
        "\(code.rawValue) (\(stage.rawValue)): " + (replyCode.map { "\($0) " } ?? "") + message
    }
}
