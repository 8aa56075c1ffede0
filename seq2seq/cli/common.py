"""The commands on runs of any task: train, evaluate, attention, report, serve, average, runs, vocab, config, demo."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import UserError
from .decoding import search_flags, set_threads
from .output import warn_line, write_lines
from .parser import serve_flag


def cmd_train(args: argparse.Namespace) -> int:
    from ..config import load_config  # neither loads torch: the spin-wait is chosen first
    from ..rundir import RunDir
    from ..threads import long_openmp_spin_for_training

    if args.config is None and not (args.resume and args.run_dir):
        raise UserError("train needs a CONFIG file (or --resume --run-dir DIR to continue a run)")
    run_dir = Path(args.run_dir) if args.run_dir else Path("runs") / Path(args.config).stem
    source = Path(args.config) if args.config else RunDir(run_dir).config
    if args.resume and not run_dir.is_dir():
        raise UserError(f"cannot resume: run directory not found: {run_dir}")
    config = load_config(source, args.overrides)
    if config.train.share_cores:
        long_openmp_spin_for_training()     # before torch loads: see seq2seq/threads.py
    from ..training.train import train

    result = train(config, run_dir, resume=args.resume, verbose=not args.quiet)
    return 130 if result.interrupted else 0      # 130: the shell's code for a Ctrl-C


def cmd_attention(args: argparse.Namespace) -> int:
    """The attention behind each input's output, drawn as the run's task draws it (`Predictor.attention_pictures`)."""
    from ..data.text.lines import read_input
    from ..inference import load

    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit {args.limit}: must be >= 1")
    if bool(args.text) == bool(args.input):
        raise UserError("give the inputs as arguments or with --input FILE (one of the two)")
    inputs = list(args.text) if args.text else read_input(args.input)[: args.limit]
    out_dir = Path(args.output_dir) if args.output_dir else Path(args.run_dir) / "attention"
    search = search_flags(args)
    set_threads(args)
    predictor = load(args.run_dir, which=args.checkpoint, device=args.device)
    for path in predictor.attention_pictures(inputs, out_dir, args.format, **search):
        print(path)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from ..tools.report import build_report

    if args.samples < 0:
        raise UserError(f"--samples {args.samples}: must be >= 0")
    output = Path(args.output) if args.output else Path(args.run_dir) / "report.html"
    print(build_report(args.run_dir, output, samples=args.samples, device=args.device))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Predict a test set and print the task's scores (`Predictor.evaluate`)."""
    from ..inference import load
    from ..inference.predictor import TestSet

    search = search_flags(args)                      # before loading the model
    set_threads(args)
    test = TestSet(args.test, args.src, args.ref, args.manifest)
    run = args.run_dir if len(args.run_dir) > 1 else args.run_dir[0]
    result = load(run, which=args.checkpoint, device=args.device).evaluate(test, batch_size=args.batch_size,
                                                                         **search)
    if args.output:
        write_lines(args.output, result.outputs)
    if args.json:
        print(json.dumps({"run_dir": run, "checkpoint": args.checkpoint, **result.scores}))
    else:
        print("\n".join(result.lines))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    if args.job == "speech":
        from ..demos.speech import run_speech_demo

        run_speech_demo(Path(args.run_dir or "runs/demo-speech"), args.data, seed=args.seed, verbose=not args.quiet)
        return 0
    from ..demos.dates import run_demo

    if args.data:
        raise UserError("--data is for `seq2seq demo speech`; the dates demo generates its data")
    run_demo(Path(args.run_dir or "runs/demo"), seed=args.seed, verbose=not args.quiet)
    return 0


def cmd_average(args: argparse.Namespace) -> int:
    from ..tools.average import average_run

    paths = average_run(args.run_dir, args.output, last=args.last, best=args.best)
    print(f"averaged {len(paths)} snapshots ({', '.join(p.stem for p in paths)}) into {args.output}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from ..config import ServeSettings
    from ..serving import serve

    if not 0 < args.port < 65536:
        raise UserError(f"--port {args.port}: must be between 1 and 65535")
    for flag, value in (("--workers", args.workers), ("--threads", args.threads)):
        if value is not None and value < 1:
            raise UserError(f"{flag} {value}: must be >= 1")
    try:
        settings = ServeSettings(**{name: getattr(args, name) for name in ServeSettings.model_fields})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise UserError(f"{serve_flag(str(err['loc'][0]))} {err['input']}: {err['msg']}") from None
    serve(args.run_dir, args.host, args.port, args.workers, settings, args.device, args.threads, quiet=args.quiet)
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from ..tools.runs import list_runs, render_table

    runs = list_runs([Path(d) for d in args.dirs], args.sort)
    if args.json:
        print(json.dumps([r.as_dict() for r in runs], indent=1))
    elif not runs:
        print(f"no run directories under {', '.join(args.dirs)}")
    else:
        print(render_table(runs))
    for r in runs:
        if r.error:
            warn_line(r.error)
    return 0


def cmd_vocab(args: argparse.Namespace) -> int:
    from ..tools.vocabulary import describe_segmentation, describe_vocab, text_sides

    if args.segment and args.limit is not None:
        raise UserError("--limit applies to the vocabulary listing, not to --segment")
    sides = text_sides(Path(args.run_dir), args.side)
    blocks = ([describe_segmentation(sides, text) for text in args.segment] if args.segment
              else [describe_vocab(side, args.limit) for side in sides])
    print("\n\n".join(blocks))
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    from ..config import describe_fields

    print(describe_fields())
    return 0
