"""The sentences a language model trains on (`task: language_model`, `data` of config/language_model.py): plain
text files one sentence a line, a `.tsv`'s first column, an LJSpeech `metadata.csv`'s normalised text, and the
transcripts of speech or image manifests (`path<TAB>transcript`). Validation is a file, or held out of the
training sentences (whole sentences: a repeated sentence never lands on both sides)."""

from __future__ import annotations

from pathlib import Path

from ...errors import UserError
from ..held_out import held_out_size, hold_out
from .lines import Corpus, read_lines
from .spoken import spoken_form


def in_form(sentences: list[str], form: str) -> list[str]:
    """`sentences` in the form `data.transcripts` names (spoken: `spoken_form`), empty ones dropped."""
    shaped = sentences if form == "as_written" else [spoken_form(s) for s in sentences]
    return [s for s in shaped if s.strip()]


def read_lm_texts(data, splits: tuple[str, ...] = ("train", "valid")) -> dict[str, list[str]]:
    """The sentences of each requested split, in the form `data.transcripts` names; empty lines dropped."""
    root = Path(data.root or ".")
    out: dict[str, list[str]] = {}
    if "train" in splits or ("valid" in splits and data.valid is None):
        train = [s for name in data.texts for s in _text_file(root / name)]
        train += [s for name in data.manifests for s in manifest_transcripts(root / name)] * data.manifest_repeat
        train = in_form(train, data.transcripts)
        if data.valid is None:
            kept, held = hold_out(Corpus(train, train, "training text"), held_out_size(len(train), data.valid_split),
                                  data.split_seed)
            train, out["valid"] = list(kept.src), list(held.src)
        out["train"] = train
    for split in ("valid", "test"):
        name = getattr(data, split)
        if split in splits and name is not None:
            out[split] = in_form(_text_file(root / name), data.transcripts)
        elif split in splits and split not in out:
            raise UserError(f"data.{split} is not set: no {split} text")
    return {split: out[split] for split in splits}


def _text_file(path: Path) -> list[str]:
    lines = read_lines(path, warn_crlf=False)
    if path.suffix == ".tsv":
        return [line.split("\t")[0].strip() for line in lines]
    if path.name.endswith(".csv"):                        # LJSpeech: id|raw text|normalised text
        fields = [line.split("|") for line in lines if line.strip()]
        return [(f[2] if len(f) > 2 and f[2].strip() else f[-1]).strip() for f in fields]
    return [line.strip() for line in lines]


def manifest_transcripts(path: Path) -> list[str]:
    """The transcripts of a manifest (path<TAB>transcript), in order."""
    rows = [line.split("\t") for line in read_lines(path) if line.strip()]
    bad = [n for n, row in enumerate(rows, start=1) if len(row) < 2]
    if bad:
        raise UserError(f"{path}: line {bad[0]} has no tab (a manifest is path<TAB>transcript)")
    return [row[1].strip() for row in rows]
