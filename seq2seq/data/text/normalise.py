"""English text as it is spoken: numbers, money, ordinals, years and common abbreviations written out in words.

    normalise("Dr. Smith paid $3.50 on May 1st, 1865.")
    # 'Doctor Smith paid three dollars fifty cents on May first, eighteen sixty-five.'

What a synthesiser needs before the pronouncing dictionary (LJSpeech's metadata has a normalised column made the
same way; new text has not). Rules, in order: currency ($, £), percentages, ordinals (1st, 22nd), decades (1820s), years
(four digits from 1100 to 2099 read in pairs: "eighteen sixty-five", "two thousand five"), decimals ("three point one
four"), other numbers with or without thousands separators, then the abbreviations in `ABBREVIATIONS` and the
symbols in `SYMBOLS`. Accents are dropped and typographic apostrophes made plain first; punctuation and case are
kept (the phonemiser reads punctuation as pauses).
"""

from __future__ import annotations

import re
import unicodedata

ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen").split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))
ORDINAL_WORDS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                 "nine": "ninth", "twelve": "twelfth"}

# abbreviations with their full stop (case as written); LJSpeech's own list, and a few more
ABBREVIATIONS = {"Mr.": "Mister", "Mrs.": "Missus", "Dr.": "Doctor", "St.": "Saint", "Co.": "Company",
                 "Jr.": "Junior", "Sr.": "Senior", "Maj.": "Major", "Gen.": "General", "Drs.": "Doctors",
                 "Rev.": "Reverend", "Lt.": "Lieutenant", "Hon.": "Honorable", "Sgt.": "Sergeant",
                 "Capt.": "Captain", "Esq.": "Esquire", "Ltd.": "Limited", "Col.": "Colonel", "Ft.": "Fort",
                 "Prof.": "Professor", "No.": "Number", "vs.": "versus", "etc.": "et cetera", "e.g.": "for example",
                 "i.e.": "that is"}
SYMBOLS = {"&": " and ", "%": " percent ", "+": " plus ", "=": " equals ", "@": " at ", "#": " number "}

_ABBREVIATION = re.compile(r"(?<![\w.])(" + "|".join(re.escape(a) for a in ABBREVIATIONS) + r")(?!\w)")
_CURRENCY = re.compile(r"([$£])(\d[\d,]*)(?:\.(\d\d))?\b")
_PERCENT = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s?%")
_ORDINAL = re.compile(r"\b(\d[\d,]*)(st|nd|rd|th)\b", re.IGNORECASE)
_DECADE = re.compile(r"\b(1[1-9]\d0|20\d0)'?s\b")
_YEAR = re.compile(r"\b(1[1-9]\d\d|20\d\d)\b(?!,\d)")
_DECIMAL = re.compile(r"\b(\d+)\.(\d+)\b")
_NUMBER = re.compile(r"\b\d{1,3}(?:,\d{3})+\b|\b\d+\b")
_SPACES = re.compile(r"[ \t]+")
APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})   # typographic → ASCII


def plain_letters(text: str) -> str:
    """Accents dropped (café → cafe) and typographic apostrophes made ASCII (Caxton’s → Caxton's)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(APOSTROPHES))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def number_words(n: int) -> str:
    """A whole number in words: 1865 → "one thousand eight hundred sixty-five"."""
    if n < 0:
        return "minus " + number_words(-n)
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("-" + ONES[n % 10] if n % 10 else "")
    for value, name in SCALES:
        if n >= value:
            head, rest = divmod(n, value)
            return f"{number_words(head)} {name}" + (f" {number_words(rest)}" if rest else "")
    raise AssertionError(n)


def ordinal_words(n: int) -> str:
    """1 → "first", 22 → "twenty-second", 100 → "one hundredth"."""
    words = number_words(n)
    head, sep, last = max(words.rpartition(" "), words.rpartition("-"), key=lambda parts: len(parts[0]))
    if last in ORDINAL_WORDS:
        last = ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + sep + last


def year_words(year: int) -> str:
    """Years read in pairs: 1865 → "eighteen sixty-five", 1900 → "nineteen hundred", 2005 → "two thousand five"."""
    high, low = divmod(year, 100)
    if 2000 <= year < 2010 or year % 1000 == 0:
        return number_words(year)
    if low == 0:
        return f"{number_words(high)} hundred"
    return f"{number_words(high)} {'oh ' if low < 10 else ''}{number_words(low)}"


CURRENCIES = {"$": (("dollar", "dollars"), ("cent", "cents")), "£": (("pound", "pounds"), ("penny", "pence"))}


def _money(match: re.Match) -> str:
    whole, cents = int(match.group(2).replace(",", "")), int(match.group(3) or 0)
    units, subunits = CURRENCIES[match.group(1)]
    parts = [f"{number_words(whole)} {units[whole != 1]}"] if whole or not cents else []
    if cents:
        parts.append(f"{number_words(cents)} {subunits[cents != 1]}")
    return " ".join(parts)


def _decade(match: re.Match) -> str:
    """1820s → "eighteen twenties"."""
    words = year_words(int(match.group(1)))
    return (words[:-1] + "ies") if words.endswith("y") else words + "s"


def _decimal(match: re.Match) -> str:
    return f"{number_words(int(match.group(1)))} point {' '.join(ONES[int(d)] for d in match.group(2))}"


def normalise(text: str) -> str:
    """`text` with its numbers, money, ordinals, years, abbreviations and symbols in words."""
    text = plain_letters(text)
    text = _ABBREVIATION.sub(lambda m: ABBREVIATIONS[m.group(1)], text)
    text = _CURRENCY.sub(_money, text)
    text = _PERCENT.sub(lambda m: f"{m.group(1)} percent", text)
    text = _ORDINAL.sub(lambda m: ordinal_words(int(m.group(1).replace(",", ""))), text)
    text = _DECADE.sub(_decade, text)
    text = _YEAR.sub(lambda m: year_words(int(m.group(1))), text)
    text = _DECIMAL.sub(_decimal, text)
    text = _NUMBER.sub(lambda m: number_words(int(m.group(0).replace(",", ""))), text)
    for symbol, words in SYMBOLS.items():
        text = text.replace(symbol, words)
    return _SPACES.sub(" ", text).strip()
