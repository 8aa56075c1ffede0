"""Joint CTC/attention rescoring (search/ctc.py, decode.ctc_weight): the CTC greedy path, the two sequence
scores, and what each weight ranks by."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from seq2seq.config import DecodeConfig, validate
from seq2seq.data.batching import pad_frames
from seq2seq.data.text.tokenizers import EOS, PAD
from seq2seq.errors import UserError
from seq2seq.search import decode_all, search_options
from seq2seq.search.ctc import ctc_greedy, ctc_log_probs, decode_joint, rescore, sequence_scores
from seq2seq.tasks import get_task
from seq2seq.tasks.frames import FramesVocab


def model(ctc_weight: float = 0.3, seed: int = 0):
    config = validate({"task": "speech_to_text", "data": {"synthetic": {"feature_size": 5}},
                       "model": {"embedding_size": 8, "ctc_weight": ctc_weight,
                                 "encoder": {"hidden_size": 6, "dropout": 0.0},
                                 "decoder": {"hidden_size": 8, "dropout": 0.0}}})
    torch.manual_seed(seed)
    return get_task(config).build_model(FramesVocab(type("T", (), {"vocab_size": 7})())).eval()


def frames(seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, 5, generator=g) for n in (6, 4, 9)]


def test_the_greedy_path_merges_repeats_and_drops_blanks():
    best = [[5, 5, PAD, 5, 4, 4, PAD, EOS, 6], [PAD, PAD, 4, 4, 4, 9, 9, 9, 9]]
    log_probs = torch.full((2, 9, 10), -10.0)
    for row, path in enumerate(best):
        for t, token in enumerate(path):
            log_probs[row, t, token] = 0.0
    assert ctc_greedy(log_probs, torch.tensor([9, 4])) == [[5, 5, 4, 6], [4]]


def test_the_ctc_score_sums_every_alignment():
    m = model()
    src, lengths, _ = pad_frames(frames()[1:2])                          # 4 frames → 4 encoder states
    with torch.no_grad():
        memory = m.encode(src, lengths)
        log_probs = ctc_log_probs(m, memory)
        _, ctc, _ = sequence_scores(m, memory, log_probs, [0], [[4, 5]])
    total = 0.0
    for path in itertools.product(range(7), repeat=int(memory.lengths[0])):
        merged = [t for i, t in enumerate(path) if i == 0 or t != path[i - 1]]
        if [t for t in merged if t != PAD] == [4, 5]:
            total += math.exp(sum(float(log_probs[0, i, t]) for i, t in enumerate(path)))
    assert float(ctc[0]) == pytest.approx(math.log(total), abs=1e-4)


def test_the_attention_score_of_a_hypothesis_is_what_search_gave_it():
    m = model()
    with torch.no_grad():
        m.head.generator.bias[EOS] += 1.5            # some hypotheses end before the limit
    sources = frames()
    opts = search_options(DecodeConfig(), beam_size=1, max_len=12)
    hyps = decode_all(m, sources, opts, batch_size=3, collate=pad_frames)
    src, lengths, _ = pad_frames(sources)
    with torch.no_grad():
        memory = m.encode(src, lengths)
        att, _, _ = sequence_scores(m, memory, ctc_log_probs(m, memory), [0, 1, 2], [h[0].tokens for h in hyps])
    finished = [(score, h[0]) for score, h in zip(att.tolist(), hyps) if h[0].finished]
    assert finished                                  # (an unfinished one scores without its EOS in search)
    for score, h in finished:
        assert score == pytest.approx(h.score, abs=1e-4)


def test_weight_one_ranks_by_ctc_and_weight_zero_by_attention():
    m = model()
    sources = frames()
    src, lengths, _ = pad_frames(sources)
    base = search_options(DecodeConfig(), beam_size=3, n_best=3, max_len=6)
    nbest = decode_all(m, sources, base, batch_size=3, collate=pad_frames)
    with torch.no_grad():
        memory = m.encode(src, lengths)
        log_probs = ctc_log_probs(m, memory)
        for weight in (0.0, 1.0):
            ranked = rescore(m, memory, nbest, base.model_copy(update={"ctc_weight": weight}))
            for row, hyps in enumerate(ranked):
                att, ctc, _ = sequence_scores(m, memory, log_probs, [row] * len(hyps), [h.tokens for h in hyps])
                key = ctc if weight else att
                assert [h.score for h in hyps] == pytest.approx(key.tolist(), abs=1e-5)
                assert key.tolist() == sorted(key.tolist(), reverse=True)
        greedy = ctc_greedy(log_probs, memory.lengths)
        assert all(any(h.tokens == g for h in hyps) for g, hyps in
                   zip(greedy, rescore(m, memory, nbest, base.model_copy(update={"ctc_weight": 1.0, "n_best": 4}))))


def test_rescoring_a_model_without_ctc_is_one_clear_line():
    opts = search_options(DecodeConfig(), ctc_weight=0.5)
    with pytest.raises(UserError, match="decode.ctc_weight=0.5: this model has no CTC head"):
        decode_joint(model(ctc_weight=0.0), frames(), opts, batch_size=3, device=torch.device("cpu"),
                     collate=pad_frames)
