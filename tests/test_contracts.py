"""One truth per list: the attention scores are declared once (config/scores.py) and the config's choices, the
family rules and the attention classes follow it; every head keeps the `Head` contract the decoder relies on."""

from __future__ import annotations

import typing

import pytest
from helpers import tiny_model

from seq2seq.config import DecoderConfig, validate
from seq2seq.config.scores import SCORES, default_score, scores_for
from seq2seq.errors import UserError
from seq2seq.model.attention import SCORE_CLASSES, build_attention
from seq2seq.model.heads import FrameHead, FrameWriter, Head, TokenHead, TokenWriter


def test_the_config_offers_exactly_the_declared_scores_and_the_model_builds_each():
    annotation = DecoderConfig.model_fields["score"].annotation
    offered = {a for arg in typing.get_args(annotation) for a in typing.get_args(arg)}
    assert offered == set(SCORES) == set(SCORE_CLASSES)
    for name, score in SCORES.items():
        built = build_attention(name, 8, 6, 5, location=(4, 3))
        assert built.stateful == score.stateful, name


@pytest.mark.parametrize("family", ["bahdanau", "luong"])
def test_each_family_takes_its_declared_scores_and_refuses_the_others(family):
    for name in SCORES:
        decoder = {"attention": family, "score": name, **({"input_feeding": True} if family == "luong" else {})}
        raw = {"data": {"synthetic": {"task": "copy"}}, "model": {"decoder": decoder}}
        if name in scores_for(family):
            assert validate(raw).model.decoder.score_name == name
        else:
            with pytest.raises(UserError, match=f"score='{name}' applies only to attention="):
                validate(raw)
    assert validate({"data": {"synthetic": {"task": "copy"}},
                     "model": {"decoder": {"attention": family}}}).model.decoder.score_name == default_score(family)


def test_the_location_convolution_is_configured_and_its_width_must_be_odd():
    model = tiny_model({"attention": "bahdanau", "score": "location", "location_channels": 5, "location_kernel": 7})
    conv = model.decoder.attention.location_conv
    assert (conv.out_channels, conv.kernel_size) == (5, (7,))
    with pytest.raises(UserError, match="location_kernel=8"):
        validate({"data": {"synthetic": {"task": "copy"}},
                  "model": {"decoder": {"attention": "bahdanau", "score": "location", "location_kernel": 8}}})


def test_the_heads_keep_their_contracts():
    tokens = TokenHead(11, 8, 6, 0.0)
    frames = FrameHead(5, 8, 6, reduction=2)
    assert isinstance(tokens, Head) and isinstance(tokens, TokenWriter) and not isinstance(tokens, FrameWriter)
    assert isinstance(frames, Head) and isinstance(frames, FrameWriter) and not isinstance(frames, TokenWriter)
