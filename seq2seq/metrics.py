"""Evaluation metrics on detokenized text: sacreBLEU BLEU and chrF (with their signatures), exact match."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence


@dataclass
class Scores:
    bleu: float
    chrf: float
    exact_match: float        # share of hypotheses equal to their reference, in %
    bleu_signature: str
    chrf_signature: str
    bleu_detail: str          # sacreBLEU's full line: n-gram precisions, brevity penalty, lengths
    sentences: int

    def as_dict(self) -> dict:
        return asdict(self)


def score(hypotheses: Sequence[str], references: Sequence[str]) -> Scores:
    from sacrebleu.metrics import BLEU, CHRF

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    bleu, chrf = BLEU(), CHRF()
    b = bleu.corpus_score(list(hypotheses), [list(references)])
    c = chrf.corpus_score(list(hypotheses), [list(references)])
    exact = 100.0 * sum(h == r for h, r in zip(hypotheses, references)) / max(1, len(references))
    return Scores(round(b.score, 2), round(c.score, 2), round(exact, 2), str(bleu.get_signature()),
                  str(chrf.get_signature()), str(b), len(references))
