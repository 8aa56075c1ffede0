"""Batches: every example exactly once per epoch, budgets respected, order a function of (seed, epoch)."""

import random

import pytest
import torch

from seq2seq.data.batching import make_batch, plan_batches
from seq2seq.data.text.tokenizers import BOS, EOS, PAD


def lengths(n, seed=0):
    rng = random.Random(seed)
    return [rng.randint(1, 40) for _ in range(n)], [rng.randint(1, 40) for _ in range(n)]


@pytest.mark.parametrize("budget", [dict(batch_sentences=7), dict(batch_tokens=120), dict(batch_tokens=5)])
def test_every_example_once_per_epoch(budget):
    src, tgt = lengths(1000)
    for epoch in (1, 2):
        batches = plan_batches(src, tgt, epoch=epoch, seed=3, **budget)
        flat = [i for b in batches for i in b]
        assert sorted(flat) == list(range(1000))
        for b in batches:
            if "batch_sentences" in budget:
                assert len(b) <= budget["batch_sentences"]
            elif len(b) > 1:
                width = max(max(src[i], tgt[i] + 1) for i in b)
                assert width * len(b) <= budget["batch_tokens"]


def test_order_is_deterministic_and_reshuffled_each_epoch():
    src, tgt = lengths(500)
    a = plan_batches(src, tgt, epoch=1, seed=3, batch_sentences=16)
    assert a == plan_batches(src, tgt, epoch=1, seed=3, batch_sentences=16)
    assert a != plan_batches(src, tgt, epoch=2, seed=3, batch_sentences=16)
    assert a != plan_batches(src, tgt, epoch=1, seed=4, batch_sentences=16)


def test_length_sorted_buckets_pad_little():
    # sorted by target length first: the decoder runs (longest target + 1) steps per batch, the encoder packs
    src, tgt = lengths(3200)
    batches = plan_batches(src, tgt, epoch=1, seed=0, batch_sentences=64)
    padded = sum(len(b) * (max(tgt[i] for i in b) + 1) for b in batches)
    assert padded / sum(t + 1 for t in tgt) < 1.05


def test_make_batch_layout():
    batch = make_batch([[5, 6, 7], [8]], [[9], [10, 11]])
    assert batch.src.tolist() == [[5, 6, 7], [8, PAD, PAD]]
    assert batch.src_mask.tolist() == [[True, True, True], [True, False, False]]
    assert batch.tgt_in.tolist() == [[BOS, 9, PAD], [BOS, 10, 11]]
    assert batch.tgt_out.tolist() == [[9, EOS, PAD], [10, 11, EOS]]
    assert batch.n_tokens == 5 and torch.equal(batch.src_lengths, torch.tensor([3, 1]))
