"""Typed, validated configuration: every field, its default and what it allows lives here.

A config is YAML with four sections (`data`, `tokenizer`, `model`, `train`) plus `decode`. Unknown keys and bad
values raise `UserError` naming the key, the value and what is allowed. `--set a.b.c=value` overrides any field
(the value is parsed as YAML, so `true`, `5e-4` and `[1, 2]` mean what they look like).

Paths in `data` are resolved relative to the config file's folder (or the current folder for a config built
in code), and the resolved config is what a run directory stores.
"""

from __future__ import annotations

import difflib
import math
import os
from pathlib import Path
from typing import Any, ClassVar, Literal, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import UserError

DEVICE_PATTERN = r"^(auto|cpu|cuda|cuda:\d+|mps)$"   # see devices.resolve_device
Precision = Literal["fp32", "bf16"]                  # see devices.precision_context


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SyntheticConfig(_Strict):
    """A built-in task generated in-process from a seed (no files needed)."""

    task: Literal["dates", "copy", "reverse"] = Field(description="which generator (see seq2seq/data/text/synthetic.py)")
    train_size: int = Field(20000, gt=0, description="training examples")
    valid_size: int = Field(500, gt=0, description="validation examples")
    test_size: int = Field(1000, gt=0, description="test examples")
    seed: int = Field(1234, description="generator seed (independent of train.seed)")
    min_len: int = Field(3, gt=0, description="copy/reverse: shortest sequence")
    max_len: int = Field(10, gt=0, description="copy/reverse: longest sequence")
    symbols: int = Field(10, gt=1, le=52, description="copy/reverse: alphabet size")

    @model_validator(mode="after")
    def _lengths(self) -> "SyntheticConfig":
        if self.min_len > self.max_len:
            raise ValueError(f"min_len ({self.min_len}) must be <= max_len ({self.max_len})")
        return self


class DataConfig(_Strict):
    """Where the parallel text comes from.

    A corpus is named by a prefix (`train` → `{root}/train.{src_lang}` and `{root}/train.{tgt_lang}`) or by a
    `.tsv` file (`source<TAB>target` per line). Alternatively `synthetic` generates a built-in task.
    """

    root: Optional[str] = Field(None, description="folder the corpus names are relative to")
    src_lang: Optional[str] = Field(None, description="source file suffix, e.g. de")
    tgt_lang: Optional[str] = Field(None, description="target file suffix, e.g. en")
    train: Optional[str] = Field(None, description="training corpus: prefix, .tsv file, or .yml dialogue file(s) "
                                                   "(a glob: chatterbot-english/*.yml; consecutive turns are pairs)")
    valid: Optional[str] = Field(None, description="validation corpus: prefix or .tsv file (absent: held out of "
                                                   "train, see valid_split)")
    valid_split: Optional[Union[int, float]] = Field(
        None, description="without `valid`: hold out this share (0.05) or number (1000) of the training pairs, "
                          "grouped by source sentence (default: 5%, at most 2,000)")
    split_seed: int = Field(0, description="seed of the held-out validation split")
    test: Optional[str] = Field(None, description="test corpus, recorded with the run; never read in training")
    synthetic: Optional[SyntheticConfig] = Field(None, description="generate a built-in task instead of files")
    max_len: int = Field(100, gt=0, description="training pairs longer than this (in tokens, either side) are dropped")

    @model_validator(mode="after")
    def _source(self) -> "DataConfig":
        if self.synthetic is None:
            if self.train is None:
                raise ValueError("needs train (or `synthetic`)")
            _check_held_out(self.valid, self.valid_split)
            for name in (self.train, self.valid, self.test):
                if name and not name.endswith((".tsv", ".yml", ".yaml")) and not (self.src_lang and self.tgt_lang):
                    raise ValueError(f"corpus {name!r} is a prefix, so src_lang and tgt_lang are required")
        return self



def _check_held_out(valid: Optional[str], share: Union[int, float, None]) -> None:
    """`data.valid_split` (text and speech alike): a share in (0, 1) or a count >= 1, and not beside `valid`."""
    if share is not None and valid is not None:
        raise ValueError("set valid or valid_split, not both (valid_split holds validation out of train)")
    if isinstance(share, float) and not 0 < share < 1:
        raise ValueError(f"valid_split={share}: a share must be between 0 and 1 (or give a count of pairs)")
    if isinstance(share, int) and share < 1:
        raise ValueError(f"valid_split={share}: a count of pairs must be >= 1")


