extension Routes {
    /// The customer's invoices inside the tenant's window.
    public static let invoices = Route("/invoices")
    /// The user's own personal invoices, TIM's Dual Billing (API).
    public static let invoicesPersonal = Route("/invoices/personal")
    /// One invoice.
    public static let invoice = Route("/invoices/:id")
    /// An invoice as a page to print.
    public static let invoicePrint = Route("/invoices/:id/print")
    /// A document of an invoice (the PDF), as an attachment.
    public static let invoiceDocument = Route("/invoices/:id/documents/:document_id")
    /// Paying an invoice online.
    public static let invoicePay = Route("/invoices/:id/pay")
    /// Paying an invoice online (API): starts a payment with the bound payments plugin.
    public static let invoicePayments = Route("/invoices/:id/payments")
    /// An online payment's status: where the payment provider's page sends the customer back.
    public static let onlinePayment = Route("/payments/:id")
    /// Where a payments plugin POSTs its signed notifications (no session: the signature is the credential).
    public static let paymentNotifications = Route("/payments/notify/:plugin")
    /// The account statement.
    public static let statement = Route("/statement")
    /// The statement as a page to print.
    public static let statementPrint = Route("/statement/print")
    /// The statement as CSV or Excel.
    public static let statementExport = Route("/statement/export")
}
