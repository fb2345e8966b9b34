import Foundation

/// The security question and answer a user chooses for password recovery (Unogas).
public enum SecurityAnswer {
    /// The shortest and longest question accepted, in characters.
    public static let questionLength = 5...120
    /// The shortest and longest answer accepted, in characters after `normalise`.
    public static let answerLength = 2...100

    /// The form of an answer that gets hashed and compared: trimmed, runs of spaces collapsed, lower-cased, accents
    /// and typographic apostrophes folded, so `"  Roma "`, `"roma"` and `"RÓMA"` are the same answer.
    public static func normalise(_ answer: String) -> String {
        let apostrophes = answer.map { "’‘`´ʼ".contains($0) ? "'" : $0 }
        return FlowText.collapsed(FlowText.folded(String(apostrophes)))
    }

    /// Problems with a chosen question (field `security_question`), answer (`security_answer`) and its repetition
    /// (`security_answer_confirmation`, code `mismatch` when it differs after normalising).
    public static func validate(question: String, answer: String, confirmation: String) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        let questionText = FlowText.collapsed(question)
        if questionText.isEmpty {
            problems.append(FieldProblem(field: "security_question", code: "required",
                                         it: "Scrivi una domanda di sicurezza.", en: "Please write a security question."))
        } else if questionText.count < questionLength.lowerBound {
            problems.append(FieldProblem(
                field: "security_question", code: "too_short",
                it: "La domanda è troppo corta: usa almeno \(questionLength.lowerBound) caratteri.",
                en: "The question is too short: use at least \(questionLength.lowerBound) characters."))
        } else if questionText.count > questionLength.upperBound {
            problems.append(FieldProblem(
                field: "security_question", code: "too_long",
                it: "La domanda è troppo lunga: usa al massimo \(questionLength.upperBound) caratteri.",
                en: "The question is too long: use at most \(questionLength.upperBound) characters."))
        }

        let normalisedAnswer = normalise(answer)
        if normalisedAnswer.isEmpty {
            problems.append(FieldProblem(field: "security_answer", code: "required",
                                         it: "Scrivi la risposta alla domanda.", en: "Please write the answer to the question."))
        } else if normalisedAnswer.count < answerLength.lowerBound {
            problems.append(FieldProblem(
                field: "security_answer", code: "too_short",
                it: "La risposta è troppo corta: usa almeno \(answerLength.lowerBound) caratteri.",
                en: "The answer is too short: use at least \(answerLength.lowerBound) characters."))
        } else if normalisedAnswer.count > answerLength.upperBound {
            problems.append(FieldProblem(
                field: "security_answer", code: "too_long",
                it: "La risposta è troppo lunga: usa al massimo \(answerLength.upperBound) caratteri.",
                en: "The answer is too long: use at most \(answerLength.upperBound) characters."))
        } else if normalise(questionText).contains(normalisedAnswer), normalisedAnswer.count >= 3 {
            problems.append(FieldProblem(
                field: "security_answer", code: "answer_in_question",
                it: "La risposta non deve comparire nella domanda: chiunque potrebbe leggerla.",
                en: "The answer must not appear in the question: anyone could read it there."))
        }

        if !normalisedAnswer.isEmpty {
            if normalise(confirmation).isEmpty {
                problems.append(FieldProblem(field: "security_answer_confirmation", code: "required",
                                             it: "Ripeti la risposta per conferma.", en: "Please repeat the answer to confirm it."))
            } else if normalise(confirmation) != normalisedAnswer {
                problems.append(FieldProblem(field: "security_answer_confirmation", code: "mismatch",
                                             it: "Le due risposte non coincidono: riscrivile con attenzione.",
                                             en: "The two answers do not match: please type them again carefully."))
            }
        }
        return problems
    }
}

/// The questions a user picks from at registration. Recovery shows an unknown identifier a question drawn
/// from the same list (chosen by a keyed hash of the identifier, so it never changes), which makes a real
/// account's page and a missing one's indistinguishable.
public enum SecurityQuestions {
    public static let italian = [
        "Qual è il nome del tuo primo animale domestico?",
        "In che città sono nati i tuoi genitori?",
        "Qual è il tuo piatto preferito?",
        "Come si chiamava la tua scuola elementare?",
        "Qual è il secondo nome di tuo padre?",
        "In che via abitavi da bambino?",
        "Qual era la marca della tua prima auto?",
        "Come si chiamava il tuo migliore amico d'infanzia?",
    ]
    public static let english = [
        "What was the name of your first pet?",
        "In which city were your parents born?",
        "What is your favourite dish?",
        "What was the name of your primary school?",
        "What is your father's middle name?",
        "On which street did you live as a child?",
        "What was the make of your first car?",
        "What was the name of your best childhood friend?",
    ]

    /// The questions offered in `locale` (Italian for any locale but English).
    public static func suggested(_ locale: String) -> [String] { locale.hasPrefix("en") ? english : italian }

    /// Whether `question` is one of the offered questions, in any locale.
    public static func isOffered(_ question: String) -> Bool {
        let text = FlowText.collapsed(question)
        return italian.contains(text) || english.contains(text)
    }

    /// The decoy for an unknown identifier: `digest` is a keyed hash of it (hex), so the choice is stable
    /// and cannot be predicted without the key.
    public static func decoy(digest: String, locale: String) -> String {
        let list = suggested(locale)
        let value = digest.prefix(8).reduce(0) { $0 &* 16 &+ (Int(String($1), radix: 16) ?? 0) }
        return list[value % list.count]
    }
}