class TokenizerConfig(_Strict):
    type: Literal["sentencepiece", "char", "whitespace"] = Field(
        "sentencepiece", description="subwords (trained on the training data), characters, or whitespace words")
    model_type: Literal["unigram", "bpe"] = Field("unigram", description="sentencepiece algorithm")
    vocab_size: int = Field(8000, ge=8, description="sentencepiece vocabulary size (per model)")
    joint: bool = Field(True, description="one vocabulary for source and target")
    per_side_vocab: bool = Field(False, description="joint sentencepiece model, but each side's embedding/output "
                                                    "layer keeps only the pieces its training text uses (as Joey NMT "
                                                    "and OpenNMT-py build vocabularies): a smaller softmax")
    character_coverage: float = Field(1.0, gt=0, le=1, description="sentencepiece character coverage")
    min_freq: int = Field(1, ge=1, description="char/whitespace: rarer symbols become <unk>")
    sampling_alpha: float = Field(0.0, ge=0, le=1, description=(
        "subword regularisation (Kudo 2018): in training, every sentence's segmentation is drawn anew from the "
        "sentencepiece lattice each time it is batched — unigram: the smoothing exponent (0.1–0.5; smaller is "
        "flatter), BPE: the merge dropout (0.1); 0 = off. Validation and translation keep the best segmentation"))
    from_run: Optional[str] = Field(None, description="reuse the tokenizer of this run directory instead of training "
                                                      "one (ensemble members must share the target vocabulary)")

    @model_validator(mode="after")
    def _sentencepiece_options(self) -> "TokenizerConfig":
        if self.per_side_vocab and not (self.type == "sentencepiece" and self.joint):
            raise ValueError(f"per_side_vocab restricts a joint sentencepiece model; it needs type: sentencepiece "
                             f"and joint: true (got type: {self.type}, joint: {str(self.joint).lower()})")
        if self.sampling_alpha and self.type != "sentencepiece":
            raise ValueError(f"sampling_alpha={self.sampling_alpha} samples sentencepiece segmentations; it needs "
                             f"type: sentencepiece (got type: {self.type})")
        return self


class EncoderConfig(_Strict):
    rnn: Literal["gru", "lstm"] = Field("gru", description="recurrent cell of every encoder layer")
    hidden_size: int = Field(256, gt=0, description="per direction")
    layers: int = Field(1, gt=0, description="stacked recurrent layers (before any pyramid layers)")
    residual: bool = Field(False, description="layers above the first each add their input to their output "
                                              "(residual connections, Wu et al. 2016); needs layers >= 2")
    bidirectional: bool = Field(True, description="read the input in both directions (states of 2 × hidden_size)")
    dropout: float = Field(0.2, ge=0, lt=1, description="on embeddings and between layers")
    word_dropout: float = Field(0.0, ge=0, lt=1, description="token inputs only: in training, each source token's "
                                                             "whole embedding is dropped with this probability "
                                                             "(Sennrich & Zhang 2019: 0.1–0.3 on small data); 0 = off")
    output_dropout: float = Field(0.0, ge=0, lt=1, description="on the encoder states the attention reads (the "
                                                               "context; Caglayan et al. 2017's dropout_ctx); 0 = off")
    pyramid: int = Field(0, ge=0, le=4, description="pyramidal layers on top (speech, Chan et al. 2016): each "
                                                    "concatenates neighbouring states, halving time, then runs "
                                                    "its own RNN")

    @model_validator(mode="after")
    def _residual_needs_depth(self) -> "EncoderConfig":
        if self.residual and self.layers < 2:
            raise ValueError(f"residual=true adds each layer's input to its output above the first layer; it needs "
                             f"layers >= 2 (got layers={self.layers})")
        return self


class DecoderConfig(_Strict):
    attention: Literal["vanilla", "bahdanau", "luong"] = Field(
        "luong", description="vanilla = no attention (fixed context vector, Cho 2014); bahdanau = additive on the "
                             "previous state; luong = global attention on the current state")
    score: Optional[Literal["dot", "general", "concat", "additive", "location"]] = Field(
        None, description="luong: dot, general (default), concat or location; bahdanau: additive (default) or "
                          "location (location-aware: also reads the previous and cumulative weights, Chorowski 2015)")
    input_feeding: Optional[bool] = Field(None, description="luong only: feed the attentional state back (default true)")
    alignment: Literal["global", "local-m", "local-p"] = Field(
        "global", description="luong only: attend to every source position, or to a window of half-width `window` "
                              "around p_t = t (local-m) or a predicted p_t (local-p)")
    window: int = Field(10, ge=1, description="luong local attention: half-width D of the window")
    rnn: Literal["gru", "lstm"] = Field("gru", description="recurrent cell of every decoder layer")
    hidden_size: int = Field(512, gt=0, description="decoder state size")
    layers: int = Field(1, gt=0, description="stacked recurrent layers")
    attention_size: Optional[int] = Field(None, gt=0, description="additive/concat score size (default hidden_size)")
    dropout: float = Field(0.2, ge=0, lt=1, description="on embeddings, between layers and before the output layer")
    word_dropout: float = Field(0.0, ge=0, lt=1, description="token outputs only: in training, the embedding of each "
                                                             "previous target token the decoder reads is dropped "
                                                             "whole with this probability; 0 = off")

    @model_validator(mode="after")
    def _family(self) -> "DecoderConfig":
        allowed = {"vanilla": (), "bahdanau": ("additive", "location"),
                   "luong": ("dot", "general", "concat", "location")}[self.attention]
        if self.score is not None and self.score not in allowed:
            where = "attention=luong" if self.score in ("dot", "general", "concat") else "attention=bahdanau or luong"
            raise ValueError(f"score={self.score!r} applies only to {where} (got {self.attention!r})")
        if self.attention != "luong":
            if self.input_feeding:
                raise ValueError(f"input_feeding applies only to attention=luong (got {self.attention!r})")
            if self.alignment != "global":
                raise ValueError(f"alignment={self.alignment!r} applies only to attention=luong "
                                 f"(got {self.attention!r})")
        if self.alignment != "global" and self.score == "location":
            raise ValueError(f"alignment={self.alignment!r} needs a content score (dot, general, concat), "
                             f"not location")
        return self

    @property
    def luong_score(self) -> str:
        return self.score or "general"

    @property
    def feeds_input(self) -> bool:
        return self.attention == "luong" and self.input_feeding is not False

    @property
    def family(self) -> str:
        """The decoder family in words, e.g. `luong/concat/local-m D=10, input feeding` (logs and reports)."""
        if self.attention != "luong":
            return self.attention + ("/location" if self.score == "location" else "")
        window = f"/{self.alignment} D={self.window}" if self.alignment != "global" else ""
        return f"luong/{self.luong_score}{window}" + (", input feeding" if self.feeds_input else "")


