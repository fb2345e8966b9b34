import Crypto
import Foundation
import Hummingbird

/// Entity tags for the files a tenant serves as they are (`brand.css`, `/static/…`): browsers keep them but ask
/// again each time (`Cache-Control: no-cache`), and an unchanged file is answered 304 with no body.
enum EntityTag {
    /// A strong tag from the first 16 bytes of the SHA-256 of `data`.
    static func of(_ data: Data) -> String {
        "\"" + SHA256.hash(data: data).prefix(16).map { String(format: "%02x", $0) }.joined() + "\""
    }

    /// Whether an `If-None-Match` header value names `etag` (or is `*`); weak comparison, as RFC 9110 §13.1.2 asks.
    static func matches(_ header: String?, _ etag: String) -> Bool {
        guard let header else { return false }
        return header.split(separator: ",").contains { candidate in
            var tag = candidate.trimmingCharacters(in: .whitespaces)
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            return tag == etag
        }
    }

    /// 304 when the request's `If-None-Match` names `etag`, else 200 with `body`; both carry the tag.
    static func response(_ request: Request, body: ByteBuffer, etag: String, contentType: String) -> Response {
        var headers: HTTPFields = [.eTag: etag, .cacheControl: "no-cache"]
        if matches(request.headers[.ifNoneMatch], etag) { return Response(status: .notModified, headers: headers) }
        headers[.contentType] = contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }
}
