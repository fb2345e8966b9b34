import ArgumentParser
import Foundation
import SportelloApplication
import SportelloCore
import SportelloMail
import SportelloStore
import SportelloWeb

/// The operators' side of the chat with customers (TIM's "Chatta con i nostri operatori").
struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Operators: the conversations waiting for a reply, and replying.",
        subcommands: [Waiting.self, Reply.self])

    struct Waiting: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the conversations whose last message is the customer's, longest waiting first.")

        @OptionGroup var tenantOption: TenantOption
        @OptionGroup var database: DatabaseOptions

        @Option(help: "Look back this many days.")
        var days: Int = 7

        func run() async throws {
            try await withStaffServices(try tenantOption.load().definition, database) { tenant, services in
                let waiting = try await SupportChat.waiting(tenant: tenant, services: services, days: days)
                if waiting.isEmpty { print("no conversation is waiting for a reply") }
                for conversation in waiting {
                    let since = Date(timeIntervalSince1970: TimeInterval(conversation.since)).formatted(.iso8601)
                    print("\(conversation.username)  (customer \(conversation.customerCode), since \(since))  \(conversation.lastMessage.prefix(80))")
                }
            }
        }
    }

    struct Reply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reply to a user's conversation; they read it on the chat page.")

        @OptionGroup var tenantOption: TenantOption
        @OptionGroup var database: DatabaseOptions

        @Option(help: "The user's username.")
        var user: String

        @Option(name: .customLong("operator"), help: "The operator's first name, shown with the reply.")
        var operatorName: String

        @Option(help: "The reply.")
        var message: String

        func run() async throws {
            try await withStaffServices(try tenantOption.load().definition, database) { tenant, services in
                do {
                    try await ReplyInChat(services: services)(tenant: tenant, acting: .staff,
                                                              .fromOperator(username: user, operatorName: operatorName, body: message))
                    print("reply added to \(user)'s conversation")
                } catch let refusal as UseCaseRefusal {
                    printError("error: \(refusal.message) [\(refusal.code)]")
                    throw ExitCode(1)
                }
            }
        }
    }
}
