import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// What the provider's CRM said at a `verify_customer` step bound to a lookup plugin (`plugins: {<crm>: {flows: [<flow>]}}`).
enum CRMVerification {
    /// No CRM is bound to the flow: the portal's own customer records are searched as usual.
    case notBound
    /// Not verified: the data do not match (the neutral message), or the CRM could not be asked (said so; retry later).
    case refused([FieldProblem], HTTPResponse.Status?)
    /// The CRM knows the customer: the portal's record with its code (created from the CRM's data when missing).
    case verified(CustomerRecord)
}

extension FlowSteps {
    /// The customer-verification lookup bound to `flowId` in `definition`.
    static func crmBinding(flowId: String, definition: TenantDefinition, lookups: LookupServices) -> LookupBinding {
        for (plugin, binding) in definition.plugins ?? OrderedMap() where binding.flows?.contains(flowId) == true {
            if let client = lookups[plugin], client.operation == .customerVerification { return .bound(client) }
            if lookups.unavailable[plugin] != nil { return .notConnected(plugin: plugin) }
        }
        return .unbound
    }

    static let crmUnavailable = LocalizedText(translations: [
        "it": "Non riusciamo a verificare ora i tuoi dati con l'archivio clienti: il sistema non risponde. Non è stato salvato nulla: riprova tra qualche minuto.",
        "en": "We cannot check your details with the customer records right now: the system is not answering. Nothing was saved: try again in a few minutes."])

    static let crmSandboxNotice = LocalizedText(translations: [
        "it": "Verifica di prova (sandbox): i dati vengono confrontati con un archivio clienti di prova, non con quello reale del fornitore.",
        "en": "Sandbox check: your details are compared with a test customer archive, not the provider's real one."])

    /// The notice the verification form shows when the flow asks a sandbox CRM (nil otherwise).
    static func crmNotice(flowId: String, definition: TenantDefinition, lookups: LookupServices, locale: String) -> String? {
        guard let client = crmBinding(flowId: flowId, definition: definition, lookups: lookups).client, client.isSandbox else { return nil }
        return crmSandboxNotice.resolve(locale)
    }

    /// Asks the CRM bound to the flow whether the typed data are one of the provider's customers (outside any
    /// transaction); on a match, finds the portal's customer with the CRM's code or creates it from the CRM's data.
    func verifyWithCRM(_ step: FlowStep, form: SubmittedForm, flowId: String, now: Int64) async throws -> CRMVerification {
        let binding = Self.crmBinding(flowId: flowId, definition: definition, lookups: services.application.lookups)
        guard binding.isBound else { return .notBound }
        let unavailable = { (code: LookupError.Code) in
            CRMVerification.refused([FieldProblem(field: "_form", code: code.rawValue, message: Self.crmUnavailable)], .serviceUnavailable)
        }
        guard let client = binding.client else { return unavailable(.notConfigured) }
        var fields: [String: String] = [:]
        for input in CustomerMatcher.formFields(for: step.match ?? [], kind: nil, custom: definition.customerFields, records: definition.records) {
            let value = (form.value(input.name) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if !value.isEmpty { fields[input.name] = value }
        }
        let answer: CustomerVerificationAnswer
        do {
            answer = try await client.ask(CustomerVerificationRequest(fields: fields, locale: locale), now: now)
        } catch {
            return unavailable((error as? LookupError)?.code ?? .unavailable)
        }
        guard answer.match, let found = answer.customer else {
            return .refused([FieldProblem(field: "_form", code: "no_match", message: CustomerMatcher.neutralMismatchMessage)], nil)
        }
        let sandbox = client.isSandbox || answer.sandbox == true
        let types = definition.customerTypes
        let type = types.first { $0.value.kind.rawValue == found.kind }?.key ?? types.keys.first ?? ""
        let code = found.code.trimmingCharacters(in: .whitespaces).uppercased()
        let customer = try await services.database.write(tenant: tenant.id, now: now) { transaction -> CustomerRecord in
            if let existing = try await transaction.customer(code: code) { return existing }
            let business = types[type]?.kind != .person
            var record = CustomerRecord(customerType: type, customerCode: code, firstName: found.firstName, lastName: found.lastName,
                                        companyName: found.companyName, taxCode: found.taxCode, vatNumber: found.vatNumber,
                                        email: found.email, phone: found.phone,
                                        legalRepEmail: business ? found.email : nil, createdAt: now)
            record.id = try await transaction.insertCustomer(record)
            try await transaction.audit("customer.created_from_crm", actorUserId: nil, targetKind: "customer", targetId: String(record.id ?? 0),
                                        detail: "\(code) from \(client.id)\(sandbox ? " (sandbox)" : "")")
            return record
        }
        return .verified(customer)
    }
}