class ModelConfig(_Strict):
    embedding_size: int = Field(256, gt=0, description="source and target embeddings")
    encoder: EncoderConfig = Field(EncoderConfig(), description="the encoder: its recurrent layers over the input")
    decoder: DecoderConfig = Field(DecoderConfig(), description="the decoder: its family (attention), score and "
                                                                "recurrent layers")
    bridge: Literal["linear", "zero"] = Field(
        "linear", description="decoder initial state: tanh(W · encoder final state), or zeros")
    tie_embeddings: bool = Field(False, description="share target embedding and output projection")
    max_src_len: int = Field(400, gt=0, description="longer inputs are truncated at decoding time, with a warning")

    @property
    def decoder_output_size(self) -> int:
        """Size of the decoder's output vector: the embedding size when tied to the output layer."""
        return self.embedding_size if self.tie_embeddings else self.decoder.hidden_size

    @model_validator(mode="after")
    def _sizes(self) -> "ModelConfig":
        memory = self.encoder.hidden_size * (2 if self.encoder.bidirectional else 1)
        if self.decoder.attention == "luong" and self.decoder.luong_score == "dot" and memory != self.decoder.hidden_size:
            raise ValueError(f"score=dot needs encoder output size ({memory}) == decoder.hidden_size "
                             f"({self.decoder.hidden_size}); use general or concat")
        return self


class ScheduledSamplingConfig(_Strict):
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


class TrainConfig(_Strict):
    seed: int = Field(1, description="seeds initialisation, batch order, dropout and augmentation")
    epochs: int = Field(10, gt=0, description="upper bound on epochs")
    max_steps: Optional[int] = Field(None, gt=0, description="stop after this many updates (whichever of epochs / max_steps comes first)")
    max_minutes: Optional[float] = Field(
        None, gt=0, description="stop after this many minutes of training: the run's wall clock from its first "
                                "update, validations included, summed over resumed sessions (each counted to its "
                                "last checkpoint); then a last validation, as at the end of any run")
    batch_sentences: Optional[int] = Field(None, gt=0, description="sentences per batch")
    batch_tokens: Optional[int] = Field(None, gt=0, description="padded tokens per batch (max(src,tgt) x sentences)")
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
    valid_metric: Literal["bleu", "chrf", "loss", "accuracy", "wer", "cer", "l1"] = Field(
        "bleu", description="what `best`, early stopping, the lr plateau and stop_at follow (accuracy = exact "
                            "sentence match); default: the task's primary metric (translation bleu, speech_to_text "
                            "wer, text_to_speech loss)")
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


class SearchSettings(_Strict):
    """How search decodes: the `decode` section's search fields (`search.SearchOptions` adds per-call choices)."""

    max_len_a: float = Field(1.5, ge=0, description="output limit = a * source length + b, the source length in "
                                                    "encoder states (speech: frames / frontend.stack / "
                                                    "2^encoder.pyramid)")
    max_len_b: int = Field(10, ge=1, description="output limit: max_len_a × source length + max_len_b tokens")
    beam_size: int = Field(1, ge=1, description="1 = greedy search (validation always decodes greedily)")
    alpha: float = Field(0.0, ge=0, description="beam search: GNMT length normalisation ((5+len)/6)^alpha; 0 = off")
    beta: float = Field(0.0, ge=0, description="beam search: GNMT coverage penalty weight; 0 = off")
    max_len: Optional[int] = Field(None, gt=0, description="absolute output limit (EOS included), on top of a/b")
    min_len: int = Field(0, ge=0, description="EOS is forbidden before this many output tokens")
    no_repeat_ngram: int = Field(0, ge=0, description="forbid repeating any n-gram of this size in one output; 0 = off")
    greedy_fallback: bool = Field(True, description="beam search also follows the greedy path and keeps it when it "
                                                    "ranks higher (beam never worse than greedy; ~1/beam more work)")
    precision: Precision = Field(
        "fp32", description="bf16: decode with the matrix products in bfloat16 (scores stay fp32); faster on CPUs "
                            "with AVX-512 BF16, same BLEU within noise")


