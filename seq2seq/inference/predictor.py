"""`Predictor`: what every task's inference class offers the front doors (`seq2seq.load`, `serve`, `evaluate`,
`attention`, `report`), so none of them asks which task a run has. A task names its predictor
(`Task.predictor()`); the predictors are `Translator`, `Transcriber` and `Synthesizer` beside this module."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Protocol, Sequence

from ..config import Config
from .loading import RunDirs


@dataclass
class TestSet:
    """Where `seq2seq evaluate` reads its test data (each predictor takes the fields it understands and refuses
    the others): a corpus (`test`), --src/--ref files, or a manifest of recordings."""

    test: Optional[str] = None
    src: Optional[str] = None
    ref: Optional[str] = None
    manifest: Optional[str] = None

    def given(self) -> list[str]:
        return [f"--{name}" for name, value in vars(self).items() if value is not None]


@dataclass
class Evaluation:
    """What `evaluate` found: the outputs, the scores (JSON-ready) and the lines it prints."""

    outputs: list[str]
    scores: dict[str, Any]
    lines: list[str] = field(default_factory=list)


@dataclass
class Media:
    """A sample the report shows as itself: a WAV file (an audio player) or a PNG picture."""

    kind: str          # "audio" (WAV bytes) or "image" (PNG bytes)
    data: bytes
    caption: str = ""


Cell = str | Media | tuple[Media, ...]   # a sample table's cell: text, or what is heard and seen


@dataclass
class Samples:
    """A report's sample table: validation inputs, references and the best checkpoint's outputs (text; or, for
    speech out, the real recording and the synthesis as players beside their spectrograms)."""

    title: str
    columns: tuple[str, str, str]
    rows: list[tuple[Cell, Cell, Cell]]


class Predictor(Protocol):
    config: Config

    @classmethod
    def load(cls, run_dir: RunDirs, which: str = "best", device: str = "cpu") -> "Predictor":
        """A run directory (several, where the task ensembles) ready to predict on `device`."""
        ...

    def predict(self, inputs: Sequence[Any], **options: Any) -> list[Any]:
        """One result per input, in order; each result has an `attention` matrix (or None)."""
        ...

    def evaluate(self, test: TestSet, batch_size: Optional[int] = None, **search: Any) -> Evaluation:
        """Predict a test set and score it with the task's metrics."""
        ...

    def attention_pictures(self, inputs: Sequence[str], out_dir: Path, formats: Sequence[str],
                           **search: Any) -> list[Path]:
        """One picture per input of the attention behind its output (`seq2seq attention`); returns the files."""
        ...

    def samples(self, count: int) -> Optional[Samples]:
        """The report's sample table, or None where the task has none (its pictures are its samples)."""
        ...

    def info(self) -> dict[str, Any]:
        """What `GET /info` says of the model besides the common fields (vocabularies, audio settings, limits)."""
        ...
