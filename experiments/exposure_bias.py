"""Experiment 2 — error accumulation (exposure bias): teacher forcing against scheduled sampling.

    .venv/bin/python experiments/exposure_bias.py dates [--threads 1]
    .venv/bin/python experiments/exposure_bias.py multi30k [--threads 2]       # two 4-epoch trainings

Trains the same model twice — plain teacher forcing, and scheduled sampling with an inverse-sigmoid decay
(Bengio et al. 2015; the teacher-forcing probability falls to about 0.4 by the end of training) — then measures:
- quality: exact match (dates) or BLEU (Multi30k val), greedy and beam 5;
- derailment: decode greedily, but at step k force the runner-up token instead of the argmax, then continue
  greedily; how far does the rest of the output move? Reported as the mean normalised edit distance between the
  suffixes after step k (0: the model recovers the same continuation; 1: an entirely different one), for k = 1, 3, 5,
  over the sentences whose greedy output is longer than k + 2.
Writes experiments/results/exposure_bias_<task>.md.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "experiments" / "results"
RUNS = ROOT / "runs" / "experiments" / "exposure_bias"
STEPS = (1, 3, 5)


def forced_greedy(model, sources: list[list[int]], k: int, limit: int = 80) -> list[list[int]]:
    """Greedy decoding where step k takes the second-best token (k = -1: plain greedy). Output ids, EOS cut."""
    import torch

    from seq2seq.data.batching import pad_sources
    from seq2seq.data.text.tokenizers import BOS, EOS
    from seq2seq.search import as_ensemble

    ens = as_ensemble(model).eval()
    out: list[list[int]] = []
    with torch.no_grad():
        for start in range(0, len(sources), 100):
            src, lengths, _ = pad_sources(sources[start : start + 100])
            states = ens.start(src, lengths)
            y = torch.full((src.size(0),), BOS, dtype=torch.long)
            tokens = []
            for t in range(limit):
                logp, states, _ = ens.step(y, states)
                y = logp.topk(2, dim=-1)[1][:, 1] if t == k else logp.argmax(-1)
                tokens.append(y)
            for row in torch.stack(tokens, 1).tolist():
                out.append(row[: row.index(EOS)] if EOS in row else row)
    return out


def derailment(model, sources: list[list[int]]) -> dict[int, float]:
    from seq2seq.metrics import edit_distance

    plain = forced_greedy(model, sources, -1)
    result = {}
    for k in STEPS:
        forced = forced_greedy(model, sources, k)
        distances = [edit_distance(p[k + 1 :], f[k + 1 :]) / max(len(p[k + 1 :]), len(f[k + 1 :]), 1)
                     for p, f in zip(plain, forced) if len(p) > k + 2]
        result[k] = sum(distances) / max(1, len(distances))
    return result


def configs(task: str, threads: int):
    from seq2seq.config import load_config, validate
    from seq2seq.demos.dates import DEMO_CONFIG

    if task == "dates":
        raw = copy.deepcopy(DEMO_CONFIG)
        raw["train"].update(threads=threads, attention_plots=0)
        plain = validate(raw, origin="dates, teacher forcing")
        raw["train"]["scheduled_sampling"] = {"decay": "inverse_sigmoid", "k": 350}
        return plain, validate(raw, origin="dates, scheduled sampling")
    base = [f"train.threads={threads}", "train.attention_plots=0"]
    recipe = ROOT / "configs" / "multi30k_de_en.yaml"
    return (load_config(recipe, base), load_config(recipe, base + ["train.scheduled_sampling.decay=inverse_sigmoid",
                                                                   "train.scheduled_sampling.k=300"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("task", choices=["dates", "multi30k"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sentences", type=int, default=500, help="sentences for the derailment measure")
    args = ap.parse_args()
    from seq2seq.inference.translator import Translator
    from seq2seq.metrics import score
    from seq2seq.data.text.pipeline import load_corpora
    from seq2seq.training.train import ensure_trained

    rows = []
    for name, config in zip(("teacher forcing", "scheduled sampling"), configs(args.task, args.threads)):
        run_dir = RUNS / f"{args.task}-{'tf' if config.train.scheduled_sampling is None else 'ss'}"
        ensure_trained(config, run_dir)
        translator = Translator.load(run_dir)
        valid = load_corpora(translator.config, ("valid",))["valid"]
        quality = {}
        for beam in (1, 5):
            hyps = [t.text for t in translator.translate(valid.src, beam_size=beam, alpha=1.0 if beam > 1 else 0.0,
                                                         attention=False)]
            s = score(hyps, valid.tgt)
            quality[beam] = s.exact_match if args.task == "dates" else s.bleu
        sources = [translator.src_tokenizer.encode(s) for s in valid.src[: args.sentences] if s.strip()]
        drift = derailment(translator.model, sources)
        rows.append((name, quality, drift))
        print(name, quality, drift, file=sys.stderr, flush=True)
    metric = "exact match %" if args.task == "dates" else "val BLEU"
    lines = [f"| training | {metric} greedy | {metric} beam 5 | " + " | ".join(f"derailment k={k}" for k in STEPS)
             + " |", "|---|---|---|" + "---|" * len(STEPS)]
    for name, quality, drift in rows:
        lines.append(f"| {name} | {quality[1]:.2f} | {quality[5]:.2f} | "
                     + " | ".join(f"{drift[k]:.3f}" for k in STEPS) + " |")
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines) + "\n"
    (RESULTS / f"exposure_bias_{args.task}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
