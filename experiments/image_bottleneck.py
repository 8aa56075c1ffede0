"""Experiment — the fixed-vector bottleneck on images: word error rate against the number of handwritten digits in
a string, with and without attention; and isolated-digit accuracy.

    .venv/bin/python experiments/image_bottleneck.py attention=runs/handwritten_digits [--steps 3000] [--threads 1]

Trains `vanilla` — configs/handwritten_digits.yaml with `model.decoder.attention: vanilla` (the decoder sees only
the encoder's final state), `--steps` updates — into runs/experiments/image_bottleneck/vanilla (resumed when the
script is run again). Then reads, greedily, 200 fresh strings of exactly N digits for N = 1…8, built only from the
*test* images of scikit-learn's digits (the 15% no training or validation string uses; seed 77 + N), and every one
of those test images alone (isolated digits), with it and with every run given as NAME=RUN_DIR. Reports WER per
length, the WER of all lengths together, and the isolated-digit accuracy (published 8 × 8 classifiers: 97–99%).
Expectation (Bahdanau et al. 2014): without attention the error grows with the length; with attention it stays
flat. Writes experiments/results/image_bottleneck.md and .png.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "experiments" / "results"
RUNS = ROOT / "runs" / "experiments" / "image_bottleneck"
LENGTHS = range(1, 9)
PER_LENGTH = 200


def train_vanilla(steps: int, threads: int) -> Path:
    from seq2seq.config import load_config
    from seq2seq.training.train import ensure_trained

    run_dir = RUNS / "vanilla"
    config = load_config(ROOT / "configs" / "handwritten_digits.yaml",
                         ["model.decoder.attention=vanilla", f"train.max_steps={steps}", "train.max_minutes=null",
                          "train.patience=null", f"train.threads={threads}", "train.attention_plots=0"])
    ensure_trained(config, run_dir, verbose=True)
    return run_dir


def test_strings(reader, n: int) -> tuple[list, list[str]]:
    """PER_LENGTH strings of exactly n digits from the test images, as the reader's normalised columns."""
    from seq2seq.data.images.digits import digit_string, split_images
    from seq2seq.data.images.reading import to_columns

    data = reader.config.data
    config = data.digits.model_copy(update={"min_digits": n, "max_digits": n})
    pool = split_images(config.seed)["test"]
    columns, texts = [], []
    for i in range(PER_LENGTH):
        ink, text, _ = digit_string(pool, config, np.random.default_rng((77 + n, i)))
        columns.append(reader.vocab.normalise(to_columns(ink, data.height, data.max_width)))
        texts.append(text)
    return columns, texts


def isolated(reader) -> float:
    """Accuracy (%) on every test image read alone (with the usual margins of a one-digit string)."""
    from seq2seq.data.images.digits import handwritten_digits, split_images
    from seq2seq.data.images.reading import to_columns

    images, labels = handwritten_digits()
    data = reader.config.data
    test = split_images(data.digits.seed)["test"]
    columns = [reader.vocab.normalise(to_columns(np.pad(images[i], ((1, 1), (2, 2))), data.height, data.max_width))
               for i in test]
    hyps = reader.read_features(columns, [""] * len(columns), beam_size=1)
    return round(100.0 * np.mean([h.text == str(int(labels[i])) for h, i in zip(hyps, test)]), 2)


def scores(run_dir: Path) -> tuple[list[float], float, float]:
    from seq2seq.inference.reader import Reader
    from seq2seq.metrics import word_error_rate

    reader = Reader.load(run_dir)
    per_length, all_hyps, all_refs = [], [], []
    for n in LENGTHS:
        columns, refs = test_strings(reader, n)
        hyps = [r.text for r in reader.read_features(columns, [""] * len(columns), beam_size=1)]
        per_length.append(word_error_rate(hyps, refs))
        all_hyps += hyps
        all_refs += refs
    return per_length, word_error_rate(all_hyps, all_refs), isolated(reader)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*", metavar="NAME=RUN_DIR", help="trained runs to compare with vanilla")
    parser.add_argument("--steps", type=int, default=3000, help="vanilla's training budget in updates")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import torch
    from bottleneck import markdown, plot

    torch.set_num_threads(args.threads)
    runs = {"vanilla": train_vanilla(args.steps, args.threads)}
    runs.update({name: Path(path) for name, path in (item.split("=", 1) for item in args.runs)})
    found = {name: scores(run_dir) for name, run_dir in runs.items()}
    table = {name: per_length for name, (per_length, _, _) in found.items()}
    labels = [str(n) for n in LENGTHS]
    summary = "\n".join(f"| {name} | {wer:.2f} | {accuracy:.2f} |" for name, (_, wer, accuracy) in found.items())
    text = ("# The bottleneck on images: WER by number of handwritten digits\n\n"
            + markdown(table, labels, [PER_LENGTH] * len(LENGTHS), "WER %")
            .replace("source-length bucket (sentences", "number of digits (strings")
            + "\n| run | WER, all lengths (test images) | isolated digits, accuracy % |\n|---|---|---|\n" + summary
            + "\n\nRuns: " + ", ".join(f"{name} = `{path}`" for name, path in runs.items()) + "\n")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "image_bottleneck.md").write_text(text)
    plot(table, labels, "WER %", "handwritten digit strings: WER by length", RESULTS / "image_bottleneck.png")
    print(text)


if __name__ == "__main__":
    main()
