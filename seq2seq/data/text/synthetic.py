"""Built-in synthetic tasks, generated in-process from a seed: dates (the demo), copy and reverse.

Dates: a human-written date in one of `DATE_FORMATS` → ISO `YYYY-MM-DD`. Years run 1950–2049 so that two-digit
years are unambiguous (00–49 → 20xx, 50–99 → 19xx). Each example also records which characters of the source
spell the day, the month and the year (`DateExample.spans`), the true alignment used by the alignment experiment.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Callable

MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_UNITS = ["", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
          "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth",
          "nineteenth"]


def ordinal_words(day: int) -> str:
    """1 → 'first', 25 → 'twenty-fifth', 30 → 'thirtieth'."""
    if day < 20:
        return _UNITS[day]
    tens = {2: "twenty", 3: "thirty"}[day // 10]
    if day % 10 == 0:
        return tens[:-1] + "ieth"
    return f"{tens}-{_UNITS[day % 10]}"


def ordinal_suffix(day: int) -> str:
    if 10 <= day % 100 <= 20:
        return f"{day}th"
    return f"{day}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(day % 10, 'th') }"


# Each format returns the parts in order: (text, role) with role in {"day", "month", "year", ""}; the role marks
# which source characters produce which ISO field.
Part = tuple[str, str]


def _abbr(d: dt.date) -> str:
    return MONTHS[d.month - 1][:3]


DATE_FORMATS: dict[str, Callable[[dt.date], list[Part]]] = {
    "weekday_ordinal_of": lambda d: [(WEEKDAYS[d.weekday()].capitalize() + ", ", ""), (ordinal_suffix(d.day), "day"),
                                     (" of ", ""), (MONTHS[d.month - 1].capitalize(), "month"), (" ", ""),
                                     (str(d.year), "year")],                         # Thursday, 25th of June 2009
    "us_slash_short": lambda d: [(f"{d.month:02d}", "month"), ("/", ""), (f"{d.day:02d}", "day"), ("/", ""),
                                 (f"{d.year % 100:02d}", "year")],                             # 06/25/09
    "us_slash_long": lambda d: [(str(d.month), "month"), ("/", ""), (str(d.day), "day"), ("/", ""),
                                (str(d.year), "year")],                                        # 6/25/2009
    "day_abbr_dot": lambda d: [(str(d.day), "day"), (" ", ""), (_abbr(d) + ".", "month"), (" ", ""),
                               (str(d.year), "year")],                                         # 25 jun. 2009
    "month_ordinal_words": lambda d: [(MONTHS[d.month - 1], "month"), (" ", ""), (ordinal_words(d.day), "day"),
                                      (", ", ""), (str(d.year), "year")],                      # june twenty-fifth, 2009
    "the_ordinal_words_of": lambda d: [("the ", ""), (ordinal_words(d.day), "day"), (" of ", ""),
                                       (MONTHS[d.month - 1], "month"), (" ", ""), (str(d.year), "year")],
    "month_day_comma": lambda d: [(MONTHS[d.month - 1].capitalize(), "month"), (" ", ""), (str(d.day), "day"),
                                  (", ", ""), (str(d.year), "year")],                          # June 25, 2009
    "day_month_year": lambda d: [(str(d.day), "day"), (" ", ""), (MONTHS[d.month - 1].capitalize(), "month"),
                                 (" ", ""), (str(d.year), "year")],                            # 25 June 2009
    "abbr_day_year": lambda d: [(_abbr(d).capitalize(), "month"), (" ", ""), (str(d.day), "day"), (" ", ""),
                                (str(d.year), "year")],                                        # Jun 25 2009
    "weekday_abbr": lambda d: [(WEEKDAYS[d.weekday()][:3] + " ", ""), (str(d.day), "day"), (" ", ""),
                               (_abbr(d), "month"), (" ", ""), (str(d.year), "year")],         # thu 25 jun 2009
    "european_dots": lambda d: [(f"{d.day:02d}", "day"), (".", ""), (f"{d.month:02d}", "month"), (".", ""),
                                (str(d.year), "year")],                                        # 25.06.2009
    "upper_ordinal": lambda d: [(MONTHS[d.month - 1].upper(), "month"), (" ", ""),
                                (ordinal_suffix(d.day).upper(), "day"), (", ", ""),
                                (str(d.year), "year")],                                        # JUNE 25TH, 2009
    "iso": lambda d: [(str(d.year), "year"), ("-", ""), (f"{d.month:02d}", "month"), ("-", ""),
                      (f"{d.day:02d}", "day")],                                                # 2009-06-25
    "compact_ymd": lambda d: [(str(d.year), "year"), (f"{d.month:02d}", "month"), (f"{d.day:02d}", "day")],
    "weekday_month_day": lambda d: [(WEEKDAYS[d.weekday()].capitalize() + " ", ""),
                                    (MONTHS[d.month - 1].capitalize(), "month"), (" ", ""),
                                    (ordinal_suffix(d.day), "day"), (" ", ""),
                                    (str(d.year), "year")],                                    # Thursday June 25th 2009
}

FIRST_DAY = dt.date(1950, 1, 1)
LAST_DAY = dt.date(2049, 12, 31)


@dataclass
class DateExample:
    source: str
    target: str
    format: str
    spans: dict[str, tuple[int, int]]   # role -> [start, end) character span of the source


def render_date(date: dt.date, fmt: str) -> DateExample:
    parts = DATE_FORMATS[fmt](date)
    text, spans, pos = "", {}, 0
    for piece, role in parts:
        if role:
            spans[role] = (pos, pos + len(piece))
        text += piece
        pos += len(piece)
    return DateExample(text, date.isoformat(), fmt, spans)


def date_examples(n: int, rng: random.Random) -> list[DateExample]:
    span = (LAST_DAY - FIRST_DAY).days
    formats = list(DATE_FORMATS)
    out = []
    for i in range(n):
        date = FIRST_DAY + dt.timedelta(days=rng.randint(0, span))
        fmt = formats[i % len(formats)] if i < len(formats) else rng.choice(formats)
        out.append(render_date(date, fmt))
    return out


_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def sequence_examples(task: str, n: int, rng: random.Random, min_len: int, max_len: int,
                      symbols: int) -> list[tuple[str, str]]:
    """Copy or reverse a random string of whitespace-separated symbols."""
    out = []
    for _ in range(n):
        seq = [_ALPHABET[rng.randrange(symbols)] for _ in range(rng.randint(min_len, max_len))]
        tgt = seq if task == "copy" else seq[::-1]
        out.append((" ".join(seq), " ".join(tgt)))
    return out


def generate(task: str, sizes: dict[str, int], seed: int, min_len: int = 3, max_len: int = 10,
             symbols: int = 10) -> dict[str, tuple[list[str], list[str]]]:
    """{split: (sources, targets)} for the splits in `sizes`; test and valid never repeat a training source."""
    rng = random.Random(seed)
    result: dict[str, tuple[list[str], list[str]]] = {}
    seen: set[str] = set()
    for split in ("train", "valid", "test"):
        if split not in sizes:
            continue
        pairs: list[tuple[str, str]] = []
        attempts = 0
        while len(pairs) < sizes[split]:
            need = sizes[split] - len(pairs)
            if task == "dates":
                batch = [(e.source, e.target) for e in date_examples(need, rng)]
            else:
                batch = sequence_examples(task, need, rng, min_len, max_len, symbols)
            for src, tgt in batch:
                if split != "train" and src in seen:
                    continue
                pairs.append((src, tgt))
            attempts += 1
            if attempts > 100:
                raise ValueError(f"cannot draw {sizes[split]} unseen {task} examples for {split}")
        seen.update(s for s, _ in pairs)
        result[split] = ([s for s, _ in pairs], [t for _, t in pairs])
    return result
