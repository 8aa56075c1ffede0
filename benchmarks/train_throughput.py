"""Training throughput of the real training loop (`seq2seq.train.train`) on Multi30k de→en.

    .venv/bin/python benchmarks/train_throughput.py [--threads 2] [--steps 100] [--window 20] [--only NAME ...]

Rows: the reference configuration (docs/performance.md), then one change each — matrix products in bfloat16
(`train.precision=bf16`), Luong `general` score with and without input feeding, LSTM instead of GRU, hidden 1024
(encoder 512 per direction, decoder 1024). Each row trains in its own process for `--steps` updates; the loop logs
target tokens/s every `--window` updates; the first window is warm-up, the figure is the median of the others.
Seconds per epoch = the epoch's target tokens / that median (the loop only, validation excluded). Peak RSS is the child's own. Writes benchmarks/results/train_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

VARIANTS = {
    "reference (luong concat, input feeding, GRU)": [],
    "reference, bf16 autocast": ["train.precision=bf16"],
    "luong general, input feeding": ["model.decoder.score=general"],
    "luong general, no input feeding": ["model.decoder.score=general", "model.decoder.input_feeding=false"],
    "reference with LSTM": ["model.encoder.rnn=lstm", "model.decoder.rnn=lstm"],
    "reference with hidden 1024": ["model.encoder.hidden_size=512", "model.decoder.hidden_size=1024"],
}


def child(name: str, steps: int, window: int, threads: int) -> None:
    import torch

    from seq2seq.data.batching import plan_batches
    from seq2seq.data.text.pipeline import encode_data, load_corpora
    from seq2seq.training.train import train

    config = common.reference_config([f"tokenizer.from_run={common.tokenizer_run()}", f"train.max_steps={steps}",
                                      f"train.log_every={window}", f"train.threads={threads}", "train.device=cpu",
                                      "train.valid_every=null", "train.save_every=null", *VARIANTS[name]])
    with tempfile.TemporaryDirectory() as run_dir:
        result = train(config, run_dir, verbose=False)
        events = [json.loads(line) for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]
    windows = [e["tokens_per_s"] for e in events if e["event"] == "train"][1:]   # first window = warm-up
    from seq2seq.checkpoint import tokenizers_of

    src_tok, tgt_tok = tokenizers_of(common.tokenizer_run())
    data = encode_data(config, load_corpora(config), src_tok, tgt_tok)
    tokens = sum(len(t) + 1 for t in data.train_tgt)                           # EOS included, as the loop counts
    plan = plan_batches([len(s) for s in data.train_src], [len(t) for t in data.train_tgt], epoch=1,
                        seed=config.train.seed, batch_sentences=config.train.batch_sentences)
    padded = sum(len(b) * (max(len(data.train_tgt[i]) for i in b) + 1) for b in plan)
    from seq2seq.model.seq2seq import Seq2Seq

    params = Seq2Seq.for_text(config.model, src_tok.vocab_size, tgt_tok.vocab_size).num_parameters()
    tok_s = common.median(windows)
    common.child_result({"variant": name, "threads": torch.get_num_threads(), "parameters": params,
                         "windows_tok_s": windows, "tokens_per_s": round(tok_s, 1),
                         "epoch_target_tokens": tokens, "seconds_per_epoch": round(tokens / tok_s, 1),
                         "padded_target_ratio": round(padded / tokens, 3), "updates": result.steps})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--variant", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=100, help="updates per row (default 100)")
    ap.add_argument("--window", type=int, default=20, help="updates per throughput window (default 20)")
    ap.add_argument("--only", nargs="*", help="row names (substring match)")
    args = ap.parse_args()
    if args.child:
        return child(args.variant, args.steps, args.window, args.threads)
    common.tokenizer_run()     # train the shared tokenizer once, outside the timed children
    rows, results = [], []
    for name in VARIANTS:
        if args.only and not any(o in name for o in args.only):
            continue
        r = common.run_child("train_throughput.py", ["--variant", name, "--steps", str(args.steps),
                                                     "--window", str(args.window), "--threads", str(args.threads)])
        results.append(r)
        rows.append([name, r["parameters"], r["tokens_per_s"], f"{min(r['windows_tok_s']):,.0f}–"
                     f"{max(r['windows_tok_s']):,.0f}", r["seconds_per_epoch"], r["peak_rss_mib"]])
        print(f"{name}: {r['tokens_per_s']:,.0f} tok/s", file=sys.stderr, flush=True)
    text = common.table(["configuration", "parameters", "target tok/s (median)", "windows", "s / epoch (loop)",
                         "peak RSS MiB"], rows)
    text += f"\n\n{args.threads} threads; padded target positions / real tokens: {results[0]['padded_target_ratio']}"
    common.save("train_throughput", {"threads": args.threads, "steps": args.steps, "window": args.window,
                                     "rows": results}, text)


if __name__ == "__main__":
    main()
