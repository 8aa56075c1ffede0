"""Inference: a run directory loaded into its task's predictor (`load`), and the predictors themselves —
`Translator` (text → text), `Transcriber` (speech → text), `Synthesizer` (text → speech)."""

from __future__ import annotations

from .loading import RunDirs, task_of


def load(run_dir: RunDirs, which: str = "best", device: str = "cpu"):
    """The predictor of the run's task (`Task.predictor()`) for one run directory, or several (an ensemble, where
    the task allows one; the first run's task decides)."""
    return task_of(run_dir).predictor().load(run_dir, which=which, device=device)


__all__ = ["load"]
