extension Routes {
    /// The customer's requests and the forms to open one; in the API, the list and the submission.
    public static let requests = Route("/requests")
    /// A request form, shown and submitted.
    public static let requestForm = Route("/requests/new/:form")
    /// The request forms the caller may submit (API only).
    public static let requestForms = Route("/requests/forms")
    /// One request with its fields, attachments and status history.
    public static let request = Route("/requests/:id")
    /// An attachment of a request, downloaded.
    public static let requestAttachment = Route("/requests/:id/attachments/:attachment")
}
