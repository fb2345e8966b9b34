import Foundation

/// One rule of a password policy as the page lists it before the customer types anything.
public struct PasswordRequirementInfo: Sendable, Equatable, Hashable {
    /// `min_length`, `max_length`, `lowercase`, `uppercase`, `letter`, `digit`, `symbol` or `personal_data`.
    public var id: String
    /// `Almeno 8 caratteri` / `At least 8 characters`.
    public var label: LocalizedText

    public init(id: String, label: LocalizedText) {
        self.id = id
        self.label = label
    }
}

/// One rule of the policy and whether a given password meets it.
public struct PasswordRequirementStatus: Sendable, Equatable, Hashable {
    public var id: String
    public var label: LocalizedText
    public var met: Bool

    public init(id: String, label: LocalizedText, met: Bool) {
        self.id = id
        self.label = label
        self.met = met
    }
}

/// What the evaluator says about one password.
public struct PasswordEvaluation: Sendable, Equatable {
    /// Every rule of `requirements()`, in the same order, met or not.
    public var requirements: [PasswordRequirementStatus]
    /// 0 (very weak) … 4 (very strong). Never above 1 while a rule of the policy is unmet or the password is a
    /// common one, so the strength bar grows as the rules are met.
    public var strength: Int
    /// Everything that stops the password from being accepted, including a confirmation that differs.
    public var problems: [FieldProblem]

    public init(requirements: [PasswordRequirementStatus], strength: Int, problems: [FieldProblem]) {
        self.requirements = requirements
        self.strength = strength
        self.problems = problems
    }

    /// Whether the password (and its confirmation, when one was given) can be saved.
    public var isAcceptable: Bool { problems.isEmpty }

    /// The word for the strength bar: `Molto debole` … `Molto forte`.
    public var strengthLabel: LocalizedText { PasswordPolicyEvaluator.strengthLabels[max(0, min(4, strength))] }
}

/// The policy as the browser needs it for the live check while typing (embedded as JSON by the web layer).
/// The server always evaluates again with `PasswordPolicyEvaluator.evaluate`.
public struct PasswordClientRules: Encodable, Sendable, Equatable {
    public var minLength: Int
    /// The longest password accepted: the policy's `max_length`, or the platform ceiling.
    public var maxLength: Int
    /// `lowercase`, `uppercase`, `letter`, `digit`, `symbol`, in the policy's order.
    public var require: [String]
    public var forbidPersonalData: Bool

    public init(minLength: Int, maxLength: Int, require: [String], forbidPersonalData: Bool) {
        self.minLength = minLength
        self.maxLength = maxLength
        self.require = require
        self.forbidPersonalData = forbidPersonalData
    }
}

/// Checks passwords against a tenant's `login.password` policy and estimates their strength.
/// Pure: no hashing, no history (reuse of earlier passwords is checked where the hashes are).
public struct PasswordPolicyEvaluator: Sendable {
    public let policy: PasswordPolicy

    /// The longest password in characters when the policy sets no `max_length`.
    public static let platformMaxLength = 64
    /// bcrypt reads only the first 72 bytes, so longer passwords are refused rather than silently cut.
    public static let platformMaxBytes = 72
    /// Personal data shorter than this is not looked for inside passwords (initials, "Li", …).
    public static let personalDataMinLength = 3

    public init(policy: PasswordPolicy) {
        self.policy = policy
    }

    /// The longest password accepted, in characters.
    /// The policy's `max_length` (at most `platformMaxBytes`), or `platformMaxLength` when it sets none.
    public var effectiveMaxLength: Int {
        policy.maxLength.map { min($0, Self.platformMaxBytes) } ?? max(Self.platformMaxLength, policy.minLength)
    }

    private var forbidsPersonalData: Bool { policy.forbidPersonalData ?? false }

    /// The policy's character classes, each once, in the policy's order.
    private var requiredClasses: [PasswordRequirement] {
        var seen = Set<PasswordRequirement>()
        return (policy.require ?? []).filter { seen.insert($0).inserted }
    }

    // MARK: Requirements

    /// The rules to list on the page before the customer types.
    public func requirements() -> [PasswordRequirementInfo] {
        var list = [PasswordRequirementInfo(id: "min_length", label: Self.minLengthLabel(policy.minLength))]
        if let maximum = policy.maxLength {
            list.append(PasswordRequirementInfo(id: "max_length", label: FlowText.text(
                "Al massimo \(maximum) caratteri", "At most \(maximum) characters")))
        }
        for requirement in requiredClasses {
            list.append(PasswordRequirementInfo(id: requirement.rawValue, label: Self.classLabel(requirement)))
        }
        if forbidsPersonalData {
            list.append(PasswordRequirementInfo(id: "personal_data", label: FlowText.text(
                "Non deve contenere il tuo nome, cognome, nome utente, e-mail o codice fiscale",
                "Must not contain your first or last name, username, e-mail or tax code")))
        }
        return list
    }

