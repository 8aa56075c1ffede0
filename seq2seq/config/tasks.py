"""One config class per task (what `task:` selects), and the registry `validate` picks from."""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Union

from pydantic import Field, model_validator

from .base import Strict
from .decode import DecodeConfig
from .frames import FramesDataConfig
from .model import ModelConfig, SpeechToTextModelConfig, TextToSpeechModelConfig
from .text import DataConfig, TokenizerConfig
from .train import TrainConfig


class TaskConfig(Strict):
    task: str
    data: Any
    tokenizer: TokenizerConfig = Field(TokenizerConfig(), description="how text is cut into pieces")
    model: ModelConfig = Field(ModelConfig(), description="the architecture")
    train: TrainConfig = Field(TrainConfig(), description="the training loop: optimiser, schedule, stopping")
    decode: DecodeConfig = Field(DecodeConfig(), description="search defaults of translate, evaluate and serve")

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    PRIMARY_METRIC: ClassVar[str] = ""           # train.valid_metric when the config does not set it
    METRICS: ClassVar[tuple[str, ...]] = ()      # what train.valid_metric may name for this task

    @model_validator(mode="after")
    def _metric(self) -> "TaskConfig":
        """The task's primary metric when train.valid_metric was not given; a named error when it does not apply."""
        if "valid_metric" not in self.train.model_fields_set:
            self.train.__dict__["valid_metric"] = self.PRIMARY_METRIC
        elif self.train.valid_metric not in self.METRICS:
            raise ValueError(f"train.valid_metric={self.train.valid_metric!r} is not reported by task {self.task} "
                             f"(allowed: {', '.join(self.METRICS)})")
        return self


class TranslationConfig(TaskConfig):
    """text → text: translation, question answering, the synthetic text tasks."""

    task: Literal["translation"] = Field("translation", description="translation | speech_to_text | text_to_speech")
    data: DataConfig

    PRIMARY_METRIC = "bleu"
    METRICS = ("bleu", "chrf", "loss", "accuracy")


class SpeechToTextConfig(TaskConfig):
    """feature frames (speech) → text."""

    task: Literal["speech_to_text"] = Field(description="feature frames (speech) in, text out")
    data: FramesDataConfig
    model: SpeechToTextModelConfig = Field(SpeechToTextModelConfig(), description="the architecture, with the "
                                                                                  "frame frontend")

    PRIMARY_METRIC = "wer"
    METRICS = ("wer", "cer", "loss", "accuracy")


class TextToSpeechConfig(TaskConfig):
    """text → feature frames (speech)."""

    task: Literal["text_to_speech"] = Field(description="text in, feature frames (speech) out")
    data: FramesDataConfig
    model: TextToSpeechModelConfig = Field(TextToSpeechModelConfig(), description="the architecture, with the "
                                                                                  "frame head")

    PRIMARY_METRIC = "loss"
    METRICS = ("loss", "l1")


Config = Union[TranslationConfig, SpeechToTextConfig, TextToSpeechConfig]
CONFIGS: dict[str, type[TaskConfig]] = {"translation": TranslationConfig, "speech_to_text": SpeechToTextConfig,
                                         "text_to_speech": TextToSpeechConfig}   # task: its config (see register)


def register_config(task: str, config: type[TaskConfig]) -> None:
    """A task's config class, for `validate` to pick by the `task:` field (`tasks.register` calls this)."""
    CONFIGS[task] = config
