extension Routes {
    /// Exclusive offers for the customer's type.
    public static let offers = Route("/offers")
    /// One offer, with its activation form.
    public static let offer = Route("/offers/:code")
    /// Asks to activate an offer (the form's post).
    public static let offerActivation = Route("/offers/:code/activate")
    /// (API) Activations of an offer: posting one opens a tracked request.
    public static let offerActivationsResource = Route("/offers/:code/activations")

    /// The invoices whose billed services can be reported.
    public static let billedReports = Route("/usage/billed-reports")
    /// What one invoice charged per line.
    public static let billedReport = Route("/usage/billed-reports/:invoice_id")
    /// The billed-services report of one invoice as CSV or Excel (`?format=`).
    public static let billedReportExport = Route("/usage/billed-reports/:invoice_id/export")
    /// (API) The invoices whose billed services can be reported.
    public static let billedReportsResource = Route("/billed-reports")
    /// (API) What one invoice charged per line.
    public static let billedReportResource = Route("/billed-reports/:invoice_id")
    /// (API) The billed-services report of one invoice as CSV or Excel.
    public static let billedReportExportResource = Route("/billed-reports/:invoice_id/export")

    /// The chat with the operators; posting here writes to them.
    public static let supportChat = Route("/support/chat")
    /// (API) The user's messages to the operators.
    public static let supportChatMessagesResource = Route("/support/chat/messages")
    /// How to reach the operators.
    public static let supportContact = Route("/support/contact")
    /// (API) The contact channels.
    public static let supportContactsResource = Route("/support/contacts")

    /// The fixed lines the user may diagnose, with the latest diagnoses.
    public static let lineDiagnosis = Route("/support/diagnosis")
    /// Runs a diagnosis of one line.
    public static let lineDiagnosisRun = Route("/support/diagnosis/lines/:line")
    /// One saved diagnosis with its checks.
    public static let lineDiagnosisResult = Route("/support/diagnosis/:id")
    /// The fault report of what a diagnosis found.
    public static let lineDiagnosisFaultReport = Route("/support/diagnosis/:id/fault-report")
    /// (API) Diagnoses: the lines with their latest, and posting runs one.
    public static let diagnosesResource = Route("/support/diagnoses")
    /// (API) One saved diagnosis.
    public static let diagnosisResource = Route("/support/diagnoses/:id")
    /// (API) The fault report of what a diagnosis found.
    public static let diagnosisFaultReportsResource = Route("/support/diagnoses/:id/fault-reports")
}
