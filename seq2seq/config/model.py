"""The architecture: encoder, decoder family and score, and the frontend and head settings of the frames tasks."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, model_validator

from .base import Strict
from .scores import SCORES, default_score, scores_for

ScoreName = Literal[tuple(SCORES)]   # type: ignore[valid-type]   # every score of config/scores.py


class EncoderConfig(Strict):
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

    @property
    def output_size(self) -> int:
        """Size of one encoder state (what attention and an encoder-side loss read): hidden_size per direction."""
        return self.hidden_size * (2 if self.bidirectional else 1)

    @model_validator(mode="after")
    def _residual_needs_depth(self) -> "EncoderConfig":
        if self.residual and self.layers < 2:
            raise ValueError(f"residual=true adds each layer's input to its output above the first layer; it needs "
                             f"layers >= 2 (got layers={self.layers})")
        return self


class DecoderConfig(Strict):
    attention: Literal["vanilla", "bahdanau", "luong"] = Field(
        "luong", description="vanilla = no attention (fixed context vector, Cho 2014); bahdanau = additive on the "
                             "previous state; luong = global attention on the current state")
    score: Optional[ScoreName] = Field(
        None, description="luong: dot, general (default), concat or location; bahdanau: additive (default) or "
                          "location (location-aware: also reads the previous and cumulative weights, Chorowski 2015)")
    input_feeding: Optional[bool] = Field(None, description="luong only: feed the attentional state back "
                                                            "(default true)")
    alignment: Literal["global", "local-m", "local-p"] = Field(
        "global", description="luong only: attend to every source position, or to a window of half-width `window` "
                              "around p_t = t (local-m) or a predicted p_t (local-p)")
    window: int = Field(10, ge=1, description="luong local attention: half-width D of the window")
    rnn: Literal["gru", "lstm"] = Field("gru", description="recurrent cell of every decoder layer")
    hidden_size: int = Field(512, gt=0, description="decoder state size")
    layers: int = Field(1, gt=0, description="stacked recurrent layers")
    attention_size: Optional[int] = Field(None, gt=0, description="additive/concat score size (default hidden_size)")
    location_channels: int = Field(32, gt=0, description="location score: filters of its convolution over the "
                                                         "previous and cumulative weights")
    location_kernel: int = Field(31, gt=0, description="location score: width of that convolution (odd)")
    dropout: float = Field(0.2, ge=0, lt=1, description="on embeddings, between layers and before the output layer")
    word_dropout: float = Field(0.0, ge=0, lt=1, description="token outputs only: in training, the embedding of each "
                                                             "previous target token the decoder reads is dropped "
                                                             "whole with this probability; 0 = off")

    @model_validator(mode="after")
    def _family(self) -> "DecoderConfig":
        if self.score is not None and self.score not in scores_for(self.attention):
            where = "attention=" + " or ".join(SCORES[self.score].families)
            raise ValueError(f"score={self.score!r} applies only to {where} (got {self.attention!r})")
        if self.location_kernel % 2 == 0:
            raise ValueError(f"location_kernel={self.location_kernel}: the width must be odd (the convolution is "
                             f"centred on each position)")
        if self.attention != "luong":
            if self.input_feeding:
                raise ValueError(f"input_feeding applies only to attention=luong (got {self.attention!r})")
            if self.alignment != "global":
                raise ValueError(f"alignment={self.alignment!r} applies only to attention=luong "
                                 f"(got {self.attention!r})")
        if self.alignment != "global" and self.score is not None and SCORES[self.score].stateful:
            content = ", ".join(n for n in scores_for("luong") if not SCORES[n].stateful)
            raise ValueError(f"alignment={self.alignment!r} needs a content score ({content}), not {self.score}")
        return self

    @property
    def luong_score(self) -> str:
        return self.score or default_score("luong")

    @property
    def score_name(self) -> Optional[str]:
        """The score this decoder uses: the configured one, or its family's default (None: vanilla)."""
        return self.score or default_score(self.attention)

    @property
    def feeds_input(self) -> bool:
        return self.attention == "luong" and self.input_feeding is not False

    @property
    def family(self) -> str:
        """The decoder family in words, e.g. `luong/concat/local-m D=10, input feeding` (logs and reports)."""
        if self.attention != "luong":
            return self.attention + (f"/{self.score}" if self.score and self.score != default_score(self.attention)
                                     else "")
        window = f"/{self.alignment} D={self.window}" if self.alignment != "global" else ""
        return f"luong/{self.luong_score}{window}" + (", input feeding" if self.feeds_input else "")


