import Foundation

/// Usernames: how they are compared at login and what a user may choose.
public enum UsernameRules {
    /// The shortest and longest username a user may choose.
    public static let chosenLength = 4...64

    /// The characters a chosen username may contain besides ASCII letters and digits.
    public static let allowedSymbols: Set<Character> = [".", "_", "-", "@"]

    /// The key a username is stored and looked up by (`UserRecord.usernameKey`): trimmed, and lower-cased unless
    /// the tenant's usernames are case-sensitive (`login.case_sensitive`), exactly as the demo data fill it.
    public static func key(for username: String, caseSensitive: Bool) -> String {
        let trimmed = FlowText.trimmed(username)
        return caseSensitive ? trimmed : trimmed.lowercased()
    }

    /// Problems with a username the user chose (field `username`): 4 to 64 characters, only letters without
    /// accents, digits and `.` `_` `-` `@`, no spaces. Surrounding spaces are ignored (store the trimmed value).
    public static func validateChosen(_ username: String) -> [FieldProblem] {
        let name = FlowText.trimmed(username)
        var problems: [FieldProblem] = []
        if name.isEmpty {
            return [FieldProblem(field: "username", code: "required",
                                 it: "Scegli un nome utente.", en: "Please choose a username.")]
        }
        if name.count < chosenLength.lowerBound {
            problems.append(FieldProblem(
                field: "username", code: "too_short",
                it: "Il nome utente è troppo corto: servono almeno \(chosenLength.lowerBound) caratteri.",
                en: "The username is too short: it needs at least \(chosenLength.lowerBound) characters."))
        } else if name.count > chosenLength.upperBound {
            problems.append(FieldProblem(
                field: "username", code: "too_long",
                it: "Il nome utente è troppo lungo: usa al massimo \(chosenLength.upperBound) caratteri.",
                en: "The username is too long: use at most \(chosenLength.upperBound) characters."))
        }
        if name.contains(where: \.isWhitespace) {
            problems.append(FieldProblem(field: "username", code: "contains_space",
                                         it: "Il nome utente non può contenere spazi.",
                                         en: "The username cannot contain spaces."))
        }
        if name.contains(where: { !$0.isWhitespace && !isAllowed($0) }) {
            problems.append(FieldProblem(
                field: "username", code: "invalid_characters",
                it: "Nel nome utente usa solo lettere senza accenti, cifre e i caratteri . _ - @",
                en: "Please use only letters without accents, digits and the characters . _ - @ in the username."))
        }
        return problems
    }

    /// Problems with an e-mail address typed in `field` (required, plausible, at most 254 characters).
    public static func validateEmail(_ email: String, field: String) -> [FieldProblem] {
        let address = FlowText.trimmed(email)
        if address.isEmpty {
            return [FieldProblem(field: field, code: "required",
                                 it: "Inserisci un indirizzo e-mail.", en: "Please enter an e-mail address.")]
        }
        guard address.count <= 254, !address.contains(where: \.isWhitespace), ItalianIdentifiers.isPlausibleEmail(address) else {
            return [FieldProblem(field: field, code: "invalid_email",
                                 it: "L'indirizzo e-mail non sembra valido: controlla che abbia la forma nome@dominio.it.",
                                 en: "The e-mail address does not look valid: please check it looks like name@domain.com.")]
        }
        return []
    }

    private static func isAllowed(_ c: Character) -> Bool {
        (c.isASCII && (c.isLetter || c.isNumber)) || allowedSymbols.contains(c)
    }
}
