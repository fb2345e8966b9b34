import AsyncHTTPClient
import Foundation
import NIOCore

/// HTTP to a portal listening on 127.0.0.1 under any host name (the `Host` header picks the tenant), for tests of
/// several tenants on one live server.
public enum HostClient {
    /// One answer: status, headers (names lowercased) and body.
    public struct Answer: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: String
    }

    static let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                                   configuration: .init(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5))))

    /// `GET path` on `host` at `127.0.0.1:port`.
    public static func get(port: Int, host: String, _ path: String, headers: [(String, String)] = []) async throws -> Answer {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.headers.replaceOrAdd(name: "Host", value: host)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 22)
        var fields: [String: String] = [:]
        for header in response.headers { fields[header.name.lowercased()] = header.value }
        return Answer(status: Int(response.status.code), headers: fields, body: String(buffer: body))
    }
}
