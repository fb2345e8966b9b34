import Foundation
import SportelloCore
import SportelloStore

/// The operators' side of TIM's chat (`sportello chat`): the conversations waiting for a reply and the
/// reply itself, which the user reads on `/support/chat`.
public struct ChatOperatorDesk: Sendable {
    let services: PortalServices
    let tenant: PortalTenant

    public init(services: PortalServices, tenant: PortalTenant) {
        self.services = services
        self.tenant = tenant
    }

    /// A conversation whose last message is the user's.
    public struct Waiting: Sendable {
        public var username: String
        public var customerCode: String
        public var since: Int64
        public var lastMessage: String
    }

    /// Why a reply was refused, with a stable code.
    public struct Refusal: Error, Sendable {
        public var code: String
        public var message: String
    }

    /// Conversations of the last `days` days whose last message is the user's, the longest waiting first.
    public func waiting(days: Int = 7) async throws -> [Waiting] {
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

    /// Adds an operator's reply to the conversation of `username`.
    public func reply(to username: String, operatorName: String, message: String) async throws {
        let body = message.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !body.isEmpty else { throw Refusal(code: "empty", message: "the reply is empty") }
        guard body.count <= TelcoSupportController.chatMaxLength else {
            throw Refusal(code: "too_long", message: "the reply is longer than \(TelcoSupportController.chatMaxLength) characters")
        }
        let key = UsernameRules.key(for: username, caseSensitive: tenant.definition.login.caseSensitive)
        try await services.database.write(tenant: tenant.id, now: services.now) { transaction in
            guard let user = try await transaction.user(usernameKey: key), let userId = user.id else {
                throw Refusal(code: "unknown_user", message: "no user \(username) in \(tenant.id)")
            }
            let id = try await transaction.insertChatMessage(ChatMessageRecord(
                customerId: user.customerId, userId: userId, author: "operator", authorName: operatorName, body: body, sentAt: transaction.now))
            try await transaction.audit("chat.replied", targetKind: "chat_message", targetId: String(id), detail: "operator \(operatorName)")
        }
    }
}
