"""Checkpoint averaging: the mean of several validation snapshots of one run, written as a new run directory."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Optional

import torch

from .. import checkpoint as ckpt
from ..errors import UserError
from ..metrics import get_metric
from ..rundir import RunDir


def choose_snapshots(run_dir: Path, last: Optional[int] = None, best: Optional[int] = None) -> list[Path]:
    snapshots = ckpt.list_snapshots(run_dir)
    if not snapshots:
        raise UserError(f"{run_dir}: no snapshots in {RunDir(run_dir).checkpoints.name}/ (train with "
                        f"train.keep_checkpoints > 0)")
    count = last if last is not None else best
    if count is None or count < 1:
        raise UserError("average needs --last N or --best N with N >= 1")
    if count > len(snapshots):
        raise UserError(f"{run_dir}: asked for {count} snapshots, the run keeps {len(snapshots)}")
    if last is not None:
        return snapshots[-last:]
    return sorted(best_snapshots(snapshots, count))


def best_snapshots(snapshots: list[Path], count: int) -> list[Path]:
    """The `count` snapshots with the best validation value, in the direction of the metric they recorded."""
    metas = [ckpt.read_metadata(path) for path in snapshots]
    metric = get_metric(metas[0]["metric"])
    ranked = sorted(zip(metas, snapshots), key=lambda m: float(m[0]["value"]), reverse=metric.higher_is_better)
    return [path for _, path in ranked[:count]]


def average_weights(paths: list[Path]) -> dict[str, torch.Tensor]:
    """Element-wise mean in float64, cast back to each tensor's dtype."""
    total: dict[str, torch.Tensor] = {}
    dtypes: dict[str, torch.dtype] = {}
    for path in paths:
        for name, tensor in ckpt.load_weights(path).items():
            total[name] = total.get(name, 0) + tensor.double()
            dtypes[name] = tensor.dtype
    return {name: (t / len(paths)).to(dtypes[name]) for name, t in total.items()}


def average_run(run_dir: str | Path, out_dir: str | Path, last: Optional[int] = None,
                best: Optional[int] = None) -> list[Path]:
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    ckpt.read_config(run_dir)     # a readable run of a supported format
    if out_dir.exists():
        raise UserError(f"output directory already exists: {out_dir}")
    paths = choose_snapshots(run_dir, last, best)
    weights = average_weights(paths)
    out_dir.mkdir(parents=True)
    source, target = RunDir(run_dir), RunDir(out_dir)
    for name in ("format", "config"):
        shutil.copy2(getattr(source, name), getattr(target, name))
    shutil.copytree(source.tokenizer, target.tokenizer)
    if source.features.is_file():            # a speech run's feature normaliser and sample rate
        shutil.copy2(source.features, target.features)
    steps = ",".join(ckpt.read_metadata(p)["step"] for p in paths)
    meta = {"step": ckpt.read_metadata(paths[-1])["step"], "averaged_steps": steps, "source": str(run_dir)}
    for path in (target.best, target.last):
        ckpt.write_tensors(path, weights, meta)
    return paths
