"""Experiment — error accumulation in speech synthesis: teacher forcing against free running, over training.

    .venv/bin/python experiments/tts_free_running.py NAME=RUN_DIR[@WEIGHTS ...] ... [--strings 100] [--threads 1]
        [--out tts_free_running]

Each NAME=RUN_DIR is a text_to_speech run (configs/fsdd_tts.yaml); `@WEIGHTS` picks a checkpoint file (e.g. a
`checkpoints/step-000000500.safetensors` kept from training) instead of `best`. On the first `--strings` strings of
the run's own validation split (clips training never heard), two ways of producing each spectrogram:
- teacher forced: every decoder step is fed the *real* previous frame, as in training;
- free running: every step is fed the model's own last frame, as at inference, until the stop flag (or
  model.head.max_steps), the prenet's dropout on as always (torch.manual_seed(0) first).
Measured per row: frame L1 (normalised log-mel units) by position in the utterance, in fifths of the real length —
teacher forced frame by frame; free running along the dynamic-time-warping path between the generated and the real
frames (cost L1), each pair counted at its real frame's position — so an error that grows along the utterance shows
as rising columns; the share of syntheses that stopped by themselves; the length ratio generated / real (median);
and "babbling": syntheses over 1.5× the real length or never stopping. Seq2seq's classic weakness (Bengio et al.
2015): trained only on true prefixes, the decoder meets its own errors at inference and they compound. Writes
experiments/results/<out>.md and .json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "experiments" / "results"
BINS = 5


def load(spec: str):
    """(name, Run) from NAME=RUN_DIR[@WEIGHTS]."""
    from seq2seq.inference.loading import load_run

    name, _, where = spec.partition("=")
    run_dir, _, weights = where.partition("@")
    return name, load_run(run_dir, weights or "best")


def validation(run, count: int):
    """(token id lists, normalised real frames) of the run's first `count` validation strings."""
    split = run.task.read_data(("valid",))["valid"]
    frames, ids = run.task.pairs(split, run.vocab)
    return ids[:count], frames[:count]


def teacher_forced(run, sources, targets) -> list:
    """Per string, (frames, frame) predicted from the real previous frames (after any postnet)."""
    import torch

    from seq2seq.data.batching import make_frame_batch

    head = run.model.head
    out = []
    with torch.no_grad():
        for start in range(0, len(sources), 50):
            batch = make_frame_batch(sources[start:start + 50], targets[start:start + 50], head.reduction)
            (frames, _stop), _ = run.model.teacher_forced(batch)               # (batch, steps, r, frame)
            frames = head.refine(frames.flatten(1, 2), batch.frame_mask)      # (batch, steps * r, frame)
            out += [frames[i, :len(t)] for i, t in enumerate(targets[start:start + 50])]
    return out


def dtw_pairs(generated, real):
    """The dynamic-time-warping path (steps (1,0), (0,1), (1,1), L1 cost) between two (frames, frame) arrays,
    as (generated index, real index) pairs from the first frames to the last."""
    import numpy as np

    cost = np.abs(generated[:, None, :] - real[None, :, :]).mean(-1)         # (gen, real)
    total = np.full((len(generated) + 1, len(real) + 1), np.inf)
    total[0, 0] = 0.0
    for i in range(1, len(generated) + 1):
        for j in range(1, len(real) + 1):
            total[i, j] = cost[i - 1, j - 1] + min(total[i - 1, j], total[i, j - 1], total[i - 1, j - 1])
    i, j, path = len(generated), len(real), []
    while i > 0 and j > 0:
        path.append((i - 1, j - 1))
        step = int(np.argmin([total[i - 1, j - 1], total[i - 1, j], total[i, j - 1]]))
        i, j = (i - 1, j - 1) if step == 0 else (i - 1, j) if step == 1 else (i, j - 1)
    return path[::-1], cost


def by_position(strings) -> list[float]:
    """Mean cost in each fifth of the real length; strings: per string, (real frame index, cost, real length)."""
    sums, counts = [0.0] * BINS, [0] * BINS
    for items in strings:
        for r, cost, length in items:
            b = min(BINS - 1, r * BINS // length)
            sums[b] += cost
            counts[b] += 1
    return [s / max(1, c) for s, c in zip(sums, counts)]


def measure(run, count: int) -> dict:
    import numpy as np
    import torch

    sources, targets = validation(run, count)
    forced = teacher_forced(run, sources, targets)
    tf = [[(i, float(c), len(t)) for i, c in enumerate((p - t).abs().mean(-1))] for p, t in zip(forced, targets)]
    torch.manual_seed(0)
    free = run.task.synthesize(run.model, sources)
    fr = []
    for out, t in zip(free, targets):
        pairs, cost = dtw_pairs(out.frames.numpy(), t.numpy())
        fr.append([(r, float(cost[g, r]), len(t)) for g, r in pairs])
    ratios = [len(o.frames) / len(t) for o, t in zip(free, targets)]
    return {"teacher_forced": by_position(tf), "free_running": by_position(fr),
            "stopped": 100.0 * sum(o.stopped for o in free) / len(free),
            "length_ratio": float(np.median(ratios)),
            "babbling": 100.0 * sum((not o.stopped) or r > 1.5 for o, r in zip(free, ratios)) / len(free),
            "strings": len(free)}


def write(results: dict, out: str) -> str:
    head = " | ".join(f"{100 * i // BINS}–{100 * (i + 1) // BINS}%" for i in range(BINS))
    lines = [f"| run | mode | {head} | stopped | length ratio | babbling |",
             "|---|---|" + "---|" * BINS + "---|---|---|"]
    for name, r in results.items():
        for mode in ("teacher_forced", "free_running"):
            cells = " | ".join(f"{v:.3f}" for v in r[mode])
            extra = (f"{r['stopped']:.0f}% | {r['length_ratio']:.2f} | {r['babbling']:.0f}%"
                     if mode == "free_running" else "| |")
            lines.append(f"| {name} | {mode.replace('_', ' ')} | {cells} | {extra} |")
    table = "\n".join(lines) + "\n"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{out}.md").write_text(table)
    (RESULTS / f"{out}.json").write_text(json.dumps(results, indent=1) + "\n")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", metavar="NAME=RUN_DIR[@WEIGHTS]")
    parser.add_argument("--strings", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="tts_free_running")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    results = {}
    for spec in args.runs:
        name, run = load(spec)
        results[name] = measure(run, args.strings)
        print(name, json.dumps(results[name]), flush=True)
    print(write(results, args.out))


if __name__ == "__main__":
    main()
