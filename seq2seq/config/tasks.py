"""One config class per task (what `task:` selects), and the registry `validate` picks from."""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Union

from pydantic import Field, model_validator

from .base import Strict
from .decode import DecodeConfig
from .frames import FramesDataConfig
from .images import ImagesDataConfig
from .language_model import LanguageModelDataConfig, LanguageModelNetConfig
from .model import ImageToTextModelConfig, ModelConfig, SpeechToTextModelConfig, TextToSpeechModelConfig
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

    # The task's metrics, declared once: what its validation reports (the keys of a metrics.jsonl "valid" event,
    # names of seq2seq.metrics.METRICS), so what train.valid_metric may name; PRIMARY_METRIC is its default.
    METRICS: ClassVar[tuple[str, ...]] = ()
    PRIMARY_METRIC: ClassVar[str] = ""
    # tokenizer.type values the task reads text with (phonemes: only where text is spoken)
    TOKENIZER_TYPES: ClassVar[tuple[str, ...]] = ("sentencepiece", "char", "whitespace")

    @model_validator(mode="after")
    def _metric(self) -> "TaskConfig":
        """The task's primary metric when train.valid_metric was not given; a named error when it does not apply."""
        if self.train.valid_metric is None:
            self.train.__dict__["valid_metric"] = self.PRIMARY_METRIC
        elif self.train.valid_metric not in self.METRICS:
            raise ValueError(f"train.valid_metric={self.train.valid_metric!r} is not reported by task {self.task} "
                             f"(allowed: {', '.join(self.METRICS)})")
        if self.tokenizer.type not in self.TOKENIZER_TYPES:
            raise ValueError(f"tokenizer.type={self.tokenizer.type!r} does not apply to task {self.task} (allowed: "
                             f"{', '.join(self.TOKENIZER_TYPES)})")
        return self


class TranslationConfig(TaskConfig):
    """text → text: translation, question answering, the synthetic text tasks."""

    task: Literal["translation"] = Field("translation", description="translation | speech_to_text | text_to_speech | "
                                                                           "image_to_text | language_model")
    data: DataConfig

    METRICS = ("loss", "ppl", "bleu", "chrf", "accuracy", "wer")   # wer: over output tokens (G2P: phonemes)
    PRIMARY_METRIC = "bleu"


class SpeechToTextConfig(TaskConfig):
    """feature frames (speech) → text."""

    task: Literal["speech_to_text"] = Field(description="feature frames (speech) in, text out")
    data: FramesDataConfig
    model: SpeechToTextModelConfig = Field(SpeechToTextModelConfig(), description="the architecture, with the "
                                                                                  "frame frontend")

    METRICS = ("loss", "ppl", "wer", "cer", "accuracy")
    PRIMARY_METRIC = "wer"


class TextToSpeechConfig(TaskConfig):
    """text → feature frames (speech)."""

    task: Literal["text_to_speech"] = Field(description="text in, feature frames (speech) out")
    data: FramesDataConfig
    model: TextToSpeechModelConfig = Field(TextToSpeechModelConfig(), description="the architecture, with the "
                                                                                  "frame head")

    METRICS = ("loss", "l1", "length_match", "free_l1", "stop_error")
    PRIMARY_METRIC = "loss"
    TOKENIZER_TYPES = TaskConfig.TOKENIZER_TYPES + ("phonemes",)


class ImageToTextConfig(TaskConfig):
    """images (text lines, digit strings) → text."""

    task: Literal["image_to_text"] = Field(description="images in (a line of text, a digit string), text out")
    data: ImagesDataConfig
    model: ImageToTextModelConfig = Field(ImageToTextModelConfig(), description="the architecture, with the image "
                                                                                "frontend")

    METRICS = ("loss", "ppl", "wer", "cer", "accuracy")
    PRIMARY_METRIC = "cer"


class LanguageModelConfig(TaskConfig):
    """text alone: a recurrent language model, for shallow fusion in search (decode.lm)."""

    task: Literal["language_model"] = Field(description="text in, its next-token probabilities out")
    data: LanguageModelDataConfig
    model: LanguageModelNetConfig = Field(LanguageModelNetConfig(), description="the recurrent language model")

    METRICS = ("loss", "ppl")
    PRIMARY_METRIC = "ppl"


Config = Union[TranslationConfig, SpeechToTextConfig, TextToSpeechConfig, ImageToTextConfig, LanguageModelConfig]
CONFIGS: dict[str, type[TaskConfig]] = {      # task: its config (the built-in ones; tasks.register adds others)
    c.model_fields["task"].annotation.__args__[0]: c
    for c in (TranslationConfig, SpeechToTextConfig, TextToSpeechConfig, ImageToTextConfig, LanguageModelConfig)}


def register_config(task: str, config: type[TaskConfig]) -> None:
    """A task's config class, for `validate` to pick by the `task:` field (`tasks.register` calls this)."""
    CONFIGS[task] = config
