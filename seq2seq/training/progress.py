"""What training tells as it goes: progress lines on stderr (`Logger`), events in metrics.jsonl (`EventLog`), and
the loss and throughput of the updates since the last logged one (`Window`)."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..errors import UserError
from ..files import write_failure


class Logger:
    """Progress to stderr: a tqdm bar on a terminal, a line every `log_every` updates otherwise."""

    def __init__(self, verbose: bool):
        self.verbose = verbose
        self.bar = None

    def line(self, text: str) -> None:
        if not self.verbose:
            return
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def start_epoch(self, epoch: int, total: int, done: int) -> None:
        if self.verbose and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, desc=f"epoch {epoch}", file=sys.stderr, leave=False,
                            dynamic_ncols=True)

    def update(self, postfix: str) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(postfix, refresh=False)

    def end_epoch(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class EventLog:
    """metrics.jsonl, opened for appending: one JSON object per line, flushed at once (a killed run keeps all);
    each event also goes to the `mirrors` (TensorBoard)."""

    def __init__(self, path: Path, mirrors: Sequence[Any] = ()):
        self.path, self.mirrors = path, list(mirrors)
        try:
            self.file = path.open("a", encoding="utf-8")
        except OSError as exc:
            raise UserError(write_failure(path, exc)) from None

    def emit(self, event: dict[str, Any]) -> None:
        try:
            self.file.write(json.dumps(event) + "\n")
            self.file.flush()
        except OSError as exc:
            raise UserError(write_failure(self.path, exc)) from None
        for mirror in self.mirrors:
            mirror.write(event)

    def close(self) -> None:
        self.file.close()
        for mirror in self.mirrors:
            mirror.close()


class NoEvents:
    """The event log of a process that does not write the run directory (torchrun ranks other than 0)."""

    def emit(self, event: dict[str, Any]) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class Window:
    """The updates since the last `train` event: their mean loss and tokens per second."""

    tokens: int = 0
    loss: float = 0.0          # sum of per-token losses, one per update
    steps: int = 0
    start: float = field(default_factory=time.time)

    def add(self, tokens: int, token_loss: float) -> None:
        self.tokens += tokens
        self.loss += token_loss
        self.steps += 1

    def elapsed(self) -> float:
        return max(1e-9, time.time() - self.start)
