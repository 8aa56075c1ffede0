"""Ctrl-C and `kill` during training: the first SIGINT or SIGTERM asks the loop to stop after the update in
progress (it then saves a resumable checkpoint); a second one interrupts at once, as Python normally would."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Optional

SIGNALS = {signal.SIGINT: "Ctrl-C (SIGINT)", signal.SIGTERM: "SIGTERM"}


class StopRequests:
    """While entered (main thread only; elsewhere signals keep their handlers), records the first stop signal."""

    def __init__(self) -> None:
        self.received: Optional[str] = None       # which signal asked to stop; None while none did
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "StopRequests":
        if threading.current_thread() is threading.main_thread():
            for number in SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()

    def _handle(self, number: int, frame: Optional[FrameType]) -> None:
        if self.received is not None:            # the second request: stop now, without saving
            raise KeyboardInterrupt
        self.received = SIGNALS[number]
