"""Text alone → a recurrent language model (`task: language_model`): sentences from text files and manifests,
a tokenizer of its own or another run's (`tokenizer.from_run`: a recogniser's, so that shallow fusion sees the same
ids), validation by perplexity. Its runs are what `decode.lm` names for fusion in search."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch

from .. import checkpoint as ckpt
from ..config import LanguageModelConfig
from ..data.batching import Batch, make_batch, plan_batches
from ..data.text.lm_texts import read_lm_texts
from ..data.text.tokenizers import Tokenizer, load_tokenizers, save_tokenizers, train_tokenizer
from ..errors import warn
from ..model.language_model import LanguageModel
from ..rundir import RunDir
from .base import Splits, Task


@dataclass
class LanguageModelData:
    train: list[list[int]]
    valid: list[list[int]]
    report: str

    def train_lengths(self) -> tuple[list[int], list[int]]:
        lengths = [len(s) for s in self.train]
        return lengths, lengths

    def train_batch(self, ids: Sequence[int]) -> Batch:
        return sentences_batch([self.train[i] for i in ids])


def sentences_batch(sentences: list[list[int]]) -> Batch:
    """Token id lists as a batch whose target is the sentence (the source is not read by the model)."""
    return make_batch([s[:1] for s in sentences], sentences)


def perplexity_batches(sentences: list[list[int]], size: int) -> list[Batch]:
    lengths = [len(s) for s in sentences]
    plan = plan_batches(lengths, lengths, epoch=0, seed=0, batch_sentences=size, shuffle=False)
    return [sentences_batch([sentences[i] for i in ids]) for ids in plan]


@torch.no_grad()
def mean_loss(model: LanguageModel, sentences: list[list[int]], batch_size: int) -> tuple[float, int]:
    """(cross-entropy per token, EOS included; tokens scored) of `sentences` under the model (eval mode)."""
    device = next(model.parameters()).device
    total, tokens = 0.0, 0
    for batch in perplexity_batches([s for s in sentences if s], batch_size):
        total += float(model(batch.to(device)))
        tokens += batch.n_tokens
    return total / max(1, tokens), tokens


class LanguageModelTask(Task):
    name = "language_model"
    predictor_class = "seq2seq.inference.lm_scorer:LanguageModelScorer"
    routes = "seq2seq.serving.scoring:ROUTES"
    config_class = LanguageModelConfig
    text_sides = ("tgt",)

    def read_data(self, splits: tuple[str, ...] = ("train", "valid")) -> Splits:
        return read_lm_texts(self.config.data, splits)

    def build_vocab(self, data: Splits) -> Tokenizer:
        tok = self.config.tokenizer
        if tok.from_run is not None:
            return load_tokenizers(RunDir(tok.from_run).tokenizer)[1]      # the run's output side
        return train_tokenizer(tok.type, data["train"], model_type=tok.model_type, vocab_size=tok.vocab_size,
                               character_coverage=tok.character_coverage, min_freq=tok.min_freq,
                               seed=self.config.train.seed)

    def save_vocab(self, run_dir: Path, vocab: Tokenizer) -> None:
        save_tokenizers(RunDir(run_dir).tokenizer, vocab, vocab)

    def load_vocab(self, run_dir: Path) -> Tokenizer:
        return ckpt.tokenizers_of(run_dir)[1]

    def encode(self, data: Splits, vocab: Tokenizer) -> LanguageModelData:
        limit = self.config.data.max_len
        train = [vocab.encode(s) for s in data["train"]]
        kept = [ids for ids in train if 0 < len(ids) <= limit]
        if len(kept) < len(train):
            warn(f"{len(train) - len(kept):,} training sentences that are empty or longer than data.max_len={limit} "
                 f"are skipped")
        valid = [vocab.encode(s) for s in data["valid"]]
        return LanguageModelData(kept, valid, f"data: {len(kept):,} training sentences "
                                              f"({sum(map(len, kept)):,} tokens); {len(valid):,} validation "
                                              f"sentences; vocabulary {vocab.vocab_size}")

    def build_model(self, vocab: Tokenizer) -> LanguageModel:
        return LanguageModel(self.config.model, vocab.vocab_size)

    def describe_model(self, model: LanguageModel) -> str:
        m = self.config.model
        return f"language model: {m.layers} × {m.rnn} {m.hidden_size}, {model.num_parameters():,} parameters"

    def validate(self, model: LanguageModel, data: LanguageModelData, vocab: Tokenizer) -> dict[str, float]:
        model.eval()
        loss, _ = mean_loss(model, data.valid, self.config.decode.batch_size)
        model.train()
        return {"loss": round(loss, 4), "ppl": round(math.exp(min(loss, 50)), 3)}

    def summarize(self, result: dict[str, float]) -> str:
        return f"loss {result['loss']:.3f} ppl {result['ppl']:.3f}"
