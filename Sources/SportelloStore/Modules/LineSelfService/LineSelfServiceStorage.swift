import Foundation
import SportelloCore

extension StoredTable {
    public static let lineActivations = StoredTable("line_activations")
    public static let simAssignments = StoredTable("sim_assignments")
    public static let automaticRecharges = StoredTable("automatic_recharges")
}

extension StorageModule {
    /// Line self-service: offer activations, SIM assignments and automatic recharges.
    public static let lineSelfService = StorageModule(
        id: "line_self_service",
        tables: [.simAssignments, .lineActivations, .automaticRecharges],
        migrations: [.adding(id: "0006_line_self_service", tables: lineSelfServiceTables, columns: lineSelfServiceColumns)],
        seed: { demo, transaction in try await demo.seedLineSelfService(in: transaction) },
        fill: { demo, account, random, transaction in try await demo.fillLineSelfService(account, random: &random, in: transaction) })
}
