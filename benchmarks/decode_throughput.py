"""Decoding throughput on the 1,000 sentences of Multi30k test_2016_flickr (de→en), greedy and beam 5.

    .venv/bin/python benchmarks/decode_throughput.py RUN_DIR [--threads 2] [--batch 1 16 64 128] [--beam 1 5]
        [--precision fp32 bf16] [--sentences N]

RUN_DIR: a trained reference model (e.g. `seq2seq train configs/multi30k_de_en.yaml --run-dir runs/m30k_ref`).
Each (search, batch size) row runs in its own process:
- whole command: `seq2seq translate RUN_DIR --input test.de` as a user runs it (start-up, model load, tokenization,
  decoding, writing), wall clock of the process;
- decoding only: `Translator.translate(lines)` on the loaded model (tokenize → search → detokenize), the median of
  `--repeat` passes after one warm-up pass on the first 64 sentences.
Beam search uses GNMT α = 1.0 and at most 100 output pieces (the peers' settings). Also: start-up = import + model
load, in the same child. `--sentences N`: both figures on the first N sentences only. Writes
benchmarks/results/decode_throughput.json.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def child(run_dir: str, beam: int, batch: int, threads: int, repeat: int, precision: str,
          sentences: Optional[int]) -> None:
    started = time.perf_counter()
    import torch

    torch.set_num_threads(threads)
    from seq2seq.inference.translator import Translator

    translator = Translator.load(run_dir)
    startup = time.perf_counter() - started
    lines, search = common.test_lines()[:sentences], common.search_options(beam, batch, precision)
    translator.translate(lines[:64], **search)                                    # warm-up
    times, outputs = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        outputs = translator.translate(lines, **search)
        times.append(time.perf_counter() - t0)
    seconds = common.median(times)
    tokens = sum(len(o.tokens) for o in outputs)                                  # EOS included
    common.child_result({"beam": beam, "batch": batch, "threads": threads, "precision": precision,
                         "sentences": len(lines),
                         "decode_s": round(seconds, 3), "passes_s": [round(t, 3) for t in times],
                         "sentences_per_s": round(len(lines) / seconds, 1), "tokens_per_s": round(tokens / seconds, 1),
                         "startup_s": round(startup, 2)})


def whole_command(run_dir: str, beam: int, batch: int, threads: int, precision: str, test: Path) -> float:
    cmd = [sys.executable, "-m", "seq2seq", "translate", run_dir, "--input", str(test), "--output", "/dev/null",
           "--beam-size", str(beam), "--batch-size", str(batch), "--max-len", "100", "--device", "cpu",
           "--threads", str(threads), "--precision", precision]
    if beam > 1:
        cmd += ["--alpha", "1.0"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=common.REPO, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def test_input(sentences: Optional[int]) -> Path:
    """The file the whole command translates: test_2016_flickr.de, or its first `sentences` lines."""
    test = common.multi30k() / "test_2016_flickr.de"
    if sentences is None:
        return test
    from seq2seq.files import write_atomic

    first = common.CACHE / f"test_2016_flickr.first{sentences}.de"
    write_atomic(first, "".join(line + "\n" for line in common.test_lines()[:sentences]).encode("utf-8"))
    return first


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 16, 64, 128])
    ap.add_argument("--beam", type=int, nargs="+", default=[1, 5])
    ap.add_argument("--repeat", type=int, default=3, help="timed passes per row (median; batch 1 gets one)")
    ap.add_argument("--precision", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"],
                    help="decode.precision of each row (bf16: products in bfloat16 under autocast)")
    ap.add_argument("--sentences", type=int, default=None, help="only the first N test sentences (default all)")
    args = ap.parse_args()
    if args.child:
        return child(args.run_dir, args.beam[0], args.batch[0], args.threads, args.repeat, args.precision[0],
                     args.sentences)
    test = test_input(args.sentences)
    rows, results = [], []
    for precision in args.precision:
        for beam in args.beam:
            for batch in args.batch:
                repeat = 1 if batch == 1 else args.repeat
                r = common.run_child("decode_throughput.py", [
                    args.run_dir, "--beam", str(beam), "--batch", str(batch), "--threads", str(args.threads),
                    "--repeat", str(repeat), "--precision", precision,
                    *(["--sentences", str(args.sentences)] if args.sentences is not None else [])])
                r["whole_command_s"] = round(whole_command(args.run_dir, beam, batch, args.threads, precision, test),
                                             2)
                r["whole_command_sentences_per_s"] = round(r["sentences"] / r["whole_command_s"], 1)
                results.append(r)
                rows.append(["greedy" if beam == 1 else f"beam {beam}", batch, precision, r["sentences_per_s"],
                             r["tokens_per_s"], r["whole_command_sentences_per_s"], r["peak_rss_mib"],
                             r["startup_s"]])
                print(f"{precision} beam {beam} batch {batch}: {r['sentences_per_s']} sent/s", file=sys.stderr,
                      flush=True)
    text = common.table(["search", "batch", "precision", "sentences/s (decoding)", "target tok/s",
                         "sentences/s (whole command)", "peak RSS MiB", "start-up s"], rows)
    common.save("decode_throughput", {"run_dir": args.run_dir, "threads": args.threads, "rows": results}, text)


if __name__ == "__main__":
    main()
