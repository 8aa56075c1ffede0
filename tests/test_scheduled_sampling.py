"""Scheduled sampling: probability 1 is exactly teacher forcing; probability 0 feeds the model's own predictions;
the decay schedules are validated and clamp where they should."""

import pytest
import torch

from seq2seq.config import ScheduledSamplingConfig, validate
from seq2seq.errors import UserError
from seq2seq.training.train import train
from helpers import FAMILIES, batch_of, random_pairs, tiny_model, toy_config


def test_probability_one_is_teacher_forcing_exactly(tmp_path):
    losses = {}
    for name, sampling in (("plain", None), ("scheduled", {"decay": "constant", "k": 1.0})):
        config = toy_config("copy", FAMILIES["luong-general"], max_steps=15)
        if sampling:
            config = validate({**config.to_dict(), "train": {**config.to_dict()["train"],
                                                             "scheduled_sampling": sampling}})
        recorded = []
        train(config, tmp_path / name, verbose=False, on_step=lambda step, loss: recorded.append(loss))
        losses[name] = recorded
    assert losses["plain"] == losses["scheduled"]


@pytest.mark.parametrize("name", ["bahdanau", "luong-general", "luong-concat-nofeed", "vanilla"])
def test_probability_zero_feeds_the_models_own_argmax(name):
    model = tiny_model(FAMILIES[name], seed=2)                       # eval mode: no dropout
    src, tgt = random_pairs(6, seed=2)
    batch = batch_of(src, tgt)
    with torch.no_grad():
        memory = model.encode(batch.src, batch.src_lengths)
        sampled, _ = model.decoder(batch.tgt_in, memory, teacher_prob=0.0)   # (batch, tgt_len, output)
        # the same, by hand: step from BOS, each next input the argmax of the previous output
        dec = model.decoder
        prepared = dec.prepare(memory)
        state, y = dec.init_state(prepared), batch.tgt_in[:, 0]
        for t in range(batch.tgt_in.size(1)):
            out, state, _ = dec.step(y, state, prepared)
            torch.testing.assert_close(sampled[:, t], out, rtol=1e-5, atol=1e-6)
            y = dec.head.generator(out).argmax(-1)
        forced, _ = model.decoder(batch.tgt_in, memory)
    assert not torch.allclose(forced, sampled)                        # it really fed something else


def test_schedules_decay_and_clamp():
    linear = ScheduledSamplingConfig(decay="linear", k=100, min_teacher=0.25)
    assert [linear.teacher_prob(i) for i in (0, 50, 75, 1000)] == [1.0, 0.5, 0.25, 0.25]
    expo = ScheduledSamplingConfig(decay="exponential", k=0.99)
    assert expo.teacher_prob(0) == 1.0 and abs(expo.teacher_prob(100) - 0.99 ** 100) < 1e-12
    sig = ScheduledSamplingConfig(decay="inverse_sigmoid", k=50)
    values = [sig.teacher_prob(i) for i in range(0, 2000, 100)]
    assert values == sorted(values, reverse=True) and values[0] > 0.97 and values[-1] < 0.01
    assert 0.0 <= sig.teacher_prob(10 ** 9) < 1e-300                  # no overflow far out


@pytest.mark.parametrize("decay,k", [("exponential", 1.5), ("inverse_sigmoid", 0.5), ("constant", 2.0),
                                     ("linear", 0)])
def test_out_of_range_k_names_decay_value_and_allowed_range(decay, k):
    raw = toy_config("copy").to_dict()
    raw["train"]["scheduled_sampling"] = {"decay": decay, "k": k}
    with pytest.raises(UserError, match=f"k={k}.*{decay}.*allowed"):
        validate(raw)
