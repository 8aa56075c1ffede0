"""The text commands: translate, chat, export."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import UserError
from .decoding import search_flags, set_threads
from .output import LINE_BREAKS, warn_line, write_lines


def _translate_lines(args: argparse.Namespace, lines: list[str], n_best: int = 1, attention: bool = False):
    from ..inference.translator import Translator

    search = search_flags(args, n_best)           # before loading the model
    set_threads(args)
    if _on_onnxruntime(args):
        translator = _onnx_translator(args, search)
    else:
        translator = Translator.load(args.run_dir, which=args.checkpoint, device=args.device)
    # attention is off unless an output shows it: less bookkeeping
    return translator.translate_n_best(lines, n_best, batch_size=args.batch_size, warn=warn_line, attention=attention,
                                       **search)


def _on_onnxruntime(args: argparse.Namespace) -> bool:
    from ..export import is_export

    return getattr(args, "runtime", "torch") == "onnxruntime" or any(is_export(d) for d in args.run_dir)


def _onnx_translator(args: argparse.Namespace, search: dict):
    """An export directory on onnxruntime, or a run exported to a temporary folder first (removed once loaded:
    the sessions hold the graphs)."""
    import tempfile

    from ..export import export_run, is_export
    from ..export.onnx_runtime import onnx_translator

    if len(args.run_dir) > 1:
        raise UserError("onnxruntime decodes one model: give one run or export directory (no ensembles)")
    if search.get("precision") == "bf16":
        raise UserError("--precision bf16: onnxruntime's CPU provider has no bf16 arithmetic; exports are fp32")
    if args.device not in ("auto", "cpu"):
        raise UserError(f"--device {args.device}: onnxruntime decodes on the CPU here")
    path = Path(args.run_dir[0])
    if is_export(path):
        if args.checkpoint != "best":
            raise UserError(f"--checkpoint applies to run directories; {path} is an export (one set of weights)")
        return onnx_translator(path, args.threads)
    with tempfile.TemporaryDirectory(prefix="seq2seq-export-") as folder:
        return onnx_translator(export_run(path, Path(folder) / "export", which=args.checkpoint), args.threads)


# decode fields → the flags that set them, for error messages


def cmd_translate(args: argparse.Namespace) -> int:
    from ..data.text.lines import read_input

    results = _translate_lines(args, read_input(args.input), args.n_best, attention=bool(args.alignments))
    if args.alignments:
        write_lines(args.alignments, [json.dumps(alignment_record(hyps[0]), ensure_ascii=False)
                                       for hyps in results])
    if args.jsonl:
        lines = [json.dumps({"n_best": [{"text": r.text, "score": round(r.score, 6), "tokens": r.tokens}
                                        for r in hyps]}, ensure_ascii=False) for hyps in results]
    elif args.n_best > 1:
        lines = [f"{number} ||| {r.text.translate(LINE_BREAKS)} ||| {r.score:.4f}"
                 for number, hyps in enumerate(results) for r in hyps]
    else:
        lines = [hyps[0].text for hyps in results]
    write_lines(args.output, lines)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from ..export import export_run

    print(export_run(args.run_dir, args.output, which=args.checkpoint, exporter=args.exporter))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from ..inference.translator import Translator
    from .chat import Chat, run_chat

    search = search_flags(args, args.n_best)
    set_threads(args)
    translator = Translator.load(args.run_dir, which=args.checkpoint, device=args.device)
    n_best = args.n_best if sys.stdin.isatty() else 1
    return run_chat(Chat(translator, n_best, sys.stdout, batch_size=args.batch_size, **search))


def alignment_record(t) -> dict:
    """One `--alignments` line: tokens, attention rows (one per target token, EOS included; each sums to 1 over the
    source tokens) and the hard alignment, target position → argmax source position. Null for vanilla."""
    record = {"src_tokens": t.src_tokens, "tgt_tokens": t.tokens, "translation": t.text,
              "attention": None, "alignment": None}
    if t.attention is not None:
        record["attention"] = [[round(float(w), 6) for w in row] for row in t.attention]
        record["alignment"] = [int(row.argmax()) for row in t.attention] if t.attention.size else []
    return record
