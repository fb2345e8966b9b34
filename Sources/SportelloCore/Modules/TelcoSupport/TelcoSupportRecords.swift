import Foundation

/// One message of a user's chat with the tenant's operators.
public struct ChatMessageRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var customerId: Int64
    /// The portal user whose conversation this is (each user has one conversation).
    public var userId: Int64
    /// `customer` (written by the user), `operator` (a reply) or `system` (automatic notice).
    public var author: String
    /// The operator's first name, for replies.
    public var authorName: String?
    public var body: String
    public var sentAt: Int64
    /// When the user saw an operator's reply.
    public var readAt: Int64?

    public init(id: Int64? = nil, customerId: Int64, userId: Int64, author: String, authorName: String? = nil, body: String,
                sentAt: Int64, readAt: Int64? = nil) {
        self.id = id; self.customerId = customerId; self.userId = userId; self.author = author; self.authorName = authorName
        self.body = body; self.sentAt = sentAt; self.readAt = readAt
    }
}

/// A fixed-line diagnosis run from the portal, with the checks it made.
public struct LineDiagnosisRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var customerId: Int64
    public var lineId: Int64
    public var userId: Int64?
    public var runAt: Int64
    /// `ok`, `warning` or `fault`: the worst of the checks.
    public var outcome: String
    /// JSON list of `DiagnosisCheck`.
    public var checks: String
    /// The fault report opened after this diagnosis, if one was.
    public var faultRequestId: Int64?
    /// True when the diagnosis only read the portal's own stored rows (no test on the provider's network).
    public var simulated: Bool?

    public init(id: Int64? = nil, customerId: Int64, lineId: Int64, userId: Int64?, runAt: Int64, outcome: String, checks: String,
                faultRequestId: Int64? = nil, simulated: Bool? = nil) {
        self.simulated = simulated
        self.id = id; self.customerId = customerId; self.lineId = lineId; self.userId = userId; self.runAt = runAt
        self.outcome = outcome; self.checks = checks; self.faultRequestId = faultRequestId
    }
}

/// The result of one diagnosis check: a stable id, its outcome and the values its message needs.
public struct DiagnosisCheck: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable, Comparable {
        case ok, warning, fault

        private var rank: Int { self == .ok ? 0 : self == .warning ? 1 : 2 }
        public static func < (lhs: Outcome, rhs: Outcome) -> Bool { lhs.rank < rhs.rank }
    }

    /// `line_status`, `line_block`, `open_fault`, `traffic` or `billing`.
    public var id: String
    public var outcome: Outcome
    /// Names the message (`<id>.<detail>`) shown for the result.
    public var detail: String
    public var values: [String: String]

    public init(id: String, outcome: Outcome, detail: String, values: [String: String] = [:]) {
        self.id = id; self.outcome = outcome; self.detail = detail; self.values = values
    }

    public static func encode(_ checks: [DiagnosisCheck]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(checks)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    public static func decode(_ text: String) -> [DiagnosisCheck] {
        (try? JSONDecoder().decode([DiagnosisCheck].self, from: Data(text.utf8))) ?? []
    }
}

/// What a fixed-line diagnosis looks at, read from the store.
public struct LineDiagnosisInput: Sendable {
    public var lineStatus: LineStatus
    /// Open fault reports naming the line: id and status.
    public var openFaultReports: [(id: Int64, status: String)]
    /// Usage events on the line in the last `trafficDays` days, and the newest one's instant.
    public var recentTrafficCount: Int
    public var lastTrafficAt: Int64?
    public var trafficDays: Int
    /// Due days (`YYYY-MM-DD`) of the customer's unpaid invoices past due.
    public var overdueDueDays: [String]
    /// Whether the person running the diagnosis may see the customer's invoices (else no count is told).
    public var billingVisible: Bool
    public var today: CalendarDay

