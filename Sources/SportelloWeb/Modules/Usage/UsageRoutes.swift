extension Routes {
    /// Call detail of one line in a period (`?line=&period=&day=&from=&to=&type=&after=`).
    public static let usage = Route("/usage")
    /// The usage of one line in a period as CSV or Excel (`?format=`).
    public static let usageExport = Route("/usage/export")
    /// Recharges and recharge attempts of the prepaid lines (`?line=`).
    public static let recharges = Route("/recharges")
}
