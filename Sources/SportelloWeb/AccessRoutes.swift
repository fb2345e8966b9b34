extension Routes {
    /// The login form.
    public static let login = Route("/login")
    /// Ends the session.
    public static let logout = Route("/logout")
    /// Changing the password (forced after a temporary one).
    public static let passwordChange = Route("/password/change")
    /// A registration or recovery flow's current step.
    public static let accessFlow = Route("/access/:flow")
    /// A flow's e-mailed link (`?t=` token): invitation, verification, activation, reset.
    public static let accessFlowLink = Route("/access/:flow/link")
    /// Starts a flow over.
    public static let accessFlowRestart = Route("/access/:flow/restart")
}