    public init(lineStatus: LineStatus, openFaultReports: [(id: Int64, status: String)], recentTrafficCount: Int, lastTrafficAt: Int64?,
                trafficDays: Int = 7, overdueDueDays: [String], billingVisible: Bool = true, today: CalendarDay) {
        self.lineStatus = lineStatus; self.openFaultReports = openFaultReports; self.recentTrafficCount = recentTrafficCount
        self.lastTrafficAt = lastTrafficAt; self.trafficDays = trafficDays; self.overdueDueDays = overdueDueDays
        self.billingVisible = billingVisible; self.today = today
    }
}

/// The checks of a fixed-line diagnosis, computed from what the store knows about the line.
public enum LineDiagnosis {
    /// Invoices unpaid for longer than this after their due day put the service at risk of suspension.
    public static let suspensionRiskDays = 30

    public static func run(_ input: LineDiagnosisInput) -> [DiagnosisCheck] {
        var checks: [DiagnosisCheck] = []
        switch input.lineStatus {
        case .active, .suspended:
            checks.append(DiagnosisCheck(id: "line_status", outcome: .ok, detail: "active"))
        default:
            checks.append(DiagnosisCheck(id: "line_status", outcome: .fault, detail: "not_active", values: ["status": input.lineStatus.rawValue]))
        }
        checks.append(input.lineStatus == .suspended
                      ? DiagnosisCheck(id: "line_block", outcome: .fault, detail: "blocked")
                      : DiagnosisCheck(id: "line_block", outcome: .ok, detail: "not_blocked"))
        if let open = input.openFaultReports.first {
            checks.append(DiagnosisCheck(id: "open_fault", outcome: .warning, detail: "open",
                                         values: ["id": String(open.id), "status": open.status]))
        } else {
            checks.append(DiagnosisCheck(id: "open_fault", outcome: .ok, detail: "none"))
        }
        if input.recentTrafficCount > 0 {
            checks.append(DiagnosisCheck(id: "traffic", outcome: .ok, detail: "recent",
                                         values: ["count": String(input.recentTrafficCount), "days": String(input.trafficDays),
                                                  "last": input.lastTrafficAt.map(String.init) ?? ""]))
        } else {
            checks.append(DiagnosisCheck(id: "traffic", outcome: .warning, detail: "none", values: ["days": String(input.trafficDays)]))
        }
        let limit = input.today.adding(days: -suspensionRiskDays).description
        if !input.billingVisible {
            // Someone who may not see the invoices learns only that the line may be limited for administrative reasons.
            checks.append(input.overdueDueDays.contains(where: { $0 < limit })
                          ? DiagnosisCheck(id: "billing", outcome: .fault, detail: "administrative_restricted")
                          : DiagnosisCheck(id: "billing", outcome: .ok, detail: "administrative_regular"))
        } else if input.overdueDueDays.contains(where: { $0 < limit }) {
            checks.append(DiagnosisCheck(id: "billing", outcome: .fault, detail: "suspension_risk",
                                         values: ["count": String(input.overdueDueDays.count)]))
        } else if !input.overdueDueDays.isEmpty {
            checks.append(DiagnosisCheck(id: "billing", outcome: .warning, detail: "overdue",
                                         values: ["count": String(input.overdueDueDays.count)]))
        } else {
            checks.append(DiagnosisCheck(id: "billing", outcome: .ok, detail: "regular"))
        }
        return checks
    }

    public static func outcome(of checks: [DiagnosisCheck]) -> DiagnosisCheck.Outcome {
        checks.map(\.outcome).max() ?? .ok
    }

    /// Whether opening a fault report makes sense: a check on the line itself failed and none is open yet.
    public static func suggestsFaultReport(_ checks: [DiagnosisCheck]) -> Bool {
        let lineProblem = checks.contains { ["line_status", "line_block", "traffic"].contains($0.id) && $0.outcome != .ok }
        let alreadyOpen = checks.contains { $0.id == "open_fault" && $0.outcome != .ok }
        return lineProblem && !alreadyOpen
    }
}

