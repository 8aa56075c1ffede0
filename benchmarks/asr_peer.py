"""Dictation beside PocketSphinx 5.1.1 (the peer: its en-us acoustic model, dictionary and language model ship in
the wheel), on the same clips, in one run; and what each piece of our search does.

    .venv/bin/python benchmarks/asr_peer.py --run runs/ljspeech_asr [--lm runs/ljspeech_lm] [--manifest M.tsv]
        [--modes attention,ctc_greedy,joint,joint+lm] [--beam 10] [--ctc-weight 0.3] [--lm-weight 0.3]
        [--no-peer] [--rtf]

The peer is not a dependency of the package: `.venv/bin/pip install pocketsphinx==5.1.1` first (--no-peer skips it).

Clips: the run's held-out validation clips (RUN/data/valid.tsv) unless --manifest names others; a run on generated
data (spoken digit strings) is scored on its own validation strings (no files: no PocketSphinx). Every
transcript — ours, PocketSphinx's and the reference — is scored in its spoken form (`spoken_form`: lower case, no
punctuation), CER and WER with jiwer. PocketSphinx reads each clip resampled to 16 kHz (its model's rate).

Modes (ours, one model, the same clips): attention (greedy and beam, ctc_weight 0), ctc_greedy (CTC's best path),
ctc_prefix (ctc_weight 1, beam), joint (ctc_weight λ, greedy and beam), joint+lm (and lm_weight β).
--rtf: real-time factor (decoding seconds / audio seconds, features included, model loaded) of joint decoding
at batch 1 and 16, and of PocketSphinx, medians of --repeats. Writes benchmarks/results/asr_peer.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import median, save, table  # noqa: E402


def read_manifest(path: Path) -> tuple[list[Path], list[str]]:
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Path(r[0]) if Path(r[0]).is_absolute() else path.parent / r[0] for r in rows], [r[1] for r in rows]


def pocketsphinx_texts(paths: list[Path]) -> tuple[list[str], float]:
    """PocketSphinx's transcript of each clip file and the seconds the decoding took."""
    from seq2seq.data.audio.wav import read_wav

    audios = [read_wav(path) for path in paths]
    return pocketsphinx_transcribe([(a.samples, a.sample_rate) for a in audios])


def pocketsphinx_transcribe(audios: list[tuple]) -> tuple[list[str], float]:
    """PocketSphinx's transcript of each (samples in [-1, 1], sample rate), resampled to its 16 kHz mono 16-bit,
    and the seconds the decoding took."""
    import numpy as np
    from pocketsphinx import Decoder
    from scipy.signal import resample_poly

    decoder = Decoder(samprate=16000, loglevel="FATAL")
    texts, elapsed = [], 0.0
    for samples, rate in audios:
        samples = resample_poly(samples, 16000, rate) if rate != 16000 else samples
        pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
        started = time.perf_counter()
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        elapsed += time.perf_counter() - started
        hyp = decoder.hyp()
        texts.append(hyp.hypstr if hyp is not None else "")
    return texts, elapsed


def scores(hyps: list[str], refs: list[str]) -> dict[str, float]:
    from seq2seq.data.text.spoken import spoken_form
    from seq2seq.metrics import char_error_rate, word_error_rate

    h, r = [spoken_form(x) for x in hyps], [spoken_form(x) for x in refs]
    return {"cer": round(char_error_rate(h, r), 2), "wer": round(word_error_rate(h, r), 2)}


def our_modes(args) -> list[tuple[str, dict[str, Any]]]:
    """(label, search options) of each requested mode."""
    lam, beta, beam = args.ctc_weight, args.lm_weight, args.beam
    lm = {"lm": str(Path(args.lm).resolve()), "lm_weight": beta} if args.lm else None
    table_of = {
        "attention": [("attention, greedy", dict(beam_size=1, ctc_weight=0.0)),
                      (f"attention, beam {beam}", dict(beam_size=beam, ctc_weight=0.0))],
        "ctc_greedy": [("CTC best path", dict(beam_size=1, ctc_greedy=True))],
        "ctc_prefix": [(f"CTC prefix beam {beam}", dict(beam_size=beam, ctc_weight=1.0))],
        "joint": [(f"joint λ={lam}, greedy", dict(beam_size=1, ctc_weight=lam)),
                  (f"joint λ={lam}, beam {beam}", dict(beam_size=beam, ctc_weight=lam))],
        "joint+lm": [(f"joint λ={lam} + LM β={beta}, beam {beam}", dict(beam_size=beam, ctc_weight=lam, **(lm or {})))],
    }
    out = []
    for mode in args.modes.split(","):
        if mode not in table_of:
            raise SystemExit(f"--modes: unknown mode {mode!r} (allowed: {', '.join(table_of)})")
        if mode == "joint+lm" and lm is None:
            raise SystemExit("--modes joint+lm needs --lm RUN_DIR")
        out += table_of[mode]
    return out


