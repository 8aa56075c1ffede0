"""`seq2seq chat RUN_DIR`: talk to a text→text run (a question-answering or dialogue model, or any translation run).

In a terminal: a prompt with line editing and history (Python's readline, where the platform has it; history kept
in ~/.seq2seq_chat_history), one reply per question — with `--n-best N` the N best, numbered with their scores —
and commands: `:attention` draws the last reply's attention as a shaded grid in the terminal, `:attention FILE.png`
(or .svg) writes the heatmap picture; `:help`; `:quit` or Ctrl-D leaves, Ctrl-C abandons the line.
Not in a terminal (stdin a pipe or file): every input line is a question and gets exactly one reply line, in order
(with `--n-best`, the best), no prompt, no commands — so `seq2seq chat RUN < questions.txt > replies.txt` works.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional, TextIO

import numpy as np

from ..errors import UserError
from ..inference.translator import Translation, Translator

SHADES = " ░▒▓█"                     # attention weight 0 … 1 in five steps
HISTORY = Path.home() / ".seq2seq_chat_history"
HELP = (":attention          the last reply's attention, in the terminal\n"
        ":attention FILE     … written as a picture (.png or .svg)\n"
        ":help               this list\n"
        ":quit / Ctrl-D      leave")


class Chat:
    def __init__(self, translator: Translator, n_best: int = 1, out: TextIO = sys.stdout, **search):
        """search: beam_size, alpha, ... as for `Translator.translate` (the run's decode settings otherwise)."""
        self.translator, self.n_best, self.out, self.search = translator, n_best, out, search
        self.last: Optional[Translation] = None

    def reply(self, question: str) -> list[Translation]:
        """The n best replies to one question, best first; remembered for `:attention`."""
        replies = self.translator.translate_n_best([question], self.n_best, **self.search)[0]
        self.last = replies[0]
        return replies

    def answer(self, question: str) -> None:
        replies = self.reply(question)
        if self.n_best == 1:
            print(replies[0].text, file=self.out)
            return
        for rank, r in enumerate(replies, start=1):
            print(f"{rank}. {r.text}  ({r.score:.2f})", file=self.out)

    def command(self, line: str) -> bool:
        """Run a `:command`; False when it asks to leave."""
        name, _, argument = line[1:].strip().partition(" ")
        if name in ("quit", "exit", "q"):
            return False
        if name == "attention":
            self.attention(argument.strip() or None)
        elif name in ("help", "h", "?"):
            print(HELP, file=self.out)
        else:
            print(f"unknown command :{name} (:help lists them)", file=self.out)
        return True

    def attention(self, path: Optional[str]) -> None:
        last = self.last
        if last is None:
            print("no reply yet: ask something first", file=self.out)
        elif last.attention is None:
            print("this model has no attention (a vanilla decoder)", file=self.out)
        elif path is None:
            print(shaded_grid(last.src_tokens, last.tokens, last.attention), file=self.out)
        else:
            from ..plot import save_heatmap

            stem, fmt = Path(path).with_suffix(""), Path(path).suffix.lstrip(".") or "png"
            if fmt not in ("png", "svg"):
                raise UserError(f":attention {path}: write a .png or .svg file")
            for written in save_heatmap(stem, last.src_tokens, last.tokens, last.attention, (fmt,), title=last.text):
                print(f"wrote {written}", file=self.out)


def shaded_grid(src_tokens: list[str], tgt_tokens: list[str], weights: np.ndarray) -> str:
    """One row per output token, one column per input token (numbered; the key below), each cell shaded by its
    weight — readable in any terminal, no picture needed."""
    width = max(len(t) for t in tgt_tokens) if tgt_tokens else 0
    header = " " * (width + 1) + "".join(f"{i % 10}" for i in range(len(src_tokens)))
    rows = [f"{t:>{width}} " + "".join(SHADES[min(len(SHADES) - 1, int(w * len(SHADES)))] for w in row)
            for t, row in zip(tgt_tokens, np.asarray(weights))]
    key = "  ".join(f"{i}={t}" for i, t in enumerate(src_tokens))
    return "\n".join([header, *rows, f"input: {key}"])


def run_chat(chat: Chat, stdin: TextIO = sys.stdin) -> int:
    if not stdin.isatty():
        for line in stdin:
            chat.answer(line.rstrip("\n"))
            chat.out.flush()
        return 0
    _line_editing()
    print("seq2seq chat: ask anything; :help for commands, Ctrl-D to leave", file=chat.out)
    while True:
        try:
            line = input("> ")
        except EOFError:
            print(file=chat.out)
            return 0
        except KeyboardInterrupt:
            print(file=chat.out)
            continue
        if line.strip().startswith(":"):
            try:
                if not chat.command(line.strip()):
                    return 0
            except UserError as exc:
                print(exc, file=chat.out)
        elif line.strip():
            chat.answer(line)


def _line_editing() -> None:
    """readline's editing and a history file that survives the session, where the platform has readline."""
    try:
        import atexit
        import readline
    except ImportError:
        return
    try:
        readline.read_history_file(HISTORY)
    except OSError:
        pass
    readline.set_history_length(1000)
    atexit.register(_save_history, readline)


def _save_history(readline) -> None:
    try:
        readline.write_history_file(HISTORY)
    except OSError:
        pass
