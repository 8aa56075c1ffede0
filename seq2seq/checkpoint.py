"""The run directory: the unit users pass around. Every write is atomic (temporary file, then rename).

    run/
      format.json          format version and the package version that wrote it
      config.yaml          the resolved config
      tokenizer/           joint.model | src.model + tgt.model | *.vocab.json
      best.safetensors     weights with the best validation metric (what translate uses by default)
      last.safetensors     weights after the last update saved
      train_state.pt       everything --resume needs: weights, optimizer, scheduler, step, RNG, data position
                           (tensors and plain values only; loaded with weights_only=True)
      metrics.jsonl        one JSON object per log/validation event
      checkpoints/         step-*.safetensors: weights at the last train.keep_checkpoints validations
      attention/           valNN/stepNNNNNNN.png (+ .json): validation heatmaps (train.attention_plots)
      data/                SPLIT.src, SPLIT.tgt: the generated splits of a synthetic task
"""

from __future__ import annotations

import io
from dataclasses import dataclass
import json
import pickle
import warnings
from pathlib import Path
from typing import Any, Sequence

import torch
import yaml
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes

from . import __version__
from .config import RUN_CONFIG, Config, dump_config, validate
from .data.tokenizers import Tokenizer, load_tokenizers
from .errors import UserError, warn
from .files import write_atomic

FORMAT_VERSION = 2       # 2: weights named by frontend and head (`encoder.frontend.*`, `decoder.head.*`), `task:`
READS_FORMATS = (1, 2)   # 1: translation only, weights under the names in LEGACY_NAMES
LEGACY_NAMES = {"encoder.embedding.": "encoder.frontend.embedding.", "decoder.embedding.": "decoder.head.embedding.",
                "decoder.generator.": "decoder.head.generator.", "decoder.combine.": "decoder.output."}
CONFIG, FORMAT, TOKENIZER = RUN_CONFIG, "format.json", "tokenizer"
BEST, LAST, TRAIN_STATE, METRICS = "best.safetensors", "last.safetensors", "train_state.pt", "metrics.jsonl"
CHECKPOINTS = "checkpoints"
ATTENTION = "attention"   # heatmaps written at each validation (train.attention_plots)
DATA = "data"             # generated splits of a synthetic task


def write_run_header(run_dir: Path, config: Config) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(run_dir / FORMAT, json.dumps({"format_version": FORMAT_VERSION, "seq2seq": __version__}).encode())
    write_atomic(run_dir / CONFIG, dump_config(config).encode("utf-8"))


def read_config(run_dir: Path) -> Config:
    check_format(run_dir)
    path = run_dir / CONFIG
    if not path.is_file():
        raise UserError(f"{run_dir}: not a run directory ({CONFIG} missing)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: unreadable config ({type(exc).__name__})") from None
    return validate(raw, origin=str(path))


def check_format(run_dir: Path) -> int:
    """The run directory's format version, or a one-line error when it is not a run this version reads."""
    if not run_dir.is_dir():
        raise UserError(f"run directory not found: {run_dir}")
    path = run_dir / FORMAT
    if not path.is_file():
        raise UserError(f"{run_dir}: not a run directory ({FORMAT} missing)")
    try:
        version = json.loads(path.read_text())["format_version"]
    except (ValueError, KeyError, TypeError):
        raise UserError(f"{path}: unreadable format file") from None
    if version not in READS_FORMATS:
        raise UserError(f"{run_dir}: run-directory format {version} is not supported by this version "
                        f"(reads format {' and '.join(map(str, READS_FORMATS))})")
    return version


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
    folder = run_dir / CHECKPOINTS
    save_weights(folder / f"step-{step:09d}.safetensors", model, step, metric=metric, value=repr(value))
    for old in list_snapshots(run_dir)[:-keep]:
        old.unlink(missing_ok=True)


def list_snapshots(run_dir: Path) -> list[Path]:
    """Validation snapshots of a run, oldest first."""
    return sorted((run_dir / CHECKPOINTS).glob("step-*.safetensors"))


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


def save_train_state(path: Path, state: dict[str, Any]) -> None:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    write_atomic(path, buffer.getvalue())


def load_train_state(path: Path, required: Sequence[str] = ()) -> dict[str, Any]:
    """The training state saved at `path` (tensors and plain values only); `required`: keys it must hold."""
    if not path.is_file():
        raise UserError(f"cannot resume: {path} not found")
    try:
        with warnings.catch_warnings():        # torch warns about pickle protocols before refusing a file
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # weights_only refuses anything but tensors and plain values
        raise UserError(f"{path}: cannot load training state: it holds objects other than tensors and plain values, "
                        f"which could run code when loaded; refused") from None
    except Exception as exc:
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else "no detail"
        raise UserError(f"{path}: cannot load training state: corrupted or truncated ({type(exc).__name__}: "
                        f"{detail})") from None
    missing = [k for k in required if not isinstance(state, dict) or k not in state]
    if missing or not isinstance(state, dict):
        raise UserError(f"{path}: not a training state of this version (missing {', '.join(missing) or 'all'})")
    return state


@dataclass
class Run:
    """A loaded run directory: its config, its task, the model (eval mode) and the task's vocabulary."""

    config: Config
    task: Any                     # tasks.Task
    model: torch.nn.Module
    vocab: Any                    # translation: (source, target) tokenizers; frames tasks: FramesVocab


def load_run(run_dir: str | Path, which: str = "best", device: str = "cpu") -> Run:
    """A run directory's config, task, model (built by the task, weights `which`) and vocabulary."""
    from .tasks import get_task

    run_dir = Path(run_dir)
    config = read_config(run_dir)
    task = get_task(config)
    vocab = task.load_vocab(run_dir)
    model = task.build_model(vocab)
    path = weights_path(run_dir, which)
    apply_weights(model, load_weights(path), path)
    return Run(config, task, model.to(device).eval(), vocab)


def load_task_run(run_dir: str | Path, which: str, device: str, task: type, needs: str) -> Run:
    """`load_run` on the resolved `device`, refused in one line unless the run's task is a `task` ("RUN is a
    translation run: NEEDS")."""
    from .devices import resolve_device

    run = load_run(run_dir, which, resolve_device(device))
    if not isinstance(run.task, task):
        raise UserError(f"{run_dir} is a {run.config.task} run: {needs}")
    return run


def weights_path(run_dir: Path, which: str) -> Path:
    """The weights file `which` (best, last, or a path) names. `best` before the first validation falls back to
    `last` with a warning saying which update it holds, and is refused while `last` holds untrained weights."""
    if which not in ("best", "last"):
        path = Path(which)
        return path if path.is_absolute() or path.exists() else run_dir / which
    path = run_dir / (BEST if which == "best" else LAST)
    if which == "best" and not path.is_file() and (run_dir / LAST).is_file():
        return _last_instead_of_best(run_dir)
    if which == "last" and path.is_file() and saved_step(path) == 0:
        warn(f"{path} holds the untrained weights of update 0")
    return path


def _last_instead_of_best(run_dir: Path) -> Path:
    last = run_dir / LAST
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
    path = run_dir / METRICS
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
    write_atomic(run_dir / METRICS, "".join(json.dumps(m) + "\n" for m in kept).encode("utf-8"))


def tokenizers_of(run_dir: Path) -> tuple[Tokenizer, Tokenizer]:
    return load_tokenizers(run_dir / TOKENIZER)

