"""Valid Italian identifiers for test customers (the same algorithms as
Sources/SportelloCore/Italian/ItalianIdentifiers.swift, which `sportello import` checks them against)."""
import unicodedata

MONTH_LETTERS = "ABCDEHLMPRST"
# Values of characters in odd (1-based) positions, indexed by A…Z (digits share A…J).
ODD_VALUES = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]


def _letters(name):
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()
    letters = [c for c in folded if c.isalpha()]
    return [c for c in letters if c not in "AEIOU"], [c for c in letters if c in "AEIOU"]


def _value(char):
    return int(char) if char.isdigit() else ord(char) - ord("A")


def check_character(first15):
    total = sum(ODD_VALUES[_value(c)] if index % 2 == 0 else _value(c) for index, c in enumerate(first15.upper()))
    return chr(ord("A") + total % 26)


def codice_fiscale(last_name, first_name, year, month, day, female, place_code):
    consonants, vowels = _letters(last_name)
    surname = "".join((consonants + vowels + ["X"] * 3)[:3])
    consonants, vowels = _letters(first_name)
    given = consonants[0] + consonants[2] + consonants[3] if len(consonants) >= 4 \
        else "".join((consonants + vowels + ["X"] * 3)[:3])
    first15 = "%s%s%02d%s%02d%s" % (surname, given, year % 100, MONTH_LETTERS[month - 1], day + (40 if female else 0),
                                    place_code.upper())
    return first15 + check_character(first15)


def partita_iva_check_digit(first10):
    total = 0
    for index, char in enumerate(first10):
        digit = int(char)
        total += digit if index % 2 == 0 else (digit * 2 - 9 if digit * 2 > 9 else digit * 2)
    return (10 - total % 10) % 10


def partita_iva(serial, office_code):
    first10 = "%07d%03d" % (serial % 10_000_000, office_code % 1000)
    return first10 + str(partita_iva_check_digit(first10))


def self_check():
    """The generators agree with identifiers published in examples/import (checked by the portal's own validator)."""
    assert codice_fiscale("Rossi", "Mario", 1985, 12, 10, False, "A562") == "RSSMRA85T10A562S"
    assert partita_iva_check_digit("0764352056") == 7
