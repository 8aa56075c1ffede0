"""The attention scores, declared once: which decoder families each serves, which one a family takes when the config
names none, and whether it is stateful (reads the previous weights: it runs one decoder step at a time, takes no
local window, and an exported decoder step carries its state). The config's choices, its family rules, the
attention classes (`attention.SCORE_CLASSES`) and export all read this table. It imports nothing (the config,
which must not load torch, reads it too)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Score:
    name: str
    families: tuple[str, ...]          # decoder families (model.decoder.attention) it may be chosen for
    default_for: tuple[str, ...] = ()  # families that use it when model.decoder.score is not given
    stateful: bool = False
    about: str = ""


SCORES: dict[str, Score] = {s.name: s for s in (
    Score("additive", ("bahdanau",), ("bahdanau",), about="vᵀ tanh(W q + U k) (Bahdanau et al. 2014)"),
    Score("concat", ("luong",), about="Luong's name for the additive score"),
    Score("dot", ("luong",), about="qᵀ k"),
    Score("general", ("luong",), ("luong",), about="qᵀ W k"),
    Score("location", ("bahdanau", "luong"), stateful=True,
          about="additive, also reading the previous and cumulative weights (Chorowski et al. 2015)"),
)}


def scores_for(family: str) -> tuple[str, ...]:
    """The scores decoder family `family` may take (none for vanilla)."""
    return tuple(name for name, score in SCORES.items() if family in score.families)


def default_score(family: str) -> Optional[str]:
    return next((name for name, score in SCORES.items() if family in score.default_for), None)
