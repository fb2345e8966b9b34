import Foundation

/// One thing on the tenant's catalogue: an exclusive offer (TIM), a promotion (WINDTRE), a product on
/// sale (Tunda). Shared by every customer of the tenant; `customerType` narrows it to one customer type.
public struct CatalogItemRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    /// `offer`, `promotion`, `product`, `domain_extension`…: the section that lists it.
    public var kind: String
    /// Stable code, unique per kind (`GIGA-EXTRA-50`).
    public var code: String
    public var title: String
    public var description: String?
    public var category: String?
    public var customerType: String?
    public var priceCents: Int64?
    /// `month`, `year`, `once` or nil (free).
    public var billingPeriod: String?
    /// First and last day (`YYYY-MM-DD`) it is on offer; nil means open-ended.
    public var validFrom: String?
    public var validTo: String?
    public var position: Int64
    /// JSON for details only some kinds carry (the activation channel, the lines it applies to…).
    public var data: String?
    public var active: Bool

    public init(id: Int64? = nil, kind: String, code: String, title: String, description: String? = nil,
                category: String? = nil, customerType: String? = nil, priceCents: Int64? = nil, billingPeriod: String? = nil,
                validFrom: String? = nil, validTo: String? = nil, position: Int64 = 0, data: String? = nil, active: Bool = true) {
        self.id = id; self.kind = kind; self.code = code; self.title = title; self.description = description
        self.category = category; self.customerType = customerType; self.priceCents = priceCents
        self.billingPeriod = billingPeriod; self.validFrom = validFrom; self.validTo = validTo; self.position = position
        self.data = data; self.active = active
    }

    /// Whether it is on offer on `day` (`YYYY-MM-DD`) to a customer of `customerType`.
    public func isAvailable(on day: String, to customerType: String) -> Bool {
        active && (self.customerType == nil || self.customerType == customerType)
            && (validFrom.map { $0 <= day } ?? true) && (validTo.map { day <= $0 } ?? true)
    }
}
