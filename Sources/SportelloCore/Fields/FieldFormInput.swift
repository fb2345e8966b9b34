import Foundation

extension FieldDefinition {
    /// The input a form shows for this field: its label, help as the hint, the HTML type its values need and
    /// the longest value its validators accept.
    public func formInput(name: String, required: Bool) -> FormInput {
        let htmlType = switch type {
        case .date: "date"
        case .email: "email"
        case .phone: "tel"
        default: "text"
        }
        return FormInput(name: name, label: label, type: htmlType, required: required || isRequired, hint: help, maxLength: maxLength)
    }

    /// The canonical form of what a person typed, or nil when it is not a valid value of the field (matching
    /// compares canonical values, so `ab 123 cd` finds the plate stored as `AB123CD`).
    public func canonical(_ raw: String, field id: String, today: CalendarDay, checks: FieldChecks = .standard) -> String? {
        let context = FieldContext(locale: "en", defaultLocale: "en", today: today, checks: checks)
        guard case .success(let value?) = validate(raw, field: id, in: context) else { return nil }
        return value.canonical
    }
}
