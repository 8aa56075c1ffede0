"""Training without a validation file holds validation out of train: seeded, grouped by source sentence."""

import random

import pytest
import yaml

from seq2seq.checkpoint import read_metrics
from seq2seq.cli import main
from seq2seq.config import validate
from seq2seq.data.held_out import hold_out, held_out_size
from seq2seq.data.text.lines import Corpus
from seq2seq.errors import UserError


def corpus_with_duplicates(n: int = 400, seed: int = 0) -> Corpus:
    rng = random.Random(seed)
    src = [f"sentence {rng.randrange(120)}" for _ in range(n)]           # ~120 sources, most repeated
    return Corpus(src, [f"phrase {i}" for i in range(n)], "toy.tsv")


def test_no_source_sentence_is_on_both_sides_and_the_split_is_seeded_not_order_dependent():
    data = corpus_with_duplicates()
    train, valid = hold_out(data, 40, seed=0)
    assert len(valid) >= 40 and len(train) + len(valid) == len(data)
    assert not set(train.src) & set(valid.src)
    for part in (train, valid):                # messages name each pair's line in the file
        assert all(part.tgt[i] == data.tgt[part.line(i) - 1] for i in range(len(part)))
    assert sorted(zip(train.src + valid.src, train.tgt + valid.tgt)) == sorted(zip(data.src, data.tgt))
    order = list(range(len(data)))
    random.Random(1).shuffle(order)
    shuffled = Corpus([data.src[i] for i in order], [data.tgt[i] for i in order], "toy.tsv")
    assert set(hold_out(shuffled, 40, seed=0)[1].src) == set(valid.src)
    assert set(hold_out(data, 40, seed=1)[1].src) != set(valid.src)


def test_held_out_size_share_count_and_default():
    assert held_out_size(1000, 0.1) == 100 and held_out_size(1000, 37) == 37
    assert held_out_size(1000, None) == 50 and held_out_size(138_000, None) == 2000


def test_holding_out_everything_is_a_clear_error():
    with pytest.raises(UserError, match="leaves no training data"):
        hold_out(corpus_with_duplicates(50), 50, seed=0)


@pytest.mark.parametrize("split, message", [(1.5, "between 0 and 1"), (0, ">= 1")])
def test_bad_valid_split_values_are_named(split, message):
    with pytest.raises(Exception, match=message):
        validate({"data": {"train": "x.tsv", "valid_split": split}})


def test_train_from_one_tsv_validates_on_the_held_out_pairs_written_beside_the_run(tmp_path, capsys):
    data = corpus_with_duplicates(300)
    (tmp_path / "pairs.tsv").write_text("".join(f"{s}\t{t}\n" for s, t in zip(data.src, data.tgt)))
    config = {"data": {"train": "pairs.tsv", "valid_split": 0.1},
              "tokenizer": {"type": "whitespace", "joint": True},
              "model": {"embedding_size": 8, "encoder": {"hidden_size": 8}, "decoder": {"hidden_size": 8}},
              "train": {"max_steps": 3, "threads": 1, "attention_plots": 0}}
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(config))
    assert main(["train", str(tmp_path / "cfg.yaml"), "--run-dir", str(tmp_path / "run"), "--quiet"]) == 0
    held = (tmp_path / "run" / "data" / "valid.src").read_text().splitlines()
    expected = hold_out(data, 30, seed=0)[1]
    assert held == expected.src and len(held) >= 30
    assert [m for m in read_metrics(tmp_path / "run") if m["event"] == "valid"]


def test_no_break_spaces_read_as_plain_spaces_on_both_sides_of_tsv_and_parallel_files(tmp_path):
    from seq2seq.data.text.corpora import read_corpus

    (tmp_path / "c.tsv").write_text("Run!\tCours\u202f!\nGo.\tVa !\nWait\u00a0here.\tAttends\u00a0ici.\n", encoding="utf-8")
    tsv = read_corpus(str(tmp_path), "c.tsv", None, None)
    assert tsv.tgt == ["Cours !", "Va !", "Attends ici."] and tsv.src[2] == "Wait here."
    (tmp_path / "p.en").write_text("Wait\u00a0here.\n", encoding="utf-8")
    (tmp_path / "p.fr").write_text("Cours\u202f!\n", encoding="utf-8")
    parallel = read_corpus(str(tmp_path), "p", "en", "fr")
    assert (parallel.src, parallel.tgt) == (["Wait here."], ["Cours !"])
