"""Joint CTC/attention search and shallow fusion (search/ctc_prefix.py, search/fusion.py): the prefix scorer
against brute-force enumeration of every alignment, λ = 0 and β = 0 leave search as it was, λ = 1 is CTC prefix
search (the attention decoder plays no part), and every returned score is the joint score of its sequence."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from seq2seq.config import LanguageModelNetConfig, validate
from seq2seq.data.batching import make_batch, pad_frames
from seq2seq.data.text.tokenizers import BOS, EOS, PAD
from seq2seq.errors import UserError
from seq2seq.model.language_model import LanguageModel
from seq2seq.search import as_ensemble, beam_search, decode_all, greedy, max_lengths, search_options
from seq2seq.search.ctc import best_paths, ctc_log_probs
from seq2seq.search.ctc_prefix import prefix_start, prefix_step
from seq2seq.search.fusion import Fused
from seq2seq.tasks import get_task
from seq2seq.tasks.frames import FramesVocab

VOCAB = 7


def model(ctc_weight: float = 0.3, seed: int = 0):
    config = validate({"task": "speech_to_text", "data": {"synthetic": {"feature_size": 5}},
                       "model": {"embedding_size": 8, "ctc_weight": ctc_weight,
                                 "encoder": {"hidden_size": 6, "dropout": 0.0},
                                 "decoder": {"hidden_size": 8, "dropout": 0.0}}})
    torch.manual_seed(seed)
    return get_task(config).build_model(FramesVocab(type("T", (), {"vocab_size": VOCAB})())).eval()


def frames(seed: int = 1, lengths=(6, 4, 9)):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, 5, generator=g) for n in lengths]


def collapse(path) -> list[int]:
    merged = [t for i, t in enumerate(path) if i == 0 or t != path[i - 1]]
    return [t for t in merged if t != PAD]


def brute_force(log_probs: torch.Tensor, length: int, tokens: list[int], exact: bool) -> float:
    """log of the summed probability of every alignment whose collapse is `tokens` (exact) or starts with it."""
    total = 0.0
    for path in itertools.product(range(log_probs.size(-1)), repeat=length):
        out = collapse(path)
        if (out == tokens) if exact else (out[: len(tokens)] == tokens):
            total += math.exp(sum(float(log_probs[t, p]) for t, p in enumerate(path)))
    return math.log(total) if total > 0 else float("-inf")


def summed_increments(log_probs: torch.Tensor, lengths: torch.Tensor, tokens: list[int]) -> tuple[Tensor, Tensor]:
    """(prefix score, whole-sequence score) of `tokens` for every row, from the scorer's per-step increments."""
    state, y = prefix_start(log_probs, lengths), torch.full((len(lengths),), BOS)
    total = torch.zeros(len(lengths))
    for token in tokens:
        increment, state = prefix_step(y, state)
        total = total + increment[:, token]
        y = torch.full((len(lengths),), token)
    increment, _ = prefix_step(y, state)
    return total, total + increment[:, EOS]


Tensor = torch.Tensor


@pytest.mark.parametrize("tokens", [[4], [4, 4], [4, 5, 4], [5, 4, 4], [6, 5]])
def test_prefix_scores_equal_the_sum_over_every_alignment(tokens):
    g = torch.Generator().manual_seed(3)
    log_probs = torch.randn(2, 5, 7, generator=g).log_softmax(-1)
    lengths = torch.tensor([5, 3])                       # the second row padded: its states 3, 4 are not read
    prefix, whole = summed_increments(log_probs, lengths, tokens)
    for row in range(2):
        n = int(lengths[row])
        assert float(prefix[row]) == pytest.approx(brute_force(log_probs[row], n, tokens, exact=False), abs=1e-4)
        assert float(whole[row]) == pytest.approx(brute_force(log_probs[row], n, tokens, exact=True), abs=1e-4)


def test_the_whole_sequence_score_is_ctc_loss():
    g = torch.Generator().manual_seed(4)
    log_probs = torch.randn(1, 12, 7, generator=g).log_softmax(-1)
    tokens = [4, 5, 5, 6, 4]
    _, whole = summed_increments(log_probs, torch.tensor([12]), tokens)
    loss = F.ctc_loss(log_probs.transpose(0, 1), torch.tensor([tokens]), torch.tensor([12]), torch.tensor([5]),
                      blank=PAD, reduction="sum")
    assert float(whole[0]) == pytest.approx(-float(loss), abs=1e-4)


def test_the_best_path_merges_repeats_and_drops_blanks():
    best = [[5, 5, PAD, 5, 4, 4, PAD, EOS, 6], [PAD, PAD, 4, 4, 4, 9, 9, 9, 9]]
    log_probs = torch.full((2, 9, 10), -10.0)
    for row, path in enumerate(best):
        for t, token in enumerate(path):
            log_probs[row, t, token] = 0.0
    assert [tokens for tokens, _ in best_paths(log_probs, torch.tensor([9, 4]))] == [[5, 5, 4, 6], [4]]


def _search(decodable, beam: int, weight: float = 0.0, **extra):
    src, lengths, _ = pad_frames(frames())
    opts = search_options(validate({"task": "speech_to_text", "data": {"synthetic": {}}}).decode, beam_size=beam,
                          n_best=beam, ctc_weight=weight, **extra)
    limits = max_lengths(lengths, 1.0, 3)
    return (greedy(decodable, src, lengths, limits, opts) if beam == 1
            else beam_search(decodable, src, lengths, limits, opts))


