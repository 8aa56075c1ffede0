"""Score the variants of a trained translation run that docs/quality.md chooses among, on validation pairs only.

    .venv/bin/python experiments/val_variants.py RUN_DIR [--last 3 5] [--alphas 1.0 1.4] [--beam-size 5]
        [--threads 1] [--src FILE --ref FILE] [--keep DIR] [--output FILE.json]

The variants: the run's best checkpoint (by its validation metric) and the average of its last N snapshots
(`seq2seq average RUN_DIR --last N`), each decoded with beam search at every length penalty α. The pairs: the run's
own validation pairs as its training read them (`data.valid`, or the split held out of `data.train`; never its
test set), or --src/--ref. Prints a markdown table of BLEU / chrF and the best
variant, and writes experiments/results/val_variants_<run name>.json. The averaged models are made in a temporary
folder and removed, unless --keep DIR names where they go (DIR/<run name>_lastN): the one you choose is then the
model to score on the test set, once.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import common  # noqa: E402  (benchmarks/common.py: the markdown tables the docs quote)

from seq2seq.checkpoint import read_config  # noqa: E402
from seq2seq.data.text.pipeline import load_corpora  # noqa: E402
from seq2seq.files import write_atomic  # noqa: E402

RESULTS = REPO / "experiments" / "results"


def valid_pairs(run: Path, src: str | None, ref: str | None, folder: Path) -> tuple[list[str], str]:
    """`seq2seq evaluate` options naming the pairs, and where they come from: --src/--ref as given, else the run's
    validation pairs exactly as its training read them (data.valid, or the split held out of data.train), written
    to `folder`."""
    if src or ref:
        if not (src and ref):
            sys.exit("--src and --ref go together")
        return ["--src", src, "--ref", ref], f"{src} + {ref}"
    valid = load_corpora(read_config(run), ("valid",))["valid"]
    paths = folder / "valid.src", folder / "valid.ref"
    for path, lines in zip(paths, (valid.src, valid.tgt)):
        path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return ["--src", str(paths[0]), "--ref", str(paths[1])], valid.origin


def seq2seq(*args: str) -> str:
    """A seq2seq command's output; its one-line error and a non-zero exit when it fails."""
    done = subprocess.run([sys.executable, "-m", "seq2seq", *args], capture_output=True, text=True)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        sys.exit(f"seq2seq {args[0]} failed: {lines[-1]}")
    return done.stdout


def score(model: Path, pairs: list[str], beam: int, alpha: float, threads: int) -> dict:
    out = seq2seq("evaluate", str(model), *pairs, "--beam-size", str(beam), "--alpha", str(alpha),
                  "--threads", str(threads), "--json")
    s = json.loads(out)
    return {"bleu": s["bleu"], "chrf": s["chrf"]}


def variants(run: Path, last: list[int], folder: Path) -> dict[str, Path]:
    """name -> model directory: the run itself (its best checkpoint) and each average of the last N snapshots."""
    models = {"best checkpoint": run}
    for n in last:
        out = folder / f"{run.name}_last{n}"
        seq2seq("average", str(run), "--last", str(n), "-o", str(out))
        models[f"last {n} averaged"] = out
    return models


def table(rows: list[dict], alphas: list[float]) -> str:
    cells = [[row["variant"], *(f"{row['scores'][str(a)]['bleu']:.2f} / {row['scores'][str(a)]['chrf']:.2f}"
                                for a in alphas)] for row in rows]
    return common.table(["variant", *(f"α {a}: BLEU / chrF" for a in alphas)], cells)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--last", type=int, nargs="*", default=[3, 5], help="average the last N snapshots (default 3 5)")
    ap.add_argument("--alphas", type=float, nargs="+", default=[1.0, 1.4], help="length penalties (default 1.0 1.4)")
    ap.add_argument("--beam-size", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--src", help="source file of the validation pairs (default: the run's data.valid)")
    ap.add_argument("--ref", help="reference file of the validation pairs")
    ap.add_argument("--keep", type=Path, help="keep the averaged models in this folder")
    ap.add_argument("--output", type=Path, help="the JSON result (default experiments/results/val_variants_RUN.json)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        pairs, origin = valid_pairs(args.run_dir, args.src, args.ref, Path(tmp))
        folder = args.keep or Path(tmp)
        rows = [{"variant": name, "model": str(model) if args.keep else None,
                 "scores": {str(a): score(model, pairs, args.beam_size, a, args.threads) for a in args.alphas}}
                for name, model in variants(args.run_dir, args.last, folder).items()]
    best = max(((r["variant"], a, r["scores"][str(a)]["bleu"]) for r in rows for a in args.alphas),
               key=lambda v: v[2])
    payload = {"run_dir": str(args.run_dir), "pairs": origin, "beam_size": args.beam_size, "alphas": args.alphas,
               "rows": rows, "best": {"variant": best[0], "alpha": best[1], "bleu": best[2]}}
    path = args.output or RESULTS / f"val_variants_{args.run_dir.name}.json"
    write_atomic(path, (json.dumps(payload, indent=1) + "\n").encode())
    print(table(rows, args.alphas))
    print(f"\nbest: {best[0]}, α {best[1]}: BLEU {best[2]:.2f}\nwritten {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
