import Foundation
import SportelloApplication
import SportelloCore
import SportelloStore

/// What the option-compatibility lookup said before a request form was stored (WINDTRE's option activation on one
/// SIM or up to ten numbers): refused with a per-line problem, or accepted with a note for the request's history.
struct OptionCompatibilityOutcome: Sendable {
    /// Why the request is not stored (some line is incompatible, or the provider's system did not answer).
    var problems: [FieldProblem] = []
    /// Per-line results, for the request's first history entry (in the submitter's language).
    var note: String?
}

extension RequestsController {
    /// The lookup plugin (operation `option_compatibility`) bound to `form`'s feature, when `formId` is one of the forms
    /// the binding names (every form of the feature when it names none).
    static func optionCompatibilityBinding(formId: String, form: RequestForm, tenant: TenantDefinition,
                                           lookups: LookupServices) -> LookupBinding {
        for (plugin, binding) in tenant.plugins ?? OrderedMap() {
            guard let feature = binding.features?[form.feature] else { continue }
            if let forms = feature.forms, !forms.contains(formId) { continue }
            if let client = lookups[plugin] {
                if client.operation == .optionCompatibility { return .bound(client) }
            } else if lookups.unavailable[plugin] != nil {
                return .notConnected(plugin: plugin)
            }
        }
        return .unbound
    }

    /// Asks the bound plugin whether the option typed in `form` can be activated on each line chosen, before the
    /// request is stored (outside any transaction). Nil when no plugin is bound to the form, or when the form's own
    /// checks will refuse the input anyway (no line, more than ten, an option left empty): those problems come first.
    /// Any incompatible line refuses the whole request, with every line's result on the `lines` field; a provider
    /// that does not answer refuses it too, with a message saying so (the form keeps what was typed).
    func optionCompatibility(formId: String, form: RequestForm, values: [String: [String]], context: UserContext) async throws -> OptionCompatibilityOutcome? {
        let binding = Self.optionCompatibilityBinding(formId: formId, form: form, tenant: context.tenant.definition, lookups: services.application.lookups)
        guard binding.isBound,
              let linesField = form.fields.first(where: { $0.type == .lines }),
              let optionField = form.fields.first(where: { $0.type != .lines && [.text, .choice].contains($0.type) }) else { return nil }
        let option = (values[optionField.name]?.first ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        var chosen: [String] = []
        for raw in values[linesField.name] ?? [] {
            for piece in raw.split(whereSeparator: { $0 == "\n" || $0 == "," || $0 == ";" || $0 == "\r" }) {
                let text = piece.trimmingCharacters(in: .whitespaces)
                if !text.isEmpty && !chosen.contains(text) { chosen.append(text) }
            }
        }
        let maximum = min(linesField.maxItems ?? OptionCompatibilityRequest.maxLines, OptionCompatibilityRequest.maxLines)
        guard !option.isEmpty, !chosen.isEmpty, chosen.count <= maximum else { return nil }
        let customer = context.customer.id ?? 0
        let lines = try await services.database.read(tenant: context.tenant.id, now: services.now) { try await $0.lines(customerId: customer) }
        // As the form stores them: the customer's line identifiers, or phone digits when the customer has no lines on record.
        let identifiers = chosen.compactMap { lines.isEmpty ? RequestForms.phoneDigits($0) : RequestForms.line($0, in: lines)?.identifier }
        guard identifiers.count == chosen.count else { return nil }  // not the customer's lines: the form says so

        func refusal(_ message: LocalizedText, code: String) -> OptionCompatibilityOutcome {
            OptionCompatibilityOutcome(problems: [FieldProblem(field: linesField.name, code: code, message: message)])
        }
        guard let client = binding.client else { return refusal(Self.compatibilityUnavailable, code: LookupError.Code.notConfigured.rawValue) }
        let answer: OptionCompatibilityAnswer
        do {
            answer = try await client.ask(OptionCompatibilityRequest(option: option, lines: identifiers, locale: context.locale), now: services.now)
        } catch {
            return refusal(Self.compatibilityUnavailable, code: (error as? LookupError)?.code.rawValue ?? LookupError.Code.unavailable.rawValue)
        }
        let sandbox = client.isSandbox || answer.sandbox == true
        let results = identifiers.compactMap { answer.result(for: $0) }
        func summary(_ locale: String) -> String {
            let it = locale == "it"
            let items = results.map { result in
                result.compatible ? "\(result.line): \(it ? "compatibile" : "compatible")"
                    : "\(result.line): \(it ? "non compatibile" : "not compatible")\(result.reason.map { " (\($0))" } ?? "")"
            }
            let head = it ? "Compatibilità dell'opzione «\(option)»\(sandbox ? " (verifica di prova, sandbox)" : ""): "
                          : "Compatibility of the option “\(option)”\(sandbox ? " (sandbox check)" : ""): "
            return head + items.joined(separator: "; ") + "."
        }
        if results.contains(where: { !$0.compatible }) {
            let tail = LocalizedText(translations: ["it": " La richiesta non è stata inviata: togli le linee non compatibili o scegli un'altra opzione.",
                                                        "en": " The request was not sent: remove the incompatible lines or choose another option."])
            return refusal(LocalizedText(translations: ["it": summary("it") + tail.resolve("it"), "en": summary("en") + tail.resolve("en")]), code: "incompatible_lines")
        }
        return OptionCompatibilityOutcome(note: summary(context.locale))
    }

    static let compatibilityUnavailable = LocalizedText(translations: [
        "it": "Non è possibile verificare ora la compatibilità dell'opzione con le linee scelte: il sistema non risponde. La richiesta non è stata inviata, riprova tra qualche minuto.",
        "en": "The option's compatibility with the chosen lines cannot be checked right now: the system is not answering. The request was not sent: try again in a few minutes."])
}
