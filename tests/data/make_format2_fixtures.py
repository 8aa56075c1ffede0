"""Writes tests/data/format2_runs/: three small run directories of run-directory format 2 — translation,
speech_to_text and text_to_speech — with the inputs they are asked about and what they answered
(`expected.json`), as the code at the time of writing loaded and predicted them. tests/test_format2_runs.py holds
every later version to those answers. Run once, from the repository root (a few minutes on 2 cores):

    .venv/bin/python tests/data/make_format2_fixtures.py
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from test_speech_to_text import tone, write_wav16  # noqa: E402

from seq2seq import load  # noqa: E402
from seq2seq.config import validate  # noqa: E402
from seq2seq.training.train import train  # noqa: E402

OUT = HERE / "format2_runs"
KEEP = ("format.json", "config.yaml", "tokenizer", "best.safetensors", "features.json")
TEXTS = ["a b c d", "f e d", "", "c c a b e f", "z a b", "b"]
SAY = ["three", "one four", "seven two", "zero"]


def translation_config() -> dict:
    return {
        "data": {"synthetic": {"task": "reverse", "train_size": 800, "valid_size": 50, "test_size": 50,
                               "min_len": 2, "max_len": 6, "symbols": 6, "seed": 11}},
        "tokenizer": {"type": "whitespace", "joint": True},
        "model": {"embedding_size": 16, "encoder": {"hidden_size": 24, "dropout": 0.0},
                  "decoder": {"attention": "luong", "score": "location", "input_feeding": True, "hidden_size": 32,
                              "dropout": 0.0}},
        "train": {"max_steps": 150, "batch_sentences": 32, "lr": 3e-3, "valid_every": 50, "valid_metric": "accuracy",
                  "patience": None, "attention_plots": 0, "threads": 1, "seed": 2},
        "decode": {"max_len_a": 1.0, "max_len_b": 2, "batch_size": 64},
    }


def digits(clips: Path, size: int) -> dict:
    return {"recordings": str(clips), "train_indices": [1, 3], "valid_indices": [8, 8], "train_size": size,
            "valid_size": 8, "min_digits": 1, "max_digits": 3, "pause_ms": [20, 60], "seed": 5}


def speech_config(clips: Path) -> dict:
    return {
        "task": "speech_to_text",
        "data": {"digits": digits(clips, 300), "features": {"n_mels": 20, "f_max": 3800}},
        "tokenizer": {"type": "whitespace"},
        "model": {"embedding_size": 16, "frontend": {"stack": 2, "size": 16},
                  "encoder": {"hidden_size": 24, "pyramid": 1, "dropout": 0.0},
                  "decoder": {"attention": "bahdanau", "score": "location", "hidden_size": 32, "dropout": 0.0}},
        "train": {"max_steps": 120, "batch_sentences": 16, "lr": 3e-3, "valid_every": 60, "valid_metric": "wer",
                  "patience": None, "attention_plots": 0, "threads": 1},
        "decode": {"max_len_a": 1.0, "max_len_b": 3, "batch_size": 64},
    }


def tts_config(clips: Path) -> dict:
    return {
        "task": "text_to_speech",
        "data": {"digits": digits(clips, 60), "features": {"n_mels": 20, "f_max": 3800}},
        "tokenizer": {"type": "whitespace"},
        "model": {"embedding_size": 16, "encoder": {"hidden_size": 16, "dropout": 0.0},
                  "decoder": {"attention": "bahdanau", "score": "location", "hidden_size": 32, "dropout": 0.0},
                  "head": {"reduction": 2, "prenet_size": 16, "max_steps": 40, "guided_attention": 1.0}},
        "train": {"max_steps": 12, "batch_sentences": 8, "valid_every": 6, "attention_plots": 0, "threads": 1},
        "decode": {"batch_size": 8},
    }


def trained(name: str, raw: dict, work: Path) -> Path:
    run = work / name
    train(validate(raw), run, verbose=False)
    kept = OUT / name
    kept.mkdir(parents=True)
    for item in KEEP:
        if (run / item).is_dir():
            shutil.copytree(run / item, kept / item)
        elif (run / item).is_file():
            shutil.copy2(run / item, kept / item)
    return kept


def rounded(array) -> list | None:
    return None if array is None else np.round(np.asarray(array, dtype=np.float64), 7).tolist()


def translations(run: Path) -> dict:
    model = load(run)
    out = {}
    for name, search in {"greedy": {"beam_size": 1}, "beam": {"beam_size": 3}}.items():
        hyps = model.translate_n_best(TEXTS, 3 if name == "beam" else 1, attention=True, **search)
        out[name] = [[{"text": h.text, "tokens": h.tokens, "score": h.score, "attention": rounded(h.attention)}
                      for h in n] for n in hyps]
    return {"inputs": TEXTS, "outputs": out}


def transcripts(run: Path, wavs: list[Path]) -> dict:
    model = load(run)
    out = {}
    for name, beam in {"greedy": 1, "beam": 3}.items():
        out[name] = [{"text": t.text, "tokens": t.tokens, "score": t.score, "attention": rounded(t.attention)}
                     for t in model.transcribe(wavs, beam_size=beam)]
    return {"inputs": [w.name for w in wavs], "outputs": out}


def syntheses(run: Path) -> dict:
    model = load(run)
    results = model.synthesize(SAY, iterations=4, seed=1)
    return {"inputs": SAY, "outputs": [{"tokens": s.tokens, "stopped": s.stopped, "mel": rounded(s.mel),
                                        "attention": rounded(s.attention), "samples": len(s.samples),
                                        "sample_rate": s.sample_rate} for s in results]}


def main() -> None:
    import tempfile

    torch.set_num_threads(1)
    if OUT.exists():
        shutil.rmtree(OUT)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        clips = work / "tones"
        clips.mkdir()
        for digit in range(10):
            for index in (1, 3, 8):
                write_wav16(clips / f"{digit}_tina_{index}.wav", tone(digit, index))
        runs = {"translation": trained("translation", translation_config(), work),
                "speech_to_text": trained("speech_to_text", speech_config(clips), work),
                "text_to_speech": trained("text_to_speech", tts_config(clips), work)}
        wavs = []
        for number, seq in enumerate([(3, 1), (7,), (2, 9, 4), (5, 5)]):
            wavs.append(OUT / "speech_to_text" / "inputs" / f"u{number}.wav")
            wavs[-1].parent.mkdir(exist_ok=True)
            gap = np.zeros(240)
            write_wav16(wavs[-1], np.concatenate([gap] + [np.concatenate([tone(d, 8), gap]) for d in seq]))
        expected = {"translation": translations(runs["translation"]),
                    "speech_to_text": transcripts(runs["speech_to_text"], wavs),
                    "text_to_speech": syntheses(runs["text_to_speech"])}
    (OUT / "expected.json").write_text(json.dumps(expected) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
