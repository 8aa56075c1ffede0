"""Where the reference training's (and decoding's) time goes, and the fastest it could be with today's matrix-product
kernels.

    .venv/bin/python benchmarks/profile_training.py [--threads 1 2] [--steps 40] [--decode RUN] [--compare PEERS_JSON]

For each thread count, a child process trains the reference configuration (docs/performance.md) for `--steps`
updates under `torch.profiler` (CPU, FLOPs of the matrix products counted), and sorts the operators' own time into:
matrix products (mm / addmm / bmm: the arithmetic the FLOP count of efficiency.py is about), element-wise work and
reductions (gates, the concat score's σ, softmax, dropout masks, gradient accumulation), memory and layout (copy, cat,
fill, views), the optimizer (Adam, clipping's norms), autograd's bookkeeping, and Python between operators (each
update's own record). From it:

- the GFLOP/s the matrix products reach (the profiler's FLOP count over their own time) against the 2048² fp32
  matmul peak of the same thread count;
- the *matrix-products-only ceiling*: target tokens/s if everything but the matrix products took no time at all
  (the update's tokens over the products' own time). No change to the code around the kernels can pass it;
- with `--decode RUN`, the same for decoding test_2016_flickr with that trained run (batch 64, greedy and beam 5,
  GNMT α 1.0, after a warm-up pass), the ceiling in sentences/s;
- with `--compare`, each ceiling against the peers' figures of a `peers.py` run at the same thread count
  (training tok/s, decoding-only sentences/s): whether "2× the fastest peer" in training and "3×" in decoding are
  within reach of this model, batch and machine.

The profiler slows the many small operators down, so the profiled tokens/s is below an unprofiled run's; the
products' own time is what the ceiling uses. Writes benchmarks/results/profile_training.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

PRODUCTS = {"aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::matmul", "aten::linear"}
MEMORY = {"aten::copy_", "aten::cat", "aten::fill_", "aten::zero_", "aten::empty", "aten::empty_strided",
          "aten::as_strided", "aten::view", "aten::slice", "aten::select", "aten::narrow", "aten::transpose",
          "aten::t", "aten::unsafe_split", "aten::split", "aten::contiguous", "aten::clone",
          "aten::index_select", "aten::index", "aten::expand", "aten::reshape", "aten::permute", "aten::unsqueeze",
          "aten::squeeze", "aten::_to_copy", "aten::to", "aten::resize_", "aten::detach", "aten::alias",
          "aten::new_empty", "aten::empty_like", "aten::zeros", "aten::zeros_like", "aten::unbind",
          "aten::chunk", "aten::flatten", "aten::_unsafe_view", "aten::embedding", "aten::embedding_backward",
          "aten::embedding_dense_backward", "aten::scatter_add_", "aten::index_put_", "aten::masked_fill_"}
OPTIMIZER = {"aten::_fused_adam_", "aten::linalg_vector_norm", "aten::_foreach_norm", "aten::_foreach_mul_",
             "aten::clamp", "aten::stack"}                    # clipping stacks the norms and clamps the factor


def category(name: str) -> str:
    if name.startswith("ProfilerStep"):            # an update's own record: its self time is what no operator took
        return "Python between operators"
    if name.startswith("autograd::") or "Backward" in name:
        return "autograd bookkeeping"
    if name in PRODUCTS:
        return "matrix products"
    if name in OPTIMIZER:
        return "optimizer and clipping"
    if name in MEMORY:
        return "memory and layout"
    if name.startswith("aten::"):
        return "element-wise and reductions"
    return "other records"


def child(threads: int, steps: int) -> None:
    import torch
    from torch.profiler import ProfilerActivity, profile, schedule

    from seq2seq.training.train import train

    config = common.reference_config([f"tokenizer.from_run={common.tokenizer_run()}", f"train.max_steps={steps + 2}",
                                      f"train.threads={threads}", "train.device=cpu",
                                      "train.valid_every=null", "train.save_every=null"])
    marks: dict[int, float] = {}

    # set-up and update 1 are not recorded, update 2 warms the profiler up, updates 3 .. steps + 2 are profiled
    with profile(activities=[ProfilerActivity.CPU], with_flops=True,
                 schedule=schedule(wait=1, warmup=1, active=steps, repeat=1)) as prof:
        def on_step(step: int, loss: float) -> None:
            marks[step] = time.perf_counter()
            prof.step()

        with tempfile.TemporaryDirectory() as run_dir:
            train(config, run_dir, verbose=False, on_step=on_step)
    common.child_result({"threads": torch.get_num_threads(), "steps": steps, "wall_s": marks[steps + 2] - marks[2],
                         "target_tokens": _target_tokens(config, 2, steps + 2), **categorised(prof)})


def categorised(prof) -> dict:
    """Operators' own seconds by category, the products' FLOPs, and the 15 costliest operators."""
    by_category: dict[str, float] = {}
    top: list[tuple[str, float, int]] = []
    flops = 0.0
    for row in prof.key_averages():
        seconds = row.self_cpu_time_total / 1e6
        by_category[category(row.key)] = by_category.get(category(row.key), 0.0) + seconds
        top.append((row.key, seconds, row.count))
        flops += (row.flops or 0) if row.key in PRODUCTS else 0
    top.sort(key=lambda r: -r[1])
    return {"seconds": by_category, "product_flops": flops, "top": top[:15]}


def decode_child(run_dir: str, threads: int, beam: int) -> None:
    """Decoding test_2016_flickr (batch 64, at most 100 pieces; beam: GNMT α 1.0) with a trained run, profiled
    after one warm-up pass."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    torch.set_num_threads(threads)
    from seq2seq.inference.translator import Translator

    translator = Translator.load(run_dir)
    lines, search = common.test_lines(), common.search_options(beam, 64)
    translator.translate(lines, **search)                                         # warm-up
    with profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
        started = time.perf_counter()
        outputs = translator.translate(lines, **search)
        wall = time.perf_counter() - started
    common.child_result({"threads": torch.get_num_threads(), "beam": beam, "wall_s": wall, "sentences": len(lines),
                         "output_tokens": sum(len(o.tokens) for o in outputs), **categorised(prof)})


