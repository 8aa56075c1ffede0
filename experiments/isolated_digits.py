"""Experiment — isolated spoken digits: every validation clip of FSDD on its own, transcribed by trained recognisers.

    .venv/bin/python experiments/isolated_digits.py NAME=RUN_DIR [NAME=RUN_DIR ...] [--beam 5] [--threads 1]

The connected-digit recipe (configs/fsdd_digits.yaml) validates on strings of 1–7 digits; strings of one digit are a
seventh of them, drawn at random. This scores the single-digit case exhaustively: each clip with an index in 5–9
(the validation clips; 0–4 are kept aside), every speaker, trimmed as the generator trims and given a leading and
trailing pause drawn as the generator draws them (seeded), transcribed greedily and with beam search. A clip is
right when the transcript is exactly its digit's word. Prints a table, lists the misses, and writes
experiments/results/isolated_digits.md and .json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "experiments" / "results"
VALID = range(5, 10)


def validation_clips(folder: Path, seed: int = 5) -> list[tuple[str, str, object]]:
    """(clip name, its word, Audio) for every clip with an index in VALID, edges as data.digits draws them."""
    import numpy as np

    from seq2seq.config import SpokenDigitsConfig
    from seq2seq.data.audio.wav import Audio, read_wav, trim_silence
    from seq2seq.data.audio.spoken_digits import WORDS, index_clips

    low, high = SpokenDigitsConfig().edge_ms
    rng = np.random.default_rng(seed)
    out = []
    for (speaker, digit), clips in sorted(index_clips(folder).items()):
        for index, path in clips:
            if index not in VALID:
                continue
            audio = read_wav(path)
            edges = [round(rng.uniform(low, high) * audio.sample_rate / 1000) for _ in range(2)]
            samples = np.pad(trim_silence(audio.samples, audio.sample_rate), edges)
            out.append((path.name, WORDS[digit], Audio(samples.astype(np.float32), audio.sample_rate, path.name)))
    return out


def score(run_dir: Path, clips: list, beam: int) -> dict:
    from seq2seq.inference.transcriber import Transcriber

    recogniser = Transcriber.load(run_dir)
    result = {}
    for name, size in (("greedy", 1), (f"beam {beam}", beam)):
        hyps = recogniser.transcribe([audio for _, _, audio in clips], beam_size=size)
        misses = [(clip, word, h.text) for (clip, word, _), h in zip(clips, hyps) if h.text != word]
        result[name] = {"right": len(clips) - len(misses), "of": len(clips), "misses": misses}
    return result


def write(results: dict, clips: int) -> str:
    lines = [f"| run | search | right of {clips} | accuracy |", "|---|---|---|---|"]
    for run, by_search in results.items():
        for search, r in by_search.items():
            lines.append(f"| {run} | {search} | {r['right']} | {100 * r['right'] / r['of']:.1f}% |")
    misses = [f"- {run}, {search}: " + "; ".join(f"{c} ({w}) → \"{t}\"" for c, w, t in r["misses"])
              for run, by_search in results.items() for search, r in by_search.items() if r["misses"]]
    table = "\n".join(lines + [""] + misses) + "\n"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "isolated_digits.md").write_text(table)
    (RESULTS / "isolated_digits.json").write_text(json.dumps(results, indent=1) + "\n")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", metavar="NAME=RUN_DIR", help="trained speech_to_text runs")
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import torch

    from seq2seq.data.audio.spoken_digits import shared_recordings

    torch.set_num_threads(args.threads)
    folder = shared_recordings()
    if folder is None:
        sys.exit("isolated_digits: the shared FSDD recordings are absent (../shared/data/fsdd or SEQ2SEQ_SHARED_DATA)")
    clips = validation_clips(folder)
    results = {name: score(Path(path), clips, args.beam)
               for name, path in (run.split("=", 1) for run in args.runs)}
    print(write(results, len(clips)))


if __name__ == "__main__":
    main()