class DecodeConfig(SearchSettings):
    batch_size: int = Field(64, gt=0, description="sentences per decoding batch")


class ServeSettings(_Strict):
    """`seq2seq serve`: batching and the limits that protect the server (each is a command-line option)."""

    batching: bool = Field(True, description="merge concurrent requests into batches")
    max_batch_size: int = Field(64, ge=1, description="sentences decoded together at most")
    max_wait_ms: float = Field(5.0, ge=0, description="how long a request waits for others to join its batch")
    max_texts: int = Field(64, ge=1, description="texts per request")
    max_chars: int = Field(2000, ge=1, description="characters per text")
    max_beam: int = Field(10, ge=1, description="largest beam_size (and n_best) a request may ask for")
    max_body_bytes: int = Field(1_000_000, ge=1, description="request body size")
    timeout_s: float = Field(30.0, gt=0, description="a request that waits longer gets 504")


class SyntheticFramesConfig(_Strict):
    """A built-in frames task generated from a seed: every symbol has a fixed random pattern of feature frames
    (its 'sound'); a sequence of symbols is the concatenation of their patterns. speech_to_text reads the frames
    (with noise, and each symbol held for a random number of frames) and writes the symbols; text_to_speech reads
    the symbols and writes the frames (noise 0, fixed durations)."""

    train_size: int = Field(3000, gt=0, description="training examples")
    valid_size: int = Field(200, gt=0, description="validation examples")
    test_size: int = Field(200, gt=0, description="test examples")
    seed: int = Field(1234, description="generator seed (independent of train.seed)")
    min_len: int = Field(1, gt=0, description="fewest symbols per sequence")
    max_len: int = Field(7, gt=0, description="most symbols per sequence")
    symbols: int = Field(10, gt=1, le=52, description="alphabet size")
    feature_size: int = Field(8, gt=0, description="values per frame")
    min_frames: int = Field(2, gt=0, description="fewest frames per symbol")
    max_frames: int = Field(4, gt=0, description="most frames per symbol")
    noise: float = Field(0.3, ge=0, description="standard deviation of the Gaussian noise added to every frame")

    @model_validator(mode="after")
    def _ranges(self) -> "SyntheticFramesConfig":
        for low, high in (("min_len", "max_len"), ("min_frames", "max_frames")):
            if getattr(self, low) > getattr(self, high):
                raise ValueError(f"{low} ({getattr(self, low)}) must be <= {high} ({getattr(self, high)})")
        return self


class SpokenDigitsConfig(_Strict):
    """Connected spoken digits built from Free Spoken Digit Dataset clips (`{digit}_{speaker}_{index}.wav`): one
    speaker per string, clips joined with short random pauses, transcripts in words. Each split draws its clips from
    its own range of clip indices, so validation strings are built from recordings training never heard."""

    recordings: Optional[str] = Field(None, description="the recordings folder (default: the shared data's "
                                                        "fsdd/recordings)")
    train_indices: tuple[int, int] = Field((10, 49), description="clip indices training strings use (inclusive)")
    valid_indices: tuple[int, int] = Field((5, 9), description="clip indices validation strings use (inclusive)")
    test_indices: Optional[tuple[int, int]] = Field(None, description="clip indices of a test split (FSDD's 0-4 "
                                                                      "are kept aside for independent evaluation)")
    train_size: int = Field(4000, gt=0, description="training strings")
    valid_size: int = Field(300, gt=0, description="validation strings")
    test_size: int = Field(300, gt=0, description="test strings")
    min_digits: int = Field(1, gt=0, description="shortest string")
    max_digits: int = Field(7, gt=0, description="longest string")
    pause_ms: tuple[int, int] = Field((50, 250), description="pause between digits, uniform in this range")
    edge_ms: tuple[int, int] = Field((20, 100), description="silence before the first digit and after the last")
    speakers: Optional[list[str]] = Field(None, description="only these speakers (default: every speaker with all "
                                                            "ten digits in the index range)")
    seed: int = Field(1234, description="generator seed (independent of train.seed)")

    @model_validator(mode="after")
    def _ranges(self) -> "SpokenDigitsConfig":
        for name in ("train_indices", "valid_indices", "test_indices", "pause_ms", "edge_ms"):
            low_high = getattr(self, name)
            if low_high is not None and not 0 <= low_high[0] <= low_high[1]:
                raise ValueError(f"{name}={list(low_high)}: expected [low, high] with 0 <= low <= high")
        if self.min_digits > self.max_digits:
            raise ValueError(f"min_digits ({self.min_digits}) must be <= max_digits ({self.max_digits})")
        return self


