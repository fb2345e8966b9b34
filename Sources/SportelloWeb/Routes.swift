import Foundation
import Hummingbird

/// A path the portal serves, written once: its pattern (`/invoices/:id/pay`) registers the handler, and
/// `path(…)` builds the links and redirects that lead to it. Every route is a static member of `Routes`,
/// declared by the module that serves it (`Modules/<Module>/<Module>Routes.swift`).
public struct Route: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as the router reads it: literal parts and `:name` captures.
    public let pattern: String

    public init(_ pattern: String) {
        precondition(pattern.hasPrefix("/"), "a route starts with /: \(pattern)")
        self.pattern = pattern
    }

    public var description: String { pattern }

    /// The same route under the JSON API prefix (`/api/v1/invoices/:id`).
    public var api: Route { Route(API.prefix + pattern) }

    /// The names of the captures, in order.
    public var parameterNames: [String] {
        pattern.split(separator: "/").filter { $0.hasPrefix(":") }.map { String($0.dropFirst()) }
    }

    /// The path with each capture filled in order, and `query` appended (names and values percent-encoded).
    public func path(_ values: any CustomStringConvertible..., query: KeyValuePairs<String, String> = [:]) -> String {
        filled(values, query: Array(query))
    }

    /// The path with each capture filled in order, and `items` appended in their order (names and values percent-encoded).
    public func path(_ values: any CustomStringConvertible..., queryItems items: [(key: String, value: String)]) -> String {
        filled(values, query: items)
    }

    /// `path(…)` with `?done=<outcome>`: where a form lands after it succeeded.
    public func done(_ outcome: String, _ values: any CustomStringConvertible...) -> String {
        filled(values, query: [("done", outcome)])
    }

    private func filled(_ values: [any CustomStringConvertible], query: [(key: String, value: String)]) -> String {
        var remaining = values.makeIterator()
        var path = pattern.split(separator: "/", omittingEmptySubsequences: false).map { part -> String in
            guard part.hasPrefix(":") else { return String(part) }
            guard let value = remaining.next() else { preconditionFailure("\(pattern): no value for \(part)") }
            return Self.encode(value.description)
        }.joined(separator: "/")
        precondition(remaining.next() == nil, "\(pattern): more values than captures")
        if !query.isEmpty {
            path += "?" + query.map { "\(Self.encode($0.key))=\(Self.encode($0.value))" }.joined(separator: "&")
        }
        return path
    }

    private static let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
    private static func encode(_ text: String) -> String {
        // Ids and plain names need no escaping: skip Foundation's encoder (a tenth of the navigation's cost).
        if text.utf8.allSatisfy(isUnreserved) { return text }
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): true
        default: false
        }
    }
}

/// Every route the portal serves, as static members added by each module in its own folder.
public enum Routes {}

extension RouterMethods {
    /// Registers `handler` for GET on `route`.
    @discardableResult
    func get(_ route: Route, use handler: @Sendable @escaping (Request, Context) async throws -> some ResponseGenerator) -> Self {
        get(RouterPath(route.pattern), use: handler)
    }

    /// Registers `handler` for POST on `route`.
    @discardableResult
    func post(_ route: Route, use handler: @Sendable @escaping (Request, Context) async throws -> some ResponseGenerator) -> Self {
        post(RouterPath(route.pattern), use: handler)
    }

    /// Registers `handler` for PUT on `route`.
    @discardableResult
    func put(_ route: Route, use handler: @Sendable @escaping (Request, Context) async throws -> some ResponseGenerator) -> Self {
        put(RouterPath(route.pattern), use: handler)
    }

    /// Registers `handler` for DELETE on `route`.
    @discardableResult
    func delete(_ route: Route, use handler: @Sendable @escaping (Request, Context) async throws -> some ResponseGenerator) -> Self {
        delete(RouterPath(route.pattern), use: handler)
    }

    /// Registers `handler` for PATCH on `route`.
    @discardableResult
    func patch(_ route: Route, use handler: @Sendable @escaping (Request, Context) async throws -> some ResponseGenerator) -> Self {
        patch(RouterPath(route.pattern), use: handler)
    }
}
