"""Quality at equal training wall-clock against OpenNMT-py, Multi30k de→en, in one run.

    .venv/bin/python benchmarks/equal_time.py [--epochs 2] [--threads 1] [--margin 20]
        [--onmt-normalization sents|tokens] [--lr-schedule plateau|budget] [--set KEY=VALUE ...] [--skip-install]
        [--onmt-from results/equal_time.json] [--tag NAME]

1. OpenNMT-py 3.5.1 (peers.py's environment, data and configuration: the reference architecture on the reference
   SentencePiece pieces, batches of 64 sentences, Adam 1e-3, label smoothing 0.1, dropout 0.2, no validation)
   trains for `--epochs` epochs; the wall clock of its whole `onmt_train` command is T. Its loss is divided by the
   sentences of the batch (OpenNMT-py's default `normalization: sents`) or, with `--onmt-normalization tokens`, by
   the target tokens, as ours is. `--onmt-from FILE` takes this row (T and scores) from an earlier result instead
   of training again: its scores reproduce to the hundredth, its T varied by 1.3% over three runs — on the same CPU
   (a warning says when FILE was measured on another).
2. seq2seq trains the reference recipe (configs/multi30k_de_en.yaml: greedy validation every 250 updates, best
   checkpoint by validation BLEU, same pieces through `tokenizer.from_run`) with the time budget
   `train.max_minutes` = (T − margin) / 60: the margin leaves room for our start-up and the last validation after
   the budget, so that the whole command takes about T. Both commands' wall clocks are reported. Its learning
   rate: `--lr-schedule plateau` (the default) is the recipe as it stands (validation every 250 updates, the rate
   halved when it stalls — in a budget this short at most once or twice); `budget` falls in a straight line from
   1e-3 to train.min_lr at the end of the budget (`train.lr_schedule: budget`), and since the last checkpoint is
   then the one to keep, validates once, at the end. (At 17 minutes, budget scored 1.5 BLEU below plateau on val:
   docs/performance.md.) `--set KEY=VALUE` (repeatable) changes our recipe further, e.g. `model.encoder.layers=2`.
3. Each model translates val and test_2016_flickr with beam 5 (GNMT length penalty α = 1.0, at most 100 pieces,
   batch 64): OpenNMT-py its last checkpoint (it has no validation to choose by), we the best one. sacreBLEU BLEU
   and chrF on detokenized, cased text (seq2seq.metrics.score).

Both trainings get the same threads and run one after the other, so run this alone (or beside the same neighbour
throughout). Writes benchmarks/results/equal_time[_tokens][_budget][_threads-N][_KEY-VALUE...][_TAG].json (with
--onmt-normalization tokens, --lr-schedule budget, --threads other than 1, --set, --tag).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import peers  # noqa: E402

FOLDER = peers.PEERS / "equal_time"
BEAM, ALPHA = 5, 1.0
SPLITS = {"val": "valid", "test_2016_flickr": "test"}      # our corpus name → the peers' data file


def references(split: str) -> list[str]:
    return (common.multi30k() / f"{split}.en").read_text(encoding="utf-8").splitlines()


def detokenize(line: str) -> str:
    """Space-separated SentencePiece pieces → text."""
    return "".join(line.split()).replace("\u2581", " ").strip()


def scored(hypotheses: list[str], split: str) -> dict[str, float]:
    from seq2seq.metrics import score

    s = score(hypotheses, references(split))
    return {"bleu": round(s.bleu, 2), "chrf": round(s.chrf, 2)}


def onmt(root: Path, epochs: int, threads: int, train_pairs: int, normalization: str) -> dict[str, Any]:
    import yaml

    steps = epochs * math.ceil(train_pairs / peers.BATCH)
    folder, bin_ = root / "onmt", peers.venv("onmt") / "bin"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    config = {**peers.onmt_config(folder, steps, 100), "normalization": normalization}
    peers.write_text(folder / "config.yaml", yaml.safe_dump(config))
    train = peers.run([str(bin_ / "onmt_train"), "-config", str(folder / "config.yaml")], folder / "train.log",
                      threads)
    windows = peers.windows_of(folder / "train.log", peers.ONMT_TOK_S)
    result: dict[str, Any] = {"updates": steps, "train_wall_s": train["wall_s"], "normalization": normalization,
                              "tokens_per_s": common.median(windows)}
    for split, stem in SPLITS.items():
        out = folder / f"{split}.txt"
        peers.run([str(bin_ / "onmt_translate"), "-model", str(folder / f"model_step_{steps}.pt"), "-src",
                   str(peers.DATA / f"{stem}.de"), "-output", str(out), "-beam_size", str(BEAM), "-batch_size",
                   str(peers.BATCH), "-batch_type", "sents", "-max_length", str(peers.MAX_LEN), "-gpu", "-1",
                   "-length_penalty", "wu", "-alpha", str(ALPHA)], folder / f"{split}.log", threads)
        lines = out.read_text(encoding="utf-8").splitlines()
        result[split] = scored([detokenize(line) for line in lines], split)
    return result


def ours(run_dir: Path, minutes: float, threads: int, schedule: str, changes: list[str]) -> dict[str, Any]:
    from seq2seq.checkpoint import read_metrics

    shutil.rmtree(run_dir, ignore_errors=True)
    overrides = [f"data.root={common.multi30k()}", f"tokenizer.from_run={common.tokenizer_run()}",
                 f"train.max_minutes={minutes:.4f}", f"train.lr_schedule={schedule}", f"train.threads={threads}",
                 "train.device=cpu", *changes]
    if schedule == "budget":      # the last checkpoint is the one to keep: validate once, at the end
        overrides.append(f"train.valid_every={10**9}")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "seq2seq", "train", str(common.REFERENCE), "--run-dir", str(run_dir),
                    "--quiet", *(a for o in overrides for a in ("--set", o))], check=True, cwd=common.REPO,
                   env=peers.thread_env(threads))
    wall = time.perf_counter() - started
    events = read_metrics(run_dir)
    end = [e for e in events if e["event"] == "end"][-1]
    best = max((e for e in events if e["event"] == "valid"), key=lambda e: e["bleu"])
    windows = [e["tokens_per_s"] for e in events if e["event"] == "train"][1:]      # the first: warm-up
    result: dict[str, Any] = {"updates": end["step"], "train_wall_s": round(wall, 1), "stopped": end["reason"],
                              "tokens_per_s": common.median(windows),
                              "best_update": best["step"], "best_val_greedy_bleu": best["bleu"]}
    options = ["--beam-size", str(BEAM), "--alpha", str(ALPHA), "--max-len", str(peers.MAX_LEN), "--batch-size",
               str(peers.BATCH), "--threads", str(threads), "--device", "cpu"]
    for split in SPLITS:
        scores = common.evaluate(run_dir, split, options, env=peers.thread_env(threads))
        result[split] = {"bleu": round(scores["bleu"], 2), "chrf": round(scores["chrf"], 2)}
    return result


def render(rows: dict[str, dict[str, Any]]) -> str:
    lines = []
    for name, r in rows.items():
        lines.append([name, f"{r['train_wall_s']:,.0f}", r["updates"], f"{r['tokens_per_s']:,.0f}",
                      r["val"]["bleu"], r["val"]["chrf"], r["test_2016_flickr"]["bleu"], r["test_2016_flickr"]["chrf"]])
    return common.table(["toolkit", "training command, s", "updates", "target tok/s", "val BLEU", "val chrF",
                         "test BLEU", "test chrF"], lines)


ONMT = peers.ROWS["onmt"]                     # OpenNMT-py's row name in tables and result files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=2, help="OpenNMT-py's budget in epochs (default 2)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--margin", type=float, default=20.0,
                    help="seconds of our budget left for start-up and the last validation (default 20)")
    ap.add_argument("--onmt-normalization", default="sents", choices=["sents", "tokens"],
                    help="what OpenNMT-py divides its loss by (default sents, its own default)")
    ap.add_argument("--lr-schedule", default="plateau", choices=["plateau", "budget"],
                    help="our learning-rate schedule (default plateau, the recipe's; budget: linear decay to the end "
                         "of the time budget)")
    ap.add_argument("--set", dest="changes", action="append", default=[], metavar="KEY=VALUE",
                    help="a further change to our recipe (repeatable), e.g. model.encoder.layers=2")
    ap.add_argument("--skip-install", action="store_true", help="use OpenNMT-py's environment as it is")
    ap.add_argument("--onmt-from", type=Path, metavar="RESULT.json",
                    help="reuse OpenNMT-py's row (time and scores) from an earlier result instead of training it")
    ap.add_argument("--tag", default="", help="added to the result's name, so that a rerun of the same variant "
                                              "keeps the earlier file (e.g. --tag run10)")
    args = ap.parse_args()
    from seq2seq.config import load_config
    from seq2seq.errors import UserError

    try:                                      # a bad --set fails now, not after OpenNMT-py's training
        recipe = load_config(common.REFERENCE, args.changes)
    except UserError as e:
        sys.exit(f"equal_time.py: {e}")
    if not args.skip_install:
        peers.install("onmt")
    data = peers.prepare_data(1000)
    tokens = args.onmt_normalization == "tokens"
    root = FOLDER / "tokens" if tokens else FOLDER
    if args.onmt_from:
        earlier = json.loads(args.onmt_from.read_text())
        here = common.machine()["cpu"]
        if earlier["machine"]["cpu"] != here:                          # its time T is only sound on its own CPU
            print(f"warning: {args.onmt_from} was measured on {earlier['machine']['cpu']}, this is {here}: the "
                  f"time budget does not carry over", file=sys.stderr, flush=True)
        rows = {ONMT: earlier["rows"][ONMT]}
    else:
        rows = {ONMT: onmt(root, args.epochs, args.threads, data["train_pairs"], args.onmt_normalization)}
    budget = (rows[ONMT]["train_wall_s"] - args.margin) / 60
    print(f"OpenNMT-py trained in {rows[ONMT]['train_wall_s']:.0f} s; seq2seq gets "
          f"train.max_minutes={budget:.2f}", file=sys.stderr, flush=True)
    name = "equal_time" + ("_tokens" if tokens else "") + ("_budget" if args.lr_schedule == "budget" else "")
    name += (f"_threads-{args.threads}" if args.threads != 1 else "")
    name += "".join("_" + c.replace("=", "-") for c in args.changes) + (f"_{args.tag}" if args.tag else "")
    # one run directory per result name, so that two variants can train side by side (1 thread each)
    rows[peers.ROWS[recipe.train.precision]] = ours(root / name.replace("equal_time", "seq2seq", 1), budget,
                                                    args.threads, args.lr_schedule, args.changes)
    text = render(rows) + (f"\n\n{args.threads} thread(s); beam {BEAM}, α {ALPHA}; OpenNMT-py {args.epochs} epochs, "
                           f"last checkpoint, normalization {args.onmt_normalization}; seq2seq "
                           f"train.max_minutes={budget:.2f}, lr_schedule {args.lr_schedule}, best checkpoint by val "
                           f"BLEU" + "".join(f"; {c}" for c in args.changes))
    common.save(name, {"threads": args.threads, "epochs": args.epochs, "margin_s": args.margin,
                       "onmt_normalization": args.onmt_normalization, "lr_schedule": args.lr_schedule,
                       "changes": args.changes, "onmt_from": str(args.onmt_from) if args.onmt_from else None,
                       "max_minutes": round(budget, 4), "rows": rows}, text)


if __name__ == "__main__":
    main()
