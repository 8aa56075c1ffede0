"""Guided attention: about 0 for attention on the diagonal, large off it, nothing charged on padding."""

import torch

from seq2seq.model.guided_attention import guided_attention_loss


def one_hot_path(steps: int, positions: int, path) -> torch.Tensor:
    weights = torch.zeros(1, steps, positions)
    for t in range(steps):
        weights[0, t, path(t)] = 1.0
    return weights


def test_diagonal_attention_costs_almost_nothing_and_reversed_attention_nearly_everything():
    steps, positions = 20, 10
    mask, lengths = torch.ones(1, steps, dtype=torch.bool), torch.tensor([positions])
    diagonal = one_hot_path(steps, positions, lambda t: t * positions // steps)
    reversed_ = one_hot_path(steps, positions, lambda t: positions - 1 - t * positions // steps)
    stuck = one_hot_path(steps, positions, lambda t: 0)
    assert float(guided_attention_loss(diagonal, mask, lengths)) < 0.05 * steps
    assert float(guided_attention_loss(reversed_, mask, lengths)) > 0.6 * steps
    assert float(guided_attention_loss(stuck, mask, lengths)) > 0.4 * steps


def test_padding_steps_and_positions_are_never_charged():
    steps, positions = 8, 6
    row = one_hot_path(steps, positions, lambda t: min(positions - 1, t))
    alone = guided_attention_loss(row, torch.ones(1, steps, dtype=torch.bool), torch.tensor([positions]))
    padded = torch.zeros(2, steps + 4, positions + 3)
    padded[0, :steps, :positions] = row[0]
    padded[0, steps:, -1] = 1.0                                   # weights on padding: must cost nothing
    padded[1, :3, 0] = 1.0
    mask = torch.zeros(2, steps + 4, dtype=torch.bool)
    mask[0, :steps], mask[1, :3] = True, True
    both = guided_attention_loss(padded, mask, torch.tensor([positions, 1]))
    short = guided_attention_loss(padded[1:, :3, :1], torch.ones(1, 3, dtype=torch.bool), torch.tensor([1]))
    assert torch.allclose(both, alone + short, atol=1e-6)


def test_the_synthesiser_adds_the_weighted_penalty_of_its_own_attention_to_the_loss():
    from seq2seq.config import validate
    from seq2seq.data.batching import make_frame_batch
    from seq2seq.tasks import get_task
    from seq2seq.tasks.frames import FramesVocab

    def model(weight):
        config = validate({"task": "text_to_speech", "data": {"synthetic": {"feature_size": 4}},
                           "model": {"embedding_size": 8, "head": {"guided_attention": weight, "reduction": 2},
                                     "encoder": {"hidden_size": 6, "dropout": 0.0},
                                     "decoder": {"hidden_size": 8, "dropout": 0.0, "score": "location"}}})
        torch.manual_seed(0)
        return get_task(config).build_model(FramesVocab(type("T", (), {"vocab_size": 9})()))

    batch = make_frame_batch([[4, 5, 6], [7, 4]], [torch.randn(9, 4), torch.randn(5, 4)], 2)
    plain, guided = model(0.0), model(2.0)
    with torch.no_grad():
        torch.manual_seed(1)                         # the prenet's dropout stays on: the same draws each time
        base = plain(batch)
        torch.manual_seed(1)
        total = guided(batch)
        torch.manual_seed(1)
        _, attention = plain.teacher_forced(batch)
        memory = plain.encode(batch.src, batch.src_lengths)
    expected = 2.0 * guided_attention_loss(attention, batch.tgt_mask, memory.lengths)
    assert float(expected) > 0 and torch.allclose(total - base, expected, atol=1e-4)


def test_the_schedule_keeps_the_loss_then_relaxes_it_and_turns_it_off():
    from seq2seq.model.guided_attention import GuidedAttention, scheduled

    assert scheduled(1.0, 0.2, None, 10_000) == (1.0, 0.2)
    assert scheduled(1.0, 0.2, (100, 300), 100) == (1.0, 0.2)
    weight, width = scheduled(1.0, 0.2, (100, 300), 200)
    assert abs(weight - 0.5) < 1e-9 and abs(width - 0.3) < 1e-9
    assert scheduled(1.0, 0.2, (100, 300), 300)[0] == 0.0

    class Memory:
        lengths = torch.tensor([10])

    class Batch:
        tgt_mask = torch.ones(1, 20, dtype=torch.bool)

    reversed_ = one_hot_path(20, 10, lambda t: 9 - t // 2)
    loss = GuidedAttention(1.0, 0.2, (100, 300))
    base = torch.tensor(0.0)
    early, middle, late = (float(loss.combine(base, Memory, reversed_, Batch, step)) for step in (50, 200, 400))
    assert early > middle > late == 0.0
