"""What the dictation recipe does to its data: speed perturbation (length by the factor, pitch with the tempo),
transcripts in their spoken form, and SortaGrad's shortest-first first epoch."""

from __future__ import annotations

import numpy as np
import pytest

from seq2seq.config import validate
from seq2seq.data.audio.perturb import change_speed
from seq2seq.data.audio.speech import read_speech
from seq2seq.data.audio.wav import write_wav
from seq2seq.data.batching import plan_batches
from seq2seq.data.text.spoken import spoken_form
from seq2seq.errors import UserError


@pytest.mark.parametrize("factor", [0.9, 1.1, 1.25])
def test_speed_perturbation_changes_length_by_the_factor_and_pitch_with_it(factor):
    rate, n = 16000, 16000
    tone = np.sin(2 * np.pi * 440 * np.arange(n) / rate).astype(np.float32) * 0.5
    out = change_speed(tone, factor)
    assert out.dtype == np.float32 and abs(len(out) - n / factor) <= 1
    peak = np.argmax(np.abs(np.fft.rfft(out))) * rate / len(out)         # the tone moves with the tempo
    assert peak == pytest.approx(440 * factor, rel=0.01)


def test_speed_one_is_the_clip_itself():
    samples = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    assert change_speed(samples, 1.0) is samples


def test_spoken_form_keeps_what_is_heard():
    assert spoken_form('Printing, in the "only" sense -- it’s Mr. Smith\'s; Café!') == \
        "printing in the only sense it's mr smith's cafe"
    assert spoken_form(" -- ") == ""


def test_manifests_read_once_per_speed_in_training_only(tmp_path):
    rows = []
    for i, text in enumerate(["One, two.", "Three!"]):
        write_wav(tmp_path / f"{i}.wav", np.zeros(8000 * (i + 1), dtype=np.float32) + 0.01, 8000)
        rows.append(f"{i}.wav\t{text}\n")
    (tmp_path / "train.tsv").write_text("".join(rows))
    (tmp_path / "valid.tsv").write_text(rows[0])
    config = validate({"task": "speech_to_text",
                       "data": {"root": str(tmp_path), "train": "train.tsv", "valid": "valid.tsv",
                                "transcripts": "spoken", "speed_perturb": [0.9, 1.0, 1.1]}})
    splits = read_speech(config.data)
    assert splits["train"].texts == ["one two", "three"] * 3
    assert [len(f) for f in splits["train"].frames[:2]] == [pytest.approx(111, abs=2), pytest.approx(222, abs=2)]
    assert len(splits["train"].frames[5]) == pytest.approx(182, abs=2)          # 2 s at speed 1.1
    assert splits["valid"].texts == ["one two"] and len(splits["valid"].frames) == 1


def test_speed_factors_are_checked():
    with pytest.raises(UserError, match=r"speed_perturb=\[0.9, 3.0\]: every factor must be in \[0.5, 2\]"):
        validate({"task": "speech_to_text", "data": {"train": "x.tsv", "speed_perturb": [0.9, 3.0]}})


def test_sortagrad_orders_the_first_epoch_shortest_first():
    rng = np.random.default_rng(1)
    src = rng.integers(5, 500, 300).tolist()
    tgt = rng.integers(1, 80, 300).tolist()
    plan = plan_batches(src, tgt, epoch=1, seed=3, batch_sentences=16, shortest_first=True)
    keys = [max((tgt[i], src[i]) for i in batch) for batch in plan]
    assert keys == sorted(keys) and sorted(i for b in plan for i in b) == list(range(300))
    shuffled = plan_batches(src, tgt, epoch=1, seed=3, batch_sentences=16)
    assert [max((tgt[i], src[i]) for i in b) for b in shuffled] != keys
