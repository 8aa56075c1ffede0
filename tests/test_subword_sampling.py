"""Subword regularisation (`tokenizer.sampling_alpha`): training batches draw fresh segmentations of the same text,
reproducibly from the seed, within a side's own vocabulary, and a resumed run draws what an uninterrupted one did."""

import pytest
import torch

from seq2seq.checkpoint import load_weights
from seq2seq.config import validate
from seq2seq.data.text.tokenizers import UNK, sampled_pairs, train_tokenizer
from seq2seq.errors import UserError
from seq2seq.training.train import train
from seq2seq.rundir import RunDir

SRC = [f"der {a} hund sieht die {b} katze {c} ." for a in ("kleine", "braune", "alte", "schnelle")
       for b in ("rote", "blaue", "grüne") for c in ("heute", "morgen", "gestern")]
TGT = [f"the {a} dog sees the {b} cat {c} ." for a in ("small", "brown", "old", "fast")
       for b in ("red", "blue", "green") for c in ("today", "tomorrow", "yesterday")]


def test_draws_vary_decode_to_the_text_repeat_with_the_seed_and_stay_in_the_sides_vocabulary():
    joint = train_tokenizer("sentencepiece", (SRC + TGT) * 5, vocab_size=90)
    src, tgt = joint.restricted(SRC), joint.restricted(TGT)
    pairs = list(zip(SRC, TGT))
    first = sampled_pairs(src, tgt, pairs, 0.3, seed=11)
    assert first == sampled_pairs(src, tgt, pairs, 0.3, seed=11)          # one seed, one draw
    other = sampled_pairs(src, tgt, pairs, 0.3, seed=12)
    assert other != first
    best = [src.encode(s) for s in SRC]
    assert first[0] != best                                               # not the best segmentation
    for tok, texts, drawn in ((src, SRC, first[0]), (tgt, TGT, first[1])):
        for text, ids in zip(texts, drawn):
            assert tok.decode(ids) == text
            assert UNK not in ids and max(ids) < tok.vocab_size           # only this side's pieces
    # smaller alpha flattens the distribution: more pieces on average than the best (fewest-pieces-ish) one
    assert sum(map(len, sampled_pairs(src, tgt, pairs, 0.05, seed=1)[0])) > sum(map(len, best))


def _config(root, **train_kw):
    raw = {
        "data": {"root": str(root), "train": "pairs.tsv", "valid_split": 12},
        "tokenizer": {"type": "sentencepiece", "vocab_size": 90, "joint": True, "sampling_alpha": 0.2},
        "model": {"embedding_size": 16, "encoder": {"hidden_size": 16, "dropout": 0.0},
                  "decoder": {"attention": "luong", "score": "general", "hidden_size": 32, "dropout": 0.0}},
        "train": {"epochs": 10, "batch_sentences": 16, "valid_every": 7, "seed": 2, "attention_plots": 0,
                  **train_kw},
        "decode": {"batch_size": 50},
    }
    return validate(raw)


def test_a_resumed_sampling_run_equals_an_uninterrupted_one_and_differs_from_no_sampling(tmp_path):
    (tmp_path / "pairs.tsv").write_text("".join(f"{s}\t{t}\n" for s, t in zip(SRC, TGT)))
    full, part = [], []
    train(_config(tmp_path, max_steps=20), tmp_path / "full", verbose=False, on_step=lambda s, l: full.append(l))
    train(_config(tmp_path, max_steps=9), tmp_path / "part", verbose=False, on_step=lambda s, l: part.append(l))
    train(_config(tmp_path, max_steps=20), tmp_path / "part", resume=True, verbose=False,
          on_step=lambda s, l: part.append(l))
    assert part == full
    a, b = load_weights(RunDir(tmp_path / "full").last), load_weights(RunDir(tmp_path / "part").last)
    assert all(torch.equal(a[k], b[k]) for k in a)
    plain = _config(tmp_path, max_steps=20)
    plain.tokenizer.sampling_alpha = 0.0
    losses = []
    train(plain, tmp_path / "plain", verbose=False, on_step=lambda s, l: losses.append(l))
    assert losses[0] != full[0]                                          # the batches really were resegmented


def test_sampling_needs_sentencepiece():
    with pytest.raises(UserError, match="sampling_alpha.*type: char"):
        validate({"data": {"synthetic": {"task": "copy"}}, "tokenizer": {"type": "char", "sampling_alpha": 0.1}})
