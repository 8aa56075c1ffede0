"""From a config to training data: read the corpora (or generate the synthetic task), build the tokenizers,
encode and filter the pairs (`Dataset`), and keep generated splits beside the model."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import torch

from ...config import Config
from ...errors import UserError, warn
from ...files import write_atomic
from ...rundir import RunDir
from ..batching import Batch, make_batch
from ..held_out import held_out_size, hold_out
from . import synthetic as synthetic_text
from .corpora import read_corpus
from .lines import Corpus
from .tokenizers import Tokenizer, load_tokenizers, sampled_pairs, train_tokenizer


@dataclass
class Dataset:
    """Token ids of the training pairs (filtered) and the validation set (all lines, for BLEU)."""

    train_src: list[list[int]]
    train_tgt: list[list[int]]
    valid_src: list[list[int]]
    valid_tgt: list[list[int]]
    valid_refs: list[str]
    report: str
    valid_truncated: set[int] = field(default_factory=set)   # 1-based lines whose source was cut to max_src_len
    sampling: Optional["SubwordSampling"] = None             # tokenizer.sampling_alpha > 0: segmentations drawn

    def train_lengths(self) -> tuple[list[int], list[int]]:
        """Source and target length of each training pair (what batch plans bucket by)."""
        return [len(s) for s in self.train_src], [len(t) for t in self.train_tgt]

    def train_batch(self, ids: Sequence[int]) -> Batch:
        """The pairs `ids` padded into a batch; with subword sampling, freshly segmented (seeded from torch's
        generator, which checkpoints save, so a resumed run draws what an uninterrupted one would)."""
        if self.sampling is not None:
            return make_batch(*self.sampling.draw(ids))
        return make_batch([self.train_src[i] for i in ids], [self.train_tgt[i] for i in ids])


@dataclass
class SubwordSampling:
    """What subword regularisation needs: the kept training pairs' text, both tokenizers and the smoothing."""

    texts: list[tuple[str, str]]
    src_tok: Tokenizer
    tgt_tok: Tokenizer
    alpha: float

    def draw(self, ids: Sequence[int]) -> tuple[list[list[int]], list[list[int]]]:
        """Fresh segmentations of the pairs `ids`, seeded from torch's generator."""
        seed = int(torch.randint(2**31 - 1, ()))
        return sampled_pairs(self.src_tok, self.tgt_tok, [self.texts[i] for i in ids], self.alpha, seed)


def load_corpora(config: Config, splits: tuple[str, ...] = ("train", "valid")) -> dict[str, Corpus]:
    """The training and validation corpora (or only `splits`; synthetic tasks always generate all three)."""
    data = config.data
    if data.synthetic is not None:
        syn = data.synthetic
        generated = synthetic_text.generate(syn.task, {"train": syn.train_size, "valid": syn.valid_size,
                                                       "test": syn.test_size},
                           syn.seed, syn.min_len, syn.max_len, syn.symbols)
        return {k: Corpus(s, t, f"synthetic {syn.task} ({k})") for k, (s, t) in generated.items()}
    names = {"train": data.train, "valid": data.valid}
    if data.valid is None:                      # validation is held out of the training corpus
        train = read_corpus(data.root, data.train, data.src_lang, data.tgt_lang)
        corpora = dict(zip(("train", "valid"), hold_out(train, held_out_size(len(train), data.valid_split),
                                                         data.split_seed)))
        return {k: corpora[k] for k in splits}
    corpora = {k: read_corpus(data.root, names[k], data.src_lang, data.tgt_lang) for k in splits}
    if "train" in corpora and "valid" in corpora and corpora["train"].origin == corpora["valid"].origin:
        warn(f"the validation corpus is the training corpus ({corpora['train'].origin}): validation scores will "
             f"not show overfitting")
    return corpora


def build_tokenizers(config: Config, train: Corpus) -> tuple[Tokenizer, Tokenizer]:
    """Source and target tokenizers trained on `train` (one object for both when joint), or those of
    `tokenizer.from_run`."""
    tok = config.tokenizer
    if tok.from_run is not None:
        return load_tokenizers(RunDir(tok.from_run).tokenizer)
    kwargs = dict(model_type=tok.model_type, vocab_size=tok.vocab_size, character_coverage=tok.character_coverage,
                  min_freq=tok.min_freq, seed=config.train.seed)
    if tok.joint:
        joint = train_tokenizer(tok.type, train.src + train.tgt, **kwargs)
        if tok.per_side_vocab:
            return joint.restricted(train.src), joint.restricted(train.tgt)
        return joint, joint
    return train_tokenizer(tok.type, train.src, **kwargs), train_tokenizer(tok.type, train.tgt, **kwargs)


