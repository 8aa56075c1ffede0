"""Tokenizers: text <-> ids, trained on the training data and saved inside the run directory.

Every tokenizer shares the same special ids (pad 0, unk 1, bos 2, eos 3), so batching and search never ask
which kind they hold. `SentencePieceTokenizer` wraps a trained sentencepiece model (unigram or BPE);
`SymbolTokenizer` covers characters and whitespace-separated words with a vocabulary file; `PhonemeTokenizer`
reads English text as ARPAbet phonemes (data/text/phonemes.py) for speech synthesis.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Iterable, Optional, Protocol, Sequence

from ...errors import UserError
from ...files import write_atomic
from ...rundir import RunDir
from .lexicon import load_lexicon
from .phonemes import Phonemiser, RunG2P

PAD, UNK, BOS, EOS = 0, 1, 2, 3
SPECIALS = ["<pad>", "<unk>", "<s>", "</s>"]


class Tokenizer(Protocol):
    vocab_size: int

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...

    def pieces(self, ids: Sequence[int]) -> list[str]: ...

    def unknown(self, text: str) -> list[str]:
        """The characters (or words) of `text` this vocabulary cannot represent: they encode as <unk>."""
        ...

    def save(self, path: Path) -> None: ...


class SentencePieceTokenizer:
    """Subword tokenizer backed by a sentencepiece model file (`*.model`)."""

    suffix = ".model"

    def __init__(self, model_bytes: bytes):
        import sentencepiece as spm

        self._bytes = model_bytes
        self.sp = spm.SentencePieceProcessor(model_proto=model_bytes)
        # A model restricted to one side (`restricted`) marks the other pieces unused: the encoder never produces
        # them, and ids are compact (specials, then the used pieces in model order), so the embedding and output
        # layers get one row per piece this side uses.
        used = [i for i in range(self.sp.get_piece_size()) if not self.sp.is_unused(i)]
        self.vocab_size = len(used)
        self._to_full: Optional[list[int]] = None                            # compact id → model id
        self._to_compact: Optional[list[int]] = None                         # model id → compact id
        if len(used) < self.sp.get_piece_size():
            self._to_full = used
            self._to_compact = [UNK] * self.sp.get_piece_size()
            for compact, model_id in enumerate(used):
                self._to_compact[model_id] = compact

    def restricted(self, texts: Iterable[str]) -> "SentencePieceTokenizer":
        """This model restricted to the pieces that occur when it encodes `texts` (one side's training text), as
        Joey NMT and OpenNMT-py build per-side vocabularies. Those texts encode exactly as before; other text
        falls back to smaller pieces. The other pieces are marked unused in the model file, which stays a
        standard sentencepiece model."""
        from sentencepiece import sentencepiece_model_pb2 as pb

        used: set[int] = set()
        chars: set[str] = {"\u2581"}                      # ▁, sentencepiece's word boundary
        for line in texts:
            used.update(self.sp.encode(line, out_type=int))
            chars.update(line)
        model = pb.ModelProto()
        model.ParseFromString(self._bytes)
        normal = pb.ModelProto.SentencePiece.NORMAL
        for i, piece in enumerate(model.pieces):
            # single characters of this side stay, so any text in its alphabet still encodes without <unk>
            single = len(piece.piece) == 1 and piece.piece in chars
            if piece.type == normal and i not in used and not single:
                piece.type = pb.ModelProto.SentencePiece.UNUSED
        return SentencePieceTokenizer(model.SerializeToString())

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int, model_type: str, character_coverage: float,
              seed: int = 1) -> "SentencePieceTokenizer":
        import sentencepiece as spm

        spm.set_random_generator_seed(seed)   # sentencepiece's one generator: input sampling and shuffling
        with tempfile.TemporaryDirectory() as tmp:
            corpus = Path(tmp) / "corpus.txt"
            with corpus.open("w", encoding="utf-8") as f:
                for line in texts:
                    if line.strip():
                        f.write(line.replace("\n", " ") + "\n")
            prefix = Path(tmp) / "sp"
            try:
                spm.SentencePieceTrainer.train(
                    input=str(corpus), model_prefix=str(prefix), vocab_size=vocab_size, model_type=model_type,
                    character_coverage=character_coverage, pad_id=PAD, unk_id=UNK, bos_id=BOS, eos_id=EOS,
                    num_threads=max(1, os.cpu_count() or 1), minloglevel=2,
                    input_sentence_size=2_000_000, shuffle_input_sentence=True, hard_vocab_limit=False,
                )
            except RuntimeError as exc:
                raise UserError(f"sentencepiece training failed: {str(exc).strip().splitlines()[-1]}") from None
            return cls((prefix.with_suffix(".model")).read_bytes())

    def encode(self, text: str) -> list[int]:
        return self._compact(self.sp.encode(text, out_type=int))

    def sample(self, text: str, alpha: float) -> list[int]:
        """One segmentation drawn from the whole lattice (unigram: p ∝ P(pieces)^alpha; BPE: merges dropped with
        probability alpha), from sentencepiece's generator (`sampled_pairs` seeds it). A restricted model's unused
        pieces are never drawn."""
        return self._compact(self.sp.encode(text, out_type=int, enable_sampling=True, alpha=alpha, nbest_size=-1))

    def _compact(self, ids: list[int]) -> list[int]:
        return ids if self._to_compact is None else [self._to_compact[i] for i in ids]

    def _full(self, ids: Sequence[int]) -> list[int]:
        return [int(i) for i in ids] if self._to_full is None else [self._to_full[int(i)] for i in ids]

    def decode(self, ids: Sequence[int]) -> str:
        # <unk> pieces are dropped; the spaces around them collapse, as sentencepiece's normaliser collapses spaces
        return _collapse_spaces(self.sp.decode([i for i in self._full(ids) if i > EOS]))

    def pieces(self, ids: Sequence[int]) -> list[str]:
        return [self.sp.id_to_piece(i) for i in self._full(ids)]

    def unknown(self, text: str) -> list[str]:
        out = []
        for ch in dict.fromkeys(self.sp.normalize(text).replace("\u2581", "")):
            i = self.sp.piece_to_id(ch)
            if i == UNK or self.sp.is_unused(i):
                out.append(ch)
        return out

    def save(self, path: Path) -> None:
        write_atomic(path, self._bytes)

    @classmethod
    def load(cls, path: Path) -> "SentencePieceTokenizer":
        return cls(path.read_bytes())


def _collapse_spaces(text: str) -> str:
    return " ".join(part for part in text.split(" ") if part)


class SymbolTokenizer:
    """Characters (`level='char'`) or whitespace-separated words (`level='whitespace'`) with a fixed vocabulary."""

    suffix = ".vocab.json"

    def __init__(self, level: str, symbols: list[str]):
        if level not in ("char", "whitespace"):
            raise ValueError(level)
        self.level = level
        # a word of the text spelled like a special ("<s>") is an ordinary symbol: text never produces special ids
        self.itos = SPECIALS + list(symbols)
        self.stoi = {s: i for i, s in enumerate(self.itos) if i > EOS}
        self.vocab_size = len(self.itos)

    @classmethod
    def train(cls, texts: Iterable[str], level: str, min_freq: int = 1) -> "SymbolTokenizer":
        counts: Counter[str] = Counter()
        for line in texts:
            counts.update(cls._split(level, line))
        symbols = sorted((s for s, c in counts.items() if c >= min_freq), key=lambda s: (-counts[s], s))
        return cls(level, symbols)

    @staticmethod
    def _split(level: str, text: str) -> list[str]:
        return list(text) if level == "char" else text.split()

    def encode(self, text: str) -> list[int]:
        return [self.stoi.get(s, UNK) for s in self._split(self.level, text)]

    def decode(self, ids: Sequence[int]) -> str:
        sep = "" if self.level == "char" else " "
        return sep.join(self.itos[i] for i in ids if i > EOS or i == UNK)

    def pieces(self, ids: Sequence[int]) -> list[str]:
        return [self.itos[int(i)] for i in ids]

    def unknown(self, text: str) -> list[str]:
        return [s for s in dict.fromkeys(self._split(self.level, text)) if s not in self.stoi]

    def save(self, path: Path) -> None:
        data = {"level": self.level, "symbols": self.itos[len(SPECIALS):]}
        write_atomic(path, json.dumps(data, ensure_ascii=False).encode("utf-8"))

    @classmethod
    def load(cls, path: Path) -> "SymbolTokenizer":
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["level"], data["symbols"])


class PhonemeTokenizer:
    """English text → ARPAbet phoneme symbols (normalised, a pronouncing dictionary, a G2P model for the rest); ids
    over the dictionary's fixed inventory, so nothing is trained and no text encodes as <unk>. The G2P model (a
    text→text run) is kept beside the vocabulary file as `g2p/` (`G2P_FOLDER`) and loaded on the first word the
    dictionary lacks. `decode` gives the phoneme string."""

    suffix = ".phonemes.json"
    G2P_FOLDER = "g2p"

    def __init__(self, lexicon: str, g2p_run: Optional[Path] = None):
        self.lexicon_name, self.g2p_run = lexicon, g2p_run
        self.phonemiser = Phonemiser(load_lexicon(lexicon), RunG2P(g2p_run) if g2p_run is not None else None)
        self.itos = SPECIALS + self.phonemiser.inventory()
        self.stoi = {s: i for i, s in enumerate(self.itos) if i > EOS}
        self.vocab_size = len(self.itos)

    def prepare(self, texts: Iterable[str]) -> None:
        """Ask the G2P model about all of `texts`' unknown words in one batch (before encoding many texts)."""
        self.phonemiser.prepare(texts)

    def encode(self, text: str) -> list[int]:
        return [self.stoi.get(s, UNK) for s in self.phonemiser.symbols(text)]

    def decode(self, ids: Sequence[int]) -> str:
        return " ".join(self.itos[i] for i in ids if i > EOS or i == UNK)

    def pieces(self, ids: Sequence[int]) -> list[str]:
        return [self.itos[int(i)] for i in ids]

    def unknown(self, text: str) -> list[str]:
        return []                                    # every word is spoken: dictionary, G2P or spelled out

    def save(self, path: Path) -> None:
        data = {"lexicon": self.lexicon_name, "g2p": self.G2P_FOLDER if self.g2p_run else None}
        kept = path.parent / self.G2P_FOLDER
        if self.g2p_run is None:
            shutil.rmtree(kept, ignore_errors=True)
        elif self.g2p_run.resolve() != kept.resolve():
            RunDir(self.g2p_run).copy_for_inference(kept)
        write_atomic(path, json.dumps(data).encode("utf-8"))

    @classmethod
    def load(cls, path: Path) -> "PhonemeTokenizer":
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["lexicon"], path.parent / data["g2p"] if data.get("g2p") else None)


