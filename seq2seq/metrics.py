"""Evaluation metrics: sacreBLEU BLEU and chrF (with their signatures), exact match, word and character error rate;
and `Metric`, what a metric's name means for training: which direction is better.

Early stopping, the plateau learning-rate schedule, `train.stop_at`, `average --best` and the report all look the
validation metric up here (`get_metric(config.train.valid_metric)`), never at its name. Which metrics a task's
validation reports is the task config's `METRICS` (config/tasks.py); what each one means is only here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional, Sequence

from .errors import UserError


@dataclass(frozen=True)
class Metric:
    name: str                   # the key of a validation result (metrics.jsonl) and of train.valid_metric
    higher_is_better: bool
    label: str                  # how messages and the report name it
    panel: str = ""             # where the report plots it: "quality" (right panel), "error" (middle), "" (not)

    def better(self, a: float, b: Optional[float]) -> bool:
        """Whether `a` improves on `b` (anything improves on no value yet)."""
        if b is None:
            return True
        return a > b if self.higher_is_better else a < b

    def reached(self, value: float, target: float) -> bool:
        """Whether `value` is at least as good as `target` (train.stop_at)."""
        return value >= target if self.higher_is_better else value <= target

    @property
    def mode(self) -> str:
        """"max" or "min", as torch's ReduceLROnPlateau names the direction."""
        return "max" if self.higher_is_better else "min"


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("bleu", True, "BLEU", "quality"),
    Metric("chrf", True, "chrF", "quality"),
    Metric("accuracy", True, "exact match"),        # share of outputs equal to their reference, in %
    Metric("wer", False, "WER", "quality"),
    Metric("cer", False, "CER", "quality"),
    Metric("loss", False, "loss"),                  # teacher-forced cross-entropy per token (frames: L1 + stop)
    Metric("ppl", False, "perplexity", "error"),
    Metric("l1", False, "frame L1, teacher-forced", "error"),   # mean absolute error of predicted feature frames
    Metric("free_l1", False, "frame L1, free-running at the right length", "error"),
    Metric("length_match", True, "right length, free-running (%)", "quality"),   # stopped at the real last frame
    Metric("stop_error", False, "length off by (%)", "quality"),  # |generated - real| / real length
)}


def get_metric(name: str) -> Metric:
    if name not in METRICS:
        raise UserError(f"unknown metric {name!r} (known: {', '.join(METRICS)})")
    return METRICS[name]


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

    _check_lengths(hypotheses, references)
    bleu, chrf = BLEU(), CHRF()
    b = bleu.corpus_score(list(hypotheses), [list(references)])
    c = chrf.corpus_score(list(hypotheses), [list(references)])
    return Scores(round(b.score, 2), round(c.score, 2), exact_match(hypotheses, references),
                  str(bleu.get_signature()), str(chrf.get_signature()), str(b), len(references))


def exact_match(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Share of hypotheses equal to their reference, in % (2 decimals)."""
    _check_lengths(hypotheses, references)
    return round(100.0 * sum(h == r for h, r in zip(hypotheses, references)) / max(1, len(references)), 2)


def word_error_rate(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus WER in %: word edits (substitutions, deletions, insertions) over all reference words; words are
    split on whitespace. Above 100 when the hypotheses insert more words than the references hold."""
    return error_counts(hypotheses, references, "word").rate


def char_error_rate(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus CER in %: character edits over all reference characters (spaces count as characters)."""
    return error_counts(hypotheses, references, "char").rate


@dataclass
class ErrorCounts:
    """Edits that turn the hypotheses into the references, pooled over a corpus (jiwer's alignment)."""

    substitutions: int
    deletions: int
    insertions: int
    reference_length: int          # reference words (or characters)

    @property
    def rate(self) -> float:
        """Edits over reference length, in % (2 decimals); empty references: 0 without edits, else 100."""
        edits = self.substitutions + self.deletions + self.insertions
        if self.reference_length == 0:
            return 0.0 if edits == 0 else 100.0
        return round(100.0 * edits / self.reference_length, 2)


def error_counts(hypotheses: Sequence[str], references: Sequence[str], unit: str = "word") -> ErrorCounts:
    """Substitutions, deletions and insertions of words (unit "word", split on whitespace) or characters ("char")."""
    import jiwer

    _check_lengths(hypotheses, references)
    pairs = [(r, h) for h, r in zip(hypotheses, references) if r.strip() or h.strip()]
    if not pairs:
        return ErrorCounts(0, 0, 0, 0)
    process = jiwer.process_words if unit == "word" else jiwer.process_characters
    out = process([r for r, _ in pairs], [h for _, h in pairs])
    return ErrorCounts(out.substitutions, out.deletions, out.insertions,
                       out.hits + out.substitutions + out.deletions)


def edit_distance(a: Sequence, b: Sequence) -> int:
    """Levenshtein distance: the fewest insertions, deletions and substitutions that turn `a` into `b`.
    One row of the dynamic programme at a time: O(len(a) * len(b)) time, O(len(b)) memory."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def _check_lengths(hypotheses: Sequence, references: Sequence) -> None:
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
