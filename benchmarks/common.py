"""Shared helpers for the benchmark scripts: the reference configuration, data paths, child processes with their
own peak RSS, machine facts, tables and JSON results.

Every measurement runs in a fresh child process (`python benchmarks/NAME.py --child ...`), so each row's peak RSS
is its own and no row warms the caches of the next one. Results go to `benchmarks/results/NAME.json`.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence
from seq2seq.rundir import RunDir

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
CACHE = REPO / "benchmarks" / ".cache"
REFERENCE = REPO / "configs" / "multi30k_de_en.yaml"

sys.path.insert(0, str(REPO))


def shared_data() -> Path:
    """The shared data folder (`seq2seq.data.shared`, as for the tests); exits with a message without Multi30k."""
    from seq2seq.data.shared import ENV, shared_data_path

    data = shared_data_path()
    if not (data / "multi30k").is_dir():
        sys.exit(f"benchmark needs Multi30k in {data / 'multi30k'} (set {ENV} to the data folder)")
    return data


def multi30k() -> Path:
    return shared_data() / "multi30k"


def test_lines() -> list[str]:
    """The German side of test_2016_flickr, the decoding benchmarks' input."""
    return (multi30k() / "test_2016_flickr.de").read_text(encoding="utf-8").splitlines()


def search_options(beam: int, batch: int, precision: str = "fp32") -> dict[str, Any]:
    """`Translator.translate` options of the decoding benchmarks: at most 100 pieces, GNMT α 1.0 with a beam."""
    return dict(beam_size=beam, batch_size=batch, alpha=1.0 if beam > 1 else 0.0, max_len=100, precision=precision)


def evaluate(run_dir: Path, split: str, options: Sequence[str], env: Optional[dict[str, str]] = None
             ) -> dict[str, Any]:
    """`seq2seq evaluate RUN_DIR --json` on a Multi30k de→en split (val, test_2016_flickr): its scores."""
    data = multi30k() / split
    out = subprocess.run([sys.executable, "-m", "seq2seq", "evaluate", str(run_dir), "--src", f"{data}.de", "--ref",
                          f"{data}.en", "--json", *options],
                         check=True, capture_output=True, text=True, cwd=REPO, env=env).stdout
    return json.loads(out)


def reference_config(overrides: Sequence[str] = ()):
    """The reference configuration (configs/multi30k_de_en.yaml) with `--set`-style overrides."""
    from seq2seq.config import load_config

    return load_config(REFERENCE, [f"data.root={multi30k()}", *overrides])


def tokenizer_run() -> Path:
    """A folder holding the reference tokenizers (trained once, then reused by every row: `tokenizer.from_run`)."""
    from seq2seq.data.text.pipeline import build_tokenizers, load_corpora
    from seq2seq.data.text.tokenizers import save_tokenizers

    config = reference_config()
    tag = "perside" if config.tokenizer.per_side_vocab else "joint"
    folder = CACHE / f"tokenizer-de-en-{config.tokenizer.vocab_size}-{tag}"
    if not (RunDir(folder).tokenizer).is_dir():
        src, tgt = build_tokenizers(config, load_corpora(config)["train"])
        save_tokenizers(RunDir(folder).tokenizer, src, tgt)
    return folder


def machine() -> dict[str, Any]:
    import torch

    model = platform.processor() or platform.machine()
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True, check=True).stdout.strip()
        commit += "+changes" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {"cpu": model, "cores": os.cpu_count(), "torch": torch.__version__, "python": platform.python_version(),
            "commit": commit, "date": time.strftime("%Y-%m-%d %H:%M")}


def run_child(script: str, args: Sequence[str], timeout: float = 3600) -> dict[str, Any]:
    """Run `python benchmarks/SCRIPT --child ARGS`; its last stdout line is a JSON object. Adds the child's own
    peak RSS (MiB, from wait4) and wall-clock seconds."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(REPO / "benchmarks" / script), "--child", *args],
                            stdout=subprocess.PIPE, text=True, cwd=REPO)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{script} {' '.join(args)} failed with exit code {proc.returncode}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mib"] = round(usage.ru_maxrss / 1024, 1)   # ru_maxrss is in KiB on Linux
    result["process_wall_s"] = round(wall, 2)
    return result


def child_result(payload: dict[str, Any]) -> None:
    """What a child prints last: one JSON line."""
    print(json.dumps(payload), flush=True)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A markdown table (what docs/performance.md quotes)."""
    cells = [[_fmt(c) for c in row] for row in rows]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def save(name: str, payload: dict[str, Any], text: Optional[str] = None) -> Path:
    from seq2seq.files import write_atomic

    path = RESULTS / f"{name}.json"
    write_atomic(path, (json.dumps({"benchmark": name, "machine": machine(), **payload}, indent=1) + "\n").encode())
    if text:
        print(text)
    print(f"\nwritten {path.relative_to(REPO)}")
    return path


