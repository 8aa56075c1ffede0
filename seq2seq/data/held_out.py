"""A validation split held out of the training corpus (when `data.valid` is not given).

Pairs are grouped by their source sentence (or the corpus's own groups: a dialogue corpus groups by conversation),
so a sentence that occurs several times (Tatoeba has many) lands wholly on one side and validation never scores a
source the model was trained on. Groups are ranked by a hash of
(seed, source), so the split depends neither on the corpus order nor on anything but the seed and the text.
"""

from __future__ import annotations

import hashlib

from ..errors import UserError
from .text.lines import Corpus

DEFAULT_SHARE, DEFAULT_MAX = 0.05, 2000      # when neither data.valid nor data.valid_split is given


def held_out_size(corpus_size: int, valid_split: int | float | None) -> int:
    """Pairs to hold out: a count, a share of the corpus, or the default (5%, at most 2,000)."""
    if isinstance(valid_split, int):
        return valid_split
    if valid_split is None:
        return min(DEFAULT_MAX, max(1, round(DEFAULT_SHARE * corpus_size)))
    return max(1, round(valid_split * corpus_size))


def hold_out(train: Corpus, size: int, seed: int) -> tuple[Corpus, Corpus]:
    """(the training pairs left, at least `size` held-out pairs), whole source groups on each side."""
    groups: dict[str, list[int]] = {}
    for i, src in enumerate(train.src):
        if src.strip():
            groups.setdefault(train.group(i), []).append(i)
    held: set[int] = set()
    for key in sorted(groups, key=lambda k: hashlib.sha256(f"{seed}\t{k}".encode("utf-8")).digest()):
        if len(held) >= size:
            break
        held.update(groups[key])
    if len(held) >= sum(map(len, groups.values())):
        raise UserError(f"{train.origin}: holding out {size:,} pairs for validation (data.valid_split) leaves no "
                        f"training data ({len(groups):,} groups of pairs)")
    kept = [i for i in range(len(train)) if i not in held]
    chosen = sorted(held)
    origin = f"{len(chosen):,} pairs held out of {train.origin} (data.valid_split, seed {seed})"
    return _subset(train, kept, train.origin), _subset(train, chosen, origin)


def _subset(corpus: Corpus, rows: list[int], origin: str) -> Corpus:
    return Corpus([corpus.src[i] for i in rows], [corpus.tgt[i] for i in rows], origin,
                  [corpus.line(i) for i in rows], None if corpus.groups is None else [corpus.groups[i] for i in rows])
