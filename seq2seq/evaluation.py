"""What `seq2seq evaluate` scores: the run's own test set by default, as `train` names corpora (a prefix with the
run's languages, or a `.tsv`), or explicit --src/--ref files."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from . import checkpoint as ckpt
from .data.text import Corpus, read_corpus, read_lines
from .errors import UserError


def evaluation_corpus(run_dir: Path, test: Optional[str] = None, src: Optional[str] = None,
                      ref: Optional[str] = None) -> Corpus:
    """The pairs to score. `test` is read like `data.train` (relative to the current folder); without any of the
    three, the run's `data.test` (or the generated test split of a synthetic run)."""
    if src is not None or ref is not None:
        return _files(src, ref, test)
    data = ckpt.read_config(run_dir).data
    if test is not None:
        return read_corpus(None, test, data.src_lang, data.tgt_lang)
    if data.test is not None:
        return read_corpus(data.root, data.test, data.src_lang, data.tgt_lang)
    generated = run_dir / ckpt.DATA / "test.src"
    if generated.is_file():
        return _files(str(generated), str(generated.with_suffix(".tgt")), None)
    raise UserError(f"{run_dir} has no test set (data.test is not set): give --test FILE.tsv (or a PREFIX with the "
                    f"run's languages) or --src FILE --ref FILE")


def _files(src: Optional[str], ref: Optional[str], test: Optional[str]) -> Corpus:
    if test is not None:
        raise UserError("give --test CORPUS or --src/--ref, not both")
    if src is not None and ref is None and src.endswith(".tsv"):
        return read_corpus(None, src, None, None)
    if src is None or ref is None:
        raise UserError("--src and --ref go together (or give --test FILE.tsv)")
    sources, refs = read_lines(Path(src), strict=False), read_lines(Path(ref), strict=False)
    if len(sources) != len(refs):
        raise UserError(f"--src {src} has {len(sources)} lines but --ref {ref} has {len(refs)}")
    return Corpus(sources, refs, f"{src} + {ref}")
