"""Property tests (hypothesis): batching, tokenizer round trips and search invariants for arbitrary inputs.

Example counts are modest so `make test` stays fast; raise them with HYPOTHESIS_PROFILE=thorough.
"""

from __future__ import annotations

import os
from functools import lru_cache

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seq2seq.data.batching import make_batch, pad_sources, plan_batches
from seq2seq.data.text.tokenizers import BOS, EOS, PAD, SPECIALS, SentencePieceTokenizer, SymbolTokenizer
from seq2seq.search import SearchOptions, beam_search, greedy, max_lengths
from helpers import FAMILIES, tiny_model

settings.register_profile("default", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# ----------------------------------------------------------------------------------------------------------------
# Batching: every training example exactly once per epoch, whatever the lengths and the budget

budgets = st.one_of(st.integers(1, 100).map(lambda n: {"batch_sentences": n}),
                    st.integers(1, 3000).map(lambda n: {"batch_tokens": n}))


@given(lengths=st.lists(st.tuples(st.integers(1, 300), st.integers(1, 300)), min_size=1, max_size=400),
       budget=budgets, epoch=st.integers(1, 50), seed=st.integers(0, 2**31 - 1))
def test_every_example_exactly_once_per_epoch(lengths, budget, epoch, seed):
    src, tgt = [s for s, _ in lengths], [t for _, t in lengths]
    plan = plan_batches(src, tgt, epoch=epoch, seed=seed, **budget)
    assert sorted(i for batch in plan for i in batch) == list(range(len(lengths)))
    for batch in plan:
        assert batch
        if "batch_sentences" in budget:
            assert len(batch) <= budget["batch_sentences"]
        else:   # within the padded-token budget, unless one example alone exceeds it
            width = max(max(src[i], tgt[i] + 1) for i in batch)
            assert len(batch) == 1 or width * len(batch) <= budget["batch_tokens"]
    assert plan == plan_batches(src, tgt, epoch=epoch, seed=seed, **budget)   # a pure function of (seed, epoch)


# ----------------------------------------------------------------------------------------------------------------
# Tokenizers: decode(encode(text)) == text after normalisation

@given(st.text(max_size=200))
def test_characters_round_trip_exactly(text):
    tok = SymbolTokenizer.train([text], "char")
    assert tok.decode(tok.encode(text)) == text
    assert all(i > EOS for i in tok.encode(text))          # text never produces a special id


words = st.one_of(st.text(min_size=1, max_size=12).map(lambda w: "".join(w.split())).filter(bool),
                  st.sampled_from(SPECIALS))


@given(st.lists(words, max_size=40), st.lists(st.sampled_from([" ", "  ", "\t", "\u3000", "\n"]), min_size=41,
                                              max_size=41))
def test_words_round_trip_up_to_whitespace(tokens, gaps):
    text = "".join(g + w for g, w in zip(gaps, tokens)) + gaps[-1]
    tok = SymbolTokenizer.train([text], "whitespace")
    assert tok.decode(tok.encode(text)) == " ".join(text.split())


@given(st.text(max_size=80), st.text(max_size=80))
def test_unknown_symbols_become_unk_and_nothing_else_changes(seen, new):
    tok = SymbolTokenizer.train([seen], "char")
    expected = "".join(ch if ch in seen else "<unk>" for ch in new)
    assert tok.decode(tok.encode(new)) == expected
    assert tok.unknown(new) == list(dict.fromkeys(ch for ch in new if ch not in seen))


CORPUS = ["Ein Mann fährt Fahrrad auf der Straße.", "Zwei Hunde spielen im Schnee!",
          "A man rides a bike (quickly) down the road; 3 kids watch.", "Él está aquí: ¿qué pasa? Ça va, naïve café."]


@lru_cache(maxsize=1)
def sentencepiece() -> SentencePieceTokenizer:
    return SentencePieceTokenizer.train(CORPUS * 20, vocab_size=120, model_type="unigram", character_coverage=1.0)


KNOWN = sorted(set("".join(CORPUS)) - {" "})


@given(st.text(alphabet=st.sampled_from(KNOWN + [" ", "\t", "\u3000"]), max_size=120))
def test_sentencepiece_round_trips_its_alphabet_after_normalisation(text):
    tok = sentencepiece()
    normalised = tok.sp.normalize(text).replace("\u2581", " ").strip()   # NFKC, whitespace collapsed
    assert tok.decode(tok.encode(text)) == normalised
    assert not tok.unknown(text)


@given(st.text(max_size=120))
def test_sentencepiece_on_arbitrary_unicode_is_idempotent_and_drops_only_unknown_symbols(text):
    tok = sentencepiece()
    once = tok.decode(tok.encode(text))
    assert tok.decode(tok.encode(once)) == once              # one pass normalises: the second changes nothing
    assert not tok.unknown(once)
    assert set(once) - {" "} <= set(tok.sp.normalize(text).replace("\u2581", ""))


# ----------------------------------------------------------------------------------------------------------------
# Search: beam 1 = greedy; hypotheses sorted; each ends with EOS or hits the limit; never PAD or BOS; each score is
# the teacher-forced log-probability of its output


def forced_log_probability(model, src: list[int], tokens: list[int], finished: bool) -> float:
    """Sum of log-probabilities of `tokens` (and EOS when finished) by teacher forcing, PAD and BOS ruled out."""
    batch = make_batch([src], [tokens])                              # appends EOS
    with torch.no_grad():
        logits = model.teacher_forced(batch)[0][0].float()          # (T+1, vocab)
    logits[:, [PAD, BOS]] = float("-inf")
    logp = torch.log_softmax(logits, -1)
    steps = len(tokens) + int(finished)
    return float(logp[torch.arange(steps), batch.tgt_out[0, :steps]].sum())

FAMILY_NAMES = ["vanilla", "bahdanau", "luong-general", "luong-concat-nofeed", "luong-local-m", "luong-local-p",
                "bahdanau-location", "luong-location-nofeed"]
sources = st.lists(st.lists(st.integers(4, 12), min_size=1, max_size=14), min_size=1, max_size=6)


@given(family=st.sampled_from(FAMILY_NAMES), rnn=st.sampled_from(["gru", "lstm"]), seed=st.integers(0, 10_000),
       srcs=sources, a=st.sampled_from([0.5, 1.0, 2.0]), b=st.integers(1, 4))
@settings(max_examples=25)
def test_beam_size_one_equals_greedy(family, rnn, seed, srcs, a, b):
    model = tiny_model(FAMILIES[family], rnn, seed=seed)
    src, lengths, mask = pad_sources(srcs)
    limits = max_lengths(lengths, a, b)
    with torch.no_grad():
        g = greedy(model, src, lengths, limits, SearchOptions())
        k = beam_search(model, src, lengths, limits, SearchOptions(beam_size=1))
    for x, [y] in zip(g, k):
        assert x.tokens == y.tokens and x.finished == y.finished
        assert abs(x.score - y.score) < 1e-4


@given(family=st.sampled_from(FAMILY_NAMES), seed=st.integers(0, 10_000), srcs=sources,
       beam=st.integers(2, 6), alpha=st.sampled_from([0.0, 0.6, 1.0]), beta=st.sampled_from([0.0, 0.3]),
       b=st.integers(1, 5))
@settings(max_examples=25)
def test_beam_hypotheses_are_sorted_and_end_with_eos_or_the_limit(family, seed, srcs, beam, alpha, beta, b):
    model = tiny_model(FAMILIES[family], seed=seed)
    src, lengths, mask = pad_sources(srcs)
    limits = max_lengths(lengths, 1.0, b)
    opts = SearchOptions(beam_size=beam, n_best=beam, alpha=alpha, beta=beta)
    with torch.no_grad():
        results = beam_search(model, src, lengths, limits, opts)
    for s, hyps, limit in zip(srcs, results, limits.tolist()):
        assert len(hyps) == beam                                  # 11 possible tokens per step: always a full list
        assert len({(tuple(h.tokens), h.finished) for h in hyps}) == beam
        ranks = [h.rank for h in hyps]
        assert ranks == sorted(ranks, reverse=True)
        for h in hyps:
            assert h.finished or len(h.tokens) == limit           # ended with EOS, or hit the length limit
            assert len(h.tokens) + h.finished <= limit
            assert not {PAD, BOS, EOS} & set(h.tokens)
            assert abs(h.score - forced_log_probability(model, s, h.tokens, h.finished)) < 1e-4
