"""Tasks: what one modality needs from the shared core (see `base.Task`). `get_task(config)` picks one by the
config's `task:` field (its config class is chosen by the same name, in config.py)."""

from __future__ import annotations

from ..config import Config
from .base import Task
from .speech_to_text import SpeechToTextTask
from .text_to_speech import TextToSpeechTask
from .translation import TranslationTask

TASKS: dict[str, type[Task]] = {task.name: task for task in (TranslationTask, SpeechToTextTask, TextToSpeechTask)}


def get_task(config: Config) -> Task:
    """The task a config describes."""
    return TASKS[config.task](config)


__all__ = ["TASKS", "Task", "TranslationTask", "SpeechToTextTask", "TextToSpeechTask", "get_task"]
