"""Dialogue corpora and `seq2seq chat`: YAML conversations read as written and split by conversation; a tiny model
learns to answer; chat replies one line per piped line, and in a terminal (a pty) answers, draws attention and
leaves on Ctrl-D."""

import os
import pty
import select
import subprocess
import sys
import time

import pytest

from seq2seq.config import validate
from seq2seq.data.text.conversations import read_conversations
from seq2seq.data.held_out import hold_out
from seq2seq.errors import UserError
from seq2seq.training.train import train

QA = {"what is your name": "my name is bot", "how old are you": "i am two years old",
      "do you like music": "yes", "where do you live": "in a computer", "what is ai": "a field of science",
      "are you happy": "no", "what color is the sky": "blue on a clear day", "who made you": "people did"}

YAML = """categories:
- test
conversations:
- - what is your name
  - my name is bot
- - how old are you
  - i am two years old
- - do you like music
  - Yes
- - where do you live
  - in a
    computer
- - what is ai
  - a field of science
- - are you happy
  - No
- - what color is the sky
  - blue on a clear day
- - who made you
  - people did
- - Hello
  - Hi
  - How are you?
  - Fine.
- - Hi
  - Hello there
- - a turn that is a map
  - {key: value}
"""


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dialogue")
    (folder / "talk.yml").write_text(YAML)
    return folder


def test_turns_are_read_as_written_and_consecutive_turns_are_pairs(corpus_dir):
    with pytest.warns(UserWarning, match="conversation 11 has turns that are not text"):
        corpus = read_conversations(str(corpus_dir), "*.yml")
    pairs = dict(zip(corpus.src, corpus.tgt))
    assert pairs["do you like music"] == "Yes" and pairs["are you happy"] == "No"   # not True / False
    assert pairs["where do you live"] == "in a computer"                             # a folded turn, one line
    assert ("Hi", "How are you?") in zip(corpus.src, corpus.tgt) and ("How are you?", "Fine.") in zip(corpus.src,
                                                                                                       corpus.tgt)
    # "Hello"/"Hi" conversations share a turn: one group, three pairs from two conversations
    hello = {corpus.groups[i] for i, s in enumerate(corpus.src) if s in ("Hello", "Hi", "How are you?")}
    assert len(hello) == 1 and len(corpus) == 8 + 3 + 1


@pytest.mark.filterwarnings("ignore:.*turns that are not text")
def test_a_held_out_split_never_shares_a_turn_with_training(corpus_dir):
    corpus = read_conversations(str(corpus_dir), "*.yml")
    for seed in range(6):
        kept, held = hold_out(corpus, 3, seed)
        trained = {t.lower() for t in kept.src + kept.tgt}
        assert not trained & {t.lower() for t in held.src + held.tgt}, seed


def test_missing_or_malformed_files_are_one_line_errors(tmp_path):
    with pytest.raises(UserError, match="no conversation file matches"):
        read_conversations(str(tmp_path), "*.yml")
    (tmp_path / "bad.yml").write_text("conversations: [a, [b\n")
    with pytest.raises(UserError, match="not readable as YAML"):
        read_conversations(str(tmp_path), "bad.yml")
    marker = tmp_path / "pwned"
    (tmp_path / "evil.yml").write_text(f"conversations:\n- - !!python/object/apply:builtins.open [{marker}, w]\n  - hi\n")
    with pytest.warns(UserWarning, match="turns that are not text"), pytest.raises(UserError, match="no conversation"):
        read_conversations(str(tmp_path), "evil.yml")      # the tagged turn is plain data, never an object
    assert not marker.exists()
    (tmp_path / "none.yml").write_text("categories: [x]\n")
    with pytest.raises(UserError, match="no `conversations:` list"):
        read_conversations(str(tmp_path), "none.yml")


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    folder = tmp_path_factory.mktemp("qa")
    (folder / "qa.yml").write_text("conversations:\n" + "".join(f"- - {q}\n  - {a}\n" for q, a in QA.items()))
    config = validate({
        "data": {"root": str(folder), "train": "qa.yml", "valid": "qa.yml"},
        "tokenizer": {"type": "whitespace", "joint": True},
        "model": {"embedding_size": 32, "encoder": {"hidden_size": 48, "dropout": 0.0},
                  "decoder": {"attention": "bahdanau", "hidden_size": 64, "dropout": 0.0}},
        "train": {"epochs": 150, "batch_sentences": 8, "lr": 1e-2, "valid_every": 50, "valid_metric": "accuracy",
                  "stop_at": 100.0, "patience": None, "attention_plots": 0, "threads": 1, "seed": 2},
        "decode": {"beam_size": 1, "max_len_a": 2.0, "max_len_b": 4},
    })
    with pytest.warns(UserWarning, match="validation corpus is the training corpus"):
        train(config, folder / "run", verbose=False)
    return folder / "run"


