"""The run directory: the unit users pass around, and the one place that knows its layout.

    run/
      format.json          format version and the package version that wrote it
      config.yaml          the resolved config
      tokenizer/           joint.model | src.model + tgt.model | *.vocab.json
      features.json        frames tasks on audio: the features' normaliser and the training sample rate
      best.safetensors     weights with the best validation metric (what inference uses by default)
      last.safetensors     weights after the last update saved
      train_state.pt       everything --resume needs: weights, optimizer, scheduler, step, RNG, data position
                           (tensors and plain values only; loaded with weights_only=True)
      metrics.jsonl        one JSON object per log/validation event
      checkpoints/         step-*.safetensors: weights at the last train.keep_checkpoints validations
      attention/           valNN/stepNNNNNNN.png (+ .json): validation pictures (train.attention_plots)
      data/                the generated splits of a synthetic task, or a validation split held out of train

This module imports nothing of the package but its error type: every layer may ask it where a file lives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError

FORMAT_VERSION = 2       # 2: weights named by frontend and head (`encoder.frontend.*`, `decoder.head.*`), `task:`
READS_FORMATS = (1, 2)   # 1: translation only, weights under older names (checkpoint.LEGACY_NAMES)


@dataclass(frozen=True)
class RunDir:
    """Where each file of a run directory lives (nothing is read or created by asking)."""

    path: Path

    def __init__(self, path: str | Path):
        object.__setattr__(self, "path", Path(path))

    def __str__(self) -> str:
        return str(self.path)

    @property
    def name(self) -> str:
        """What a run is called where its location on disk should not be told (served models)."""
        return self.path.resolve().name or str(self.path)

    format = property(lambda self: self.path / "format.json")
    config = property(lambda self: self.path / "config.yaml")
    tokenizer = property(lambda self: self.path / "tokenizer")
    features = property(lambda self: self.path / "features.json")
    best = property(lambda self: self.path / "best.safetensors")
    last = property(lambda self: self.path / "last.safetensors")
    train_state = property(lambda self: self.path / "train_state.pt")
    metrics = property(lambda self: self.path / "metrics.jsonl")
    checkpoints = property(lambda self: self.path / "checkpoints")
    attention = property(lambda self: self.path / "attention")
    data = property(lambda self: self.path / "data")
    report = property(lambda self: self.path / "report.html")

    def snapshot(self, step: int) -> Path:
        return self.checkpoints / f"step-{step:09d}.safetensors"

    def snapshots(self) -> list[Path]:
        """Validation snapshots, oldest first."""
        return sorted(self.checkpoints.glob("step-*.safetensors"))

    def picture(self, example: int, step: int) -> Path:
        """Where training draws validation example `example` (from 0) at update `step` (without suffix)."""
        return self.attention / f"val{example + 1:02d}" / f"step{step:07d}"

    def copy_for_inference(self, target: Path) -> None:
        """What inference reads of this run (config, format, tokenizer, feature statistics, best weights), copied
        to `target` (replaced): a run kept inside another (a voice's G2P model)."""
        import shutil

        if not self.best.is_file():
            raise UserError(f"{self.path}: not a trained run directory (no {self.best.name})")
        if target.exists():
            shutil.rmtree(target)
        copy = RunDir(target)
        shutil.copytree(self.tokenizer, copy.tokenizer)
        for name in ("format", "config", "features", "best"):
            if getattr(self, name).is_file():
                shutil.copy2(getattr(self, name), getattr(copy, name))

    def create(self) -> None:
        """Make the folder (and its parents), or a one-line error naming it and why it cannot be made."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create the run directory {self.path}: {exc.strerror or exc}") from None

    def is_run(self) -> bool:
        return self.format.is_file() and self.config.is_file()

    def header(self) -> bytes:
        """What format.json holds for a run written by this version."""
        from .version import __version__

        return json.dumps({"format_version": FORMAT_VERSION, "seq2seq": __version__}).encode()

    def check_format(self) -> int:
        """The format version, or a one-line error when this is not a run directory this version reads."""
        if not self.path.is_dir():
            raise UserError(f"run directory not found: {self.path}")
        if not self.format.is_file():
            raise UserError(f"{self.path}: not a run directory ({self.format.name} missing)")
        try:
            version = json.loads(self.format.read_text())["format_version"]
        except (ValueError, KeyError, TypeError):
            raise UserError(f"{self.format}: unreadable format file") from None
        if version not in READS_FORMATS:
            raise UserError(f"{self.path}: run-directory format {version} is not supported by this version "
                            f"(reads format {' and '.join(map(str, READS_FORMATS))})")
        return version