class AudioFeaturesConfig(_Strict):
    """Log-mel features (data/features.py), computed for each file at its own sample rate."""

    n_mels: int = Field(40, gt=0, description="mel bands (the model's feature size)")
    win_ms: float = Field(25.0, gt=0, description="analysis window")
    hop_ms: float = Field(10.0, gt=0, description="frame step (100 frames a second)")
    f_min: float = Field(0.0, ge=0, description="lowest frequency")
    f_max: Optional[float] = Field(None, gt=0, description="highest frequency (default: each file's Nyquist); set "
                                                           "it below the lowest rate's Nyquist to mix rates")
    preemphasis: float = Field(0.97, ge=0, lt=1, description="high-frequency emphasis (0 = off)")
    log_floor: float = Field(1e-10, gt=0, description="power floor before the log (a full-scale sine peaks at "
                                                      "0.25): quiet recordings need a low one")


class SpecAugmentConfig(_Strict):
    """SpecAugment (Park et al. 2019) in training only: bands and spans of the normalised features set to 0."""

    freq_masks: int = Field(2, ge=0, description="frequency masks per utterance")
    freq_width: int = Field(8, ge=0, description="widest frequency mask (bands)")
    time_masks: int = Field(2, ge=0, description="time masks per utterance")
    time_width: int = Field(20, ge=0, description="widest time mask (frames)")
    max_time_ratio: float = Field(0.2, ge=0, le=1, description="at most this share of an utterance is masked")


class FramesDataConfig(_Strict):
    """Where frames-and-text pairs come from: audio manifests (`train`, `valid`, `test`: a `.tsv` of
    `path<TAB>transcript` with paths relative to it, or an LJSpeech `metadata.csv`), the built-in spoken digits
    (`digits`), or the built-in synthetic frames task (`synthetic`). Exactly one."""

    root: Optional[str] = Field(None, description="folder the manifests are relative to")
    train: Optional[str] = Field(None, description="training manifest: .tsv (path<TAB>text) or LJSpeech "
                                                   "metadata.csv")
    valid: Optional[str] = Field(None, description="validation manifest (absent: held out of train, valid_split)")
    valid_split: Optional[Union[int, float]] = Field(None, description="without `valid`: hold out this share or "
                                                                       "number of the training clips (default: "
                                                                       "5%, at most 2,000)")
    split_seed: int = Field(0, description="seed of the held-out validation split")
    test: Optional[str] = Field(None, description="test manifest, recorded with the run; never read in training")
    digits: Optional[SpokenDigitsConfig] = Field(None, description="connected spoken digits from FSDD clips")
    synthetic: Optional[SyntheticFramesConfig] = Field(None, description="generate the built-in frames task")
    features: AudioFeaturesConfig = Field(AudioFeaturesConfig(), description="log-mel features of audio")
    spec_augment: Optional[SpecAugmentConfig] = Field(None, description="SpecAugment masks in training (null: off)")
    max_seconds: float = Field(60.0, gt=0, description="longest audio file read (longer ones are refused)")
    trim_db: Optional[float] = Field(None, gt=0, description="manifests: cut each clip's leading and trailing "
                                                             "frames this many dB under its loudest (text_to_speech "
                                                             "recipes: 40; null: keep them)")
    max_len: int = Field(1000, gt=0, description="training pairs longer than this (tokens or frames, either side) "
                                                 "are dropped")

    @model_validator(mode="after")
    def _one_source(self) -> "FramesDataConfig":
        given = [name for name in ("train", "digits", "synthetic") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"needs exactly one of train (a manifest), digits or synthetic (got "
                             f"{', '.join(given) or 'none'})")
        _check_held_out(self.valid, self.valid_split)
        return self

    @property
    def is_audio(self) -> bool:
        return self.synthetic is None


class FrameFrontendConfig(_Strict):
    """Feature frames in: optional subsampling by stacking neighbouring frames, then a projection."""

    stack: int = Field(1, ge=1, description="frames stacked into one encoder input (time reduced this many times)")
    size: Optional[int] = Field(None, gt=0, description="projection size (default model.embedding_size)")
    dropout: float = Field(0.0, ge=0, lt=1, description="on the projected frames")


class TextFrontendConfig(_Strict):
    """Characters or words in: the token embedding, then optional 1-D convolutions (Tacotron 2's encoder)."""

    conv_layers: int = Field(0, ge=0, description="convolutions over the embeddings before the RNN (0 = none)")
    kernel: int = Field(5, ge=1, description="convolution width in tokens (odd)")

    @model_validator(mode="after")
    def _odd(self) -> "TextFrontendConfig":
        if self.kernel % 2 == 0:
            raise ValueError(f"kernel={self.kernel}: must be odd, so each position keeps its place")
        return self