    /// The policy for the in-browser check.
    public func clientRules() -> PasswordClientRules {
        PasswordClientRules(minLength: policy.minLength, maxLength: effectiveMaxLength,
                            require: requiredClasses.map(\.rawValue), forbidPersonalData: forbidsPersonalData)
    }

    // MARK: Evaluation

    /// Checks `password` against every rule, estimates its strength and, when `confirmation` is given,
    /// compares it. `personalData` holds the customer's first and last name, username, e-mail, tax code…;
    /// values shorter than three characters are ignored, e-mail addresses are checked by their local part.
    public func evaluate(_ password: String, confirmation: String?, personalData: [String]) -> PasswordEvaluation {
        let length = password.count
        var statuses: [PasswordRequirementStatus] = []
        var problems: [FieldProblem] = []

        // Length.
        let longEnough = length >= policy.minLength
        statuses.append(PasswordRequirementStatus(id: "min_length", label: Self.minLengthLabel(policy.minLength), met: longEnough))
        if password.isEmpty {
            problems.append(FieldProblem(field: "password", code: "required",
                                         it: "Scegli una password.", en: "Please choose a password."))
        } else if !longEnough {
            problems.append(FieldProblem(
                field: "password", code: "too_short",
                it: "La password è troppo corta: servono almeno \(policy.minLength) caratteri (ne hai inseriti \(length)).",
                en: "The password is too short: it needs at least \(policy.minLength) characters (you entered \(length))."))
        }
        let maximum = effectiveMaxLength
        let shortEnough = length <= maximum && password.utf8.count <= Self.platformMaxBytes
        if let stated = policy.maxLength {
            statuses.append(PasswordRequirementStatus(id: "max_length", label: FlowText.text(
                "Al massimo \(stated) caratteri", "At most \(stated) characters"), met: shortEnough))
        }
        if !shortEnough {
            problems.append(FieldProblem(
                field: "password", code: "too_long",
                it: "La password è troppo lunga: usa al massimo \(maximum) caratteri (meno se contiene lettere accentate o simboli speciali).",
                en: "The password is too long: use at most \(maximum) characters (fewer with accented letters or special symbols)."))
        }

        // Character classes.
        for requirement in requiredClasses {
            let met = password.contains { Self.character($0, satisfies: requirement) }
            statuses.append(PasswordRequirementStatus(id: requirement.rawValue, label: Self.classLabel(requirement), met: met))
            if !met, !password.isEmpty { problems.append(Self.missingClassProblem(requirement)) }
        }

        // Personal data.
        if forbidsPersonalData {
            let found = !password.isEmpty && Self.containsPersonalData(password, personalData)
            statuses.append(PasswordRequirementStatus(id: "personal_data", label: FlowText.text(
                "Non deve contenere il tuo nome, cognome, nome utente, e-mail o codice fiscale",
                "Must not contain your first or last name, username, e-mail or tax code"), met: !password.isEmpty && !found))
            if found {
                problems.append(FieldProblem(
                    field: "password", code: "personal_data",
                    it: "La password non deve contenere dati che ti riguardano, come nome, cognome, nome utente, e-mail o codice fiscale.",
                    en: "The password must not contain data about you, such as your name, surname, username, e-mail or tax code."))
            }
        }

        // Confirmation.
        if let confirmation {
            if confirmation.isEmpty {
                problems.append(FieldProblem(field: "password_confirmation", code: "required",
                                             it: "Ripeti la password per conferma.", en: "Please repeat the password to confirm it."))
            } else if confirmation != password {
                problems.append(FieldProblem(field: "password_confirmation", code: "mismatch",
                                             it: "Le due password non coincidono: riscrivile con attenzione.",
                                             en: "The two passwords do not match: please type them again carefully."))
            }
        }

        var strength = Self.strength(of: password)
        if statuses.contains(where: { !$0.met }) { strength = min(strength, 1) }
        return PasswordEvaluation(requirements: statuses, strength: strength, problems: problems)
    }

    // MARK: Strength

