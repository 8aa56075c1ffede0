"""Command line: `seq2seq COMMAND ...` — argument parsing (`parser.py`) and one module per command group; the
work is done by the modules they call.

User errors (`UserError`) print one line on stderr and exit 2; anything else is a bug and keeps its traceback."""

from __future__ import annotations

import sys
import warnings
from typing import Optional

from ..errors import InputWarning, UserError
from .common import (
    cmd_attention,
    cmd_average,
    cmd_config,
    cmd_demo,
    cmd_evaluate,
    cmd_report,
    cmd_runs,
    cmd_serve,
    cmd_train,
    cmd_vocab,
)
from .images import cmd_read
from .output import show_warning
from .parser import build_parser
from .speech import cmd_synthesize, cmd_transcribe
from .text import cmd_chat, cmd_export, cmd_translate

COMMANDS = {"train": cmd_train, "translate": cmd_translate, "export": cmd_export, "transcribe": cmd_transcribe,
            "read": cmd_read, "synthesize": cmd_synthesize, "evaluate": cmd_evaluate,
            "demo": cmd_demo, "average": cmd_average, "config": cmd_config, "attention": cmd_attention,
            "report": cmd_report, "serve": cmd_serve, "runs": cmd_runs, "vocab": cmd_vocab, "chat": cmd_chat}


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():        # restored on return: main() may be called in-process (tests, notebooks)
        warnings.showwarning = show_warning
        warnings.simplefilter("always", InputWarning)
        try:
            return COMMANDS[args.command](args)
        except UserError as exc:
            print(f"seq2seq: error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("seq2seq: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            return 0


def console() -> None:
    """`seq2seq ...` and `python -m seq2seq ...`: main(), then the end of the process with its status."""
    status = main()
    if "seq2seq.training.distributed" in sys.modules:     # a command that may have trained data-parallel ran
        from ..training.distributed import end_rank
        end_rank(status)                                  # a torchrun rank ends here, unfinalized
    raise SystemExit(status)
