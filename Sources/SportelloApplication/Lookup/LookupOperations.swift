import Foundation
import SportelloCore

/// A question to a lookup plugin: its operation (the path it is POSTed to) and the answer's type.
public protocol LookupRequest: Encodable, Sendable {
    associatedtype Answer: LookupAnswer
    static var operation: LookupOperation { get }
}

/// A lookup plugin's answer, checked against the question before a page shows it.
public protocol LookupAnswer: Decodable, Sendable {
    /// Whether the answer answers `request` (the same domain, the same lines…).
    func isValid(for request: some LookupRequest) -> Bool
}

// MARK: domain_availability

/// Is this domain free at the registry? (`POST <endpoint>/domain_availability`)
public struct DomainAvailabilityRequest: LookupRequest, Equatable {
    public typealias Answer = DomainAvailabilityAnswer
    public static let operation = LookupOperation.domainAvailability
    /// The normalised name (`rossi-srl.it`).
    public var domain: String
    public var locale: String

    public init(domain: String, locale: String) { self.domain = domain; self.locale = locale }
}

public struct DomainAvailabilityAnswer: LookupAnswer, Equatable {
    public var domain: String
    public var available: Bool
    /// Why not (`registered`, `reserved`…), when not available.
    public var reason: String?
    /// The plugin says it is a test double.
    public var sandbox: Bool?

    public func isValid(for request: some LookupRequest) -> Bool {
        guard let request = request as? DomainAvailabilityRequest else { return false }
        return domain.lowercased() == request.domain.lowercased()
    }
}

// MARK: line_diagnosis

/// A network test of a fixed line. (`POST <endpoint>/line_diagnosis`)
public struct LineDiagnosisRequest: LookupRequest, Equatable {
    public typealias Answer = LineDiagnosisAnswer
    public static let operation = LookupOperation.lineDiagnosis
    /// The line's number as the provider knows it.
    public var line: String
    public var customerCode: String?
    public var locale: String

    public init(line: String, customerCode: String?, locale: String) { self.line = line; self.customerCode = customerCode; self.locale = locale }

    enum CodingKeys: String, CodingKey { case line, locale, customerCode = "customer_code" }
}

public struct LineDiagnosisAnswer: LookupAnswer, Equatable {
    public struct Check: Decodable, Sendable, Equatable {
        /// The provider's code of the test (`sync`, `noise`…).
        public var code: String
        /// `ok`, `warning` or `fault`.
        public var outcome: String
        /// The test's name and result, in the language asked.
        public var name: String?
        public var detail: String
    }

    public var line: String
    /// `ok`, `warning` or `fault` (the worst of the checks).
    public var outcome: String
    public var summary: String?
    public var checks: [Check]
    /// The provider's reference of the test (to quote to customer care).
    public var reference: String?
    public var sandbox: Bool?

    static let outcomes: Set<String> = ["ok", "warning", "fault"]

    public func isValid(for request: some LookupRequest) -> Bool {
        guard let request = request as? LineDiagnosisRequest else { return false }
        return line == request.line && Self.outcomes.contains(outcome) && checks.allSatisfy { Self.outcomes.contains($0.outcome) }
    }
}

// MARK: option_compatibility

/// Can this option be activated on these lines? (`POST <endpoint>/option_compatibility`, at most ten lines)
public struct OptionCompatibilityRequest: LookupRequest, Equatable {
    public typealias Answer = OptionCompatibilityAnswer
    public static let operation = LookupOperation.optionCompatibility
    public static let maxLines = 10
    public var option: String
    public var lines: [String]
    public var locale: String

    public init(option: String, lines: [String], locale: String) { self.option = option; self.lines = lines; self.locale = locale }
}

public struct OptionCompatibilityAnswer: LookupAnswer, Equatable {
    public struct Result: Decodable, Sendable, Equatable {
        public var line: String
        public var compatible: Bool
        /// Why not, in the language asked.
        public var reason: String?
    }

    public var option: String
    public var results: [Result]
    public var sandbox: Bool?

    /// One result for each line asked, and none other.
    public func isValid(for request: some LookupRequest) -> Bool {
        guard let request = request as? OptionCompatibilityRequest else { return false }
        return Set(results.map(\.line)) == Set(request.lines) && results.count == request.lines.count
    }

    public func result(for line: String) -> Result? { results.first { $0.line == line } }
}

// MARK: customer_verification

/// Are these the data of one of the provider's customers? (`POST <endpoint>/customer_verification`)
public struct CustomerVerificationRequest: LookupRequest, Equatable {
    public typealias Answer = CustomerVerificationAnswer
    public static let operation = LookupOperation.customerVerification
    /// What the person typed, by input name (`customer_code`, `tax_id`, `first_name`…).
    public var fields: [String: String]
    public var locale: String

    public init(fields: [String: String], locale: String) { self.fields = fields; self.locale = locale }
}

public struct CustomerVerificationAnswer: LookupAnswer, Equatable {
    /// The customer as the provider's CRM holds it (only when the data matched).
    public struct Customer: Decodable, Sendable, Equatable {
        public var code: String
        /// `person`, `business` or `public_body`.
        public var kind: String?
        public var firstName, lastName, companyName, taxCode, vatNumber, email, phone: String?

        enum CodingKeys: String, CodingKey {
            case code, kind, email, phone
            case firstName = "first_name", lastName = "last_name", companyName = "company_name", taxCode = "tax_code", vatNumber = "vat_number"
        }
    }

    public var match: Bool
    public var customer: Customer?
    public var sandbox: Bool?

    /// A match names the customer.
    public func isValid(for request: some LookupRequest) -> Bool {
        guard request is CustomerVerificationRequest else { return false }
        return !match || !(customer?.code.isEmpty ?? true)
    }
}
