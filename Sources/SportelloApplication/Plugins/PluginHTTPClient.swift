import AsyncHTTPClient
import Foundation
import NIOCore
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
            let answer = try await within(requestSeconds, url) { try await send(url, body: body, headers: extra) }
            OperationsMetrics.pluginCall(plugin: Self.origin(url), outcome: .ok, duration: .now - started)
            return answer
        } catch let error as PluginCallError {
            OperationsMetrics.pluginCall(plugin: Self.origin(url), outcome: OperationsMetrics.PluginOutcome(rawValue: error.code.rawValue) ?? .unreachable,
                                         duration: .now - started)
            throw error
        }
    }

    /// `body`'s answer, or a `timeout` once `seconds` have passed, whichever comes first. The client's own deadline
    /// runs on its event loop, which a busy process can hold up for seconds; this one does not depend on it. The
    /// request left behind is cancelled.
    private func within<T: Sendable>(_ seconds: Int, _ url: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let work = Task { try await body() }
        let pending = PendingAnswer<T>()
        return try await withCheckedThrowingContinuation { continuation in
            pending.set(continuation)
            Task {
                let result = await work.result
                pending.take()?.resume(with: result)
            }
            Task {
                try? await Task.sleep(for: .seconds(seconds))
                guard let waiting = pending.take() else { return }
                work.cancel()
                waiting.resume(throwing: PluginCallError(.timeout, "no answer from \(Self.origin(url)) within \(seconds)s"))
            }
        }
    }

    private func send(_ url: String, body: Data, headers extra: [(String, String)]) async throws -> (status: Int, body: Data) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        let timestamp = clock()
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Sportello/\(SportelloCoreInfo.version)")
        request.headers.add(name: PluginSignature.timestampHeader, value: String(timestamp))
        request.headers.add(name: PluginSignature.signatureHeader, value: signature.sign(timestamp: timestamp, body: body))
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .seconds(Int64(requestSeconds)))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw PluginCallError(.timeout, "no answer from \(Self.origin(url)) within \(requestSeconds)s")
        } catch {
            throw PluginCallError(.unreachable, "\(Self.origin(url)): \(error)")
        }
        let bytes: ByteBuffer
        do {
            bytes = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw PluginCallError(.invalidResponse, "\(Self.origin(url)): the answer could not be read (\(error))")
        }
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            throw PluginCallError(.refused, "\(Self.origin(url)) answered \(status)")
        }
        return (status, Data(bytes.readableBytesView))
    }

    /// Scheme, host and port of `url` (for messages: never the path or query).
    static func origin(_ url: String) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else { return "the plugin" }
        return "\(scheme)://\(host)\(components.port.map { ":\($0)" } ?? "")"
    }

    /// One client per connect timeout, for the life of the process (a client must never be released unshut).
    private static let clients = Mutex<[Int: HTTPClient]>([:])

    private static func client(connectSeconds: Int) -> HTTPClient {
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

/// A continuation resumed once, by whichever of a call and its timer finishes first.
private final class PendingAnswer<T: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<T, any Error>?>(nil)

    func set(_ value: CheckedContinuation<T, any Error>) { continuation.withLock { $0 = value } }

    func take() -> CheckedContinuation<T, any Error>? { continuation.withLock { $0.take() } }
}
