/// Characters no name may hold. A person's or company's name is shown on pages, in e-mails, in exports
/// and to staff: a NUL or other control character corrupts what reads it, a bidirectional override
/// (U+202A–U+202E, U+2066–U+2069) makes text display in an order other than the stored one, and
/// zero-width characters make two different names look the same.
///
/// `problem(field:value:)` is the one check every place that takes a name uses (customer details in
/// registration and profile, the user's own name, user management, invitations): it gives the localized
/// field error `invalid_characters`.
public enum NameText {
    /// Whether `value` holds a character a name may not: C0 and C1 controls (tab and line breaks included:
    /// callers collapse whitespace first if they accept it), bidirectional marks, embeddings, overrides and
    /// isolates, zero-width characters, word joiners, the byte-order mark and interlinear annotations.
    public static func hasForbiddenCharacters(_ value: String) -> Bool {
        value.unicodeScalars.contains(where: isForbidden)
    }

    static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true          // C0 controls, DEL, C1 controls
        case 0x061C: true                            // Arabic letter mark
        case 0x200B...0x200F: true                   // zero-width space/non-joiner/joiner, LRM, RLM
        case 0x2028, 0x2029: true                    // line and paragraph separators
        case 0x202A...0x202E: true                   // bidi embeddings and overrides
        case 0x2060...0x2064: true                   // word joiner, invisible operators
        case 0x2066...0x2069: true                   // bidi isolates
        case 0xFEFF: true                            // zero-width no-break space (BOM)
        case 0xFFF9...0xFFFB: true                   // interlinear annotation
        default: false
        }
    }

    /// The field error for a name holding a forbidden character, nil when it holds none.
    public static func problem(field: String, value: String) -> FieldProblem? {
        guard hasForbiddenCharacters(value) else { return nil }
        return FieldProblem(field: field, code: "invalid_characters",
                            it: "Questo campo contiene caratteri non ammessi (caratteri di controllo o invisibili): scrivilo di nuovo senza incollarlo.",
                            en: "This field contains characters that are not allowed (control or invisible characters): please type it again rather than pasting it.")
    }
}