class FrameHeadConfig(_Strict):
    """Feature frames out: `reduction` frames per decoder step plus a stop logit; prenet on the fed-back frame."""

    reduction: int = Field(2, ge=1, description="frames written per decoder step (r)")
    prenet_size: int = Field(128, gt=0, description="prenet hidden size (its output is model.embedding_size)")
    prenet_dropout: float = Field(0.5, ge=0, lt=1, description="prenet dropout, kept on at inference (Tacotron)")
    stop_weight: float = Field(5.0, gt=0, description="positive-class weight of the stop flag's BCE")
    mse: bool = Field(True, description="add MSE to the L1 frame loss")
    max_steps: int = Field(1000, gt=0, description="generation always ends after this many decoder steps")
    max_steps_per_token: Optional[int] = Field(None, gt=0, description="and after this many steps per input token "
                                                                      "(+ one token's worth; null: max_steps only)")
    postnet_layers: int = Field(0, ge=0, description="residual convolutions refining the whole spectrogram "
                                                     "(Tacotron 2 uses 5; 0 = no postnet)")
    postnet_channels: int = Field(256, gt=0, description="channels of the postnet's inner layers")
    guided_attention: float = Field(0.0, ge=0, description="weight of the guided attention loss (Tachibana et al. "
                                                           "2017: attention far from the diagonal costs; 0 = off)")
    guided_width: float = Field(0.2, gt=0, description="how far from the diagonal attention may stray for free "
                                                       "(g, as a share of the lengths)")


class SpeechToTextModelConfig(ModelConfig):
    frontend: FrameFrontendConfig = FrameFrontendConfig()
    ctc_weight: float = Field(0.0, ge=0, lt=1, description="joint CTC loss on the encoder states, weight λ: "
                                                            "λ·CTC + (1 − λ)·attention (0 = off; training only)")

    @model_validator(mode="after")
    def _no_source_words(self) -> "SpeechToTextModelConfig":
        if self.encoder.word_dropout:
            raise ValueError(f"encoder.word_dropout={self.encoder.word_dropout} drops source tokens; speech_to_text "
                             f"reads feature frames (use data.spec_augment to mask frames)")
        return self


class TextToSpeechModelConfig(ModelConfig):
    frontend: TextFrontendConfig = TextFrontendConfig()
    head: FrameHeadConfig = FrameHeadConfig()

    @model_validator(mode="after")
    def _untied(self) -> "TextToSpeechModelConfig":
        if self.tie_embeddings:
            raise ValueError("tie_embeddings needs a token head; text_to_speech writes frames")
        if self.decoder.word_dropout:
            raise ValueError(f"decoder.word_dropout={self.decoder.word_dropout} drops previous target tokens; "
                             f"text_to_speech writes frames (its prenet dropout plays that part)")
        return self


class _TaskConfig(_Strict):
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
    def _metric(self) -> "_TaskConfig":
        """The task's primary metric when train.valid_metric was not given; a named error when it does not apply."""
        if "valid_metric" not in self.train.model_fields_set:
            self.train.__dict__["valid_metric"] = self.PRIMARY_METRIC
        elif self.train.valid_metric not in self.METRICS:
            raise ValueError(f"train.valid_metric={self.train.valid_metric!r} is not reported by task {self.task} "
                             f"(allowed: {', '.join(self.METRICS)})")
        return self


class TranslationConfig(_TaskConfig):
    """text → text: translation, question answering, the synthetic text tasks."""

    task: Literal["translation"] = Field("translation", description="translation | speech_to_text | text_to_speech")
    data: DataConfig

    PRIMARY_METRIC = "bleu"
    METRICS = ("bleu", "chrf", "loss", "accuracy")


class SpeechToTextConfig(_TaskConfig):
    """feature frames (speech) → text."""

    task: Literal["speech_to_text"] = Field(description="feature frames (speech) in, text out")
    data: FramesDataConfig
    model: SpeechToTextModelConfig = Field(SpeechToTextModelConfig(), description="the architecture, with the "
                                                                                  "frame frontend")

    PRIMARY_METRIC = "wer"
    METRICS = ("wer", "cer", "loss", "accuracy")


class TextToSpeechConfig(_TaskConfig):
    """text → feature frames (speech)."""

    task: Literal["text_to_speech"] = Field(description="text in, feature frames (speech) out")
    data: FramesDataConfig
    model: TextToSpeechModelConfig = Field(TextToSpeechModelConfig(), description="the architecture, with the "
                                                                                  "frame head")

    PRIMARY_METRIC = "loss"
    METRICS = ("loss", "l1")


Config = Union[TranslationConfig, SpeechToTextConfig, TextToSpeechConfig]
CONFIGS: dict[str, type[_TaskConfig]] = {"translation": TranslationConfig, "speech_to_text": SpeechToTextConfig,
                                         "text_to_speech": TextToSpeechConfig}   # task: its config (see register)


