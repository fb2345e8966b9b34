import Foundation
import SQLKit
import SportelloCore

// TIM lines, offers, billed reports and online assistance: tables and columns of migration `telco_support`.

extension StoredTable {
    public static let chatMessages = StoredTable("chat_messages")
    public static let lineDiagnoses = StoredTable("line_diagnoses")
}

let telcoSupportTables: [TableSpec] = [
    // One user's chat with the operators: the user's messages, operators' replies and automatic notices.
    TableSpec(table: .chatMessages, columns: [
        req("customer_id", .integer, references: .customers), req("user_id", .integer, references: .users),
        req("author", .text), col("author_name", .text), req("body", .text), req("sent_at", .integer), col("read_at", .integer),
    ], indexes: [["tenant_id", "customer_id", "user_id", "sent_at"]]),
    // A fixed-line diagnosis run from the portal: the checks (JSON) and the fault report it led to.
    TableSpec(table: .lineDiagnoses, columns: [
        req("customer_id", .integer, references: .customers), req("line_id", .integer, references: .lines),
        col("user_id", .integer, references: .users), req("run_at", .integer), req("outcome", .text), req("checks", .text),
        col("fault_request_id", .integer, references: .requests),
    ], indexes: [["tenant_id", "customer_id", "line_id", "run_at"]]),
]

let telcoSupportColumns: [(StoredTable, ColumnSpec)] = []

extension StorageModule {
    /// Telco support: chat with customer care and line diagnoses.
    public static let telcoSupport = StorageModule("telco_support", tables: [.chatMessages, .lineDiagnoses],
        migrations: [.adding(id: "0007_telco_support", tables: telcoSupportTables, columns: telcoSupportColumns)],
        seed: DemoDataGenerator.seedTelcoSupport(in:),
        fill: DemoDataGenerator.fillTelcoSupport(_:random:in:))
}
