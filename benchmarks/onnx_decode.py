"""Decoding throughput on onnxruntime against PyTorch eager: the same search (greedy and beam 5) over the same
model, batch 1 and 64, in sentences per second.

    .venv/bin/python benchmarks/onnx_decode.py RUN_DIR [--threads 2] [--batch 1 64] [--beam 1 5] [--repeat 3]
        [--sentences N] [--input FILE] [--exporter torchscript]

RUN_DIR: a trained translation run (e.g. runs/m30k_ref). The sentences: `--input FILE` (one per line), else the
run's own test set (as `seq2seq evaluate` finds it); `--sentences N` keeps the first N (a quick check on a tiny
run: `--sentences 20 --repeat 1`). The run is exported once (benchmarks/.cache/onnx_decode/, its export time
recorded); each (runtime, search, batch) row runs in its own process: load, one warm-up pass on the first 64
sentences, then the median of `--repeat` timed passes of `Translator.translate` (tokenize → search →
detokenize; batch 1 gets one pass). Beam search uses GNMT α = 1.0 and at most 100 output pieces, as
decode_throughput.py. Each onnxruntime row also says whether its translations are those of the PyTorch row.
Writes benchmarks/results/onnx_decode.json.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

EXPORT = common.CACHE / "onnx_decode"


def read_lines(run_dir: str, path: str | None, limit: int | None) -> list[str]:
    if path:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    else:
        from seq2seq.inference.test_sets import evaluation_corpus

        lines = list(evaluation_corpus(Path(run_dir)).src)
    return lines[:limit] if limit else lines


def child(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    import torch

    torch.set_num_threads(args.threads)
    if args.runtime == "torch":
        from seq2seq.inference.translator import Translator

        translator = Translator.load(args.run_dir, device="cpu")
    else:
        from seq2seq.export.onnx_runtime import onnx_translator

        translator = onnx_translator(EXPORT, threads=args.threads)
    startup = time.perf_counter() - started
    lines = read_lines(args.run_dir, args.input, args.sentences)
    beam, batch = args.beam[0], args.batch[0]
    search = dict(beam_size=beam, batch_size=batch, alpha=1.0 if beam > 1 else 0.0, max_len=100)
    translator.translate(lines[:64], **search)                                    # warm-up
    times, outputs = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        outputs = translator.translate(lines, **search)
        times.append(time.perf_counter() - t0)
    seconds = common.median(times)
    texts = "\n".join(o.text for o in outputs).encode("utf-8")
    common.child_result({"runtime": args.runtime, "beam": beam, "batch": batch, "threads": args.threads,
                         "sentences": len(lines), "decode_s": round(seconds, 3),
                         "passes_s": [round(t, 3) for t in times],
                         "sentences_per_s": round(len(lines) / seconds, 1),
                         "tokens_per_s": round(sum(len(o.tokens) for o in outputs) / seconds, 1),
                         "startup_s": round(startup, 2), "outputs_sha256": hashlib.sha256(texts).hexdigest()})


def export(run_dir: str, exporter: str) -> float:
    """Export the run afresh into the cache; its wall-clock seconds."""
    from seq2seq.export import export_run

    shutil.rmtree(EXPORT, ignore_errors=True)
    t0 = time.perf_counter()
    export_run(run_dir, EXPORT, exporter=exporter)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--runtime", default="torch", choices=["torch", "onnxruntime"], help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 64])
    ap.add_argument("--beam", type=int, nargs="+", default=[1, 5])
    ap.add_argument("--repeat", type=int, default=3, help="timed passes per row (median; batch 1 gets one)")
    ap.add_argument("--sentences", type=int, help="only the first N sentences")
    ap.add_argument("--input", help="sentences to translate, one per line (default: the run's test set)")
    ap.add_argument("--exporter", default="torchscript", choices=["torchscript", "dynamo"])
    args = ap.parse_args()
    if args.child:
        return child(args)
    export_s = export(args.run_dir, args.exporter)
    common_args = ["--threads", str(args.threads)] + (["--sentences", str(args.sentences)] if args.sentences else []) \
        + (["--input", args.input] if args.input else [])
    rows, results = [], []
    for beam in args.beam:
        for batch in args.batch:
            repeat = 1 if batch == 1 else args.repeat
            pair = {}
            for runtime in ("torch", "onnxruntime"):
                r = common.run_child("onnx_decode.py", [args.run_dir, "--runtime", runtime, "--beam", str(beam),
                                                        "--batch", str(batch), "--repeat", str(repeat),
                                                        *common_args])
                pair[runtime] = r
                results.append(r)
                print(f"{runtime} beam {beam} batch {batch}: {r['sentences_per_s']} sent/s", file=sys.stderr,
                      flush=True)
            same = pair["torch"]["outputs_sha256"] == pair["onnxruntime"]["outputs_sha256"]
            pair["onnxruntime"]["same_as_torch"] = same
            rows.append(["greedy" if beam == 1 else f"beam {beam}", batch, pair["torch"]["sentences_per_s"],
                         pair["onnxruntime"]["sentences_per_s"],
                         round(pair["onnxruntime"]["sentences_per_s"] / pair["torch"]["sentences_per_s"], 2),
                         "yes" if same else "NO", pair["torch"]["peak_rss_mib"], pair["onnxruntime"]["peak_rss_mib"]])
    text = common.table(["search", "batch", "torch sent/s", "onnxruntime sent/s", "speed-up", "same output",
                         "torch peak RSS MiB", "onnxruntime peak RSS MiB"], rows)
    common.save("onnx_decode", {"run_dir": args.run_dir, "threads": args.threads, "exporter": args.exporter,
                                "export_s": round(export_s, 2), "rows": results}, text)


if __name__ == "__main__":
    main()