def register_config(task: str, config: type[_TaskConfig]) -> None:
    """A task's config class, for `validate` to pick by the `task:` field (`tasks.register` calls this)."""
    CONFIGS[task] = config


# ----------------------------------------------------------------------------------------------------------------
# Loading, overrides and error messages

def _describe_error(err: dict[str, Any], origin: str, root: type[BaseModel], overridden: frozenset[str]) -> str:
    key = ".".join(str(p) for p in err["loc"]) or "(top level)"
    if key in overridden:                    # the value came from the command line, not the file
        origin = "--set"
    if err["type"] == "extra_forbidden":
        return f"{origin}: {unknown_key(tuple(str(p) for p in err['loc']), root)}"
    if err["type"] == "missing":
        return f"{origin}: {key} is required"
    msg = err["msg"].removeprefix("Value error, ")
    if "input" in err and not isinstance(err["input"], dict):
        return f"{origin}: {key} = {err['input']!r}: {msg}"
    return f"{origin}: {key}: {msg}"


def unknown_key(parts: tuple[str, ...], root: type[BaseModel]) -> str:
    """`unknown key 'a.b'` with the likeliest meant key (a near spelling in the same section, or the same name in
    another section), else the keys allowed there."""
    key, parent = ".".join(parts), _model_at(parts[:-1], root)
    here = list(parent.model_fields) if parent else []
    near = difflib.get_close_matches(parts[-1], here, n=1, cutoff=0.6)
    if near:
        return f"unknown key {key!r}; did you mean {'.'.join((*parts[:-1], near[0]))!r}?"
    elsewhere = [k for k in _all_keys(root) if k.rsplit(".", 1)[-1] == parts[-1]]
    if elsewhere:
        return f"unknown key {key!r}; did you mean {' or '.join(repr(k) for k in elsewhere[:3])}?"
    return f"unknown key {key!r} (allowed here: {', '.join(here) or '?'})"


def _all_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every field's dotted key below `model`, sections included."""
    keys = []
    for name in model.model_fields:
        key = prefix + name
        keys.append(key)
        sub = _model_at((name,), model)
        if sub is not None:
            keys.extend(_all_keys(sub, key + "."))
    return keys


def _model_at(loc: tuple, root: type[BaseModel]) -> Optional[type[BaseModel]]:
    """The config class at `loc` below `root` (a task's config class); None where loc is not a section. A field
    holds one section class, or None (`Optional[...]`): a union of several sections would be ambiguous here, so
    tasks are chosen at the root (`task:`), never by a union inside a section."""
    model: type[BaseModel] = root
    for part in loc:
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        ann = field.annotation
        candidates = [c for c in (ann, *(getattr(ann, "__args__", None) or ()))
                      if isinstance(c, type) and issubclass(c, BaseModel)]
        if len(candidates) != 1:
            return None
        model = candidates[0]
    return model


def task_config_class(raw: dict[str, Any], origin: str = "config") -> type["_TaskConfig"]:
    """The config class `raw`'s `task:` selects (translation when absent: configs and runs made before tasks)."""
    task = raw.get("task", "translation")
    if task not in CONFIGS:
        raise UserError(f"{origin}: task = {task!r}: unknown task (allowed: {', '.join(CONFIGS)})")
    return CONFIGS[task]


def validate(raw: dict[str, Any], origin: str = "config", overridden: frozenset[str] = frozenset()) -> Config:
    """Build a task's config from a plain dict, turning validation errors into one-line `UserError`s (blamed on
    `--set` for the `overridden` keys, on `origin` for the others)."""
    if not isinstance(raw, dict):
        raise UserError(f"{origin}: expected a mapping of sections (task, data, tokenizer, model, train, decode), "
                        f"got {type(raw).__name__}")
    root = task_config_class(raw, origin)
    try:
        return root.model_validate(raw)
    except ValidationError as exc:
        raise UserError("; ".join(_describe_error(e, origin, root, overridden) for e in exc.errors())) from None


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply `key.path=value` strings to a raw config dict (values parsed as YAML)."""
    for item in sorted(overrides, key=lambda item: not item.strip().startswith("task=")):   # the task first
        root = task_config_class(raw, "--set")
        if "=" not in item:
            raise UserError(f"--set {item!r}: expected key=value, e.g. --set train.lr=5e-4")
        key, value = item.split("=", 1)
        parts = key.strip().split(".")
        try:
            parsed = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            parsed = value
        if parsed is not None and not isinstance(parsed, str) and _is_text_field(parts, root):
            parsed = value            # data.src_lang=no is the language "no", not False
        _check_key(parts, root)
        node = raw
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = parsed
        if parts[:1] == ["train"] and parts[-1] in _BATCH_KEYS:   # one batch budget replaces the other
            other = _BATCH_KEYS[1 - _BATCH_KEYS.index(parts[-1])]
            node.pop(other, None)
    return raw


_BATCH_KEYS = ["batch_sentences", "batch_tokens"]


def _check_key(parts: list[str], root: type[BaseModel]) -> None:
    """A `--set` key names a field: its sections exist and the last part is one of the last section's fields."""
    for depth in range(1, len(parts) + 1):
        parent = _model_at(tuple(parts[: depth - 1]), root)
        if parent is None or parts[depth - 1] not in parent.model_fields:
            raise UserError(f"--set {'.'.join(parts)}: {unknown_key(tuple(parts[:depth]), root)}")
        if depth < len(parts) and _model_at(tuple(parts[:depth]), root) is None:
            raise UserError(f"--set {'.'.join(parts)}: {'.'.join(parts[:depth])} is a value, not a section")


