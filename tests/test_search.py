"""Search: beam size 1 is exactly greedy; results do not depend on the batch; limits and n-best hold."""

import pytest
import torch

from seq2seq.data.batching import pad_sources
from seq2seq.data.tokenizers import EOS
from seq2seq.search import beam_search, greedy, length_penalty, max_lengths
from helpers import FAMILIES, tiny_model


def sources(n, seed=0, vocab=13):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(4, vocab, (int(torch.randint(1, 12, (1,), generator=g)),), generator=g).tolist()
            for _ in range(n)]


def run(fn, model, srcs, *args, a=1.0, b=3):
    src, lengths, mask = pad_sources(srcs)
    return fn(model, src, lengths, mask, max_lengths(lengths, a, b), *args)


@pytest.mark.parametrize("name", ["vanilla", "bahdanau", "luong-general", "luong-concat-nofeed"])
@pytest.mark.parametrize("rnn", ["gru", "lstm"])
def test_beam_size_one_is_greedy(name, rnn):
    for seed in range(3):
        model = tiny_model(FAMILIES[name], rnn, seed=seed)
        srcs = sources(9, seed=seed)
        g = run(greedy, model, srcs)
        b = [h[0] for h in run(beam_search, model, srcs, 1)]
        for x, y in zip(g, b):
            assert x.tokens == y.tokens and x.finished == y.finished
            assert abs(x.score - y.score) < 1e-5
            if x.attention is not None:
                torch.testing.assert_close(x.attention, y.attention)


@pytest.mark.parametrize("name", ["bahdanau", "luong-concat"])
def test_results_do_not_depend_on_the_batch(name):
    model = tiny_model(FAMILIES[name], seed=4)
    srcs = sources(24, seed=4)
    together = run(beam_search, model, srcs, 4, 0.6, 3)
    for i, s in enumerate(srcs):
        alone = run(beam_search, model, [s], 4, 0.6, 3)[0]
        assert [h.tokens for h in alone] == [h.tokens for h in together[i]]
        for x, y in zip(alone, together[i]):
            assert abs(x.score - y.score) < 1e-4


def test_n_best_sorted_distinct_and_within_limits():
    model = tiny_model(FAMILIES["luong-general"], seed=2)
    srcs = sources(10, seed=9)
    limits = max_lengths(torch.tensor([len(s) for s in srcs]), 1.0, 3)
    for alpha in (0.0, 1.0):
        for hyps, limit in zip(run(beam_search, model, srcs, 5, alpha, 5), limits.tolist()):
            keys = [h.score / length_penalty(len(h.tokens) + h.finished, alpha) for h in hyps]
            assert keys == sorted(keys, reverse=True)
            assert len({tuple(h.tokens) for h in hyps}) == len(hyps)
            for h in hyps:
                assert len(h.tokens) + h.finished <= limit
                assert h.finished or len(h.tokens) == limit
                assert EOS not in h.tokens
                if h.attention is not None:
                    assert h.attention.shape[0] == len(h.tokens) + h.finished
