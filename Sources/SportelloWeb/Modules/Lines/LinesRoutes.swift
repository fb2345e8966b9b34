extension Routes {
    /// The lines the user may act on: credit, block, recharge, options.
    public static let lines = Route("/lines")
    /// Blocking (theft or loss) or unblocking a SIM.
    public static let lineBlock = Route("/lines/:id/block")
    /// The online recharge form of a prepaid line.
    public static let lineRecharge = Route("/lines/:id/recharge")
    /// An online recharge of a prepaid line (API only).
    public static let lineRecharges = Route("/lines/:id/recharges")
    /// Switching one of a line's options on or off.
    public static let lineService = Route("/lines/:id/services/:service_id")
}