def real_time_factor(transcriber, paths: list[Path], seconds: float, batch: int, repeats: int,
                     **search: Any) -> float:
    """Median seconds per audio second of transcribing the files (reading and features included)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        transcriber.transcribe([str(p) for p in paths], batch_size=batch, attention=False, **search)
        times.append(time.perf_counter() - started)
    return median(times) / seconds


def clips(args, transcriber) -> tuple[list[Path], list, list[str], float]:
    """(files or [] for generated data, normalised features, references, audio seconds) of the clips scored."""
    from seq2seq.data.audio.wav import read_wav

    manifest = Path(args.manifest) if args.manifest else Path(args.run) / "data" / "valid.tsv"
    if manifest.is_file():
        paths, refs = read_manifest(manifest)
        return paths, [transcriber.features(str(p)) for p in paths], refs, sum(read_wav(p).seconds for p in paths)
    split = transcriber.run.task.read_data(("valid",))["valid"]            # generated: the run's own validation
    frames = [transcriber.vocab.normalise(f) for f in split.frames]
    hop = transcriber.config.data.features.hop_ms / 1000
    return [], frames, list(split.texts), sum(len(f) for f in split.frames) * hop


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", required=True)
    p.add_argument("--lm")
    p.add_argument("--manifest", help="default: RUN/data/valid.tsv")
    p.add_argument("--modes", default="attention,ctc_greedy,joint,joint+lm")
    p.add_argument("--beam", type=int, default=10)
    p.add_argument("--ctc-weight", type=float, default=0.3)
    p.add_argument("--lm-weight", type=float, default=0.3)
    p.add_argument("--no-peer", action="store_true")
    p.add_argument("--rtf", action="store_true")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--name", default="asr_peer")
    args = p.parse_args()

    import torch

    import seq2seq

    torch.set_num_threads(args.threads)
    transcriber = seq2seq.load(args.run)
    paths, frames, refs, seconds = clips(args, transcriber)
    origins = [str(p) for p in paths] or [f"<valid {i}>" for i in range(len(frames))]
    rows, results = [], {}
    for label, search in (our_modes(args) if args.modes else []):
        started = time.perf_counter()
        texts = [t.text for t in transcriber.transcribe_features(frames, origins, attention=False, **search)]
        elapsed = time.perf_counter() - started
        results[label] = {**scores(texts, refs), "rtf": round(elapsed / seconds, 3), "search": search,
                          "samples": texts[:3]}
        rows.append([f"ours: {label}", results[label]["cer"], results[label]["wer"], results[label]["rtf"]])
        print(rows[-1], flush=True)
    if not args.no_peer and paths:
        texts, elapsed = pocketsphinx_texts(paths)
        results["pocketsphinx"] = {**scores(texts, refs), "rtf": round(elapsed / seconds, 3), "samples": texts[:3]}
        rows.append(["PocketSphinx 5.1.1 (en-us, its LM)", results["pocketsphinx"]["cer"],
                     results["pocketsphinx"]["wer"], results["pocketsphinx"]["rtf"]])
    speed = {}
    if args.rtf and paths:
        joint = dict(beam_size=args.beam, ctc_weight=args.ctc_weight)
        for batch in (1, 16):
            speed[f"joint beam {args.beam}, batch {batch}"] = round(
                real_time_factor(transcriber, paths, seconds, batch, args.repeats, **joint), 3)
    text = table(["recogniser", "CER %", "WER %", "decoding s / audio s"], rows)
    if speed:
        text += "\n\n" + table(["joint decoding", "real-time factor"], [[k, v] for k, v in speed.items()])
    save(args.name, {"run": args.run, "lm": args.lm, "manifest": args.manifest, "clips": len(refs),
                     "audio_seconds": round(seconds, 1), "threads": args.threads, "results": results, "rtf": speed},
         text)


if __name__ == "__main__":
    main()
