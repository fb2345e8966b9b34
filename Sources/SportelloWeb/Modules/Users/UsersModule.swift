import Foundation
import SportelloCore
import SportelloStore

extension PortalModule {
    static let users = PortalModule("users", capabilities: [.users], controllers: [AccountUsersController.self])
}

extension Capability {
    static let users = Capability("users", "The customer's users: invite, change role and switches, block, delete.", [
        .init("users.create", "Register (invite) users."),
        .init("users.manage", "Manage users and their access profiles."),
        .init("users.change_role", "Change users' web profile."),
        .init("sub_accounts.manage", "Create or remove sub-accounts."),
    ])
}
