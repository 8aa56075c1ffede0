"""Experiment 4 — alignment quality: does attention look where the answer comes from?

    .venv/bin/python experiments/alignment.py [--threads 1] [--examples 2000] [--seed 1]

On the date task the generator knows which characters of the source spell the day, the month and the year
(`DateExample.spans`). Each attention type is trained with the demo's recipe (character tokens, bi-GRU encoder 96 per
direction, GRU decoder 192 — the same sizes for every row, so `dot` works), then translates fresh dates greedily.
For every output in ISO shape (YYYY-MM-DD) and each of its eight digits, the argmax of that step's attention is a
hit when it falls inside the source span of the digit's field (year digits → the year span, ...). Reported: exact
match, and the share of digits aligned into their span, overall and per field. Writes experiments/results/alignment.md,
alignment.png and one heatmap per type for the same date (alignment_<type>.png).
"""

from __future__ import annotations

import argparse
import copy
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "experiments" / "results"
RUNS = ROOT / "runs" / "experiments" / "alignment"

TYPES = {
    "bahdanau": {"attention": "bahdanau"},
    "luong-dot": {"attention": "luong", "score": "dot", "input_feeding": True},
    "luong-general": {"attention": "luong", "score": "general", "input_feeding": True},
    "luong-concat": {"attention": "luong", "score": "concat", "input_feeding": True},
    "luong-local-m": {"attention": "luong", "score": "general", "input_feeding": True, "alignment": "local-m",
                      "window": 4},
    "luong-local-p": {"attention": "luong", "score": "general", "input_feeding": True, "alignment": "local-p",
                      "window": 4},
}
FIELDS = {"year": range(0, 4), "month": range(5, 7), "day": range(8, 10)}
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EXAMPLE = "Thursday, 25th of June 2009"


def config_for(kind: str, threads: int):
    from seq2seq.config import validate
    from seq2seq.demos.dates import DEMO_CONFIG

    raw = copy.deepcopy(DEMO_CONFIG)
    raw["model"]["decoder"] = {"rnn": "gru", "hidden_size": 192, "layers": 1, "dropout": 0.0, **TYPES[kind]}
    raw["train"]["threads"] = threads
    raw["train"]["attention_plots"] = 0
    return validate(raw, origin=f"alignment experiment ({kind})")


def measure(run_dir: Path, examples) -> dict:
    from seq2seq.inference.translator import Translator

    translator = Translator.load(run_dir)
    outputs = translator.translate([e.source for e in examples], beam_size=1)
    exact = sum(o.text == e.target for o, e in zip(outputs, examples))
    hits = {f: 0 for f in FIELDS}
    total = {f: 0 for f in FIELDS}
    for o, e in zip(outputs, examples):
        if not ISO.match(o.text) or len(o.src_tokens) != len(e.source):
            continue
        for field, positions in FIELDS.items():
            start, end = e.spans[field]
            for p in positions:
                total[field] += 1
                hits[field] += start <= int(o.attention[p].argmax()) < end
    share = {f: 100.0 * hits[f] / max(1, total[f]) for f in FIELDS}
    share["all"] = 100.0 * sum(hits.values()) / max(1, sum(total.values()))
    return {"exact": 100.0 * exact / len(examples), "aligned": share, "digits": sum(total.values())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--examples", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1, help="seed of the evaluation dates (training uses the demo's)")
    ap.add_argument("--only", nargs="*", choices=list(TYPES))
    args = ap.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from seq2seq.inference.translator import Translator
    from seq2seq.data.text.synthetic import date_examples
    from seq2seq.plot import save_heatmap
    from seq2seq.training.train import ensure_trained

    examples = date_examples(args.examples, random.Random(10_000 + args.seed))
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = {}
    for kind in args.only or TYPES:
        run_dir = RUNS / kind
        started = time.time()
        ensure_trained(config_for(kind, args.threads), run_dir)
        rows[kind] = {**measure(run_dir, examples), "train_s": round(time.time() - started)}
        t = Translator.load(run_dir).translate([EXAMPLE], beam_size=1)[0]
        save_heatmap(RESULTS / f"alignment_{kind}", t.src_tokens, t.tokens, t.attention, ("png",),
                     title=f"{kind}: {t.text}")
        print(f"{kind}: exact {rows[kind]['exact']:.1f}%, digits aligned {rows[kind]['aligned']['all']:.1f}%",
              file=sys.stderr, flush=True)
    lines = ["| attention | exact match | digits aligned into their field's span | year | month | day |",
             "|---|---|---|---|---|---|"]
    for kind, r in rows.items():
        a = r["aligned"]
        lines.append(f"| {kind} | {r['exact']:.1f}% | **{a['all']:.1f}%** | {a['year']:.1f}% | {a['month']:.1f}% | "
                     f"{a['day']:.1f}% |")
    table = "\n".join(lines)
    (RESULTS / "alignment.md").write_text(
        f"{args.examples} fresh dates (seed {10_000 + args.seed}), greedy; {next(iter(rows.values()))['digits']:,} "
        f"digits scored for the first row.\n\n{table}\n")
    fig, ax = plt.subplots(figsize=(9, 3.8))
    width = 0.2
    for j, field in enumerate(("all", "year", "month", "day")):
        ax.bar([i + (j - 1.5) * width for i in range(len(rows))], [r["aligned"][field] for r in rows.values()],
               width, label=field)
    ax.set_xticks(range(len(rows)), labels=list(rows), rotation=15)
    ax.set(ylabel="% of output digits", ylim=(0, 100), title="argmax attention inside the source span that spells it")
    ax.legend(fontsize=8, ncol=4)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(RESULTS / "alignment.png", dpi=110)
    print(table)


if __name__ == "__main__":
    main()
