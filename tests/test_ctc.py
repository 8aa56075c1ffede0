"""Joint CTC: the loss of a hand-checkable case, padding never changes it, it joins the attention loss by its
weight, and a recogniser trained with it still learns."""

import torch

from seq2seq.data.batching import make_batch
from seq2seq.data.text.tokenizers import PAD
from seq2seq.model.ctc import CTCHead
from seq2seq.model.encoder import Memory, lengths_mask


def memory_of(states, lengths):
    lengths = torch.tensor(lengths)
    return Memory(states, lengths_mask(lengths, states.size(1), states.device), states[:, 0])


def test_one_state_and_one_token_costs_minus_log_its_probability():
    torch.manual_seed(0)
    head = CTCHead(4, 7, 0.5)
    states = torch.randn(1, 1, 4)
    batch = make_batch([[5]], [[6]])                     # target "6" then EOS
    expected = -torch.log_softmax(head.projection(states[0, 0]), -1)[6]
    assert torch.allclose(head.loss(memory_of(states, [1]), batch), expected)


def test_padding_and_batch_neighbours_change_nothing_and_impossible_targets_cost_zero_not_inf():
    torch.manual_seed(1)
    head = CTCHead(4, 9, 0.5)
    states = torch.randn(3, 6, 4)
    targets = [[4, 5], [6], [4, 4, 7]]
    lengths = [6, 2, 4]
    together = head.loss(memory_of(states, lengths), make_batch([[4]] * 3, targets))
    alone = sum(head.loss(memory_of(states[i : i + 1, :n], [n]), make_batch([[4]], [t]))
                for i, (n, t) in enumerate(zip(lengths, targets)))
    assert torch.allclose(together, alone, atol=1e-5)
    too_long = head.loss(memory_of(states[:1, :1], [1]), make_batch([[4]], [[4, 5, 6]]))
    assert float(too_long.detach()) == 0.0


def test_the_training_loss_mixes_attention_and_ctc_by_the_weight(tmp_path):
    from seq2seq.config import validate
    from seq2seq.tasks import get_task
    from seq2seq.tasks.frames import FramesVocab

    def model(weight):
        config = validate({"task": "speech_to_text", "data": {"synthetic": {"feature_size": 5}},
                           "model": {"embedding_size": 8, "ctc_weight": weight,
                                     "encoder": {"hidden_size": 6, "dropout": 0.0},
                                     "decoder": {"hidden_size": 8, "dropout": 0.0}}})
        torch.manual_seed(0)
        return get_task(config).build_model(FramesVocab(type("T", (), {"vocab_size": 9})())).eval()

    batch = make_batch([torch.randn(7, 5), torch.randn(4, 5)], [[4, 5], [6]])
    plain, joint = model(0.0), model(0.3)
    assert plain.extra_loss("ctc") is None and joint.extra_loss("ctc") is joint.ctc
    joint.load_state_dict({**plain.state_dict(), **{k: v for k, v in joint.state_dict().items() if "ctc" in k}})
    with torch.no_grad():
        attention = plain(batch)
        ctc = joint.ctc.loss(joint.encode(batch.src, batch.src_lengths), batch)
        assert torch.allclose(joint(batch), 0.7 * attention + 0.3 * ctc)
        assert PAD == 0 and float(ctc) > 0