# ---- the reference training through the CLI (distributed_throughput.py, busy_neighbour.py) -----------------------

def reference_training(launcher: Sequence[str], overrides: Sequence[str], steps: int, window: int,
                       env: Optional[dict[str, str]] = None, clean_env: bool = False,
                       keep: Optional[Path] = None) -> dict[str, Any]:
    """`LAUNCHER train CONFIG` (e.g. `python -m seq2seq`, or torchrun … -m seq2seq) on the reference configuration
    for `steps` updates, no validation or checkpoints; the target tokens/s the loop logged every `window` updates
    (the first window, warm-up, left out), their median, and the wall-clock seconds including start-up.
    env: added to this process's environment, or (clean_env) the child's whole environment. keep: the run folder
    to train in and keep (its final checkpoint, for decoding), instead of a temporary one."""
    import yaml

    config = reference_config([f"tokenizer.from_run={tokenizer_run()}", f"train.max_steps={steps}",
                               f"train.log_every={window}", "train.device=cpu", "train.valid_every=null",
                               "train.save_every=null", "train.save_minutes=null", *overrides])
    with tempfile.TemporaryDirectory() as folder:
        config_file, run_dir = Path(folder) / "config.yaml", keep or Path(folder) / "run"
        config_file.write_text(yaml.safe_dump(config.model_dump(mode="json", exclude_unset=True)))
        started = time.perf_counter()
        subprocess.run([*launcher, "train", str(config_file), "--run-dir", str(run_dir), "--quiet"], check=True,
                       cwd=REPO, env={**os.environ, **(env or {})} if not clean_env else env)
        wall = time.perf_counter() - started
        events = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    logged = [e for e in events if e["event"] == "train"][1:]
    windows = [e["tokens_per_s"] for e in logged]
    threads = [e["threads"] for e in logged if "threads" in e]          # where train.share_cores chose them
    return {"windows_tok_s": windows, "tokens_per_s": round(median(windows), 1), "wall_s": round(wall, 1),
            **({"threads": threads} if threads else {})}


# ---- training throughput (speech_throughput.py, tts_throughput.py) -----------------------------------------------

Update = tuple[float, int, int, int, int]      # (time after it, frames, padded frames, utterances, tokens)


@dataclass
class TimedTraining:
    """What `timed_training` saw: one `Update` per update, the batch-assembly seconds per update (None when not
    timed), the loop's result, the model's parameter count, the training examples kept and the set-up seconds."""
    updates: list[Update]
    assembly: Optional[list[float]]
    result: Any
    parameters: int
    kept: int
    prepare_s: float


def train_config(run: Path, steps: int, threads: int, size: int):
    """The run's config for a training benchmark: `steps` updates on the CPU with the run's vocabulary and feature
    normaliser (tokenizer.from_run), `size` training strings, no validation, checkpoint or plots inside the loop."""
    from seq2seq.config import load_config

    return load_config(RunDir(run).config, [
        f"tokenizer.from_run={run}", f"train.max_steps={steps}", f"train.threads={threads}", "train.device=cpu",
        f"train.valid_every={10**9}", "train.save_every=null", "train.save_minutes=null", "train.tensorboard=false",
        "train.attention_plots=0", f"data.digits.train_size={size}", "data.digits.valid_size=8"])


def _timed_batches(train_batch: Callable, assembly: list[float]) -> Callable:
    def timed_batch(ids):           # batch assembly (+ SpecAugment), inside the update
        t0 = time.perf_counter()
        batch = train_batch(ids)
        assembly.append(time.perf_counter() - t0)
        return batch

    return timed_batch


