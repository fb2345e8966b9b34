import Foundation

/// Validation and generation of Italian identifiers: codice fiscale, partita IVA, IBAN, CAP, province,
/// codice destinatario and car plates, plus plausibility checks for e-mail addresses and Italian phone numbers.
public enum ItalianIdentifiers {

    // MARK: - Codice fiscale

    private static let monthLetters: [UInt8] = Array("ABCDEHLMPRST".utf8)
    /// Letters that replace the digits 0…9 in an omocode.
    private static let omocodiaLetters: [UInt8] = Array("LMNPQRSTUV".utf8)
    /// Positions of a personal codice fiscale that hold digits (or their omocodia letters).
    private static let numericPositions: Set<Int> = [6, 7, 9, 10, 12, 13, 14]
    /// Values of characters in odd (1-based) positions, indexed by `A…Z` (digits share `A…J`).
    private static let oddValues: [Int] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
    ]
    private static let daysInMonth = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

    /// Whether `s` is a valid codice fiscale: either the 16-character personal code (omocodes
    /// included, check character verified) or the 11-digit numeric code of a company or body.
    /// Case-insensitive; surrounding whitespace is ignored.
    public static func isValidCodiceFiscale(_ s: String) -> Bool {
        let code = normalized(s)
        let bytes = Array(code.utf8)
        if bytes.count == 11 { return isValidPartitaIVA(code) }
        guard bytes.count == 16 else { return false }

        var decoded = [Int](repeating: 0, count: 16)
        for (i, c) in bytes.enumerated() {
            if numericPositions.contains(i) {
                if isDigit(c) {
                    decoded[i] = Int(c - 48)
                } else if let digit = omocodiaLetters.firstIndex(of: c) {
                    decoded[i] = digit
                } else {
                    return false
                }
            } else if !isLetter(c) {
                return false
            }
        }
        guard let month = monthLetters.firstIndex(of: bytes[8]) else { return false }
        var day = decoded[9] * 10 + decoded[10]
        if day > 40 { day -= 40 }
        guard day >= 1, day <= daysInMonth[month] else { return false }

        guard let check = checkCharacter(bytes[0..<15]) else { return false }
        return check == bytes[15]
    }

    /// The check character of a personal codice fiscale from its first 15 characters
    /// (case-insensitive), or nil if they are not 15 letters or digits.
    public static func codiceFiscaleCheckCharacter(_ first15: String) -> Character? {
        let bytes = Array(normalized(first15).utf8)
        guard bytes.count == 15, let check = checkCharacter(bytes[...]) else { return nil }
        return Character(Unicode.Scalar(check))
    }

    /// Builds the personal codice fiscale with the official algorithm. `placeCode` is the
    /// cadastral (Belfiore) code of the birthplace, e.g. `H501` for Roma or `Z404` for the USA.
    /// Out-of-range inputs (month outside 1…12, a malformed place code) give a code that
    /// `isValidCodiceFiscale` rejects.
    public static func makeCodiceFiscale(
        lastName: String, firstName: String, birthDate: (year: Int, month: Int, day: Int),
        female: Bool, placeCode: String
    ) -> String {
        let surname = nameLetters(lastName)
        let given = nameLetters(firstName)
        let surnamePart = threeLetters(surname.consonants + surname.vowels)
        let givenPart: String
        if given.consonants.count >= 4 {
            let c = given.consonants
            givenPart = String([c[0], c[2], c[3]])
        } else {
            givenPart = threeLetters(given.consonants + given.vowels)
        }
        let year = zeroPadded(((birthDate.year % 100) + 100) % 100, width: 2)
        let month = (1...12).contains(birthDate.month)
            ? String(Character(Unicode.Scalar(monthLetters[birthDate.month - 1]))) : "X"
        let day = zeroPadded((birthDate.day + (female ? 40 : 0)) % 100, width: 2)
        var place = String(normalized(placeCode).filter { $0.isASCII && ($0.isLetter || $0.isNumber) }.prefix(4))
        place += String(repeating: "0", count: 4 - place.count)
        let first15 = surnamePart + givenPart + year + month + day + place
        return first15 + String(codiceFiscaleCheckCharacter(first15) ?? "X")
    }

    private static func checkCharacter(_ bytes: ArraySlice<UInt8>) -> UInt8? {
        var sum = 0
        for (offset, c) in bytes.enumerated() {
            guard let value = alphanumericValue(c) else { return nil }
            sum += offset % 2 == 0 ? oddValues[value] : value
        }
        return UInt8(65 + sum % 26)
    }

    private static func nameLetters(_ name: String) -> (consonants: [Character], vowels: [Character]) {
        let folded = name.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil).uppercased()
        var consonants: [Character] = []
        var vowels: [Character] = []
        for c in folded where c.isASCII && c.isLetter {
            if "AEIOU".contains(c) { vowels.append(c) } else { consonants.append(c) }
        }
        return (consonants, vowels)
    }

    private static func threeLetters(_ letters: [Character]) -> String {
        String((letters + ["X", "X", "X"]).prefix(3))
    }

    // MARK: - Partita IVA

    /// Whether `s` is a valid partita IVA: 11 digits whose last is the check digit, optionally
    /// prefixed by `IT`. Surrounding whitespace is ignored; the all-zero number is rejected.
    public static func isValidPartitaIVA(_ s: String) -> Bool {
        var code = normalized(s)
        if code.hasPrefix("IT") { code.removeFirst(2) }
        let digits = Array(code.utf8)
        guard digits.count == 11, digits.allSatisfy(isDigit), digits.contains(where: { $0 != 48 }),
              let check = partitaIVACheckDigit(String(code.prefix(10)))
        else { return false }
        return check == Int(digits[10] - 48)
    }

    /// The check digit of a partita IVA (or numeric codice fiscale) from its first 10 digits.
    public static func partitaIVACheckDigit(_ first10: String) -> Int? {
        let digits = Array(first10.utf8)
        guard digits.count == 10, digits.allSatisfy(isDigit) else { return nil }
        var sum = 0
        for (i, c) in digits.enumerated() {
            let d = Int(c - 48)
            if i % 2 == 0 {
                sum += d
            } else {
                sum += d * 2 > 9 ? d * 2 - 9 : d * 2
            }
        }
        return (10 - sum % 10) % 10
    }

    /// Builds a partita IVA from a 7-digit serial and a 3-digit provincial office code
    /// (001…100, or 120, 121, 888, 999). Values are reduced modulo 10⁷ and 10³.
    public static func makePartitaIVA(serial: Int, officeCode: Int) -> String {
        let first10 = zeroPadded(((serial % 10_000_000) + 10_000_000) % 10_000_000, width: 7)
            + zeroPadded(((officeCode % 1000) + 1000) % 1000, width: 3)
        return first10 + String(partitaIVACheckDigit(first10) ?? 0)
    }

    // MARK: - IBAN

    /// Whether `s` is a valid IBAN (ISO 13616, mod-97 check). Spaces are ignored and letters may
    /// be lowercase. Italian IBANs must also be 27 characters with a correct CIN.
    public static func isValidIBAN(_ s: String) -> Bool {
        let bytes = Array(normalized(s).utf8).filter { $0 != 32 }
        guard (15...34).contains(bytes.count),
              isLetter(bytes[0]), isLetter(bytes[1]), isDigit(bytes[2]), isDigit(bytes[3]),
              bytes.allSatisfy({ isDigit($0) || isLetter($0) })
        else { return false }
        if bytes[0] == 73, bytes[1] == 84 {  // "IT"
            guard bytes.count == 27, isLetter(bytes[4]), bytes[5..<15].allSatisfy(isDigit),
                  checkCharacter(bytes[5...]) == bytes[4]
            else { return false }
        }
        return mod97(bytes[4...] + bytes[0..<4]) == 1
    }

    /// The CIN (check letter of an Italian BBAN) for a 5-digit ABI, 5-digit CAB and
    /// 12-character account number, or nil if they are malformed.
    public static func italianCIN(abi: String, cab: String, account: String) -> Character? {
        let abiBytes = Array(abi.utf8), cabBytes = Array(cab.utf8)
        let accountBytes = Array(normalized(account).utf8)
        guard abiBytes.count == 5, cabBytes.count == 5, accountBytes.count == 12,
              (abiBytes + cabBytes).allSatisfy(isDigit),
              accountBytes.allSatisfy({ isDigit($0) || isLetter($0) }),
              let check = checkCharacter((abiBytes + cabBytes + accountBytes)[...])
        else { return nil }
        return Character(Unicode.Scalar(check))
    }

    /// Builds an Italian IBAN, computing the CIN and the two check digits. Non-alphanumerics are
    /// dropped and parts are left-padded with zeros (ABI and CAB to 5, account to 12); longer
    /// parts keep their rightmost characters.
    public static func makeItalianIBAN(abi: String, cab: String, account: String) -> String {
        let abi = fixedWidth(abi, 5), cab = fixedWidth(cab, 5), account = fixedWidth(account, 12)
        let cin = italianCIN(abi: abi, cab: cab, account: account) ?? "X"
        let bban = String(cin) + abi + cab + account
        let remainder = mod97(Array((bban + "IT00").utf8)[...])
        return "IT" + zeroPadded(98 - remainder, width: 2) + bban
    }

    private static func mod97(_ bytes: ArraySlice<UInt8>) -> Int {
        var remainder = 0
        for c in bytes {
            if isDigit(c) {
                remainder = (remainder * 10 + Int(c - 48)) % 97
            } else {
                remainder = (remainder * 100 + Int(c - 65) + 10) % 97
            }
        }
        return remainder
    }

    private static func fixedWidth(_ s: String, _ width: Int) -> String {
        let kept = normalized(s).filter { $0.isASCII && ($0.isLetter || $0.isNumber) }.suffix(width)
        return String(repeating: "0", count: width - kept.count) + kept
    }

    // MARK: - Postal code, e-mail, phone

    /// Whether `s` is an Italian CAP: five digits in the assigned range 00010…98168.
    public static func isValidItalianPostalCode(_ s: String) -> Bool {
        let code = s.trimmingCharacters(in: .whitespaces)
        guard code.utf8.count == 5, code.utf8.allSatisfy(isDigit), let value = Int(code) else { return false }
        return (10...98168).contains(value)
    }

    /// A light syntactic check of an e-mail address: one `@`, a sensible local part and a
    /// dotted domain ending in an alphabetic top-level domain.
    public static func isPlausibleEmail(_ s: String) -> Bool {
        let address = s.trimmingCharacters(in: .whitespaces)
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, let local = parts.first, let domain = parts.last,
              (1...64).contains(local.count), (4...253).contains(domain.count)
        else { return false }
        let localAllowed = Set("!#$%&'*+/=?^_`{|}~.-")
        guard local.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || localAllowed.contains($0)) }),
              local.first != ".", local.last != ".", !local.contains("..")
        else { return false }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, let tld = labels.last, tld.count >= 2,
              tld.allSatisfy({ $0.isASCII && $0.isLetter })
        else { return false }
        return labels.allSatisfy { label in
            (1...63).contains(label.count) && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }

    /// Whether `s` looks like an Italian phone number: a mobile (`3…`, 9–10 digits) or a landline
    /// (`0…`, 6–11 digits), optionally prefixed by `+39` or `0039`. Spaces, `-`, `.` and `/` are
    /// allowed as separators.
    public static func isPlausibleItalianPhone(_ s: String) -> Bool {
        var number = s.trimmingCharacters(in: .whitespaces).filter { !" -./".contains($0) }
        if number.hasPrefix("+39") {
            number.removeFirst(3)
        } else if number.hasPrefix("0039") {
            number.removeFirst(4)
        }
        guard number.utf8.allSatisfy(isDigit), let first = number.first else { return false }
        switch first {
        case "3": return (9...10).contains(number.count)
        case "0": return (6...11).contains(number.count)
        default: return false
        }
    }

    /// The digits of an Italian phone number (`+39`/`0039` dropped, separators removed) when it is plausible:
    /// digits, spaces and `+ - . / ( )` only, and a mobile (`3…`) or landline (`0…`) of the right length; with
    /// `mobileOnly`, a mobile number only. Nil otherwise.
    public static func italianPhoneDigits(_ s: String, mobileOnly: Bool = false) -> String? {
        let allowed = s.allSatisfy { $0.isASCII && ($0.isNumber || " +-./()".contains($0)) }
        let digits = FlowText.phoneDigits(s)
        guard allowed, isPlausibleItalianPhone(s.filter { $0 != "(" && $0 != ")" }), !mobileOnly || digits.hasPrefix("3") else {
            return nil
        }
        return digits
    }

    /// An e-mail address in lower case when it is plausible (no spaces, at most 254 characters); nil otherwise.
    public static func normalizedEmail(_ s: String) -> String? {
        let email = s.trimmingCharacters(in: .whitespaces).lowercased()
        guard !email.contains(" "), email.count <= 254, isPlausibleEmail(email) else { return nil }
        return email
    }

    // MARK: - Province, recipient code, plate

    /// Whether `s` is a province abbreviation (sigla): two ASCII letters, any case.
    public static func isValidProvinceCode(_ s: String) -> Bool {
        s.count == 2 && s.allSatisfy { $0.isASCII && $0.isLetter }
    }

    /// Whether `code` (capitals and digits, as `FlowText.alphanumericUpper` gives) is a codice destinatario for
    /// electronic invoices: 7 characters, or 6 for a public administration's office code when `publicBody`.
    public static func isValidRecipientCode(_ code: String, publicBody: Bool = false) -> Bool {
        let lengths: Set<Int> = publicBody ? [6, 7] : [7]
        return lengths.contains(code.count) && code.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
    }

    /// Letters of current Italian plates: the alphabet without I, O, Q and U.
    public static let plateLetters: [Character] = Array("ABCDEFGHJKLMNPRSTVWXYZ")

    /// Whether `s` is a car plate of the Italian format in use since 1994: two letters, three digits, two letters
    /// (`AB123CD`), none of them I, O, Q or U. Case-insensitive; spaces and hyphens are ignored.
    public static func isValidItalianPlate(_ s: String) -> Bool {
        let plate = Array(s.uppercased().filter { !$0.isWhitespace && $0 != "-" })
        guard plate.count == 7 else { return false }
        return plate.enumerated().allSatisfy { index, character in
            (2...4).contains(index) ? character.isASCII && character.isNumber : plateLetters.contains(character)
        }
    }

    // MARK: - Helpers

    private static func normalized(_ s: String) -> String {
        s.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
    }

    private static func isDigit(_ c: UInt8) -> Bool { (48...57).contains(c) }
    private static func isLetter(_ c: UInt8) -> Bool { (65...90).contains(c) }

    /// 0…9 for digits, 0…25 for uppercase ASCII letters.
    private static func alphanumericValue(_ c: UInt8) -> Int? {
        if isDigit(c) { return Int(c - 48) }
        if isLetter(c) { return Int(c - 65) }
        return nil
    }

    private static func zeroPadded(_ n: Int, width: Int) -> String {
        let digits = String(n)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
