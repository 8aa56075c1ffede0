"""Tokenizers train on the training data, round-trip text, and save/load inside the run directory."""

import pytest

from seq2seq.data.text import read_corpus
from seq2seq.data.tokenizers import (BOS, EOS, PAD, UNK, load_tokenizers, save_tokenizers, train_tokenizer)

TEXT = [f"the {a} {b} sat on the {c} mat ." for a in ("black", "white", "small") for b in ("cat", "dog", "bird")
        for c in ("red", "green", "blue", "old")] * 3


@pytest.mark.parametrize("kind,model_type", [("sentencepiece", "unigram"), ("sentencepiece", "bpe"),
                                             ("char", None), ("whitespace", None)])
def test_round_trip_and_special_ids(kind, model_type, tmp_path):
    tok = train_tokenizer(kind, TEXT, model_type=model_type or "unigram", vocab_size=60)
    for line in TEXT[:10]:
        ids = tok.encode(line)
        assert ids and all(i > EOS for i in ids)
        assert tok.decode(ids) == line
    assert tok.pieces([PAD, UNK, BOS, EOS]) == ["<pad>", "<unk>", "<s>", "</s>"]
    save_tokenizers(tmp_path, tok, tok)
    src, tgt = load_tokenizers(tmp_path)
    assert src is tgt and src.encode(TEXT[0]) == tok.encode(TEXT[0])


def test_separate_vocabularies_are_saved_separately(tmp_path):
    src = train_tokenizer("whitespace", ["a b c"])
    tgt = train_tokenizer("whitespace", ["x y"])
    save_tokenizers(tmp_path, src, tgt)
    s, t = load_tokenizers(tmp_path)
    assert s is not t and s.encode("a x") == [src.encode("a")[0], UNK] and t.vocab_size == 6


def test_tsv_corpus(tmp_path):
    (tmp_path / "pairs.tsv").write_text("hallo welt\thello world\r\nja\tyes\n")
    corpus = read_corpus(str(tmp_path), "pairs.tsv", None, None)
    assert corpus.src == ["hallo welt", "ja"] and corpus.tgt == ["hello world", "yes"]


def test_tied_embeddings_share_one_matrix_and_survive_save_load(tmp_path):
    import torch

    from seq2seq import load
    from seq2seq.train import train
    from helpers import toy_config

    config = toy_config("copy", {"attention": "luong", "score": "general"}, max_steps=3)
    config.model.tie_embeddings = True
    train(config, tmp_path, verbose=False)
    model = load(tmp_path).model
    assert model.decoder.generator.weight is model.decoder.embedding.weight
    assert torch.equal(model.decoder.generator.weight, model.decoder.embedding.weight)