def overridden_keys(overrides: list[str]) -> frozenset[str]:
    return frozenset(item.split("=", 1)[0].strip() for item in overrides if "=" in item)


def _is_text_field(parts: list[str], root: type[BaseModel]) -> bool:
    parent = _model_at(tuple(parts[:-1]), root)
    field = parent.model_fields.get(parts[-1]) if parent else None
    return field is not None and field.annotation in (str, Optional[str])


def read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise UserError(f"config file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UserError(f"{path}:{where}: YAML syntax error: {problem}") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 (byte offset {exc.start})") from None
    return raw if raw is not None else {}


def resolve_paths(config: Config, base: Path) -> Config:
    """Make `data.root` absolute, relative to `base` (the config file's folder); no root means `base` itself."""
    data = config.data
    if data.root is None and data.train is not None and data.synthetic is None:     # files named by the config
        data.root = str(base)
    elif getattr(data, "root", None) is not None:
        data.root = _absolute(data.root, base)
    digits = getattr(data, "digits", None)
    if digits is not None and digits.recordings is not None:
        digits.recordings = _absolute(digits.recordings, base)
    if config.tokenizer.from_run is not None:
        config.tokenizer.from_run = _absolute(config.tokenizer.from_run, base)
    return config


def _absolute(path: str, base: Path) -> str:
    resolved = Path(os.path.expandvars(os.path.expanduser(path)))
    return str(resolved if resolved.is_absolute() else (base / resolved).resolve())


# relative to the config file, or to the current folder for --set
PATH_KEYS = ("data.root", "data.digits.recordings", "tokenizer.from_run")


def load_config(path: str | Path, overrides: Optional[list[str]] = None) -> Config:
    """Read a YAML config file, apply `--set` overrides, validate and resolve paths."""
    path = Path(path)
    overrides = list(overrides or [])
    for i, item in enumerate(overrides):   # a path given on the command line is relative to the current folder
        key, _, value = item.partition("=")
        if key.strip() in PATH_KEYS and value and not Path(os.path.expanduser(value)).is_absolute():
            overrides[i] = f"{key.strip()}={Path(value).resolve()}"
    raw = apply_overrides(read_yaml(path), overrides)
    return resolve_paths(validate(raw, str(path), overridden_keys(overrides)), path.resolve().parent)


def dump_config(config: Config) -> str:
    return yaml.safe_dump(config.to_dict(), sort_keys=False)


def _field_line(key: str, field, optional: bool) -> str:
    default = ("required, if set" if optional else "required") if field.is_required() else repr(field.default)
    ann = field.annotation
    ann = ann.__name__ if isinstance(ann, type) else str(ann).replace("typing.", "")
    return f"{key:32} {default:14} {ann}  {field.description or ''}".rstrip()


def describe_fields() -> str:
    """Every field of every task's config with its default and description (`seq2seq config`): the translation
    config whole, then for each other task what its config adds to translation's or replaces."""
    lines: list[str] = []

    def walk(model: type[BaseModel], prefix: str, root: type[BaseModel], optional: bool = False) -> None:
        """optional: `model` is a section that may be left out, so its required fields are required only in it."""
        same = _model_at(tuple(prefix.split(".")[:-1]), TranslationConfig) if prefix else None
        inherited = same is not None and issubclass(model, same)           # e.g. every ModelConfig field
        for name, field in model.model_fields.items():
            key = f"{prefix}{name}"
            sub = _model_at(tuple(key.split(".")), root)
            shown = root is TranslationConfig or not (inherited and name in same.model_fields) or name == "task"
            may_omit = not field.is_required() and field.default is None
            if sub is not None and shown and may_omit:
                lines.append(f"{key:32} {'None':14} section  {field.description or ''} (optional: the "
                             f"'if set' fields below are required only when it is given)")
            if sub is not None:
                walk(sub, key + ".", root, optional or may_omit)
            elif shown:
                lines.append(_field_line(key, field, optional))

    for task, root in CONFIGS.items():
        lines.append(f"# task: {task} — {root.__doc__.strip().splitlines()[0]}" +
                     ("" if root is TranslationConfig else " Besides translation's fields:"))
        walk(root, "", root)
    return "\n".join(lines)
