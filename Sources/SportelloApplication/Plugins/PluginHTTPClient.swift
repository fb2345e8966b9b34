import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SportelloCore
import Synchronization

/// A plugin call that did not get a usable answer, with a stable code.
public struct PluginCallError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// No connection (refused, DNS, TLS) or the connect timeout passed.
        case unreachable
        /// Connected, but no complete answer within the request timeout.
        case timeout
        /// An HTTP status outside 2xx.
        case refused
        /// A 2xx answer the portal cannot read.
        case invalidResponse = "invalid_response"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) { self.code = code; self.message = message }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// HTTP to one plugin, with the manifest's timeouts, no redirects followed and answers of at most 1 MiB.
/// Signs every request body with the plugin's key (see `PluginSignature`).
public struct PluginHTTPClient: Sendable {
    let client: HTTPClient
    let requestSeconds: Int
    let signature: PluginSignature
    let clock: @Sendable () -> Int64

    public init(timeouts: PluginTimeouts?, signature: PluginSignature, clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        client = Self.client(connectSeconds: timeouts?.connectSeconds ?? PluginTimeouts.defaultConnectSeconds)
        requestSeconds = timeouts?.requestSeconds ?? PluginTimeouts.defaultRequestSeconds
        self.signature = signature
        self.clock = clock
    }

    /// POSTs `body` as JSON to `url`, signed; returns the status and the body of a 2xx answer.
    /// Every call is counted on `/metrics` by the plugin's origin and outcome (`OperationsMetrics.pluginCall`).
    public func postJSON(_ url: String, body: Data, headers extra: [(String, String)] = []) async throws -> (status: Int, body: Data) {
        let started = ContinuousClock.now
        do {
            let answer = try await within(requestSeconds, url) { answered in try await send(url, body: body, headers: extra, answered: answered) }
            OperationsMetrics.pluginCall(plugin: Self.origin(url), outcome: .ok, duration: .now - started)
            return answer
        } catch let error as PluginCallError {
            OperationsMetrics.pluginCall(plugin: Self.origin(url), outcome: OperationsMetrics.PluginOutcome(rawValue: error.code.rawValue) ?? .unreachable,
                                         duration: .now - started)
            throw error
        }
    }

    /// `body`'s answer, or a `timeout` once `seconds` have passed without one, whichever comes first. The client's own
    /// deadline runs on its event loop, which a busy process can hold up for seconds; this timer does not depend on it.
    /// And since this process's tasks can themselves wait their turn for seconds under load, the timer asks `answered`
    /// (set on the event loop the moment the answer is complete) before giving up: an answer that came in time is never
    /// reported as a timeout.
    private func within<T: Sendable>(_ seconds: Int, _ url: String, _ body: @escaping @Sendable (AnswerFlag) async throws -> T) async throws -> T {
        let answered = AnswerFlag()
        let work = Task { try await body(answered) }
        let pending = PendingAnswer<T>()
        return try await withCheckedThrowingContinuation { continuation in
            pending.set(continuation)
            Task {
                let result = await work.result
                pending.take()?.resume(with: result)
            }
            Task {
                try? await Task.sleep(for: .seconds(seconds))
                guard !answered.isSet, let waiting = pending.take() else { return }
                work.cancel()
                waiting.resume(throwing: PluginCallError(.timeout, "no answer from \(Self.origin(url)) within \(seconds)s"))
            }
        }
    }

    private func send(_ url: String, body: Data, headers extra: [(String, String)], answered: AnswerFlag) async throws -> (status: Int, body: Data) {
        let timestamp = clock()
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Accept", value: "application/json")
        headers.add(name: "User-Agent", value: "Sportello/\(SportelloCoreInfo.version)")
        headers.add(name: PluginSignature.timestampHeader, value: String(timestamp))
        headers.add(name: PluginSignature.signatureHeader, value: signature.sign(timestamp: timestamp, body: body))
        for (name, value) in extra { headers.add(name: name, value: value) }
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(url: url, method: .POST, headers: headers, body: .data(body))
        } catch {
            throw PluginCallError(.unreachable, "\(Self.origin(url)): \(error)")
        }
        // The client's deadline only ends a request the timer of `within` has already given up on.
        let future = client.execute(request: request, deadline: .now() + .seconds(Int64(requestSeconds) + 5))
        future.whenComplete { _ in answered.set() }
        let response: HTTPClient.Response
        do {
            response = try await future.get()
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw PluginCallError(.timeout, "no answer from \(Self.origin(url)) within \(requestSeconds)s")
        } catch {
            throw PluginCallError(.unreachable, "\(Self.origin(url)): \(error)")
        }
        let bytes = response.body ?? ByteBuffer()
        guard bytes.readableBytes <= 1 << 20 else {
            throw PluginCallError(.invalidResponse, "\(Self.origin(url)): the answer is larger than 1 MiB")
        }
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            throw PluginCallError(.refused, "\(Self.origin(url)) answered \(status)")
        }
        return (status, Data(bytes.readableBytesView))
    }

    /// Scheme, host and port of `url` (for messages: never the path or query, which may carry a token).
    static func origin(_ url: String, unknown: String = "the plugin") -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else { return unknown }
        return "\(scheme)://\(host)\(components.port.map { ":\($0)" } ?? "")"
    }

    /// One client per connect timeout, for the life of the process (a client must never be released unshut); shared by
    /// every plugin call and webhook delivery.
    private static let clients = Mutex<[Int: HTTPClient]>([:])

    static func client(connectSeconds: Int) -> HTTPClient {
        clients.withLock { clients in
            if let client = clients[connectSeconds] { return client }
            let configuration = HTTPClient.Configuration(redirectConfiguration: .disallow,
                                                         timeout: .init(connect: .seconds(Int64(connectSeconds))))
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            clients[connectSeconds] = client
            return client
        }
    }
}

/// Whether a call's answer (or its failure) is complete, set on the HTTP client's event loop.
private final class AnswerFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}

/// A continuation resumed once, by whichever of a call and its timer finishes first.
private final class PendingAnswer<T: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<T, any Error>?>(nil)

    func set(_ value: CheckedContinuation<T, any Error>) { continuation.withLock { $0 = value } }

    func take() -> CheckedContinuation<T, any Error>? { continuation.withLock { $0.take() } }
}
