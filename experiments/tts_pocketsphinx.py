"""Experiment — can an independent recogniser follow the synthesised sentences? PocketSphinx 5.1.1 (its en-us model
ships in the wheel) transcribes three versions of the same held-out sentences of a text_to_speech run trained on
real recordings (configs/ljspeech_tts.yaml):

    .venv/bin/pip install pocketsphinx==5.1.1
    .venv/bin/python experiments/tts_pocketsphinx.py TTS_RUN [--clips 30] [--iters 60] [--seed 0] [--asr ASR_RUN]
        [--threads 2] [--rows real,griffin_lim,synthesis] [--checkpoint best|last|PATH]

- real: the recordings themselves (RUN/data/valid.tsv, the clips training never saw);
- Griffin-Lim: each recording's log-mel exactly as training computed it (the run's features, silence trimmed by
  data.trim_db) → `vocoder.mel_to_audio` with `--iters` iterations, the Synthesizer's vocoder: the ceiling any
  synthesis with this vocoder can reach;
- synthesis: `Synthesizer.synthesize` of the sentence's text (seed `--seed`: the prenet's dropout and
  Griffin-Lim's first phase), the model's stop flag ending it.
Transcripts and references are scored in their spoken form (`spoken_form`): WER and CER over the whole set.
`--asr ASR_RUN` adds our own recogniser (a speech_to_text run's `Transcriber`, its decode settings) as a second
judge. For the syntheses: the share stopped by their stop flag (not the step limit), attention monotonic (the
argmax token never moves back: every step's argmax ≥ the previous step's) and coverage (share of input tokens some
step attends most), the length against the real trimmed recording, and the mel-cepstral distortion with DTW against
the real log-mel (`tts_intelligibility.mcd_dtw`, 13 cepstra of log power; compare within these tables only): of
the synthesised frames as written, of the synthesis re-featurised from its audio, and of the Griffin-Lim
resynthesis re-featurised (what the vocoder alone costs). Target (the issue): synthesis WER ≤ 2× the real
recordings' WER, every synthesis stopped by its flag, attention monotonic on ≥ 95% of the sentences (a sentence is
monotonic when ≥ 95% of its steps are).

Writes experiments/results/tts_pocketsphinx.md and .json and prints the table. `--rows` measures only some rows
(`real,griffin_lim` needs no trained model; `synthesis` alone follows a run during training, `--checkpoint` picks
the weights).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "experiments"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from asr_peer import pocketsphinx_transcribe, read_manifest, scores  # noqa: E402
from tts_intelligibility import attention_measures, log_mel_of, mcd_dtw  # noqa: E402

RESULTS = ROOT / "experiments" / "results"
WER_RATIO_TARGET = 2.0
MONOTONIC_STEPS = 0.95          # a sentence's attention is monotonic when this share of its steps never moves back
MONOTONIC_TARGET = 95.0         # % of sentences


def real_clips(run: Path, count: int):
    """The run's first `count` held-out clips: paths, texts, audio and the log-mel training computed (trimmed)."""
    import torch

    from seq2seq.checkpoint import read_config
    from seq2seq.data.audio.speech import feature_settings, features_of
    from seq2seq.data.audio.wav import Audio, read_wav, trim_silence

    config = read_config(run)
    paths, texts = read_manifest(run / "data" / "valid.tsv")
    paths, texts = paths[:count], texts[:count]
    settings = feature_settings(config.data)
    audios = [read_wav(p) for p in paths]
    mels = []
    for audio in audios:
        samples = audio.samples
        if config.data.trim_db is not None:
            samples = trim_silence(samples, audio.sample_rate, 10 ** (-config.data.trim_db / 20))
        mels.append(features_of(Audio(samples, audio.sample_rate, audio.origin), settings))
    return config, settings, texts, audios, [torch.as_tensor(m) for m in mels]


def judges(audios: list[tuple[np.ndarray, int]], texts: list[str], asr) -> dict:
    said, _ = pocketsphinx_transcribe(audios)
    out = {"pocketsphinx": {**scores(said, texts), "transcripts": said}}
    if asr is not None:
        ours = [t.text for t in asr.transcribe(audios)]
        out["ours"] = {**scores(ours, texts), "transcripts": ours}
    return out


def refeaturised_mcd(audios: list[np.ndarray], rate: int, real_mels, settings) -> float:
    """MCD-DTW of the log-mel of each waveform against the real log-mel: the same measure for the vocoder's
    resynthesis and for the synthesis as heard."""
    return statistics.mean(mcd_dtw(log_mel_of(a, rate, settings), m.numpy()) for a, m in zip(audios, real_mels))


