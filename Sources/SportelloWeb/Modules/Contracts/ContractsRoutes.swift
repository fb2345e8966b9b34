extension Routes {
    /// The customer's contracts with their lines and services.
    public static let contracts = Route("/contracts")
}