def chat_command(run, *flags):
    return [sys.executable, "-m", "seq2seq", "chat", str(run), "--threads", "1", *flags]


def test_piped_questions_get_one_reply_line_each_in_order(bot):
    questions = list(QA) + ["", "what is your name"]
    done = subprocess.run(chat_command(bot), input="\n".join(questions) + "\n", capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    replies = done.stdout.split("\n")[:-1]
    assert len(replies) == len(questions)
    assert replies[:len(QA)] == list(QA.values())          # it learned them all (training stops at 100% exact)
    assert replies[len(QA)] == ""                            # an empty line gets an empty reply
    assert replies[-1] == replies[0]


PROMPT = "\n> "                         # a prompt at the start of a line ("</s> " in a grid is not one)


class Terminal:
    """`seq2seq chat` on a pseudo-terminal: what a user at a keyboard sees."""

    def __init__(self, command, cwd):
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, cwd=cwd,
                                        env={**os.environ, "HOME": str(cwd), "TERM": "dumb"})
        os.close(slave)
        self.seen = ""

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def expect(self, marker: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while marker not in self.seen:
            ready, _, _ = select.select([self.master], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise AssertionError(f"{marker!r} never appeared; the terminal shows:\n{self.seen}")
            try:
                self.seen += os.read(self.master, 4096).decode(errors="replace")
            except OSError:                       # the child closed the terminal
                raise AssertionError(f"{marker!r} never appeared; the terminal shows:\n{self.seen}") from None
        shown, self.seen = self.seen, self.seen[self.seen.index(marker) + len(marker):]
        return shown


def test_in_a_terminal_chat_answers_draws_attention_and_leaves_on_ctrl_d(bot, tmp_path):
    term = Terminal(chat_command(bot, "--n-best", "2", "--beam-size", "3"), tmp_path)
    try:
        term.expect("Ctrl-D to leave")
        term.expect(PROMPT)
        term.send("how old are you\n")
        shown = term.expect(PROMPT)
        assert "1. i am two years old" in shown and "2. " in shown
        term.send(":attention\n")
        shown = term.expect(PROMPT)
        assert "input: 0=how  1=old  2=are  3=you" in shown and "</s>" in shown
        term.send(":attention pictures/last.png\n")
        shown = term.expect(PROMPT)
        assert "wrote" in shown and (tmp_path / "pictures" / "last.png").stat().st_size > 1000
        term.send(":nonsense\n")
        assert "unknown command :nonsense" in term.expect(PROMPT)
        term.send("\x04")                                   # Ctrl-D
        assert term.process.wait(timeout=30) == 0
        assert (tmp_path / ".seq2seq_chat_history").read_text().count("how old are you") == 1
    finally:
        term.process.kill()
        os.close(term.master)


def test_chat_refuses_a_speech_run_in_one_line(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("task: text_to_speech\ndata: {synthetic: {}}\n")
    done = subprocess.run(chat_command(run), input="hi\n", capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and done.stderr.count("\n") == 1 and "error" in done.stderr
