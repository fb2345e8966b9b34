import Foundation
import NIOCore
import NIOHTTP1

/// RFC 9112 §3.2.2: when the request line is in absolute form (`GET http://tim.localhost/ HTTP/1.1`), the
/// target URI's authority decides the host and the `Host` header is ignored. Hummingbird keeps only the
/// path of such a target and takes the host from the first `Host` header, so this handler, placed right
/// after the HTTP/1 decoder, makes the first `Host` header the target's authority (extra `Host` headers
/// stay, so the portal still answers 400 to them).
final class AbsoluteFormHostRewriter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data), let authority = Self.authority(ofAbsoluteForm: head.uri) else {
            context.fireChannelRead(data)
            return
        }
        let others = head.headers["Host"].dropFirst()
        head.headers.remove(name: "Host")
        head.headers.add(name: "Host", value: authority)
        for value in others { head.headers.add(name: "Host", value: value) }
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    /// The authority (`host[:port]`) of an `http://` or `https://` target; nil for origin form (`/path`),
    /// `*`, or anything else.
    static func authority(ofAbsoluteForm uri: String) -> String? {
        let lower = uri.lowercased()
        let prefix = lower.hasPrefix("http://") ? 7 : lower.hasPrefix("https://") ? 8 : 0
        guard prefix > 0 else { return nil }
        var authority = uri.dropFirst(prefix).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        guard !authority.isEmpty, authority.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-.:[]".contains($0)) }) else {
            return nil
        }
        return String(authority)
    }
}

/// Given to Hummingbird as an additional channel handler (those come after its HTTP/1 conversion): when
/// added, it puts `AbsoluteFormHostRewriter` before that conversion, right after the HTTP/1 decoder.
final class AbsoluteFormHostInstaller: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    func handlerAdded(context: ChannelHandlerContext) {
        let pipeline = context.pipeline.syncOperations
        guard let decoder = try? pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self) else { return }
        try? pipeline.addHandler(AbsoluteFormHostRewriter(), position: .after(decoder))
    }
}
