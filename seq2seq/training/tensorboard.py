"""Training curves as TensorBoard event files (`train.tensorboard`), for `tensorboard --logdir runs` while a run
trains: the same numbers as metrics.jsonl, written as they are logged. Needs the `tensorboard` package."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import UserError

FOLDER = "tensorboard"
NOT_SCALARS = {"event", "step", "epoch", "time", "best", "reason", "what"}


class TensorBoardWriter:
    """Scalars `train/<name>` and `valid/<name>` per update. A resumed run first drops what the log will re-write
    (events after its checkpoint), as metrics.jsonl does."""

    def __init__(self, run_dir: Path, resume_step: int):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise UserError("train.tensorboard needs the tensorboard package: pip install tensorboard (or set "
                            "train.tensorboard=false)") from None
        self.writer = SummaryWriter(str(run_dir / FOLDER), purge_step=resume_step + 1 if resume_step else None)

    def write(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind not in ("train", "valid"):
            return
        for name, value in event.items():
            if name not in NOT_SCALARS and isinstance(value, (int, float)) and not isinstance(value, bool):
                self.writer.add_scalar(f"{kind}/{name}", value, event["step"])
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
