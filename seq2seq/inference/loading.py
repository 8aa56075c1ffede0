"""A run directory loaded for inference: its config, its task, the model the task builds with the chosen weights
(eval mode, on a device) and the task's vocabulary."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

import torch

from ..checkpoint import read_config
from ..config import Config
from ..errors import UserError
from ..model.language_model import LanguageModel
from ..tasks import Task, get_task, task_class

RunDirs = str | Path | Sequence[str | Path]     # one run directory, or several (an ensemble, where a task allows)


@dataclass
class Run:
    """A loaded run directory: its config, its task, the model (eval mode) and the task's vocabulary."""

    config: Config
    task: Task
    model: torch.nn.Module
    vocab: Any                    # translation: (source, target) tokenizers; frames tasks: FramesVocab
    language_models: dict[str, torch.nn.Module] = field(default_factory=dict)   # decode.lm runs loaded so far

    def language_model(self, opts, tokenizer) -> Optional[torch.nn.Module]:
        """The language model shallow fusion adds under `opts` (opts.lm, loaded once, checked against this run's
        output `tokenizer`), or None when opts.lm_weight is 0."""
        if not opts.lm_weight:
            return None
        if opts.lm is None:
            raise UserError(f"decode.lm_weight={opts.lm_weight} needs a language model: decode.lm RUN_DIR (--lm)")
        if opts.lm not in self.language_models:
            self.language_models[opts.lm] = fusion_model(opts.lm, tokenizer, next(self.model.parameters()).device)
        return self.language_models[opts.lm]


def load_run(run_dir: str | Path, which: str = "best", device: str | torch.device = "cpu") -> Run:
    """A run directory's config, task, model (built by the task, weights `which`) and vocabulary."""
    config = read_config(run_dir)
    task = get_task(config)
    vocab, model = task.load_model(Path(run_dir), which)
    return Run(config, task, model.to(device), vocab)


def fusion_model(run_dir: str | Path, tokenizer, device: torch.device | str = "cpu") -> LanguageModel:
    """The language model of `run_dir` for shallow fusion with a model whose output tokenizer is `tokenizer`:
    refused in one line when the run holds no language model or its vocabulary differs."""
    path = Path(run_dir)
    if not path.is_dir():
        raise UserError(f"decode.lm={run_dir}: no such run directory")
    run = load_run(path, "best", device)
    if not isinstance(run.model, LanguageModel):
        raise UserError(f"decode.lm={run_dir} is a {run.config.task} run: shallow fusion needs a language_model run")
    theirs = run.vocab
    if theirs.vocab_size != tokenizer.vocab_size or \
            theirs.pieces(range(theirs.vocab_size)) != tokenizer.pieces(range(tokenizer.vocab_size)):
        raise UserError(f"decode.lm={run_dir}: its vocabulary ({theirs.vocab_size} tokens) is not this model's "
                        f"({tokenizer.vocab_size}); train it with --set tokenizer.from_run=THIS_RUN")
    return run.model


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
