"""The pyramidal encoder: time halves per layer, lengths and masks follow, padding never changes a state."""

import torch

from seq2seq.model.encoder import Encoder, halve
from seq2seq.model.frontends import FrameFrontend


def encoder(pyramid: int, stack: int = 1, rnn: str = "lstm") -> Encoder:
    torch.manual_seed(0)
    return Encoder(FrameFrontend(5, 6, stack), rnn, 4, 1, True, 0.0, pyramid).eval()


def test_halve_pairs_neighbours_and_rounds_odd_lengths_up():
    states = torch.arange(1, 1 + 2 * 5 * 1, dtype=torch.float).view(2, 5, 1)      # (batch 2, len 5, d 1)
    states[1, 3:] = 0                                                            # row 1 has length 3
    pairs, lengths = halve(states, torch.tensor([5, 3]))
    assert pairs.shape == (2, 3, 2) and lengths.tolist() == [3, 2]
    assert pairs[0].tolist() == [[1, 2], [3, 4], [5, 0]]
    assert pairs[1].tolist() == [[6, 7], [8, 0], [0, 0]]


def test_memory_lengths_shrink_by_the_reduction_and_padding_changes_nothing():
    enc = encoder(pyramid=2, stack=2)
    assert enc.reduction == 8
    lengths = torch.tensor([37, 16, 9, 1])
    frames = torch.randn(4, 37, 5)
    for i, n in enumerate(lengths):
        frames[i, n:] = 0
    with torch.no_grad():
        memory = enc(frames, lengths)
        assert memory.lengths.tolist() == [-(-int(n) // 8) for n in lengths]          # ceil at every halving
        assert memory.states.size(1) == 5
        assert (memory.states[~memory.mask] == 0).all()
        for i, n in enumerate(lengths):                                            # alone = beside longer rows
            alone = enc(frames[i : i + 1, :n], lengths[i : i + 1])
            k = int(memory.lengths[i])
            assert torch.allclose(alone.states[0, :k], memory.states[i, :k], atol=1e-6)
            assert torch.allclose(alone.final[0], memory.final[i], atol=1e-6)


def test_the_final_state_comes_from_the_top_pyramid_layer_for_gru_and_lstm():
    for rnn in ("gru", "lstm"):
        enc = encoder(pyramid=1, rnn=rnn)
        with torch.no_grad():
            memory = enc(torch.randn(1, 8, 5), torch.tensor([8]))
        hidden = 4
        assert torch.allclose(memory.final[0, :hidden], memory.states[0, -1, :hidden])    # forward: last state
        assert torch.allclose(memory.final[0, hidden:], memory.states[0, 0, hidden:])     # backward: first state


def test_attention_is_exactly_zero_beyond_each_utterances_reduced_length_and_padding_changes_nothing():
    from seq2seq.config import validate
    from seq2seq.data.batching import make_batch
    from seq2seq.tasks import get_task
    from seq2seq.tasks.frames import FramesVocab

    config = validate({"task": "speech_to_text", "data": {"synthetic": {"feature_size": 5}},
                       "model": {"embedding_size": 8, "frontend": {"stack": 2},
                                 "encoder": {"hidden_size": 6, "pyramid": 1, "dropout": 0.0},
                                 "decoder": {"attention": "bahdanau", "score": "location", "hidden_size": 8,
                                             "dropout": 0.0}}})
    torch.manual_seed(0)
    model = get_task(config).build_model(FramesVocab(type("T", (), {"vocab_size": 9})())).eval()
    frames = [torch.randn(n, 5) for n in (23, 9, 4)]
    targets = [[4, 5, 6], [7, 4], [5]]
    with torch.no_grad():
        logits, attention = model.teacher_forced(make_batch(frames, targets))
        for i, (f, t) in enumerate(zip(frames, targets)):
            reduced = -(-len(f) // 4)                                          # stack 2 × one halving
            assert (attention[i, :, reduced:] == 0).all()
            assert torch.allclose(attention[i, : len(t) + 1, :reduced].sum(-1), torch.ones(len(t) + 1))
            alone_logits, alone = model.teacher_forced(make_batch([f], [t]))
            assert torch.allclose(alone[0, :, :reduced], attention[i, : len(t) + 1, :reduced], atol=1e-6)
            assert torch.allclose(alone_logits[0], logits[i, : len(t) + 1], atol=1e-5)
