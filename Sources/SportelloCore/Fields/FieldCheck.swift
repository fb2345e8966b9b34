/// A named check a field's validator can use (`check: iban`): how the value is normalised, whether it is
/// accepted, what the customer is told when it is not, and how demo data makes a valid one.
///
/// A deployment adds its own with one registration: `FieldChecks.standard.registering(FieldCheck(…))`, passed to
/// `TenantLoader(checks:)` and to `FieldContext`.
public struct FieldCheck: Sendable {
    /// The name tenants write after `check:` (snake_case).
    public var name: String
    /// One sentence for the reference: what is accepted and how it is stored.
    public var summary: String
    /// Field types the check may be used on.
    public var types: Set<FieldType>
    /// Other names providers may try (`codice_fiscale` for `tax_code`), for "did you mean" hints only.
    public var aliases: [String]
    /// The stored form of a value, applied before `accepts` (spaces dropped, capitals…); total, so it may be
    /// given anything.
    public var normalize: @Sendable (String) -> String
    /// Whether a normalised value passes.
    public var accepts: @Sendable (String) -> Bool
    /// The platform's message when a value fails, in Italian and English; `{label}` stands for the field's label.
    public var message: LocalizedText
    /// Makes a value that passes (as a customer would type it), for demo data.
    public var generate: (@Sendable (inout SplitMix64) -> String)?

    public init(name: String, summary: String, types: Set<FieldType> = [.text], aliases: [String] = [],
                normalize: @escaping @Sendable (String) -> String = { $0 }, message: LocalizedText,
                generate: (@Sendable (inout SplitMix64) -> String)? = nil, accepts: @escaping @Sendable (String) -> Bool) {
        self.name = name
        self.summary = summary
        self.types = types
        self.aliases = aliases
        self.normalize = normalize
        self.accepts = accepts
        self.message = message
        self.generate = generate
    }

    /// The stable problem code of a failure: `invalid_` and the check's name (`invalid_iban`).
    public var code: String { "invalid_\(name)" }

    /// Whether `raw` passes once normalised.
    public func check(_ raw: String) -> Bool { accepts(normalize(raw)) }
}

/// The checks tenants can name, in the order the reference lists them.
public struct FieldChecks: Sendable {
    public private(set) var all: [FieldCheck]

    /// A library of `checks`; a later check replaces an earlier one of the same name.
    public init(_ checks: [FieldCheck]) {
        all = []
        for check in checks { self = registering(check) }
    }

    public subscript(name: String) -> FieldCheck? { all.first { $0.name == name } }

    public var names: [String] { all.map(\.name) }

    /// This library with `check` added, or replacing the check of the same name.
    public func registering(_ check: FieldCheck) -> FieldChecks {
        var copy = self
        if let index = copy.all.firstIndex(where: { $0.name == check.name }) {
            copy.all[index] = check
        } else {
            copy.all.append(check)
        }
        return copy
    }

    /// The closest check for a name that is not one: an alias (`partita_iva` → `vat_number`), else a near spelling.
    public func suggestion(for name: String) -> String? {
        let lowered = name.lowercased()
        if let aliased = all.first(where: { $0.aliases.contains(lowered) || $0.name == lowered }) { return aliased.name }
        return Suggest.closest(to: name, in: names)
    }

    /// A Markdown table of the checks (name, field types, summary) for the reference.
    public var referenceTable: String {
        var out = "| check | field types | accepts |\n|---|---|---|\n"
        for check in all {
            let types = FieldType.allCases.filter { check.types.contains($0) }.map { "`\($0.rawValue)`" }.joined(separator: ", ")
            out += "| `\(check.name)` | \(types) | \(check.summary.replacingOccurrences(of: "|", with: "\\|")) |\n"
        }
        return out
    }
}