    /// A rough 0…4 estimate independent of any policy: the character pool and the length, with repeated characters,
    /// runs (`abc`, `123`, `qwerty`) and repeated blocks (`abcabc`) counting little, and common passwords
    /// (also with digits or symbols around them, or with `0` for `o`, `4` for `a`…) scoring at most 1.
    public static func strength(of password: String) -> Int {
        let characters = Array(password)
        guard characters.count >= 4 else { return 0 }

        var pool = 0
        if characters.contains(where: { $0.isLowercase }) { pool += 26 }
        if characters.contains(where: { $0.isUppercase }) { pool += 26 }
        if characters.contains(where: { $0.isASCII && $0.isNumber }) { pool += 10 }
        if characters.contains(where: { !$0.isLetter && !($0.isASCII && $0.isNumber) }) { pool += 33 }
        if characters.contains(where: { $0.isLetter && !$0.isLowercase && !$0.isUppercase }) { pool += 26 }

        let bits = effectiveLength(characters) * log2(Double(max(pool, 2)))
        var score: Int
        switch bits {
        case ..<25: score = 0
        case ..<40: score = 1
        case ..<55: score = 2
        case ..<70: score = 3
        default: score = characters.count >= 12 ? 4 : 3
        }
        if isCommon(password) { score = min(score, 1) }
        return score
    }

    /// The length with predictable characters discounted: a repeat or the next step of a run counts a quarter.
    private static func effectiveLength(_ characters: [Character]) -> Double {
        let lowered = characters.map { Character($0.lowercased()) }
        // A block repeated (abcabc, passpass, 123123) is worth little more than the block.
        let count = lowered.count
        for period in 1...max(1, count / 2) where count % period == 0 && period < count {
            let block = Array(lowered[0..<period])
            if stride(from: 0, to: count, by: period).allSatisfy({ Array(lowered[$0..<$0 + period]) == block }) {
                return effectiveLength(Array(characters[0..<period])) + 1
            }
        }
        var total = 0.0
        for (index, character) in lowered.enumerated() {
            guard index > 0 else { total += 1; continue }
            let previous = lowered[index - 1]
            if character == previous || follows(previous, character) {
                total += 0.25
            } else {
                total += 1
            }
        }
        return total
    }

    private static let keyboardRows = ["qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890", "qwertzuiop", "azertyuiop"]

    /// Whether `next` continues a run from `previous`: alphabet or digit order (either way) or a keyboard row.
    private static func follows(_ previous: Character, _ next: Character) -> Bool {
        if let a = previous.asciiValue, let b = next.asciiValue, previous.isLetter == next.isLetter,
           previous.isLetter || previous.isNumber, next.isLetter || next.isNumber, abs(Int(a) - Int(b)) == 1 {
            return true
        }
        let pair = String([previous, next]), reversed = String([next, previous])
        return keyboardRows.contains { $0.contains(pair) || $0.contains(reversed) }
    }

    /// The passwords people pick first, in Italy and elsewhere (lower case, accents folded).
    public static let commonPasswords: Set<String> = [
        "password", "password1", "password123", "passw0rd", "pass", "pass1234", "parola", "parolachiave", "segreto",
        "123456", "1234567", "12345678", "123456789", "1234567890", "12345", "1234", "111111", "000000", "123123",
        "654321", "987654321", "666666", "121212", "112233", "11111111", "00000000", "123321",
        "qwerty", "qwerty123", "qwertyuiop", "qwertz", "azerty", "asdfgh", "asdfghjkl", "zxcvbnm", "qazwsx",
        "1q2w3e", "1q2w3e4r", "1qaz2wsx", "abc123", "abcd1234", "a1b2c3", "letmein", "welcome", "benvenuto",
        "admin", "admin123", "administrator", "amministratore", "root", "changeme", "cambiami", "login", "accesso",
        "iloveyou", "tiamo", "tiamo123", "amore", "amoremio", "amore123", "ciao", "ciao123", "ciao1234", "ciaociao",
        "ciaone", "monkey", "dragon", "master", "superman", "batman", "starwars", "trustno1", "sunshine", "princess",
        "football", "baseball", "calcio", "pallone", "juventus", "juve", "forzajuve", "finoallafine", "inter",
        "forzainter", "milan", "forzamilan", "acmilan", "napoli", "forzanapoli", "roma", "forzaroma", "asroma",
        "lazio", "forzalazio", "fiorentina", "forzaviola", "torino", "genoa", "sampdoria", "italia", "forzaitalia",
        "francesca", "francesco", "giuseppe", "antonio", "alessandro", "alessandra", "andrea", "giovanni", "roberto",
        "valentina", "chiara", "martina", "federica", "simone", "stefano", "marco", "luca", "matteo", "giulia",
        "sara", "paola", "mamma", "papa", "famiglia", "bambino", "stella", "sole", "luna", "estate", "gattino",
        "cagnolino", "pizza", "vacanze", "qwertyui", "asdasd", "asdf1234",
    ]

    /// Whether the password is a common one, also disguised with leading or trailing digits and symbols,
    /// upper-case letters or digit-for-letter swaps (`Juventus1897!`, `P4ssw0rd`).
    public static func isCommon(_ password: String) -> Bool {
        let folded = FlowText.folded(password)
        let core = letterCore(folded)
        let candidates = [folded, unleet(folded), core, unleet(core), letterCore(unleet(folded))]
        if candidates.contains(where: { $0.count >= 3 && commonPasswords.contains($0) }) { return true }
        // Only digits, or only one character repeated.
        if folded.allSatisfy({ $0.isASCII && $0.isNumber }) && folded.count <= 12 { return true }
        return Set(folded).count <= 2
    }

