extension Routes {
    /// The user's notification preferences: channels and warning levels per rule.
    public static let notifications = Route("/notifications")
}
