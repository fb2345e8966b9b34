extension Routes {
    /// The Giga Smart Share packages.
    public static let productsShare = Route("/products/share")
    /// One Giga Smart Share package with its SIMs and changes.
    public static let productsSharePlan = Route("/products/share/:id")
    /// Upgrade or downgrade of a package.
    public static let productsSharePackage = Route("/products/share/:id/package")
    /// A new referent for a package.
    public static let productsShareReferent = Route("/products/share/:id/referent")
    /// Extra Giga bought for a package.
    public static let productsShareExtraGiga = Route("/products/share/:id/extra-giga")
    /// A SIM of a package moved to another package.
    public static let productsShareMoves = Route("/products/share/:id/moves")
    /// The customer's devices.
    public static let productsDevices = Route("/products/devices")
    /// The SIMs whose PIN and PUK the user may see.
    public static let productsSims = Route("/products/sims")
    /// One SIM, where its codes are asked for.
    public static let productsSim = Route("/products/sims/:id")
    /// PIN and PUK of a SIM, after the user's password.
    public static let productsSimCodes = Route("/products/sims/:id/codes")
    /// The coverage check links.
    public static let coverage = Route("/coverage")
}
