"""The cost curve of sequential decoding: time and memory per sentence against source length, per decoder family.

    .venv/bin/python benchmarks/length_scaling.py [--threads 2] [--lengths 10 20 50 100 200] [--repeat 3]

Models at the reference size (embeddings 256, bi-GRU 256 per direction, GRU decoder 512, 4,000-piece target
vocabulary), freshly initialised: speed does not depend on what a model has learnt, and a trained model would stop
wherever it likes. Each sentence is L random source pieces; the output is forced to exactly L pieces
(min_len = max_len = L), so one row is encode(L) + L decoder steps, greedy and beam 5, one sentence at a time.
Time: median of --repeat runs. Memory: the child's peak RSS above its RSS after the model is built (MiB), each
(family, length) in its own process. Writes benchmarks/results/length_scaling.json and length_scaling.png.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

FAMILIES = {
    "vanilla": ["model.decoder.attention=vanilla", "model.decoder.score=null", "model.decoder.input_feeding=null"],
    "bahdanau": ["model.decoder.attention=bahdanau", "model.decoder.score=null", "model.decoder.input_feeding=null"],
    "luong (concat, input feeding)": [],
    "luong (general, no feeding)": ["model.decoder.score=general", "model.decoder.input_feeding=false"],
}
VOCAB = 4000


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(family: str, length: int, threads: int, repeat: int) -> None:
    import resource

    import torch

    from seq2seq.model.seq2seq import Seq2Seq
    from seq2seq.search import SearchOptions, beam_search, greedy

    torch.set_num_threads(threads)
    torch.manual_seed(1)
    config = common.reference_config(FAMILIES[family])
    model = Seq2Seq.for_text(config.model, VOCAB, VOCAB).eval()
    src = torch.randint(4, VOCAB, (1, length))
    lengths = torch.tensor([length])
    limit = torch.tensor([length])
    base = rss_mib()
    out = {"family": family, "length": length, "threads": threads}
    with torch.no_grad():
        for name, beam in (("greedy", 1), ("beam5", 5)):
            opts = SearchOptions(beam_size=beam, min_len=length, max_len=length)
            run = (lambda: greedy(model, src, lengths, limit, opts)) if beam == 1 else \
                  (lambda: beam_search(model, src, lengths, limit, opts))
            run()                                                              # warm-up
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                hyps = run()
                times.append(time.perf_counter() - t0)
            out[f"{name}_output_len"] = len(hyps[0].tokens if beam == 1 else hyps[0][0].tokens)
            out[f"{name}_ms"] = round(1000 * common.median(times), 2)
            out[f"{name}_ms_per_step"] = round(1000 * common.median(times) / length, 3)
    out["extra_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base, 1)
    common.child_result(out)


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for family in dict.fromkeys(r["family"] for r in results):
        rows = [r for r in results if r["family"] == family]
        for ax, key in zip(axes, ("greedy_ms", "beam5_ms")):
            ax.plot([r["length"] for r in rows], [r[key] for r in rows], marker="o", label=family)
    for ax, title in zip(axes, ("greedy", "beam 5")):
        ax.set(title=f"{title}, one sentence (output length = source length)", xlabel="source length (pieces)",
               ylabel="milliseconds per sentence")
        ax.title.set_fontsize(10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--family", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lengths", type=int, nargs="+", default=[10, 20, 50, 100, 200])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if args.child:
        return child(args.family, args.lengths[0], args.threads, args.repeat)
    results, rows = [], []
    for family in FAMILIES:
        for length in args.lengths:
            r = common.run_child("length_scaling.py", ["--family", family, "--lengths", str(length),
                                                       "--threads", str(args.threads), "--repeat", str(args.repeat)])
            results.append(r)
            rows.append([family, length, r["greedy_ms"], r["greedy_ms_per_step"], r["beam5_ms"],
                         r["beam5_ms_per_step"], r["extra_rss_mib"]])
            print(f"{family} L={length}: greedy {r['greedy_ms']} ms, beam {r['beam5_ms']} ms", file=sys.stderr,
                  flush=True)
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    plot(results, common.RESULTS / "length_scaling.png")
    text = common.table(["family", "length", "greedy ms", "greedy ms/step", "beam 5 ms", "beam 5 ms/step",
                         "extra RSS MiB"], rows)
    common.save("length_scaling", {"threads": args.threads, "vocab": VOCAB, "rows": results}, text)


if __name__ == "__main__":
    main()
