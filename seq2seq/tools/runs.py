"""Runs at a glance, for `seq2seq runs`: find the run directories under some folders and summarise each in one row
(task, decoder, best validation and its update, updates done, finished or not, age), sorted for comparison.

A run directory is a folder holding format.json and config.yaml (see checkpoint.py). A run this version cannot read
(a corrupted or newer file) is listed with the state `unreadable` and the one-line error, never an exception.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from .. import checkpoint as ckpt
from ..errors import UserError
from ..metrics import get_metric
from ..rundir import RunDir
from .report import best_validation

FINISHED, INTERRUPTED, UNFINISHED, UNREADABLE = "finished", "interrupted", "unfinished", "unreadable"
STATES = {"end": FINISHED, "interrupt": INTERRUPTED}     # the last event of metrics.jsonl → the run's state
SORTS = ("name", "age", "metric")


@dataclass
class RunSummary:
    run: str                            # the run directory, as found under the folder given
    task: str = ""
    decoder: str = ""                   # config.model.family
    metric: str = ""                    # train.valid_metric: what "best" means for this run
    higher_is_better: Optional[bool] = None
    best: Optional[float] = None        # the best validation value of `metric`
    best_step: Optional[int] = None     # the update of that validation (the earliest of equals)
    updates: int = 0                    # the last update metrics.jsonl mentions
    state: str = UNFINISHED             # see STATES; unfinished: training runs, or was killed; or unreadable
    reason: str = ""                    # why a finished or interrupted run stopped
    age_s: float = 0.0                  # seconds since metrics.jsonl (or, before any event, config.yaml) changed
    error: str = ""                     # why an unreadable run could not be read

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "age_s": round(self.age_s, 1)}


def list_runs(folders: Sequence[Path], sort: Optional[str] = None) -> list[RunSummary]:
    """Every run under `folders`, summarised and sorted (`sort`: one of SORTS; None: `default_sort`)."""
    now = time.time()
    return sort_runs([summarize(path, now) for path in find_runs(folders)], sort)


def find_runs(folders: Sequence[Path]) -> list[Path]:
    """The run directories under `folders` (a folder may be a run itself), in path order; runs are not searched
    further. A folder that does not exist is a UserError."""
    found: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            raise UserError(f"{folder}: {'not a directory' if folder.exists() else 'no such directory'}")
        for here, subdirs, _ in os.walk(folder):
            if RunDir(here).is_run():
                found.append(Path(here))
                subdirs.clear()
    return sorted(dict.fromkeys(found))


def summarize(run_dir: Path, now: Optional[float] = None) -> RunSummary:
    """One run's row; `now`: the time ages are measured from (default: the current time)."""
    summary = RunSummary(str(run_dir), age_s=max(0.0, (now or time.time()) - last_change(run_dir)))
    try:
        config = ckpt.read_config(run_dir)           # checks format.json first
        events = read_events(run_dir)
    except UserError as exc:
        summary.state, summary.error = UNREADABLE, str(exc)
        return summary
    metric = get_metric(config.train.valid_metric)
    summary.task, summary.decoder = config.task, config.model.family
    summary.metric, summary.higher_is_better = metric.name, metric.higher_is_better
    valid = [e for e in events if e.get("event") == "valid" and _is_number(e.get(metric.name))]
    best = best_validation(valid, metric)
    if best is not None:
        summary.best, summary.best_step = best[metric.name], best["step"]
    summary.updates = max((e["step"] for e in events), default=0)
    last = events[-1] if events else {}
    if last.get("event") in STATES:
        summary.state, summary.reason = STATES[last["event"]], str(last.get("reason", ""))
    return summary


def read_events(run_dir: Path) -> list[dict[str, Any]]:
    """The events of metrics.jsonl that carry an update number (lines cut short by a crash are skipped)."""
    try:
        events = ckpt.read_metrics(run_dir)
    except (UnicodeDecodeError, OSError) as exc:
        raise UserError(f"{RunDir(run_dir).metrics}: unreadable ({type(exc).__name__})") from None
    return [e for e in events if isinstance(e, dict) and isinstance(e.get("step"), int)]


def last_change(run_dir: Path) -> float:
    """When training last wrote to the run: metrics.jsonl's modification time, else config.yaml's."""
    for path in (RunDir(run_dir).metrics, RunDir(run_dir).config):
        try:
            return path.stat().st_mtime
        except OSError:
            continue
    return run_dir.stat().st_mtime


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ---- order ------------------------------------------------------------------------------------------------------

def default_sort(runs: Sequence[RunSummary]) -> str:
    """"metric" when every readable run is judged by the same metric, else "age"."""
    metrics = {r.metric for r in runs if r.state != UNREADABLE}
    return "metric" if len(metrics) == 1 else "age"


def sort_runs(runs: Sequence[RunSummary], by: Optional[str] = None) -> list[RunSummary]:
    """name: by path; age: newest first; metric: best first by each metric's direction, runs without a value last
    (runs judged by different metrics are grouped by metric)."""
    keys: dict[str, Callable[[RunSummary], Any]] = {"name": _name_key, "age": _age_key, "metric": _metric_key}
    if by is not None and by not in keys:
        raise UserError(f"sort by {by!r}: expected one of {', '.join(SORTS)}")
    return sorted(runs, key=keys[by or default_sort(runs)])


def _name_key(r: RunSummary) -> Any:
    return r.run


def _age_key(r: RunSummary) -> Any:
    return r.age_s, r.run


def _metric_key(r: RunSummary) -> Any:
    if r.best is None:
        return 1, r.metric, 0.0, r.run
    return 0, r.metric, -r.best if r.higher_is_better else r.best, r.run


# ---- text -------------------------------------------------------------------------------------------------------

COLUMNS = ("run", "task", "decoder", "best", "at update", "updates", "state", "age")
RIGHT = {"at update", "updates", "age"}      # numbers: right-aligned


def render_table(runs: Sequence[RunSummary]) -> str:
    """One aligned row per run under a header."""
    rows = [list(COLUMNS)] + [_cells(r) for r in runs]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(cell.rjust(w) if name in RIGHT else cell.ljust(w)
                               for cell, w, name in zip(row, widths, COLUMNS)).rstrip() for row in rows)


def _cells(r: RunSummary) -> list[str]:
    if r.state == UNREADABLE:
        return [r.run, "?", "?", "?", "", "", r.state, format_age(r.age_s)]
    best = f"{r.metric} {r.best:g}" if r.best is not None else f"{r.metric} -"
    at = f"{r.best_step:,}" if r.best_step is not None else ""
    return [r.run, r.task, r.decoder, best, at, f"{r.updates:,}", r.state, format_age(r.age_s)]


def format_age(seconds: float) -> str:
    """'12 s', '5 min', '3 h', '2 d': the largest unit that fits, rounded down."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"
