import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// Hands messages to a relay. `SMTPClient` is the real one; tests and tools may provide others.
public protocol MailTransport: Sendable {
    /// Sends `messages` in order, over as few connections as possible, and calls `report` with each
    /// message's index and outcome (nil: accepted by the relay) as soon as it is known. When `report`
    /// returns false the remaining messages are not attempted (and not reported).
    func send(_ messages: [MailMessage], report: (Int, MailDeliveryError?) async -> Bool) async
}

extension MailTransport {
    /// Sends one message; throws `MailDeliveryError`.
    public func send(_ message: MailMessage) async throws {
        var failure: MailDeliveryError?
        await send([message]) { _, error in
            failure = error
            return true
        }
        if let failure { throw failure }
    }
}

/// An SMTP client on SwiftNIO: EHLO (or HELO), STARTTLS, AUTH PLAIN or LOGIN, MAIL FROM, RCPT TO,
/// DATA with dot-stuffing, QUIT. Several messages share one connection (RSET after a refusal).
public struct SMTPClient: MailTransport {
    public let configuration: SMTPConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger

    public init(configuration: SMTPConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger = Logger(label: "sportello.mail.smtp")) {
        self.configuration = configuration
        self.group = eventLoopGroup
        self.logger = logger
    }

    public func send(_ messages: [MailMessage], report: (Int, MailDeliveryError?) async -> Bool) async {
        var session: SMTPSession?
        var sessionUsed = false
        var retriedOnFreshSession = false
        var index = 0
        delivery: while index < messages.count {
            let message = messages[index]
            guard message.to.isDeliverable, message.from.isDeliverable else {
                let error = MailDeliveryError(.invalidMessage, stage: message.to.isDeliverable ? .sender : .recipient,
                                              message: "the address cannot be used with SMTP")
                guard await report(index, error) else { break delivery }
                index += 1
                continue
            }
            do {
                if session == nil {
                    session = try await SMTPSession.open(configuration, group: group, logger: logger)
                    sessionUsed = false
                }
                try await session!.transmit(message)
                sessionUsed = true
                retriedOnFreshSession = false
                logger.debug("relay accepted the message", metadata: ["mail": "\(message.reference)"])
                guard await report(index, nil) else { break delivery }
                index += 1
            } catch {
                var failure = error as? MailDeliveryError
                    ?? MailDeliveryError(.connectionFailed, stage: .connect, message: String(describing: error))
                failure.message = Self.redacting(message.to.address, in: failure.message)
                let connectionGone = failure.replyCode == nil || failure.replyCode == 421
                    || [.greeting, .hello, .startTLS, .auth, .connect].contains(failure.stage)
                if connectionGone {
                    await session?.close()
                    session = nil
                    // A relay may drop a connection that carried mail before: one more try on a new one,
                    // only if this message never got past MAIL FROM.
                    if sessionUsed && !retriedOnFreshSession && failure.stage == .sender {
                        retriedOnFreshSession = true
                        continue
                    }
                    // The relay is unreachable or refuses us: every remaining message waits for the same reason.
                    for remaining in index..<messages.count {
                        guard await report(remaining, failure) else { break delivery }
                    }
                    break delivery
                }
                guard await report(index, failure) else { break delivery }
                index += 1
                do {
                    try await session?.reset()
                } catch {
                    await session?.close()
                    session = nil
                }
            }
        }
        await session?.quit()
    }

    /// The relay's reply may quote the recipient; logs and the outbox keep `<recipient>` instead.
    static func redacting(_ address: String, in text: String) -> String {
        guard !address.isEmpty else { return text }
        return text.replacingOccurrences(of: address, with: "<recipient>", options: .caseInsensitive)
    }
}

// MARK: - One connection

/// A connection to the relay, used by one task at a time.
final class SMTPSession {
    private let channel: any Channel
    private let replies: NIOLoopBound<SMTPReplyHandler>
    private let configuration: SMTPConfiguration
    private let logger: Logger
    private var capabilities: [String: [String]] = [:]
    private var secure: Bool
    private var deadline: ContinuousClock.Instant
    private var closed = false

    private init(channel: any Channel, replies: NIOLoopBound<SMTPReplyHandler>, configuration: SMTPConfiguration,
                 secure: Bool, logger: Logger) {
        self.channel = channel
        self.replies = replies
        self.configuration = configuration
        self.secure = secure
        self.logger = logger
        self.deadline = .now + configuration.sessionTimeout
    }

