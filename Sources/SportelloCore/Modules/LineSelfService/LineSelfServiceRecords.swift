import Foundation

/// A line being activated for a customer (WINDTRE "Attivazione linee"): shown while in progress, with its
/// stage and percentage; completed and cancelled activations stay stored but leave the page.
public struct LineActivationRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    /// The provider's order number (imports upsert by it).
    public var externalId: String?
    public var customerId: Int64
    /// The line, once it exists in the store (often only at the end).
    public var lineId: Int64?
    public var contractId: Int64?
    /// `fixed_line` or `sim`.
    public var kind: String
    /// The number being activated, when already assigned.
    public var identifier: String?
    /// The offer being activated (`Fibra 2.5 Giga Pro`).
    public var offer: String
    /// The installation site (fixed lines).
    public var site: String?
    /// `YYYY-MM-DD`.
    public var requestedOn: String
    public var expectedOn: String?
    /// 0…100.
    public var progress: Int64
    /// One of `LineActivationStage`.
    public var stage: String
    public var status: LineActivationStatus
    public var updatedAt: Int64
    public var completedOn: String?

    public init(id: Int64? = nil, externalId: String? = nil, customerId: Int64, lineId: Int64? = nil, contractId: Int64? = nil,
                kind: String, identifier: String? = nil, offer: String, site: String? = nil, requestedOn: String,
                expectedOn: String? = nil, progress: Int64, stage: String, status: LineActivationStatus = .inProgress, updatedAt: Int64,
                completedOn: String? = nil) {
        self.id = id; self.externalId = externalId; self.customerId = customerId; self.lineId = lineId
        self.contractId = contractId; self.kind = kind; self.identifier = identifier; self.offer = offer; self.site = site
        self.requestedOn = requestedOn; self.expectedOn = expectedOn; self.progress = progress; self.stage = stage
        self.status = status; self.updatedAt = updatedAt; self.completedOn = completedOn
    }
}

/// Whether an activation is still under way.
public enum LineActivationStatus: String, Codable, Sendable, CaseIterable {
    case inProgress = "in_progress"
    case completed, cancelled
}

/// The stages an activation goes through, in order, each with the progress it usually stands for.
public enum LineActivationStage: String, CaseIterable, Sendable {
    case received, feasibility, appointment, installation, testing, completed, cancelled

    /// The percentage a stage shows when staff give none.
    public var typicalProgress: Int64 {
        switch self {
        case .received: 10
        case .feasibility: 25
        case .appointment: 50
        case .installation: 75
        case .testing: 90
        case .completed: 100
        case .cancelled: 0
        }
    }

    public var isFinal: Bool { self == .completed || self == .cancelled }
}

/// One change of a SIM's association with an employee (a user of the customer): the history of
/// WINDTRE's "Associazione SIM". The current association is `lines.assigned_user_id`.
public struct SIMAssignmentRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var customerId: Int64
    public var lineId: Int64
    /// The employee; kept as a plain id (no foreign key) so that deleting the user keeps the history.
    public var userId: Int64?
    /// The employee's name when the change happened.
    public var userName: String
    /// `associated` or `dissociated`.
    public var action: String
    public var at: Int64
    /// Who made the change (a portal user or staff); nil for imports.
    public var actorUserId: Int64?
    public var note: String?

    public init(id: Int64? = nil, customerId: Int64, lineId: Int64, userId: Int64?, userName: String, action: String, at: Int64,
                actorUserId: Int64? = nil, note: String? = nil) {
        self.id = id; self.customerId = customerId; self.lineId = lineId; self.userId = userId; self.userName = userName
        self.action = action; self.at = at; self.actorUserId = actorUserId; self.note = note
    }
}

/// An automatic recharge of a prepaid SIM: when the credit falls below `thresholdCents` (mode `threshold`)
/// or every month on `dayOfMonth` (mode `monthly`), recharge `amountCents`, paid by card or on the invoice.
public struct AutomaticRechargeRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var customerId: Int64
    public var lineId: Int64
    /// `threshold` or `monthly`.
    public var mode: String
    public var amountCents: Int64
    public var thresholdCents: Int64?
    /// 1…28.
    public var dayOfMonth: Int64?
    /// `card` or `invoice` (charged on the next invoice).
    public var paymentMethod: String
    /// The card's last four digits and expiry (`MM/YY`); the number itself is never stored.
    public var cardLastFour: String?
    public var cardExpiry: String?
    public var status: AutomaticRechargeStatus
    public var createdAt: Int64
    public var updatedAt: Int64
    /// The user who set it up (plain id: the record outlives the user).
    public var createdByUserId: Int64?
    public var cancelledAt: Int64?

    public init(id: Int64? = nil, customerId: Int64, lineId: Int64, mode: String, amountCents: Int64, thresholdCents: Int64? = nil,
                dayOfMonth: Int64? = nil, paymentMethod: String, cardLastFour: String? = nil, cardExpiry: String? = nil,
                status: AutomaticRechargeStatus = .active, createdAt: Int64, updatedAt: Int64, createdByUserId: Int64? = nil, cancelledAt: Int64? = nil) {
        self.id = id; self.customerId = customerId; self.lineId = lineId; self.mode = mode; self.amountCents = amountCents
        self.thresholdCents = thresholdCents; self.dayOfMonth = dayOfMonth; self.paymentMethod = paymentMethod
        self.cardLastFour = cardLastFour; self.cardExpiry = cardExpiry; self.status = status; self.createdAt = createdAt
        self.updatedAt = updatedAt; self.createdByUserId = createdByUserId; self.cancelledAt = cancelledAt
    }

    /// The next monthly recharge day after `today`: this month's `dayOfMonth` if still ahead, else next month's.
    public func nextMonthlyRun(after today: CalendarDay) -> CalendarDay? {
        guard mode == "monthly", status == .active, let day = dayOfMonth, (1...28).contains(day) else { return nil }
        let thisMonth = CalendarDay(year: today.year, month: today.month, day: Int(day))
        return thisMonth > today ? thisMonth : thisMonth.adding(months: 1)
    }
}

/// Whether an automatic recharge runs.
public enum AutomaticRechargeStatus: String, Codable, Sendable, CaseIterable {
    case active, suspended, cancelled
}
