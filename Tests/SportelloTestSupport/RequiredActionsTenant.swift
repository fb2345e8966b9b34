import Foundation

/// The fleet tenant with a second customer type (a business), an immutable tax id and the required actions the
/// required-actions suites use (Core rules and validation, the web gate and pages): terms for everyone, the
/// customer's data confirmed by admins every 12 months, the e-mail verified by businesses' users.
public let requiredActionsYAML: String = {
    let text = fleetTenantYAML.replacingOccurrences(
        of: "  privato: {label: {it: Privato, en: Private}, kind: person, required_fields: [first_name, last_name, tax_code]}\n",
        with: "  privato: {label: {it: Privato, en: Private}, kind: person, required_fields: [first_name, last_name, tax_code]}\n"
            + "  azienda: {label: {it: Azienda, en: Business}, kind: business, required_fields: [company_name, vat_number]}\n")
    return text + """
    field_policies:
      immutable: [tax_id]
    required_actions:
      privacy:
        type: accept_terms
        label: {it: Informativa privacy, en: Privacy notice}
        version: "2026-01"
        text: {it: "Ho letto l'informativa sul trattamento dei dati personali.", en: "I have read the privacy notice."}
        document: /static/privacy.pdf
      dati:
        type: confirm_customer_data
        label: {it: Conferma i tuoi dati, en: Confirm your details}
        message: {it: Controlla che i dati siano aggiornati., en: Check that your details are up to date.}
        fields: [email, phone, tax_id, fleet_code]
        roles: [admin]
        every: 12mo
      posta:
        type: verify_email
        label: {it: Verifica l'indirizzo e-mail, en: Verify your e-mail address}
        customer_types: [azienda]

    """
}()

/// `requiredActionsYAML` with one text replaced (the replaced text must be there once).
public func requiredActionsYAML(replacing old: String, with new: String) -> String {
    precondition(requiredActionsYAML.components(separatedBy: old).count == 2, "not once in the YAML: \(old)")
    return requiredActionsYAML.replacingOccurrences(of: old, with: new)
}

