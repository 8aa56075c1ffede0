"""The Multi30k recipe reads ../shared/data (or $SEQ2SEQ_SHARED_DATA) and trains end to end.

Skipped, with the reason, when the shared data is absent; in CI it is present.
"""

import pytest

from seq2seq.inference.translator import Translator
from seq2seq.checkpoint import read_metrics
from seq2seq.config import load_config
from seq2seq.data.shared import shared_data_dir
from seq2seq.data.text.corpora import read_corpus
from seq2seq.data.text.lines import read_lines
from seq2seq.metrics import score
from seq2seq.training.train import train
from helpers import REPO

DATA = shared_data_dir()
pytestmark = pytest.mark.skipif(DATA is None or not (DATA / "multi30k").is_dir(),
                                reason="../shared/data/multi30k not found (set SEQ2SEQ_SHARED_DATA to its parent)")
RECIPE = REPO / "configs" / "multi30k_de_en.yaml"


def overrides():
    return [f"data.root={DATA / 'multi30k'}"]


def test_recipe_is_the_reference_configuration():
    config = load_config(RECIPE, overrides())
    m = config.model
    assert (config.tokenizer.type, config.tokenizer.model_type, config.tokenizer.vocab_size, config.tokenizer.joint) \
        == ("sentencepiece", "unigram", 8000, True)
    assert m.embedding_size == 256 and m.encoder.hidden_size == 256 and m.encoder.bidirectional
    assert m.encoder.rnn == m.decoder.rnn == "gru" and m.decoder.hidden_size == 512
    assert (m.decoder.attention, m.decoder.luong_score, m.decoder.feeds_input) == ("luong", "concat", True)
    assert m.encoder.dropout == m.decoder.dropout == 0.2
    assert config.train.lr == 1e-3 and config.train.batch_sentences == 64


def test_recipe_default_path_finds_the_shared_data():
    config = load_config(RECIPE)
    if DATA != REPO.parent / "shared" / "data":
        pytest.skip("shared data is not beside the repository")
    corpus = read_corpus(config.data.root, config.data.train, "de", "en")
    assert len(corpus) == 29000
    assert len(read_corpus(config.data.root, config.data.valid, "de", "en")) == 1014


def test_recipe_trains_and_translates_end_to_end(tmp_path):
    small = overrides() + ["tokenizer.vocab_size=1000", "model.embedding_size=32", "model.encoder.hidden_size=32",
                           "model.decoder.hidden_size=64", "train.max_steps=8", "train.batch_sentences=32",
                           "decode.max_len_b=5", "decode.max_len_a=0.5"]
    config = load_config(RECIPE, small)
    result = train(config, tmp_path, verbose=False)
    # the recipe restricts the joint model per side: two files, each side with only the pieces it uses
    assert result.steps == 8 and (tmp_path / "tokenizer" / "src.model").is_file()
    translator = Translator.load(tmp_path)
    src_tok, tgt_tok = translator.src_tokenizer, translator.tgt_tokenizer
    assert src_tok.vocab_size < 1000 and tgt_tok.vocab_size < 1000 and src_tok.vocab_size != tgt_tok.vocab_size
    assert translator.model.head.generator.out_features == tgt_tok.vocab_size
    src = read_lines(DATA / "multi30k" / "test_2016_flickr.de")[:20]
    ref = read_lines(DATA / "multi30k" / "test_2016_flickr.en")[:20]
    out = translator.translate(src)
    assert len(out) == 20 and all(r.attention.shape == (len(r.tokens), len(r.src_tokens)) for r in out)
    test_scores = score([r.text for r in out], ref)
    assert test_scores.sentences == 20 and test_scores.bleu < 100 and test_scores.chrf > 0
    # the validation scores training logged are those of the run's greedy translations of the validation set
    [logged] = [e for e in read_metrics(tmp_path) if e["event"] == "valid"]
    val_src = read_lines(DATA / "multi30k" / "val.de")
    val_ref = read_lines(DATA / "multi30k" / "val.en")
    greedy = [r.text for r in Translator.load(tmp_path, which="last").translate(val_src, beam_size=1)]
    recomputed = score(greedy, val_ref)
    assert (recomputed.bleu, recomputed.chrf) == (logged["bleu"], logged["chrf"]) and recomputed.chrf > 0
