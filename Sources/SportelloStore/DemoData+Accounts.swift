import Foundation
import SportelloCore

/// One demo customer as the section generators receive it, after contracts, lines, billing and requests.
struct DemoAccount {
    var customerId: Int64
    var customer: CustomerRecord
    /// The customer's portal users (empty for the customers nobody logs in as), the main one first.
    var users: [Int64]
    /// Users that see only their own line (they hold one SIM each).
    var ownLineUsers: [Int64]
    var contractId: Int64?
    var lines: [(id: Int64, kind: String)]
    /// Whether the customer has overdue invoices.
    var overdue: Bool
}
