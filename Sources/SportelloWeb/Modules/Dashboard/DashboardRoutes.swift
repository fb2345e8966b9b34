extension Routes {
    /// The home page, every user's landing page.
    public static let dashboard = Route("/")
}
