"""The speech commands: transcribe (speech in) and synthesize (speech out)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UserError
from .decoding import search_flags, set_threads
from .output import input_files, warn_line, write_npy, write_per_file


def cmd_transcribe(args: argparse.Namespace) -> int:
    from ..inference.transcriber import Transcriber

    files = input_files(args.audio, args.input, "audio files")
    search = search_flags(args)
    set_threads(args)
    transcriber = Transcriber.load(args.run_dir, which=args.checkpoint, device=args.device)
    return write_per_file(args, files, transcriber.features,
                          lambda frames, names: transcriber.transcribe_features(frames, names,
                                                                                batch_size=args.batch_size, **search))


def cmd_synthesize(args: argparse.Namespace) -> int:
    from ..data.audio.wav import write_wav
    from ..data.text.lines import read_input
    from ..inference.synthesizer import Synthesizer

    if bool(args.text) == bool(args.input):
        raise UserError("give the texts as arguments or with --input FILE (one of the two)")
    texts = list(args.text) if args.text else read_input(args.input)
    paths = _synthesis_paths(args, len(texts))
    if args.griffin_lim_iters < 1:
        raise UserError(f"--griffin-lim-iters {args.griffin_lim_iters}: must be >= 1")
    set_threads(args)
    voice = Synthesizer.load(args.run_dir, which=args.checkpoint, device=args.device)
    for path, result in zip(paths, voice.synthesize(texts, iterations=args.griffin_lim_iters)):
        write_wav(path, result.samples, result.sample_rate)
        if args.mel:
            write_npy(path.with_suffix(".npy"), result.mel)
        if not result.stopped:
            warn_line(f"{path}: the model never raised its stop flag; cut at model.head.max_steps")
        print(path)
    return 0


def _synthesis_paths(args: argparse.Namespace, count: int) -> list[Path]:
    """Where each text's WAV goes, refusing to overwrite without --force (checked before any work)."""
    if count == 1 and args.output and not args.output_dir:
        paths = [Path(args.output)]
    elif args.output_dir and not args.output:
        paths = [Path(args.output_dir) / f"{n:04d}.wav" for n in range(1, count + 1)]
    else:
        raise UserError("one text: --output FILE.wav; several: --output-dir DIR")
    existing = [p for p in paths if p.exists()] if not args.force else []
    if existing:
        raise UserError(f"{existing[0]} exists ({len(existing)} of the outputs do): use --force to overwrite")
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
    return paths
