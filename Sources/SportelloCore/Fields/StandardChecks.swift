import Foundation

extension FieldChecks {
    /// The checks the platform ships: Italian identifiers, bank and device numbers, contacts and plates.
    public static let standard = FieldChecks([
        .taxCode, .personalTaxCode, .vatNumber, .iban, .luhn, .imei, .email, .pec, .italianPhone, .italianMobile,
        .italianPlate, .postalCode, .province, .recipientCode,
    ])
}

extension FieldCheck {
    private static func text(_ it: String, _ en: String) -> LocalizedText { LocalizedText(translations: ["it": it, "en": en]) }

    /// Without whitespace, in capitals.
    private static let compactUpper: @Sendable (String) -> String = { $0.uppercased().filter { !$0.isWhitespace } }

    /// Codice fiscale of a person (16 characters) or of a company or body (11 digits).
    public static let taxCode = FieldCheck(
        name: "tax_code",
        summary: "Codice fiscale: 16 characters for a person (check character and omocodia verified) or 11 digits for a company or body; stored in capitals without spaces.",
        aliases: ["codice_fiscale", "cf", "fiscal_code", "taxcode"],
        normalize: compactUpper,
        message: text("«{label}» non è un codice fiscale valido: controlla di averlo copiato correttamente, carattere finale compreso.",
                      "“{label}” is not a valid tax code (codice fiscale): please check you copied it correctly, last character included."),
        generate: { random in personTaxCode(&random) },
        accepts: { $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } && ItalianIdentifiers.isValidCodiceFiscale($0) })

    /// Codice fiscale of a person only (16 characters).
    public static let personalTaxCode = FieldCheck(
        name: "personal_tax_code",
        summary: "Codice fiscale of a person: 16 characters, check character and omocodia verified; stored in capitals without spaces.",
        aliases: ["codice_fiscale_persona", "person_tax_code"],
        normalize: compactUpper,
        message: text("«{label}» non è un codice fiscale valido: sono 16 caratteri, lettere e cifre, come sulla tessera sanitaria.",
                      "“{label}” is not a valid personal tax code: it has 16 letters and digits, as on the health card."),
        generate: { random in personTaxCode(&random) },
        accepts: { $0.count == 16 && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } && ItalianIdentifiers.isValidCodiceFiscale($0) })

    /// Partita IVA: 11 digits with the check digit.
    public static let vatNumber = FieldCheck(
        name: "vat_number",
        summary: "Partita IVA: 11 digits, the last a check digit; an `IT` prefix, spaces and dots are dropped.",
        aliases: ["partita_iva", "piva", "p_iva", "vat", "partitaiva"],
        normalize: { value in
            let clean = value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == " " || $0 == ".") }
            return clean ? FlowText.vatDigits(value) : value
        },
        message: text("«{label}» non è una partita IVA valida: sono 11 cifre, controlla l'ultima.",
                      "“{label}” is not a valid VAT number (partita IVA): it has 11 digits, please check the last one."),
        generate: { random in
            ItalianIdentifiers.makePartitaIVA(serial: Int.random(in: 0..<10_000_000, using: &random), officeCode: Int.random(in: 1...100, using: &random))
        },
        accepts: { $0.count == 11 && ItalianIdentifiers.isValidPartitaIVA($0) })

    /// IBAN with its mod-97 check (and the CIN of Italian ones).
    public static let iban = FieldCheck(
        name: "iban",
        summary: "IBAN (ISO 13616, mod-97 check digits; an Italian IBAN also has 27 characters and a correct CIN); stored in capitals without spaces.",
        aliases: ["bank_account", "conto"],
        normalize: compactUpper,
        message: text("«{label}» non è un IBAN valido: controlla di averlo copiato per intero, senza scambiare lettere e cifre.",
                      "“{label}” is not a valid IBAN: please check you copied all of it, without swapping letters and digits."),
        generate: { random in
            ItalianIdentifiers.makeItalianIBAN(abi: ItalianDemoData.banks.randomElement(using: &random)!.abi,
                                               cab: digits(5, &random), account: digits(12, &random))
        },
        accepts: { $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } && ItalianIdentifiers.isValidIBAN($0) })

    /// Digits passing the Luhn (mod 10) check.
    public static let luhn = FieldCheck(
        name: "luhn",
        summary: "Digits whose last is a Luhn (mod 10) check digit, as in payment cards and many customer codes; spaces and hyphens are dropped.",
        aliases: ["mod10", "card_number"],
        normalize: { $0.filter { !$0.isWhitespace && $0 != "-" } },
        message: text("«{label}» non è valido: controlla le cifre, l'ultima è di controllo.",
                      "“{label}” is not valid: please check the digits, the last one is a check digit."),
        generate: { random in CheckDigits.appendingLuhnDigit(digits(15, &random)) },
        accepts: { CheckDigits.isValidLuhn($0) })

    /// IMEI: 15 digits with the Luhn check digit.
    public static let imei = FieldCheck(
        name: "imei",
        summary: "IMEI of a phone: 15 digits, the last a Luhn check digit; spaces and hyphens are dropped.",
        normalize: { $0.filter { !$0.isWhitespace && $0 != "-" } },
        message: text("«{label}» non è un IMEI valido: sono 15 cifre (digita *#06# sul telefono per vederlo).",
                      "“{label}” is not a valid IMEI: it has 15 digits (dial *#06# on the phone to see it)."),
        generate: { random in CheckDigits.appendingLuhnDigit("35" + digits(12, &random)) },
        accepts: { CheckDigits.isValidIMEI($0) })

    /// A plausible e-mail address.
    public static let email = FieldCheck(
        name: "email",
        summary: "E-mail address (one `@`, a dotted domain, at most 254 characters); stored in lower case.",
        types: [.text, .email],
        aliases: ["e_mail", "mail"],
        normalize: { ItalianIdentifiers.normalizedEmail($0) ?? $0 },
        message: text("«{label}» non sembra un indirizzo e-mail valido: controlla che abbia la forma nome@dominio.it.",
                      "“{label}” does not look like a valid e-mail address: please check it looks like name@domain.com."),
        generate: { random in "\(personSlug(&random))@mail.example" },
        accepts: { ItalianIdentifiers.normalizedEmail($0) == $0 })

    /// A PEC (certified e-mail) address.
    public static let pec = FieldCheck(
        name: "pec",
        summary: "PEC (posta elettronica certificata) address: an e-mail address, stored in lower case.",
        types: [.text, .email],
        aliases: ["certified_email", "posta_certificata"],
        normalize: { ItalianIdentifiers.normalizedEmail($0) ?? $0 },
        message: text("«{label}» non sembra un indirizzo PEC valido: deve avere la forma nome@dominio.it.",
                      "“{label}” does not look like a valid PEC address: it should look like name@domain.it."),
        generate: { random in "\(personSlug(&random))@pec.example" },
        accepts: { ItalianIdentifiers.normalizedEmail($0) == $0 })

    /// An Italian landline or mobile number.
    public static let italianPhone = FieldCheck(
        name: "italian_phone",
        summary: "Italian landline (0…) or mobile (3…) number, `+39`/`0039` optional; stored as digits without the prefix.",
        types: [.text, .phone],
        aliases: ["phone", "telefono", "it_phone"],
        normalize: { ItalianIdentifiers.italianPhoneDigits($0) ?? $0 },
        message: text("«{label}» non sembra un numero di telefono italiano valido: inserisci un fisso o un cellulare, con il prefisso.",
                      "“{label}” does not look like a valid Italian phone number: please enter a landline or mobile number, with its area code."),
        generate: { random in Bool.random(using: &random) ? mobileNumber(&random) : "0" + ["2", "6", "11", "51", "55", "81"].randomElement(using: &random)! + digits(7, &random) },
        accepts: { ItalianIdentifiers.italianPhoneDigits($0) == $0 })

    /// An Italian mobile number.
    public static let italianMobile = FieldCheck(
        name: "italian_mobile",
        summary: "Italian mobile number (3…, 9 or 10 digits), `+39`/`0039` optional; stored as digits without the prefix.",
        types: [.text, .phone],
        aliases: ["mobile", "cellulare", "it_mobile"],
        normalize: { ItalianIdentifiers.italianPhoneDigits($0, mobileOnly: true) ?? $0 },
        message: text("«{label}» non sembra un cellulare italiano valido: ad esempio 333 1234567.",
                      "“{label}” does not look like a valid Italian mobile number: for example 333 1234567."),
        generate: { random in mobileNumber(&random) },
        accepts: { ItalianIdentifiers.italianPhoneDigits($0, mobileOnly: true) == $0 })

    /// An Italian car plate (AA000AA).
    public static let italianPlate = FieldCheck(
        name: "italian_plate",
        summary: "Italian car plate in use since 1994: two letters, three digits, two letters (`AB123CD`), never I, O, Q or U; stored in capitals without spaces or hyphens.",
        aliases: ["plate", "targa", "license_plate", "number_plate"],
        normalize: { $0.uppercased().filter { !$0.isWhitespace && $0 != "-" } },
        message: text("«{label}» non è una targa valida: due lettere, tre cifre, due lettere, ad esempio AB123CD.",
                      "“{label}” is not a valid number plate: two letters, three digits, two letters, for example AB123CD."),
        generate: { random in
            let letter = { (random: inout SplitMix64) in String(ItalianIdentifiers.plateLetters.randomElement(using: &random)!) }
            return letter(&random) + letter(&random) + digits(3, &random) + letter(&random) + letter(&random)
        },
        accepts: { ItalianIdentifiers.isValidItalianPlate($0) && $0.count == 7 })

    /// An Italian postcode (CAP).
    public static let postalCode = FieldCheck(
        name: "postal_code",
        summary: "Italian postcode (CAP): five digits in the assigned range 00010–98168.",
        aliases: ["cap", "zip", "zip_code", "postcode"],
        normalize: { $0.filter { !$0.isWhitespace } },
        message: text("«{label}» non è un CAP valido: sono 5 cifre, ad esempio 20121.",
                      "“{label}” is not a valid postcode (CAP): it has 5 digits, for example 20121."),
        generate: { random in ItalianDemoData.municipalities.randomElement(using: &random)!.postalCode },
        accepts: { ItalianIdentifiers.isValidItalianPostalCode($0) })

    /// An Italian province abbreviation.
    public static let province = FieldCheck(
        name: "province",
        summary: "Italian province abbreviation (sigla): two letters such as MI or RM; stored in capitals.",
        aliases: ["provincia", "sigla"],
        normalize: { $0.uppercased() },
        message: text("«{label}»: indica la provincia con la sigla di due lettere, ad esempio MI o RM.",
                      "“{label}”: please give the province as its two-letter code, for example MI or RM."),
        generate: { random in ItalianDemoData.municipalities.randomElement(using: &random)!.province },
        accepts: { ItalianIdentifiers.isValidProvinceCode($0) && $0 == $0.uppercased() })

    /// A codice destinatario (SDI) for electronic invoices.
    public static let recipientCode = FieldCheck(
        name: "recipient_code",
        summary: "Codice destinatario (SDI) for electronic invoices: 7 letters or digits; stored in capitals without spaces. (A public administration's 6-character office code needs a pattern.)",
        aliases: ["codice_destinatario", "sdi", "sdi_code"],
        normalize: compactUpper,
        message: text("«{label}» non è un codice destinatario valido: sono 7 caratteri, solo lettere e cifre (ad esempio M5UXCR1).",
                      "“{label}” is not a valid recipient code: it has 7 characters, letters and digits only (for example M5UXCR1)."),
        generate: { random in
            String((0..<7).map { _ in Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789").randomElement(using: &random)! })
        },
        accepts: { ItalianIdentifiers.isValidRecipientCode($0) })

    // MARK: Demo values

    private static func digits(_ count: Int, _ random: inout SplitMix64) -> String {
        String((0..<count).map { _ in Character(String(Int.random(in: 0...9, using: &random))) })
    }

    private static func mobileNumber(_ random: inout SplitMix64) -> String {
        "3" + ["33", "35", "38", "40", "47", "49", "20", "92"].randomElement(using: &random)! + digits(7, &random)
    }

    /// `nome.cognome` of a random Italian person, without accents or spaces.
    private static func personSlug(_ random: inout SplitMix64) -> String {
        let first = (ItalianDemoData.maleFirstNames + ItalianDemoData.femaleFirstNames).randomElement(using: &random)!
        let last = ItalianDemoData.surnames.randomElement(using: &random)!
        return "\(FlowText.nameKey(first)).\(FlowText.nameKey(last))\(Int.random(in: 1...99, using: &random))"
    }

    private static func personTaxCode(_ random: inout SplitMix64) -> String {
        let female = Bool.random(using: &random)
        let first = (female ? ItalianDemoData.femaleFirstNames : ItalianDemoData.maleFirstNames).randomElement(using: &random)!
        return ItalianIdentifiers.makeCodiceFiscale(
            lastName: ItalianDemoData.surnames.randomElement(using: &random)!, firstName: first,
            birthDate: (Int.random(in: 1940...2005, using: &random), Int.random(in: 1...12, using: &random), Int.random(in: 1...28, using: &random)),
            female: female, placeCode: ItalianDemoData.municipalities.randomElement(using: &random)!.cadastralCode)
    }
}

/// Check-digit algorithms shared by the named checks and the request forms.
public enum CheckDigits {
    /// Whether `digits` (at least two, ASCII) end with their Luhn (mod 10) check digit.
    public static func isValidLuhn(_ digits: String) -> Bool {
        guard digits.count >= 2, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
        return luhnSum(digits, doublingFirst: false) % 10 == 0
    }

    /// `digits` followed by the Luhn check digit that makes them valid.
    public static func appendingLuhnDigit(_ digits: String) -> String {
        digits + String((10 - luhnSum(digits, doublingFirst: true) % 10) % 10)
    }

    /// Whether `s` is an IMEI: 15 digits with the Luhn check digit (spaces and hyphens ignored).
    public static func isValidIMEI(_ s: String) -> Bool {
        let digits = s.filter { !$0.isWhitespace && $0 != "-" }
        return digits.count == 15 && isValidLuhn(digits)
    }

    /// The Luhn sum from the right, doubling every second digit (the rightmost too when `doublingFirst`).
    private static func luhnSum(_ digits: String, doublingFirst: Bool) -> Int {
        var sum = 0
        for (index, character) in digits.reversed().enumerated() {
            guard var value = character.wholeNumberValue else { continue }
            if (index % 2 == 0) == doublingFirst {
                value *= 2
                if value > 9 { value -= 9 }
            }
            sum += value
        }
        return sum
    }
}
