"""The demo's data generator is seeded and covers every date format it claims."""

import datetime as dt
import random
import re

import pytest

from seq2seq.data.text import synthetic as synthetic_text


def test_generator_is_seeded():
    a = synthetic_text.generate("dates", {"train": 300, "valid": 50, "test": 50}, seed=11)
    b = synthetic_text.generate("dates", {"train": 300, "valid": 50, "test": 50}, seed=11)
    c = synthetic_text.generate("dates", {"train": 300, "valid": 50, "test": 50}, seed=12)
    assert a == b and a != c


def test_test_and_valid_sources_are_unseen_in_training():
    splits = synthetic_text.generate("dates", {"train": 2000, "valid": 200, "test": 300}, seed=3)
    train = set(splits["train"][0])
    assert not train & set(splits["valid"][0]) and not train & set(splits["test"][0])


def test_every_format_appears_and_targets_are_iso():
    examples = synthetic_text.date_examples(600, random.Random(0))
    assert {e.format for e in examples} == set(synthetic_text.DATE_FORMATS)
    for e in examples:
        dt.date.fromisoformat(e.target)
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", e.target)


MONTH_INDEX = {m: i + 1 for i, m in enumerate(synthetic_text.MONTHS)}
ORDINALS = {synthetic_text.ordinal_words(d): d for d in range(1, 32)}


def _parse_day(text: str) -> int:
    text = text.lower()
    return ORDINALS[text] if text in ORDINALS else int(re.match(r"\d+", text).group())


def _parse_month(text: str) -> int:
    text = text.lower().rstrip(".")
    if text.isdigit():
        return int(text)
    return next(i for m, i in MONTH_INDEX.items() if m.startswith(text))


def _parse_year(text: str) -> int:
    year = int(text)
    return year if len(text) == 4 else (2000 + year if year < 50 else 1900 + year)


@pytest.mark.parametrize("fmt", sorted(synthetic_text.DATE_FORMATS))
def test_each_format_spells_the_date_it_claims(fmt):
    rng = random.Random(fmt)
    days = [synthetic_text.FIRST_DAY, synthetic_text.LAST_DAY, dt.date(2009, 6, 25), dt.date(2000, 2, 29)]
    days += [synthetic_text.FIRST_DAY + dt.timedelta(days=rng.randint(0, 36000)) for _ in range(200)]
    for day in days:
        e = synthetic_text.render_date(day, fmt)
        part = lambda role: e.source[slice(*e.spans[role])]
        assert (_parse_year(part("year")), _parse_month(part("month")), _parse_day(part("day"))) == \
               (day.year, day.month, day.day), (fmt, e.source)
        assert e.target == day.isoformat()


def test_ordinals():
    assert [synthetic_text.ordinal_words(d) for d in (1, 2, 3, 11, 12, 20, 21, 25, 30, 31)] == [
        "first", "second", "third", "eleventh", "twelfth", "twentieth", "twenty-first", "twenty-fifth",
        "thirtieth", "thirty-first"]
    assert [synthetic_text.ordinal_suffix(d) for d in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "31st"]


def test_copy_and_reverse():
    splits = synthetic_text.generate("reverse", {"train": 20}, seed=1, min_len=2, max_len=5, symbols=4)
    for s, t in zip(*splits["train"]):
        assert s.split()[::-1] == t.split() and 2 <= len(s.split()) <= 5
