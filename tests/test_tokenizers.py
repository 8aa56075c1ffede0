"""Tokenizers train on the training data, round-trip text, and save/load inside the run directory."""

import pytest

from seq2seq.data.text.corpora import read_corpus
from seq2seq.errors import InputWarning
from seq2seq.data.text.tokenizers import (BOS, EOS, PAD, UNK, load_tokenizers, save_tokenizers, train_tokenizer)

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


def test_sentencepiece_training_is_reproducible_with_a_seed():
    kwargs = dict(model_type="unigram", vocab_size=60, seed=11)
    first, second = train_tokenizer("sentencepiece", TEXT, **kwargs), train_tokenizer("sentencepiece", TEXT, **kwargs)
    pieces = [[(tok.sp.id_to_piece(i), tok.sp.get_score(i)) for i in range(tok.sp.get_piece_size())]
              for tok in (first, second)]
    assert pieces[0] == pieces[1]


def test_separate_vocabularies_are_saved_separately(tmp_path):
    src = train_tokenizer("whitespace", ["a b c"])
    tgt = train_tokenizer("whitespace", ["x y"])
    save_tokenizers(tmp_path, src, tgt)
    s, t = load_tokenizers(tmp_path)
    assert s is not t and s.encode("a x") == [src.encode("a")[0], UNK] and t.vocab_size == 6


def test_tsv_corpus(tmp_path):
    (tmp_path / "pairs.tsv").write_text("hallo welt\thello world\r\nja\tyes\n")
    with pytest.warns(InputWarning, match="pairs.tsv: 1 of 2 lines end in CRLF"):
        corpus = read_corpus(str(tmp_path), "pairs.tsv", None, None)
    assert corpus.src == ["hallo welt", "ja"] and corpus.tgt == ["hello world", "yes"]


def test_tied_embeddings_share_one_matrix_and_survive_save_load(tmp_path):
    import torch

    from seq2seq import load
    from seq2seq.training.train import train
    from helpers import toy_config

    config = toy_config("copy", {"attention": "luong", "score": "general"}, max_steps=3)
    config.model.tie_embeddings = True
    train(config, tmp_path, verbose=False)
    model = load(tmp_path).model
    assert model.head.generator.weight is model.head.embedding.weight
    assert torch.equal(model.head.generator.weight, model.head.embedding.weight)


def test_per_side_restriction_keeps_training_text_and_saves_compact_ids(tmp_path):
    src_text = [f"der {a} hund sieht die {b} katze ." for a in ("kleine", "braune", "alte") for b in ("rote", "blaue")]
    tgt_text = [f"the {a} dog sees the {b} cat ." for a in ("small", "brown", "old") for b in ("red", "blue")]
    joint = train_tokenizer("sentencepiece", (src_text + tgt_text) * 5, vocab_size=80)
    src, tgt = joint.restricted(src_text), joint.restricted(tgt_text)
    assert src.vocab_size < joint.vocab_size and tgt.vocab_size < joint.vocab_size
    for tok, texts in ((src, src_text), (tgt, tgt_text)):
        for line in texts:   # the side's own text segments exactly as with the full model
            assert tok.pieces(tok.encode(line)) == joint.pieces(joint.encode(line))
        ids = [i for line in texts for i in tok.encode(line)]
        assert max(ids) < tok.vocab_size and min(ids) > EOS              # compact ids, specials untouched
    src_pieces, src_chars = set(src.pieces(range(src.vocab_size))), set("".join(src_text))
    english = [w for w in " ".join(tgt_text).split() if set(w) <= src_chars
               and not set(joint.pieces(joint.encode(w))) <= src_pieces]   # spelled with German letters only
    assert english
    other = f"{english[0]} hund sieht ."             # a piece only the English side uses, on the German side
    ids = src.encode(other)
    assert src.decode(ids) == other and UNK not in ids                  # falls back to smaller pieces
    assert UNK in src.encode("w")                    # a character only the other side uses is unknown here
    assert set(src.pieces(ids)) <= src_pieces
    save_tokenizers(tmp_path, src, tgt)
    s, t = load_tokenizers(tmp_path)
    assert (s.vocab_size, t.vocab_size) == (src.vocab_size, tgt.vocab_size)
    assert s.pieces(range(s.vocab_size)) == src.pieces(range(src.vocab_size)) and s.encode(other) == ids


def test_per_side_vocab_needs_a_joint_sentencepiece_model():
    from seq2seq.config import validate
    from seq2seq.errors import UserError

    raw = {"data": {"synthetic": {"task": "copy"}}, "tokenizer": {"type": "char", "per_side_vocab": True}}
    with pytest.raises(UserError, match="per_side_vocab.*type: char"):
        validate(raw)