def synthesis_measures(syntheses, real_mels, g: float) -> dict:
    lengths = [len(s.mel) / len(m) for s, m in zip(syntheses, real_mels)]
    attention = [attention_measures(s.attention, g) for s in syntheses if s.attention is not None]
    return {"stopped": 100.0 * sum(s.stopped for s in syntheses) / len(syntheses),
            "monotonic_sentences": 100.0 * sum(a[0] >= MONOTONIC_STEPS for a in attention) / max(1, len(attention)),
            "monotonic_steps": 100.0 * statistics.mean(a[0] for a in attention) if attention else float("nan"),
            "coverage": 100.0 * statistics.mean(a[1] for a in attention) if attention else float("nan"),
            "length_ratio_median": statistics.median(lengths),
            "mcd_dtw": statistics.mean(mcd_dtw(s.mel, m.numpy()) for s, m in zip(syntheses, real_mels))}


def table(results: dict) -> str:
    first = next(results[r] for r in ("real", "griffin_lim", "synthesis") if r in results)
    judges_seen = [j for j in ("pocketsphinx", "ours") if j in first]
    head = "| audio | " + " | ".join(f"{j} WER | {j} CER" for j in judges_seen) + " |"
    rows = [head, "|---|" + "---|---|" * len(judges_seen)]
    for name, label in (("real", "the real recordings"), ("griffin_lim", "real → log-mel → Griffin-Lim (ceiling)"),
                        ("synthesis", "**synthesised**")):
        if name in results:
            rows.append(f"| {label} | " + " | ".join(f"{results[name][j]['wer']:.1f}% | {results[name][j]['cer']:.1f}%"
                                                     for j in judges_seen) + " |")
    lines = rows
    if "synthesis" in results:
        m = results["measures"]
        ratio = ""
        if "real" in results:
            times = results["synthesis"]["pocketsphinx"]["wer"] / max(1e-9, results["real"]["pocketsphinx"]["wer"])
            ratio = f"PocketSphinx WER, synthesis / real: **{times:.2f}×** (target ≤ {WER_RATIO_TARGET}×). "
        lines += ["", ratio + f"Stopped by the stop flag: {m['stopped']:.0f}%; attention monotonic on "
                  f"{m['monotonic_sentences']:.0f}% of sentences ({m['monotonic_steps']:.1f}% of steps), coverage "
                  f"{m['coverage']:.0f}%; length / real (median) {m['length_ratio_median']:.2f}; MCD-DTW "
                  f"{m['mcd_dtw']:.1f} dB (frames as written), {m['mcd_dtw_audio']:.1f} dB (audio re-featurised)."]
    if "griffin_lim" in results:
        lines.append(f"MCD-DTW of the Griffin-Lim resynthesis, re-featurised: "
                     f"{results['griffin_lim']['mcd_dtw_audio']:.1f} dB (the vocoder's own share).")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--clips", type=int, default=30)
    parser.add_argument("--iters", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--asr", type=Path, default=None, help="a speech_to_text run as a second judge")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rows", default="real,griffin_lim,synthesis")
    parser.add_argument("--checkpoint", default="best", help="best, last, or a weights file of the run")
    args = parser.parse_args()

    import torch

    from seq2seq.data.audio.vocoder import mel_to_audio

    torch.set_num_threads(args.threads)
    config, settings, texts, audios, mels = real_clips(args.run, args.clips)
    rate = audios[0].sample_rate
    asr = None
    if args.asr is not None:
        from seq2seq.inference.transcriber import Transcriber

        asr = Transcriber.load(args.asr)
    results: dict = {"run": str(args.run), "clips": len(texts), "iters": args.iters, "seed": args.seed}
    rows = args.rows.split(",")
    if "real" in rows:
        results["real"] = judges([(a.samples, a.sample_rate) for a in audios], texts, asr)
    if "griffin_lim" in rows:
        resynth = [mel_to_audio(m, rate, settings, iterations=args.iters, seed=args.seed) for m in mels]
        results["griffin_lim"] = judges([(s, rate) for s in resynth], texts, asr)
        results["griffin_lim"]["mcd_dtw_audio"] = refeaturised_mcd(resynth, rate, mels, settings)
    if "synthesis" in rows:
        from seq2seq.inference.synthesizer import Synthesizer

        voice = Synthesizer.load(args.run, which=args.checkpoint)
        results["checkpoint"] = args.checkpoint
        syntheses = voice.synthesize(texts, iterations=args.iters, seed=args.seed)
        results["synthesis"] = judges([(s.samples, s.sample_rate) for s in syntheses], texts, asr)
        results["measures"] = synthesis_measures(syntheses, mels, config.model.head.guided_width)
        results["measures"]["mcd_dtw_audio"] = refeaturised_mcd([s.samples for s in syntheses], rate, mels, settings)
    results["references"] = texts
    text = table(results)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "tts_pocketsphinx.json").write_text(json.dumps(results, indent=1, default=float) + "\n")
    (RESULTS / "tts_pocketsphinx.md").write_text(f"`experiments/tts_pocketsphinx.py {args.run} --rows {args.rows} "
                                                 f"--checkpoint {args.checkpoint}` ({len(texts)} held-out clips, "
                                                 f"Griffin-Lim {args.iters} iterations)\n\n" + text + "\n")


if __name__ == "__main__":
    main()