class ModelConfig(Strict):
    embedding_size: int = Field(256, gt=0, description="source and target embeddings")
    encoder: EncoderConfig = Field(EncoderConfig(), description="the encoder: its recurrent layers over the input")
    decoder: DecoderConfig = Field(DecoderConfig(), description="the decoder: its family (attention), score and "
                                                                "recurrent layers")
    bridge: Literal["linear", "zero"] = Field(
        "linear", description="decoder initial state: tanh(W · encoder final state), or zeros")
    tie_embeddings: bool = Field(False, description="share target embedding and output projection")
    max_src_len: int = Field(400, gt=0, description="longer inputs are truncated at decoding time, with a warning")

    @property
    def family(self) -> str:
        """What `seq2seq runs` lists as the architecture: the decoder family."""
        return self.decoder.family

    @property
    def summary(self) -> str:
        """The architecture in one phrase (reports)."""
        return f"decoder {self.decoder.family}, {self.encoder.rnn} encoder"

    @property
    def decoder_output_size(self) -> int:
        """Size of the decoder's output vector: the embedding size when tied to the output layer."""
        return self.embedding_size if self.tie_embeddings else self.decoder.hidden_size

    @model_validator(mode="after")
    def _sizes(self) -> "ModelConfig":
        memory = self.encoder.hidden_size * (2 if self.encoder.bidirectional else 1)
        dot = self.decoder.attention == "luong" and self.decoder.luong_score == "dot"
        if dot and memory != self.decoder.hidden_size:
            raise ValueError(f"score=dot needs encoder output size ({memory}) == decoder.hidden_size "
                             f"({self.decoder.hidden_size}); use general or concat")
        return self


class FrameFrontendConfig(Strict):
    """Feature frames in: optional subsampling by stacking neighbouring frames, then a projection."""

    stack: int = Field(1, ge=1, description="frames stacked into one encoder input (time reduced this many times)")
    size: Optional[int] = Field(None, gt=0, description="projection size (default model.embedding_size)")
    dropout: float = Field(0.0, ge=0, lt=1, description="on the projected frames")


class TextFrontendConfig(Strict):
    """Characters or words in: the token embedding, then optional 1-D convolutions (Tacotron 2's encoder)."""

    conv_layers: int = Field(0, ge=0, description="convolutions over the embeddings before the RNN (0 = none)")
    kernel: int = Field(5, ge=1, description="convolution width in tokens (odd)")

    @model_validator(mode="after")
    def _odd(self) -> "TextFrontendConfig":
        if self.kernel % 2 == 0:
            raise ValueError(f"kernel={self.kernel}: must be odd, so each position keeps its place")
        return self


class FrameHeadConfig(Strict):
    """Feature frames out: `reduction` frames per decoder step plus a stop logit; prenet on the fed-back frame."""

    reduction: int = Field(2, ge=1, description="frames written per decoder step (r)")
    prenet_size: int = Field(128, gt=0, description="prenet hidden size (its output is model.embedding_size)")
    prenet_dropout: float = Field(0.5, ge=0, lt=1, description="prenet dropout, kept on at inference (Tacotron)")
    stop_weight: float = Field(5.0, gt=0, description="positive-class weight of the stop flag's BCE")
    stop_threshold: float = Field(0.5, gt=0, lt=1, description="generation ends at the first step whose stop "
                                                               "probability is above this")
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
    guided_schedule: Optional[tuple[int, int]] = Field(
        None, description="[start, end] updates: from start the guided loss's weight falls linearly to 0 and its "
                          "width widens to twice guided_width at end, off after (null: constant)")

    @model_validator(mode="after")
    def _schedule(self) -> "FrameHeadConfig":
        s = self.guided_schedule
        if s is not None and not 0 <= s[0] < s[1]:
            raise ValueError(f"guided_schedule={list(s)}: expected [start, end] updates with 0 <= start < end")
        return self


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


class ImageFrontendConfig(Strict):
    """Images in: pixel columns (`columns`: the frames frontend, `stack` columns per input) or a small CRNN-style
    convolutional frontend (`conv`: conv + pool blocks, Shi et al. 2015) that turns the 2-D image into a sequence
    of column features."""

    kind: Literal["conv", "columns"] = Field("conv", description="conv: convolutions over the 2-D image; columns: "
                                                                 "each (stacked) pixel column projected")
    channels: list[int] = Field([32, 64, 128], min_length=1, description="conv: output channels of each block "
                                                                          "(3 × 3 convolution, ReLU, pooling)")
    pool_width: list[int] = Field([2, 2, 1], min_length=1, description="conv: each block's pooling across the "
                                                                        "width (the sequence shortens by their "
                                                                        "product)")
    stack: int = Field(1, ge=1, description="columns: pixel columns stacked into one encoder input")
    size: Optional[int] = Field(None, gt=0, description="projection size (default model.embedding_size)")
    dropout: float = Field(0.0, ge=0, lt=1, description="on the projected column features")

    @model_validator(mode="after")
    def _blocks(self) -> "ImageFrontendConfig":
        if len(self.pool_width) != len(self.channels):
            raise ValueError(f"pool_width {self.pool_width} needs one entry per block of channels {self.channels}")
        if any(p not in (1, 2) for p in self.pool_width):
            raise ValueError(f"pool_width {self.pool_width}: each block pools the width by 1 or 2")
        return self


class ImageToTextModelConfig(SpeechToTextModelConfig):
    frontend: ImageFrontendConfig = ImageFrontendConfig()     # type: ignore[assignment]
    guided_attention: float = Field(0.0, ge=0, description="weight of the guided attention loss (Tachibana et al. "
                                                           "2017): a line is read left to right, so attention far "
                                                           "from the diagonal costs (0 = off; training only)")
    guided_width: float = Field(0.2, gt=0, description="how far from the diagonal attention may stray for free "
                                                       "(share of the image width)")
