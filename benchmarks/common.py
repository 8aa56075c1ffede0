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
import time
from pathlib import Path
from typing import Any, Optional, Sequence

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


def reference_config(overrides: Sequence[str] = ()):
    """The reference configuration (configs/multi30k_de_en.yaml) with `--set`-style overrides."""
    from seq2seq.config import load_config

    return load_config(REFERENCE, [f"data.root={multi30k()}", *overrides])


def tokenizer_run() -> Path:
    """A folder holding the reference tokenizers (trained once, then reused by every row: `tokenizer.from_run`)."""
    from seq2seq import checkpoint as ckpt
    from seq2seq.data.pipeline import build_tokenizers, load_corpora
    from seq2seq.data.tokenizers import save_tokenizers

    config = reference_config()
    tag = "perside" if config.tokenizer.per_side_vocab else "joint"
    folder = CACHE / f"tokenizer-de-en-{config.tokenizer.vocab_size}-{tag}"
    if not (folder / ckpt.TOKENIZER).is_dir():
        src, tgt = build_tokenizers(config, load_corpora(config)["train"])
        save_tokenizers(folder / ckpt.TOKENIZER, src, tgt)
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
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"benchmark": name, "machine": machine(), **payload}, indent=1) + "\n")
    if text:
        print(text)
    print(f"\nwritten {path.relative_to(REPO)}")
    return path
