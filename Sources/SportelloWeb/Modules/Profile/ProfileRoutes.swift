extension Routes {
    /// The user's own data and the customer record.
    public static let profile = Route("/profile")
    /// Where the own-data form posts.
    public static let profileAccount = Route("/profile/account")
    /// Where the customer-record form posts.
    public static let profileCustomer = Route("/profile/customer")
    /// Invoice delivery, payment method and invoice shipping address.
    public static let profileBilling = Route("/profile/billing")
}
