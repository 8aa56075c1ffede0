"""Tasks: what one modality needs from the shared core (see `base.Task`), training and inference alike.

`TASKS` is the registry every front door asks (`get_task(config)`, `task_class(name)`); a new task joins it with
`register(MyTask)` — the built-in ones are registered here."""

from __future__ import annotations

from ..config import Config, register_config
from ..errors import UserError
from .base import Task
from .image_to_text import ImageToTextTask
from .language_model import LanguageModelTask
from .speech_to_text import SpeechToTextTask
from .text_to_speech import TextToSpeechTask
from .translation import TranslationTask

TASKS: dict[str, type[Task]] = {}


def register(task: type[Task]) -> type[Task]:
    """Add a task (and its config class) to the registry; usable as a class decorator."""
    TASKS[task.name] = task
    register_config(task.name, task.config_class)
    return task


for _task in (TranslationTask, SpeechToTextTask, TextToSpeechTask, ImageToTextTask, LanguageModelTask):
    register(_task)


def task_class(name: str) -> type[Task]:
    if name not in TASKS:
        raise UserError(f"task = {name!r}: unknown task (allowed: {', '.join(TASKS)})")
    return TASKS[name]


def get_task(config: Config) -> Task:
    """The task a config describes."""
    return task_class(config.task)(config)


__all__ = ["TASKS", "Task", "TranslationTask", "SpeechToTextTask", "TextToSpeechTask", "ImageToTextTask",
           "LanguageModelTask", "get_task", "register", "task_class"]
