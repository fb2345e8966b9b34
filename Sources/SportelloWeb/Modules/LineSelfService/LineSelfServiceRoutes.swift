extension Routes {
    /// Lines being activated and the "Tienimi Aggiornato" switch.
    public static let selfServiceActivations = Route("/self-service/activations")
    /// The "Tienimi Aggiornato" switch, per channel.
    public static let selfServiceKeepUpdated = Route("/self-service/activations/keep-updated")
    /// The SIMs with their employee and the history of associations.
    public static let selfServiceSims = Route("/self-service/sims")
    /// The promotions on offer to the customer.
    public static let selfServicePromotions = Route("/self-service/promotions")
    /// The automatic recharges of the user's SIMs; posting here sets one up.
    public static let automaticRecharges = Route("/self-service/automatic-recharges")
    /// The form of a new automatic recharge.
    public static let newAutomaticRecharge = Route("/self-service/automatic-recharges/new")
    /// One automatic recharge: its form, and its changes.
    public static let automaticRecharge = Route("/self-service/automatic-recharges/:id")
    /// Suspends an automatic recharge.
    public static let suspendAutomaticRecharge = Route("/self-service/automatic-recharges/:id/suspend")
    /// Resumes a suspended automatic recharge.
    public static let resumeAutomaticRecharge = Route("/self-service/automatic-recharges/:id/resume")
    /// Cancels an automatic recharge for good.
    public static let cancelAutomaticRecharge = Route("/self-service/automatic-recharges/:id/cancel")
}
