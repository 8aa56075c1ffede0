"""The language-model task's sections (`task: language_model`): which texts it reads and the recurrent net."""

from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import Field, model_validator

from .base import Strict
from .text import TranscriptForm, check_held_out, split_seed_field, valid_split_field


class LanguageModelDataConfig(Strict):
    """Text alone, one sentence a line: plain text files, the first column of a `.tsv` (e.g. Tatoeba's English),
    the transcripts of an LJSpeech `metadata.csv` (its normalised text) or of a speech/image manifest `.tsv`
    named in `manifests`. Paths are relative to `root`."""

    root: Optional[str] = Field(None, description="folder the file names are relative to (default: the config "
                                                  "file's)")
    texts: list[str] = Field(min_length=1, description="training text files (.txt or any one-sentence-a-line file; "
                                                       ".tsv: the first column; metadata.csv: the normalised text)")
    manifests: list[str] = Field([], description="manifests (.tsv path<TAB>transcript, e.g. a recogniser's "
                                                 "RUN/data/train.tsv; relative to the config file) whose "
                                                 "transcripts join the training text")
    manifest_repeat: int = Field(1, ge=1, description="each manifest transcript this many times (in-domain text "
                                                      "weighs more than the rest)")
    valid: Optional[str] = Field(None, description="validation text file (absent: held out of the training text)")
    valid_split: Optional[Union[int, float]] = valid_split_field("sentences")
    split_seed: int = split_seed_field()
    test: Optional[str] = Field(None, description="test text file, recorded with the run (`seq2seq evaluate`)")
    transcripts: TranscriptForm = Field(
        "as_written", description="spoken: lower case, letters, digits and apostrophes (a recogniser's output form)")
    max_len: int = Field(300, gt=0, description="training sentences longer than this many tokens are dropped")

    @model_validator(mode="after")
    def _held_out(self) -> "LanguageModelDataConfig":
        check_held_out(self.valid, self.valid_split)
        return self


class LanguageModelNetConfig(Strict):
    """The recurrent language model: embeddings → stacked GRU/LSTM → the token head."""

    embedding_size: int = Field(128, gt=0, description="token embeddings")
    rnn: Literal["gru", "lstm"] = Field("lstm", description="recurrent cell")
    hidden_size: int = Field(512, gt=0, description="recurrent state size")
    layers: int = Field(2, gt=0, description="stacked recurrent layers")
    dropout: float = Field(0.2, ge=0, lt=1, description="on embeddings, between layers and before the output layer")
    tie_embeddings: bool = Field(False, description="share the embedding and the output projection (needs "
                                                    "hidden_size == embedding_size)")

    @property
    def family(self) -> str:
        return f"language model ({self.rnn})"

    @property
    def summary(self) -> str:
        return f"language model, {self.layers} × {self.rnn} {self.hidden_size}"

    @model_validator(mode="after")
    def _tied(self) -> "LanguageModelNetConfig":
        if self.tie_embeddings and self.hidden_size != self.embedding_size:
            raise ValueError(f"tie_embeddings needs hidden_size ({self.hidden_size}) == embedding_size "
                             f"({self.embedding_size})")
        return self
