import Foundation
import SportelloCore
import SportelloStore

/// TIM's chat with the operators: one conversation per user. A customer's user writes from `/support/chat`;
/// the operators answer from `sportello chat`. Both sides go through `ReplyInChat`.
public enum SupportChat {
    /// The longest message, in characters.
    public static let maxLength = 1000
    /// At most this many messages from one user in `burstSeconds`.
    public static let burst = 10
    public static let burstSeconds: Int64 = 600

    /// A conversation whose last message is the user's.
    public struct Waiting: Sendable {
        public var username: String
        public var customerCode: String
        public var since: Int64
        public var lastMessage: String
    }

    /// Conversations of the last `days` days whose last message is the user's, the longest waiting first.
    public static func waiting(tenant: ServedTenant, services: ApplicationServices, days: Int = 7) async throws -> [Waiting] {
        let since = services.now - Int64(days) * 86_400
        return try await services.database.read(tenant: tenant.id, now: services.now) { transaction in
            var last: [Int64: ChatMessageRecord] = [:]
            for message in try await transaction.chatMessages(since: since) { last[message.userId] = message }
            var result: [Waiting] = []
            for message in last.values where message.author == "customer" {
                guard let user = try await transaction.user(id: message.userId),
                      let customer = try await transaction.customer(id: message.customerId) else { continue }
                result.append(Waiting(username: user.username, customerCode: customer.customerCode, since: message.sentAt,
                                      lastMessage: message.body))
            }
            return result.sorted { $0.since < $1.since }
        }
    }
}

/// A message in a chat conversation: the signed-in user's own (with the automatic "we are away" notice once per
/// absence), or an operator's reply to a user named by username.
public struct ReplyInChat: Sendable {
    /// Who writes to whom.
    public enum Input: Sendable {
        /// The acting user writes; `awayNotice` is added after it when the operators are away.
        case fromUser(body: String, awayNotice: String?)
        /// An operator (staff) answers `username`.
        case fromOperator(username: String, operatorName: String, body: String)
    }

    let services: ApplicationServices

    public init(services: ApplicationServices) { self.services = services }

    /// Stores the message and returns its id. Refusals: `forbidden`, `required` / `too_long` / `too_many` (on the
    /// `message` field, in every locale of the tenant), `unknown_user`.
    @discardableResult
    public func callAsFunction(tenant: ServedTenant, acting: Acting, _ input: Input) async throws -> Int64 {
        let definition = tenant.definition
        func refused(_ code: String, _ key: String, _ values: [String: String] = [:]) -> UseCaseRefusal {
            let message = tenant.texts.localized(key, in: definition, values)
            return UseCaseRefusal(code: code, message: message.resolve(definition.locales.default),
                                  problems: [FieldProblem(field: "message", code: code, message: message)])
        }
        switch (input, acting) {
        case (.fromUser(let raw, let awayNotice), .user(_, let userId?, let customerId)):
            let body = raw.replacingOccurrences(of: "\r\n", with: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            if body.isEmpty { throw refused("required", "support.chat.error.required") }
            if body.count > SupportChat.maxLength {
                throw refused("too_long", "support.chat.error.too_long", ["max": String(SupportChat.maxLength), "count": String(body.count)])
            }
            let tooMany = refused("too_many", "support.chat.error.too_many",
                                  ["max": String(SupportChat.burst), "minutes": String(SupportChat.burstSeconds / 60)])
            return try await services.database.write(tenant: tenant.id, now: services.now) { transaction in
                let now = transaction.now
                if try await transaction.chatMessagesSent(customerId: customerId, userId: userId, since: now - SupportChat.burstSeconds) >= SupportChat.burst {
                    throw tooMany
                }
                let previous = try await transaction.chatMessages(customerId: customerId, userId: userId, limit: 1).last
                let id = try await transaction.insertChatMessage(ChatMessageRecord(customerId: customerId, userId: userId, author: "customer",
                                                                                   body: body, sentAt: now))
                // One automatic notice per absence, not one per message.
                if let awayNotice, previous?.author != "system" {
                    try await transaction.insertChatMessage(ChatMessageRecord(customerId: customerId, userId: userId, author: "system",
                                                                              body: awayNotice, sentAt: now, readAt: now))
                }
                try await transaction.audit("chat.message_sent", actorUserId: userId, targetKind: "chat_message", targetId: String(id),
                                            detail: "\(body.count) characters")
                return id
            }
        case (.fromOperator(let username, let operatorName, let raw), .staff):
            let body = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !body.isEmpty else { throw UseCaseRefusal(code: "empty", message: "the reply is empty") }
            guard body.count <= SupportChat.maxLength else {
                throw UseCaseRefusal(code: "too_long", message: "the reply is longer than \(SupportChat.maxLength) characters")
            }
            let key = UsernameRules.key(for: username, caseSensitive: definition.login.caseSensitive)
            return try await services.database.write(tenant: tenant.id, now: services.now) { transaction in
                guard let user = try await transaction.user(usernameKey: key), let userId = user.id else {
                    throw UseCaseRefusal(code: "unknown_user", message: "no user \(username) in \(tenant.id)")
                }
                let id = try await transaction.insertChatMessage(ChatMessageRecord(
                    customerId: user.customerId, userId: userId, author: "operator", authorName: operatorName, body: body, sentAt: transaction.now))
                try await transaction.audit("chat.replied", targetKind: "chat_message", targetId: String(id), detail: "operator \(operatorName)")
                try await transaction.recordEvent(.chatReplied(messageId: id, customerId: user.customerId, userId: userId, operatorName: operatorName))
                return id
            }
        default:
            throw UseCaseRefusal(code: "forbidden", message: "users write their own messages; operators answer as staff")
        }
    }
}
