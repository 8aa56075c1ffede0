"""Text → speech end to end: `seq2seq synthesize` writes valid WAV files at the training rate (that the audio
reader and a recogniser's featuriser read), one per text, never overwriting without --force; bad texts are named."""

import numpy as np
import pytest
from test_speech_to_text import clips  # noqa: F401  (the module fixture of tone "digit" clips)

from seq2seq import load
from seq2seq.cli import main
from seq2seq.config import validate
from seq2seq.data.audio.features import feature_frames
from seq2seq.data.audio.speech import feature_settings
from seq2seq.data.audio.wav import read_wav
from seq2seq.tools.report import build_report
from seq2seq.training.train import train


def voice_config(recordings, tokenizer: dict, **train):
    """A tiny digit voice on the tone clips: location attention, guided, r = 2; `train` overrides the loop."""
    return validate({
        "task": "text_to_speech",
        "data": {"digits": {"recordings": str(recordings), "train_indices": [1, 3], "valid_indices": [8, 8],
                            "train_size": 60, "valid_size": 6, "min_digits": 1, "max_digits": 2,
                            "pause_ms": [20, 40], "edge_ms": [10, 20], "seed": 3},
                 "features": {"n_mels": 20, "f_max": 3800}},
        "tokenizer": tokenizer,
        "model": {"embedding_size": 16, "encoder": {"hidden_size": 16, "dropout": 0.0},
                  "decoder": {"attention": "bahdanau", "score": "location", "hidden_size": 32, "dropout": 0.0},
                  "head": {"reduction": 2, "prenet_size": 16, "max_steps": 40, "guided_attention": 1.0}},
        "train": {"max_steps": 6, "batch_sentences": 8, "valid_every": 3, "attention_plots": 1, "threads": 1,
                  **train},
        "decode": {"batch_size": 8},
    })


@pytest.fixture(scope="module")
def voice(clips, tmp_path_factory):  # noqa: F811
    run = tmp_path_factory.mktemp("tts") / "run"
    train(voice_config(clips, {"type": "whitespace"}), run, verbose=False)
    return run


def test_synthesize_writes_one_valid_wav_per_text_at_the_training_rate(voice, tmp_path, capsys):
    capsys.readouterr()
    assert main(["synthesize", str(voice), "three", "one four", "--output-dir", str(tmp_path / "out"), "--mel",
                 "--griffin-lim-iters", "8", "--threads", "1"]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(tmp_path / "out" / "0001.wav"), str(tmp_path / "out" / "0002.wav")]
    settings = feature_settings(load(voice).config.data)
    for path in printed:
        audio = read_wav(path)
        mel = np.load(path.replace(".wav", ".npy"), allow_pickle=False)
        assert audio.sample_rate == 8000 and np.isfinite(audio.samples).all()
        assert len(mel) >= 2 and feature_frames(len(audio.samples), 8000, settings) == len(mel)


def test_training_draws_the_generated_spectrogram_over_its_alignment_and_the_report_shows_both(voice, tmp_path):
    drawn = sorted(p.stem for p in (voice / "attention" / "val01").glob("step*.png"))
    assert drawn == ["step0000003", "step0000006"]
    page = build_report(voice, tmp_path / "report.html").read_text()
    assert "Sample translations" not in page and page.count('<img alt="val01 step') == 2


def test_the_report_plays_syntheses_beside_the_real_recordings_and_their_spectrograms(voice, tmp_path):
    import base64
    import re

    from seq2seq.data.audio.wav import read_audio_bytes

    page = build_report(voice, tmp_path / "report.html").read_text()
    assert "<h2>Listening (validation, best checkpoint)</h2>" in page
    players = re.findall(r'<audio controls preload="none" title="(\w+)" src="data:audio/wav;base64,([^"]+)"', page)
    # digit strings are built in memory (no recording file): the real side shows its log-mel, the synthesis plays
    assert [title for title, _ in players] == ["synthesis"] * 4
    assert page.count('alt="real log-mel"') == 4 and page.count('alt="synthesised log-mel"') == 4
    audio = read_audio_bytes(base64.b64decode(players[0][1]), "player 1")
    assert audio.sample_rate == 8000 and audio.samples.size > 0


def test_the_api_gives_waveform_mel_attention_and_the_stop_decision(voice):
    [s] = load(voice).synthesize(["five"], iterations=4)
    assert s.sample_rate == 8000 and s.samples.dtype == np.float32 and np.abs(s.samples).max() <= 1
    assert s.attention.shape[1] == 1 and s.mel.shape[1] == 20 and isinstance(s.stopped, bool)
    assert s.attention.shape[0] * 2 >= len(s.mel)                  # r = 2 frames per decoder step


def test_outputs_are_not_overwritten_and_bad_texts_are_named(voice, tmp_path, capsys):
    out = tmp_path / "a.wav"
    out.write_bytes(b"keep me")
    capsys.readouterr()
    assert main(["synthesize", str(voice), "two", "-o", str(out)]) == 2
    assert "exists" in capsys.readouterr().err and out.read_bytes() == b"keep me"
    assert main(["synthesize", str(voice), "two", "-o", str(out), "--force", "--griffin-lim-iters", "2"]) == 0
    assert read_wav(out).sample_rate == 8000
    assert main(["synthesize", str(voice), "  ", "-o", str(tmp_path / "b.wav")]) == 2
    assert "text 1 is empty" in capsys.readouterr().err
    assert main(["synthesize", str(voice), "x" * 401, "-o", str(tmp_path / "c.wav")]) == 2
    assert "more than the limit of 400" in capsys.readouterr().err
    assert main(["synthesize", str(voice), "two zebra", "-o", str(tmp_path / "d.wav"), "--griffin-lim-iters",
                 "2"]) == 0
    assert "'zebra' not in the model's vocabulary: skipped" in capsys.readouterr().err


def test_attention_draws_the_generated_spectrogram_over_each_input_tokens_attention(voice, tmp_path, capsys):
    import json

    capsys.readouterr()
    assert main(["attention", str(voice), "one four", "-o", str(tmp_path / "att")]) == 0
    assert capsys.readouterr().out.split() == [str(tmp_path / "att" / "attention-001.png")]
    record = json.loads((tmp_path / "att" / "attention-001.json").read_text())
    steps = len(record["attention"][0])
    assert record["tokens"] == ["one", "four"] and record["reduction"] == 2 and len(record["attention"]) == 2
    assert record["frames"] <= 2 * steps and np.allclose(np.sum(record["attention"], axis=0), 1, atol=1e-4)


def test_the_same_seed_gives_the_same_samples_and_another_seed_other_ones(voice):
    import torch

    synthesizer = load(voice)
    state = torch.get_rng_state()
    a, b, c = (synthesizer.synthesize(["two five"], iterations=3, seed=s)[0] for s in (7, 7, 8))
    assert np.array_equal(a.samples, b.samples) and np.array_equal(a.mel, b.mel)
    assert not np.array_equal(a.mel, c.mel)                   # the prenet's dropout draws differ
    assert torch.equal(torch.get_rng_state(), state)          # the caller's random state is untouched