def _target_tokens(config, first: int, end: int) -> int:
    """Target tokens (EOS included) of batches first .. end - 1 of epoch 1, as the loop plans them."""
    from seq2seq.checkpoint import tokenizers_of
    from seq2seq.data.batching import plan_batches
    from seq2seq.data.text.pipeline import encode_data, load_corpora

    data = encode_data(config, load_corpora(config), *tokenizers_of(common.tokenizer_run()))
    plan = plan_batches(*data.train_lengths(), epoch=1, seed=config.train.seed,
                        batch_sentences=config.train.batch_sentences, batch_tokens=config.train.batch_tokens)
    return sum(len(data.train_tgt[i]) + 1 for batch in plan[first:end] for i in batch)


def summarise(run: dict, peak: float) -> dict:
    """The child's profile as shares, product GFLOP/s and the products-only ceiling (per second of products:
    target tokens when training, sentences when decoding)."""
    seconds, wall = run["seconds"], run["wall_s"]
    seconds["in no operator (Python outside updates, the profiler)"] = max(0.0, wall - sum(seconds.values()))
    products = seconds["matrix products"]
    work = run.get("target_tokens") or run["sentences"]
    return {**run, "profiled_per_s": work / wall, "unit": "target tokens" if "target_tokens" in run else "sentences",
            "product_gflops": run["product_flops"] / products / 1e9, "matmul_peak_gflops": peak,
            "products_only_ceiling_per_s": work / products, "shares": {k: v / wall for k, v in seconds.items()}}


def peers_figures(path: Path, threads: int) -> dict[str, dict[str, float]]:
    """Each peer's training tok/s and decoding-only sentences/s (greedy, beam 5) in a peers.py result run at
    `threads` threads."""
    if not path.is_file():
        return {}
    run = json.loads(path.read_text())
    if run.get("threads") != threads:
        return {}
    return {name: {"training": row["train"]["tokens_per_s"], "greedy": row["beam1"]["decode_sentences_per_s"],
                   "beam 5": row["beam5"]["decode_sentences_per_s"]}
            for name, row in run["rows"].items() if "seq2seq" not in name}


def label(r: dict) -> str:
    job = "training" if "steps" in r else ("greedy" if r["beam"] == 1 else f"beam {r['beam']}")
    return f"{job}, {r['threads']} thread(s)"


def report(rows: list[dict], peers: dict[int, dict[str, dict[str, float]]], targets: dict[str, float]) -> str:
    names = list(dict.fromkeys(n for r in rows for n in r["shares"]))
    text = common.table(["share of the wall clock", *map(label, rows)],
                        [[n, *[f"{100 * r['shares'].get(n, 0):.1f}%" for r in rows]] for n in names])
    lines = []
    for r in rows:
        lines.append(f"\n{label(r)}: {r['profiled_per_s']:,.1f} {r['unit']}/s under the profiler; matrix products "
                     f"{r['product_gflops']:.1f} GFLOP/s against a {r['matmul_peak_gflops']:.1f} GFLOP/s 2048² peak "
                     f"({100 * r['product_gflops'] / r['matmul_peak_gflops']:.0f}%); products-only ceiling "
                     f"{r['products_only_ceiling_per_s']:,.1f} {r['unit']}/s")
        job = label(r).split(",")[0]
        for name, figures in peers.get(r["threads"], {}).items():
            if figures.get(job):
                goal = targets[job] * figures[job]
                lines.append(f"  {name}: {figures[job]:,.1f}; {targets[job]:g}× = {goal:,.1f} = "
                             f"{goal / r['products_only_ceiling_per_s']:.2f}× our products-only ceiling")
    return text + "\n" + "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--beam", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--steps", type=int, default=40, help="profiled updates (default 40)")
    ap.add_argument("--decode", metavar="RUN", help="also profile greedy and beam-5 decoding with this trained run")
    ap.add_argument("--compare", type=Path, action="append", default=[],
                    help="a peers.py result (repeatable: one per thread count)")
    args = ap.parse_args()
    if args.child:
        if args.beam:
            return decode_child(args.decode, args.threads[0], args.beam)
        return child(args.threads[0], args.steps)
    from efficiency import matmul_peak

    rows = []
    for threads in args.threads:
        peak = matmul_peak(threads, 2048)
        run = common.run_child("profile_training.py", ["--threads", str(threads), "--steps", str(args.steps)])
        rows.append(summarise(run, peak))
        for beam in ((1, 5) if args.decode else ()):
            run = common.run_child("profile_training.py", ["--threads", str(threads), "--beam", str(beam),
                                                           "--decode", args.decode])
            rows.append(summarise(run, peak))
    peers = {t: p for t in args.threads for path in args.compare if (p := peers_figures(path, t))}
    common.save("profile_training", {"rows": rows, "peers": {str(k): v for k, v in peers.items()}},
                report(rows, peers, {"training": 2, "greedy": 3, "beam 5": 3}))


if __name__ == "__main__":
    main()
