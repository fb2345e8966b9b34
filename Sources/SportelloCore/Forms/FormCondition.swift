import Foundation

/// When a form field is shown (and required), or a window applies: another field of the form holds a value. The
/// field is a field of the form, or `<record field>.<field of its kind>` for a field of the record picked there.
public struct FormCondition: Codable, Sendable, Hashable {
    public var field: String
    /// The value, as the field stores it (an option id, `true`/`false`, the text).
    public var equals: String?
    /// Any of these values.
    public var `in`: [String]?
    /// `true`: the field has any value; `false`: it is empty.
    public var filled: Bool?

    public init(field: String, equals: String? = nil, in values: [String]? = nil, filled: Bool? = nil) {
        self.field = field; self.equals = equals; self.in = values; self.filled = filled
    }

    /// Whether the condition holds for `values`: canonical values by field name (`vehicle.fuel` for a field of a
    /// picked record); a missing key is an empty field.
    public func holds(in values: [String: String]) -> Bool {
        let value = values[field].flatMap { $0.isEmpty ? nil : $0 }
        if let filled { return (value != nil) == filled }
        guard let value else { return false }
        if let equals { return value == equals }
        if let options = self.in { return options.contains(value) }
        return true
    }
}
