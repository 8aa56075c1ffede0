"""What a task's HTTP endpoint declares (`TaskRoutes`; each task names its own, `Task.serving()`), and what the
endpoints share: the error responses and the averaging of a long spectrogram for the page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

ERRORS = {413: {"description": "request body too large"},
          422: {"description": "a limit or a field is wrong (the detail says which)"},
          504: {"description": "timed out"}}
SPECTROGRAM_ROWS = 800                  # a longer spectrogram is averaged down to this many rows for the page


@dataclass(frozen=True)
class TaskRoutes:
    """A task's endpoint: `path` and how to call it (for the other servers' 404s), `add(app, predictor, batcher,
    settings, runs)` registering its routes, `decoding(predictor)` the batcher's decode function, and `info(settings)`
    what `GET /info` adds about the endpoint's own limits."""

    path: str
    how: str
    add: Callable[..., None]
    decoding: Callable[[Any], Callable[[list, tuple], list]]
    info: Callable[[Any], dict[str, Any]] = field(default=lambda settings: {})


def downsampled(mel, step: int) -> list[list[float]]:
    """(ceil(frames / step), n_mels) means of `step` consecutive frames (the last row: of those left), rounded."""
    rows = [mel[i: i + step].mean(0) for i in range(0, len(mel), step)]
    return [[round(float(v), 2) for v in row] for row in rows]
