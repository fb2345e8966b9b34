extension Routes {
    /// One of the tenant's YAML sections.
    public static let section = Route("/sections/:section")
}