    static func open(_ configuration: SMTPConfiguration, group: any EventLoopGroup, logger: Logger) async throws -> SMTPSession {
        let tlsContext: NIOSSLContext?
        do {
            tlsContext = configuration.security == .none ? nil : try makeTLSContext(configuration)
        } catch {
            throw MailDeliveryError(.tlsFailed, stage: .connect, message: "cannot set up TLS: \(error)")
        }
        let implicitTLS = configuration.security == .implicitTLS
        let host = configuration.host
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    if implicitTLS, let tlsContext {
                        try operations.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: serverName(host)))
                    }
                    try operations.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
                    try operations.addHandler(SMTPReplyHandler())
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: configuration.port).get()
        } catch ChannelError.connectTimeout {
            throw MailDeliveryError(.timeout, stage: .connect,
                                    message: "no connection to \(host):\(configuration.port) within \(configuration.connectTimeout)")
        } catch {
            throw MailDeliveryError(.connectionFailed, stage: .connect,
                                    message: "cannot connect to \(host):\(configuration.port): \(describe(error))")
        }
        let handler: NIOLoopBound<SMTPReplyHandler>
        do {
            handler = try await channel.eventLoop.submit {
                NIOLoopBound(try channel.pipeline.syncOperations.handler(type: SMTPReplyHandler.self), eventLoop: channel.eventLoop)
            }.get()
        } catch {
            channel.close(promise: nil)
            throw MailDeliveryError(.connectionFailed, stage: .connect, message: describe(error))
        }
        let session = SMTPSession(channel: channel, replies: handler, configuration: configuration,
                                  secure: implicitTLS, logger: logger)
        do {
            try await session.handshake(tlsContext: tlsContext)
        } catch {
            await session.close()
            throw error
        }
        return session
    }

    static func makeTLSContext(_ configuration: SMTPConfiguration) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        if !configuration.tlsVerify { tls.certificateVerification = .none }
        return try NIOSSLContext(configuration: tls)
    }

    /// The name for SNI and certificate checks: nil for an IP address (NIOSSL refuses those in SNI).
    static func serverName(_ host: String) -> String? {
        let ipv4 = host.split(separator: ".").count == 4 && host.allSatisfy { $0.isNumber || $0 == "." }
        return ipv4 || host.contains(":") ? nil : host
    }

    // MARK: Conversation

    /// Greeting, EHLO, STARTTLS and AUTH as configured.
    private func handshake(tlsContext: NIOSSLContext?) async throws {
        let greeting = try await reply(stage: .greeting)
        try expect(greeting, [220], stage: .greeting)
        try await hello()
        switch configuration.security {
        case .requiredStartTLS, .opportunisticStartTLS:
            if capabilities["STARTTLS"] != nil, let tlsContext {
                try await startTLS(tlsContext)
            } else if configuration.security == .requiredStartTLS {
                throw MailDeliveryError(.tlsFailed, stage: .startTLS, message: "the relay does not offer STARTTLS")
            }
        case .none, .implicitTLS:
            break
        }
        if configuration.username != nil { try await authenticate() }
    }

    private func hello() async throws {
        let reply = try await command("EHLO \(configuration.heloName)", stage: .hello)
        if reply.code == 250 {
            capabilities = [:]
            for line in reply.lines.dropFirst() {
                let words = line.uppercased().split(whereSeparator: { $0 == " " || $0 == "=" }).map(String.init)
                if let keyword = words.first { capabilities[keyword, default: []] += words.dropFirst() }
            }
            return
        }
        guard reply.code >= 500 else { try expect(reply, [250], stage: .hello); return }
        // An old relay without ESMTP.
        capabilities = [:]
        try expect(try await command("HELO \(configuration.heloName)", stage: .hello), [250], stage: .hello)
    }

    private func startTLS(_ context: NIOSSLContext) async throws {
        let reply = try await command("STARTTLS", stage: .startTLS)
        guard reply.code == 220 else {
            if configuration.security == .opportunisticStartTLS { return }
            throw MailDeliveryError(.tlsFailed, stage: .startTLS, replyCode: reply.code, message: reply.text)
        }
        let host = configuration.host
        let handler = replies
        let channel = channel
        do {
            try await channel.eventLoop.submit {
                // Anything the relay sent after its 220 arrived in clear text: refuse it (STARTTLS injection).
                guard handler.value.isIdle else { throw SMTPProtocolError(message: "data after the STARTTLS reply") }
                try channel.pipeline.syncOperations.addHandler(
                    NIOSSLClientHandler(context: context, serverHostname: SMTPSession.serverName(host)), position: .first)
            }.get()
        } catch {
            throw MailDeliveryError(.tlsFailed, stage: .startTLS, message: Self.describe(error))
        }
        secure = true
        // The capabilities before TLS mean nothing now (RFC 3207 §4.2).
        do {
            try await hello()
        } catch var error as MailDeliveryError {
            error.stage = .startTLS
            throw error
        }
    }

    private func authenticate() async throws {
        guard let username = configuration.username else { return }
        let password = configuration.password ?? ""
        guard secure || SMTPConfiguration.isLoopback(configuration.host) else {
            throw MailDeliveryError(.authFailed, stage: .auth, message: "credentials are sent only over TLS")
        }
        let mechanisms = capabilities["AUTH"] ?? []
        let reply: SMTPReply
        if mechanisms.contains("PLAIN") {
            let token = Data(("\0" + username + "\0" + password).utf8).base64EncodedString()
            reply = try await command("AUTH PLAIN \(token)", stage: .auth, secret: true)
        } else if mechanisms.contains("LOGIN") {
            try expect(try await command("AUTH LOGIN", stage: .auth), [334], stage: .auth, code: .authFailed)
            try expect(try await command(Data(username.utf8).base64EncodedString(), stage: .auth, secret: true), [334],
                       stage: .auth, code: .authFailed)
            reply = try await command(Data(password.utf8).base64EncodedString(), stage: .auth, secret: true)
        } else {
            throw MailDeliveryError(.authFailed, stage: .auth,
                                    message: mechanisms.isEmpty ? "the relay does not offer AUTH"
                                                                : "the relay offers neither AUTH PLAIN nor LOGIN (\(mechanisms.joined(separator: " ")))")
        }
        try expect(reply, [235], stage: .auth, code: .authFailed)
    }

    /// One mail transaction: MAIL FROM, RCPT TO, DATA.
    func transmit(_ message: MailMessage) async throws {
        deadline = .now + configuration.sessionTimeout
        try expect(try await command("MAIL FROM:<\(message.from.address)>", stage: .sender), [250], stage: .sender)
        try expect(try await command("RCPT TO:<\(message.to.address)>", stage: .recipient), [250, 251], stage: .recipient)
        try expect(try await command("DATA", stage: .data), [354], stage: .data)
        try await write(MIME.dataPayload(message.rendered()), stage: .data)
        try expect(try await reply(stage: .data), [250], stage: .data)
    }

    /// Abandons a refused transaction so the connection can carry the next message.
    func reset() async throws {
        try expect(try await command("RSET", stage: .sender), [250], stage: .sender)
    }

    /// QUIT, then close; errors do not matter any more.
    func quit() async {
        guard !closed else { return }
        deadline = .now + .seconds(5)
        _ = try? await command("QUIT", stage: .hello)
        await close()
    }

    func close() async {
        guard !closed else { return }
        closed = true
        try? await channel.close().get()
    }

    // MARK: Wire

    private func command(_ line: String, stage: MailDeliveryError.Stage, secret: Bool = false) async throws -> SMTPReply {
        if !secret { logger.trace("smtp >", metadata: ["command": "\(line.prefix(4))"]) }
        try await write(line + "\r\n", stage: stage)
        return try await reply(stage: stage)
    }

    private func write(_ text: String, stage: MailDeliveryError.Stage) async throws {
        do {
            try await channel.writeAndFlush(ByteBuffer(string: text)).get()
        } catch {
            throw Self.deliveryError(await cause(of: error), stage: stage)
        }
    }

    /// What closed the connection (a failed TLS handshake, say) rather than the write that noticed it.
    private func cause(of error: any Error) async -> any Error {
        let handler = replies
        let recorded = try? await channel.eventLoop.submit { handler.value.recordedFailure }.get()
        return (recorded ?? nil) ?? error
    }

    /// The next reply, within the reply timeout and what is left of the session's.
    private func reply(stage: MailDeliveryError.Stage) async throws -> SMTPReply {
        let left = ContinuousClock.now.duration(to: deadline)
        let wait = min(configuration.replyTimeout, max(left, .milliseconds(1)))
        let handler = replies
        do {
            let reply = try await channel.eventLoop.flatSubmit { handler.value.nextReply(timeout: TimeAmount(wait)) }.get()
            logger.trace("smtp <", metadata: ["code": "\(reply.code)"])
            return reply
        } catch is SMTPTimeout {
            throw MailDeliveryError(.timeout, stage: stage, message: "no reply from the relay within \(wait)")
        } catch {
            throw Self.deliveryError(error, stage: stage)
        }
    }

    private func expect(_ reply: SMTPReply, _ codes: Set<Int>, stage: MailDeliveryError.Stage,
                        code: MailDeliveryError.Code? = nil) throws {
        guard !codes.contains(reply.code) else { return }
        let kind = code ?? (reply.code >= 500 ? .rejectedPermanently : .rejectedTemporarily)
        throw MailDeliveryError(kind, stage: stage, replyCode: reply.code, message: reply.text)
    }

    private static func deliveryError(_ error: any Error, stage: MailDeliveryError.Stage) -> MailDeliveryError {
        switch error {
        case let error as MailDeliveryError:
            return error
        case is SMTPTimeout:
            return MailDeliveryError(.timeout, stage: stage, message: "no reply from the relay in time")
        case is NIOSSLError, is BoringSSLError, is NIOSSLExtraError:
            return MailDeliveryError(.tlsFailed, stage: stage, message: describe(error))
        default:
            return MailDeliveryError(.connectionFailed, stage: stage, message: describe(error))
        }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as NIOConnectionError:
            let reasons = error.connectionErrors.map { describe($0.error) } + [error.dnsAAAAError, error.dnsAError].compactMap { $0.map(describe) }
            return reasons.isEmpty ? "connection failed" : Array(Set(reasons)).sorted().joined(separator: "; ")
        case let error as IOError:
            return String(cString: strerror(error.errnoCode)).lowercased()
        case let error as SMTPProtocolError:
            return error.message
        case is SMTPConnectionClosed:
            return "the relay closed the connection"
        default:
            return String(describing: error)
        }
    }
}