def timed_training(config, measure: Callable, time_batches: bool = False) -> TimedTraining:
    """Train `config` from fresh weights by the real loop (`training.trainer.Trainer`) in a temporary folder; the
    on_step callback timestamps each update. measure(data, ids) → (frames, padded frames, utterances, tokens) of the
    batch an update trained on; time_batches: also time the batch assembly (data.train_batch) of each update."""
    from seq2seq.training.trainer import Trainer

    updates: list[Update] = []
    prepared = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        trainer = Trainer(config, Path(folder) / "run", verbose=False)
        prepare_s = time.perf_counter() - prepared
        data, assembly = trainer.data, ([] if time_batches else None)
        if assembly is not None:
            data.train_batch = _timed_batches(data.train_batch, assembly)

        def on_step(step: int, loss: float) -> None:
            now = time.perf_counter()
            ids = trainer.plan[trainer.state.batch_in_epoch - 1]      # the batch this update trained on
            updates.append((now, *measure(data, ids)))

        trainer.on_step = on_step
        result = trainer.run()
        return TimedTraining(updates, assembly, result, trainer.model.num_parameters(), len(data.train_src),
                             prepare_s)


def train_windows(updates: Sequence[Update], window: int, steps: int) -> list[dict[str, Any]]:
    """The updates in windows of `window` (update 1 only starts the clock); exits with fewer than two windows."""
    windows = []
    for start in range(0, len(updates) - window, window):           # update 1 (index 0) only starts the clock
        part = updates[start + 1 : start + window + 1]
        seconds = part[-1][0] - updates[start][0]
        frames, padded, utts, tokens = (sum(u[k] for u in part) for k in (1, 2, 3, 4))
        windows.append({"updates": len(part), "s": round(seconds, 4), "frames_per_s": round(frames / seconds, 1),
                        "utterances_per_s": round(utts / seconds, 2), "tokens_per_s": round(tokens / seconds, 1),
                        "padded_ratio": round(padded / frames, 3)})
    if len(windows) < 2:
        sys.exit(f"--steps {steps} with --window {window}: need at least 1 + 2 windows of updates")
    return windows


def window_medians(windows: Sequence[dict[str, Any]], window: int, hop_s: float) -> dict[str, Any]:
    """The first window is warm-up; the figures are medians of the others (hop_s: seconds of audio per frame)."""
    timed = windows[1:]
    frames_s = median([w["frames_per_s"] for w in timed])
    return {"window": window, "windows": timed, "warmup_window": windows[0],
            "frames_per_s": round(frames_s, 1), "audio_s_per_s": round(frames_s * hop_s, 2),
            "utterances_per_s": round(median([w["utterances_per_s"] for w in timed]), 2),
            "tokens_per_s": round(median([w["tokens_per_s"] for w in timed]), 1),
            "s_per_update": round(median([w["s"] / w["updates"] for w in timed]), 4)}


def training_record(config, run: TimedTraining, size: int, steps: int, window: int,
                    task_fields: dict[str, Any]) -> dict[str, Any]:
    """A training child's result: the config's figures, `task_fields`, the window medians, the shares."""
    import torch

    updates, after_warmup = run.updates, run.updates[window + 1 :]
    record = {"part": "train", "threads": torch.get_num_threads(), "parameters": run.parameters,
              "batch_sentences": config.train.batch_sentences, "batch_tokens": config.train.batch_tokens,
              "precision": config.train.precision, **task_fields, "train_size": size, "train_kept": run.kept,
              "updates": run.result.steps, "skipped_nonfinite": run.result.skipped_nonfinite,
              **window_medians(train_windows(updates, window, steps), window, config.data.features.hop_ms / 1000)}
    if run.assembly is not None:
        record["batch_and_augment_share"] = round(
            sum(run.assembly[window + 1 :]) / max(1e-9, updates[-1][0] - updates[window][0]), 3)
    record["padded_ratio"] = round(sum(u[2] for u in after_warmup) / sum(u[1] for u in after_warmup), 3)
    record["prepare_s"] = round(run.prepare_s, 1)
    return record


def run_train_child(script: str, args) -> dict[str, Any]:
    """The training child of SCRIPT with the parent's --threads, --steps, --window and --train-size."""
    train = run_child(script, ["train", args.run_dir, "--threads", str(args.threads), "--steps", str(args.steps),
                               "--window", str(args.window),
                               *(["--train-size", str(args.train_size)] if args.train_size else [])])
    print(f"training: {train['frames_per_s']:,.0f} frames/s", file=sys.stderr, flush=True)
    return train


def train_budget(train: dict[str, Any]) -> str:
    """The batch budget of a training result: sentences, else tokens."""
    return f"{train['batch_sentences']}" if train["batch_sentences"] else f"{train['batch_tokens']} tokens"


def window_range(train: dict[str, Any]) -> str:
    """The spread of frames/s over a training result's timed windows: 'lowest–highest'."""
    frames_all = [w["frames_per_s"] for w in train["windows"]]
    return f"{min(frames_all):,.0f}–{max(frames_all):,.0f}"