def _plain(hyps):
    flat = [h for group in hyps for h in (group if isinstance(group, list) else [group])]
    return [(h.tokens, round(h.score, 5), h.finished) for h in flat]


@pytest.mark.parametrize("beam", [1, 4])
def test_weights_zero_leave_search_as_it_was(beam):
    m = model()
    lm = LanguageModel(LanguageModelNetConfig(embedding_size=4, hidden_size=6, layers=1), VOCAB).eval()
    plain = _plain(_search(as_ensemble(m), beam))
    assert _plain(_search(Fused(as_ensemble(m), 0.0), beam)) == plain
    assert _plain(_search(Fused(as_ensemble(m), 0.0, lm, 0.0), beam)) == plain


@pytest.mark.parametrize("beam", [1, 4])
def test_lm_weight_zero_equals_no_language_model(beam):
    m = model()
    lm = LanguageModel(LanguageModelNetConfig(embedding_size=4, hidden_size=6, layers=1), VOCAB).eval()
    assert _plain(_search(Fused(as_ensemble(m), 0.4, lm, 0.0), beam)) == \
        _plain(_search(Fused(as_ensemble(m), 0.4), beam))
    assert _plain(_search(Fused(as_ensemble(m), 0.4, lm, 0.7), beam)) != \
        _plain(_search(Fused(as_ensemble(m), 0.4), beam))


def test_ctc_weight_one_is_ctc_prefix_search_whatever_the_decoder():
    """λ = 1: the attention decoder is not run (other decoder weights, the same result), and a beam as wide as
    every candidate finds the most probable label sequence of brute-force enumeration."""
    a, b = model(seed=0), model(seed=0)
    with torch.no_grad():
        for p in b.decoder.parameters():
            p.add_(torch.randn_like(p))
    assert _plain(_search(Fused(as_ensemble(a), 1.0), 4)) == _plain(_search(Fused(as_ensemble(b), 1.0), 4))
    short = frames(lengths=(4,))
    src, lengths, _ = pad_frames(short)
    with torch.no_grad():
        memory = a.encode(src, lengths)
        log_probs = ctc_log_probs(a, memory)[0]
    n = int(memory.lengths[0])
    labels = [t for t in range(VOCAB) if t not in (PAD, BOS, EOS)]
    candidates = [list(c) for k in range(n + 1) for c in itertools.product(labels, repeat=k)]
    best = max(candidates, key=lambda c: brute_force(log_probs, n, c, exact=True))
    opts = search_options(validate({"task": "speech_to_text", "data": {"synthetic": {}}}).decode, beam_size=40,
                          ctc_weight=1.0, max_len_a=1.0, max_len_b=1)
    found = decode_all(a, short, opts, batch_size=1, collate=pad_frames)[0][0]
    assert found.tokens == best
    assert found.score == pytest.approx(brute_force(log_probs, n, best, exact=True), abs=1e-4)


def _sequence_log_prob(head, out: Tensor, batch) -> float:
    """Summed log-probabilities search's head gives the batch's one target (EOS included)."""
    logp = head.log_probs(out[0])                                    # (steps, vocab), as in search
    return float(logp.gather(1, batch.tgt_out[0].unsqueeze(1)).sum())


@pytest.mark.parametrize("beam", [1, 3])
def test_every_score_is_the_joint_score_of_its_sequence(beam):
    """(1 − λ)·log P_att (teacher-forced, EOS included) + λ·log P_ctc (F.ctc_loss) + β·log P_LM (teacher-forced)."""
    lam, beta = 0.4, 0.5
    m = model()
    torch.manual_seed(5)
    lm = LanguageModel(LanguageModelNetConfig(embedding_size=4, hidden_size=6, layers=2), VOCAB).eval()
    opts = search_options(validate({"task": "speech_to_text", "data": {"synthetic": {}}}).decode, beam_size=beam,
                          n_best=beam, ctc_weight=lam, lm_weight=beta, max_len_a=1.0, max_len_b=3)
    sources = frames()
    nbest = decode_all(m, sources, opts, batch_size=3, collate=pad_frames, lm=lm)
    with torch.no_grad():
        for source, hyps in zip(sources, nbest):
            src, lengths, _ = pad_frames([source])
            memory = m.encode(src, lengths)
            for h in (h for h in hyps if h.finished):
                batch = make_batch([[4]], [h.tokens])
                out, _ = m.decoder(batch.tgt_in, memory)
                att = _sequence_log_prob(m.head, out, batch)
                ctc = -float(F.ctc_loss(ctc_log_probs(m, memory).transpose(0, 1), torch.tensor([h.tokens or [0]]),
                                        memory.lengths, torch.tensor([len(h.tokens)]), blank=PAD, reduction="sum"))
                lm_out, _ = lm.rnn(lm.head.embed(batch.tgt_in))
                lm_logp = _sequence_log_prob(lm.head, lm_out, batch)
                assert h.score == pytest.approx((1 - lam) * att + lam * ctc + beta * lm_logp, abs=1e-3)


def test_ctc_weight_without_a_ctc_head_is_one_clear_error():
    opts = search_options(validate({"task": "speech_to_text", "data": {"synthetic": {}}}).decode, ctc_weight=0.5)
    with pytest.raises(UserError, match="no CTC head"):
        decode_all(model(ctc_weight=0.0), frames(), opts, batch_size=3, collate=pad_frames)
