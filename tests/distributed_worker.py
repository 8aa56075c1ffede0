"""One process of a data-parallel training in tests/test_distributed.py, started with RANK, WORLD_SIZE and
SEQ2SEQ_DIST_INIT (a file rendezvous) in its environment, as torchrun would start `seq2seq train`.

    python tests/distributed_worker.py SPEC.json

SPEC: {"config": raw config, "run_dir": ..., "resume": bool, "out": folder for this rank's result,
       "corrupt": [epoch-1 batch of rank 1 whose first source becomes NaN] (optional),
       "term_at": update after which rank 1 sends itself SIGTERM (optional)}
Each rank writes OUT/rank{R}.json (steps, skipped updates, interrupted, losses) and OUT/rank{R}.safetensors (its
final weights), so the test can check that all ranks agree.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

from seq2seq.config import validate
from seq2seq.data.batching import plan_batches
from seq2seq.training.train import Trainer
from seq2seq.training.distributed import end_rank, leave


def corrupt_first_source(trainer: Trainer, batch: int) -> None:
    """Training data that makes this rank's loss NaN at `batch` of epoch 1 (the other ranks' data stays clean)."""
    tc = trainer.tc
    plan = trainer.world.share(plan_batches(*trainer.data.train_lengths(), epoch=1, seed=tc.seed,
                                            batch_sentences=tc.batch_sentences, batch_tokens=tc.batch_tokens))
    index = plan[batch][0]
    trainer.data.train_src[index] = torch.full_like(trainer.data.train_src[index], float("nan"))


def main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    losses: list[float] = []
    rank = int(os.environ["RANK"])

    def on_step(step: int, loss: float) -> None:
        losses.append(loss)
        if rank == 1 and step == spec.get("term_at"):
            os.kill(os.getpid(), signal.SIGTERM)

    trainer = Trainer(validate(spec["config"]), spec["run_dir"], resume=spec.get("resume", False), verbose=False,
                      on_step=on_step)
    if rank == 1 and spec.get("corrupt") is not None:
        corrupt_first_source(trainer, spec["corrupt"])
    try:
        result = trainer.run()
    finally:
        leave()
    out = Path(spec["out"])
    save_file({k: v.contiguous() for k, v in trainer.model.state_dict().items()}, out / f"rank{rank}.safetensors")
    (out / f"rank{rank}.json").write_text(json.dumps({
        "steps": result.steps, "skipped": result.skipped_nonfinite, "interrupted": result.interrupted,
        "stopped": result.stopped, "losses": losses}))


if __name__ == "__main__":
    main(sys.argv[1])
    end_rank(0)         # as `seq2seq train` ends a rank: without the interpreter's finalization
