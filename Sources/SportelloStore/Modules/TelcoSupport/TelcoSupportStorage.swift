import Foundation
import SportelloCore

extension StoredTable {
    public static let chatMessages = StoredTable("chat_messages")
    public static let lineDiagnoses = StoredTable("line_diagnoses")
}

extension StorageModule {
    /// Telco support: chat with customer care and line diagnoses.
    public static let telcoSupport = StorageModule(
        id: "telco_support",
        tables: [.chatMessages, .lineDiagnoses],
        migrations: [.adding(id: "0007_telco_support", tables: telcoSupportTables, columns: telcoSupportColumns)],
        seed: { demo, transaction in try await demo.seedTelcoSupport(in: transaction) },
        fill: { demo, account, random, transaction in try await demo.fillTelcoSupport(account, random: &random, in: transaction) })
}