TOKENIZER_CLASSES = (SentencePieceTokenizer, SymbolTokenizer, PhonemeTokenizer)


def train_tokenizer(kind: str, texts: list[str], *, model_type: str = "unigram", vocab_size: int = 8000,
                    character_coverage: float = 1.0, min_freq: int = 1, seed: int = 1) -> Tokenizer:
    if kind == "sentencepiece":
        return SentencePieceTokenizer.train(texts, vocab_size, model_type, character_coverage, seed)
    return SymbolTokenizer.train(texts, kind, min_freq)


def sampled_pairs(src_tok: Tokenizer, tgt_tok: Tokenizer, texts: Sequence[tuple[str, str]], alpha: float,
                  seed: int) -> tuple[list[list[int]], list[list[int]]]:
    """Subword regularisation: a fresh segmentation of every pair, drawn from sentencepiece's generator seeded
    with `seed` (so one seed gives one batch, whatever came before: resume repeats it)."""
    import sentencepiece as spm

    spm.set_random_generator_seed(seed)
    src = [src_tok.sample(s, alpha) for s, _ in texts]              # type: ignore[attr-defined]
    return src, [tgt_tok.sample(t, alpha) for _, t in texts]        # type: ignore[attr-defined]


def save_tokenizers(folder: Path, src: Tokenizer, tgt: Tokenizer) -> None:
    """Save one file when source and target share a tokenizer (joint), else `src.*` and `tgt.*`."""
    folder.mkdir(parents=True, exist_ok=True)
    for cls in TOKENIZER_CLASSES:   # never leave a stale tokenizer of an earlier attempt beside the new one
        for stale in folder.glob(f"*{cls.suffix}"):
            stale.unlink()
    if src is tgt:
        src.save(folder / f"joint{src.suffix}")
    else:
        src.save(folder / f"src{src.suffix}")
        tgt.save(folder / f"tgt{tgt.suffix}")


def load_tokenizers(folder: Path) -> tuple[Tokenizer, Tokenizer]:
    def load_one(stem: str):
        for cls in TOKENIZER_CLASSES:
            path = folder / f"{stem}{cls.suffix}"
            if path.is_file():
                try:
                    return cls.load(path)
                except Exception as exc:   # sentencepiece raises RuntimeError, JSON ValueError/KeyError/TypeError
                    detail = str(exc).strip().splitlines()[-1][:120] if str(exc).strip() else type(exc).__name__
                    raise UserError(f"{path}: corrupted or truncated tokenizer file ({detail})") from None
        return None

    joint = load_one("joint")
    if joint is not None:
        return joint, joint
    src, tgt = load_one("src"), load_one("tgt")
    if src is None or tgt is None:
        raise UserError(f"{folder}: no tokenizer files (expected joint.* or src.* and tgt.*)")
    return src, tgt
