"""image_to_text: images in (rendered lines, handwritten digit strings, image files), text out."""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from seq2seq.checkpoint import load_weights
from seq2seq.cli import main
from seq2seq.config import HandwrittenDigitsConfig, RenderedLinesConfig, validate
from seq2seq.data.images.digits import generate_digits, split_images
from seq2seq.data.images.manifest import list_images
from seq2seq.data.images.reading import read_picture, to_columns
from seq2seq.data.images.rendered import generate_lines, system_fonts
from seq2seq.errors import UserError
from seq2seq.model.frontends import ConvImageFrontend

FONTS = ["DejaVuSans", "DejaVuSerif"]
needs_fonts = pytest.mark.skipif(not set(FONTS) <= set(system_fonts()),
                                 reason="the DejaVu fonts are not installed (Debian: apt-get install "
                                        "fonts-dejavu-core)")


def lines_config(**changes) -> RenderedLinesConfig:
    fields = {"alphabet": "abcdefgh", "min_chars": 3, "max_chars": 3, "train_size": 400, "valid_size": 20,
              "test_size": 10, "fonts": FONTS[:1], "unseen_fonts": FONTS[1:], "sizes": (18, 22), "degrade": 0.0}
    return RenderedLinesConfig(**{**fields, **changes})


def image_config(**train) -> dict:
    return {"task": "image_to_text",
            "data": {"lines": lines_config(unseen_fonts=[]).model_dump(), "height": 16},
            "tokenizer": {"type": "char"},
            "model": {"embedding_size": 32, "frontend": {"channels": [16, 32], "pool_width": [2, 2], "size": 64},
                      "encoder": {"hidden_size": 32, "dropout": 0.0},
                      "decoder": {"attention": "luong", "hidden_size": 64, "dropout": 0.0}},
            "train": {"max_steps": 600, "epochs": 1000, "batch_sentences": 16, "lr": 3e-3, "valid_every": 50,
                      "attention_plots": 1, "patience": None, "threads": 1, **train}}


def train_reader(folder: Path) -> Path:
    """FOLDER/run: the tiny reader of rendered three-character strings (skipped without the DejaVu fonts)."""
    from seq2seq.training.train import train

    if not set(FONTS) <= set(system_fonts()):
        pytest.skip("the DejaVu fonts are not installed (Debian: apt-get install fonts-dejavu-core)")
    train(validate(image_config()), folder / "run", verbose=False)
    return folder / "run"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return train_reader(tmp_path_factory.mktemp("images"))


def png(array: np.ndarray, mode: str | None = None, **save) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, format=save.pop("format", "PNG"), **save)
    return buffer.getvalue()


def line_image(path, text: str = "abc", font: str = "DejaVuSans") -> None:
    from seq2seq.data.images.rendered import font_path, render_line

    render_line(text, font_path(font), 20, 0.0, np.random.default_rng(0)).save(path)


# ---- data -------------------------------------------------------------------------------------------------------

@needs_fonts
def test_rendered_lines_are_deterministic_per_seed_and_split_by_text():
    config = lines_config()
    a = generate_lines(config, 16, 1000, ("train", "valid", "test"))
    b = generate_lines(config, 16, 1000, ("valid",))
    assert a["valid"].texts == b["valid"].texts
    assert all(torch.equal(x, y) for x, y in zip(a["valid"].frames, b["valid"].frames))
    texts = {split: set(a[split].texts) for split in a}
    assert not texts["train"] & texts["valid"] and not texts["train"] & texts["test"]
    assert not texts["valid"] & texts["test"]
    assert {n.split()[1] for n in a["train"].names} == {"DejaVuSans"}            # training never sees the unseen font
    assert {n.split()[1] for n in a["valid"].names} == {"DejaVuSans", "DejaVuSerif"}
    other = generate_lines(lines_config(seed=7), 16, 1000, ("valid",))
    assert other["valid"].texts != a["valid"].texts


def test_digit_strings_never_share_an_original_image_between_splits():
    pools = split_images(1234)
    assert not set(pools["train"]) & set(pools["valid"]) and not set(pools["valid"]) & set(pools["test"])
    assert len(set(pools["train"]) | set(pools["valid"]) | set(pools["test"])) == 1797
    config = HandwrittenDigitsConfig(train_size=5, valid_size=5, test_size=5, max_digits=4)
    splits = generate_digits(config, 16, 1000)
    again = generate_digits(config, 16, 1000, ("valid",))
    assert splits["valid"].texts == again["valid"].texts
    for text, columns in zip(splits["train"].texts, splits["train"].frames):
        assert all(t.isdigit() for t in text.split(" ")) and 1 <= len(text.split()) <= 4
        assert columns.shape[1] == 16


