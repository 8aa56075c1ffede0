"""What `seq2seq evaluate` scores: the run's own test set by default, as `train` names corpora (a prefix with the
run's languages, or a `.tsv`), or explicit --src/--ref files; for a speech_to_text run, a manifest (`--manifest`,
else the run's `data.test`) or, for spoken digits, strings built from `data.digits.test_indices`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from .. import checkpoint as ckpt
from ..data.text.corpora import read_corpus
from ..data.text.lines import Corpus, read_lines
from ..errors import UserError
from ..rundir import RunDir


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
    generated = RunDir(run_dir).data / "test.src"
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


@dataclass
class SpeechTestSet:
    audio: list[Any]             # WAV paths or `Audio` clips
    references: list[str]
    origin: str


def speech_test_set(run_dir: Path, manifest: Optional[str] = None) -> SpeechTestSet:
    """The clips and transcripts `evaluate` scores a speech_to_text run on."""
    from ..data.audio.speech import read_manifest
    from ..data.audio.spoken_digits import generate, shared_recordings
    from ..data.audio.wav import Audio

    data = ckpt.read_config(run_dir).data
    if manifest is not None or data.test is not None:
        root = Path(".") if manifest is not None else Path(data.root or ".")
        listed = read_manifest(root, manifest or data.test)
        return SpeechTestSet(list(listed.tgt), list(listed.src), listed.origin)
    digits = data.digits
    if digits is None or digits.test_indices is None:
        raise UserError(f"{run_dir} has no test set (data.test, or data.digits.test_indices): give --manifest "
                        f"FILE.tsv (path<TAB>transcript)")
    low, high = digits.test_indices
    folder = Path(digits.recordings) if digits.recordings else shared_recordings()
    utterances = generate(folder, digits.test_size, range(low, high + 1), digits.seed + 2, digits.min_digits,
                          digits.max_digits, tuple(digits.pause_ms), digits.speakers, tuple(digits.edge_ms))
    return SpeechTestSet([Audio(u.samples, u.sample_rate, "+".join(u.clips)) for u in utterances],
                         [u.text for u in utterances], f"{len(utterances):,} digit strings from clips {low}-{high}")
