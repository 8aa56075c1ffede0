"""The training loop: optimiser, schedule, batching, validation, stopping, scheduled sampling."""

from __future__ import annotations

import math
from typing import Literal, Optional

from pydantic import Field, model_validator

from .base import DEVICE_PATTERN, Precision, Strict


class ScheduledSamplingConfig(Strict):
    """Scheduled sampling (Bengio et al. 2015): the probability of feeding the reference token, by update i."""

    decay: Literal["constant", "linear", "exponential", "inverse_sigmoid"] = Field(
        description="constant: k; linear: 1 - i/k; exponential: k^i; inverse_sigmoid: k / (k + exp(i/k))")
    k: float = Field(description="constant: the probability (0..1); linear: updates until it would reach 0 (> 0); "
                                 "exponential: the base (0 < k < 1); inverse_sigmoid: the width (>= 1)")
    min_teacher: float = Field(0.0, ge=0, le=1, description="the probability never goes below this")

    @model_validator(mode="after")
    def _k_range(self) -> "ScheduledSamplingConfig":
        ok = {"constant": 0 <= self.k <= 1, "linear": self.k > 0, "exponential": 0 < self.k < 1,
              "inverse_sigmoid": self.k >= 1}[self.decay]
        allowed = {"constant": "0 <= k <= 1", "linear": "k > 0", "exponential": "0 < k < 1",
                   "inverse_sigmoid": "k >= 1"}[self.decay]
        if not ok:
            raise ValueError(f"k={self.k} is out of range for decay {self.decay} (allowed: {allowed})")
        return self

    def teacher_prob(self, step: int) -> float:
        """Probability of feeding the reference token at update `step` (0-based)."""
        k = self.k
        if self.decay == "constant":
            p = k
        elif self.decay == "linear":
            p = 1.0 - step / k
        elif self.decay == "exponential":
            p = k ** step
        else:
            p = k / (k + math.exp(min(step / k, 700.0)))
        return max(self.min_teacher, min(1.0, p))


class TrainConfig(Strict):
    seed: int = Field(1, description="seeds initialisation, batch order, dropout and augmentation")
    epochs: int = Field(10, gt=0, description="upper bound on epochs")
    max_steps: Optional[int] = Field(None, gt=0, description="stop after this many updates (whichever of epochs / "
                                                             "max_steps comes first)")
    max_minutes: Optional[float] = Field(
        None, gt=0, description="stop after this many minutes of training: the run's wall clock from its first "
                                "update, validations included, summed over resumed sessions (each counted to its "
                                "last checkpoint); then a last validation, as at the end of any run")
    batch_sentences: Optional[int] = Field(None, gt=0, description="sentences per batch")
    batch_tokens: Optional[int] = Field(None, gt=0, description="padded tokens per batch (max(src,tgt) x sentences)")
    sortagrad: bool = Field(False, description="the first epoch's batches shortest first, later epochs shuffled "
                                               "(SortaGrad, Amodei et al. 2016)")
    lr: float = Field(1e-3, gt=0, description="Adam's learning rate (the peak of the warmup and budget schedules)")
    adam_betas: tuple[float, float] = Field((0.9, 0.999), description="Adam's moment decay rates")
    weight_decay: float = Field(0.0, ge=0, description="Adam's L2 penalty on the weights; 0 = off")
    clip_norm: Optional[float] = Field(1.0, gt=0, description="gradient-norm clipping (null: off)")
    label_smoothing: float = Field(0.0, ge=0, lt=1, description="token heads: probability mass spread over the "
                                                                "vocabulary in the training loss; 0 = off")
    scheduled_sampling: Optional[ScheduledSamplingConfig] = Field(
        None, description="feed the model's own predictions instead of reference tokens with a decaying "
                          "probability (null: plain teacher forcing)")
    lr_schedule: Literal["constant", "plateau", "warmup", "budget"] = Field(
        "plateau", description="plateau: multiply by plateau_factor when the validation metric stalls; "
                               "warmup: linear warm-up then inverse-sqrt decay; budget: linear decay from lr to "
                               "min_lr over the run's budget — epochs, max_steps or max_minutes, whichever runs "
                               "out first (budgeted training, Li et al. 2020)")
    plateau_factor: float = Field(0.5, gt=0, lt=1, description="plateau schedule: the lr is multiplied by this")
    plateau_patience: int = Field(1, ge=0, description="validations without improvement before lowering the lr")
    warmup_steps: int = Field(1000, gt=0, description="warmup schedule: updates of linear warm-up to lr")
    min_lr: float = Field(1e-5, ge=0, description="training stops when a plateau schedule goes below this; the "
                                                  "budget schedule ends here")
    valid_every: Optional[int] = Field(None, gt=0, description="validate every N updates (default: every epoch)")
    save_every: Optional[int] = Field(None, gt=0, description="also checkpoint every N updates between validations")
    save_minutes: Optional[float] = Field(5.0, gt=0, description="also checkpoint when this many minutes passed since "
                                                                "the last one (null: off); Ctrl-C and SIGTERM "
                                                                "always save")
    keep_checkpoints: int = Field(5, ge=0, description="weights kept from the last N validations (for averaging)")
    valid_metric: Optional[str] = Field(
        None, description="what `best`, early stopping, the lr plateau and stop_at follow: one of the metrics the "
                          "task's validation reports (accuracy = exact sentence match); default: the task's primary "
                          "metric (translation bleu, speech_to_text wer, text_to_speech loss)")
    patience: Optional[int] = Field(5, gt=0, description="stop after this many validations without improvement")
    stop_at: Optional[float] = Field(None, description="stop once a validation reaches this valid_metric value "
                                                       "(e.g. BLEU 30: time-to-quality runs)")
    max_nonfinite: int = Field(5, gt=0, description="a batch whose loss or gradient is not finite is skipped (with a "
                                                    "warning); this many in a row stop training, the last "
                                                    "checkpoint intact")
    log_every: int = Field(100, gt=0, description="log line every N updates when stderr is not a terminal")
    tensorboard: bool = Field(False, description="also write the curves as TensorBoard event files to "
                                                 "RUN_DIR/tensorboard/ (`tensorboard --logdir runs`; needs the "
                                                 "tensorboard package)")
    attention_plots: int = Field(3, ge=0, description="at every validation, heatmaps of the first N validation "
                                                      "sentences go to RUN_DIR/attention/ (0 = off)")
    threads: Optional[int] = Field(None, gt=0, description="torch intra-op threads (default: all cores); with "
                                                            "share_cores, the most it uses")
    share_cores: bool = Field(True, description="while other processes keep cores busy, train on the cores they "
                                                "leave (a look every 5 s at /proc/stat; Linux); false: always "
                                                "`threads`, e.g. for runs that must repeat bit for bit")
    precision: Precision = Field(
        "fp32", description="bf16: matrix products in bfloat16 under autocast (weights, Adam and the loss stay "
                            "fp32); about 1.4x faster training on CPUs with AVX-512 BF16")
    device: str = Field("auto", pattern=DEVICE_PATTERN,
                        description="auto (a CUDA GPU when PyTorch sees one, else the CPU), cpu, cuda, cuda:N or mps")

    @model_validator(mode="after")
    def _batching(self) -> "TrainConfig":
        if self.batch_sentences is None and self.batch_tokens is None:
            self.__dict__["batch_sentences"] = 64
        if self.batch_sentences is not None and self.batch_tokens is not None:
            raise ValueError("set batch_sentences or batch_tokens, not both")
        return self
