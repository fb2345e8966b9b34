import Foundation
import Hummingbird
import SportelloCore
import SportelloStore

/// A file sent with a request form (a multipart part, or base64 in the API's JSON).
struct UploadedFile: Sendable {
    var fileName: String
    var contentType: String
    var data: Data
}

/// A submitted request form: every value of every field (checkbox lists repeat a name) and the files.
struct RequestSubmission: Sendable {
    var values: [String: [String]] = [:]
    var files: [String: UploadedFile] = [:]

    func value(_ name: String) -> String { values[name]?.first ?? "" }
    func all(_ name: String) -> [String] { values[name] ?? [] }

    /// Reads an `application/x-www-form-urlencoded` or `multipart/form-data` body of at most `limit` bytes
    /// and checks its CSRF token like `SubmittedForm.read`.
    static func read(_ request: Request, context: UserContext, limit: Int) async throws -> RequestSubmission {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw PortalError.badRequest("the upload is larger than this form accepts")
        }
        let data = Data(buffer: buffer)
        let contentType = request.headers[.contentType] ?? ""
        var submission: RequestSubmission
        if contentType.lowercased().hasPrefix("multipart/form-data") {
            guard let boundary = Self.boundary(in: contentType) else { throw PortalError.badRequest("multipart body without a boundary") }
            submission = try Self.parseMultipart(data, boundary: boundary)
        } else {
            submission = Self.parseURLEncoded(String(decoding: data, as: UTF8.self))
        }
        let sent = submission.value("_csrf")
        guard !context.csrfToken.isEmpty, !sent.isEmpty, Secrets.constantTimeEquals(sent, context.csrfToken),
              Secrets.constantTimeEquals(Secrets.hash(sent), context.session.record.csrfTokenHash) else {
            throw PortalError.csrfRejected
        }
        return submission
    }

    static func parseURLEncoded(_ body: String) -> RequestSubmission {
        var submission = RequestSubmission()
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String { String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            submission.values[decode(parts[0]), default: []].append(parts.count > 1 ? decode(parts[1]) : "")
        }
        return submission
    }

    static func boundary(in contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                return value.isEmpty || value.count > 200 ? nil : value
            }
        }
        return nil
    }

    /// A `multipart/form-data` body (RFC 7578): text parts become values, parts with a file name files.
    /// An empty file input (no name, no bytes) is skipped.
    static func parseMultipart(_ body: Data, boundary: String) throws -> RequestSubmission {
        var submission = RequestSubmission()
        let delimiter = Data("--\(boundary)".utf8)
        let crlf = Data("\r\n".utf8)
        let headerEnd = Data("\r\n\r\n".utf8)
        guard var cursor = body.range(of: delimiter)?.upperBound else { throw PortalError.badRequest("malformed multipart body") }
        var parts = 0
        while true {
            // After a delimiter: "--" ends the body, otherwise CRLF then the part's headers.
            if body[cursor...].starts(with: Data("--".utf8)) { break }
            guard body[cursor...].starts(with: crlf) else { throw PortalError.badRequest("malformed multipart body") }
            cursor += 2
            guard let headersRange = body.range(of: headerEnd, in: cursor..<body.endIndex) else {
                throw PortalError.badRequest("malformed multipart part")
            }
            let headerText = String(decoding: body[cursor..<headersRange.lowerBound], as: UTF8.self)
            let contentStart = headersRange.upperBound
            guard let next = body.range(of: crlf + delimiter, in: contentStart..<body.endIndex) else {
                throw PortalError.badRequest("unterminated multipart part")
            }
            let content = body[contentStart..<next.lowerBound]
            cursor = next.upperBound
            parts += 1
            guard parts <= 200 else { throw PortalError.badRequest("too many form parts") }
            var name: String?
            var fileName: String?
            var type = "application/octet-stream"
            for line in headerText.components(separatedBy: "\r\n") {
                let pieces = line.split(separator: ":", maxSplits: 1)
                guard pieces.count == 2 else { continue }
                let header = pieces[0].trimmingCharacters(in: .whitespaces).lowercased()
                let value = pieces[1].trimmingCharacters(in: .whitespaces)
                if header == "content-disposition" {
                    name = Self.parameter("name", in: value)
                    fileName = Self.parameter("filename", in: value)
                } else if header == "content-type" {
                    type = value
                }
            }
            guard let name else { continue }
            if let fileName {
                let clean = Self.safeFileName(fileName)
                if clean.isEmpty && content.isEmpty { continue }
                submission.files[name] = UploadedFile(fileName: clean, contentType: type, data: Data(content))
            } else {
                submission.values[name, default: []].append(String(decoding: content, as: UTF8.self))
            }
        }
        return submission
    }

    /// A `name="value"` parameter of a Content-Disposition header (quoted or not).
    static func parameter(_ wanted: String, in header: String) -> String? {
        var index = header.startIndex
        while index < header.endIndex {
            guard let equals = header[index...].firstIndex(of: "=") else { return nil }
            let key = header[index..<equals].split(separator: ";").last?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            var valueStart = header.index(after: equals)
            var value = ""
            if valueStart < header.endIndex, header[valueStart] == "\"" {
                valueStart = header.index(after: valueStart)
                var cursor = valueStart
                // Browsers send quotes in names as %22 and keep backslashes (WHATWG multipart encoding).
                while cursor < header.endIndex, header[cursor] != "\"" {
                    value.append(header[cursor])
                    cursor = header.index(after: cursor)
                }
                index = cursor < header.endIndex ? header.index(after: cursor) : cursor
            } else {
                let end = header[valueStart...].firstIndex(of: ";") ?? header.endIndex
                value = header[valueStart..<end].trimmingCharacters(in: .whitespaces)
                index = end
            }
            if key == wanted { return value }
        }
        return nil
    }

    /// The last path component of a browser-sent file name, without control characters or quotes.
    static func safeFileName(_ name: String) -> String {
        let last = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let cleaned = last.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) && $0 != "\"" }
        return String(String.UnicodeScalarView(cleaned)).trimmingCharacters(in: .whitespaces).prefix(150).description
    }
}
