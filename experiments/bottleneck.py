"""Experiment 1 — the fixed-vector bottleneck: quality against source length, with and without attention.

    .venv/bin/python experiments/bottleneck.py multi30k vanilla=runs/m30k_vanilla bahdanau=runs/m30k_bahdanau \\
        luong=runs/m30k_luong [--split test_2016_flickr] [--threads 1]
    .venv/bin/python experiments/bottleneck.py synthetic [--tasks copy reverse] [--max-len 100] [--threads 2]

multi30k: translates a Multi30k split (de→en) greedily with each trained run and scores BLEU per source-length
bucket (source length in the run's own pieces), so the families are compared on the same sentences.
synthetic: trains vanilla, bahdanau and luong (`general` score, input feeding) with the same sizes (embeddings 64,
bi-GRU encoder 128 per direction, GRU decoder 256) and the same budget (5 epochs of 20,000 random strings of 5…MAX
symbols over 10 letters, batches of 64, Adam 2e-3) on copy and on reverse, and reports greedy sequence accuracy
(exact match) per length bucket on 200 fresh strings per bucket. Runs go to runs/experiments/bottleneck/ and resume
when the script is run again after an interruption.
Expectation from Bahdanau et al. (2014, fig. 2): without attention quality falls as sentences get longer; with
attention it holds. Writes experiments/results/bottleneck_<part>.md and .png.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "experiments" / "results"
RUNS = ROOT / "runs" / "experiments" / "bottleneck"

BUCKETS = [(1, 10), (11, 15), (16, 20), (21, 25), (26, 200)]
SYNTH_BUCKETS = [(5, 20), (21, 40), (41, 60), (61, 80), (81, 100)]
FAMILY = {"vanilla": {"attention": "vanilla"}, "bahdanau": {"attention": "bahdanau"},
          "luong": {"attention": "luong", "score": "general", "input_feeding": True}}


def plot(table: dict[str, list[float]], labels: list[str], ylabel: str, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.8))
    for name, values in table.items():
        ax.plot(labels, values, marker="o", label=name)
    ax.set(xlabel="source length (bucket)", ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def markdown(table: dict[str, list[float]], labels: list[str], counts: list[int], unit: str) -> str:
    lines = ["| model | " + " | ".join(f"{b} ({n})" for b, n in zip(labels, counts)) + " |",
             "|---|" + "---|" * len(labels)]
    lines += [f"| {name} | " + " | ".join(f"{v:.1f}" for v in values) + " |" for name, values in table.items()]
    return f"{unit} per source-length bucket (sentences per bucket in brackets)\n\n" + "\n".join(lines) + "\n"


def multi30k(runs: list[str], split: str, threads: int) -> None:
    import torch

    from seq2seq.inference.translator import Translator
    from seq2seq.data.text.lines import read_lines
    from seq2seq.metrics import score

    torch.set_num_threads(threads)
    data = ROOT.parent / "shared" / "data" / "multi30k"
    src, ref = read_lines(data / f"{split}.de"), read_lines(data / f"{split}.en")
    first = Translator.load(runs[0].split("=", 1)[1])
    lengths = [len(first.src_tokenizer.encode(s)) for s in src]
    groups = [[i for i, n in enumerate(lengths) if lo <= n <= hi] for lo, hi in BUCKETS]
    labels = [f"{lo}–{hi}" if hi < 200 else f"≥{lo}" for lo, hi in BUCKETS]
    table = {}
    for spec in runs:
        name, run_dir = spec.split("=", 1)
        hyps = [t.text for t in Translator.load(run_dir).translate(src, beam_size=1, attention=False)]
        table[name] = [score([hyps[i] for i in g], [ref[i] for i in g]).bleu for g in groups]
        table[name].append(score(hyps, ref).bleu)
        print(name, table[name], file=sys.stderr, flush=True)
    overall = {k: v.pop() for k, v in table.items()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = markdown(table, labels, [len(g) for g in groups], f"BLEU on Multi30k {split} (de→en, greedy)")
    text += "\nWhole set: " + ", ".join(f"{k} {v:.2f}" for k, v in overall.items()) + "\n"
    (RESULTS / "bottleneck_multi30k.md").write_text(text)
    plot(table, labels, "BLEU", f"Multi30k {split}: BLEU by source length", RESULTS / "bottleneck_multi30k.png")
    print(text)


def synthetic(tasks: list[str], max_len: int, threads: int, train_size: int) -> None:
    import random

    from seq2seq.inference.translator import Translator
    from seq2seq.config import validate
    from seq2seq.data.text.synthetic import sequence_examples
    from seq2seq.training.train import ensure_trained

    RESULTS.mkdir(parents=True, exist_ok=True)
    buckets = [(lo, min(hi, max_len)) for lo, hi in SYNTH_BUCKETS if lo <= max_len]
    labels = [f"{lo}–{hi}" for lo, hi in buckets]
    for task in tasks:
        rng = random.Random(99)
        tests = {b: sequence_examples(task, 200, rng, b[0], b[1], 10) for b in buckets}
        table = {}
        for family, decoder in FAMILY.items():
            raw = {"data": {"synthetic": {"task": task, "train_size": train_size, "valid_size": 300, "test_size": 300,
                                          "min_len": 5, "max_len": max_len, "symbols": 10, "seed": 7},
                            "max_len": max_len + 5},
                   "tokenizer": {"type": "whitespace"},
                   "model": {"embedding_size": 64, "max_src_len": max_len + 5,
                             "encoder": {"hidden_size": 128, "dropout": 0.0},
                             "decoder": {"hidden_size": 256, "dropout": 0.0, **decoder}},
                   "train": {"epochs": 5, "batch_sentences": 64, "lr": 2e-3, "valid_metric": "accuracy",
                             "patience": 4, "threads": threads, "attention_plots": 0},
                   "decode": {"max_len_a": 1.0, "max_len_b": 2, "batch_size": 200}}
            run_dir = RUNS / f"{task}-{family}-{max_len}"
            ensure_trained(validate(raw, origin=f"bottleneck {task} {family}"), run_dir)
            translator = Translator.load(run_dir)
            table[family] = []
            for b in buckets:
                pairs = tests[b]
                outs = translator.translate([s for s, _ in pairs], beam_size=1, attention=False)
                table[family].append(100.0 * sum(o.text == t for o, (_, t) in zip(outs, pairs)) / len(pairs))
            print(task, family, table[family], file=sys.stderr, flush=True)
        text = markdown(table, labels, [200] * len(buckets), f"Sequence accuracy (%), {task}, greedy")
        (RESULTS / f"bottleneck_{task}.md").write_text(text)
        plot(table, labels, "sequence accuracy (%)", f"{task}: exact match by length",
             RESULTS / f"bottleneck_{task}.png")
        print(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="part", required=True)
    m = sub.add_parser("multi30k")
    m.add_argument("runs", nargs="+", metavar="NAME=RUN_DIR")
    m.add_argument("--split", default="test_2016_flickr")
    m.add_argument("--threads", type=int, default=1)
    s = sub.add_parser("synthetic")
    s.add_argument("--tasks", nargs="+", default=["copy", "reverse"], choices=["copy", "reverse"])
    s.add_argument("--max-len", type=int, default=100)
    s.add_argument("--train-size", type=int, default=20000)
    s.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if args.part == "multi30k":
        multi30k(args.runs, args.split, args.threads)
    else:
        synthetic(args.tasks, args.max_len, args.threads, args.train_size)


if __name__ == "__main__":
    main()
