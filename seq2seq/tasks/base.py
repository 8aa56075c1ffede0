"""`Task`: what differs between modalities (translation, speech→text, text→speech) behind one interface, so the
Trainer, the run directory and the front doors never ask which task they hold: how the data is read and encoded,
what the vocabularies are and where they are saved, how the model is built, how a validation is run and reported —
and, for inference, which predictor (seq2seq/inference/) and which HTTP routes (seq2seq/serving/) serve its runs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Protocol, Sequence

from torch import nn

from .. import checkpoint as ckpt
from ..config import Config
from ..data.batching import Batch
from ..errors import UserError
from ..metrics import Metric, get_metric

Splits = dict[str, Any]   # split name ("train", "valid", "test") → the task's examples (translation: a Corpus)
Vocab = Any               # what the task encodes with (translation: the (source, target) tokenizers)


class TrainingData(Protocol):
    """What the Trainer reads of a task's encoded data."""

    report: str               # one line for the log: what was kept, dropped, the vocabulary sizes

    def train_lengths(self) -> tuple[list[int], list[int]]:
        """Source and target length of each training example (batch plans bucket by them)."""
        ...

    def train_batch(self, ids: Sequence[int]) -> Batch:
        """The training examples `ids` as one batch (on the CPU)."""
        ...


class Task(ABC):
    name: str = ""
    config_class: ClassVar[type]      # its config (what `task: NAME` in a YAML file validates as)
    exportable: ClassVar[bool] = False   # `seq2seq export` can write its models as ONNX graphs
    pictures: ClassVar[str] = ""         # what the report says of its validation pictures (after "...validation")
    text_sides: tuple[str, ...] = ()  # which of "src", "tgt" are text (the others are feature frames)

    def __init__(self, config: Config):
        self.config = config

    @property
    def metrics(self) -> tuple[str, ...]:
        """What `validate` reports (its keys), as the task's config declares them; train.valid_metric is one."""
        return self.config_class.METRICS

    @property
    def primary_metric(self) -> Metric:
        """train.valid_metric with its direction: best checkpoint, early stopping, plateau, stop_at follow it."""
        name = self.config.train.valid_metric
        if name not in self.metrics:
            raise UserError(f"train.valid_metric={name}: the {self.name} task reports {', '.join(self.metrics)}")
        return get_metric(name)

    # ---- data -------------------------------------------------------------------------------------------------

    @abstractmethod
    def read_data(self, splits: tuple[str, ...] = ("train", "valid")) -> Splits:
        """The raw examples of `splits` (generated ones may bring more splits)."""

    @abstractmethod
    def build_vocab(self, data: Splits) -> Vocab:
        """Vocabularies for a new run, from its training data (or a config's pretrained ones)."""

    @abstractmethod
    def save_vocab(self, run_dir: Path, vocab: Vocab) -> None: ...

    @abstractmethod
    def load_vocab(self, run_dir: Path) -> Vocab: ...

    def save_data(self, run_dir: Path, data: Splits) -> None:
        """Keep data beside the model that exists nowhere else (generated splits). Default: nothing."""

    @abstractmethod
    def encode(self, data: Splits, vocab: Vocab) -> TrainingData:
        """Training and validation data as the model reads it (filtered, with warnings for what is dropped)."""

    # ---- model ------------------------------------------------------------------------------------------------

    @abstractmethod
    def build_model(self, vocab: Vocab) -> nn.Module:
        """A fresh model; `model(batch, label_smoothing, teacher_prob)` returns the summed training loss."""

    def load_model(self, run_dir: Path, which: str = "best") -> tuple[Vocab, nn.Module]:
        """A trained run's vocabulary and the model built for it with the weights `which` (best, last or a
        weights file), in eval mode, on the CPU."""
        vocab = self.load_vocab(run_dir)
        model = self.build_model(vocab)
        path = ckpt.weights_path(run_dir, which)
        ckpt.apply_weights(model, ckpt.load_weights(path), path)
        return vocab, model.eval()

    @abstractmethod
    def describe_model(self, model: nn.Module) -> str:
        """One line for the log: architecture and parameter count."""

    # ---- validation -------------------------------------------------------------------------------------------

    @abstractmethod
    def validate(self, model: nn.Module, data: TrainingData, vocab: Vocab) -> dict[str, float]:
        """Every metric of `metrics` on the validation set (leaves the model in training mode)."""

    def after_validation(self, model: nn.Module, data: TrainingData, vocab: Vocab, run_dir: Path, step: int) -> None:
        """What else a validation leaves in the run directory (plots). Default: nothing."""

    @abstractmethod
    def summarize(self, result: dict[str, float]) -> str:
        """A validation result as one line for the log."""

    # ---- inference: what the front doors ask -----------------------------------------------------------------
    # Named as "module:attribute" and imported when asked, so that the task (below inference and serving) imports
    # neither: the way a package names a plug-in's entry point.

    predictor_class: ClassVar[str]    # its `inference.predictor.Predictor`: "seq2seq.inference.translator:Translator"
    routes: ClassVar[str]             # its `serving.routes.TaskRoutes`, e.g. "seq2seq.serving.translation:ROUTES"

    @classmethod
    def predictor(cls) -> type:
        """The class that loads its runs and predicts with them."""
        return _resolve(cls.predictor_class)

    @classmethod
    def serving(cls) -> Any:
        """Its HTTP endpoint."""
        return _resolve(cls.routes)


def _resolve(name: str) -> Any:
    """The attribute that "package.module:attribute" names."""
    import importlib

    module, _, attribute = name.partition(":")
    return getattr(importlib.import_module(module), attribute)