// MARK: - Replies

/// A relay's reply: the three-digit code and the text of each line (`250-…` continuation lines joined).
struct SMTPReply: Sendable, Equatable {
    var code: Int
    var lines: [String]

    var text: String { lines.filter { !$0.isEmpty }.joined(separator: " / ") }
}

struct SMTPProtocolError: Error {
    var message: String
}

struct SMTPTimeout: Error {}

struct SMTPConnectionClosed: Error {}

/// Splits the byte stream into replies: lines end with CRLF (a bare LF is tolerated), every line starts
/// with the same code, `250-` continues and `250 ` (or a bare `250`) ends a reply.
struct SMTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPReply

    private var code: Int?
    private var lines: [String] = []

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > 4096 { throw SMTPProtocolError(message: "a reply line longer than 4096 bytes") }
            return .needMoreData
        }
        var bytes = Array(view[view.startIndex..<newline])
        buffer.moveReaderIndex(forwardBy: newline - view.startIndex + 1)
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        let digits = bytes.prefix(3)
        guard digits.count == 3, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let lineCode = Int(String(decoding: digits, as: UTF8.self)) else {
            throw SMTPProtocolError(message: "malformed reply: \(String(decoding: bytes.prefix(80), as: UTF8.self))")
        }
        if let code, code != lineCode { throw SMTPProtocolError(message: "reply codes \(code) and \(lineCode) in one reply") }
        let separator = bytes.count > 3 ? bytes[3] : UInt8(ascii: " ")
        guard separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") else {
            throw SMTPProtocolError(message: "malformed reply: \(String(decoding: bytes.prefix(80), as: UTF8.self))")
        }
        code = lineCode
        lines.append(String(decoding: bytes.dropFirst(4), as: UTF8.self))
        if separator == UInt8(ascii: " ") {
            context.fireChannelRead(wrapInboundOut(SMTPReply(code: lineCode, lines: lines)))
            code = nil
            lines = []
        }
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Hands replies to whoever waits for one, in order; buffers those nobody asked for yet (the greeting).
/// Lives on the channel's event loop.
final class SMTPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = SMTPReply

    private var buffered = CircularBuffer<SMTPReply>()
    private var waiter: (promise: EventLoopPromise<SMTPReply>, timeout: Scheduled<Void>)?
    private var failure: (any Error)?
    private var context: ChannelHandlerContext?
    private var eventLoop: (any EventLoop)?

    /// The first error that ended the connection, if one did.
    var recordedFailure: (any Error)? { failure }

    /// No reply waiting to be read and nobody waiting for one.
    var isIdle: Bool { buffered.isEmpty && waiter == nil }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.eventLoop = context.eventLoop
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        fail(SMTPConnectionClosed())
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = unwrapInboundIn(data)
        if let waiter {
            self.waiter = nil
            waiter.timeout.cancel()
            waiter.promise.succeed(reply)
        } else {
            buffered.append(reply)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(SMTPConnectionClosed())
        context.fireChannelInactive()
    }

    /// The next reply; fails after `timeout` (and closes the connection: a late reply would be taken
    /// for the answer to the next command).
    func nextReply(timeout: TimeAmount) -> EventLoopFuture<SMTPReply> {
        guard let eventLoop else { preconditionFailure("the reply handler is not in a pipeline") }
        guard let context else { return eventLoop.makeFailedFuture(failure ?? SMTPConnectionClosed()) }
        if let reply = buffered.popFirst() { return context.eventLoop.makeSucceededFuture(reply) }
        if let failure { return context.eventLoop.makeFailedFuture(failure) }
        precondition(waiter == nil, "one reply at a time")
        let promise = context.eventLoop.makePromise(of: SMTPReply.self)
        let timeoutTask = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            self.fail(SMTPTimeout())
            self.context?.close(promise: nil)
        }
        waiter = (promise, timeoutTask)
        return promise.futureResult
    }

    private func fail(_ error: any Error) {
        if failure == nil { failure = error }
        if let waiter {
            self.waiter = nil
            waiter.timeout.cancel()
            waiter.promise.fail(failure ?? error)
        }
    }
}
