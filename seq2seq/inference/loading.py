"""A run directory loaded for inference: its config, its task, the model the task builds with the chosen weights
(eval mode, on a device) and the task's vocabulary."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch

from ..checkpoint import apply_weights, load_weights, read_config, weights_path
from ..config import Config
from ..errors import UserError
from ..tasks import Task, get_task, task_class

RunDirs = str | Path | Sequence[str | Path]     # one run directory, or several (an ensemble, where a task allows)


@dataclass
class Run:
    """A loaded run directory: its config, its task, the model (eval mode) and the task's vocabulary."""

    config: Config
    task: Task
    model: torch.nn.Module
    vocab: Any                    # translation: (source, target) tokenizers; frames tasks: FramesVocab


def load_run(run_dir: str | Path, which: str = "best", device: str | torch.device = "cpu") -> Run:
    """A run directory's config, task, model (built by the task, weights `which`) and vocabulary."""
    config = read_config(run_dir)
    task = get_task(config)
    vocab = task.load_vocab(Path(run_dir))
    model = task.build_model(vocab)
    path = weights_path(run_dir, which)
    apply_weights(model, load_weights(path), path)
    return Run(config, task, model.to(device).eval(), vocab)


def load_task_run(run_dir: str | Path, which: str, device: str, task: type[Task], needs: str) -> Run:
    """`load_run` on the resolved `device`, refused in one line unless the run's task is a `task` ("RUN is a
    translation run: NEEDS")."""
    from ..devices import resolve_device

    run = load_run(run_dir, which, resolve_device(device))
    if not isinstance(run.task, task):
        raise UserError(f"{run_dir} is a {run.config.task} run: {needs}")
    return run


def run_list(run_dir: RunDirs) -> list[str | Path]:
    runs = [run_dir] if isinstance(run_dir, (str, Path)) else list(run_dir)
    if not runs:
        raise UserError("no run directory given")
    return runs


def one_run(run_dir: RunDirs, task: str) -> str | Path:
    """The one run of `run_dir`, or a one-line error for several (tasks without ensembles)."""
    runs = run_list(run_dir)
    if len(runs) > 1:
        raise UserError(f"{task} runs are used one at a time: give one run directory, not {len(runs)}")
    return runs[0]


def task_of(run_dir: RunDirs) -> type[Task]:
    """The task class of a run (of the first, for several)."""
    return task_class(read_config(run_list(run_dir)[0]).task)
