extension Routes {
    /// A record kind's list: `?<field>=` (enum, boolean, text), `?<field>_from=&<field>_to=` (dates, numbers),
    /// `?owner=` (the records one record owns), `?page=`; the API also takes `?limit=`.
    public static let records = Route("/records/:kind")
    /// The list's records, every page, as CSV or Excel (`?format=csv|xlsx` and the list's filters).
    public static let recordsExport = Route("/records/:kind/export")
    /// One record, with the records it owns.
    public static let record = Route("/records/:kind/:id")
}
