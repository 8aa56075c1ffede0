"""What speech_to_text and text_to_speech share: frames on one side, text on the other.

The examples are (frames (n, feature_size), text) pairs: log-mel frames of audio clips (`data/speech.py`:
manifests or the built-in spoken digits), or the seeded frames task of `data/synthetic_frames.py`. The vocabulary
(`FramesVocab`) is one tokenizer trained on the text side, saved in the run directory as a joint tokenizer, and
for audio the per-feature mean and deviation of the training frames (`features.json`), which every frame is
normalised by, in training and at inference alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

import torch

from .. import checkpoint as ckpt
from ..data.audio.features import Normalizer
from ..data.audio.speech import read_speech
from ..data.batching import Batch
from ..data.synthetic_frames import generate
from ..data.text.tokenizers import Tokenizer, save_tokenizers, train_tokenizer
from ..errors import UserError, warn
from ..files import write_atomic
from ..rundir import RunDir
from .base import Splits, Task


@dataclass
class FramesVocab:
    text: Tokenizer
    frames: Optional[Normalizer] = None     # audio: mean/std of the training frames; None for the synthetic task
    sample_rate: Optional[int] = None       # audio: the training clips' (most common) rate, what synthesis writes

    def normalise(self, frames: torch.Tensor) -> torch.Tensor:
        return self.frames(frames) if self.frames is not None else frames

    def denormalise(self, frames: torch.Tensor) -> torch.Tensor:
        return self.frames.inverse(frames) if self.frames is not None else frames

    def save(self, run_dir: Path) -> None:
        save_tokenizers(RunDir(run_dir).tokenizer, self.text, self.text)
        if self.frames is not None:
            record = {**self.frames.to_dict(), "sample_rate": self.sample_rate}
            write_atomic(RunDir(run_dir).features, (json.dumps(record, indent=1) + "\n").encode("utf-8"))

    @classmethod
    def load(cls, run_dir: Path, audio: bool) -> "FramesVocab":
        path = RunDir(run_dir).features
        if audio and not path.is_file():
            raise UserError(f"{run_dir}: {path.name} missing (the audio features' normaliser of the run)")
        if not path.is_file():
            return cls(ckpt.tokenizers_of(run_dir)[1])
        record = Normalizer.read_json(path)                   # the normaliser and the training sample rate
        rate = record.get("sample_rate") if isinstance(record, dict) else None
        return cls(ckpt.tokenizers_of(run_dir)[1], Normalizer.from_file_record(record, path),
                   rate if isinstance(rate, int) else None)


@dataclass
class FramesTextData:
    """Encoded pairs: frames (n, feature_size) and token ids, each side as the task orders them."""

    train_src: list = field(default_factory=list)     # token id lists or frame tensors
    train_tgt: list = field(default_factory=list)
    valid_src: list = field(default_factory=list)
    valid_tgt: list = field(default_factory=list)
    valid_refs: list[str] = field(default_factory=list)   # the validation texts (speech_to_text's references)
    report: str = ""
    make_batch: object = None                         # (sources, targets) → Batch
    augment: Optional[Callable[[torch.Tensor], torch.Tensor]] = None   # training sources only (SpecAugment)

    def train_lengths(self) -> tuple[list[int], list[int]]:
        return [len(s) for s in self.train_src], [len(t) for t in self.train_tgt]

    def train_batch(self, ids: Sequence[int]):
        sources = [self.train_src[i] for i in ids]
        if self.augment is not None:
            sources = [self.augment(s) for s in sources]
        return self.make_batch(sources, [self.train_tgt[i] for i in ids])

    def valid_batches(self, size: int):
        """The validation pairs in order, `size` at a time."""
        for start in range(0, len(self.valid_src), size):
            yield self.make_batch(self.valid_src[start : start + size], self.valid_tgt[start : start + size])


class FramesTask(Task):
    """Frames on one side, text on the other: reading, the text tokenizer, and pair filtering."""

    pictures = " (speech: the spectrogram above the alignment)"
    rows = "output"        # what the tokens of an alignment picture are: a recogniser's output, a synthesiser's input

    @property
    def feature_size(self) -> int:
        data = self.config.data
        return data.features.n_mels if data.is_audio else data.synthetic.feature_size

    def read_data(self, splits: tuple[str, ...] = ("train", "valid")) -> Splits:
        data = self.config.data
        return read_speech(data, splits) if data.is_audio else generate(data.synthetic)

    def build_vocab(self, data: Splits) -> FramesVocab:
        tok = self.config.tokenizer
        if tok.from_run is not None:
            return self.load_vocab(Path(tok.from_run))
        text = self.train_text_tokenizer(data["train"].texts)
        if not self.config.data.is_audio:
            return FramesVocab(text)
        rates = data["train"].sample_rates
        return FramesVocab(text, Normalizer.fit(list(data["train"].frames)), max(set(rates), key=rates.count))

    def train_text_tokenizer(self, texts: list[str]) -> Tokenizer:
        """The tokenizer of the text side, trained as the `tokenizer` section says on the training texts."""
        tok = self.config.tokenizer
        return train_tokenizer(tok.type, texts, model_type=tok.model_type, vocab_size=tok.vocab_size,
                               character_coverage=tok.character_coverage, min_freq=tok.min_freq,
                               seed=self.config.train.seed)

    def save_vocab(self, run_dir: Path, vocab: FramesVocab) -> None:
        vocab.save(run_dir)

    def load_vocab(self, run_dir: Path) -> FramesVocab:
        return FramesVocab.load(run_dir, self.config.data.is_audio)

    def save_data(self, run_dir: Path, data: Splits) -> None:
        """The splits of a training manifest (audio or images) as RUN/data/train.tsv and valid.tsv (path<TAB>text
        in the form trained on, each clip once), so `seq2seq evaluate RUN --manifest RUN/data/valid.tsv` scores
        the held-out clips, a language model can train on exactly the training transcripts, and a user sees what
        was held out."""
        if self.config.data.train is None:
            return
        for name in ("train", "valid"):
            split = data[name]
            rows = dict.fromkeys(f"{Path(n).resolve()}\t{text}\n" for n, text in zip(split.names, split.texts))
            write_atomic(RunDir(run_dir).data / f"{name}.tsv", "".join(rows).encode("utf-8"))

    def pairs(self, split, vocab: FramesVocab) -> tuple[list[torch.Tensor], list[list[int]]]:
        return [vocab.normalise(f) for f in split.frames], [vocab.text.encode(t) for t in split.texts]

    def sides(self, frames: list, ids: list) -> tuple[list, list]:
        """(sources, targets): which side the model reads and which it writes."""
        raise NotImplementedError

    def make_batch(self, sources: list, targets: list) -> Batch:
        raise NotImplementedError

    def encode(self, data: Splits, vocab: FramesVocab) -> FramesTextData:
        frames, ids = self.pairs(data["train"], vocab)
        keep = self.kept(frames, ids)
        train_src, train_tgt = self.sides([frames[i] for i in keep], [ids[i] for i in keep])
        valid_src, valid_tgt = self.sides(*self.pairs(data["valid"], vocab))
        return FramesTextData(train_src, train_tgt, valid_src, valid_tgt, list(data["valid"].texts),
                              f"data: {len(keep):,} training pairs of {len(frames):,}; {len(valid_src):,} validation "
                              f"pairs; {self.feature_size} values per frame; vocabulary {vocab.text.vocab_size:,}",
                              self.make_batch, self.augmenter())

    @torch.no_grad()
    def after_validation(self, model, data: FramesTextData, vocab: FramesVocab, run_dir: Path, step: int) -> None:
        """The first `train.attention_plots` validation examples drawn as `seq2seq attention` draws them — the
        spectrogram above the alignment — one folder per example: RUN/attention/valNN/stepNNNNNNN.png (+ .json),
        so the report follows each as the alignment forms."""
        from ..plot import save_speech_alignment

        count = min(self.config.train.attention_plots, len(data.valid_src))
        if not count or not model.decoder.has_attention:
            return
        model.eval()
        pictures = self.alignments(model, data, vocab, count)
        model.train()
        hop_ms = self.config.data.features.hop_ms
        for i, (mel, tokens, weights, reduction, text) in enumerate(pictures):
            save_speech_alignment(RunDir(run_dir).picture(i, step), mel, tokens,
                                  weights, reduction, hop_ms, title=f"step {step:,}: {text}", rows=self.rows)

    def alignments(self, model, data: FramesTextData, vocab: FramesVocab, count: int) -> list[tuple]:
        """(spectrogram (frames, n_mels), token labels, weights (tokens, encoder or decoder states), frames per
        state, caption) for the first `count` validation examples."""
        raise NotImplementedError

    def augmenter(self) -> Optional[Callable[[torch.Tensor], torch.Tensor]]:
        """None: SpecAugment belongs to tasks that read frames (speech_to_text)."""
        return None

    def kept(self, frames: list[torch.Tensor], ids: list[list[int]]) -> list[int]:
        """Indices of the training pairs within data.max_len on both sides, with a warning for the others."""
        limit = self.config.data.max_len
        keep = [i for i, (f, t) in enumerate(zip(frames, ids)) if t and len(f) and len(f) <= limit
                and len(t) <= limit]
        if not keep:
            raise UserError(f"no training pairs left after filtering (data.max_len={limit})")
        if len(keep) < len(frames):
            warn(f"{len(frames) - len(keep):,} training pairs that are empty or longer than data.max_len={limit} "
                 f"are skipped")
        return keep
