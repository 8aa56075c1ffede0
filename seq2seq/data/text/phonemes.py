"""Text → ARPAbet phonemes for speech synthesis: normalised, looked up in a pronouncing dictionary, the rest through a
grapheme-to-phoneme model; punctuation kept as pauses.

    phonemiser = Phonemiser(load_lexicon("cmudict"), g2p)
    phonemiser.symbols("Printing, in 1476.")
    # ['P', 'R', 'IH1', 'N', 'T', 'IH0', 'NG', ',', '_', 'IH0', 'N', '_', 'F', 'AO1', 'R', 'T', 'IY1', 'N', ...,
    #  'S', 'IH1', 'K', 'S', 'T', 'IY0', 'S', 'IH1', 'K', 'S', '.']

Symbols: the dictionary's phonemes with their stress digits, `_` between words, and the pause marks of `PAUSES`
(`;` and `:` read as `,`; brackets and dashes as `,`; quotes dropped). Each word, in order of preference: the
dictionary (lower case); a possessive or `'s` contraction of a dictionary word (`caxton's` → CAXTON + Z); a short
all-capital word not in the dictionary (`BBC`) spelled out; the G2P model (`g2p`: words → phoneme lists, asked
once per new word and remembered); without one, spelled letter by letter.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Iterable, Optional

from .normalise import normalise

G2P = Callable[[list[str]], list[list[str]]]   # lower-case words → their phonemes

WORD_BREAK = "_"
PAUSES = {",": ",", ".": ".", "?": "?", "!": "!", ";": ",", ":": ",", "(": ",", ")": ",", "—": ",", "–": ",",
          "--": ","}
MARKS = frozenset(PAUSES.values()) | {WORD_BREAK}
_TOKENS = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*|--|[—–,.?!;:()]")
SIBILANTS = {"S", "Z", "SH", "ZH", "CH", "JH"}
VOICELESS = {"P", "T", "K", "F", "TH"}
LETTERS = {                                    # letter names, for spelling out
    "a": "EY1", "b": "B IY1", "c": "S IY1", "d": "D IY1", "e": "IY1", "f": "EH1 F", "g": "JH IY1", "h": "EY1 CH",
    "i": "AY1", "j": "JH EY1", "k": "K EY1", "l": "EH1 L", "m": "EH1 M", "n": "EH1 N", "o": "OW1", "p": "P IY1",
    "q": "K Y UW1", "r": "AA1 R", "s": "EH1 S", "t": "T IY1", "u": "Y UW1", "v": "V IY1",
    "w": "D AH1 B AH0 L Y UW0", "x": "EH1 K S", "y": "W AY1", "z": "Z IY1"}
ACRONYM_LETTERS = 5                            # all-capital words up to this long, not in the dictionary, are spelled


_LOADER: Optional[Callable[[Path], G2P]] = None     # how a G2P run directory becomes a G2P (tasks/g2p.py)


def register_g2p_loader(loader: Callable[[Path], G2P]) -> None:
    """Running a model is above this layer: the tasks layer registers how a G2P run is loaded."""
    global _LOADER
    _LOADER = loader


class RunG2P:
    """The G2P model of a run directory, loaded on its first question (by the registered loader)."""

    def __init__(self, run: Path):
        self.run = run
        self._g2p: Optional[G2P] = None

    def __call__(self, words: list[str]) -> list[list[str]]:
        if self._g2p is None:
            if _LOADER is None:
                raise RuntimeError("no G2P loader registered: import seq2seq.tasks first")
            self._g2p = _LOADER(self.run)
        return self._g2p(words)


class Phonemiser:
    """Text → phoneme symbols with a pronouncing dictionary and an optional G2P model for the words it lacks."""

    def __init__(self, lexicon: dict[str, tuple[str, ...]], g2p: Optional[G2P] = None):
        self.lexicon = lexicon
        self.g2p = g2p
        self.guessed: dict[str, tuple[str, ...]] = {}    # words the G2P model was asked, and its answers

    def inventory(self) -> list[str]:
        """Every symbol this phonemiser can write: the dictionary's phonemes, the word break and the pauses."""
        phones = sorted({p for pron in self.lexicon.values() for p in pron})
        return phones + [WORD_BREAK] + sorted(set(PAUSES.values()))

    def symbols(self, text: str) -> list[str]:
        """The phoneme symbols of `text` (normalised first)."""
        tokens = _TOKENS.findall(normalise(text))
        self.prepare_words([t for t in tokens if t not in PAUSES])
        out: list[str] = []
        for token in tokens:
            if token in PAUSES:
                if out and out[-1] == WORD_BREAK:
                    out.pop()
                if out and out[-1] not in MARKS:     # one pause mark at a time, none leading
                    out.append(PAUSES[token])
                continue
            if out and out[-1] not in MARKS:                 # a pause mark is its own word break
                out.append(WORD_BREAK)
            out.extend(self.word(token))
        while out and out[-1] == WORD_BREAK:
            out.pop()
        return out

    def prepare(self, texts: Iterable[str]) -> None:
        """Ask the G2P model once, in one batch, for every new word of `texts` the dictionary lacks."""
        self.prepare_words([t for text in texts for t in _TOKENS.findall(normalise(text)) if t not in PAUSES])

    def prepare_words(self, words: list[str]) -> None:
        if self.g2p is None:
            return
        wanted = sorted({w.lower() for w in words if self._known(w) is None and not _is_acronym(w)}
                        - set(self.guessed))
        if wanted:
            self.guessed.update((w, tuple(p)) for w, p in zip(wanted, self.g2p(wanted)))

    def word(self, word: str) -> list[str]:
        """One word's phonemes (see the module's order of preference)."""
        known = self._known(word)
        if known is not None:
            return list(known)
        lower = word.lower()
        if _is_acronym(word) or self.g2p is None:
            return spell(lower)
        if lower not in self.guessed:
            self.prepare_words([word])
        return list(self.guessed[lower]) or spell(lower)

    def _known(self, word: str) -> Optional[tuple[str, ...]]:
        lower = word.lower()
        if lower in self.lexicon:
            return self.lexicon[lower]
        base, _, suffix = lower.rpartition("'")
        if suffix == "s" and base in self.lexicon:
            return self.lexicon[base] + possessive(self.lexicon[base])
        return None


def possessive(phones: tuple[str, ...]) -> tuple[str, ...]:
    """The `'s` ending after these phonemes: IH0 Z after a sibilant, S after a voiceless consonant, else Z."""
    last = phones[-1].rstrip("012")
    return ("IH0", "Z") if last in SIBILANTS else ("S",) if last in VOICELESS else ("Z",)


def spell(word: str) -> list[str]:
    """A word spelled letter by letter (letters only)."""
    return [p for letter in word if letter in LETTERS for p in LETTERS[letter].split()]


def _is_acronym(word: str) -> bool:
    return word.isupper() and len(word) <= ACRONYM_LETTERS and "'" not in word
