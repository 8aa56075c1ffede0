"""Search: beam size 1 is exactly greedy; beam never loses to greedy; results do not depend on the batch; limits,
n-best lists and constraints hold; an ensemble averages its members."""

import pytest
import torch

from seq2seq.data.batching import make_batch, pad_sources
from seq2seq.data.text.tokenizers import EOS
from seq2seq.search.ensemble import Ensemble
from seq2seq.model.heads import NEVER_OUTPUT
from seq2seq.search import SearchOptions, beam_search, decode_all, greedy, max_lengths
from helpers import FAMILIES, random_pairs, tiny_model

SEARCH_FAMILIES = ["vanilla", "bahdanau", "luong-general", "luong-concat-nofeed", "luong-local-m", "luong-local-p",
                   "bahdanau-location", "luong-location-nofeed"]


def sources(n, seed=0, vocab=13, max_len=12):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(4, vocab, (int(torch.randint(1, max_len, (1,), generator=g)),), generator=g).tolist()
            for _ in range(n)]


def run(fn, model, srcs, opts=SearchOptions(), a=1.0, b=3, cap=None):
    src, lengths, mask = pad_sources(srcs)
    return fn(model, src, lengths, max_lengths(lengths, a, b, cap), opts)


@pytest.mark.parametrize("name", SEARCH_FAMILIES)
@pytest.mark.parametrize("rnn", ["gru", "lstm"])
def test_beam_size_one_is_greedy(name, rnn):
    for seed in range(3):
        model = tiny_model(FAMILIES[name], rnn, seed=seed)
        srcs = sources(9, seed=seed)
        g = run(greedy, model, srcs)
        for fallback in (False, True):
            b = [h[0] for h in run(beam_search, model, srcs, SearchOptions(beam_size=1, greedy_fallback=fallback))]
            for x, y in zip(g, b):
                assert x.tokens == y.tokens and x.finished == y.finished
                assert abs(x.score - y.score) < 1e-5
                if x.attention is not None:
                    torch.testing.assert_close(x.attention, y.attention)


@pytest.mark.parametrize("name", SEARCH_FAMILIES)
def test_beam_never_scores_below_greedy(name):
    wins = 0
    for seed in range(4):
        model = tiny_model(FAMILIES[name], seed=seed)
        srcs = sources(16, seed=10 + seed)
        g = run(greedy, model, srcs)
        for k in (2, 3, 5):
            b = run(beam_search, model, srcs, SearchOptions(beam_size=k))
            for x, hyps in zip(g, b):
                assert hyps[0].score >= x.score - 1e-5
                wins += hyps[0].score > x.score + 1e-4
    assert wins > 0, "beam search never found anything better than greedy search: is it searching at all?"


@pytest.mark.parametrize("name", ["bahdanau", "luong-concat", "luong-local-p", "vanilla"])
@pytest.mark.parametrize("beam", [1, 4])
def test_results_do_not_depend_on_the_batch(name, beam):
    """A sentence alone and inside a batch of 128 of mixed lengths: same hypotheses, same scores."""
    model = tiny_model(FAMILIES[name], seed=4)
    srcs = sources(128, seed=4, max_len=20)
    opts = SearchOptions(beam_size=beam, n_best=beam, alpha=0.6, max_len_a=1.0, max_len_b=3)
    together = decode_all(model, srcs, opts, batch_size=128)
    for i in range(0, 128, 9):
        alone = decode_all(model, [srcs[i]], opts, batch_size=1)[0]
        assert [h.tokens for h in alone] == [h.tokens for h in together[i]]
        for x, y in zip(alone, together[i]):
            assert abs(x.score - y.score) < 1e-4
            if x.attention is not None:
                torch.testing.assert_close(x.attention, y.attention, rtol=0, atol=1e-4)


@pytest.mark.parametrize("name", ["bahdanau", "luong-concat", "vanilla"])
@pytest.mark.parametrize("alpha,beta,n_best", [(0.0, 0.0, 1), (1.0, 0.0, 1), (0.6, 0.4, 3)])
def test_stopping_early_returns_the_same_n_best(name, alpha, beta, n_best):
    """A sentence stops once no live beam can outrank its n-best finished hypotheses: same lists, fewer steps."""
    model = tiny_model(FAMILIES[name], seed=6)
    srcs = sources(60, seed=6, max_len=15)
    opts = dict(beam_size=4, n_best=n_best, alpha=alpha, beta=beta, max_len_a=2.0, max_len_b=5)
    early = decode_all(model, srcs, SearchOptions(**opts), batch_size=20)
    late = decode_all(model, srcs, SearchOptions(stop_early=False, **opts), batch_size=20)
    for a, b in zip(early, late):
        assert [h.tokens for h in a] == [h.tokens for h in b]
        assert all(abs(x.score - y.score) < 1e-6 and abs(x.rank - y.rank) < 1e-6 for x, y in zip(a, b))


