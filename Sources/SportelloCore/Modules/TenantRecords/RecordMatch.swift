import Foundation

/// One entry of a `verify_customer` step's `match:`: a customer field (the catalogue's, `names`, `tax_id`, or the
/// tenant's own), or `<kind>.<field>`, "the customer has a record of kind `kind` whose field `field` equals what
/// was typed" (a policy number printed on a document the provider sent).
public enum CustomerMatchKey: Sendable, Hashable {
    case customerField(String)
    case record(kind: String, field: String)

    /// Reads an entry as written: a name with one `.` is a record field, anything else a customer field.
    public init(_ name: String) {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty {
            self = .record(kind: String(parts[0]), field: String(parts[1]))
        } else {
            self = .customerField(name)
        }
    }

    /// The entry as written in `match:`, also the name of its input on the step's form.
    public var name: String {
        switch self {
        case .customerField(let name): name
        case .record(let kind, let field): "\(kind).\(field)"
        }
    }
}

/// A record field a `verify_customer` step matches on, resolved against the tenant's definition.
public struct RecordMatchField: Sendable {
    public var kind: String
    public var field: String
    public var definition: FieldDefinition
    /// The record kind (its label names the input's context: "Polizza — Numero di polizza").
    public var recordKind: RecordKindDefinition

    /// Validates and normalises what was typed, as the field stores it: the canonical value to look up with
    /// `customers(withRecordOf:field:equalTo:)`, or the problems to show (empty input is `required`).
    public func canonical(_ raw: String?, in context: FieldContext) -> Result<String, FieldProblems> {
        var required = definition
        required.required = true
        switch required.validate(raw, field: "\(kind).\(field)", in: context) {
        case .success(let value?): return .success(value.canonical)
        case .success(nil): return .failure(FieldProblems())
        case .failure(let problems): return .failure(problems)
        }
    }

    /// The input a `verify_customer` step shows for this field (`name` is the `match:` entry): labelled with the
    /// kind's label and the field's ("Polizza — Numero di polizza"), the field's help as hint, its input type and
    /// the longest value its validators accept; always required.
    public func formInput(name: String) -> FormInput {
        var input = definition.formInput(name: name, required: true)
        let kindLabel = recordKind.label, fieldLabel = definition.label
        var translations: [String: String] = [:]
        for locale in Set(kindLabel.translations.keys).union(fieldLabel.translations.keys) {
            translations[locale] = "\(kindLabel.resolve(locale)) — \(fieldLabel.resolve(locale))"
        }
        input.label = LocalizedText(translations: translations)
        return input
    }

    /// The record field a `match:` entry names among `records` (`policies.policy_number`), nil for a customer field
    /// or a kind or field `records` does not define.
    public static func resolve(_ name: String, in records: OrderedMap<RecordKindDefinition>?) -> RecordMatchField? {
        guard case .record(let kind, let field) = CustomerMatchKey(name), let recordKind = records?[kind],
              let definition = recordKind.fields[field] else { return nil }
        return RecordMatchField(kind: kind, field: field, definition: definition, recordKind: recordKind)
    }
}

extension FlowStep {
    /// `match:` read as customer fields and record fields, in order.
    public var matchKeys: [CustomerMatchKey] { (match ?? []).map(CustomerMatchKey.init) }
}

extension TenantDefinition {
    /// The record field a `match:` entry names (`policies.policy_number`), nil for a customer field or a name the
    /// tenant does not define.
    public func recordMatchField(_ name: String) -> RecordMatchField? {
        RecordMatchField.resolve(name, in: records)
    }
}
