import Foundation

/// How far a registration or recovery has got: what the user proved and entered so far.
/// Stored server-side (JSON in `flow_states`); the browser only holds the secret that names it.
public struct FlowProgress: Codable, Sendable, Equatable {
    public var flowId: String
    /// Index of the step the user is on (`steps.count` once finished).
    public var stepIndex: Int
    public var customerId: Int64?
    public var customerType: String?
    /// The account being recovered, or the one the flow created.
    public var userId: Int64?
    public var invitationId: Int64?
    /// Role given by an invitation (overrides the flow's role).
    public var role: String?
    public var creatorUserId: Int64?
    public var email: String?
    public var username: String?
    public var passwordHash: String?
    public var securityQuestion: String?
    public var securityAnswerHash: String?
    /// Customer master data entered in a `customer_details` step (normalised field → value).
    public var customerDraft: [String: String]?
    /// Set when the e-mail address was proved by a link or code.
    public var emailVerified: Bool
    /// Set once the identify step ran; the account may still be unknown (enumeration safety).
    public var identified: Bool
    /// Wrong answers in this flow (control code, security answer).
    public var failedAttempts: Int
    /// The invitee's own name (given at invitation or at completion), for the account the flow creates.
    public var firstName: String?
    public var lastName: String?
    /// Where the last link went, masked (`m•••@azienda.it`), when it went to a contact on record.
    public var sentTo: String?
    /// Optional fields typed at `verify_customer` (e.g. Unogas's phone), stored on the record at completion.
    public var verifiedExtras: [String: String]?
    /// A hash of the identifier typed at a recovery's `identify` step (never the identifier itself): what the
    /// flow's mail limits count when the identifier names no account.
    public var identifierDigest: String?

    public init(flowId: String) {
        self.flowId = flowId
        stepIndex = 0
        emailVerified = false
        identified = false
        failedAttempts = 0
    }
}

/// The order of a flow's steps, read from the tenant's YAML; pure, no I/O.
public struct FlowMachine: Sendable {
    public let flowId: String
    public let flow: Flow

    public init(flowId: String, flow: Flow) {
        self.flowId = flowId
        self.flow = flow
    }

    public var steps: [FlowStep] { flow.steps }

    public func step(_ progress: FlowProgress) -> FlowStep? {
        progress.stepIndex < steps.count ? steps[progress.stepIndex] : nil
    }

    public func isFinished(_ progress: FlowProgress) -> Bool { progress.stepIndex >= steps.count }

    /// Moves past the current step.
    public func advance(_ progress: inout FlowProgress) {
        progress.stepIndex = min(progress.stepIndex + 1, steps.count)
        progress.failedAttempts = 0
    }

    /// The first step of `kind`, if the flow has one.
    public func index(of kind: StepKind) -> Int? { steps.firstIndex { $0.step == kind } }

    public func has(_ kind: StepKind) -> Bool { index(of: kind) != nil }

    /// Whether the flow starts from a link someone else sent (an invitation) rather than a public page.
    public var startsFromInvitation: Bool { steps.first?.step == .invitation }

    /// Steps that take something from the user (a form, a code or a followed link).
    public static let inputSteps: Set<StepKind> = [.invitation, .verifyCustomer, .customerDetails, .identify, .credentials, .password,
                                                   .securityQuestion, .securityAnswer, .emailVerification, .activation,
                                                   .firstLoginCredentials, .controlCode, .resetLink]

    /// True when the current step is the last one that takes input: completing it gives everything the
    /// account needs, so the account is created (registration) or updated (recovery) then, and only then.
    public func completesAccount(after progress: FlowProgress) -> Bool {
        guard progress.stepIndex < steps.count, Self.inputSteps.contains(steps[progress.stepIndex].step) else { return false }
        return !steps.dropFirst(progress.stepIndex + 1).contains { Self.inputSteps.contains($0.step) }
    }

    /// Seconds a step's link or code stays valid: the step's `expires`, else `fallback`.
    public func lifetime(of step: FlowStep, fallback: TimeInterval) -> TimeInterval {
        step.expires.map { TimeInterval($0.seconds) } ?? fallback
    }
}
