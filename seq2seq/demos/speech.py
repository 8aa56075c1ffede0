"""`seq2seq demo speech`: a spoken-digit recogniser — Listen-Attend-Spell on connected digit strings built from
the Free Spoken Digit Dataset's clips (`../shared/data/fsdd/recordings`, or `--data DIR`).

Trains on strings of clips 10–49, picks its checkpoint on strings of clips 5–9, and reports WER on other strings of
clips 5–9 (drawn with another seed: new strings, clips validation also used), with a few examples.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Optional

from ..checkpoint import read_config
from ..config import validate
from ..errors import UserError
from ..inference.test_sets import speech_test_set
from ..inference.transcriber import Transcriber
from ..metrics import error_counts
from ..rundir import RunDir
from ..training.train import train

SPEECH_DEMO_CONFIG = {
    "task": "speech_to_text",
    "data": {"digits": {"train_size": 2500, "valid_size": 200, "test_indices": [5, 9], "test_size": 300},
             "features": {"n_mels": 40, "f_max": 3800},
             "spec_augment": {"freq_masks": 2, "freq_width": 6, "time_masks": 2, "time_width": 10,
                              "max_time_ratio": 0.15}},
    "tokenizer": {"type": "whitespace"},
    "model": {"embedding_size": 64, "frontend": {"stack": 2, "size": 128},
              "encoder": {"hidden_size": 128, "pyramid": 2, "dropout": 0.1},
              "decoder": {"attention": "bahdanau", "score": "location", "hidden_size": 256, "dropout": 0.1}},
    "train": {"epochs": 30, "max_steps": 600, "batch_sentences": 32, "lr": 2e-3, "valid_every": 100,
              "valid_metric": "wer", "stop_at": 1.0, "patience": 3, "attention_plots": 2, "log_every": 50},
    "decode": {"max_len_a": 0.3, "max_len_b": 4, "batch_size": 100},
}


def run_speech_demo(run_dir: Path, recordings: Optional[str] = None, seed: int = 1, verbose: bool = True) -> dict:
    _clear(run_dir)
    raw = json.loads(json.dumps(SPEECH_DEMO_CONFIG))
    raw["train"]["seed"] = seed
    if recordings is not None:
        raw["data"]["digits"]["recordings"] = str(Path(recordings).resolve())
    config = validate(raw, origin="speech demo config")
    say = (lambda s: print(s, flush=True)) if verbose else (lambda s: None)
    say("seq2seq demo speech: connected spoken digits → words, Listen-Attend-Spell (pyramid encoder, location-aware "
        "attention), CPU")
    started = time.time()
    result = train(config, run_dir, verbose=verbose)
    test = speech_test_set(run_dir)
    recogniser = Transcriber.load(run_dir)
    hyps = [t.text for t in recogniser.transcribe(test.audio)]
    wer = error_counts(hyps, test.references, "word")
    say("")
    say(f"test WER: {wer.rate:.2f}% on {len(hyps):,} new digit strings ({test.origin}; trained {result.steps:,} "
        f"updates in {result.seconds:.0f} s; whole demo {time.time() - started:.0f} s)")
    say("examples (reference → transcript):")
    for ref, hyp in list(zip(test.references, hyps))[:6]:
        say(f"  {ref:42} → {hyp}")
    say(f"\nrun saved in {run_dir}/; next (in the virtual environment):")
    say(f"  seq2seq transcribe {run_dir} some.wav         # one line per file")
    say(f"  seq2seq attention {run_dir} some.wav          # spectrogram over each word's attention")
    say(f"  seq2seq evaluate {run_dir}                     # WER/CER with edit counts on its test strings")
    return {"wer": wer.rate, "steps": result.steps, "seconds": time.time() - started}


def _clear(run_dir: Path) -> None:
    """A demo run is replaced; anything else is refused."""
    if not run_dir.exists():
        return
    if not RunDir(run_dir).format.is_file() or read_config(run_dir).task != SPEECH_DEMO_CONFIG["task"]:
        raise UserError(f"{run_dir} exists and is not a speech demo run; choose another --run-dir")
    shutil.rmtree(run_dir)
