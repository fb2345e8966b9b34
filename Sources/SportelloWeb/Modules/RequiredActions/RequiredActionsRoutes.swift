extension Routes {
    /// The user's pending required actions: leads to the first one (or home when none is left).
    public static let requiredActions = Route("/required-actions")
    /// One required action's page (its form); `change_password` is completed on `passwordChange`.
    public static let requiredAction = Route("/required-actions/:id")
    /// The link e-mailed by `verify_email`: proves the address with the token alone (no session needed).
    public static let emailVerification = Route("/email/verify")
    /// The authenticator's code after the password, for users who enrolled one (`enrol_totp`).
    public static let loginCode = Route("/login/code")
}