    /// The text between its leading and trailing non-letters: `2024juventus1897!` → `juventus`.
    private static func letterCore(_ s: String) -> String {
        String(s.drop { !$0.isLetter }.reversed().drop { !$0.isLetter }.reversed())
    }

    private static func unleet(_ s: String) -> String {
        String(s.map { leet[$0] ?? $0 })
    }

    private static let leet: [Character: Character] = [
        "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i",
    ]

    // MARK: Personal data

    /// Whether the password contains (case- and accent-insensitively) any piece of personal data of three or more
    /// characters: a whole value, each word of a value, the local part of an e-mail address and its pieces.
    static func containsPersonalData(_ password: String, _ personalData: [String]) -> Bool {
        let haystacks = [FlowText.folded(password), FlowText.nameKey(password)]
        for token in personalDataTokens(personalData) where token.count >= personalDataMinLength {
            if haystacks.contains(where: { $0.contains(token) }) { return true }
        }
        return false
    }

    static func personalDataTokens(_ values: [String]) -> Set<String> {
        var tokens = Set<String>()
        for value in values {
            var text = FlowText.folded(FlowText.trimmed(value))
            if let at = text.firstIndex(of: "@") { text = String(text[..<at]) }
            guard !text.isEmpty else { continue }
            tokens.insert(text)
            tokens.insert(String(text.filter { $0.isLetter || $0.isNumber }))
            for piece in text.split(whereSeparator: { !($0.isLetter || $0.isNumber) }) {
                tokens.insert(String(piece))
            }
        }
        return tokens
    }

    // MARK: Texts

    static let strengthLabels: [LocalizedText] = [
        FlowText.text("Molto debole", "Very weak"),
        FlowText.text("Debole", "Weak"),
        FlowText.text("Discreta", "Fair"),
        FlowText.text("Forte", "Strong"),
        FlowText.text("Molto forte", "Very strong"),
    ]

    private static func minLengthLabel(_ minimum: Int) -> LocalizedText {
        minimum == 1
            ? FlowText.text("Almeno 1 carattere", "At least 1 character")
            : FlowText.text("Almeno \(minimum) caratteri", "At least \(minimum) characters")
    }

    private static func classLabel(_ requirement: PasswordRequirement) -> LocalizedText {
        switch requirement {
        case .lowercase: FlowText.text("Almeno una lettera minuscola", "At least one lower-case letter")
        case .uppercase: FlowText.text("Almeno una lettera maiuscola", "At least one upper-case letter")
        case .letter: FlowText.text("Almeno una lettera", "At least one letter")
        case .digit: FlowText.text("Almeno un numero", "At least one digit")
        case .symbol: FlowText.text("Almeno un carattere speciale (ad esempio ! ? # @ -)",
                                    "At least one special character (for example ! ? # @ -)")
        }
    }

    private static func missingClassProblem(_ requirement: PasswordRequirement) -> FieldProblem {
        switch requirement {
        case .lowercase:
            FieldProblem(field: "password", code: "missing_lowercase",
                         it: "Aggiungi almeno una lettera minuscola.", en: "Please add at least one lower-case letter.")
        case .uppercase:
            FieldProblem(field: "password", code: "missing_uppercase",
                         it: "Aggiungi almeno una lettera maiuscola.", en: "Please add at least one upper-case letter.")
        case .letter:
            FieldProblem(field: "password", code: "missing_letter",
                         it: "Aggiungi almeno una lettera.", en: "Please add at least one letter.")
        case .digit:
            FieldProblem(field: "password", code: "missing_digit",
                         it: "Aggiungi almeno un numero.", en: "Please add at least one digit.")
        case .symbol:
            FieldProblem(field: "password", code: "missing_symbol",
                         it: "Aggiungi almeno un carattere speciale, ad esempio ! ? # @ oppure -.",
                         en: "Please add at least one special character, for example ! ? # @ or -.")
        }
    }

    /// Whether one character counts for a character class: digits are `0`…`9`, letters any alphabet
    /// (accented letters included), symbols anything else (spaces and punctuation).
    static func character(_ c: Character, satisfies requirement: PasswordRequirement) -> Bool {
        switch requirement {
        case .lowercase: c.isLowercase
        case .uppercase: c.isUppercase
        case .letter: c.isLetter
        case .digit: c.isASCII && c.isNumber
        case .symbol: !c.isLetter && !(c.isASCII && c.isNumber)
        }
    }
}
