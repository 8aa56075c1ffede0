"""Shared test helpers: small configs and models built through the public code paths."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

import torch

from seq2seq.config import Config, validate
from seq2seq.data.batching import make_batch
from seq2seq.model.seq2seq import Seq2Seq

REPO = Path(__file__).resolve().parents[1]


FAMILIES: dict[str, dict[str, Any]] = {
    "vanilla": {"attention": "vanilla"},
    "bahdanau": {"attention": "bahdanau"},
    "luong-dot": {"attention": "luong", "score": "dot", "input_feeding": True},
    "luong-general": {"attention": "luong", "score": "general", "input_feeding": True},
    "luong-concat": {"attention": "luong", "score": "concat", "input_feeding": True},
    "luong-concat-nofeed": {"attention": "luong", "score": "concat", "input_feeding": False},
    "luong-general-nofeed": {"attention": "luong", "score": "general", "input_feeding": False},
    "luong-local-m": {"attention": "luong", "score": "concat", "input_feeding": True, "alignment": "local-m",
                      "window": 2},
    "luong-local-p": {"attention": "luong", "score": "general", "input_feeding": True, "alignment": "local-p",
                      "window": 2},
    "luong-local-m-nofeed": {"attention": "luong", "score": "dot", "input_feeding": False, "alignment": "local-m",
                             "window": 1},
    "luong-local-p-nofeed": {"attention": "luong", "score": "concat", "input_feeding": False,
                             "alignment": "local-p", "window": 3},
    "bahdanau-location": {"attention": "bahdanau", "score": "location"},
    "luong-location": {"attention": "luong", "score": "location", "input_feeding": True},
    "luong-location-nofeed": {"attention": "luong", "score": "location", "input_feeding": False},
}


def toy_config(task: str = "copy", decoder: Optional[dict[str, Any]] = None, rnn: str = "gru",
               train_size: int = 3000, **train: Any) -> Config:
    dec = {"hidden_size": 128, "dropout": 0.0, "rnn": rnn, **(decoder or FAMILIES["bahdanau"])}
    raw = {
        "data": {"synthetic": {"task": task, "train_size": train_size, "valid_size": 200, "test_size": 200,
                               "min_len": 2, "max_len": 7, "symbols": 6, "seed": 7}},
        "tokenizer": {"type": "whitespace", "joint": True},
        "model": {"embedding_size": 32,
                  "encoder": {"rnn": rnn, "hidden_size": 64, "bidirectional": True, "dropout": 0.0},
                  "decoder": dec},
        "train": {"epochs": 8, "batch_sentences": 32, "lr": 3e-3, "lr_schedule": "plateau", "plateau_patience": 1,
                  "valid_every": 50,
                  "valid_metric": "accuracy", "patience": None, "seed": 3, "attention_plots": 0, **train},
        "decode": {"max_len_a": 1.0, "max_len_b": 2, "batch_size": 200},
    }
    return validate(raw)


def tiny_model(decoder: dict[str, Any], rnn: str = "gru", vocab: int = 13, seed: int = 0) -> Seq2Seq:
    raw = {"data": {"synthetic": {"task": "copy"}},
           "model": {"embedding_size": 8, "encoder": {"rnn": rnn, "hidden_size": 6, "dropout": 0.0},
                     "decoder": {"hidden_size": 12, "rnn": rnn, "dropout": 0.0, **decoder}}}
    torch.manual_seed(seed)
    return Seq2Seq.for_text(validate(raw).model, vocab, vocab).eval()


def attend(attention, query, keys, mask, cache=None, time: int = 0):
    """attention(query, memory, state) on bare keys (batch, src_len, size) and mask (batch, src_len): the memory's
    final state is unused by attention; `time` is the decoder step of the first query."""
    from seq2seq.model.encoder import Memory

    memory = Memory(keys, mask, keys[:, 0], cache)
    return attention(query, memory, replace(attention.initial_state(memory), time=time))


def random_pairs(n: int, vocab: int = 13, seed: int = 0, max_len: int = 9):
    g = torch.Generator().manual_seed(seed)
    src, tgt = [], []
    for _ in range(n):
        ls, lt = torch.randint(1, max_len, (2,), generator=g).tolist()
        src.append(torch.randint(4, vocab, (ls,), generator=g).tolist())
        tgt.append(torch.randint(4, vocab, (lt,), generator=g).tolist())
    return src, tgt


def batch_of(src, tgt):
    return make_batch(src, tgt)


SYSTEM_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
SYSTEM_CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/lib/chromium/chromium", "/snap/bin/chromium")


def system_chromium() -> str | None:
    """A Chromium (or Chrome) installed by the system, when there is one."""
    for name in SYSTEM_CHROMIUM_NAMES:
        if shutil.which(name):
            return shutil.which(name)
    return next((path for path in SYSTEM_CHROMIUM_PATHS if Path(path).is_file()), None)