/// When a support channel's operators answer: weekly slots in Europe/Rome time.
public struct OperatorHours: Codable, Sendable, Equatable {
    public struct Slot: Codable, Sendable, Equatable {
        /// ISO weekdays, 1 = Monday … 7 = Sunday.
        public var days: [Int]
        /// `HH:MM`, from inclusive, to exclusive.
        public var from: String
        public var to: String

        public init(days: [Int], from: String, to: String) { self.days = days; self.from = from; self.to = to }

        var fromMinute: Int { Self.minute(from) }
        var toMinute: Int { Self.minute(to) }

        static func minute(_ text: String) -> Int {
            let parts = text.split(separator: ":").compactMap { Int($0) }
            return parts.count == 2 ? parts[0] * 60 + parts[1] : 0
        }
    }

    public var slots: [Slot]

    public init(slots: [Slot]) { self.slots = slots }

    /// ISO weekday and minute of the day at `instant` in Europe/Rome.
    static func local(_ instant: Int64) -> (weekday: Int, minute: Int) {
        let parts = CalendarDay.calendar.dateComponents([.weekday, .hour, .minute], from: Date(timeIntervalSince1970: TimeInterval(instant)))
        let weekday = ((parts.weekday ?? 1) + 5) % 7 + 1
        return (weekday, (parts.hour ?? 0) * 60 + (parts.minute ?? 0))
    }

    public func isOpen(at instant: Int64) -> Bool {
        let (weekday, minute) = Self.local(instant)
        return slots.contains { $0.days.contains(weekday) && $0.fromMinute <= minute && minute < $0.toMinute }
    }

    /// The next opening after `instant` within a week: its ISO weekday, its `HH:MM` and whether it is today.
    public func nextOpening(after instant: Int64) -> (weekday: Int, time: String, today: Bool)? {
        let (weekday, minute) = Self.local(instant)
        for offset in 0..<8 {
            let day = (weekday - 1 + offset) % 7 + 1
            let starts = slots.filter { $0.days.contains(day) && (offset > 0 || $0.fromMinute > minute) }.min { $0.fromMinute < $1.fromMinute }
            if let starts { return (day, starts.from, offset == 0) }
        }
        return nil
    }
}

/// A support channel's details as stored in a `support_channel` catalogue item's `data`.
public struct SupportChannelData: Codable, Sendable, Equatable {
    public var phone: String?
    public var email: String?
    /// A portal page that serves the channel (`/support/chat`).
    public var path: String?
    public var hours: [OperatorHours.Slot]?
    /// Who the channel is for (`fixed`, `mobile`, `all`).
    public var audience: String?

    public init(phone: String? = nil, email: String? = nil, path: String? = nil, hours: [OperatorHours.Slot]? = nil, audience: String? = nil) {
        self.phone = phone; self.email = email; self.path = path; self.hours = hours; self.audience = audience
    }

    public static func decode(_ text: String?) -> SupportChannelData {
        guard let text, let data = try? JSONDecoder().decode(SupportChannelData.self, from: Data(text.utf8)) else { return SupportChannelData() }
        return data
    }

    public func encoded() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

/// An exclusive offer's details as stored in an `offer` catalogue item's `data`.
public struct OfferData: Codable, Sendable, Equatable {
    /// What the offer includes, one short phrase each.
    public var highlights: [String]?
    /// The kind of line it applies to (`sim`, `fixed_line`), nil for the whole company.
    public var lineKind: String?
    /// The one-off activation fee in cents.
    public var activationFeeCents: Int64?

    enum CodingKeys: String, CodingKey { case highlights, lineKind = "line_kind", activationFeeCents = "activation_fee_cents" }

    public init(highlights: [String]? = nil, lineKind: String? = nil, activationFeeCents: Int64? = nil) {
        self.highlights = highlights; self.lineKind = lineKind; self.activationFeeCents = activationFeeCents
    }

    public static func decode(_ text: String?) -> OfferData {
        guard let text, let data = try? JSONDecoder().decode(OfferData.self, from: Data(text.utf8)) else { return OfferData() }
        return data
    }

    public func encoded() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