@pytest.mark.parametrize("name", ["bahdanau", "luong-concat", "luong-local-p"])
def test_skipping_attention_changes_nothing_else(name):
    model = tiny_model(FAMILIES[name], seed=5)
    srcs = sources(40, seed=5, max_len=15)
    for beam in (1, 4):
        full = decode_all(model, srcs, SearchOptions(beam_size=beam, n_best=beam, alpha=0.6), batch_size=16)
        lean = decode_all(model, srcs, SearchOptions(beam_size=beam, n_best=beam, alpha=0.6, attention=False),
                          batch_size=16)
        for a, b in zip(full, lean):
            assert [(h.tokens, h.score, h.rank) for h in a] == [(h.tokens, h.score, h.rank) for h in b]
            assert all(h.attention is not None for h in a) and all(h.attention is None for h in b)


@pytest.mark.parametrize("alpha,beta", [(0.0, 0.0), (1.0, 0.0), (0.6, 0.4)])
def test_n_best_sorted_distinct_and_within_limits(alpha, beta):
    model = tiny_model(FAMILIES["luong-general"], seed=2)
    srcs = sources(10, seed=9)
    limits = max_lengths(torch.tensor([len(s) for s in srcs]), 1.0, 3)
    opts = SearchOptions(beam_size=5, n_best=5, alpha=alpha, beta=beta)
    for hyps, limit in zip(run(beam_search, model, srcs, opts), limits.tolist()):
        assert len(hyps) == 5                                  # a full list: "sorted" and "distinct" mean something
        ranks = [h.rank for h in hyps]
        assert ranks == sorted(ranks, reverse=True)
        assert len({(tuple(h.tokens), h.finished) for h in hyps}) == len(hyps)
        for h in hyps:
            assert len(h.tokens) + h.finished <= limit
            assert h.finished or len(h.tokens) == limit        # ends in EOS or hits the limit
            assert EOS not in h.tokens
            assert h.attention.shape[0] == len(h.tokens) + h.finished


def test_absolute_max_len_and_min_len():
    model = tiny_model(FAMILIES["bahdanau"], seed=1)
    srcs = sources(12, seed=3)
    for beam in (1, 3):
        capped = run(greedy if beam == 1 else beam_search, model, srcs, SearchOptions(beam_size=beam), a=3.0, b=5,
                     cap=4)
        for hyps in capped:
            for h in (hyps if isinstance(hyps, list) else [hyps]):
                assert len(h.tokens) + h.finished <= 4
        long = run(greedy if beam == 1 else beam_search, model, srcs,
                   SearchOptions(beam_size=beam, n_best=beam, min_len=6), a=2.0, b=10)
        for hyps in long:
            for h in (hyps if isinstance(hyps, list) else [hyps]):
                assert len(h.tokens) >= 6


def test_no_repeat_ngram_blocks_repeats():
    # an untrained model loops on a few tokens: blocking must break every repeated n-gram
    model = tiny_model(FAMILIES["luong-general"], seed=7)
    srcs = sources(12, seed=5)
    for n in (1, 2, 3):
        for beam in (1, 4):
            fn = greedy if beam == 1 else beam_search
            hyps = run(fn, model, srcs, SearchOptions(beam_size=beam, no_repeat_ngram=n), a=2.0, b=6)
            for h in (x if isinstance(x, list) else [x] for x in hyps):
                toks = h[0].tokens
                grams = [tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)]
                assert len(grams) == len(set(grams)), (n, beam, toks)
    plain = [h.tokens for h in run(greedy, model, srcs, SearchOptions(), a=2.0, b=6)]
    assert any(len(set(t)) < len(t) for t in plain), "the test needs outputs that repeat without blocking"


def test_ensemble_of_one_is_that_model_and_averages_members():
    a, b = tiny_model(FAMILIES["luong-concat"], seed=1), tiny_model(FAMILIES["bahdanau"], seed=2)
    src, tgt = random_pairs(5, seed=8)
    batch = make_batch(src, tgt)
    with torch.no_grad():
        expected = [torch.log_softmax(m.teacher_forced(batch)[0].index_fill(-1, torch.tensor(NEVER_OUTPUT), float("-inf")), -1)
                    for m in (a, b)]     # the teacher-forced training path, padding and BOS ruled out
        for members, want in (([a], expected[0]), ([a, b], (expected[0] + expected[1]) / 2)):
            ens = Ensemble(members)
            states = ens.start(batch.src, batch.src_lengths)
            for t in range(batch.tgt_in.size(1)):
                logp, states, attention = ens.step(batch.tgt_in[:, t], states)
                torch.testing.assert_close(logp, want[:, t], rtol=0, atol=1e-5)
    srcs = sources(10, seed=2)
    for opts in (SearchOptions(), SearchOptions(beam_size=3, n_best=3)):
        single = decode_all(a, srcs, opts, batch_size=4)
        for members in ([a], [a, a]):
            same = decode_all(Ensemble(members), srcs, opts, batch_size=4)
            for x, y in zip(single, same):
                assert [h.tokens for h in x] == [h.tokens for h in y]
                assert all(abs(h.score - k.score) < 1e-5 for h, k in zip(x, y))
    with pytest.raises(ValueError, match="different target vocabularies"):
        Ensemble([a, tiny_model(FAMILIES["bahdanau"], vocab=17)])


def test_search_options_are_validated():
    for bad in ({"beam_size": 0}, {"n_best": 3, "beam_size": 2}, {"alpha": -1.0}, {"max_len": 0},
                {"no_repeat_ngram": -1}):
        with pytest.raises(ValueError):
            SearchOptions(**bad)
