extension Routes {
    /// The customer's users and pending invitations.
    public static let users = Route("/users")
    /// Where the invitation form posts.
    public static let usersInvite = Route("/users/invite")
    /// The invitations (the API creates one here).
    public static let usersInvitations = Route("/users/invitations")
    /// One pending invitation (the API revokes it here).
    public static let usersInvitation = Route("/users/invitations/:id")
    /// Revokes a pending invitation.
    public static let usersInvitationRevoke = Route("/users/invitations/:id/revoke")
    /// Sends a pending invitation again.
    public static let usersInvitationResend = Route("/users/invitations/:id/resend")
    /// One user of the customer.
    public static let user = Route("/users/:id")
    /// A change to one user: `edit`, `toggles`, `role`, `block`, `unblock` or `delete`.
    public static let userAction = Route("/users/:id/:action")
}
