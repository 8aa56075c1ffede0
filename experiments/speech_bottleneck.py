"""Experiment — the fixed-vector bottleneck on speech: word error rate against the number of spoken digits, with
and without attention.

    .venv/bin/python experiments/speech_bottleneck.py attention=runs/fsdd_digits [--steps 1500] [--threads 1]

Trains `vanilla` — configs/fsdd_digits.yaml with `model.decoder.attention: vanilla` (the decoder sees only the
encoder's final state), `--steps` updates — into runs/experiments/speech_bottleneck/vanilla (resumed when the
script is run again), then transcribes, greedily, 100 fresh strings of exactly N digits for N = 1…7 (clips 5–9,
the validation clips; seed 77) with it and with every run given as NAME=RUN_DIR, and reports WER per length.
Expectation (Bahdanau et al. 2014; Chan et al. 2016): without attention the error grows with the length of the
utterance; with attention it stays flat. Writes experiments/results/speech_bottleneck.md and .png.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "experiments" / "results"
RUNS = ROOT / "runs" / "experiments" / "speech_bottleneck"
LENGTHS = range(1, 8)


def train_vanilla(steps: int, threads: int) -> Path:
    from seq2seq.config import load_config
    from seq2seq.training.train import ensure_trained

    run_dir = RUNS / "vanilla"
    config = load_config(ROOT / "configs" / "fsdd_digits.yaml",
                         ["model.decoder.attention=vanilla", "model.decoder.score=null", f"train.max_steps={steps}",
                          "train.patience=null", f"train.threads={threads}", "train.attention_plots=0"])
    ensure_trained(config, run_dir, verbose=True)
    return run_dir


def wer_by_length(run_dir: Path, folder: Path) -> list[float]:
    from seq2seq.data.audio.wav import Audio
    from seq2seq.data.audio.spoken_digits import generate
    from seq2seq.metrics import word_error_rate
    from seq2seq.inference.transcriber import Transcriber

    recogniser = Transcriber.load(run_dir)
    out = []
    for n in LENGTHS:
        strings = generate(folder, 100, range(5, 10), seed=77 + n, min_digits=n, max_digits=n)
        hyps = recogniser.transcribe([Audio(u.samples, u.sample_rate, "") for u in strings])
        out.append(word_error_rate([h.text for h in hyps], [u.text for u in strings]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*", metavar="NAME=RUN_DIR", help="trained runs to compare with vanilla")
    parser.add_argument("--steps", type=int, default=1500, help="vanilla's training budget in updates")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import torch

    from bottleneck import markdown, plot
    from seq2seq.data.audio.spoken_digits import shared_recordings

    torch.set_num_threads(args.threads)
    folder = shared_recordings()
    if folder is None:
        raise SystemExit("the shared FSDD recordings are missing (../shared/data/fsdd/recordings)")
    runs = {"vanilla": train_vanilla(args.steps, args.threads)}
    runs.update({name: Path(path) for name, path in (item.split("=", 1) for item in args.runs)})
    table = {name: wer_by_length(run_dir, folder) for name, run_dir in runs.items()}
    labels = [str(n) for n in LENGTHS]
    text = ("# The bottleneck on speech: WER by number of spoken digits\n\n" + markdown(table, labels, [100] * 7, "WER %")
            .replace("source-length bucket (sentences", "number of digits (strings") + "\nRuns: " +
            ", ".join(f"{name} = `{path}`" for name, path in runs.items()) + "\n")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "speech_bottleneck.md").write_text(text)
    plot(table, labels, "WER %", "spoken digits: WER by string length", RESULTS / "speech_bottleneck.png")
    print(text)


if __name__ == "__main__":
    main()
