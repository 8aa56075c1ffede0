"""What a run directory's files hold, read and written: the config, the weights (safetensors), the snapshots,
the metrics log. Where each file lives is `rundir.RunDir`'s; the training state is `training.state`'s. Every write
is atomic (temporary file, then rename).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import yaml
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes

from .config import Config, dump_config, validate
from .data.text.tokenizers import Tokenizer, load_tokenizers
from .errors import UserError, warn
from .files import write_atomic
from .rundir import FORMAT_VERSION, READS_FORMATS, RunDir

__all__ = ["FORMAT_VERSION", "READS_FORMATS", "RunDir"]   # the layout's facts, re-exported for readers of files
LEGACY_NAMES = {"encoder.embedding.": "encoder.frontend.embedding.", "decoder.embedding.": "decoder.head.embedding.",
                "decoder.generator.": "decoder.head.generator.", "decoder.combine.": "decoder.output."}


def write_run_header(run_dir: Path, config: Config) -> None:
    run = RunDir(run_dir)
    run.create()
    write_atomic(run.format, run.header())
    write_atomic(run.config, dump_config(config).encode("utf-8"))


def read_config(run_dir: str | Path) -> Config:
    run = RunDir(run_dir)
    run.check_format()
    path = run.config
    if not path.is_file():
        raise UserError(f"{run_dir}: not a run directory ({path.name} missing)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: unreadable config ({type(exc).__name__})") from None
    return validate(raw, origin=str(path))


def check_format(run_dir: str | Path) -> int:
    """The run directory's format version, or a one-line error when it is not a run this version reads."""
    return RunDir(run_dir).check_format()


def upgrade_names(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Weights saved under format-1 names get today's names (others pass unchanged)."""
    out = {}
    for name, tensor in weights.items():
        old = next((prefix for prefix in LEGACY_NAMES if name.startswith(prefix)), None)
        out[LEGACY_NAMES[old] + name[len(old):] if old else name] = tensor
    return out


def save_weights(path: Path, model: torch.nn.Module, step: int, **metadata: str) -> None:
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    write_tensors(path, tensors, {"step": str(step), **metadata})


def write_tensors(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    write_atomic(path, save_safetensors_bytes(tensors, metadata=metadata))


def read_metadata(path: Path) -> dict[str, str]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            return f.metadata() or {}
    except (SafetensorError, OSError) as exc:
        raise UserError(f"{path}: corrupted or truncated weights file ({exc})") from None


def save_snapshot(run_dir: Path, model: torch.nn.Module, step: int, metric: str, value: float, keep: int) -> None:
    """Keep the weights of each validation in checkpoints/ (the newest `keep`), for `seq2seq average`."""
    if keep <= 0:
        return
    save_weights(RunDir(run_dir).snapshot(step), model, step, metric=metric, value=repr(value))
    for old in list_snapshots(run_dir)[:-keep]:
        old.unlink(missing_ok=True)


def list_snapshots(run_dir: Path) -> list[Path]:
    """Validation snapshots of a run, oldest first."""
    return RunDir(run_dir).snapshots()


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise UserError(f"weights file not found: {path}")
    try:
        return load_safetensors_bytes(path.read_bytes())
    except (SafetensorError, ValueError, OSError) as exc:
        raise UserError(f"{path}: corrupted or truncated weights file ({exc})") from None


def apply_weights(model: torch.nn.Module, weights: dict[str, torch.Tensor], origin: Path) -> None:
    """Load `weights` into `model`, or one clear error naming what does not match (format-1 names are upgraded)."""
    weights = upgrade_names(weights)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    wrong = [k for k in expected if k in weights and weights[k].shape != expected[k].shape]
    if missing or unexpected or wrong:
        detail = (f"missing {missing[:3]}" if missing else f"unexpected {unexpected[:3]}" if unexpected
                  else f"shape of {wrong[0]} is {tuple(weights[wrong[0]].shape)}, config expects "
                       f"{tuple(expected[wrong[0]].shape)}")
        raise UserError(f"{origin}: weights do not match the run's config ({detail})")
    model.load_state_dict(weights)


def weights_path(run_dir: str | Path, which: str) -> Path:
    """The weights file `which` (best, last, or a path) names. `best` before the first validation falls back to
    `last` with a warning saying which update it holds, and is refused while `last` holds untrained weights."""
    if which not in ("best", "last"):
        path = Path(which)
        return path if path.is_absolute() or path.exists() else Path(run_dir) / which
    run = RunDir(run_dir)
    path = run.best if which == "best" else run.last
    if which == "best" and not path.is_file() and run.last.is_file():
        return _last_instead_of_best(run_dir)
    if which == "last" and path.is_file() and saved_step(path) == 0:
        warn(f"{path} holds the untrained weights of update 0")
    return path


def _last_instead_of_best(run_dir: Path) -> Path:
    last = RunDir(run_dir).last
    step = saved_step(last)
    if step == 0:
        raise UserError(f"{run_dir} has no trained weights yet: best.safetensors appears at the first validation "
                        f"(train.valid_every; default every epoch) and last.safetensors still holds update 0")
    warn(f"{run_dir} has not been validated yet (no best.safetensors): using last.safetensors, the weights of "
         f"update {step:,}")
    return last


def saved_step(path: Path) -> int:
    """The update a weights file was saved at (-1 when it does not say)."""
    step = read_metadata(path).get("step", "-1")
    return int(step) if step.lstrip("-").isdigit() else -1


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    path = RunDir(run_dir).metrics
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # a line cut short by a crash
    return out


def truncate_metrics(run_dir: Path, step: int) -> None:
    """Keep only events up to `step` (a resumed run re-logs what came after its checkpoint)."""
    kept = [m for m in read_metrics(run_dir) if m.get("step", 0) <= step and m.get("event") != "end"]
    write_atomic(RunDir(run_dir).metrics, "".join(json.dumps(m) + "\n" for m in kept).encode("utf-8"))


def tokenizers_of(run_dir: str | Path) -> tuple[Tokenizer, Tokenizer]:
    return load_tokenizers(RunDir(run_dir).tokenizer)

