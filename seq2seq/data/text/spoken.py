"""Transcripts as they are spoken (`data.transcripts: spoken`): lower case; letters, digits and apostrophes kept;
every other mark a word boundary; runs of spaces one. What a recogniser can hear of a sentence, and the form
its output and a peer's (PocketSphinx: lower-case words) are scored in."""

from __future__ import annotations

import re
import unicodedata

_NOT_SPOKEN = re.compile(r"[^a-z0-9' ]+")


def spoken_form(text: str) -> str:
    """'Printing, in the "only" sense -- differs.' → "printing in the only sense differs"."""
    plain = unicodedata.normalize("NFKD", text.lower().replace("’", "'")).encode("ascii", "ignore").decode()
    words = _NOT_SPOKEN.sub(" ", plain).split()
    return " ".join(w for w in (w.strip("'") for w in words) if w)