# ---- the convolutional frontend ---------------------------------------------------------------------------------

def test_padding_never_changes_the_conv_frontend_and_lengths_shrink_by_the_pooling():
    torch.manual_seed(0)
    frontend = ConvImageFrontend(16, 24, [4, 8, 8], [2, 2, 1]).eval()
    images = [torch.rand(w, 16) for w in (37, 20, 9)]
    padded = torch.zeros(3, 37, 16)
    for i, image in enumerate(images):
        padded[i, : len(image)] = image
    out, lengths = frontend(padded, torch.tensor([37, 20, 9]))
    assert lengths.tolist() == [10, 5, 3] and frontend.reduction == 4
    for i, image in enumerate(images):
        alone, n = frontend(image[None], torch.tensor([len(image)]))
        assert torch.allclose(out[i, : int(n)], alone[0], atol=1e-5)
        assert torch.all(out[i, int(n):] == 0)


@needs_fonts
def test_attention_is_exactly_zero_beyond_each_images_width(run):
    from seq2seq.inference.reader import Reader

    reader = Reader.load(run)
    narrow, wide = torch.rand(12, 16), torch.rand(60, 16)
    readings = reader.read_features([narrow, wide], ["narrow", "wide"], batch_size=2)
    states = -(-12 // reader.model.encoder.reduction)
    assert readings[0].attention.shape[1] in (states, 15)
    assert np.all(readings[0].attention[:, states:] == 0)
    assert np.allclose(readings[0].attention.sum(1), 1, atol=1e-5)
    [alone] = reader.read_features([narrow], ["narrow"], batch_size=1)
    assert alone.text == readings[0].text and alone.score == pytest.approx(readings[0].score, abs=1e-4)


# ---- a model learns, saves and loads -----------------------------------------------------------------------------

@needs_fonts
def test_a_tiny_model_learns_rendered_three_character_strings(run):
    from seq2seq.checkpoint import read_metrics

    valid = [m for m in read_metrics(run) if m["event"] == "valid"]
    assert min(m["cer"] for m in valid) <= 5.0, [m["cer"] for m in valid]
    assert valid[0]["cer"] > 30.0                                       # it learned: it did not start there
    assert list((run / "attention" / "val01").glob("step*.png"))        # pictures during training


@needs_fonts
def test_save_load_is_exact_and_the_api_reads_paths_bytes_and_arrays(run, tmp_path):
    import seq2seq
    from seq2seq.inference.loading import load_run

    loaded = load_run(run, "best")
    assert all(torch.equal(loaded.model.state_dict()[k], v) for k, v in load_weights(run / "best.safetensors").items())
    path = tmp_path / "line.png"
    line_image(path, "bad")
    reader = seq2seq.load(run)
    grey = np.asarray(Image.open(path).convert("L"))
    from_path, from_bytes, from_array = reader.read([str(path), path.read_bytes(), grey])   # one batch: same kernels
    assert from_path.text == from_bytes.text == from_array.text == "bad"
    assert from_path.score == from_bytes.score == from_array.score
    assert from_path.tokens[-1] == "</s>" and from_path.attention.shape[0] == len(from_path.tokens)


@needs_fonts
def test_read_writes_one_line_per_file_and_names_the_bad_ones(run, tmp_path, capsys):
    good, other = tmp_path / "a.png", tmp_path / "b.png"
    line_image(good, "ace")
    line_image(other, "hgf")
    (tmp_path / "notes.txt").write_text("not an image")
    files = [str(good), str(tmp_path / "missing.png"), str(tmp_path / "notes.txt"), str(other)]
    assert main(["read", str(run), *files]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == ["ace", "", "", "hgf"]
    assert "missing.png: no such image file" in err and "notes.txt: not an image" in err
    listing = tmp_path / "list.txt"
    listing.write_text(f"{good}\n{other}\n")
    assert main(["read", str(run), "--input", str(listing), "--jsonl", "--beam-size", "3"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in records] == ["ace", "hgf"] and records[0]["tokens"][-1] == "</s>"


@needs_fonts
def test_evaluate_a_manifest_and_draw_the_attention(run, tmp_path, capsys):
    for name, text in (("one.png", "abc"), ("two.png", "def")):
        line_image(tmp_path / name, text)
    (tmp_path / "test.tsv").write_text("one.png\tabc\ntwo.png\tdef\n")
    assert main(["evaluate", str(run), "--manifest", str(tmp_path / "test.tsv")]) == 0
    out = capsys.readouterr().out
    assert "CER = 0.00%" in out and "exact lines 100.00%" in out
    assert main(["attention", str(run), str(tmp_path / "one.png"), "--output-dir", str(tmp_path / "pics")]) == 0
    drawn = json.loads((tmp_path / "pics" / "attention-001.json").read_text())
    assert drawn["tokens"] == ["a", "b", "c", "</s>"] and len(drawn["attention"]) == 4


# ---- bad images ----------------------------------------------------------------------------------------------

def test_bad_images_are_one_line_naming_the_file(tmp_path):
    (tmp_path / "text.png").write_text("hello")
    whole = png(np.random.default_rng(0).integers(0, 255, (100, 300), dtype=np.uint8))
    (tmp_path / "cut.png").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "dot.png").write_bytes(png(np.zeros((1, 1), np.uint8)))
    cases = {"text.png": "not an image", "cut.png": "damaged or truncated", "dot.png": "too small to read",
             "none.png": "no such image file"}
    for name, needle in cases.items():
        with pytest.raises(UserError, match=needle) as caught:
            read_picture(tmp_path / name)
        assert name in str(caught.value) and "\n" not in str(caught.value)


def test_a_decompression_bomb_is_refused_before_it_is_decoded(tmp_path):
    """A 20,000 × 20,000 PNG header (what a bomb declares) over a few bytes: refused with the limit named."""
    small = png(np.zeros((2, 2), np.uint8))
    header = struct.pack(">IIBBBBB", 20_000, 20_000, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + header
    ihdr = struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    start = small.index(b"IHDR") - 4
    bomb = small[:start] + ihdr + small[start + len(ihdr):]
    (tmp_path / "bomb.png").write_bytes(bomb)
    with pytest.raises(UserError, match=r"bomb.png: 20,000 × 20,000 = 400,000,000 pixels, over the limit of "
                                        r"40,000,000 \(data.max_pixels\)"):
        read_picture(tmp_path / "bomb.png")


def test_animations_16_bit_and_alpha_images_are_read(tmp_path, recwarn):
    frames = [Image.fromarray(np.full((8, 20), v, np.uint8)) for v in (0, 255)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    frames[0].save(tmp_path / "pages.tif", save_all=True, append_images=frames[1:])
    for name in ("anim.gif", "pages.tif"):
        picture = read_picture(tmp_path / name)
        assert picture.ink.mean() > 0.99                                 # the first frame: all ink
    assert sum("reading the first" in str(w.message) for w in recwarn) == 2
    deep = np.full((8, 20), 65535, np.uint16)
    deep[:, :10] = 0
    Image.fromarray(deep).save(tmp_path / "deep.png")
    ink = read_picture(tmp_path / "deep.png").ink
    assert ink[:, :10].min() == 1.0 and ink[:, 10:].max() == 0.0
    rgba = np.zeros((8, 20, 4), np.uint8)
    rgba[:, :5] = (0, 0, 0, 255)                                         # opaque black ink, transparent elsewhere
    Image.fromarray(rgba, "RGBA").save(tmp_path / "alpha.png")
    ink = read_picture(tmp_path / "alpha.png").ink
    assert ink[:, :5].min() == 1.0 and ink[:, 5:].max() == 0.0          # transparency is white paper


def test_columns_keep_the_aspect_ratio_and_a_too_wide_image_is_refused():
    ink = np.zeros((10, 50), np.float32)
    assert to_columns(ink, 20, 1000).shape == (100, 20)
    with pytest.raises(UserError, match="over data.max_width=50"):
        to_columns(ink, 20, 50, "wide.png")


def test_a_manifest_line_whose_image_is_missing_names_the_line(tmp_path):
    (tmp_path / "a.png").write_bytes(png(np.zeros((8, 8), np.uint8)))
    (tmp_path / "m.tsv").write_text("a.png\tone\nb.png\ttwo\n")
    with pytest.raises(UserError, match=r"m.tsv:2: .*b.png: no such image file"):
        list_images(tmp_path / "m.tsv")
    (tmp_path / "a.gt.txt").write_text("one\n")
    assert [(p.name, t) for p, t in list_images(tmp_path)] == [("a.png", "one")]


@needs_fonts
def test_augmented_training_resumed_equals_the_uninterrupted_run(tmp_path):
    from seq2seq.rundir import RunDir
    from seq2seq.training.train import train

    def config(steps: int):
        raw = image_config(max_steps=steps, valid_every=9, attention_plots=0)
        raw["data"]["lines"]["train_size"] = 60
        raw["data"]["augment"] = {"rotate_deg": 3.0, "scale": 0.1, "elastic": 1.0, "blur": 1.0, "noise": 0.2,
                                  "contrast": 0.3}
        return validate(raw)

    full, part = [], []
    train(config(14), tmp_path / "full", verbose=False, on_step=lambda step, loss: full.append((step, loss)))
    train(config(5), tmp_path / "part", verbose=False, on_step=lambda step, loss: part.append((step, loss)))
    train(config(14), tmp_path / "part", resume=True, verbose=False,
          on_step=lambda step, loss: part.append((step, loss)))
    assert part == full
    a, b = load_weights(RunDir(tmp_path / "full").last), load_weights(RunDir(tmp_path / "part").last)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_augmentation_distorts_only_with_its_own_draws():
    from seq2seq.data.images.augment import augment_columns

    columns = torch.rand(40, 16)
    settings = {"rotate_deg": 3.0, "scale": 0.1, "elastic": 1.0, "blur": 1.0, "noise": 0.2, "contrast": 0.3}
    one = augment_columns(columns, torch.Generator().manual_seed(3), **settings)
    two = augment_columns(columns, torch.Generator().manual_seed(3), **settings)
    other = augment_columns(columns, torch.Generator().manual_seed(4), **settings)
    assert one.shape == columns.shape and torch.equal(one, two) and not torch.equal(one, other)
    still = augment_columns(columns, torch.Generator().manual_seed(3), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    assert torch.allclose(still, columns, atol=1e-5)                   # every effect at 0: the image itself


@needs_fonts
def test_the_report_shows_sample_readings_and_the_pictures(run, tmp_path):
    out = tmp_path / "report.html"
    assert main(["report", str(run), "-o", str(out)]) == 0
    page = out.read_text()
    assert "Sample readings" in page and "the image above each output character" in page
    assert page.count("data:image/png;base64,") >= 2                    # the curves and a validation picture


def test_the_image_task_passes_its_own_extra_losses():
    from seq2seq.tasks import get_task
    from seq2seq.tasks.frames import FramesVocab

    raw = image_config()
    raw["model"].update({"ctc_weight": 0.3, "guided_attention": 2.0})
    model = get_task(validate(raw)).build_model(FramesVocab(type("T", (), {"vocab_size": 9})()))
    assert model.loss_names == ("ctc", "guided_attention")
    assert model.extra_loss("guided_attention").weight == 2.0 and model.extra_loss("ctc").weight == 0.3
    plain = get_task(validate(image_config())).build_model(FramesVocab(type("T", (), {"vocab_size": 9})()))
    assert plain.loss_names == ()


@needs_fonts
def test_a_manifest_trains_with_a_held_out_split_written_where_evaluate_reads_it(tmp_path, capsys):
    from seq2seq.training.train import train

    texts = ["abc", "bad", "cab", "dea", "fed", "gah", "hag", "ace", "bed", "cde", "efg", "fgh"]
    rows = []
    for i, text in enumerate(texts):
        line_image(tmp_path / f"{i}.png", text, FONTS[i % 2])
        rows.append(f"{i}.png\t{text}\n")
    (tmp_path / "train.tsv").write_text("".join(rows))
    raw = image_config(max_steps=4, valid_every=2, attention_plots=1)
    raw["data"] = {"root": str(tmp_path), "train": "train.tsv", "valid_split": 3, "height": 16}
    train(validate(raw), tmp_path / "run", verbose=False)
    held = (tmp_path / "run" / "data" / "valid.tsv").read_text().splitlines()
    assert len(held) == 3 and all(line.split("\t")[1] in texts for line in held)
    assert main(["evaluate", str(tmp_path / "run"), "--manifest", str(tmp_path / "run" / "data" / "valid.tsv")]) == 0
    assert "3 images" in capsys.readouterr().out
