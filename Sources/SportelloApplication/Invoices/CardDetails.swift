import Foundation
import SportelloCore

/// The card details typed on the demo recharge forms (TIM's and WINDTRE's online recharges, not yet paid through a
/// payments plugin: the portal checks the details and records the recharge as simulated). Invoices and pro-formas are
/// paid on the payment provider's own page (`StartOnlinePayment`): the portal never sees a card there. The card number
/// lives only in this value for the duration of the request; what is stored is the last four digits at most.
public struct CardDetails: Sendable {
    public var holder: String
    public var number: String
    /// `MM/YY` (or `MM/YYYY`).
    public var expiry: String
    public var cvv: String

    public init(holder: String, number: String, expiry: String, cvv: String) {
        self.holder = holder; self.number = number; self.expiry = expiry; self.cvv = cvv
    }

    /// The digits of the card number (spaces and dashes removed).
    public var digits: String { number.filter { $0 != " " && $0 != "-" } }

    public var lastFour: String { String(digits.suffix(4)) }

    /// Every problem with the details, each tied to its field (`card_holder`, `card_number`, `card_expiry`, `card_cvv`).
    public func problems(now: Int64, text: (String) -> LocalizedText) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        let holder = holder.trimmingCharacters(in: .whitespacesAndNewlines)
        if holder.isEmpty {
            problems.append(FieldProblem(field: "card_holder", code: "required", message: text("invoices.pay.error.holder_required")))
        } else if holder.count > 100 || holder.contains(where: { $0.isNumber }) {
            problems.append(FieldProblem(field: "card_holder", code: "invalid", message: text("invoices.pay.error.holder_invalid")))
        }
        let digits = digits
        if number.trimmingCharacters(in: .whitespaces).isEmpty {
            problems.append(FieldProblem(field: "card_number", code: "required", message: text("invoices.pay.error.number_required")))
        } else if !digits.allSatisfy({ $0.isASCII && $0.isNumber }) || !(12...19).contains(digits.count) {
            problems.append(FieldProblem(field: "card_number", code: "invalid_format", message: text("invoices.pay.error.number_format")))
        } else if !Self.luhnValid(digits) {
            problems.append(FieldProblem(field: "card_number", code: "invalid_checksum", message: text("invoices.pay.error.number_luhn")))
        }
        switch Self.parseExpiry(expiry) {
        case nil:
            let code = expiry.trimmingCharacters(in: .whitespaces).isEmpty ? "required" : "invalid_format"
            problems.append(FieldProblem(field: "card_expiry", code: code, message: text("invoices.pay.error.expiry_format")))
        case let (year, month)?:
            // A card is valid until the last day of its expiry month.
            let today = CalendarDay(instant: now)
            if (year, month) < (today.year, today.month) {
                problems.append(FieldProblem(field: "card_expiry", code: "expired", message: text("invoices.pay.error.expired")))
            } else if year > today.year + 20 {
                problems.append(FieldProblem(field: "card_expiry", code: "invalid", message: text("invoices.pay.error.expiry_format")))
            }
        }
        let cvvLength = digits.hasPrefix("34") || digits.hasPrefix("37") ? 4 : 3
        if cvv.isEmpty {
            problems.append(FieldProblem(field: "card_cvv", code: "required", message: text("invoices.pay.error.cvv_required")))
        } else if cvv.count != cvvLength || !cvv.allSatisfy({ $0.isASCII && $0.isNumber }) {
            problems.append(FieldProblem(field: "card_cvv", code: "invalid_format",
                                         message: text(cvvLength == 4 ? "invoices.pay.error.cvv_format_amex" : "invoices.pay.error.cvv_format")))
        }
        return problems
    }

    /// The Luhn (mod 10) check every payment card number passes.
    public static func luhnValid(_ digits: String) -> Bool {
        var sum = 0
        for (offset, character) in digits.reversed().enumerated() {
            guard let digit = character.wholeNumberValue else { return false }
            if offset % 2 == 1 {
                let doubled = digit * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += digit
            }
        }
        return !digits.isEmpty && sum % 10 == 0
    }

    /// `MM/YY`, `MM/YYYY`, `MM-YY` or `MMYY` as (year, month); nil when unreadable.
    public static func parseExpiry(_ text: String) -> (Int, Int)? {
        let trimmed = text.filter { !$0.isWhitespace }
        var parts = trimmed.split(whereSeparator: { $0 == "/" || $0 == "-" }).map(String.init)
        if parts.count == 1, trimmed.count == 4, trimmed.allSatisfy(\.isNumber) {
            parts = [String(trimmed.prefix(2)), String(trimmed.suffix(2))]
        }
        guard parts.count == 2, parts[0].count <= 2, parts[1].count == 2 || parts[1].count == 4,
              parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let month = Int(parts[0]), let rawYear = Int(parts[1]), (1...12).contains(month) else { return nil }
        return (parts[1].count == 2 ? 2000 + rawYear : rawYear, month)
    }

    /// The card's network, for the receipt (never stored beyond the reference).
    public var brand: String {
        let digits = digits
        if digits.hasPrefix("4") { return "Visa" }
        if let two = Int(digits.prefix(2)), (51...55).contains(two) { return "Mastercard" }
        if let four = Int(digits.prefix(4)), (2221...2720).contains(four) { return "Mastercard" }
        if digits.hasPrefix("34") || digits.hasPrefix("37") { return "American Express" }
        return "Carta"
    }
}
