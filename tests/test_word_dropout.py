"""`model.encoder.word_dropout` / `model.decoder.word_dropout`: in training, whole token embeddings are dropped (the
kept ones scaled by 1 / (1 - p)), padding stays zero; at inference nothing changes; a model still learns with it;
frames are refused by name."""

from __future__ import annotations

import pytest
import torch

from seq2seq.inference.translator import Translator
from seq2seq.config import load_config, validate
from seq2seq.data.text.lines import read_lines
from seq2seq.data.text.tokenizers import PAD
from seq2seq.errors import UserError
from seq2seq.model.seq2seq import Seq2Seq
from seq2seq.training.train import train
from helpers import REPO, batch_of, random_pairs, toy_config


def _model(source: float, target: float) -> Seq2Seq:
    raw = {"data": {"synthetic": {"task": "copy"}},
           "model": {"embedding_size": 8,
                     "encoder": {"hidden_size": 16, "dropout": 0.0, "word_dropout": source},
                     "decoder": {"hidden_size": 12, "dropout": 0.0, "word_dropout": target,
                                 "attention": "luong", "score": "concat"}}}
    torch.manual_seed(0)
    return Seq2Seq.for_text(validate(raw).model, 13, 13)


def _dropped_share(embed, embedding, ids: torch.Tensor) -> float:
    """Checks a word-dropped embedding of `ids` (batch, len) row by row; returns the share of real rows dropped."""
    torch.manual_seed(5)
    out = embed(ids)                                                          # (batch, len, embedding)
    plain = embedding(ids)                                                    # (batch, len, embedding)
    real = ids != PAD                                                         # (batch, len)
    assert (out[~real] == 0).all()                                            # padding stays zero
    rows, plain_rows = out[real], plain[real]                                 # (real rows, embedding)
    zero = (rows == 0).all(-1)                                                # (real rows,) whole rows dropped
    assert torch.allclose(rows[~zero], 2 * plain_rows[~zero])                 # survivors scaled by 1 / (1 - 0.5)
    assert (plain_rows[zero] != 0).any(-1).all()                              # dropped, not zero to begin with
    return zero.float().mean().item()


def test_source_words_are_dropped_whole_in_training():
    model = _model(0.5, 0.0).train()
    frontend = model.encoder.frontend
    batch = batch_of(*random_pairs(64, seed=1))
    share = _dropped_share(lambda ids: frontend(ids, batch.src_lengths)[0], frontend.embedding, batch.src)
    assert 0.4 < share < 0.6, share


def test_previous_target_words_are_dropped_whole_in_training():
    model = _model(0.0, 0.5).train()
    batch = batch_of(*random_pairs(64, seed=2))
    share = _dropped_share(model.head.embed, model.head.embedding, batch.tgt_in)
    assert 0.4 < share < 0.6, share


def test_word_dropout_is_inert_at_inference_and_changes_no_weights():
    with_dropout, without = _model(0.3, 0.3).eval(), _model(0.0, 0.0).eval()
    assert with_dropout.state_dict().keys() == without.state_dict().keys()   # checkpoints load either way
    assert all(torch.equal(a, b) for a, b in zip(with_dropout.state_dict().values(), without.state_dict().values()))
    batch = batch_of(*random_pairs(16, seed=3))
    with torch.no_grad():
        assert torch.equal(with_dropout(batch), without(batch))
        with_dropout.train()
        assert not torch.equal(with_dropout(batch), without(batch))


def test_a_model_with_word_dropout_on_both_sides_learns_the_copy_task(tmp_path):
    config = toy_config("copy", stop_at=99.0)
    config.model.encoder.word_dropout = config.model.decoder.word_dropout = 0.1
    train(config, tmp_path, verbose=False)
    src = read_lines(tmp_path / "data" / "test.src")
    ref = read_lines(tmp_path / "data" / "test.tgt")
    hyps = [t.text for t in Translator.load(tmp_path).translate(src)]
    assert sum(h == r for h, r in zip(hyps, ref)) / len(ref) >= 0.95


@pytest.mark.parametrize("recipe,key,needle", [
    ("fsdd_digits.yaml", "model.encoder.word_dropout", "speech_to_text reads feature frames"),
    ("fsdd_tts.yaml", "model.decoder.word_dropout", "text_to_speech writes frames"),
])
def test_word_dropout_on_frames_is_refused_by_name(recipe, key, needle):
    with pytest.raises(UserError) as err:
        load_config(REPO / "configs" / recipe, [f"{key}=0.2"])
    assert needle in str(err.value) and key.split(".", 1)[1] in str(err.value)
