"""Speech → text end to end on WAV files: a tiny recogniser learns connected "digits" (one tone per digit), and
`seq2seq transcribe` / `load(run).transcribe` give one transcript per file, the same alone or in a batch."""

import json
import wave

import numpy as np
import pytest

from seq2seq import load
from seq2seq.checkpoint import read_metrics
from seq2seq.cli import main
from seq2seq.config import validate
from seq2seq.data.audio.speech import read_speech
from seq2seq.data.audio.spoken_digits import WORDS
from seq2seq.tools.report import build_report
from seq2seq.training.train import train

RATE = 8000


def tone(digit: int, index: int, rate: int = RATE) -> np.ndarray:
    """0.1 s of a pitch per digit (with a little per-clip variation), a 10 ms fade at both ends."""
    n = rate // 10
    wave_ = 0.4 * np.sin(2 * np.pi * (300 + 300 * digit + 7 * index) * np.arange(n) / rate)
    return wave_ * np.minimum(1, np.minimum(np.arange(n), np.arange(n)[::-1]) / (n / 10))


def write_wav16(path, samples, rate=RATE):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.round(np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tones")
    for digit in range(10):
        for index in (1, 2, 3, 8):
            write_wav16(folder / f"{digit}_tina_{index}.wav", tone(digit, index))
    return folder


def speech_config(clips, **train):
    return validate({
        "task": "speech_to_text",
        "data": {"digits": {"recordings": str(clips), "train_indices": [1, 3], "valid_indices": [8, 8],
                            "train_size": 600, "valid_size": 60, "min_digits": 1, "max_digits": 3,
                            "pause_ms": [20, 60], "seed": 5},
                 "features": {"n_mels": 20, "f_max": 3800}},
        "tokenizer": {"type": "whitespace"},
        "model": {"embedding_size": 32, "frontend": {"stack": 2, "size": 32},
                  "encoder": {"hidden_size": 48, "pyramid": 1, "dropout": 0.0},
                  "decoder": {"attention": "bahdanau", "score": "location", "hidden_size": 64, "dropout": 0.0}},
        "train": {"epochs": 20, "batch_sentences": 16, "lr": 3e-3, "valid_every": 60, "valid_metric": "wer",
                  "stop_at": 0.0, "patience": None, "attention_plots": 0, "threads": 1, **train},
        "decode": {"max_len_a": 1.0, "max_len_b": 3, "batch_size": 64},
    })


@pytest.fixture(scope="module")
def run_dir(clips, tmp_path_factory):
    run = tmp_path_factory.mktemp("stt") / "run"
    train(speech_config(clips, max_steps=360, attention_plots=1), run, verbose=False)
    return run


def test_a_tiny_recogniser_learns_connected_tone_digits_from_wav_files(run_dir):
    wers = [m["wer"] for m in read_metrics(run_dir) if m["event"] == "valid"]
    assert min(wers) <= 5.0, wers                     # validation strings use clips training never heard
    assert (run_dir / "features.json").is_file()


def test_training_draws_the_alignment_at_each_validation_and_the_report_shows_it_with_transcripts(run_dir, tmp_path):
    validations = [m["step"] for m in read_metrics(run_dir) if m["event"] == "valid"]
    drawn = sorted(p.stem for p in (run_dir / "attention" / "val01").glob("step*.png"))
    assert drawn == [f"step{step:07d}" for step in validations]
    record = json.loads((run_dir / "attention" / "val01" / drawn[-1]).with_suffix(".json").read_text())
    assert record["reduction"] == 4 and record["tokens"][-1] == "</s>"
    page = build_report(run_dir, tmp_path / "report.html", samples=3).read_text()
    assert "Sample transcripts" in page and page.count("<tr><td>") == 3
    assert page.count('<img alt="val01 step') == 2                    # the first and the last validation


def test_transcribe_gives_one_line_per_file_in_order_and_names_the_bad_one(run_dir, clips, tmp_path, capsys):
    digits = [[3, 1], [7], [2, 9, 4]]
    files = []
    for number, ds in enumerate(digits):
        path = tmp_path / f"u{number}.wav"
        write_wav16(path, np.concatenate([np.zeros(300)] + [np.concatenate([tone(d, 8), np.zeros(300)]) for d in ds]))
        files.append(str(path))
    (tmp_path / "bad.wav").write_bytes(b"RIFF....WAVEjunk")
    listed = files[:1] + [str(tmp_path / "bad.wav")] + files[1:]
    capsys.readouterr()
    assert main(["transcribe", str(run_dir), *listed, "--threads", "1"]) == 1
    out, err = capsys.readouterr()
    lines = out.split("\n")[:-1]
    assert len(lines) == 4 and lines[1] == ""
    assert "bad.wav" in err and err.count("seq2seq: error:") == 1
    want = [" ".join(WORDS[d] for d in ds) for ds in digits]
    assert sum(line == w for line, w in zip(lines[:1] + lines[2:], want)) >= 2
    # the API: the same transcripts, the same alone as in a batch; --jsonl carries the scores
    recogniser = load(run_dir)
    together = recogniser.transcribe(files)
    alone = [recogniser.transcribe([f])[0] for f in files]
    assert [t.text for t in together] == lines[:1] + lines[2:]
    for a, b in zip(together, alone):
        assert a.text == b.text and abs(a.score - b.score) < 1e-4
        assert a.attention.shape == (len(a.tokens), -(-a.frames // a.reduction))
    (tmp_path / "list.txt").write_text("\n".join(files) + "\n")
    assert main(["transcribe", str(run_dir), "--input", str(tmp_path / "list.txt"), "--jsonl"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in records] == [t.text for t in together]
    assert [r["file"] for r in records] == files and all(r["score"] <= 0 for r in records)


def test_transcribe_refuses_a_translation_run_in_one_line(tmp_path, capsys):
    from helpers import toy_config

    train(toy_config("copy", max_steps=2, train_size=50), tmp_path / "text", verbose=False)
    capsys.readouterr()
    assert main(["transcribe", str(tmp_path / "text"), "x.wav"]) == 2
    assert "is a translation run: transcribing needs a speech_to_text run" in capsys.readouterr().err


def test_attention_draws_the_spectrogram_over_each_tokens_attention_on_one_time_axis(run_dir, tmp_path, capsys):
    path = tmp_path / "two.wav"
    write_wav16(path, np.concatenate([np.zeros(400), tone(2, 8), np.zeros(400), tone(5, 8), np.zeros(400)]))
    capsys.readouterr()
    assert main(["attention", str(run_dir), str(path), "-o", str(tmp_path / "out"), "--format", "png", "svg"]) == 0
    printed = capsys.readouterr().out.split()
    assert [p.rsplit(".", 1)[1] for p in printed] == ["png", "svg"]
    record = json.loads((tmp_path / "out" / "attention-001.json").read_text())
    [t] = load(run_dir).transcribe([path])
    assert record["tokens"] == t.tokens and record["frames"] == t.frames and record["reduction"] == 4
    assert np.allclose(record["attention"], t.attention, atol=1e-6)
    assert (tmp_path / "out" / "attention-001.png").stat().st_size > 5_000


def test_evaluate_a_manifest_prints_wer_and_cer_with_edit_counts(run_dir, tmp_path, capsys):
    rows = []
    for number, ds in enumerate([[1, 2], [6], [0, 8, 3]]):
        write_wav16(tmp_path / f"c{number}.wav", np.concatenate(
            [np.zeros(300)] + [np.concatenate([tone(d, 8), np.zeros(300)]) for d in ds]))
        rows.append(f"c{number}.wav\t{' '.join(WORDS[d] for d in ds)}")
    (tmp_path / "test.tsv").write_text("\n".join(rows) + "\n")
    capsys.readouterr()
    assert main(["evaluate", str(run_dir), "--manifest", str(tmp_path / "test.tsv"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    hyps = [t.text for t in load(run_dir).transcribe([tmp_path / f"c{n}.wav" for n in range(3)])]
    from seq2seq.metrics import word_error_rate
    assert report["clips"] == 3 and report["wer"] == word_error_rate(hyps, [r.split("\t")[1] for r in rows])
    assert report["word_reference_length"] == 6
    edits = report["word_substitutions"] + report["word_deletions"] + report["word_insertions"]
    assert report["wer"] == round(100 * edits / 6, 2)
    (tmp_path / "broken.tsv").write_text("missing.wav\tone\n")
    assert main(["evaluate", str(run_dir), "--manifest", str(tmp_path / "broken.tsv")]) == 2
    assert "line 1: audio file not found" in capsys.readouterr().err


def test_a_16_khz_recording_is_featurised_at_its_own_rate_and_transcribed_alike(run_dir, tmp_path):
    for rate in (8000, 16000):
        gap = np.zeros(rate // 25)
        write_wav16(tmp_path / f"{rate}.wav", np.concatenate([gap, tone(4, 8, rate), gap, tone(9, 8, rate), gap]),
                    rate)
    low, high = load(run_dir).transcribe([tmp_path / "8000.wav", tmp_path / "16000.wav"])
    assert low.frames == high.frames and low.text == high.text


def test_a_saved_speech_run_loads_to_exactly_the_trained_weights_and_normaliser(run_dir):
    import torch

    from seq2seq.checkpoint import load_weights
    from seq2seq.inference.loading import load_run

    state = torch.load(run_dir / "train_state.pt", weights_only=True)["model"]
    run = load_run(run_dir, "last")
    assert all(torch.equal(run.model.state_dict()[k].cpu(), v) for k, v in state.items())
    assert all(torch.equal(load_weights(run_dir / "last.safetensors")[k], v) for k, v in state.items())
    again = load_run(run_dir, "last").vocab.frames
    assert torch.equal(again.mean, run.vocab.frames.mean) and torch.equal(again.std, run.vocab.frames.std)


def test_with_joint_ctc_the_recogniser_still_learns(clips, tmp_path):
    config = speech_config(clips, max_steps=360)
    config.model.ctc_weight = 0.3
    train(config, tmp_path / "ctc", verbose=False)
    wers = [m["wer"] for m in read_metrics(tmp_path / "ctc") if m["event"] == "valid"]
    assert min(wers) <= 5.0, wers
    assert any(name.startswith("ctc.") for name in load(tmp_path / "ctc").model.state_dict())


def test_a_manifest_without_valid_holds_out_clips_written_as_a_manifest_evaluate_reads(clips, tmp_path, capsys):
    rows = [f"{clips}/{d}_tina_{i}.wav\t{WORDS[d]}" for d in range(10) for i in (1, 2, 3, 8)]
    (tmp_path / "all.tsv").write_text("\n".join(rows) + "\n")
    raw = speech_config(clips, max_steps=2, valid_every=2).to_dict()
    raw["data"] = {"root": str(tmp_path), "train": "all.tsv", "valid_split": 8, "features": raw["data"]["features"]}
    train(validate(raw), tmp_path / "run", verbose=False)
    held = (tmp_path / "run" / "data" / "valid.tsv").read_text().splitlines()
    assert len(held) >= 8 and set(held) <= set(rows)
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "run"), "--manifest", str(tmp_path / "run" / "data" / "valid.tsv"),
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["clips"] == len(held)


def test_trim_db_cuts_the_silence_around_a_manifests_clips_and_nothing_else(clips, tmp_path):
    tone_only = tone(4, 1)
    write_wav16(tmp_path / "padded.wav", np.concatenate([np.zeros(4000), tone_only, np.zeros(2400)]))
    write_wav16(tmp_path / "tone.wav", tone_only)
    (tmp_path / "m.tsv").write_text("padded.wav\tfour\ntone.wav\tfour\n")
    raw = speech_config(clips).to_dict()
    raw["data"] = {"root": str(tmp_path), "train": "m.tsv", "valid": "m.tsv", "features": raw["data"]["features"]}
    kept = read_speech(validate(raw).data, ("train",))["train"].frames
    raw["data"]["trim_db"] = 40
    trimmed = read_speech(validate(raw).data, ("train",))["train"].frames
    assert len(kept[0]) - len(kept[1]) == 80                  # 0.8 s of silence at 100 frames a second
    assert abs(len(trimmed[0]) - len(trimmed[1])) <= 2 and abs(len(trimmed[1]) - len(kept[1])) <= 2


def test_an_averaged_speech_run_keeps_its_feature_normaliser_and_transcribes(run_dir, clips, tmp_path):
    from seq2seq.tools.average import average_run

    average_run(run_dir, tmp_path / "avg", last=2)
    assert (tmp_path / "avg" / "features.json").read_text() == (run_dir / "features.json").read_text()
    [result] = load(tmp_path / "avg").transcribe([str(clips / "3_tina_8.wav")])
    assert result.text.split()[0] in WORDS
