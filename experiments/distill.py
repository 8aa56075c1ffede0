"""Sequence-level knowledge distillation (Kim & Rush 2016): a data folder whose training targets are a teacher's
beam-search translations of the training sources, for training a single student model on.

    .venv/bin/python experiments/distill.py --teachers RUN [RUN ...] --data DIR --src-lang de --tgt-lang en
        --output DIR [--split train] [--beam-size 5] [--alpha 1.4] [--threads N]
    seq2seq train CONFIG --set data.root=DIR          # the student: any recipe, pointed at the new folder

The teachers (one run, or several sharing a vocabulary: an ensemble, `seq2seq translate RUN RUN ...`) translate
DIR/<split>.<src-lang>; the output folder gets those translations as <split>.<tgt-lang>, and links to every other
file of DIR (the training sources, the validation and test pairs, untouched: the student is validated and tested
on real references). Writes distill.json (teachers, search, time) beside them. Refuses an output folder that
exists; the folder is built under a temporary name beside it and renamed when complete, so a failed or interrupted
run leaves no half-made folder behind. The student is one model like any other: what the teachers cost is paid
once, before its training.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from val_variants import seq2seq          # experiments/val_variants.py: a seq2seq command, one-line errors

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from seq2seq.files import write_atomic  # noqa: E402


def link_the_rest(data: Path, output: Path, distilled: str) -> list[str]:
    """Symbolic links in `output` to every file of `data` but the one distillation replaces; their names."""
    names = sorted(p.name for p in data.iterdir() if p.is_file() and p.name != distilled)
    for name in names:
        (output / name).symlink_to((data / name).resolve())
    return names


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--teachers", nargs="+", required=True, help="run directories (several: an ensemble)")
    ap.add_argument("--data", type=Path, required=True, help="the data folder (as a config's data.root)")
    ap.add_argument("--src-lang", required=True)
    ap.add_argument("--tgt-lang", required=True)
    ap.add_argument("--output", type=Path, required=True, help="the new data folder (must not exist)")
    ap.add_argument("--split", default="train", help="the file prefix to distil (default train)")
    ap.add_argument("--beam-size", type=int, default=5)
    ap.add_argument("--alpha", type=float, default=1.4)
    ap.add_argument("--threads", type=int, help="CPU threads for decoding (default: all cores)")
    args = ap.parse_args()

    source = args.data / f"{args.split}.{args.src_lang}"
    distilled = f"{args.split}.{args.tgt_lang}"
    if not source.is_file():
        sys.exit(f"not a file: {source}")
    if args.output.exists():
        sys.exit(f"{args.output} exists; distillation writes a new folder")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{args.output.name}.", dir=args.output.parent) as tmp:
        folder = Path(tmp)
        linked = link_the_rest(args.data, folder, distilled)
        started = time.monotonic()
        threads = ["--threads", str(args.threads)] if args.threads else []
        seq2seq("translate", *args.teachers, "-i", str(source), "-o", str(folder / distilled),
                "--beam-size", str(args.beam_size), "--alpha", str(args.alpha), *threads)
        seconds = round(time.monotonic() - started, 1)

        lines = sum(1 for _ in (folder / distilled).open(encoding="utf-8"))
        record = {"teachers": [str(Path(t).resolve()) for t in args.teachers], "data": str(args.data.resolve()),
                  "distilled": distilled, "from": source.name, "lines": lines, "beam_size": args.beam_size,
                  "alpha": args.alpha, "threads": args.threads, "seconds": seconds, "linked": linked}
        write_atomic(folder / "distill.json", (json.dumps(record, indent=1) + "\n").encode())
        folder.chmod(0o755)                        # a data folder, not a private temporary one
        folder.rename(args.output)                 # complete: under its name; TemporaryDirectory finds nothing left
    print(f"{lines:,} {distilled} lines from {len(args.teachers)} teacher(s) in {seconds:.0f} s into {args.output}"
          f"\nnext: seq2seq train CONFIG --set data.root={args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