def encode_data(config: Config, corpora: dict[str, Corpus], src_tok: Tokenizer, tgt_tok: Tokenizer) -> Dataset:
    """Encode both splits: training pairs with an empty side or longer than data.max_len are dropped (with a
    warning), validation sources longer than model.max_src_len are truncated as `translate` would."""
    train, valid = corpora["train"], corpora["valid"]
    pairs, dropped = _training_pairs(train, src_tok, tgt_tok, config.data.max_len)
    valid_src, cut = _validation_sources(valid, src_tok, config.model.max_src_len)
    held = " held out of train (data.valid_split; see RUN/data/valid.*)" if valid.lines is not None else ""
    report = (f"data: {len(pairs):,} training pairs kept of {len(train):,} ({dropped}); {len(valid):,} validation "
              f"pairs{held}; vocabulary {src_tok.vocab_size:,} source / {tgt_tok.vocab_size:,} target")
    alpha = config.tokenizer.sampling_alpha
    sampling = SubwordSampling([(p[2], p[3]) for p in pairs], src_tok, tgt_tok, alpha) if alpha else None
    if sampling is not None:
        report += f"; subword sampling in training (alpha {alpha})"
    return Dataset([p[0] for p in pairs], [p[1] for p in pairs], valid_src,
                   [tgt_tok.encode(t) for t in valid.tgt], list(valid.tgt), report, set(cut), sampling)


def _training_pairs(train: Corpus, src_tok: Tokenizer, tgt_tok: Tokenizer,
                    max_len: int) -> tuple[list[tuple[list[int], list[int], str, str]], str]:
    """The pairs kept (ids and text of each side), and what was dropped (for the data report)."""
    pairs, empty, long = [], [], []
    for index, (s, t) in enumerate(zip(train.src, train.tgt)):
        number = train.line(index)
        si, ti = src_tok.encode(s), tgt_tok.encode(t)
        if not si or not ti:
            empty.append(number)
        elif len(si) > max_len or len(ti) > max_len:
            long.append(number)
        else:
            pairs.append((si, ti, s, t))
    if not pairs:
        raise UserError(f"no training pairs left after filtering {train.origin} "
                        f"({len(empty)} with an empty side, {len(long)} longer than data.max_len={max_len})")
    if empty:
        warn(f"{train.origin}: {len(empty):,} training pairs with an empty (or whitespace-only) side are skipped "
             f"(lines {_some(empty)})")
    if long:
        warn(f"{train.origin}: {len(long):,} training pairs longer than data.max_len={max_len} tokens are skipped "
             f"(lines {_some(long)})")
    return pairs, f"{len(empty):,} empty, {len(long):,} longer than {max_len} tokens dropped"


def _validation_sources(valid: Corpus, src_tok: Tokenizer, limit: int) -> tuple[list[list[int]], list[int]]:
    """Encoded validation sources (an empty line stays empty) cut to `limit` tokens, and the 1-based lines cut."""
    sources = [src_tok.encode(s) if s.strip() else [] for s in valid.src]
    cut = [number for number, ids in enumerate(sources, start=1) if len(ids) > limit]
    if cut:   # as translate does: the model reads at most max_src_len tokens
        warn(f"{valid.origin}: {len(cut):,} validation sources longer than model.max_src_len={limit} tokens are "
             f"truncated for decoding and left out of the validation loss (lines "
             f"{_some([valid.line(n - 1) for n in cut])})")
        sources = [ids[:limit] for ids in sources]
    return sources, cut


def _some(numbers: list[int], shown: int = 5) -> str:
    return ", ".join(map(str, numbers[:shown])) + (", ..." if len(numbers) > shown else "")


def write_splits(folder: Path, corpora: dict[str, Corpus]) -> None:
    """Write each split as folder/SPLIT.src and folder/SPLIT.tgt (what `translate`/`evaluate` read)."""
    for split, corpus in corpora.items():
        for side, lines in (("src", corpus.src), ("tgt", corpus.tgt)):
            write_atomic(folder / f"{split}.{side}", "".join(line + "\n" for line in lines).encode("utf-8"))
